package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
// can stop it without touching anyone else's.
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("SKIPPING: redis-server is not installed; this test starts and stops one of its own")
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}

// waitFor polls cond until it holds, for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
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
// URL and a function that stops it and returns what Run returned.
func startServe(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	port := freePort(t)
	env["KRING_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	var logs bytes.Buffer
	m := NewMain(strings.NewReader(""), io.Discard, &syncWriter{w: &logs})
	m.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve stopped at start: %v", err)
		default:
		}
		code, _ := get(base + "/healthz")
		return code == http.StatusOK
	})
	return base, func() error { cancel(); return <-done }
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

func TestReadyzFollowsRedis(t *testing.T) {
	port := freePort(t)
	redis := startRedis(t, port)
	base, stop := startServe(t, map[string]string{"KRING_STORE": fmt.Sprintf("redis://127.0.0.1:%d/0", port)})
	defer stop()
	if code, body := get(base + "/readyz"); code != 200 {
		t.Fatalf("/readyz with Redis up: %d %s", code, body)
	}
	redis.Process.Kill()
	redis.Wait()
	waitFor(t, func() bool { code, _ := get(base + "/readyz"); return code == http.StatusServiceUnavailable })
	if code, body := get(base + "/readyz"); !strings.Contains(body, "store (redis)") {
		t.Errorf("/readyz does not name the store: %d %s", code, body)
	}
	if code, _ := get(base + "/healthz"); code != 200 {
		t.Errorf("/healthz failed while only Redis is down: %d", code)
	}
	startRedis(t, port)
	waitFor(t, func() bool { code, _ := get(base + "/readyz"); return code == http.StatusOK })
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

// syncWriter lets the server's goroutines log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
