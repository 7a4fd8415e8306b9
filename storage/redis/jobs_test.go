package redis

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/schedule"
	goredis "github.com/redis/go-redis/v9"
)

// TestClaimKindsPastBrokenJob: a job whose stored JSON does not decode
// does not keep the good jobs leased with it from their runner, and the
// claim's error names it.
func TestClaimKindsPastBrokenJob(t *testing.T) {
	requireRedis(t)
	ctx := t.Context()
	s := newStore(t)
	jobs := s.Jobs()
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	for _, j := range []schedule.Job{
		{ID: "a", Kind: "poll.close", Due: now.Add(-3 * time.Second)},
		{ID: "broken", Kind: "poll.close", Due: now.Add(-2 * time.Second)},
		{ID: "c", Kind: "live.render", Due: now.Add(-time.Second)},
	} {
		if err := jobs.Put(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.c.HSet(ctx, s.jobKeys()[kJob], "broken", `{"id":"broken","kind":`).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := jobs.ClaimKinds(ctx, now, "A", time.Minute, 10, map[string]int{"poll.close": 2, "live.render": 1})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("ClaimKinds error = %v, want one naming the broken job", err)
	}
	if ids := claimedIDs(got); strings.Join(ids, " ") != "a c" {
		t.Errorf("ClaimKinds returned %v, want the good jobs a and c", ids)
	}
}

func claimedIDs(jobs []schedule.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// TestJobsMigrate: jobs written by a kring from before the per-kind sets
// (one sorted set {jobs}:due for all kinds, the job JSON, the leases) are
// all found by the first claim, in due order, once, with their kinds'
// caps and their leases kept; a broken one is reported, and Put, Done and
// Cancel work on the moved jobs.
func TestJobsMigrate(t *testing.T) {
	requireRedis(t)
	ctx := t.Context()
	s := newStore(t)
	jobs := s.Jobs()
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	p := s.prefix + "{jobs}:"
	const n = 2*jobMigrateBatch + 7 // more than one batch
	// want is the first claim's order: when each job became claimable,
	// its due time or the end of a lease that ran out later.
	type claimable struct {
		id string
		at time.Time
	}
	var order []claimable
	for i := range n {
		kind := "meeting.remind"
		if i%3 == 0 {
			kind = "poll.close"
		}
		j := schedule.Job{ID: fmt.Sprintf("j%05d", i), Kind: kind, Due: now.Add(time.Duration(i-n) * time.Second)}
		v, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		pipe := s.c.TxPipeline()
		pipe.ZAdd(ctx, p+"due", goredisZ(micros(j.Due), j.ID))
		pipe.HSet(ctx, p+"job", j.ID, v)
		switch i {
		case 5: // leased by a live owner: not claimable until its lease ends
			pipe.HSet(ctx, p+"lease", j.ID, fmt.Sprintf("%d old", micros(now.Add(time.Minute))))
		case 6: // a lease that ran out: claimable, and still old's to extend
			pipe.HSet(ctx, p+"lease", j.ID, fmt.Sprintf("%d old", micros(now.Add(-time.Minute))))
		}
		at := j.Due
		if i == 6 {
			at = now.Add(-time.Minute)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if i != 5 {
			order = append(order, claimable{j.ID, at})
		}
	}
	slices.SortStableFunc(order, func(a, b claimable) int { return a.at.Compare(b.at) })
	var want []string
	for _, c := range order {
		want = append(want, c.id)
	}
	if err := s.c.ZAdd(ctx, p+"due", goredisZ(micros(now.Add(-time.Hour)), "broken")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.c.HSet(ctx, p+"job", "broken", `{"id":"broken","kind":`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.c.ZAdd(ctx, p+"due", goredisZ(micros(now.Add(-time.Hour)), "lost")).Err(); err != nil {
		t.Fatal(err)
	}

	j6 := schedule.Job{ID: "j00006", Kind: "poll.close", Due: now.Add(time.Duration(6-n) * time.Second)}
	got, err := jobs.ClaimKinds(ctx, now, "A", time.Hour, n, map[string]int{"poll.close": n})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("first claim's error = %v, want one naming the broken job", err)
	}
	checkOrder(t, "first claim", claimedIDs(got), want)
	if got, err := jobs.Claim(ctx, now, "B", time.Hour, n); err != nil || len(got) != 0 {
		t.Errorf("second claim = %v, %v; want nothing", claimedIDs(got), err)
	}
	if held, err := jobs.Extend(ctx, j6, "old", now.Add(2*time.Hour)); err != nil || held {
		t.Errorf("old owner's Extend of a job A claimed = %t, %v; want false", held, err)
	}
	if held, err := jobs.Extend(ctx, j6, "A", now.Add(2*time.Hour)); err != nil || !held {
		t.Errorf("A's Extend = %t, %v; want true", held, err)
	}
	if n, err := s.c.Exists(ctx, p+"due").Result(); err != nil || n != 0 {
		t.Errorf("the old sorted set is left: %d, %v", n, err)
	}
	// The leased one comes free when its lease ends.
	later := now.Add(time.Minute)
	got, err = jobs.Claim(ctx, later, "B", time.Hour, n)
	if err != nil {
		t.Fatal(err)
	}
	if ids := claimedIDs(got); !slices.Equal(ids, []string{"j00005"}) {
		t.Errorf("claim when the old lease ended: %v, want [j00005]", ids)
	}
	for _, j := range got {
		if err := jobs.Done(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := jobs.Cancel(ctx, "j00000"); err != nil {
		t.Fatal(err)
	}
	moved := schedule.Job{ID: "j00001", Kind: "poll.close", Due: now.Add(3 * time.Hour)}
	if err := jobs.Put(ctx, moved); err != nil {
		t.Fatal(err)
	}
	// At +3h every lease has ended: A's claim's first (ordered by the
	// lease's end, then id), then j00006 (extended), then the moved job.
	var wantPoll []string
	for i := 3; i < n; i += 3 {
		if i != 6 {
			wantPoll = append(wantPoll, fmt.Sprintf("j%05d", i))
		}
	}
	wantPoll = append(wantPoll, "j00006", "j00001")
	got, err = jobs.ClaimKinds(ctx, now.Add(3*time.Hour), "C", time.Hour, n, map[string]int{"meeting.remind": 0, "": 0})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, "claim of poll.close at +3h", claimedIDs(got), wantPoll)
}

// checkOrder reports the first difference of two long lists of ids.
func checkOrder(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s: job %d is %s, want %s", what, i, got[i], want[i])
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d jobs, want %d", what, len(got), len(want))
	}
}

func goredisZ(score int64, member string) goredis.Z {
	return goredis.Z{Score: float64(score), Member: member}
}
