package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

func TestSlackManifest(t *testing.T) {
	var out, errw bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errw)
	m.Getenv = func(string) string { return "" }
	if err := m.Run(t.Context(), []string{"slack", "manifest", "--url", "https://kring.example.org/"}); err != nil {
		t.Fatalf("manifest: %v\n%s", err, errw.String())
	}
	var man slack.Manifest
	if err := json.Unmarshal(out.Bytes(), &man); err != nil {
		t.Fatalf("manifest is not valid JSON (nor YAML): %v\n%s", err, out.String())
	}
	cmds := commands()
	if len(cmds) == 0 {
		t.Fatal("no commands registered")
	}
	listed := map[string]slack.ManifestSlashCommand{}
	for _, c := range man.Features.SlashCommands {
		listed[c.Command] = c
	}
	for _, c := range cmds {
		mc, ok := listed[c.Name]
		if !ok {
			t.Errorf("manifest lacks %s", c.Name)
			continue
		}
		if mc.Description == "" || strings.Contains(mc.Description+mc.UsageHint, "⟦") {
			t.Errorf("%s: untranslated description or hint: %+v", c.Name, mc)
		}
		if want := bot.T("nl").S(c.Description); mc.Description != want {
			t.Errorf("%s: description %q, want the Dutch %q", c.Name, mc.Description, want)
		}
		if mc.Url != "https://kring.example.org/slack/commands" {
			t.Errorf("%s: url %q", c.Name, mc.Url)
		}
	}
	if got := man.Settings.Interactivity; got == nil || !got.IsEnabled || got.RequestUrl != "https://kring.example.org/slack/interactions" {
		t.Errorf("interactivity = %+v", got)
	}
	if man.Settings.SocketModeEnabled {
		t.Error("socket mode on without --socket-mode")
	}
	if got := strings.Join(man.OAuthConfig.Scopes.Bot, ","); got != "commands,chat:write,im:write,users:read,files:write" {
		t.Errorf("scopes = %s", got)
	}
	if man.Features.BotUser.DisplayName != "kring" || man.Display.Name != "kring" {
		t.Errorf("bot user %+v, display %+v", man.Features.BotUser, man.Display)
	}
	if n := len([]rune(man.Display.LongDescription)); n < 175 || n > 4000 {
		t.Errorf("long description of %d characters; Slack wants 175 to 4000", n)
	}

	out.Reset()
	if err := m.Run(t.Context(), []string{"slack", "manifest", "--socket-mode", "--locale", "en"}); err != nil {
		t.Fatalf("socket mode manifest: %v", err)
	}
	man = slack.Manifest{}
	if err := json.Unmarshal(out.Bytes(), &man); err != nil {
		t.Fatal(err)
	}
	if !man.Settings.SocketModeEnabled || man.Settings.Interactivity.RequestUrl != "" || man.Features.SlashCommands[0].Url != "" {
		t.Errorf("socket mode manifest has URLs or socket mode off: %s", out.String())
	}
	if err := m.Run(t.Context(), []string{"slack", "manifest"}); err == nil {
		t.Error("manifest without --url or --socket-mode succeeded")
	}
	if err := m.Run(t.Context(), []string{"slack", "manifest", "--url", "kring.example.org"}); err == nil {
		t.Error("manifest with a URL without scheme succeeded")
	}
}

// slackAPI is a small stand-in for Slack's Web API that records calls.
type slackAPI struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []url.Values // form of each call, with "method" added
	ts     int
	reject bool // answer invalid_auth to everything
}

func newSlackAPI(t *testing.T) *slackAPI {
	s := &slackAPI{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		form.Set("method", method)
		s.mu.Lock()
		s.ts++
		ts := fmt.Sprintf("1700000000.%06d", s.ts)
		form.Set("returned_ts", ts)
		s.calls = append(s.calls, form)
		reject := s.reject
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		var resp map[string]any
		switch {
		case reject:
			resp = map[string]any{"ok": false, "error": "invalid_auth"}
		case method == "users.info":
			resp = map[string]any{"ok": true, "user": map[string]any{"id": form.Get("user"), "name": "x", "tz": "Europe/Amsterdam", "profile": map[string]any{"display_name": "Name " + form.Get("user")}}}
		default:
			resp = map[string]any{"ok": true, "channel": form.Get("channel"), "ts": ts, "user": "kring", "team": "T"}
		}
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackAPI) recorded(method string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, c := range s.calls {
		if c.Get("method") == method {
			out = append(out, c)
		}
	}
	return out
}

const signingSecret = "test-signing-secret"

func postSigned(t *testing.T, u, body string) (int, string) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(signingSecret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeSlack drives kring serve over HTTP as Slack does: a signed
// /poll, three users clicking its buttons, and the Web API stand-in
// receiving the poll and its updates with the right counts.
func TestServeSlack(t *testing.T) {
	api := newSlackAPI(t)
	base, stop := startServe(t, map[string]string{
		"KRING_STORE":                "bolt:" + filepath.Join(t.TempDir(), "k.db"),
		"KRING_SLACK_SIGNING_SECRET": signingSecret,
		"KRING_SLACK_BOT_TOKEN":      "xoxb-test",
		"KRING_SLACK_API_URL":        api.URL + "/api/",
	})
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	if code, body := get(base + "/readyz"); code != 200 || !strings.Contains(body, "slack") {
		t.Errorf("/readyz: %d %s", code, body)
	}
	cmd := url.Values{
		"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"anna"},
		"command": {"/poll"}, "text": {`"Lunch?" Pizza Soep`}, "trigger_id": {"trig-1"},
		"response_url": {api.URL + "/respond/1"},
	}.Encode()
	if code, body := postSigned(t, base+"/slack/commands", cmd); code != 200 || !strings.Contains(body, `"response_type":"ephemeral"`) {
		t.Fatalf("/poll: %d %s", code, body)
	}
	posts := api.recorded("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d chat.postMessage, want 1", len(posts))
	}
	var blocks slack.Blocks
	if err := json.Unmarshal([]byte(posts[0].Get("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	var votes []*slack.ButtonBlockElement
	for _, b := range blocks.BlockSet {
		if ab, ok := b.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && strings.HasPrefix(btn.ActionID, "poll.vote") {
					votes = append(votes, btn)
				}
			}
		}
	}
	if len(votes) != 2 {
		t.Fatalf("%d vote buttons, want 2", len(votes))
	}
	ts := posts[0].Get("returned_ts")
	for i, click := range []struct {
		user   string
		option int
	}{{"U1", 0}, {"U2", 1}, {"U3", 0}} {
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "team": map[string]any{"id": "T1"},
			"user":       map[string]any{"id": click.user, "name": strings.ToLower(click.user)},
			"channel":    map[string]any{"id": "C1"},
			"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": "C1"},
			"trigger_id": fmt.Sprintf("trig-click-%d", i), "response_url": api.URL + "/respond/c",
			"actions": []map[string]any{{"type": "button", "block_id": "votes", "action_id": votes[click.option].ActionID, "value": votes[click.option].Value, "action_ts": fmt.Sprintf("1700000001.%06d", i)}},
		})
		if code, body := postSigned(t, base+"/slack/interactions", url.Values{"payload": {string(payload)}}.Encode()); code != 200 {
			t.Fatalf("click %d: %d %s", i, code, body)
		}
	}
	stopped = true
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	updates := api.recorded("chat.update")
	if len(updates) == 0 {
		t.Fatal("no chat.update")
	}
	last := updates[len(updates)-1]
	if last.Get("ts") != ts {
		t.Errorf("updated message %s, want %s", last.Get("ts"), ts)
	}
	for _, want := range []string{"3 stemmers", " 2 stemmen (67%)", " 1 stem (33%)"} {
		if !strings.Contains(last.Get("text")+last.Get("blocks"), want) {
			t.Errorf("final update lacks %q: %s", want, last.Get("blocks"))
		}
	}
}

// TestServeSlackBadToken: a token Slack rejects keeps kring serving, and
// /readyz says what is wrong.
func TestServeSlackBadToken(t *testing.T) {
	api := newSlackAPI(t)
	api.reject = true
	base, stop := startServe(t, map[string]string{
		"KRING_STORE":                "bolt:" + filepath.Join(t.TempDir(), "k.db"),
		"KRING_SLACK_SIGNING_SECRET": signingSecret,
		"KRING_SLACK_BOT_TOKEN":      "xoxb-revoked",
		"KRING_SLACK_API_URL":        api.URL + "/api/",
	})
	defer stop()
	code, body := get(base + "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "KRING_SLACK_BOT_TOKEN") {
		t.Errorf("/readyz with a rejected token: %d %s", code, body)
	}
}
