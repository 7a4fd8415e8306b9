package redis

import (
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/schedule"
)

// TestClaimKindsPastBrokenJob: a job whose stored JSON does not decode
// neither stops the claim script (which reads each job's kind) nor keeps
// the good jobs leased with it from their runner.
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
	if err := s.c.HSet(ctx, s.jobKeys()[1], "broken", `{"id":"broken","kind":`).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := jobs.ClaimKinds(ctx, now, "A", time.Minute, 10, map[string]int{"poll.close": 1, "live.render": 1})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("ClaimKinds error = %v, want one naming the broken job", err)
	}
	var ids []string
	for _, j := range got {
		ids = append(ids, j.ID)
	}
	if strings.Join(ids, " ") != "a c" {
		t.Errorf("ClaimKinds returned %v, want the good jobs a and c", ids)
	}
}
