package bolt_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	bbolt "go.etcd.io/bbolt"
)

// TestJobsMigrate: a file written by a kring from before the per-kind
// indexes (one bucket jobs_due of due+id for all kinds) gives the first
// claim all its jobs, in due order, once, with their kinds' caps and
// their leases kept.
func TestJobsMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kring.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	const n = 300
	var want []string
	raw, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bbolt.Tx) error {
		for i := range n {
			kind := "meeting.remind"
			if i%3 == 0 {
				kind = "poll.close"
			}
			r := map[string]any{"job": schedule.Job{ID: fmt.Sprintf("j%04d", i), Kind: kind, Due: now.Add(time.Duration(i-n) * time.Second)}}
			if i == 5 { // leased by a live owner: not claimable until its lease ends
				r["lease_until"], r["lease_owner"] = now.Add(time.Minute), "old"
			} else {
				want = append(want, fmt.Sprintf("j%04d", i))
			}
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			id := []byte(fmt.Sprintf("j%04d", i))
			if err := tx.Bucket([]byte("jobs")).Put(id, v); err != nil {
				return err
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], uint64(now.Add(time.Duration(i-n)*time.Second).UnixNano())^(1<<63))
			if err := tx.Bucket([]byte("jobs_due")).Put(append(k[:], id...), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	jobs := db.Jobs()
	ctx := t.Context()
	got, err := jobs.ClaimKinds(ctx, now, "A", time.Hour, n, map[string]int{"poll.close": n})
	if err != nil {
		t.Fatal(err)
	}
	if ids := claimed(got); !slices.Equal(ids, want) {
		t.Errorf("first claim: %d jobs, want %d: %v", len(ids), len(want), ids)
	}
	if got, err := jobs.Claim(ctx, now, "B", time.Hour, n); err != nil || len(got) != 0 {
		t.Errorf("second claim = %v, %v; want nothing", claimed(got), err)
	}
	got, err = jobs.Claim(ctx, now.Add(time.Minute), "B", time.Hour, n)
	if err != nil {
		t.Fatal(err)
	}
	if ids := claimed(got); !slices.Equal(ids, []string{"j0005"}) {
		t.Errorf("claim when the old lease ended: %v, want [j0005]", ids)
	}
	// Done and Cancel remove moved jobs for good.
	if err := jobs.Done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Cancel(ctx, "j0000"); err != nil {
		t.Fatal(err)
	}
	got, err = jobs.ClaimKinds(ctx, now.Add(2*time.Hour), "C", time.Hour, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n-2 {
		t.Errorf("claim after every lease ran out: %d jobs, want %d", len(got), n-2)
	}
}

func claimed(jobs []schedule.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}
