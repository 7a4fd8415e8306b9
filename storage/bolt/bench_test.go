package bolt_test

import (
	"testing"

	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/storagetest"
)

// BenchmarkVote is one voter at a time: each vote is its own transaction
// and fsync.
func BenchmarkVote(b *testing.B) { storagetest.BenchmarkVote(b, open(b).Polls()) }

// BenchmarkVoteParallel is many voters at once: votes share batches.
func BenchmarkVoteParallel(b *testing.B) { storagetest.BenchmarkVoteParallel(b, open(b).Polls()) }

// BenchmarkTally is one render's read of a poll with many voters.
func BenchmarkTally(b *testing.B) {
	storagetest.BenchmarkTally(b, func(b *testing.B) poll.Store { return open(b).Polls() }, 100, 10_000, 100_000)
}

// BenchmarkRSVP is one person at a time answering a meeting.
func BenchmarkRSVP(b *testing.B) { storagetest.BenchmarkRSVP(b, open(b).Meetings()) }

// BenchmarkRSVPParallel is many people at once: clicks share batches.
func BenchmarkRSVPParallel(b *testing.B) { storagetest.BenchmarkRSVPParallel(b, open(b).Meetings()) }
