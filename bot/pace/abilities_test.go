package pace_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/pace"
)

// able is a recording Poster with every ability; at notes when a reply or
// a delete reached it.
type able struct {
	*bottest.Poster
	at      []time.Time
	deleted []bot.Ref
}

func (a *able) Members(context.Context, bot.Where) ([]string, error) { return []string{"U1"}, nil }
func (a *able) Mention(_ context.Context, _ bot.Where, id string) string {
	return "@" + id
}

func (a *able) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	a.at = append(a.at, time.Now())
	return a.Post(ctx, root.Where, m)
}

func (a *able) Delete(_ context.Context, ref bot.Ref) error {
	a.at = append(a.at, time.Now())
	a.deleted = append(a.deleted, ref)
	return nil
}

// TestAbilitiesPassThroughPaced: replies and deletes take the channel's
// slot like posts; members and mentions go at once.
func TestAbilitiesPassThroughPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		inner := &able{Poster: bottest.NewPoster()}
		p := pace.New(inner, time.Second, nil)
		defer p.Close(ctx)
		start := time.Now()
		root, err := p.Post(ctx, where, bot.Message{Text: "root"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Reply(ctx, root, bot.Message{Text: "a"}); err != nil {
			t.Fatal(err)
		}
		if err := p.Delete(ctx, root); err != nil {
			t.Fatal(err)
		}
		if len(inner.at) != 2 || inner.at[0].Sub(start) < time.Second || inner.at[1].Sub(inner.at[0]) < time.Second {
			t.Errorf("reply and delete at %v after a post at %v; want a second apart", inner.at, start)
		}
		before := time.Now()
		if ids, err := p.Members(ctx, where); err != nil || !slices.Equal(ids, []string{"U1"}) {
			t.Errorf("members = %v, %v", ids, err)
		}
		if got := p.Mention(ctx, where, "U1"); got != "@U1" {
			t.Errorf("mention = %q", got)
		}
		if time.Since(before) != 0 {
			t.Errorf("members and mention waited %s", time.Since(before))
		}
	})
}

// TestDeleteDropsAPendingUpdate: an update still waiting for its slot is
// not sent after the message was deleted.
func TestDeleteDropsAPendingUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		inner := &able{Poster: bottest.NewPoster()}
		p := pace.New(inner, time.Second, nil)
		ref := bot.Ref{Where: where, ID: "m1"}
		_ = p.Update(ctx, ref, bot.Message{Text: "1"})
		synctest.Wait()
		_ = p.Update(ctx, ref, bot.Message{Text: "2"}) // waits for the interval
		if err := p.Delete(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if m, _ := inner.Message(ref); m.Text != "1" {
			t.Errorf("message after delete = %q; the pending update was sent", m.Text)
		}
	})
}

// TestAbilitiesThePosterLacks are reported as unsupported.
func TestAbilitiesThePosterLacks(t *testing.T) {
	ctx := context.Background()
	p := pace.New(bottest.NewPoster(), time.Second, nil)
	defer p.Close(ctx)
	if _, err := p.Members(ctx, where); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("members: %v", err)
	}
	if got := p.Mention(ctx, where, "U1"); got != "" {
		t.Errorf("mention = %q", got)
	}
	if _, err := p.Reply(ctx, bot.Ref{Where: where, ID: "m1"}, bot.Message{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("reply: %v", err)
	}
	if err := p.Delete(ctx, bot.Ref{Where: where, ID: "m1"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("delete: %v", err)
	}
}
