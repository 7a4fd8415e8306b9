package storagetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/schedule"
)

// TestJobs checks a schedule.Store. newStore returns an empty store and is
// called once per subtest.
func TestJobs(t *testing.T, newStore func(t *testing.T) schedule.Store) {
	t.Run("ClaimDueEarliestFirst", func(t *testing.T) { testClaimDue(t, newStore(t)) })
	t.Run("ClaimMax", func(t *testing.T) { testClaimMax(t, newStore(t)) })
	t.Run("LeaseExpiry", func(t *testing.T) { testLeaseExpiry(t, newStore(t)) })
	t.Run("Done", func(t *testing.T) { testDone(t, newStore(t)) })
	t.Run("DoneAfterReschedule", func(t *testing.T) { testDoneAfterReschedule(t, newStore(t)) })
	t.Run("PutDropsLease", func(t *testing.T) { testPutDropsLease(t, newStore(t)) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, newStore(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testConcurrentClaims(t, newStore(t)) })
	t.Run("Once", func(t *testing.T) { testOnce(t, newStore(t)) })
	t.Run("ClaimKinds", func(t *testing.T) { testClaimKinds(t, newStore(t)) })
	t.Run("ClaimKindsPastFullBacklog", func(t *testing.T) { testClaimKindsPastFullBacklog(t, newStore(t)) })
	t.Run("PutChangesKind", func(t *testing.T) { testPutChangesKind(t, newStore(t)) })
	t.Run("ClaimAfterLeasesRanOut", func(t *testing.T) { testClaimAfterLeasesRanOut(t, newStore(t)) })
	t.Run("ExtendByOwner", func(t *testing.T) { testExtendByOwner(t, newStore(t)) })
	t.Run("ExtendByAnother", func(t *testing.T) { testExtendByAnother(t, newStore(t)) })
	t.Run("ExtendAfterTakeover", func(t *testing.T) { testExtendAfterTakeover(t, newStore(t)) })
	t.Run("ExtendAfterDoneOrPut", func(t *testing.T) { testExtendAfterDoneOrPut(t, newStore(t)) })
	t.Run("RunnerKeepsLease", func(t *testing.T) { testRunnerKeepsLease(t, newStore(t)) })
	t.Run("RunnerLosesLease", func(t *testing.T) { testRunnerLosesLease(t, newStore(t)) })
}

func job(id string, due time.Time) schedule.Job {
	return schedule.Job{ID: id, Kind: "poll.close", Due: due, Payload: []byte(`{"poll":"` + id + `"}`)}
}

func mustPut(t *testing.T, s schedule.Store, jobs ...schedule.Job) {
	t.Helper()
	for _, j := range jobs {
		if err := s.Put(t.Context(), j); err != nil {
			t.Fatalf("Put(%s): %v", j.ID, err)
		}
	}
}

func mustClaim(t *testing.T, s schedule.Store, now time.Time, owner string, lease time.Duration, max int) []schedule.Job {
	t.Helper()
	jobs, err := s.Claim(t.Context(), now, owner, lease, max)
	if err != nil {
		t.Fatalf("Claim(%v, %s): %v", now, owner, err)
	}
	return jobs
}

func jobIDs(jobs []schedule.Job) []string {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func checkClaimed(t *testing.T, got []schedule.Job, want ...string) {
	t.Helper()
	if ids := jobIDs(got); !slices.Equal(ids, want) {
		t.Errorf("claimed %v, want %v", ids, want)
	}
}

func testClaimDue(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j3", t0.Add(3*time.Second)), job("j1", t0.Add(time.Second)),
		job("j5", t0.Add(5*time.Second)), job("j2", t0.Add(2*time.Second)), job("late", t0.Add(time.Hour)))
	now := t0.Add(5 * time.Second) // j5 is due at exactly now
	got := mustClaim(t, s, now, "A", time.Minute, 10)
	checkClaimed(t, got, "j1", "j2", "j3", "j5")
	if len(got) > 0 {
		want := job("j1", t0.Add(time.Second))
		if g := got[0]; g.ID != want.ID || g.Kind != want.Kind || !g.Due.Equal(want.Due) || string(g.Payload) != string(want.Payload) {
			t.Errorf("claimed job %s, want %s", asJSON(g), asJSON(want))
		}
	}
	checkClaimed(t, mustClaim(t, s, now, "B", time.Minute, 10)) // all leased
	if got := mustClaim(t, s, now, "A", time.Minute, 0); len(got) != 0 {
		t.Errorf("Claim with max 0 returned %v", jobIDs(got))
	}
}

func testClaimMax(t *testing.T, s schedule.Store) {
	for i := range 5 {
		mustPut(t, s, job(fmt.Sprintf("j%d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	now := t0.Add(time.Minute)
	checkClaimed(t, mustClaim(t, s, now, "A", time.Minute, 2), "j0", "j1")
	checkClaimed(t, mustClaim(t, s, now, "B", time.Minute, 2), "j2", "j3")
	checkClaimed(t, mustClaim(t, s, now, "C", time.Minute, 2), "j4")
}

func testLeaseExpiry(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0))
	checkClaimed(t, mustClaim(t, s, t0, "A", time.Minute, 10), "j1")
	checkClaimed(t, mustClaim(t, s, t0.Add(59*time.Second), "B", time.Minute, 10))
	// At the end of the lease the job is free again: A died, B takes over.
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Minute), "B", time.Minute, 10), "j1")
	checkClaimed(t, mustClaim(t, s, t0.Add(90*time.Second), "A", time.Minute, 10))
	checkClaimed(t, mustClaim(t, s, t0.Add(3*time.Minute), "A", time.Minute, 10), "j1")
}

func testDone(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0), job("j2", t0))
	got := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, got, "j1", "j2")
	if err := s.Done(t.Context(), got[0]); err != nil {
		t.Fatalf("Done: %v", err)
	}
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Hour), "B", time.Minute, 10), "j2")
}

func testDoneAfterReschedule(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0))
	got := mustClaim(t, s, t0, "A", time.Hour, 10)
	checkClaimed(t, got, "j1")
	// While A runs it, the job is moved to later (a poll's closing time
	// changed). A's Done must not remove the moved job.
	moved := job("j1", t0.Add(10*time.Minute))
	mustPut(t, s, moved)
	if err := s.Done(t.Context(), got[0]); err != nil {
		t.Fatalf("Done: %v", err)
	}
	checkClaimed(t, mustClaim(t, s, t0.Add(5*time.Minute), "B", time.Hour, 10))
	// Due again well within A's old lease: Put dropped the lease.
	again := mustClaim(t, s, t0.Add(10*time.Minute), "B", time.Hour, 10)
	checkClaimed(t, again, "j1")
	if len(again) == 1 && !again[0].Due.Equal(moved.Due) {
		t.Errorf("claimed due %v, want %v", again[0].Due, moved.Due)
	}
	if len(again) == 1 {
		if err := s.Done(t.Context(), again[0]); err != nil {
			t.Fatalf("Done: %v", err)
		}
	}
	checkClaimed(t, mustClaim(t, s, t0.Add(24*time.Hour), "C", time.Hour, 10))
}

func testPutDropsLease(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0))
	checkClaimed(t, mustClaim(t, s, t0, "A", time.Hour, 10), "j1")
	mustPut(t, s, job("j1", t0))
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Second), "B", time.Hour, 10), "j1")
}

func testCancel(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	mustPut(t, s, job("j1", t0), job("j2", t0))
	if err := s.Cancel(ctx, "j1"); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := s.Cancel(ctx, "never-was"); err != nil {
		t.Errorf("Cancel of a missing job: %v", err)
	}
	got := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, got, "j2")
	// A job cancelled while it runs: its Done is no error.
	if err := s.Cancel(ctx, "j2"); err != nil {
		t.Fatalf("Cancel of a claimed job: %v", err)
	}
	if err := s.Done(ctx, got[0]); err != nil {
		t.Errorf("Done of a cancelled job: %v", err)
	}
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Hour), "A", time.Minute, 10))
}

// testConcurrentClaims has several runners claim at once; each job must go
// to exactly one.
func testConcurrentClaims(t *testing.T, s schedule.Store) {
	const (
		jobs    = 100
		runners = 8
	)
	for i := range jobs {
		mustPut(t, s, job(fmt.Sprintf("j%03d", i), t0.Add(time.Duration(i)*time.Millisecond)))
	}
	now := t0.Add(time.Second)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[string][]string{}
	)
	for r := range runners {
		owner := fmt.Sprintf("runner-%d", r)
		wg.Go(func() {
			for {
				got, err := s.Claim(t.Context(), now, owner, time.Minute, 3)
				if err != nil {
					t.Errorf("Claim by %s: %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					claimed[j.ID] = append(claimed[j.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != jobs {
		t.Errorf("%d of %d jobs claimed", len(claimed), jobs)
	}
	for id, owners := range claimed {
		if len(owners) != 1 {
			t.Errorf("job %s claimed by %v", id, owners)
		}
	}
}

func testOnce(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	key := job("j1", t0).Key()
	for i, want := range []bool{true, false, false} {
		if got, err := s.Once(ctx, key, time.Hour); err != nil || got != want {
			t.Errorf("Once(%s) call %d = %t, %v; want %t", key, i+1, got, err, want)
		}
	}
	// A rescheduled job has a new key.
	other := job("j1", t0.Add(time.Minute)).Key()
	if got, err := s.Once(ctx, other, time.Hour); err != nil || !got {
		t.Errorf("Once(%s) = %t, %v; want true", other, got, err)
	}
}

func kindJob(id, kind string, due time.Time) schedule.Job {
	return schedule.Job{ID: id, Kind: kind, Due: due}
}

// testClaimKinds: a kind at its cap is passed over, not leased, and the
// jobs of other kinds due behind it are still claimed.
func testClaimKinds(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	mustPut(t, s,
		kindJob("d1", "digest", t0), kindJob("d2", "digest", t0.Add(time.Second)), kindJob("d3", "digest", t0.Add(2*time.Second)),
		kindJob("f1", "feed", t0.Add(3*time.Second)),
		kindJob("r1", "reminder", t0.Add(4*time.Second)), kindJob("r2", "reminder", t0.Add(5*time.Second)))
	now := t0.Add(time.Minute)
	got, err := s.ClaimKinds(ctx, now, "A", time.Minute, 10, map[string]int{"digest": 1, "feed": 0, "reminder": 5})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "d1", "r1", "r2")
	// Kinds not named are capped by max alone; what was passed over is free.
	got, err = s.ClaimKinds(ctx, now, "B", time.Minute, 2, map[string]int{"reminder": 1})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "d2", "d3")
	checkClaimed(t, mustClaim(t, s, now, "C", time.Minute, 10), "f1")
	if got, err := s.ClaimKinds(ctx, now, "A", time.Minute, 0, map[string]int{"feed": 1}); err != nil || len(got) != 0 {
		t.Errorf("ClaimKinds with max 0 = %v, %v", jobIDs(got), err)
	}
}

// testClaimKindsPastFullBacklog: thousands of due jobs of a kind whose cap
// is full, some of them leased, do not hide a job of another kind due
// after them all, nor the ones of their own kind once the cap allows.
func testClaimKindsPastFullBacklog(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	const backlog = 5000
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if err := s.Put(ctx, kindJob(fmt.Sprintf("r%05d", i), "reminder", t0.Add(time.Duration(i)*time.Millisecond))); err != nil {
					t.Errorf("Put: %v", err)
				}
			}
		})
	}
	for i := range backlog {
		work <- i
	}
	close(work)
	wg.Wait()
	mustPut(t, s, kindJob("p1", "poll.close", t0.Add(time.Hour)))
	now := t0.Add(2 * time.Hour)
	got, err := s.ClaimKinds(ctx, now, "A", time.Minute, 4, map[string]int{"reminder": 4})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "r00000", "r00001", "r00002", "r00003")
	got, err = s.ClaimKinds(ctx, now, "A", time.Minute, 12, map[string]int{"reminder": 0, "poll.close": 4})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "p1")
	got, err = s.ClaimKinds(ctx, now, "B", time.Minute, 16, map[string]int{"reminder": 2, "poll.close": 4})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "r00004", "r00005")
}

// testPutChangesKind: a job Put again with another kind counts against
// the new kind's cap only.
func testPutChangesKind(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	mustPut(t, s, kindJob("j1", "digest", t0), kindJob("j1", "feed", t0))
	got, err := s.ClaimKinds(ctx, t0, "A", time.Minute, 10, map[string]int{"feed": 0})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got)
	got, err = s.ClaimKinds(ctx, t0, "A", time.Minute, 10, map[string]int{"digest": 0})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "j1")
	if len(got) == 1 && got[0].Kind != "feed" {
		t.Errorf("claimed kind %q, want feed", got[0].Kind)
	}
}

// testClaimAfterLeasesRanOut: a job whose lease ran out is claimable
// again, of any kind, among jobs that were never claimed; a leased one
// whose lease still holds is not, however early it was due.
func testClaimAfterLeasesRanOut(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	mustPut(t, s, kindJob("a1", "a", t0), kindJob("b1", "b", t0.Add(time.Second)))
	got, err := s.ClaimKinds(ctx, t0.Add(time.Second), "A", time.Minute, 10, nil)
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "a1", "b1")
	mustExtend(t, s, got[1], "A", t0.Add(time.Hour), true)
	mustPut(t, s, kindJob("a2", "a", t0.Add(2*time.Minute)), kindJob("b2", "b", t0.Add(3*time.Minute)))
	got, err = s.ClaimKinds(ctx, t0.Add(10*time.Minute), "B", 2*time.Hour, 10, map[string]int{"a": 1, "b": 1})
	if err != nil {
		t.Fatalf("ClaimKinds: %v", err)
	}
	checkClaimed(t, got, "a1", "b2")
	// b1's lease ran out later than a2 fell due but b1 was due earlier:
	// the contract leaves their order to the store.
	ids := jobIDs(mustClaim(t, s, t0.Add(time.Hour), "C", time.Minute, 10))
	slices.Sort(ids)
	if want := []string{"a2", "b1"}; !slices.Equal(ids, want) {
		t.Errorf("claimed %v, want %v in any order", ids, want)
	}
}

func mustExtend(t *testing.T, s schedule.Store, j schedule.Job, owner string, until time.Time, want bool) {
	t.Helper()
	held, err := s.Extend(t.Context(), j, owner, until)
	if err != nil {
		t.Fatalf("Extend(%s, %s): %v", j.ID, owner, err)
	}
	if held != want {
		t.Errorf("Extend(%s, %s, %v) = %t, want %t", j.ID, owner, until, held, want)
	}
}

// testExtendByOwner: the owner's extension holds the job until the new
// end, also when the old lease had run out unclaimed.
func testExtendByOwner(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0), job("j2", t0.Add(time.Hour)))
	// A job that was never claimed has no lease to extend.
	mustExtend(t, s, job("j2", t0.Add(time.Hour)), "A", t0.Add(2*time.Hour), false)
	got := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, got, "j1")
	mustExtend(t, s, got[0], "A", t0.Add(5*time.Minute), true)
	checkClaimed(t, mustClaim(t, s, t0.Add(2*time.Minute), "B", time.Minute, 10))
	checkClaimed(t, mustClaim(t, s, t0.Add(5*time.Minute-time.Microsecond), "B", time.Minute, 10))
	// Run out, but nobody claimed it: still A's to extend.
	mustExtend(t, s, got[0], "A", t0.Add(7*time.Minute), true)
	checkClaimed(t, mustClaim(t, s, t0.Add(6*time.Minute), "B", time.Minute, 10))
	checkClaimed(t, mustClaim(t, s, t0.Add(7*time.Minute), "B", time.Minute, 10), "j1")
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Hour), "C", time.Minute, 10), "j1", "j2")
}

func testExtendByAnother(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0))
	got := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, got, "j1")
	mustExtend(t, s, got[0], "B", t0.Add(time.Hour), false)
	// B's failed extension changed nothing: A's lease ends as it did.
	checkClaimed(t, mustClaim(t, s, t0.Add(59*time.Second), "C", time.Minute, 10))
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Minute), "C", time.Minute, 10), "j1")
}

// testExtendAfterTakeover: once another runner claimed the job after A's
// lease ran out, A cannot take it back.
func testExtendAfterTakeover(t *testing.T, s schedule.Store) {
	mustPut(t, s, job("j1", t0))
	a := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, a, "j1")
	b := mustClaim(t, s, t0.Add(2*time.Minute), "B", time.Minute, 10)
	checkClaimed(t, b, "j1")
	mustExtend(t, s, a[0], "A", t0.Add(time.Hour), false)
	checkClaimed(t, mustClaim(t, s, t0.Add(2*time.Minute+59*time.Second), "C", time.Minute, 10))
	mustExtend(t, s, b[0], "B", t0.Add(10*time.Minute), true)
	checkClaimed(t, mustClaim(t, s, t0.Add(9*time.Minute), "C", time.Minute, 10))
}

// testExtendAfterDoneOrPut: an extension brings back neither a finished
// job nor the lease Put dropped.
func testExtendAfterDoneOrPut(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	mustPut(t, s, job("done", t0), job("put", t0), job("moved", t0), job("cancelled", t0))
	got := mustClaim(t, s, t0, "A", time.Minute, 10)
	checkClaimed(t, got, "cancelled", "done", "moved", "put")
	claimed := map[string]schedule.Job{}
	for _, j := range got {
		claimed[j.ID] = j
	}
	if err := s.Done(ctx, claimed["done"]); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if err := s.Cancel(ctx, "cancelled"); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	mustPut(t, s, job("put", t0), job("moved", t0.Add(time.Minute)))
	for _, id := range []string{"done", "cancelled", "put", "moved"} {
		mustExtend(t, s, claimed[id], "A", t0.Add(time.Hour), false)
	}
	// The re-Put jobs are free at once, and nothing else came back.
	again := mustClaim(t, s, t0.Add(time.Second), "B", time.Minute, 10)
	checkClaimed(t, again, "put")
	moved := mustClaim(t, s, t0.Add(time.Minute), "B", time.Minute, 10)
	checkClaimed(t, moved, "moved")
	for _, j := range append(again, moved...) {
		if err := s.Done(ctx, j); err != nil {
			t.Fatalf("Done: %v", err)
		}
	}
	checkClaimed(t, mustClaim(t, s, t0.Add(time.Hour), "C", time.Minute, 10))
}

// slowJob is a job func that tells when it starts and returns when
// released, or when its context ends, with the context's cause.
type slowJob struct {
	started chan schedule.Job
	release chan struct{}
	mu      sync.Mutex
	runs    int
	causes  []error
}

func newSlowJob() *slowJob {
	return &slowJob{started: make(chan schedule.Job, 10), release: make(chan struct{})}
}

func (s *slowJob) run(ctx context.Context, j schedule.Job) error {
	s.mu.Lock()
	s.runs++
	s.mu.Unlock()
	s.started <- j
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		s.causes = append(s.causes, context.Cause(ctx))
		s.mu.Unlock()
		return ctx.Err()
	}
}

// logRecorder keeps the messages a runner logs.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.msgs, func(m string) bool { return strings.Contains(m, substr) })
}

// runners returns two runners, A and B, on s with one fake clock; the
// lease is an hour so that their real-time heartbeats (every 20 minutes)
// never fire during a test: only Heartbeat calls extend.
func runners(s schedule.Store, f schedule.Func) (a, b *schedule.Runner, clock *bottest.Clock, log *logRecorder) {
	clock = bottest.NewClock(t0)
	log = &logRecorder{}
	a = &schedule.Runner{Store: s, Clock: clock, Owner: "A", Lease: time.Hour, Log: slog.New(log)}
	b = &schedule.Runner{Store: s, Clock: clock, Owner: "B", Lease: time.Hour, Log: slog.New(log)}
	a.Handle("slow", f)
	b.Handle("slow", f)
	return a, b, clock, log
}

type runResult struct {
	n   int
	err error
}

func runDue(ctx context.Context, r *schedule.Runner) <-chan runResult {
	c := make(chan runResult, 1)
	go func() {
		n, err := r.RunDue(ctx)
		c <- runResult{n, err}
	}()
	return c
}

// testRunnerKeepsLease: a job that runs three times as long as its lease
// is not run a second time by another runner on the same store.
func testRunnerKeepsLease(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	slow := newSlowJob()
	a, b, clock, _ := runners(s, slow.run)
	mustPut(t, s, kindJob("digest", "slow", t0))
	doneA := runDue(ctx, a)
	bottest.Receive(t, slow.started, "start of the job on A")
	for range 6 {
		clock.Advance(30 * time.Minute) // half a lease, then a heartbeat
		a.Heartbeat(ctx)
		if n, err := b.RunDue(ctx); n != 0 || err != nil {
			t.Fatalf("B at +%v while A runs the job: %d ran, %v", clock.Now().Sub(t0), n, err)
		}
	}
	close(slow.release)
	if r := bottest.Receive(t, doneA, "end of A's RunDue"); r.n != 1 || r.err != nil {
		t.Errorf("A's RunDue = %d, %v; want 1 job run", r.n, r.err)
	}
	clock.Advance(24 * time.Hour)
	if n, err := b.RunDue(ctx); n != 0 || err != nil {
		t.Errorf("B after A finished: %d ran, %v", n, err)
	}
	if slow.runs != 1 {
		t.Errorf("the job ran %d times, want once", slow.runs)
	}
}

// testRunnerLosesLease: a runner whose job was claimed by another after
// its lease ran out (say it hung on a network call) says so and cancels
// the job's context, and leaves marking it done to the new owner.
func testRunnerLosesLease(t *testing.T, s schedule.Store) {
	ctx := t.Context()
	slow := newSlowJob()
	a, b, clock, log := runners(s, slow.run)
	// One job at a time on A: A's RunDue claims again while its job runs,
	// and on a busy machine that claim can come after the clock moved on
	// below, when A's own lease has run out; A would then take the job a
	// second time itself, and its heartbeat would find the lease its own.
	a.Max = 1
	mustPut(t, s, kindJob("digest", "slow", t0))
	doneA := runDue(ctx, a)
	bottest.Receive(t, slow.started, "start of the job on A")
	clock.Advance(61 * time.Minute) // no heartbeat: A's lease runs out
	doneB := runDue(ctx, b)
	bottest.Receive(t, slow.started, "start of the job on B")
	a.Heartbeat(ctx)
	if r := bottest.Receive(t, doneA, "end of A's RunDue"); r.n != 0 || r.err != nil {
		t.Errorf("A's RunDue = %d, %v; want the job stopped, not run", r.n, r.err)
	}
	slow.mu.Lock()
	causes := slices.Clone(slow.causes)
	slow.mu.Unlock()
	if len(causes) != 1 || !errors.Is(causes[0], schedule.ErrLeaseLost) {
		t.Errorf("A's job ended with causes %v, want %v", causes, schedule.ErrLeaseLost)
	}
	if !log.has("lease") {
		t.Errorf("A logged %v, nothing about its lost lease", log.msgs)
	}
	// B still holds it: A's failed extension and A's end changed nothing.
	b.Heartbeat(ctx)
	close(slow.release)
	if r := bottest.Receive(t, doneB, "end of B's RunDue"); r.n != 1 || r.err != nil {
		t.Errorf("B's RunDue = %d, %v; want 1 job run", r.n, r.err)
	}
	clock.Advance(24 * time.Hour)
	checkClaimed(t, mustClaim(t, s, clock.Now(), "C", time.Minute, 10))
}
