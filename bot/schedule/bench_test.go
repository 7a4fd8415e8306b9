package schedule_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/schedule"
)

// BenchmarkRunDue runs 100 due jobs per op, each waiting a millisecond as
// a platform call does, one at a time (Max 1, the old runner's way) and
// with the default limits, on bolt. ns/op is the time until the last ends.
func BenchmarkRunDue(b *testing.B) {
	for _, c := range []struct {
		name  string
		max   int
		kinds int
	}{{"one-at-a-time", 1, 4}, {"default-limits/1-kind", 0, 1}, {"default-limits/4-kinds", 0, 4}} {
		b.Run(c.name, func(b *testing.B) {
			jobs := store(b)
			clock := bottest.NewClock(t0)
			r := &schedule.Runner{Store: jobs, Clock: clock, Log: quiet, Max: c.max}
			for k := range c.kinds {
				r.Handle(fmt.Sprint("kind", k), func(context.Context, schedule.Job) error {
					time.Sleep(time.Millisecond)
					return nil
				})
			}
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				for i := range 100 {
					if err := jobs.Put(ctx, schedule.Job{ID: fmt.Sprint("j", i), Kind: fmt.Sprint("kind", i%c.kinds), Due: clock.Now()}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if n, err := r.RunDue(ctx); n != 100 || err != nil {
					b.Fatalf("RunDue = %d, %v", n, err)
				}
			}
		})
	}
}
