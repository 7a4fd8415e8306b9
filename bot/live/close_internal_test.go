package live

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

type countingPoster struct {
	bot.Poster
	updates atomic.Int64
}

func (p *countingPoster) Update(context.Context, bot.Ref, bot.Message) error {
	p.updates.Add(1)
	return nil
}

type countingJobs struct {
	schedule.Store
	puts atomic.Int64
}

func (j *countingJobs) Put(context.Context, schedule.Job) error {
	j.puts.Add(1)
	return nil
}

// TestCloseCoversTimersThatFired: a render or a durable put whose timer
// has fired, but whose function has not yet taken the lock when Close
// does, finds Messages stopped and does nothing; Close must do it then.
// The state is made by hand: a timer stopped already answers Stop with
// false, as one that fired does.
func TestCloseCoversTimersThatFired(t *testing.T) {
	p, jobs := &countingPoster{}, &countingJobs{}
	m := New(Config{Poster: p, Jobs: jobs})
	m.Handle("tel", func(context.Context, string) (bot.Ref, bot.Message, error) {
		return bot.Ref{ID: "m1"}, *bot.TextMessage("3"), nil
	}, nil)
	fired := func() *time.Timer {
		tm := time.AfterFunc(time.Hour, func() {})
		tm.Stop()
		return tm
	}
	m.msgs["tel:a"] = &message{timer: fired(), putTimer: fired()}
	m.Close()
	if n := p.updates.Load(); n != 1 {
		t.Errorf("%d updates on Close, want the final render of the message whose render timer fired", n)
	}
	if n := jobs.puts.Load(); n != 1 {
		t.Errorf("%d durable renders put on Close, want the one whose timer fired", n)
	}
}
