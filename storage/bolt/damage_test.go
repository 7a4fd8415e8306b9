package bolt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/kringbot/kring/storage/storagetest"
)

// pollCount polls, each with a long question, fill many pages, so a
// damaged page loses some of them and not all.
const pollCount = 300

var damageWhere = bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}

// writeValidDB writes a kring file with pollCount polls and returns its path.
func writeValidDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kring.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	for i := range pollCount {
		p := &poll.Poll{
			ID: fmt.Sprintf("p%04d", i), Where: damageWhere, MaxVotes: 1, Created: created.Add(time.Duration(i) * time.Minute),
			Question: strings.Repeat("Wanneer houden we het maandoverleg? ", 8),
			Options:  []poll.Option{{Label: "di 12 jan"}, {Label: "do 14 jan"}},
		}
		if err := db.Polls().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := storagetest.Vote(ctx, db.Polls(), p.ID, "U1", "Cor", 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// meta is the part of a bbolt meta page the tests need.
type meta struct {
	pageSize       int64
	root, freelist uint64
	pgid, txid     uint64
	offset         int64 // of the meta page in the file
}

// readMetas reads both meta pages (page 0 and 1) of a bbolt file, the
// current one (higher txid) first. The layout is bbolt's: a 16-byte page
// header, then magic, version, page size, flags (4 bytes each), the root
// bucket (root pgid, sequence), freelist pgid, high-water pgid, txid.
func readMetas(t *testing.T, path string) [2]meta {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	read := func(off int64) meta {
		b := data[off+16:]
		return meta{
			pageSize: int64(binary.LittleEndian.Uint32(b[8:])),
			root:     binary.LittleEndian.Uint64(b[16:]),
			freelist: binary.LittleEndian.Uint64(b[32:]),
			pgid:     binary.LittleEndian.Uint64(b[40:]),
			txid:     binary.LittleEndian.Uint64(b[48:]),
			offset:   off,
		}
	}
	m0 := read(0)
	m1 := read(m0.pageSize)
	if m1.txid > m0.txid {
		return [2]meta{m1, m0}
	}
	return [2]meta{m0, m1}
}

// leafPages lists the pages whose header marks them as leaves (flag 0x02)
// and are not a meta's root.
func leafPages(t *testing.T, path string, ms [2]meta) []uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	ps := ms[0].pageSize
	for id := uint64(2); id < ms[0].pgid; id++ {
		h := data[int64(id)*ps:]
		if binary.LittleEndian.Uint64(h) == id && binary.LittleEndian.Uint16(h[8:]) == 0x02 && id != ms[0].root && id != ms[1].root {
			out = append(out, id)
		}
	}
	return out
}

func garble(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, n)
	for i := range junk {
		junk[i] = byte(0xA5 ^ i*7)
	}
	if _, err := f.WriteAt(junk, off); err != nil {
		t.Fatal(err)
	}
}

// corruptions damage a valid file in the ways a crash, a bad disk or a
// careless copy do.
var corruptions = []struct {
	name     string
	damage   func(t *testing.T, path string)
	partial  bool // Salvage recovers some polls, not all
	hopeless bool // Salvage cannot open the file at all
}{
	{name: "freelist garbled", damage: func(t *testing.T, path string) {
		for _, m := range readMetas(t, path) {
			garble(t, path, int64(m.freelist)*m.pageSize, int(m.pageSize))
		}
	}},
	{name: "both meta pages garbled", hopeless: true, damage: func(t *testing.T, path string) {
		for _, m := range readMetas(t, path) {
			garble(t, path, m.offset+16, 256)
		}
	}},
	{name: "root page garbled", partial: true, damage: func(t *testing.T, path string) {
		ms := readMetas(t, path)
		garble(t, path, int64(ms[0].root)*ms[0].pageSize, int(ms[0].pageSize))
	}},
	{name: "a leaf page garbled", partial: true, damage: func(t *testing.T, path string) {
		ms := readMetas(t, path)
		leaves := leafPages(t, path, ms)
		if len(leaves) < 3 {
			t.Fatalf("only %d leaf pages", len(leaves))
		}
		id := leaves[len(leaves)/2]
		// Keep the page's id so bbolt reads on, but garble its element
		// count and contents.
		garble(t, path, int64(id)*ms[0].pageSize+8, int(ms[0].pageSize)-8)
	}},
	{name: "truncated", partial: true, damage: func(t *testing.T, path string) {
		ms := readMetas(t, path)
		if err := os.Truncate(path, int64(ms[0].pgid)*ms[0].pageSize/2); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestOpenDamaged: a damaged file is refused at Open with one line that
// says so and what to do, not a panic now or failing writes later.
func TestOpenDamaged(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			path := writeValidDB(t)
			c.damage(t, path)
			db, err := bolt.Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a damaged file")
			}
			var de *bolt.DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("Open: %v; want a *DamagedError", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines:\n%s", msg)
			}
			for _, want := range []string{path + " is damaged", "restore it from a backup", "kring store salvage --from " + path} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

// TestSalvage copies what a damaged file still holds into a new file that
// opens cleanly.
func TestSalvage(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			path := writeValidDB(t)
			c.damage(t, path)
			to := filepath.Join(t.TempDir(), "salvaged.db")
			rep, err := bolt.Salvage(path, to)
			if c.hopeless {
				if err == nil || !strings.Contains(err.Error(), "only a backup helps") {
					t.Fatalf("Salvage of a file bbolt cannot open: %+v, %v", rep, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Salvage: %v", err)
			}
			db, err := bolt.Open(to)
			if err != nil {
				t.Fatalf("the salvaged file does not open: %v", err)
			}
			defer db.Close()
			polls, err := db.Polls().List(context.Background(), damageWhere)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case !c.partial && (len(polls) != pollCount || len(rep.Lost) != 0):
				t.Errorf("salvaged %d polls, lost %q; want all %d and nothing lost", len(polls), rep.Lost, pollCount)
			case c.partial && len(rep.Lost) == 0:
				t.Errorf("salvaged %d polls and reports nothing lost", len(polls))
			}
			// Whatever was kept is whole: each listed poll reads with its ballot.
			for _, p := range polls {
				if _, ballots, err := db.Polls().Get(context.Background(), p.ID); err != nil {
					t.Errorf("salvaged poll %s: %v", p.ID, err)
				} else if len(ballots) > 1 {
					t.Errorf("salvaged poll %s has %d ballots", p.ID, len(ballots))
				}
			}
			// Writes work on the copy.
			if err := db.Polls().Create(context.Background(), &poll.Poll{ID: "new", Where: damageWhere, MaxVotes: 1, Options: []poll.Option{{Label: "A"}, {Label: "B"}}}); err != nil {
				t.Errorf("create on the salvaged file: %v", err)
			}
			t.Logf("kept %d keys in %d buckets, %d polls listed; lost %q", rep.Keys, rep.Buckets, len(polls), rep.Lost)
		})
	}
}

// TestSalvageRefusesToOverwrite: the target must be a new file.
func TestSalvageRefusesToOverwrite(t *testing.T) {
	path := writeValidDB(t)
	if _, err := bolt.Salvage(path, path); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("Salvage onto the source: %v", err)
	}
}
