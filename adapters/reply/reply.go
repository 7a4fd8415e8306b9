// Package reply answers a chat platform's request within the platform's
// deadline, once for every adapter. Slack and Mattermost both drop a
// request that is not answered within three seconds; the work behind it
// may take longer (a post waiting for its channel's pace, a store giving
// up on its own timeout). A Runner waits for the work until the deadline:
// what is done by then goes in the answer, and what is not is acknowledged
// empty and delivered later, another way.
package reply

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kringbot/kring/bot"
)

// Defaults of a Runner.
const (
	// DefaultWithin is how long a request may take before it is
	// acknowledged empty: within the platforms' three seconds, with room
	// for the answer's way back.
	DefaultWithin = 2500 * time.Millisecond
	// DefaultWork bounds the work behind one request, answered in time or
	// late, and a late reply's delivery.
	DefaultWork = 30 * time.Second
)

// Runner runs the work behind requests and owns it: Close waits for what
// is still running, late replies included.
type Runner struct {
	within time.Duration
	work   time.Duration

	ctx    context.Context // the life of the work; Close ends it
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Runner that answers within within (0: DefaultWithin) and
// gives the work behind a request work (0: DefaultWork).
func New(within, work time.Duration) *Runner {
	if within <= 0 {
		within = DefaultWithin
	}
	if work <= 0 {
		work = DefaultWork
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{within: within, work: work, ctx: ctx, cancel: cancel}
}

// Within is how long a request may take before it is acknowledged empty.
func (r *Runner) Within() time.Duration { return r.within }

// Answer runs serve in the background and waits for it until Within has
// passed since arrived (when the request came in) or reqCtx ends (the
// platform hung up). When serve answers by then, Answer returns its reply
// and true. Otherwise it returns false at once, whatever serve is waiting
// for, and late gets the reply when serve returns, with a context of its
// own: a reply to a request whose work ran out of time (a store that
// timed out: "try again") must still reach the user.
//
// serve's context ends after the Runner's work time, not at the deadline:
// a store or platform that hangs is bounded by its own timeouts, which
// the Mux turns into "probeer het zo opnieuw", and work that is merely
// slow still finishes and answers late.
func (r *Runner) Answer(reqCtx context.Context, arrived time.Time, serve func(context.Context) bot.Reply, late func(context.Context, bot.Reply)) (bot.Reply, bool) {
	const (
		waiting = iota
		inTime
		gaveUp
	)
	var state atomic.Int32
	done := make(chan bot.Reply, 1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(r.ctx, r.work)
		reply := serve(ctx)
		cancel()
		if state.CompareAndSwap(waiting, inTime) {
			done <- reply
			return
		}
		ctx, cancel = context.WithTimeout(r.ctx, r.work)
		defer cancel()
		late(ctx, reply)
	}()
	t := time.NewTimer(time.Until(arrived.Add(r.within)))
	defer t.Stop()
	select {
	case reply := <-done:
		return reply, true
	case <-t.C:
	case <-reqCtx.Done():
	}
	if state.CompareAndSwap(waiting, gaveUp) {
		return bot.Reply{}, false
	}
	return <-done, true // serve answered as the deadline came
}

// Inline is Answer for the busiest requests, a click on a poll: serve runs
// in the caller's goroutine, so a request that is answered in time, as
// nearly all are, costs no goroutine, no hand-over between two and no
// stack grown anew. When serve has not returned by Within after arrived,
// or reqCtx ends first, ack acknowledges the request empty, once, from a
// timer's goroutine, while serve goes on; when serve returns, late gets
// its reply and Inline reports false. After false the caller writes
// nothing: ack has answered. ack has returned before Inline does, so it
// may use the request's ResponseWriter.
func (r *Runner) Inline(reqCtx context.Context, arrived time.Time, serve func(context.Context) bot.Reply, ack func(), late func(context.Context, bot.Reply)) (bot.Reply, bool) {
	r.wg.Add(1)
	defer r.wg.Done()
	const (
		waiting = iota
		inTime
		gaveUp
	)
	var (
		mu    sync.Mutex // held while ack runs, so Inline returns after it
		state = waiting
	)
	giveUp := func() {
		mu.Lock()
		defer mu.Unlock()
		if state == waiting {
			state = gaveUp
			ack()
		}
	}
	deadline := time.AfterFunc(time.Until(arrived.Add(r.within)), giveUp)
	stopHangUp := context.AfterFunc(reqCtx, giveUp)
	ctx, cancel := context.WithTimeout(r.ctx, r.work)
	reply := serve(ctx)
	cancel()
	deadline.Stop()
	stopHangUp()
	mu.Lock()
	answered := state == waiting
	if answered {
		state = inTime
	}
	mu.Unlock()
	if answered {
		return reply, true
	}
	ctx, cancel = context.WithTimeout(r.ctx, r.work)
	defer cancel()
	late(ctx, reply)
	return bot.Reply{}, false
}

// Serve runs serve in the caller's goroutine with the work's context, for
// a request the platform waits longer for (a dialog whose refusal must be
// in its answer). Close waits for it.
func (r *Runner) Serve(serve func(context.Context) bot.Reply) bot.Reply {
	r.wg.Add(1)
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.work)
	defer cancel()
	return serve(ctx)
}

// Go runs f in the background with the work's context (a reply sent after
// the answer, a cache filled off the request's path). Close waits for it.
func (r *Runner) Go(f func(context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(r.ctx, r.work)
		defer cancel()
		f(ctx)
	}()
}

// Close waits for the work still running, or until ctx ends, and then
// ends the context of whatever still runs.
func (r *Runner) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	defer r.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("requests still running: %w", ctx.Err())
	}
}
