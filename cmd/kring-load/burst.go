package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// clickTimeout is the longest a click waits for its answer before it
// counts as an error: far beyond the platforms' 3 s, so that a slow answer
// is measured rather than cut off.
const clickTimeout = 30 * time.Second

// newClient is the HTTP client that plays the platform: one kept-alive
// connection per click in flight, as a platform's servers keep them.
func newClient(c int) *http.Client {
	return &http.Client{
		Timeout: clickTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        2 * c,
			MaxIdleConnsPerHost: c,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// burstResult is what one burst of clicks saw.
type burstResult struct {
	Start, End time.Time       // the first send, the last answer
	Latency    []time.Duration // per answered click, sorted
	Acked      []bool          // per click: answered 200
	Errors     int             // clicks not answered 200
	ErrorKinds map[string]int  // why, by kind
}

// burst sends n clicks, c at a time, each as request(i) makes it, and
// times each from its send to the end of its answer. A click is acked
// when the answer is 200 and ok (when given) accepts its body.
func burst(ctx context.Context, client *http.Client, n, c int, request func(i int) (*http.Request, error), ok func(body []byte) error) burstResult {
	res := burstResult{Acked: make([]bool, n), ErrorKinds: map[string]int{}}
	lat := make([]time.Duration, n)
	answered := make([]bool, n)
	fails := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	res.Start = time.Now()
	for range min(c, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				req, err := request(i)
				if err != nil {
					fails[i] = "build request: " + err.Error()
					continue
				}
				start := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err != nil {
					fails[i] = errorKind(err)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i], answered[i] = time.Since(start), true
				switch {
				case err != nil:
					fails[i] = "read answer: " + errorKind(err)
				case resp.StatusCode != http.StatusOK:
					fails[i] = fmt.Sprintf("status %d", resp.StatusCode)
				case ok != nil:
					if err := ok(body); err != nil {
						fails[i] = err.Error()
					} else {
						res.Acked[i] = true
					}
				default:
					res.Acked[i] = true
				}
			}
		}()
	}
	wg.Wait()
	res.End = time.Now()
	for i := range n {
		if answered[i] {
			res.Latency = append(res.Latency, lat[i])
		}
		if !res.Acked[i] {
			res.Errors++
			why := fails[i]
			if why == "" {
				why = "not sent: " + errorKind(ctx.Err())
			}
			res.ErrorKinds[why]++
		}
	}
	slices.Sort(res.Latency)
	return res
}

// errorKind names an error briefly, without the URL that makes each one
// different.
func errorKind(err error) string {
	if err == nil {
		return "stopped"
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "timeout"
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// served is an HTTP server on a loopback listener, owned by whoever
// started it.
type served struct {
	URL  string
	srv  *http.Server
	done chan error
}

// serve starts h on addr ("127.0.0.1:0" for any free port).
func serve(addr string, h http.Handler) (*served, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &served{URL: "http://" + l.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server and waits for it.
func (s *served) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
}

// freeAddr returns a loopback address no one listens on now, for a
// process that needs its address before it starts.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
