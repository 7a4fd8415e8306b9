package bolt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

// TestPingWhenWritesFail runs itself again in a child process whose file
// size limit (RLIMIT_FSIZE) stops the bolt file from growing, the way a
// full disk does: creates fail while reads still work, and Ping must say
// so until writes work again. A child process, because the limit holds for
// the whole process.
func TestPingWhenWritesFail(t *testing.T) {
	if os.Getenv("KRING_FSIZE_CHILD") == "1" {
		writesFailChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPingWhenWritesFail$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "KRING_FSIZE_CHILD=1", "KRING_FSIZE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPingWhenWritesFail") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func writesFailChild(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead of killing the process
	d, err := Open(filepath.Join(os.Getenv("KRING_FSIZE_DIR"), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	ctx := context.Background()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	create := func(i int) error {
		return d.Polls().Create(ctx, &poll.Poll{
			ID: fmt.Sprintf("p%05d", i), Where: where, MaxVotes: 1, Created: now,
			Question: strings.Repeat("Komt iedereen naar de regiodag? ", 10),
			Options:  []poll.Option{{Label: "Ja"}, {Label: "Nee"}},
		})
	}
	if err := create(0); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping before the limit: %v", err)
	}

	fi, err := os.Stat(d.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	tight := lim
	tight.Cur = uint64(fi.Size())
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &tight); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	failed := 0
	for i := 1; i <= 400; i++ {
		if create(i) != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no create failed with the file at its size limit")
	}
	err = d.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "writes fail") {
		t.Fatalf("Ping after %d of 400 creates failed = %v; want writes fail", failed, err)
	}
	t.Logf("%d of 400 creates failed; Ping: %v", failed, err)
	if _, err := d.Polls().Poll(ctx, "p00000"); err != nil {
		t.Errorf("reads should still work: %v", err)
	}

	// Space comes back. Ping stays red until the failure is probeAfter
	// old, then its own small write clears it.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); err == nil {
		t.Error("Ping turned green before anything was written")
	}
	now = now.Add(probeAfter)
	if err := d.Ping(ctx); err != nil {
		t.Errorf("Ping after space came back and probeAfter passed: %v", err)
	}
	if err := create(1000); err != nil {
		t.Errorf("create after space came back: %v", err)
	}

	// A real write that succeeds clears the report at once.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &tight); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(d.db.Path())
	tight.Cur = uint64(fi.Size())
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &tight)
	for i := 2000; i < 2400 && d.Ping(ctx) == nil; i++ {
		create(i)
	}
	if d.Ping(ctx) == nil {
		t.Fatal("no create failed the second time")
	}
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)
	if err := create(3000); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Errorf("Ping after a create succeeded: %v", err)
	}
}
