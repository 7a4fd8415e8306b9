package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// submitBody is a view_submission of view with the given input values.
func (h *harness) submitBody(user string, view slack.ModalViewRequest, values map[string]string) string {
	n := h.n.Add(1)
	state := map[string]any{}
	for name, v := range values {
		state[name] = map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": v}}
	}
	payload, _ := json.Marshal(map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": "T1"},
		"user":       map[string]any{"id": user, "name": strings.ToLower(user)},
		"trigger_id": "trig-view-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+n%26)),
		"view": map[string]any{
			"id": "V1", "type": "modal", "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"hash": "h1", "state": map[string]any{"values": state},
		},
	})
	return url.Values{"payload": {string(payload)}}.Encode()
}

// TestAddOptionThroughModal: the "add option" button opens a modal with
// views.open; a refused submission shows its error in the modal; a good
// one adds the option, which the poll message then shows.
func TestAddOptionThroughModal(t *testing.T) {
	h := newHarness(t, nil)
	post, ts := h.createPoll(`--toevoegen "Lunch?" Pizza Soep`)
	add := buttons(t, post, "poll.add")
	if len(add) != 1 {
		t.Fatal("no add button")
	}
	if got := h.click("U2", "C1", ts, add[0]); got != 200 {
		t.Fatalf("click add: %d", got)
	}
	opens := h.api.recorded("views.open")
	if len(opens) != 1 {
		t.Fatalf("%d views.open, want 1", len(opens))
	}
	var req struct {
		TriggerID string                 `json:"trigger_id"`
		View      slack.ModalViewRequest `json:"view"`
	}
	if err := json.Unmarshal(opens[0].Body, &req); err != nil {
		t.Fatalf("views.open body: %v: %s", err, opens[0].Body)
	}
	if !strings.HasPrefix(req.TriggerID, "trig-click-") || req.View.CallbackID != "poll.add.submit" {
		t.Errorf("views.open with trigger %q, callback %q", req.TriggerID, req.View.CallbackID)
	}

	resp, body, _ := h.send(request{path: "/slack/interactions", body: h.submitBody("U2", req.View, map[string]string{"option": "pizza"})})
	var refused struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &refused); err != nil || resp.StatusCode != 200 {
		t.Fatalf("duplicate option: %d %s", resp.StatusCode, body)
	}
	if refused.Action != "errors" || refused.Errors["option"] == "" {
		t.Errorf("duplicate option answered %s, want response_action errors on option", body)
	}

	resp, body, _ = h.send(request{path: "/slack/interactions", body: h.submitBody("U2", req.View, map[string]string{"option": "Salade"})})
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("good submission: %d %q, want an empty 200 that closes the modal", resp.StatusCode, body)
	}
	h.close()
	p, _ := h.pollState()
	if len(p.Options) != 3 || p.Options[2].Label != "Salade" {
		t.Errorf("options = %+v", p.Options)
	}
	updates := h.api.recorded("chat.update")
	if len(updates) == 0 || !strings.Contains(updates[len(updates)-1].text(t), "Salade") {
		t.Error("the poll message does not show the added option")
	}
	if eph := h.api.recorded("chat.postEphemeral"); len(eph) != 1 || eph[0].Form.Get("user") != "U2" {
		t.Errorf("confirmation: %d ephemeral messages", len(eph))
	}
}

// slowMux holds every request until released, to take longer than the ack.
type slowMux struct {
	release, releaseAction chan struct{}
	reply                  *bot.Message
}

func (s *slowMux) ServeCommand(ctx context.Context, req *bot.Request) bot.Reply {
	<-s.release
	return bot.Reply{Message: s.reply}
}

func (s *slowMux) ServeAction(ctx context.Context, act *bot.Action) bot.Reply {
	<-s.releaseAction
	return bot.Reply{FieldErrors: map[string]string{"option": "te laat"}}
}

func (s *slowMux) Locale(context.Context, bot.Where) string { return "nl" }

// TestSlowHandler: a handler slower than the ack window gets an empty
// acknowledgement when the window ends, and its reply follows through the
// response_url. It runs in a synctest bubble, so "when the window ends" is
// exact, however busy the machine.
func TestSlowHandler(t *testing.T) {
	synctest.Test(t, testSlowHandler)
}

func testSlowHandler(t *testing.T) {
	slow := &slowMux{release: make(chan struct{}), releaseAction: make(chan struct{}), reply: bot.TextMessage("Klaar, *eindelijk*.")}
	h := newBubbleHarness(t, func(c *Config) { c.Mux = slow })
	sent := time.Now()
	resp, body, _ := h.send(request{path: "/slack/commands", body: h.commandBody("U1", "C1", "/poll", "traag")})
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("slow command acknowledged with %d %q, want an empty 200", resp.StatusCode, body)
	}
	if took := time.Since(sent); took != h.a.cfg.AckWithin {
		t.Errorf("acknowledged after %v, want at the end of the ack window, %v", took, h.a.cfg.AckWithin)
	}
	close(slow.release)
	calls := h.api.waitFor("the late reply", func(cs []call) bool {
		for _, c := range cs {
			if c.Method == "respond" {
				return true
			}
		}
		return false
	})
	for _, c := range calls {
		if c.Method == "respond" && !strings.Contains(string(c.Body), "eindelijk") {
			t.Errorf("late reply: %s", c.Body)
		}
	}
	// A form answered too late: the errors come as a message instead.
	view, err := renderModal(bot.Form{ID: "x.submit", Title: "X"}, bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}, "nl")
	if err != nil {
		t.Fatal(err)
	}
	resp, body, _ = h.send(request{path: "/slack/interactions", body: h.submitBody("U1", view, map[string]string{"option": "x"})})
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("slow submission: %d %q", resp.StatusCode, body)
	}
	close(slow.releaseAction)
	h.api.waitFor("the late form errors", func(cs []call) bool {
		for _, c := range cs {
			if c.Method == "chat.postEphemeral" && strings.Contains(c.Form.Get("text"), "te laat") {
				return true
			}
		}
		return false
	})
}

// TestWebAPIErrors: Slack's refusals become clear replies in the user's
// language, and a file upload without files:write falls back to a code
// block.
func TestWebAPIErrors(t *testing.T) {
	h := newHarness(t, nil)
	h.api.setFail("chat.postMessage:CX", "not_in_channel")
	_, body := h.command("U1", "CX", "/poll", `"Lunch?" Pizza Soep`)
	if !strings.Contains(string(body), "/invite @kring") {
		t.Errorf("/poll where kring is not: %s", body)
	}
	ctx := context.Background()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	file := bot.File{Name: "peiling.csv", Title: "Uitslag", Type: "text/csv", Content: []byte("optie,stemmen\nPizza,2\n")}
	if err := h.a.Poster().Upload(ctx, where, file); err != nil {
		t.Fatalf("upload: %v", err)
	}
	for _, m := range []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal"} {
		if len(h.api.recorded(m)) != 1 {
			t.Errorf("upload did not call %s", m)
		}
	}
	h.api.setFail("files.getUploadURLExternal", "missing_scope")
	if err := h.a.Poster().Upload(ctx, where, file); err != nil {
		t.Fatalf("upload without scope: %v", err)
	}
	posts := h.api.recorded("chat.postMessage")
	if last := posts[len(posts)-1].text(t); !strings.Contains(last, "```optie,stemmen") {
		t.Errorf("fallback post: %s", last)
	}
	ref, err := h.a.Poster().DM(ctx, where, "U7", *bot.TextMessage("Herinnering"))
	if err != nil || ref.Channel != "DU7" {
		t.Errorf("DM: %+v %v", ref, err)
	}

	tests := []struct {
		slackErr, id string
	}{
		{"not_in_channel", "slack.not_in_channel"},
		{"channel_not_found", "slack.channel_not_found"},
		{"missing_scope", "slack.missing_scope"},
		{"invalid_auth", "slack.invalid_auth"},
		{"expired_trigger_id", "slack.trigger_expired"},
	}
	for _, tt := range tests {
		err := apiError("chat.postMessage", "C1", slack.SlackErrorResponse{Err: tt.slackErr, Needed: "files:write"})
		ue, ok := bot.AsUserError(err)
		if !ok || ue.ID != tt.id {
			t.Errorf("%s → %v, want %s", tt.slackErr, err, tt.id)
			continue
		}
		for _, locale := range bot.Locales {
			if s := ue.Translate(bot.T(locale)); strings.Contains(s, "⟦") || tt.id == "slack.missing_scope" && !strings.Contains(s, "files:write") {
				t.Errorf("%s in %s: %q", tt.id, locale, s)
			}
		}
	}
	var rl *bot.RateLimited
	if err := apiError("chat.update", "C1", &slack.RateLimitedError{RetryAfter: 3 * time.Second}); !errors.As(err, &rl) || rl.After != 3*time.Second {
		t.Errorf("429 → %v, want bot.RateLimited of 3s", err)
	}
}

// TestRateLimitedUpdateLands: a chat.update Slack answers with 429 is
// retried, so the final state still lands.
func TestRateLimitedUpdateLands(t *testing.T) {
	h := newHarness(t, nil)
	post, ts := h.createPoll(`"Lunch?" Pizza Soep`)
	h.api.setFail("chat.update", "ratelimited")
	h.click("U2", "C1", ts, buttons(t, post, "poll.vote")[0])
	h.api.waitFor("a rate-limited update", func(cs []call) bool {
		for _, c := range cs {
			if c.Method == "chat.update" {
				return true
			}
		}
		return false
	})
	h.api.setFail("chat.update", "")
	h.close()
	var ok bool
	for _, c := range h.api.recorded("chat.update") {
		ok = ok || strings.Contains(c.Form.Get("text"), "1 stemmer")
	}
	if !ok {
		t.Error("the update never landed after the 429")
	}
}

func TestReady(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.a.Ready(context.Background()); err != nil {
		t.Errorf("Ready: %v", err)
	}
	h2 := newHarness(t, nil)
	h2.api.setFail("auth.test", "invalid_auth")
	err := h2.a.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "KRING_SLACK_BOT_TOKEN") {
		t.Errorf("Ready with a rejected token: %v", err)
	}
	// A failure is not remembered: once Slack takes the token, Ready is
	// green at the next ask.
	h2.api.setFail("auth.test", "")
	if err := h2.a.Ready(context.Background()); err != nil {
		t.Errorf("Ready after Slack took the token again: %v", err)
	}
	if _, err := New(Config{BotToken: "xoxb"}); err == nil {
		t.Error("New without signing secret or app token succeeded")
	}
	if _, err := New(Config{SigningSecret: "s"}); err == nil {
		t.Error("New without bot token succeeded")
	}
}

func TestMessageIDsInEveryLocale(t *testing.T) {
	nl := map[string]bool{}
	for _, id := range bot.MessageIDs("nl") {
		nl[id] = true
	}
	en := map[string]bool{}
	for _, id := range bot.MessageIDs("en") {
		en[id] = true
	}
	for id := range nl {
		if strings.HasPrefix(id, "slack.") && !en[id] {
			t.Errorf("%s has no English text", id)
		}
	}
	for id := range en {
		if strings.HasPrefix(id, "slack.") && !nl[id] {
			t.Errorf("%s has no Dutch text", id)
		}
	}
}
