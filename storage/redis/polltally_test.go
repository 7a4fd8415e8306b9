package redis

import (
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/storagetest"
)

// A poll stored before tallies existed has ballots and no tally: the first
// read or click builds it, once, from the ballots.
func TestTallyBuiltForOlderPolls(t *testing.T) {
	requireRedis(t)
	s := newStore(t)
	ctx := t.Context()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	p := &poll.Poll{ID: "old", Where: where, MaxVotes: 1, Created: time.Now(), Options: []poll.Option{{Label: "A"}, {Label: "B"}}}
	if err := s.Polls().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"U1", "U2", "U3"} {
		if _, err := storagetest.Vote(ctx, s.Polls(), "old", v, "Name of "+v, 1); err != nil {
			t.Fatal(err)
		}
	}
	// As an older kring left it: no tally, no flag fields.
	if err := s.c.Del(ctx, s.tallyKey("old")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.c.HDel(ctx, s.pollKey("old"), "anonymous", "hidden", "tallied").Err(); err != nil {
		t.Fatal(err)
	}
	_, tl, err := s.Polls().Tally(ctx, "old")
	if err != nil || tl.Voters != 3 || tl.Counts[1] != 3 || len(tl.Names[1]) != 3 {
		t.Fatalf("tally of an older poll: %+v, %v", tl, err)
	}
	// An older kring wrote every ballot as an object, a nameless one too.
	if err := s.c.HSet(ctx, s.votesKey("old"), "anon:older", `{"options":[0]}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Del(ctx, s.tallyKey("old")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.c.HDel(ctx, s.pollKey("old"), "tallied").Err(); err != nil {
		t.Fatal(err)
	}
	if _, ballots, err := s.Polls().Get(ctx, "old"); err != nil || len(ballots) != 4 {
		t.Fatalf("ballots in both forms: %+v, %v", ballots, err)
	}
	if _, err := storagetest.Vote(ctx, s.Polls(), "old", "U4", "Name of U4", 0); err != nil {
		t.Fatal(err)
	}
	_, tl, err = s.Polls().Tally(ctx, "old")
	if err != nil || tl.Voters != 5 || tl.Counts[0] != 2 || tl.Counts[1] != 3 {
		t.Fatalf("tally after a click on an older poll: %+v, %v", tl, err)
	}
}
