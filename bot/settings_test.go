package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// countingSettings counts the reads that reach the store.
type countingSettings struct {
	*bottest.Settings
	reads int
}

func (c *countingSettings) Languages(ctx context.Context, w bot.Where) (bot.Languages, error) {
	c.reads++
	return c.Settings.Languages(ctx, w)
}

func TestCachedSettings(t *testing.T) {
	ctx := context.Background()
	store := &countingSettings{Settings: &bottest.Settings{}}
	clock := bottest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	c := &bot.CachedSettings{Store: store, TTL: 30 * time.Second, Now: clock.Now}
	ws := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	read := func() (string, string) {
		l, err := c.Languages(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		return l.Users["anna"], l.Workspace
	}
	read()
	read()
	// Another user of the workspace, never seen before, costs no read.
	if l, _ := c.Languages(ctx, bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C9"}); l.Users["bram"] != "" {
		t.Fatal(l)
	}
	if store.reads != 1 {
		t.Fatalf("%d store reads for three asks in one workspace within the TTL, want 1", store.reads)
	}
	// A change through the cache is seen at once.
	c.SetUserLocale(ctx, ws, "anna", "en")
	if u, _ := read(); u != "en" {
		t.Errorf("after SetUserLocale: %q, want en", u)
	}
	c.SetLocale(ctx, ws, "en")
	if _, w := read(); w != "en" {
		t.Errorf("after SetLocale: %q, want en", w)
	}
	// A change by another process is seen once the entry expires.
	store.SetLocale(ctx, ws, "nl")
	if _, w := read(); w != "en" {
		t.Errorf("within the TTL the cache answers: %q", w)
	}
	clock.Advance(31 * time.Second)
	if _, w := read(); w != "nl" {
		t.Errorf("after the TTL: %q, want nl", w)
	}
}
