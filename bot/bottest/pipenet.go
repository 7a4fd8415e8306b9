package bottest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// PipeNet is an in-process network whose connections are net.Pipe pairs.
// In a testing/synctest bubble a goroutine waiting to read such a
// connection is durably blocked (a loopback socket's is not), so the
// bubble's fake clock moves on while kring waits for a platform, the
// platform for kring and the test for both. A nil *PipeNet serves on
// loopback.
type PipeNet struct {
	mu        sync.Mutex
	listeners map[string]*pipeListener // by "host:port"
}

// Serve starts an httptest.Server for h, reachable on n at addr
// ("host:port"), or on a loopback port when n is nil. The caller closes it.
func (n *PipeNet) Serve(h http.Handler, addr string) *httptest.Server {
	if n == nil {
		return httptest.NewServer(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close() // the loopback listener it made
	srv.Listener = n.Listen(addr)
	srv.Start()
	return srv
}

// Listen returns a listener for addr ("host:port") on n.
func (n *PipeNet) Listen(addr string) net.Listener {
	l := &pipeListener{addr: pipeAddr(addr), conns: make(chan net.Conn), closed: make(chan struct{})}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = map[string]*pipeListener{}
	}
	n.listeners[addr] = l
	return l
}

// Client returns an HTTP client that dials on n.
func (n *PipeNet) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
			n.mu.Lock()
			l := n.listeners[addr]
			n.mu.Unlock()
			if l == nil {
				return nil, fmt.Errorf("dial %s: no such host on the test network", addr)
			}
			return l.dial(addr)
		},
		MaxIdleConnsPerHost: 100,
	}}
}

type pipeListener struct {
	addr      pipeAddr
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) dial(addr string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, fmt.Errorf("dial %s: connection refused", addr)
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return l.addr }

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// Burst clicks n times in waves of together at once, the waves spread
// evenly over span, as a room full of people answering a poll does. It
// calls click(i) for every i on a goroutine of its own, waits for them all
// and returns when the last wave started. Each click reports how long it
// waited; Burst hands that to slow when it is over limit.
func Burst(n, together int, span, limit time.Duration, click func(i int), slow func(i int, waited time.Duration)) (lastWave time.Time) {
	var wg sync.WaitGroup
	waves := n / together
	tick := time.NewTicker(span / time.Duration(waves))
	defer tick.Stop()
	for wave := range waves {
		if wave > 0 {
			<-tick.C
		}
		lastWave = time.Now()
		for i := wave * together; i < (wave+1)*together; i++ {
			wg.Go(func() {
				sent := time.Now()
				click(i)
				if waited := time.Since(sent); waited >= limit {
					slow(i, waited)
				}
			})
		}
	}
	wg.Wait()
	return lastWave
}
