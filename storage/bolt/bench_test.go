package bolt_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

func benchPoll(b *testing.B, s poll.Store) {
	b.Helper()
	p := &poll.Poll{
		ID: "bench", Where: bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"},
		Question: "Lunch?", MaxVotes: 1, Created: time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC),
		Options: []poll.Option{{Label: "Pizza"}, {Label: "Soep"}, {Label: "Salade"}, {Label: "Broodjes"}, {Label: "Sushi"}},
	}
	if err := s.Create(b.Context(), p); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVote is one voter at a time: each vote is its own transaction
// and fsync.
func BenchmarkVote(b *testing.B) {
	s := open(b).Polls()
	benchPoll(b, s)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Vote(ctx, "bench", fmt.Sprintf("U%010d", i), "Anne de Vries", i%5); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVoteParallel is many voters at once: votes share batches.
func BenchmarkVoteParallel(b *testing.B) {
	s := open(b).Polls()
	benchPoll(b, s)
	ctx := b.Context()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // voters are people clicking, not CPU-bound work
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Vote(ctx, "bench", fmt.Sprintf("U%010d", i), "Anne de Vries", int(i%5)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
