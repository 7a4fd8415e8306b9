package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// kringProcess is a kring serve this load started and owns.
type kringProcess struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended
	err  error         // its exit, once done
	log  string        // the file its log goes to
}

// buildKring builds cmd/kring of this module into dir and returns the
// binary's path. It runs where the load runs, which must be inside the
// module (the repository, or go run ./cmd/kring-load from it).
func buildKring(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "kring")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/kringbot/kring/cmd/kring")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kring (run kring-load inside the kring repository, or give --kring): %w\n%s", err, out.Bytes())
	}
	return bin, nil
}

// sourceCommit names the commit of the working tree go build builds
// from, and says when the tree has changes not committed.
func sourceCommit(ctx context.Context) string {
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "an unknown commit (no git)"
	}
	out := "commit " + strings.TrimSpace(string(head))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		out += " with uncommitted changes"
	}
	return out
}

// kringVersion asks the binary for its version.
func kringVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "kring "))
}

// startKring starts bin serve on addr with settings (KRING_*=…) and waits
// until its /readyz answers 200. Every KRING_* variable of this process's
// environment is left out, so that only settings are in effect.
func startKring(ctx context.Context, bin, addr, logPath string, settings []string) (*kringProcess, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kring's log: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRING_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "KRING_ADDR="+addr)
	cmd.Env = append(cmd.Env, settings...)
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	k := &kringProcess{URL: "http://" + addr, cmd: cmd, done: make(chan struct{}), log: logPath}
	started := make(chan error, 1)
	go func() {
		// The thread that starts the child stays its parent thread until
		// the child has ended (see dieWithParent).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		k.err = cmd.Wait()
		close(k.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	if err := k.ready(ctx, time.Minute); err != nil {
		k.stop()
		return nil, fmt.Errorf("kring serve did not get ready: %w\n%s", err, k.logTail())
	}
	return k, nil
}

// ready waits until /readyz answers 200, the process ends, or limit (a
// hang guard) passes.
func (k *kringProcess) ready(ctx context.Context, limit time.Duration) error {
	return waitReady(ctx, k.URL, limit, k.done, func() error { return k.err })
}

// waitReady waits until base's /readyz answers 200, done is closed (then
// exited says why), or limit (a hang guard) passes.
func waitReady(ctx context.Context, base string, limit time.Duration, done <-chan struct{}, exited func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s: %s", resp.Status, bytes.TrimSpace(body))
		}
		last = err
		select {
		case <-done:
			return fmt.Errorf("it ended: %v", exited())
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %v", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// stop ends kring as a platform's operator would (SIGTERM, which sends its
// pending updates and closes the store) and waits for it; after a minute
// it kills it.
func (k *kringProcess) stop() error {
	select {
	case <-k.done:
		return k.exitErr()
	default:
	}
	if err := k.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop kring: %w", err)
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	select {
	case <-k.done:
		return k.exitErr()
	case <-t.C:
		_ = k.cmd.Process.Kill()
		<-k.done
		return errors.New("kring serve did not stop within a minute of SIGTERM; killed")
	}
}

func (k *kringProcess) exitErr() error {
	if k.err != nil {
		return fmt.Errorf("kring serve: %w", k.err)
	}
	return nil
}

// logTail is the end of kring's log, for an error message.
func (k *kringProcess) logTail() string {
	b, err := os.ReadFile(k.log)
	if err != nil {
		return ""
	}
	const keep = 4000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return "kring's log (" + k.log + "), its end:\n" + string(b)
}
