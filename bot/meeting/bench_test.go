package meeting_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// The reminder benchmarks run on the test Redis (db 15, under a key
// prefix of their own) with one or two "processes" as the tests above
// build them: each its own Redis client, meeting feature and job runner,
// with kring serve's runner settings (schedule.DefaultLimit reminder
// jobs at once per process). The Poster answers at once, so what is
// measured is kring and Redis, not a chat platform.

// BenchmarkRemindersRedis measures reminders claimed and sent per second:
// b.N meetings, each with one Ja answer, whose reminders are all due at
// once, run by one process and by two. ns/op is per reminder (one job,
// one DM).
//
//	go test -run '^$' -bench BenchmarkRemindersRedis -benchtime 5000x ./bot/meeting/
func BenchmarkRemindersRedis(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("runners=%d", n), func(b *testing.B) {
			open := scaleRedis(b)
			clock := bottest.NewClock(scaleT0.Add(-2 * time.Hour))
			log := newDMLog(clock)
			var procs []*proc
			for i := range n {
				procs = append(procs, newProc(b, fmt.Sprintf("kring%c", 'A'+i), open, clock, log, nil))
			}
			plans := spread(b.N, scaleT0, 0, 1)
			plant(b, procs[0], clock.Now(), plans)
			clock.Advance(scaleT0.Sub(clock.Now()))
			ctx := context.Background()

			b.ResetTimer()
			var wg sync.WaitGroup
			for _, p := range procs {
				wg.Go(func() {
					if _, err := p.runner.RunDue(ctx); err != nil {
						b.Errorf("%s: %v", p.name, err)
					}
				})
			}
			wg.Wait()
			b.StopTimer()

			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reminders/s")
			checkOnce(b, log, plans, false)
		})
	}
}

// checkOnce fails b if a planned reminder DM went out more than once, or,
// unless some were left unsent on purpose, not at all.
func checkOnce(b *testing.B, log *dmLog, plans []plan, unsentOK bool) {
	b.Helper()
	log.mu.Lock()
	defer log.mu.Unlock()
	got := map[string]int{}
	for k, sent := range log.sent {
		got[k.meeting+" "+k.user] += len(sent)
	}
	twice, never := 0, 0
	for _, pl := range plans {
		for _, u := range pl.yes {
			switch got[pl.id+" "+u] {
			case 0:
				never++
			case 1:
			default:
				twice++
			}
		}
	}
	if twice > 0 || never > 0 && !unsentOK {
		b.Errorf("of %d reminders %d were sent more than once and %d never", len(plans), twice, never)
	}
}

// paceClock runs at the wall clock's pace from the instant from, which
// it stood at when started: the planted meetings keep fixed instants,
// and lateness is measured in real time.
type paceClock struct {
	from  time.Time
	start time.Time
}

func (c paceClock) Now() time.Time { return c.from.Add(time.Since(c.start)) }

var _ bot.Clock = paceClock{}

// BenchmarkReminderLatenessRedis measures how late reminders go out when
// n of them fall due evenly over one minute (the 100,000: 1,667 a
// second; and 10,000) and two processes run them as kring serve does
// (Runner.Run with a 1 s tick), on a clock that runs in real time: for
// each DM, the time it was sent minus its reminder's instant. It reports
// p50, p99 and the largest in ms, and when the last DM went out, in
// seconds after the first reminder was due (60 when kring keeps up).
//
// It stops waiting two minutes after the last reminder was due: the
// reminders not sent by then are reported as unsent, and count in the
// percentiles as late as that cutoff (so those are lower bounds then).
// Planting the meetings takes longer than the run.
//
//	go test -run '^$' -bench BenchmarkReminderLatenessRedis -benchtime 1x -timeout 30m ./bot/meeting/
func BenchmarkReminderLatenessRedis(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("reminders=%d", n), func(b *testing.B) { benchLateness(b, n) })
	}
}

func benchLateness(b *testing.B, n int) {
	const cutoff = 2 * time.Minute
	open := scaleRedis(b)
	planted := scaleT0.Add(-2 * time.Hour)
	log := newDMLog(paceClock{from: planted, start: time.Now()})
	plans := spread(n, scaleT0, time.Minute, 1)
	due := make(map[string]time.Time, len(plans))
	for _, pl := range plans {
		due[pl.id] = pl.due
	}
	// The clock starts a second before the first reminder is due, once
	// the meetings are in the store.
	var clock paceClock
	var procs []*proc
	for _, name := range []string{"kringA", "kringB"} {
		procs = append(procs, newProc(b, name, open, &clock, log, nil))
	}
	plant(b, procs[0], planted, plans)

	var (
		mu   sync.Mutex
		late = make([]time.Duration, 0, len(plans))
		sent atomic.Int64
		all  = make(chan struct{})
	)
	for _, p := range procs {
		p.poster.hook = func(_, id string) {
			now := clock.Now()
			mu.Lock()
			late = append(late, now.Sub(due[id]))
			mu.Unlock()
			if sent.Add(1) == int64(len(plans)) {
				close(all)
			}
		}
	}
	clock = paceClock{from: scaleT0.Add(-time.Second), start: time.Now()}
	log.clock = clock
	lastDue := plans[len(plans)-1].due

	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.runner.Run(ctx, time.Second) })
	}
	select {
	case <-all:
	case <-time.After(lastDue.Add(cutoff).Sub(clock.Now())):
	}
	lastAt := clock.Now()
	cancel()
	wg.Wait()
	stop, done := context.WithTimeout(context.Background(), time.Minute)
	defer done()
	for _, p := range procs {
		if err := p.runner.Close(stop); err != nil {
			b.Log(err)
		}
	}
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	unsent := len(plans) - len(late)
	dist := slices.Clone(late)
	for range max(unsent, 0) {
		dist = append(dist, lastAt.Sub(lastDue))
	}
	slices.Sort(dist)
	pct := func(q float64) time.Duration { return dist[int(q*float64(len(dist)-1))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(dist[len(dist)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(lastAt.Sub(scaleT0).Seconds(), "last-s")
	b.ReportMetric(float64(unsent), "unsent")
	checkOnce(b, log, plans, unsent > 0)
}

// BenchmarkReminderClaimRedis measures one claim by a runner whose
// reminder slots are all taken while backlog reminder jobs are due: the
// runner asks for jobs of its other kinds (kring serve's: polls, live
// messages, notices), so the claim reads past every due reminder for
// them. ns/op is one claim; it finds nothing.
//
//	go test -run '^$' -bench BenchmarkReminderClaimRedis -benchtime 20x ./bot/meeting/
func BenchmarkReminderClaimRedis(b *testing.B) {
	for _, backlog := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			open := scaleRedis(b)
			jobs := open().Jobs()
			ctx := context.Background()
			work := make(chan int)
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for i := range work {
						if err := jobs.Put(ctx, reminderJob(fmt.Sprintf("c%06d", i), scaleT0, scaleT0.Add(-time.Hour))); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for i := range backlog {
				work <- i
			}
			close(work)
			wg.Wait()
			perKind := map[string]int{
				"meeting.remind": 0, "meeting.notice": 4, "live.render": 4,
				"poll.close": 4, "poll.notice": 4, "poll.nudge": 4,
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := jobs.ClaimKinds(ctx, scaleT0, "full", time.Minute, 12, perKind)
				if err != nil || len(got) != 0 {
					b.Fatalf("claim: %d jobs, %v", len(got), err)
				}
			}
		})
	}
}
