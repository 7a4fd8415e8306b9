package mattermost

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// A bot that is no system admin is refused ephemeral posts: it asks once,
// then sends DMs straight away.
func TestEphemeralRefusalIsRemembered(t *testing.T) {
	h := newHarness(t)
	h.mm.ForbidEphemeral()
	where := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: testChannel}
	for range 3 {
		if err := h.ad.rest.Ephemeral(t.Context(), where, bram, *bot.TextMessage("Gelukt")); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.mm.Count(http.MethodPost, "/api/v4/posts/ephemeral"); n != 1 {
		t.Errorf("asked for an ephemeral post %d times, want once", n)
	}
	dms := 0
	for _, p := range h.mm.Posts() {
		if p.ChannelId == h.mm.DMChannel(bram) && p.Message == "Gelukt" {
			dms++
		}
	}
	if dms != 3 {
		t.Errorf("%d DMs, want 3", dms)
	}
}

// A click is answered in its own response, which needs no permission.
func TestClickIsAnsweredInItsResponse(t *testing.T) {
	h := newHarness(t)
	h.mm.ForbidEphemeral()
	id := h.post()
	var ar actionResponse
	if r := h.click(id, 0, bram); r.JSON(&ar) != nil || ar.EphemeralText != "Jij klikte 1 keer" {
		t.Fatalf("click answer = %s", r.Body)
	}
	h.close()
	if n := h.mm.Count(http.MethodPost, "/api/v4/posts/ephemeral"); n != 0 || len(h.mm.Posts()) != 1 {
		t.Errorf("the answer went through the API (%d) or as a DM: %d posts", n, len(h.mm.Posts()))
	}
}

// onlyAnna is the counter's Mux, telling beforehand that only Anna may
// reset the counter.
type onlyAnna struct{ *bot.Mux }

func (o onlyAnna) CheckAction(ctx context.Context, act *bot.Action) bot.Reply {
	if act.ID == "tel.reset" && act.User.ID != anna {
		return bot.Reply{Message: bot.TextMessage("Alleen *Anna* mag de teller op nul zetten.")}
	}
	return bot.Reply{}
}

var _ ActionChecker = onlyAnna{}

// Someone who may not run a confirmed action hears so at the click,
// without being asked to confirm first.
func TestConfirmIsCheckedBeforeAsking(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Handler = onlyAnna{c.Handler.(*bot.Mux)} })
	id := h.post()
	var ar actionResponse
	if r := h.click(id, 1, bram); r.JSON(&ar) != nil || ar.EphemeralText != "Alleen **Anna** mag de teller op nul zetten." {
		t.Fatalf("bram's click answer = %s", r.Body)
	}
	if ds := h.mm.Dialogs(); len(ds) != 0 {
		t.Fatalf("bram was asked to confirm: %+v", ds)
	}
	if r := h.click(id, 1, anna); r.Status != http.StatusOK || len(h.mm.Dialogs()) != 1 {
		t.Fatalf("anna's click: %d %s, %d dialogs", r.Status, r.Body, len(h.mm.Dialogs()))
	}
	if h.feat.resets != 0 {
		t.Error("the reset ran before it was confirmed")
	}
}

// kring cannot join a direct or group message: there a command says to use
// a channel, not how to invite kring.
func TestCommandInAPrivateConversation(t *testing.T) {
	h := newHarness(t)
	for name, users := range map[string][]string{
		"dm000000000000000000000000": {anna, bram},
		"gm000000000000000000000000": {anna, bram, cato},
	} {
		h.mm.Conversation(name, users...)
		r, err := h.mm.Command(h.kring.URL+"/mattermost/commands", testToken, anna, name, "/tel")
		if err != nil {
			t.Fatal(err)
		}
		var resp model.CommandResponse
		if err := r.JSON(&resp); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(resp.Text, "/invite") || !strings.Contains(resp.Text, "privégesprek") || !strings.Contains(resp.Text, "/poll") {
			t.Errorf("%s: reply = %q", name, resp.Text)
		}
	}
	// In a channel kring is not in, it still says how to add it.
	h.mm.Outsider(testChannel)
	var resp model.CommandResponse
	if err := h.command(anna, "/tel").JSON(&resp); err != nil || !strings.Contains(resp.Text, "/invite @kring") {
		t.Errorf("channel reply = %q %v", resp.Text, err)
	}
}

// Each user's language comes along with their name, from the one lookup
// kring makes of them.
func TestUserLocale(t *testing.T) {
	h := newHarness(t)
	h.mm.SetLocale(bram, "en")
	if u, ok := h.ad.users.Get(t.Context(), bram); !ok || u.Locale != "en" || u.Name != "Bram" {
		t.Errorf("bram = %+v", u)
	}
	if u, ok := h.ad.users.Get(t.Context(), anna); !ok || u.Locale != "" {
		t.Errorf("anna = %+v", u)
	}
	if u := h.ad.users.User(bram, "bram"); u.Locale != "en" || u.Name != "Bram" {
		t.Errorf("bram's requests carry %+v", u)
	}
	if n := h.mm.Count(http.MethodGet, "/api/v4/users/"); n != 2 {
		t.Errorf("%d user lookups, want 2", n)
	}
}

// A wrong bot token is said at start, in one line.
func TestRunLogsARefusedBotToken(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	bad, err := New(Config{URL: h.mm.URL, BotToken: "wrong", CommandTokens: []string{"x"}, Secret: testSecret,
		PublicURL: h.kring.URL, Handler: h.ad.cfg.Handler, Log: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(t.Context())
	if err := bad.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "KRING_MATTERMOST_BOT_TOKEN") || !strings.Contains(lines[0], "level=ERROR") {
		t.Errorf("log at start:\n%s", buf.String())
	}
	buf.Reset()
	if err := h.ad.Run(t.Context()); err != nil || buf.Len() != 0 {
		t.Errorf("a good token: %v", err)
	}
}
