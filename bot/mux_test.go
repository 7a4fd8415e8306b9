package bot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/kringbot/kring/bot"
)

type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) Locale(_ context.Context, w bot.Where) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[w.Key()], nil
}

func (s *memSettings) SetLocale(_ context.Context, w bot.Where, l string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[w.Key()] = l
	return nil
}

func TestMuxRoutesAndTranslates(t *testing.T) {
	var logs bytes.Buffer
	settings := &memSettings{m: map[string]string{}}
	var events []bot.Event
	mux := &bot.Mux{Settings: settings, Log: slog.New(slog.NewTextHandler(&logs, nil)), Observe: func(e bot.Event) { events = append(events, e) }}
	mux.Handle(bot.Command{Name: "/poll"}, bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		switch req.Text {
		case "user":
			return nil, bot.Errorf("kring.unknown_command", "Command", "/x")
		case "boom":
			return nil, errors.New("disk on fire")
		case "panic":
			panic("oops")
		}
		return bot.TextMessage("ok " + req.Locale), nil
	}))
	var got string
	mux.HandleAction("poll.", bot.ActionHandlerFunc(func(ctx context.Context, a *bot.Action) (*bot.Message, error) {
		got = "poll:" + a.ID
		return nil, nil
	}))
	mux.HandleAction("poll.vote", bot.ActionHandlerFunc(func(ctx context.Context, a *bot.Action) (*bot.Message, error) {
		got = "vote:" + a.ID
		return nil, nil
	}))
	ctx := context.Background()
	where := bot.Where{Platform: "shell", Team: "t", Channel: "c"}
	cmd := func(text string) string {
		r := mux.ServeCommand(ctx, &bot.Request{Where: where, Command: "/POLL", Text: text})
		return r.Message.Text
	}
	if r := cmd(""); r != "ok nl" {
		t.Errorf("default locale: %q", r)
	}
	if r := cmd("user"); !strings.Contains(r, "Dat commando ken ik niet: /x") {
		t.Errorf("user error: %q", r)
	}
	if r := cmd("boom"); !strings.Contains(r, "foutcode") || !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("internal error: %q; log %s", r, logs.String())
	}
	if r := cmd("panic"); !strings.Contains(r, "foutcode") {
		t.Errorf("panic: %q", r)
	}
	settings.SetLocale(ctx, where.Workspace(), "en")
	if r := cmd("user"); !strings.Contains(r, "I don't know that command") {
		t.Errorf("English user error: %q", r)
	}
	r := mux.ServeCommand(ctx, &bot.Request{Where: where, Command: "/nope"})
	if !strings.Contains(r.Message.Text, "/nope") {
		t.Errorf("unknown command: %q", r.Message.Text)
	}
	mux.ServeAction(ctx, &bot.Action{Where: where, ID: "poll.vote"})
	if got != "vote:poll.vote" {
		t.Errorf("longest prefix: %s", got)
	}
	mux.ServeAction(ctx, &bot.Action{Where: where, ID: "poll.close"})
	if got != "poll:poll.close" {
		t.Errorf("prefix: %s", got)
	}
	outcomes := map[string]int{}
	for _, e := range events {
		outcomes[e.Outcome]++
	}
	if outcomes["error"] != 2 || outcomes["user_error"] != 3 || outcomes["ok"] != 3 {
		t.Errorf("observed outcomes: %v", outcomes)
	}
}

func TestUserErrorWrapsUserError(t *testing.T) {
	inner := bot.Errorf("kring.unknown_command", "Command", "/x")
	outer := &bot.UserError{ID: "kring.unknown_command", Data: []any{"Command", inner}}
	if got := outer.Translate(bot.T("nl")); !strings.Contains(got, "Dat commando ken ik niet: Dat commando ken ik niet: /x") {
		t.Errorf("nested translation: %q", got)
	}
}
