package storagetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

// BenchPollID is the poll the vote benchmarks vote on.
const BenchPollID = "bench"

// CreateBenchPoll stores the five-option poll the vote benchmarks use.
func CreateBenchPoll(tb testing.TB, s poll.Store, anonymous bool) {
	tb.Helper()
	p := &poll.Poll{
		ID: BenchPollID, Where: bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"},
		Question: "Lunch?", MaxVotes: 1, Anonymous: anonymous, Created: time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC),
		Options: []poll.Option{{Label: "Pizza"}, {Label: "Soep"}, {Label: "Salade"}, {Label: "Broodjes"}, {Label: "Sushi"}},
	}
	if err := s.Create(tb.Context(), p); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkVote casts votes one at a time, each by a new voter, on a fresh
// bench poll, and returns how many it cast.
func BenchmarkVote(b *testing.B, s poll.Store) int {
	CreateBenchPoll(b, s, false)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Vote(ctx, s, BenchPollID, fmt.Sprintf("U%010d", i), "Anne de Vries", i%5); err != nil {
			b.Fatal(err)
		}
		i++
	}
	return i
}

// BenchmarkVoteParallel casts votes from many goroutines at once, as a
// burst of people clicking does, and returns how many it cast.
func BenchmarkVoteParallel(b *testing.B, s poll.Store) int {
	CreateBenchPoll(b, s, false)
	ctx := b.Context()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // voters are people clicking, not CPU-bound work
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := Vote(ctx, s, BenchPollID, fmt.Sprintf("U%010d", i), "Anne de Vries", int(i%5)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return int(n.Load())
}

// BenchmarkTally reads the tally of a bench poll with n voters: what one
// render of its message costs in the store. It should not grow with n.
func BenchmarkTally(b *testing.B, newStore func(b *testing.B) poll.Store, sizes ...int) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("voters=%d", n), func(b *testing.B) {
			s := newStore(b)
			CreateBenchPoll(b, s, false)
			fillBenchPoll(b, s, n)
			b.ResetTimer()
			for b.Loop() {
				_, t, err := s.Tally(b.Context(), BenchPollID)
				if err != nil || t.Voters != n {
					b.Fatalf("tally: %d voters, %v; want %d", t.Voters, err, n)
				}
			}
		})
	}
}

// fillBenchPoll has n voters click on the bench poll, 64 at a time.
func fillBenchPoll(b *testing.B, s poll.Store, n int) {
	b.Helper()
	var next atomic.Int64
	errs := make(chan error, 64)
	for range 64 {
		go func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					errs <- nil
					return
				}
				if _, err := Vote(b.Context(), s, BenchPollID, fmt.Sprintf("U%010d", i), "Anne de Vries", int(i%5)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
