package pace_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/pace"
)

var where = bot.Where{Platform: "slack", Team: "T", Channel: "C"}

// The tests run in synctest bubbles: time.Sleep and time.Since there are
// the bubble's fake clock, which moves only when every goroutine waits.

func TestUpdatesAreCoalescedAndTheLastLands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := bottest.NewPoster()
		var mu sync.Mutex
		var sentAt []time.Time
		counting := &timing{Poster: rec, at: func() { mu.Lock(); sentAt = append(sentAt, time.Now()); mu.Unlock() }}
		p := pace.New(counting, time.Second, nil)
		ref := bot.Ref{Where: where, ID: "m1"}
		start := time.Now()
		// 200 clicks over two seconds.
		for i := range 200 {
			if err := p.Update(context.Background(), ref, bot.Message{Text: strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		m, _ := rec.Message(ref)
		if m.Text != "199" {
			t.Fatalf("last state sent = %q, want 199", m.Text)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(sentAt) > 4 {
			t.Fatalf("%d updates in %s; want at most one a second", len(sentAt), time.Since(start))
		}
		for i := 1; i < len(sentAt); i++ {
			if gap := sentAt[i].Sub(sentAt[i-1]); gap < time.Second {
				t.Fatalf("updates %d and %d only %s apart", i-1, i, gap)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCloseSendsPendingAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := bottest.NewPoster()
		p := pace.New(rec, time.Minute, nil)
		ref := bot.Ref{Where: where, ID: "m1"}
		p.Update(context.Background(), ref, bot.Message{Text: "a"})
		synctest.Wait()
		p.Update(context.Background(), ref, bot.Message{Text: "b"})
		start := time.Now()
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		// In the bubble time passes only while something waits on a
		// timer: Close waits for none, not the minute's pace.
		if m, _ := rec.Message(ref); m.Text != "b" || time.Since(start) != 0 {
			t.Fatalf("after Close: %q in %s, want b at once", m.Text, time.Since(start))
		}
	})
}

func TestPostsToOneChannelAreSpaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := bottest.NewPoster()
		p := pace.New(rec, time.Second, nil)
		start := time.Now()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if _, err := p.Post(context.Background(), where, bot.Message{Text: "x"}); err != nil {
					t.Error(err)
				}
			})
		}
		other := where
		other.Channel = "D"
		p.Post(context.Background(), other, bot.Message{Text: "y"})
		if d := time.Since(start); d != 0 {
			t.Errorf("a post to another channel waited %s", d)
		}
		wg.Wait()
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("three posts to one channel took %s, want 2s", d)
		}
	})
}

func TestRetryAfterIsObeyed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := bottest.NewPoster()
		limited := &limitedOnce{Poster: rec}
		p := pace.New(limited, time.Second, nil)
		start := time.Now()
		if _, err := p.Post(context.Background(), where, bot.Message{Text: "x"}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("post after a 429 with Retry-After 5s took %s", d)
		}
	})
}

type timing struct {
	*bottest.Poster
	at func()
}

func (p *timing) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	p.at()
	return p.Poster.Update(ctx, ref, m)
}

type limitedOnce struct {
	*bottest.Poster
	done bool
}

func (p *limitedOnce) Post(ctx context.Context, w bot.Where, m bot.Message) (bot.Ref, error) {
	if !p.done {
		p.done = true
		return bot.Ref{}, &bot.RateLimited{After: 5 * time.Second}
	}
	return p.Poster.Post(ctx, w, m)
}
