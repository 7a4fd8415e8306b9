package redis

import (
	"fmt"
	"testing"

	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/storagetest"
)

// reportBytesPerVote reports the votes hash's memory over its ballots.
func reportBytesPerVote(b *testing.B, s *Store, votes int) {
	used, err := s.c.MemoryUsage(b.Context(), s.votesKey(storagetest.BenchPollID), 0).Result()
	if err != nil {
		b.Fatalf("MEMORY USAGE: %v", err)
	}
	b.ReportMetric(float64(used)/float64(votes), "B/vote")
}

// BenchmarkVote is one voter at a time: one EVALSHA round trip a vote.
func BenchmarkVote(b *testing.B) {
	requireRedis(b)
	s := newStore(b)
	reportBytesPerVote(b, s, storagetest.BenchmarkVote(b, s.Polls()))
}

// BenchmarkVoteParallel is many voters at once, overlapping round trips.
func BenchmarkVoteParallel(b *testing.B) {
	requireRedis(b)
	s := newStore(b)
	reportBytesPerVote(b, s, storagetest.BenchmarkVoteParallel(b, s.Polls()))
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
		storagetest.CreateBenchPoll(t, polls, c.anonymous)
		for i := range c.voters {
			voter, name := fmt.Sprintf("U%010d", i), "Anne de Vries"
			if c.anonymous {
				voter, name = fmt.Sprintf("%032x", i*7919), ""
			}
			if _, err := storagetest.Vote(t.Context(), polls, storagetest.BenchPollID, voter, name, i%5); err != nil {
				t.Fatal(err)
			}
		}
		used, err := s.c.MemoryUsage(t.Context(), s.votesKey(storagetest.BenchPollID), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%4d voters, anonymous %-5t: %6d bytes, %5.1f bytes per vote", c.voters, c.anonymous, used, float64(used)/float64(c.voters))
	}
}

// BenchmarkTally is one render's read of a poll with many voters.
func BenchmarkTally(b *testing.B) {
	requireRedis(b)
	storagetest.BenchmarkTally(b, func(b *testing.B) poll.Store { return newStore(b).Polls() }, 100, 10_000, 100_000)
}

// BenchmarkRSVP is one person at a time answering a meeting: a Yes or
// Maybe costs two round trips (the attending set, then the script), a No
// one.
func BenchmarkRSVP(b *testing.B) {
	requireRedis(b)
	storagetest.BenchmarkRSVP(b, newStore(b).Meetings())
}

// BenchmarkRSVPParallel is many people at once, overlapping round trips.
func BenchmarkRSVPParallel(b *testing.B) {
	requireRedis(b)
	storagetest.BenchmarkRSVPParallel(b, newStore(b).Meetings())
}
