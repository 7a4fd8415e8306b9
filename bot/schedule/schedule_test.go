package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

func store(t testing.TB) schedule.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Jobs()
}

var quiet = slog.New(slog.DiscardHandler)

func TestTwoRunnersRunEachJobOnce(t *testing.T) {
	ctx := context.Background()
	jobs := store(t)
	clock := bottest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	for i := range 100 {
		if err := jobs.Put(ctx, schedule.Job{ID: fmt.Sprint("j", i), Kind: "count", Due: clock.Now().Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	runs := map[string]int{}
	count := func(_ context.Context, j schedule.Job) error {
		mu.Lock()
		defer mu.Unlock()
		runs[j.ID]++
		return nil
	}
	a := &schedule.Runner{Store: jobs, Clock: clock, Owner: "a", Log: quiet}
	b := &schedule.Runner{Store: jobs, Clock: clock, Owner: "b", Log: quiet}
	a.Handle("count", count)
	b.Handle("count", count)

	clock.Advance(49 * time.Second)
	var wg sync.WaitGroup
	for _, r := range []*schedule.Runner{a, b} {
		wg.Go(func() {
			if _, err := r.RunDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(runs) != 50 {
		t.Fatalf("%d jobs ran at +49s, want the 50 due", len(runs))
	}
	clock.Advance(time.Hour) // kring was down: what was missed runs late, once
	a.RunDue(ctx)
	b.RunDue(ctx)
	for i := range 100 {
		if n := runs[fmt.Sprint("j", i)]; n != 1 {
			t.Errorf("job j%d ran %d times", i, n)
		}
	}
}

func TestFailedJobIsRetriedAfterItsLease(t *testing.T) {
	ctx := context.Background()
	jobs := store(t)
	clock := bottest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	var tries atomic.Int32
	r := &schedule.Runner{Store: jobs, Clock: clock, Lease: time.Minute, Log: quiet}
	r.Handle("flaky", func(context.Context, schedule.Job) error {
		if tries.Add(1) == 1 {
			return errors.New("platform down")
		}
		return nil
	})
	jobs.Put(ctx, schedule.Job{ID: "f", Kind: "flaky", Due: clock.Now()})
	if n, _ := r.RunDue(ctx); n != 0 || tries.Load() != 1 {
		t.Fatalf("first run: %d ok, %d tries", n, tries.Load())
	}
	if n, _ := r.RunDue(ctx); n != 0 || tries.Load() != 1 {
		t.Fatalf("retried within its lease: %d tries", tries.Load())
	}
	clock.Advance(61 * time.Second)
	if n, _ := r.RunDue(ctx); n != 1 || tries.Load() != 2 {
		t.Fatalf("after the lease: %d ok, %d tries", n, tries.Load())
	}
	if n, _ := r.RunDue(ctx); n != 0 {
		t.Fatal("a finished job ran again")
	}
}

// A job of a kind this runner does not know (a newer kring's, during a
// rolling upgrade) is neither run nor removed: another runner that knows
// it gets it once the shortened lease ends.
func TestJobOfUnknownKindIsLeftForAnother(t *testing.T) {
	ctx := context.Background()
	jobs := store(t)
	clock := bottest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	older := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
	jobs.Put(ctx, schedule.Job{ID: "x", Kind: "digest", Due: clock.Now()})
	if n, _ := older.RunDue(ctx); n != 0 {
		t.Fatalf("the older runner ran %d jobs of a kind it does not know", n)
	}
	newer := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
	ran := 0
	newer.Handle("digest", func(context.Context, schedule.Job) error { ran++; return nil })
	clock.Advance(11 * time.Second) // past the shortened lease, well within a full one
	if n, _ := newer.RunDue(ctx); n != 1 || ran != 1 {
		t.Fatalf("the newer runner ran %d jobs (%d calls), want the one left to it", n, ran)
	}
	if got, _ := jobs.Claim(ctx, clock.Now().Add(time.Hour), "probe", time.Minute, 10); len(got) != 0 {
		t.Fatalf("job kept after it ran: %+v", got)
	}
}

func TestKeyChangesWithDueTime(t *testing.T) {
	due := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := schedule.Job{ID: "poll.close:x", Due: due}
	b := schedule.Job{ID: "poll.close:x", Due: due.Add(time.Hour)}
	if a.Key() == b.Key() {
		t.Fatal("a rescheduled job keeps its idempotency key")
	}
}
