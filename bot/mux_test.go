package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

func TestMuxRoutesAndTranslates(t *testing.T) {
	var logs bytes.Buffer
	settings := &bottest.Settings{}
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

// TestMuxLocales: a user is answered in the language they chose, else in
// their platform's language when that is not English, else in the
// workspace's; messages for everyone follow the workspace.
func TestMuxLocales(t *testing.T) {
	ctx := context.Background()
	where := bot.Where{Platform: bot.Mattermost, Team: "T1", Channel: "C1"}
	settings := &bottest.Settings{}
	mux := &bot.Mux{Settings: settings}
	var got [2]string
	mux.Handle(bot.Command{Name: "/x"}, bot.HandlerFunc(func(_ context.Context, req *bot.Request) (*bot.Message, error) {
		got = [2]string{req.Locale, req.WorkspaceLocale}
		return nil, nil
	}))
	ask := func(u bot.User) [2]string {
		mux.ServeCommand(ctx, &bot.Request{Where: where, User: u, Command: "/x"})
		return got
	}
	cases := []struct {
		name     string
		ws, own  string // stored
		platform string
		want     [2]string
	}{
		{"nothing chosen", "", "", "", [2]string{"nl", "nl"}},
		{"workspace en", "en", "", "", [2]string{"en", "en"}},
		{"platform English says nothing", "", "", "en_US", [2]string{"nl", "nl"}},
		{"platform Dutch is a choice", "en", "", "nl", [2]string{"nl", "en"}},
		{"platform unknown language", "en", "", "de", [2]string{"en", "en"}},
		{"own choice beats platform", "", "en", "nl", [2]string{"en", "nl"}},
		{"own Dutch in English workspace", "en", "nl", "en", [2]string{"nl", "en"}},
	}
	for _, c := range cases {
		settings.SetLocale(ctx, where, c.ws)
		settings.SetUserLocale(ctx, where, "anna", c.own)
		if g := ask(bot.User{ID: "anna", Locale: c.platform}); g != c.want {
			t.Errorf("%s: (user, workspace) = %v, want %v", c.name, g, c.want)
		}
	}
	// A store that fails answers in the default language, not an error.
	settings.Err = errors.New("store down")
	if g := ask(bot.User{ID: "anna"}); g != [2]string{"nl", "nl"} {
		t.Errorf("store down: %v, want nl, nl", g)
	}
}

func TestHiddenCommandsAnswerButAreNotListed(t *testing.T) {
	mux := &bot.Mux{}
	h := bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) { return bot.TextMessage("hi"), nil })
	mux.Handle(bot.Command{Name: "/kring"}, h)
	mux.Handle(bot.Command{Name: "/hulp", Hidden: true}, h)
	if cs := mux.Commands(); len(cs) != 1 || cs[0].Name != "/kring" {
		t.Errorf("Commands() = %v, want only /kring", cs)
	}
	if r := mux.ServeCommand(context.Background(), &bot.Request{Command: "/hulp"}); r.Message == nil || r.Message.Text != "hi" {
		t.Errorf("/hulp = %+v", r)
	}
}

type closer struct{}

func (closer) ServeAction(context.Context, *bot.Action) (*bot.Message, error) {
	return bot.TextMessage("closed"), nil
}

func (closer) CheckAction(_ context.Context, act *bot.Action) error {
	if act.User.ID != "anna" {
		return bot.Errorf("kring.unknown_action")
	}
	return nil
}

func TestMuxCheckAction(t *testing.T) {
	mux := &bot.Mux{}
	mux.HandleAction("poll.", closer{})
	mux.HandleAction("plain.", bot.ActionHandlerFunc(func(context.Context, *bot.Action) (*bot.Message, error) { return nil, nil }))
	ctx := context.Background()
	if r := mux.CheckAction(ctx, &bot.Action{ID: "poll.close", User: bot.User{ID: "anna"}}); r.Message != nil {
		t.Errorf("anna may close, got %+v", r.Message)
	}
	if r := mux.CheckAction(ctx, &bot.Action{ID: "poll.close", User: bot.User{ID: "bram"}}); r.Message == nil || !strings.Contains(r.Message.Text, "Deze knop werkt niet meer") {
		t.Errorf("bram's refusal = %+v", r)
	}
	if r := mux.CheckAction(ctx, &bot.Action{ID: "plain.x", User: bot.User{ID: "bram"}}); r.Message != nil {
		t.Errorf("a handler that cannot check refused: %+v", r.Message)
	}
}

func TestMuxTimeoutAsksToTryAgain(t *testing.T) {
	mux := &bot.Mux{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mux.Handle(bot.Command{Name: "/x"}, bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		switch req.Text {
		case "deadline":
			return nil, fmt.Errorf("get poll ab12cd: %w", context.DeadlineExceeded)
		case "net":
			return nil, fmt.Errorf("get poll ab12cd: %w", &net.OpError{Op: "read", Err: timeoutErr{}})
		}
		return nil, errors.New("disk on fire")
	}))
	for text, want := range map[string]string{"deadline": "Probeer het zo opnieuw", "net": "Probeer het zo opnieuw", "other": "er ging iets mis aan mijn kant"} {
		r := mux.ServeCommand(context.Background(), &bot.Request{Command: "/x", Text: text})
		if r.Message == nil || !strings.Contains(r.Message.Text, want) {
			t.Errorf("%s: %+v, want %q", text, r.Message, want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type onceLog struct {
	seen  map[string]bool
	calls int
}

func (l *onceLog) Once(_ context.Context, key string, _ time.Duration) (bool, error) {
	l.calls++
	if l.seen[key] {
		return false, nil
	}
	l.seen[key] = true
	return true, nil
}

type recordingVotes struct{ served int }

func (r *recordingVotes) ServeAction(context.Context, *bot.Action) (*bot.Message, error) {
	r.served++
	return nil, nil
}
func (r *recordingVotes) RecordsDelivery(id string) bool { return id == "poll.vote" }

func TestMuxDeliveries(t *testing.T) {
	log := &onceLog{seen: map[string]bool{}}
	mux := &bot.Mux{Deliveries: log}
	ran := 0
	mux.Handle(bot.Command{Name: "/x"}, bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) {
		ran++
		return bot.TextMessage("ok"), nil
	}))
	votes := &recordingVotes{}
	mux.HandleAction("poll.", votes)
	ctx := context.Background()
	for range 2 {
		mux.ServeCommand(ctx, &bot.Request{Command: "/x", Delivery: "d1"})
	}
	if r := mux.ServeCommand(ctx, &bot.Request{Command: "/x", Delivery: "d1"}); !r.Repeated || r.Message != nil || ran != 1 {
		t.Errorf("a repeated command: %+v, ran %d times; want Repeated and once", r, ran)
	}
	mux.ServeCommand(ctx, &bot.Request{Command: "/x"})
	if ran != 2 {
		t.Errorf("a request without a delivery id ran %d times in all, want 2", ran)
	}
	// A handler that records its own deliveries costs the log nothing.
	calls := log.calls
	mux.ServeAction(ctx, &bot.Action{ID: "poll.vote", Delivery: "d2"})
	mux.ServeAction(ctx, &bot.Action{ID: "poll.vote", Delivery: "d2"})
	if log.calls != calls || votes.served != 2 {
		t.Errorf("poll.vote: %d log calls, served %d; want none and 2 (the handler decides)", log.calls-calls, votes.served)
	}
	mux.ServeAction(ctx, &bot.Action{ID: "poll.close", Delivery: "d3"})
	if r := mux.ServeAction(ctx, &bot.Action{ID: "poll.close", Delivery: "d3"}); !r.Repeated || votes.served != 3 {
		t.Errorf("a repeated poll.close: %+v, served %d", r, votes.served)
	}
	// A handler's own ErrRepeated is answered the same way.
	mux.HandleAction("x.", bot.ActionHandlerFunc(func(context.Context, *bot.Action) (*bot.Message, error) { return nil, bot.ErrRepeated }))
	if r := mux.ServeAction(ctx, &bot.Action{ID: "x.y"}); !r.Repeated || r.Message != nil {
		t.Errorf("handler's ErrRepeated: %+v", r)
	}
}

type slowLog struct{}

func (slowLog) Once(context.Context, string, time.Duration) (bool, error) {
	return false, fmt.Errorf("once: %w", context.DeadlineExceeded)
}

type brokenLog struct{}

func (brokenLog) Once(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}

// A delivery log that times out answers "try again" without running the
// handler (its own store calls would hang as long); one that fails at once
// lets the request through.
func TestMuxDeliveryLogFaults(t *testing.T) {
	ran := 0
	h := bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) { ran++; return bot.TextMessage("ok"), nil })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	slow := &bot.Mux{Deliveries: slowLog{}, Log: quiet}
	slow.Handle(bot.Command{Name: "/x"}, h)
	if r := slow.ServeCommand(context.Background(), &bot.Request{Command: "/x", Delivery: "d"}); r.Message == nil || !strings.Contains(r.Message.Text, "Probeer het zo opnieuw") || ran != 0 {
		t.Errorf("timed-out log: %+v, handler ran %d times", r.Message, ran)
	}
	broken := &bot.Mux{Deliveries: brokenLog{}, Log: quiet}
	broken.Handle(bot.Command{Name: "/x"}, h)
	if r := broken.ServeCommand(context.Background(), &bot.Request{Command: "/x", Delivery: "d"}); r.Message == nil || r.Message.Text != "ok" || ran != 1 {
		t.Errorf("failing log: %+v, handler ran %d times", r.Message, ran)
	}
}
