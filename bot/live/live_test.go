package live_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

// counter is an object whose live message shows a number.
type counter struct {
	n       atomic.Int64
	renders atomic.Int64
	ref     bot.Ref
}

func (c *counter) render(context.Context, string) (bot.Ref, bot.Message, error) {
	c.renders.Add(1)
	return c.ref, *bot.TextMessage(fmt.Sprint(c.n.Load())), nil
}

// timedPoster records when each update was sent.
type timedPoster struct {
	*bottest.Poster
	mu  sync.Mutex
	at  []time.Time
	txt []string
}

func (p *timedPoster) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	p.mu.Lock()
	p.at = append(p.at, time.Now())
	p.txt = append(p.txt, m.Text)
	p.mu.Unlock()
	return p.Poster.Update(ctx, ref, m)
}

var ref = bot.Ref{Where: bot.Where{Platform: bot.Shell, Channel: "c"}, ID: "m1"}

// A burst of changes is rendered at most once a second, the first at once,
// and ends on the final state; identical content is not sent again.
func TestBurstIsCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		poster := &timedPoster{Poster: bottest.NewPoster()}
		m := live.New(live.Config{Poster: poster})
		c := &counter{ref: ref}
		m.Handle("count", c.render, nil)
		start := time.Now()
		for range 250 { // 250 changes, 10 ms apart: 2.5 s
			c.n.Add(1)
			m.Changed(context.Background(), "count", "x")
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		poster.mu.Lock()
		at, txt := poster.at, poster.txt
		poster.mu.Unlock()
		if len(at) == 0 || at[0] != start {
			t.Fatalf("the first change was not rendered at once: %v", at)
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < time.Second {
				t.Errorf("updates %d and %d %v apart, want at least a second", i-1, i, gap)
			}
		}
		if len(at) > 4 {
			t.Errorf("%d updates for a 2.5 s burst, want at most 4", len(at))
		}
		if txt[len(txt)-1] != "250" {
			t.Errorf("last update shows %s, want 250", txt[len(txt)-1])
		}
		// Nothing changed since: another change with the same content
		// renders but sends nothing.
		m.Changed(context.Background(), "count", "x")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if poster.mu.Lock(); len(poster.at) != len(at) {
			t.Errorf("an identical message was sent again")
		}
		poster.mu.Unlock()
		m.Close()
	})
}

// Close sends the final state of a message whose render was still waiting.
func TestCloseRendersPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		poster := &timedPoster{Poster: bottest.NewPoster()}
		m := live.New(live.Config{Poster: poster})
		c := &counter{ref: ref}
		m.Handle("count", c.render, nil)
		c.n.Store(1)
		m.Changed(context.Background(), "count", "x")
		synctest.Wait()
		c.n.Store(2)
		m.Changed(context.Background(), "count", "x") // waits for the next second
		start := time.Now()
		m.Close()
		if time.Since(start) != 0 {
			t.Errorf("Close waited %v for the pace", time.Since(start))
		}
		if got, _ := poster.Message(ref); got.Text != "2" {
			t.Fatalf("after Close the message shows %q, want 2", got.Text)
		}
	})
}

// After a crash (the process gone, nothing rendered since the last
// change), the durable render left in the store brings the message to its
// final state when the next process's runner runs it.
func TestDurableRenderAfterCrash(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := bottest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	c := &counter{ref: ref}

	// The first process: a change, its render fails (the platform is
	// down), and then the process dies without a Close.
	down := bottest.NewPoster()
	down.Err = fmt.Errorf("platform down")
	first := live.New(live.Config{Poster: down, Jobs: db.Jobs(), Clock: clock, Inline: true})
	first.Handle("count", c.render, nil)
	c.n.Store(7)
	first.Changed(context.Background(), "count", "x")

	// The next process starts; its runner runs what is due.
	poster := bottest.NewPoster()
	runner := &schedule.Runner{Store: db.Jobs(), Clock: clock}
	next := live.New(live.Config{Poster: poster, Jobs: db.Jobs(), Clock: clock})
	defer next.Close()
	next.Handle("count", c.render, runner)
	clock.Advance(10 * time.Second)
	if n, err := runner.RunDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("ran %d jobs (%v), want the one durable render", n, err)
	}
	if got, _ := poster.Message(ref); got.Text != "7" {
		t.Fatalf("after the restart the message shows %q, want 7", got.Text)
	}
}

// A burst's last change is always followed by a durable render due after
// it, even when the puts are paced to one a second.
func TestLastChangeHasDurableRender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := &recordingJobs{}
		clock := bot.SystemClock{}
		m := live.New(live.Config{Poster: bottest.NewPoster(), Jobs: jobs, Clock: clock})
		c := &counter{ref: ref}
		m.Handle("count", c.render, nil)
		var last time.Time
		for range 35 { // 35 changes, 40 ms apart
			m.Changed(context.Background(), "count", "x")
			last = time.Now()
			time.Sleep(40 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		m.Close()
		jobs.mu.Lock()
		defer jobs.mu.Unlock()
		if len(jobs.dues) == 0 || len(jobs.dues) > 3 {
			t.Fatalf("%d puts for a 1.4 s burst, want 1 to 3", len(jobs.dues))
		}
		if final := jobs.dues[len(jobs.dues)-1]; !final.After(last) {
			t.Errorf("the last durable render is due %v, before the last change at %v", final, last)
		}
	})
}

// recordingJobs records the due times put; the rest of the Store is unused.
type recordingJobs struct {
	schedule.Store
	mu   sync.Mutex
	dues []time.Time
}

func (r *recordingJobs) Put(_ context.Context, j schedule.Job) error {
	r.mu.Lock()
	r.dues = append(r.dues, j.Due)
	r.mu.Unlock()
	return nil
}
