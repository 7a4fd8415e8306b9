package reply

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
)

func text(r bot.Reply) string {
	if r.Message == nil {
		return ""
	}
	return r.Message.Text
}

// The tests run in a testing/synctest bubble: time moves only when every
// goroutine waits, so "exactly at the deadline" is exact.

// TestAnsweredInTime: work done within the window is the answer, at once;
// late is not called.
func TestAnsweredInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		start := time.Now()
		got, inTime := r.Answer(t.Context(), start, func(ctx context.Context) bot.Reply {
			time.Sleep(time.Second) // work, in the bubble's time
			return bot.Reply{Message: bot.TextMessage("klaar")}
		}, func(context.Context, bot.Reply) { t.Error("late called for an answer in time") })
		if !inTime || text(got) != "klaar" || time.Since(start) != time.Second {
			t.Errorf("Answer = %q, %v after %v; want the reply, in time, after 1s", text(got), inTime, time.Since(start))
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLateWork: work that outlasts the window is given up on exactly when
// the window ends (counted from arrival, not from the call), and its
// reply goes to late when it comes.
func TestLateWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		arrived := time.Now()
		time.Sleep(500 * time.Millisecond) // the request was read and verified
		lateGot := make(chan string, 1)
		release := make(chan struct{})
		got, inTime := r.Answer(t.Context(), arrived, func(ctx context.Context) bot.Reply {
			<-release
			return bot.Reply{Message: bot.TextMessage("eindelijk")}
		}, func(ctx context.Context, rep bot.Reply) { lateGot <- text(rep) })
		if inTime || got.Message != nil || time.Since(arrived) != 2500*time.Millisecond {
			t.Errorf("Answer = %q, %v after %v; want nothing, not in time, at 2.5s", text(got), inTime, time.Since(arrived))
		}
		close(release)
		if s := <-lateGot; s != "eindelijk" {
			t.Errorf("late got %q", s)
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHungWorkStillAnswered: work that hangs until its context ends (a
// store that honours nothing else) gets the window's empty answer, and
// its reply, made when the work's time ran out, reaches late with a
// context that has not ended: a "try again" must still be delivered.
func TestHungWorkStillAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(time.Second, 10*time.Second)
		start := time.Now()
		var workDeadline time.Time
		type lateCall struct {
			text string
			err  error
			at   time.Time
		}
		lateGot := make(chan lateCall, 1)
		_, inTime := r.Answer(t.Context(), start, func(ctx context.Context) bot.Reply {
			workDeadline, _ = ctx.Deadline()
			<-ctx.Done()
			return bot.Reply{Message: bot.TextMessage("probeer het zo opnieuw")}
		}, func(ctx context.Context, rep bot.Reply) { lateGot <- lateCall{text(rep), ctx.Err(), time.Now()} })
		if inTime || time.Since(start) != time.Second {
			t.Errorf("answered %v after %v, want not in time after 1s", inTime, time.Since(start))
		}
		l := <-lateGot
		if l.text != "probeer het zo opnieuw" || l.err != nil || l.at.Sub(start) != 10*time.Second {
			t.Errorf("late got %q with context error %v at %v; want the reply, a live context, at the work's 10s", l.text, l.err, l.at.Sub(start))
		}
		if want := start.Add(10 * time.Second); !workDeadline.Equal(want) {
			t.Errorf("the work's deadline was %v, want the work time, %v", workDeadline.Sub(start), want.Sub(start))
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPlatformHungUp: when the platform gives up on the request (its
// context ends), Answer returns at once and the reply goes to late.
func TestPlatformHungUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		reqCtx, hangUp := context.WithCancel(t.Context())
		start := time.Now()
		time.AfterFunc(300*time.Millisecond, hangUp)
		lateGot := make(chan string, 1)
		_, inTime := r.Answer(reqCtx, start, func(ctx context.Context) bot.Reply {
			time.Sleep(time.Second)
			return bot.Reply{Message: bot.TextMessage("alsnog")}
		}, func(_ context.Context, rep bot.Reply) { lateGot <- text(rep) })
		if inTime || time.Since(start) != 300*time.Millisecond {
			t.Errorf("answered %v after %v, want not in time when the platform hung up, at 300ms", inTime, time.Since(start))
		}
		if s := <-lateGot; s != "alsnog" {
			t.Errorf("late got %q", s)
		}
		r.Close(t.Context())
	})
}

// TestCloseWaits: Close waits for work in flight and late replies, and
// gives up when its own context ends, ending the work's context.
func TestCloseWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(time.Second, time.Hour)
		delivered := false
		r.Answer(t.Context(), time.Now(), func(ctx context.Context) bot.Reply {
			time.Sleep(5 * time.Second)
			return bot.Reply{}
		}, func(context.Context, bot.Reply) { delivered = true })
		if err := r.Close(t.Context()); err != nil || !delivered {
			t.Errorf("Close = %v, late delivered %v; want nil after the late reply", err, delivered)
		}

		r = New(time.Second, time.Hour)
		ended := make(chan error, 1)
		r.Go(func(ctx context.Context) {
			<-ctx.Done()
			ended <- ctx.Err()
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := r.Close(ctx); err == nil {
			t.Error("Close returned nil with work still running")
		}
		if err := <-ended; err != context.Canceled {
			t.Errorf("the work's context ended with %v, want canceled by Close", err)
		}
	})
}

// TestServe runs in the caller's goroutine with the work's time.
func TestServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(time.Second, 7*time.Second)
		start := time.Now()
		got := r.Serve(func(ctx context.Context) bot.Reply {
			d, _ := ctx.Deadline()
			return bot.Reply{Message: bot.TextMessage(d.Sub(start).String())}
		})
		if text(got) != "7s" {
			t.Errorf("Serve's context deadline after %s, want 7s", text(got))
		}
		r.Close(t.Context())
	})
}

// TestInlineInTime: Inline answers with serve's reply, run in the
// caller's goroutine; ack and late are not called.
func TestInlineInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		start := time.Now()
		got, inTime := r.Inline(t.Context(), start, func(ctx context.Context) bot.Reply {
			time.Sleep(time.Second)
			return bot.Reply{Message: bot.TextMessage("klaar")}
		}, func() { t.Error("ack called for an answer in time") },
			func(context.Context, bot.Reply) { t.Error("late called for an answer in time") })
		if !inTime || text(got) != "klaar" || time.Since(start) != time.Second {
			t.Errorf("Inline = %q, %v after %v; want the reply, in time, after 1s", text(got), inTime, time.Since(start))
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInlineLate: work that outlasts the window is acknowledged exactly
// when the window ends, while it goes on; its reply then goes to late and
// Inline reports false, after ack has returned.
func TestInlineLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		arrived := time.Now()
		time.Sleep(500 * time.Millisecond)
		var ackedAt time.Duration
		acks, lates := 0, ""
		got, inTime := r.Inline(t.Context(), arrived, func(ctx context.Context) bot.Reply {
			time.Sleep(4 * time.Second)
			return bot.Reply{Message: bot.TextMessage("eindelijk")}
		}, func() {
			acks++
			ackedAt = time.Since(arrived)
		}, func(ctx context.Context, rep bot.Reply) { lates = text(rep) })
		if inTime || got.Message != nil {
			t.Errorf("Inline = %q, %v; want nothing, not in time", text(got), inTime)
		}
		if acks != 1 || ackedAt != 2500*time.Millisecond {
			t.Errorf("ack called %d times, at %v; want once, at 2.5s", acks, ackedAt)
		}
		if lates != "eindelijk" || time.Since(arrived) != 4500*time.Millisecond {
			t.Errorf("late got %q at %v; want the reply at 4.5s", lates, time.Since(arrived))
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInlineHangUp: when the platform hangs up before the window ends, the
// request is acknowledged at once and the reply goes to late.
func TestInlineHangUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(2500*time.Millisecond, 0)
		reqCtx, hangUp := context.WithCancel(t.Context())
		start := time.Now()
		var ackedAt time.Duration = -1
		lates := ""
		_, inTime := r.Inline(reqCtx, start, func(ctx context.Context) bot.Reply {
			time.Sleep(100 * time.Millisecond)
			hangUp()
			time.Sleep(100 * time.Millisecond)
			if ctx.Err() != nil {
				t.Error("the work's context ended with the request's")
			}
			return bot.Reply{Message: bot.TextMessage("toch")}
		}, func() { ackedAt = time.Since(start) }, func(ctx context.Context, rep bot.Reply) { lates = text(rep) })
		if inTime || ackedAt != 100*time.Millisecond || lates != "toch" {
			t.Errorf("Inline in time %v, acked at %v, late %q; want not in time, acked at 100ms, late \"toch\"", inTime, ackedAt, lates)
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
