package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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
