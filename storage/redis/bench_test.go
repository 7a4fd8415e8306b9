package redis

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

func benchPoll(tb testing.TB, s poll.Store, anonymous bool) {
	tb.Helper()
	p := &poll.Poll{
		ID: "bench", Where: bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"},
		Question: "Lunch?", MaxVotes: 1, Anonymous: anonymous, Created: time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC),
		Options: []poll.Option{{Label: "Pizza"}, {Label: "Soep"}, {Label: "Salade"}, {Label: "Broodjes"}, {Label: "Sushi"}},
	}
	if err := s.Create(tb.Context(), p); err != nil {
		tb.Fatal(err)
	}
}

// reportBytesPerVote reports the votes hash's memory over its ballots.
func reportBytesPerVote(b *testing.B, s *Store, votes int) {
	used, err := s.c.MemoryUsage(b.Context(), s.votesKey("bench"), 0).Result()
	if err != nil {
		b.Fatalf("MEMORY USAGE: %v", err)
	}
	b.ReportMetric(float64(used)/float64(votes), "B/vote")
}

func BenchmarkVote(b *testing.B) {
	requireRedis(b)
	s := newStore(b)
	polls := s.Polls()
	benchPoll(b, polls, false)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := polls.Vote(ctx, "bench", fmt.Sprintf("U%010d", i), "Anne de Vries", i%5); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportBytesPerVote(b, s, i)
}

func BenchmarkVoteParallel(b *testing.B) {
	requireRedis(b)
	s := newStore(b)
	polls := s.Polls()
	benchPoll(b, polls, false)
	ctx := b.Context()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := polls.Vote(ctx, "bench", fmt.Sprintf("U%010d", i), "Anne de Vries", int(i%5)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportBytesPerVote(b, s, int(n.Load()))
}

// TestBytesPerVote logs what a ballot costs in Redis memory, for a small
// poll (a compact listpack hash) and a large one (a hash table), named
// and anonymous (a keyed hash of the user id and no name).
func TestBytesPerVote(t *testing.T) {
	requireRedis(t)
	for _, c := range []struct {
		voters    int
		anonymous bool
	}{{50, false}, {50, true}, {1000, false}, {1000, true}} {
		s := newStore(t)
		polls := s.Polls()
		benchPoll(t, polls, c.anonymous)
		for i := range c.voters {
			voter, name := fmt.Sprintf("U%010d", i), "Anne de Vries"
			if c.anonymous {
				voter, name = fmt.Sprintf("%032x", i*7919), ""
			}
			if _, err := polls.Vote(t.Context(), "bench", voter, name, i%5); err != nil {
				t.Fatal(err)
			}
		}
		used, err := s.c.MemoryUsage(t.Context(), s.votesKey("bench"), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%4d voters, anonymous %-5t: %6d bytes, %5.1f bytes per vote", c.voters, c.anonymous, used, float64(used)/float64(c.voters))
	}
}
