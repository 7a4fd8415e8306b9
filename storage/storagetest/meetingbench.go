package storagetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
)

// BenchMeetingID is the meeting the RSVP benchmarks answer.
const BenchMeetingID = "benchmeeting"

var benchAnswers = [3]meeting.Answer{meeting.Yes, meeting.Maybe, meeting.No}

func createBenchMeeting(b *testing.B, s meeting.Store) {
	b.Helper()
	m := newMeeting(BenchMeetingID, t0)
	m.RRule = "FREQ=MONTHLY;BYDAY=+3TH"
	m.Remind = []time.Duration{24 * time.Hour, time.Hour}
	if err := s.Create(b.Context(), m); err != nil {
		b.Fatal(err)
	}
}

// benchRSVP is click i: a new person each time, with a delivery key, as a
// click through the Mux comes.
func benchRSVP(b *testing.B, s meeting.Store, i int64) error {
	_, err := s.Click(b.Context(), meeting.Click{
		Meeting: BenchMeetingID, Channel: channelA, User: fmt.Sprintf("U%010d", i), Name: "Anne de Vries",
		Answer: benchAnswers[i%3], At: t0, Delivery: fmt.Sprintf("d%d", i),
		Ref: bot.Ref{Where: channelA, ID: "msg-1"},
	})
	return err
}

// BenchmarkRSVP answers a meeting one click at a time, each by a new
// person, and returns how many clicked.
func BenchmarkRSVP(b *testing.B, s meeting.Store) int {
	createBenchMeeting(b, s)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		if err := benchRSVP(b, s, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
	return int(i)
}

// BenchmarkRSVPParallel answers a meeting from many goroutines at once,
// as a channel does when the meeting is posted, and returns how many
// clicked.
func BenchmarkRSVPParallel(b *testing.B, s meeting.Store) int {
	createBenchMeeting(b, s)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // people clicking, not CPU-bound work
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchRSVP(b, s, n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return int(n.Load())
}
