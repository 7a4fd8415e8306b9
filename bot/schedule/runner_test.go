package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// bubbleStore opens a bolt job store inside a synctest bubble.
func bubbleStore(t *testing.T) schedule.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Jobs()
}

func put(t *testing.T, s schedule.Store, jobs ...schedule.Job) {
	t.Helper()
	for _, j := range jobs {
		if err := s.Put(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
}

// gauge counts the jobs running now, per kind and in all, and the most
// that ever ran at once.
type gauge struct {
	mu             sync.Mutex
	now, peak      map[string]int
	total, peakAll int
	ran            map[string]int // job id → runs
	ended          map[string]int // kind → jobs ended
}

func newGauge() *gauge {
	return &gauge{now: map[string]int{}, peak: map[string]int{}, ran: map[string]int{}, ended: map[string]int{}}
}

func (g *gauge) enter(kind string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now[kind]++
	g.total++
	g.peak[kind] = max(g.peak[kind], g.now[kind])
	g.peakAll = max(g.peakAll, g.total)
}

func (g *gauge) leave(j schedule.Job) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now[j.Kind]--
	g.total--
	g.ran[j.ID]++
	g.ended[j.Kind]++
}

func (g *gauge) endedOf(kind string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ended[kind]
}

func (g *gauge) running(kind string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now[kind]
}

func (g *gauge) runningAll() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// blocking returns a job func that runs until release is closed (or
// yields a value), counted by g.
func blocking(g *gauge, release <-chan struct{}) schedule.Func {
	return func(ctx context.Context, j schedule.Job) error {
		g.enter(j.Kind)
		defer g.leave(j)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSlowKindDoesNotHoldUpOthers: 40 digests that never end, due before
// a reminder, take only the digests' slots; the reminder due with them and
// one due an hour later run while they hang.
func TestSlowKindDoesNotHoldUpOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		clock := bottest.NewClock(t0)
		g := newGauge()
		hang := make(chan struct{})
		reminded := make(chan string, 2)
		r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
		r.Handle("digest", blocking(g, hang))
		r.Handle("reminder", func(_ context.Context, j schedule.Job) error {
			reminded <- j.ID
			return nil
		})
		for i := range 40 {
			put(t, jobs, schedule.Job{ID: fmt.Sprintf("digest%02d", i), Kind: "digest", Due: t0.Add(-time.Hour)})
		}
		put(t, jobs, schedule.Job{ID: "r1", Kind: "reminder", Due: t0},
			schedule.Job{ID: "r2", Kind: "reminder", Due: t0.Add(time.Hour)})

		ctx, stop := context.WithCancel(t.Context())
		var loop sync.WaitGroup
		loop.Go(func() { r.Run(ctx, time.Second) })

		if got := bottest.Receive(t, reminded, "reminder r1"); got != "r1" {
			t.Fatalf("reminder %s ran, want r1", got)
		}
		synctest.Wait()
		if n := g.running("digest"); n != schedule.DefaultLimit {
			t.Errorf("%d digests running, want %d (the kind's limit)", n, schedule.DefaultLimit)
		}
		clock.Advance(time.Hour) // r2 is due at the next tick; the digests still hang
		if got := bottest.Receive(t, reminded, "reminder r2"); got != "r2" {
			t.Fatalf("reminder %s ran, want r2", got)
		}

		close(hang) // the digests end; each freed slot takes the next one at once
		synctest.Wait()
		stop()
		loop.Wait()
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(g.ran) != 40 || g.peak["digest"] != schedule.DefaultLimit {
			t.Errorf("%d digests ran, at most %d at once; want 40, at most %d", len(g.ran), g.peak["digest"], schedule.DefaultLimit)
		}
	})
}

// TestLimitsHold: never more jobs of a kind at once than its limit, nor
// more in all than Max; and the free slots are used.
func TestLimitsHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		clock := bottest.NewClock(t0)
		g := newGauge()
		step := make(chan struct{}) // each send ends one job
		r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet, Limits: map[string]int{"a": 3}, Max: 5}
		r.Handle("a", blocking(g, step))
		r.Handle("b", blocking(g, step))
		const n = 12
		for i := range n {
			put(t, jobs, schedule.Job{ID: fmt.Sprint("a", i), Kind: "a", Due: t0.Add(time.Duration(i) * time.Second)},
				schedule.Job{ID: fmt.Sprint("b", i), Kind: "b", Due: t0.Add(time.Duration(n+i) * time.Second)})
		}
		clock.Advance(time.Hour)
		done := make(chan int, 1)
		go func() {
			ran, err := r.RunDue(t.Context())
			if err != nil {
				t.Error(err)
			}
			done <- ran
		}()
		for range 2 * n {
			synctest.Wait()
			leftA, leftB := n-g.endedOf("a"), n-g.endedOf("b")
			want := min(5, min(3, leftA)+min(schedule.DefaultLimit, leftB)) // every slot that may be used is
			if a, b, all := g.running("a"), g.running("b"), g.runningAll(); a > 3 || b > schedule.DefaultLimit || all != want {
				t.Fatalf("with %d of a and %d of b left: %d of a, %d of b running; want at most 3 of a, %d of b, %d in all",
					leftA, leftB, a, b, schedule.DefaultLimit, want)
			}
			step <- struct{}{}
		}
		if ran := bottest.Receive(t, done, "end of RunDue"); ran != 2*n {
			t.Errorf("RunDue ran %d, want %d", ran, 2*n)
		}
		if g.peak["a"] != 3 || g.peak["b"] != schedule.DefaultLimit || g.peakAll != 5 {
			t.Errorf("at most %d of a, %d of b, %d in all at once; want 3, %d, 5", g.peak["a"], g.peak["b"], g.peakAll, schedule.DefaultLimit)
		}
	})
}

// TestRunDueWaitsForWhatItStarted: RunDue runs the jobs of several kinds
// at once, and returns only when the last has ended.
func TestRunDueWaitsForWhatItStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		clock := bottest.NewClock(t0)
		g := newGauge()
		release := make(chan struct{})
		r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
		for _, kind := range []string{"poll.close", "digest", "feed"} {
			r.Handle(kind, blocking(g, release))
			put(t, jobs, schedule.Job{ID: kind + ":1", Kind: kind, Due: t0})
		}
		done := make(chan int, 1)
		go func() {
			ran, _ := r.RunDue(t.Context())
			done <- ran
		}()
		synctest.Wait()
		if n := g.runningAll(); n != 3 {
			t.Fatalf("%d jobs running, want all 3 at once", n)
		}
		select {
		case ran := <-done:
			t.Fatalf("RunDue returned %d while its jobs ran", ran)
		default:
		}
		close(release)
		if ran := bottest.Receive(t, done, "end of RunDue"); ran != 3 || len(g.ran) != 3 {
			t.Errorf("RunDue = %d after %d jobs ended; want 3", ran, len(g.ran))
		}
	})
}

// TestCloseWaitsThenCancels: Run's ctx ending stops the claims but not the
// jobs; Close waits for them until its deadline, then cancels the rest.
func TestCloseWaitsThenCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		clock := bottest.NewClock(t0)
		polite := make(chan struct{})
		var (
			mu     sync.Mutex
			causes = map[string]error{}
		)
		r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
		r.Handle("polite", func(ctx context.Context, j schedule.Job) error {
			<-polite
			return nil
		})
		r.Handle("stubborn", func(ctx context.Context, j schedule.Job) error {
			<-ctx.Done()
			mu.Lock()
			causes[j.ID] = context.Cause(ctx)
			mu.Unlock()
			return ctx.Err()
		})
		put(t, jobs, schedule.Job{ID: "p", Kind: "polite", Due: t0}, schedule.Job{ID: "s", Kind: "stubborn", Due: t0})

		ctx, stop := context.WithCancel(t.Context())
		var loop sync.WaitGroup
		loop.Go(func() { r.Run(ctx, time.Second) })
		synctest.Wait()
		stop()
		loop.Wait()
		synctest.Wait()
		mu.Lock()
		if len(causes) != 0 {
			t.Errorf("the end of Run's ctx cancelled the jobs: %v", causes)
		}
		mu.Unlock()

		start := time.Now()
		closeCtx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		closed := make(chan error, 1)
		go func() { closed <- r.Close(closeCtx) }()
		synctest.Wait()
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v with two jobs running", err)
		default:
		}
		close(polite)
		err := bottest.Receive(t, closed, "end of Close")
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("Close returned after %v, want at its 10s deadline", waited)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want the deadline", err)
		}
		mu.Lock()
		if cause := causes["s"]; cause == nil || errors.Is(cause, context.Canceled) {
			t.Errorf("stubborn job ended with cause %v, want the runner's stop", cause)
		}
		mu.Unlock()
		if _, err := r.RunDue(t.Context()); !errors.Is(err, schedule.ErrClosed) {
			t.Errorf("RunDue after Close = %v, want %v", err, schedule.ErrClosed)
		}
		// The polite job was done; the stubborn one is retried after its lease.
		clock.Advance(time.Minute)
		got, err := jobs.Claim(t.Context(), clock.Now(), "probe", time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].ID != "s" {
			t.Errorf("after Close, Claim = %v, %v; want the stubborn job only", got, err)
		}
	})
}

// TestCloseWithoutDeadline: Close returns as soon as the jobs in flight
// end.
func TestCloseWithoutDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		clock := bottest.NewClock(t0)
		r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
		r.Handle("work", func(ctx context.Context, j schedule.Job) error {
			select {
			case <-time.After(3 * time.Second): // simulated work in the bubble's time
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		put(t, jobs, schedule.Job{ID: "w", Kind: "work", Due: t0})
		ctx, stop := context.WithCancel(t.Context())
		var loop sync.WaitGroup
		loop.Go(func() { r.Run(ctx, time.Second) })
		synctest.Wait()
		stop()
		loop.Wait()
		start := time.Now()
		if err := r.Close(t.Context()); err != nil {
			t.Errorf("Close = %v", err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("Close returned after %v, want when the job ended, 3s", waited)
		}
	})
}

// TestLeaseKeptByHeartbeat: with the runner's own heartbeat (no Heartbeat
// calls), a job that takes five leases runs once although a second runner
// tries to claim it every ten seconds.
func TestLeaseKeptByHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := bubbleStore(t)
		var clock bot.SystemClock // the bubble's clock
		g := newGauge()
		long := func(ctx context.Context, j schedule.Job) error {
			g.enter(j.Kind)
			defer g.leave(j)
			select {
			case <-time.After(5 * time.Minute):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		put(t, jobs, schedule.Job{ID: "digest", Kind: "digest", Due: clock.Now()})
		ctx, stop := context.WithCancel(t.Context())
		var loops sync.WaitGroup
		var runners []*schedule.Runner
		for _, owner := range []string{"a", "b"} {
			r := &schedule.Runner{Store: jobs, Clock: clock, Owner: owner, Lease: time.Minute, Log: quiet}
			r.Handle("digest", long)
			runners = append(runners, r)
			loops.Go(func() { r.Run(ctx, 10*time.Second) })
		}
		time.Sleep(10 * time.Minute) // the bubble's time: the job's five minutes and five more
		synctest.Wait()
		stop()
		loops.Wait()
		for _, r := range runners {
			if err := r.Close(t.Context()); err != nil {
				t.Error(err)
			}
		}
		if g.ran["digest"] != 1 || g.peakAll != 1 {
			t.Errorf("the job ran %d times, %d at once; want once", g.ran["digest"], g.peakAll)
		}
	})
}

// TestPanickingJobIsRetried: a job that panics fails like one that
// returns an error; the runner and the other jobs go on.
func TestPanickingJobIsRetried(t *testing.T) {
	ctx := context.Background()
	jobs := store(t)
	clock := bottest.NewClock(t0)
	var mu sync.Mutex
	tries := 0
	r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet}
	r.Handle("bad", func(context.Context, schedule.Job) error {
		mu.Lock()
		defer mu.Unlock()
		if tries++; tries == 1 {
			panic("nil map")
		}
		return nil
	})
	r.Handle("good", func(context.Context, schedule.Job) error { return nil })
	put(t, jobs, schedule.Job{ID: "x", Kind: "bad", Due: t0}, schedule.Job{ID: "y", Kind: "good", Due: t0})
	if n, err := r.RunDue(ctx); n != 1 || err != nil {
		t.Fatalf("RunDue = %d, %v; want the good job run", n, err)
	}
	clock.Advance(time.Minute)
	if n, err := r.RunDue(ctx); n != 1 || err != nil || tries != 2 {
		t.Fatalf("after the lease: RunDue = %d, %v, %d tries; want the retry to succeed", n, err, tries)
	}
}
