package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/bolt"
)

// damagedFile writes a kring bolt file with a poll and garbles the
// freelist page of both meta pages, which made bbolt panic at Open.
func damagedFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kring.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	where := bot.Where{Platform: bot.Shell, Team: "shell", Channel: "algemeen"}
	if err := db.Polls().Create(context.Background(), &poll.Poll{ID: "p1", Where: where, MaxVotes: 1, Question: "Lunch?", Options: []poll.Option{{Label: "Ja"}, {Label: "Nee"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt's meta page: a 16-byte page header, then page size at +8 and
	// the freelist's page id at +32.
	pageSize := int64(binary.LittleEndian.Uint32(data[16+8:]))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, metaAt := range []int64{0, pageSize} {
		freelist := int64(binary.LittleEndian.Uint64(data[metaAt+16+32:]))
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xAB}, int(pageSize)), freelist*pageSize); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestDamagedStoreExits runs kring (main itself, in a child process) on a
// damaged file: one line on stderr that says what is wrong and what to do,
// no goroutine dump, and a non-zero exit status.
func TestDamagedStoreExits(t *testing.T) {
	if os.Getenv("KRING_MAIN_CHILD") == "1" {
		sub := os.Getenv("KRING_MAIN_SUB")
		if sub == "" {
			sub = "shell"
		}
		os.Args = []string{"kring", sub}
		main()
		return
	}
	path := damagedFile(t)
	for _, sub := range []string{"shell", "serve"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDamagedStoreExits$")
		cmd.Env = append(os.Environ(), "KRING_MAIN_CHILD=1", "KRING_STORE=bolt:"+path, "KRING_ADDR=127.0.0.1:0")
		if sub == "serve" {
			cmd.Env = append(cmd.Env, "KRING_MAIN_SUB=serve")
		}
		var stderr bytes.Buffer
		cmd.Stdin = strings.NewReader("")
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("kring %s on a damaged file: %v, want exit status 1; stderr:\n%s", sub, err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		msg := lines[len(lines)-1]
		if strings.Contains(stderr.String(), "goroutine ") || !strings.HasPrefix(msg, "kring: ") {
			t.Errorf("kring %s: stderr is not one line:\n%s", sub, stderr.String())
		}
		for _, want := range []string{path + " is damaged", "restore it from a backup", "kring store salvage --from " + path} {
			if !strings.Contains(msg, want) {
				t.Errorf("kring %s: %q lacks %q", sub, msg, want)
			}
		}
	}
}

// TestStoreSalvage copies a damaged file into one kring opens, with the
// poll intact.
func TestStoreSalvage(t *testing.T) {
	from := damagedFile(t)
	to := filepath.Join(t.TempDir(), "salvaged.db")
	var out, errw bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errw)
	m.Getenv = func(string) string { return "" }
	if err := m.Run(context.Background(), []string{"store", "salvage", "--from", from, "--to", to}); err != nil {
		t.Fatalf("kring store salvage: %v\n%s", err, errw.String())
	}
	if !strings.Contains(out.String(), "nothing was lost") {
		t.Errorf("salvage said:\n%s", out.String())
	}
	db, err := bolt.Open(to)
	if err != nil {
		t.Fatalf("the salvaged file: %v", err)
	}
	defer db.Close()
	if p, err := db.Polls().Poll(context.Background(), "p1"); err != nil || p.Question != "Lunch?" {
		t.Errorf("salvaged poll: %+v, %v", p, err)
	}
	if err := m.Run(context.Background(), []string{"store", "salvage", "--from", from}); err == nil {
		t.Error("salvage without --to succeeded")
	}
}
