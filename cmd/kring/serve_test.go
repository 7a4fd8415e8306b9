package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs a redis-server of the test's own on port, so the test
// can stop it without touching anyone else's. It returns once the server
// says it accepts connections.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("SKIPPING: redis-server is not installed; this test starts and stops one of its own")
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no")
	out := &watchWriter{want: "Ready to accept connections", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("redis-server on port %d said:\n%s", port, out.String())
		}
	})
	select {
	case <-out.seen:
	case <-exited:
		t.Fatalf("redis-server on port %d stopped at start:\n%s", port, out.String())
	case <-time.After(time.Minute):
		t.Fatalf("redis-server on port %d never said it was ready:\n%s", port, out.String())
	}
	return &redisServer{cmd: cmd, exited: exited}
}

// redisServer is a redis-server startRedis started.
type redisServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// stop kills the server and waits until it is gone.
func (r *redisServer) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.exited
}

// watchWriter keeps what a process writes and closes seen once it has
// written want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	done bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// eventually asks cond again until it holds, failing the test after a
// minute. It is for what another process does in its own time (a Redis
// client dialling again after the server is back), never a bound on how
// fast kring is.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-limit.C:
			t.Fatalf("%s: not within a minute", what)
		}
	}
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startServe runs kring serve in the test's process and returns its base
// URL and a function that stops it and returns what Run returned. It
// returns once kring is listening; what kring logged is shown when the
// test fails.
func startServe(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	port := freePort(t)
	env["KRING_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	logs := &watchWriter{want: "kring serving", seen: make(chan struct{})}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kring serve logged:\n%s", logs.String())
		}
	})
	m := NewMain(strings.NewReader(""), io.Discard, logs)
	m.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	select {
	case <-logs.seen:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped at start: %v", err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port), func() error { cancel(); return <-done }
}

func TestServeHealthReadyMetricsOnBolt(t *testing.T) {
	base, stop := startServe(t, map[string]string{"KRING_STORE": "bolt:" + filepath.Join(t.TempDir(), "k.db")})
	if code, body := get(base + "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get(base + "/readyz"); code != 200 || !strings.Contains(body, "store (bolt): ok") {
		t.Errorf("/readyz: %d %s", code, body)
	}
	code, body := get(base + "/metrics")
	if code != 200 || !strings.Contains(body, "kring_http_requests_total") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d %.300s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

// TestReadyzFollowsRedis: /readyz turns red, naming the store, while Redis
// is down, and green again when it is back; /healthz stays green.
func TestReadyzFollowsRedis(t *testing.T) {
	// go-redis logs every failed dial on its own process-wide logger; while
	// Redis is down that is expected. Keep the lines for a failure.
	quiet := &redisLog{}
	redis.SetLogger(quiet)
	t.Cleanup(func() {
		redis.SetLogger(defaultRedisLog)
		if t.Failed() {
			t.Logf("go-redis logged:\n%s", quiet.String())
		}
	})
	port := freePort(t)
	rs := startRedis(t, port)
	base, stop := startServe(t, map[string]string{"KRING_STORE": fmt.Sprintf("redis://127.0.0.1:%d/0", port)})
	defer stop()
	if code, body := get(base + "/readyz"); code != 200 {
		t.Fatalf("/readyz with Redis up: %d %s", code, body)
	}
	rs.stop(t)
	eventually(t, "/readyz answers 503 with Redis down", func() bool { code, _ := get(base + "/readyz"); return code == http.StatusServiceUnavailable })
	if code, body := get(base + "/readyz"); !strings.Contains(body, "store (redis)") {
		t.Errorf("/readyz does not name the store: %d %s", code, body)
	}
	if code, _ := get(base + "/healthz"); code != 200 {
		t.Errorf("/healthz failed while only Redis is down: %d", code)
	}
	startRedis(t, port)
	eventually(t, "/readyz answers 200 with Redis back", func() bool { code, _ := get(base + "/readyz"); return code == http.StatusOK })
}

// redisLog keeps go-redis's log lines.
type redisLog struct{ watchWriter }

func (l *redisLog) Printf(_ context.Context, format string, v ...any) {
	fmt.Fprintf(&l.watchWriter, format+"\n", v...)
}

// defaultRedisLog logs as go-redis does by default, to stderr.
var defaultRedisLog = stdRedisLog{log.New(os.Stderr, "redis: ", log.LstdFlags|log.Lshortfile)}

type stdRedisLog struct{ l *log.Logger }

func (l stdRedisLog) Printf(_ context.Context, format string, v ...any) {
	_ = l.l.Output(2, fmt.Sprintf(format, v...))
}

func TestBadStoreIsAClearErrorAtStart(t *testing.T) {
	for _, store := range []string{"mysql://x", "redis://127.0.0.1:notaport/0", "bolt:"} {
		var errs bytes.Buffer
		m := NewMain(strings.NewReader(""), io.Discard, &errs)
		m.Getenv = func(k string) string {
			if k == "KRING_STORE" {
				return store
			}
			return ""
		}
		err := m.Run(context.Background(), []string{"shell"})
		if err == nil || !strings.Contains(err.Error(), "store") {
			t.Errorf("store %q: err = %v", store, err)
		}
	}
}

func TestUsageAndVersion(t *testing.T) {
	var out bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, io.Discard)
	if err := m.Run(context.Background(), []string{"--help"}); err != nil || !strings.Contains(out.String(), "kring shell") {
		t.Errorf("help: %v\n%s", err, out.String())
	}
	if err := m.Run(context.Background(), []string{"nonsense"}); err == nil {
		t.Error("an unknown command is no error")
	}
	if err := m.Run(context.Background(), nil); err == nil {
		t.Error("no command is no error")
	}
}

func TestShellSubcommandRunsAScript(t *testing.T) {
	var out bytes.Buffer
	m := NewMain(strings.NewReader("/poll Lunch? Pizza Soep\n:user bert\n:click 2\n"), &out, io.Discard)
	m.Getenv = func(k string) string {
		if k == "KRING_STORE" {
			return "bolt:" + filepath.Join(t.TempDir(), "k.db")
		}
		return ""
	}
	if err := m.Run(context.Background(), []string{"shell"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 stem (100%)\n│ bert") {
		t.Fatalf("shell transcript:\n%s", out.String())
	}
}
