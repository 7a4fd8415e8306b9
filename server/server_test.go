package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/server"
)

func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	s := server.New(slog.New(slog.DiscardHandler))
	started, release := make(chan struct{}), make(chan struct{})
	s.Mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l, 10*time.Second) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + l.Addr().String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight
	// New connections are refused once shutdown began.
	deadline := time.Now().Add(time.Minute) // a hang guard, not a bound on speed
	for {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if body := <-got; body != "done" {
		t.Fatalf("request in flight got %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestReadyzAndMetrics(t *testing.T) {
	s := server.New(slog.New(slog.DiscardHandler))
	failing := true
	s.AddCheck(server.Check{Name: "store", Func: func(context.Context) error {
		if failing {
			return io.ErrUnexpectedEOF
		}
		return nil
	}})
	s.Metrics.Observe(bot.Event{Kind: "command", Name: "/poll", Outcome: "ok", Took: time.Millisecond})
	h := s.Handler()
	do := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := do("/readyz"); code != 503 || !strings.Contains(body, "store: unexpected EOF") {
		t.Errorf("/readyz failing: %d %q", code, body)
	}
	failing = false
	if code, body := do("/readyz"); code != 200 || body != "store: ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	_, body := do("/metrics")
	for _, want := range []string{
		`kring_requests_total{kind="command",name="/poll",outcome="ok"} 1`,
		`kring_http_requests_total{route="GET /readyz",status="503"} 1`,
		"kring_request_duration_seconds_bucket",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
