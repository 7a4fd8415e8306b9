package redis

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// freezer forwards TCP connections to a Redis and can freeze: it stops
// forwarding while keeping every connection open, as a Redis stopped with
// SIGSTOP does. The shared test Redis itself is never stopped.
type freezer struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	thawed chan struct{} // closed while data flows
	conns  []net.Conn
	done   chan struct{}
	wg     sync.WaitGroup
}

func newFreezer(t testing.TB, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, thawed: make(chan struct{}), done: make(chan struct{})}
	close(f.thawed)
	f.wg.Go(f.serve)
	t.Cleanup(f.Close)
	return f
}

func (f *freezer) Addr() string { return f.ln.Addr().String() }

func (f *freezer) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, up)
		f.mu.Unlock()
		f.wg.Go(func() { f.pipe(up, c) })
		f.wg.Go(func() { f.pipe(c, up) })
	}
}

// pipe copies src to dst, holding each chunk while frozen.
func (f *freezer) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-f.gate():
			case <-f.done:
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) gate() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.thawed
}

// Freeze stops forwarding; connections stay open and unanswered.
func (f *freezer) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.thawed:
		f.thawed = make(chan struct{})
	default:
	}
}

// Thaw forwards again, held data first.
func (f *freezer) Thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.thawed:
	default:
		close(f.thawed)
	}
}

// Close cuts every connection and stops.
func (f *freezer) Close() {
	f.mu.Lock()
	select {
	case <-f.done:
		f.mu.Unlock()
		return
	default:
	}
	close(f.done)
	f.ln.Close()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestEveryClientIsBounded checks that each address form gets timeouts that
// fit a chat platform's 3 s, honours a context's deadline, and keeps what
// the address says itself.
func TestEveryClientIsBounded(t *testing.T) {
	type got struct {
		dial, read, write, pool time.Duration
		retries, dialRetries    int
		ctxTimeout              bool
	}
	want := got{dialTimeout, ioTimeout, ioTimeout, poolTimeout, maxRetries, dialerRetries, true}
	for _, tc := range []struct {
		addr string
		want got
	}{
		{"redis://127.0.0.1:6379/0", want},
		{"rediss://h:6380/2", want},
		{"redis-sentinel://s1,s2/mymaster/1", want},
		{"h1:7000,h2:7001", want},
		{"redis://h:6379/0?read_timeout=250ms&max_retries=3&dial_timeout=2s", got{2 * time.Second, 250 * time.Millisecond, 250 * time.Millisecond, poolTimeout, 3, dialerRetries, true}},
	} {
		opts, err := parse(tc.addr)
		if err != nil {
			t.Fatalf("parse(%q): %v", tc.addr, err)
		}
		opts.bound()
		var g got
		switch {
		case opts.simple != nil:
			o := opts.simple
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled}
			if strings.Contains(tc.addr, "read_timeout") {
				// go-redis derives the write timeout from the read
				// timeout only when it builds the client; bound leaves
				// an unset one to the default here.
				g.write = o.ReadTimeout
			}
		case opts.failover != nil:
			o := opts.failover
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled}
		case opts.cluster != nil:
			o := opts.cluster
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled}
		}
		if g != tc.want {
			t.Errorf("%s: timeouts %+v, want %+v", tc.addr, g, tc.want)
		}
	}
}

// TestFrozenRedisHonoursDeadline freezes a proxied Redis mid-use: a store
// call must give up when its context's deadline passes, not wait out the
// client's own read timeout (set to an hour here, so a call that ignored
// the deadline would hang the test instead of passing).
func TestFrozenRedisHonoursDeadline(t *testing.T) {
	requireRedis(t)
	opts, err := parse(testAddr())
	if err != nil || opts.simple == nil {
		t.Skipf("KRING_TEST_REDIS %q is not a single server; this test proxies one", testAddr())
	}
	direct := newStore(t) // removes the keys under its prefix afterwards
	f := newFreezer(t, opts.simple.Addr)
	far, err := parse("redis://" + f.Addr() + "/" + strconv.Itoa(opts.simple.DB) + "?read_timeout=1h&write_timeout=1h&pool_timeout=1h")
	if err != nil {
		t.Fatal(err)
	}
	s := New(far.client(), direct.prefix)
	defer s.Close()

	ctx := t.Context()
	if ok, err := s.Jobs().Once(ctx, "before", time.Minute); err != nil || !ok {
		t.Fatalf("Once before the freeze = %v, %v", ok, err)
	}
	f.Freeze()
	for _, call := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"Once", func(ctx context.Context) error { _, err := s.Jobs().Once(ctx, "during", time.Minute); return err }},
		{"Ping", s.Ping},
		{"Poll", func(ctx context.Context) error { _, err := s.Polls().Poll(ctx, "p1"); return err }},
	} {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := call.do(cctx)
		expired := cctx.Err()
		cancel()
		if err == nil {
			t.Errorf("%s on a frozen Redis succeeded", call.name)
			continue
		}
		if !errors.Is(expired, context.DeadlineExceeded) {
			t.Errorf("%s returned %v before its deadline: want it to wait for Redis until then", call.name, err)
		}
	}
	f.Thaw()
	// The connections the frozen calls gave up on are dropped, not reused
	// out of step: the next call reads its own answer.
	if ok, err := s.Jobs().Once(ctx, "after", time.Minute); err != nil || !ok {
		t.Fatalf("Once after the thaw = %v, %v", ok, err)
	}
	if ok, err := s.Jobs().Once(ctx, "before", time.Minute); err != nil || ok {
		t.Fatalf("Once of a key seen before the freeze = %v, %v; want false", ok, err)
	}
}
