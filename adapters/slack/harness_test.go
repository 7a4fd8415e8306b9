package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/slack-go/slack"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// testAdmin is the user the harness lists in KRING_ADMINS.
const testAdmin = "UADMIN"

// harness is kring's Slack side wired as kring serve wires it: a Mux with
// the real poll and /kring features on a bbolt store (testAdmin in
// KRING_ADMINS), the Adapter, its HTTP endpoints, and a stand-in for
// Slack's Web API.
type harness struct {
	t   testing.TB
	api *standin
	a   *Adapter
	srv *httptest.Server
	// client sends Slack's requests to srv.
	client *http.Client
	polls  poll.Store
	mux    *bot.Mux
	// clock is the features' clock and runner runs their due jobs; a
	// test moves the one on and calls RunDue on the other.
	clock  *bottest.Clock
	runner *schedule.Runner
	live   *live.Messages
	n      atomic.Int64
	run    string // makes trigger ids unique across runs sharing a store
}

func newHarness(t testing.TB, tweak func(*Config)) *harness {
	t.Helper()
	return newHarnessNet(t, nil, tweak)
}

// newBubbleHarness is newHarness for a testing/synctest bubble: kring,
// the stand-in and the test talk over an in-process network, so the
// bubble's clock moves on whenever all of them wait.
func newBubbleHarness(t *testing.T, tweak func(*Config)) *harness {
	t.Helper()
	return newHarnessNet(t, &bottest.PipeNet{}, tweak)
}

// newHarnessNet is the harness on a bbolt store in a temporary directory,
// on n, or on loopback sockets when n is nil.
func newHarnessNet(t testing.TB, n *bottest.PipeNet, tweak func(*Config)) *harness {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newHarnessOn(t, n, db.Polls(), db.Jobs(), db.Settings(), tweak)
}

// newHarnessOn wires the harness on the stores given, on n or on loopback
// sockets when n is nil.
func newHarnessOn(t testing.TB, n *bottest.PipeNet, polls poll.Store, jobs schedule.Store, settings bot.SettingsStore, tweak func(*Config)) *harness {
	t.Helper()
	var err error
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, nil))
	}
	mux := &bot.Mux{Settings: settings, Log: log, Deliveries: jobs}
	posters := bot.Posters{}
	clock := bottest.NewClock(time.Now())
	runner := &schedule.Runner{Store: jobs, Clock: clock, Log: log}
	h := &harness{t: t, api: newStandinOn(t, n), client: http.DefaultClient, polls: polls, mux: mux, clock: clock, runner: runner, run: bot.NewID(4)}
	cfg := Config{
		SigningSecret: testSecret,
		BotToken:      "xoxb-test",
		APIURL:        h.api.apiURL(),
		Mux:           mux,
		Log:           log,
	}
	if n != nil {
		h.client = n.Client()
		cfg.HTTPClient = n.Client()
	}
	if tweak != nil {
		tweak(&cfg)
	}
	// Live messages are rendered as kring serve renders them: off the
	// request path, at most once per message every Every (the pace of
	// the adapter), with a durable render in the jobs.
	h.live = live.New(live.Config{Poster: posters, Jobs: jobs, Every: cfg.PaceEvery, Clock: clock, Log: log})
	poll.New(poll.Config{
		Store: polls, Jobs: jobs, Poster: posters, Clock: clock, Secret: "test", Log: log, Locale: mux.Locale,
		Admins: bot.ParseAdmins(bot.Slack + ":" + testAdmin), Live: h.live,
	}).Register(mux, runner)
	kring.New(settings, mux, bot.ParseAdmins(bot.Slack+":"+testAdmin)).Register(mux, nil)
	h.a, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	posters[bot.Slack] = h.a.Poster()
	hm := http.NewServeMux()
	h.a.Mount(hm)
	h.srv = n.Serve(hm, "kring.test:80")
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() { h.close() })
	return h
}

// know has kring learn the users with ids from the stand-in's users.info,
// as a render that named them would.
func (h *harness) know(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		if _, ok := h.a.users.Get(context.Background(), id); !ok {
			h.t.Fatalf("users.info does not know %s", id)
		}
	}
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// close waits for the adapter's work in flight, renders the live messages
// a last time and sends the pending updates, in kring serve's order.
func (h *harness) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.live.Close()
	if err := h.a.Close(ctx); err != nil {
		h.t.Errorf("close adapter: %v", err)
	}
}

func sign(secret string, ts int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// request is one delivery as Slack makes it.
type request struct {
	path     string
	body     string
	ts       int64
	secret   string
	headers  map[string]string
	unsigned bool
}

func (h *harness) send(r request) (*http.Response, []byte, time.Duration) {
	h.t.Helper()
	if r.ts == 0 {
		r.ts = time.Now().Unix()
	}
	if r.secret == "" {
		r.secret = testSecret
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !r.unsigned {
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(r.ts, 10))
		req.Header.Set("X-Slack-Signature", sign(r.secret, r.ts, r.body))
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := h.client.Do(req)
	took := time.Since(start)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body, took
}

// commandBody is a slash command as Slack form-encodes it.
func (h *harness) commandBody(user, channel, command, text string) string {
	n := h.n.Add(1)
	return url.Values{
		"token":        {"legacy-token"},
		"team_id":      {"T1"},
		"team_domain":  {"kring-test"},
		"channel_id":   {channel},
		"channel_name": {"algemeen"},
		"user_id":      {user},
		"user_name":    {strings.ToLower(user)},
		"command":      {command},
		"text":         {text},
		"api_app_id":   {"A1"},
		"response_url": {h.api.URL + "/respond/cmd-" + strconv.FormatInt(n, 10)},
		"trigger_id":   {fmt.Sprintf("trig-cmd-%s-%d", h.run, n)},
	}.Encode()
}

func (h *harness) command(user, channel, command, text string) (int, []byte) {
	h.t.Helper()
	resp, body, _ := h.send(request{path: "/slack/commands", body: h.commandBody(user, channel, command, text)})
	return resp.StatusCode, body
}

// clickBody is a block_actions payload for a click on button b of the
// message at ts, as Slack sends it.
func (h *harness) clickBody(user, channel, ts string, b *slack.ButtonBlockElement) string {
	return url.Values{"payload": {string(h.clickPayload(user, channel, ts, b))}}.Encode()
}

// clickPayload is the JSON of a block_actions click.
func (h *harness) clickPayload(user, channel, ts string, b *slack.ButtonBlockElement) []byte {
	n := h.n.Add(1)
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T1", "domain": "kring-test"},
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user), "team_id": "T1"},
		"api_app_id":   "A1",
		"token":        "legacy-token",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id":   fmt.Sprintf("trig-click-%s-%d", h.run, n),
		"channel":      map[string]any{"id": channel, "name": "algemeen"},
		"message":      h.messageEcho(ts),
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": h.api.URL + "/respond/click-" + strconv.FormatInt(n, 10),
		"actions": []map[string]any{{
			"type":      "button",
			"action_id": b.ActionID,
			"block_id":  "b1",
			"text":      map[string]any{"type": "plain_text", "text": b.Text.Text},
			"value":     b.Value,
			"action_ts": fmt.Sprintf("1700000100.%06d", n),
		}},
	}
	js, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

// messageEcho is the message at ts as Slack echoes it in a click's
// payload: its latest text and blocks as kring posted or updated them.
func (h *harness) messageEcho(ts string) map[string]any {
	m := map[string]any{"type": "message", "ts": ts, "user": "UBOT", "bot_id": "B1", "text": "poll"}
	for _, c := range h.api.recorded("chat.postMessage", "chat.update") {
		if c.TS == ts && c.Method == "chat.postMessage" || c.Method == "chat.update" && c.Form.Get("ts") == ts {
			m["text"] = c.Form.Get("text")
			if raw := c.Form.Get("blocks"); raw != "" {
				m["blocks"] = json.RawMessage(raw)
			}
		}
	}
	return m
}

func (h *harness) click(user, channel, ts string, b *slack.ButtonBlockElement) int {
	h.t.Helper()
	resp, _, _ := h.send(request{path: "/slack/interactions", body: h.clickBody(user, channel, ts, b)})
	return resp.StatusCode
}

// buttons lists the buttons of a posted message by action_id prefix.
func buttons(t testing.TB, c call, prefix string) []*slack.ButtonBlockElement {
	t.Helper()
	var out []*slack.ButtonBlockElement
	for _, blk := range c.blocks(t).BlockSet {
		ab, ok := blk.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if b, ok := el.(*slack.ButtonBlockElement); ok && strings.HasPrefix(b.ActionID, prefix) {
				out = append(out, b)
			}
		}
	}
	return out
}

// createPoll runs /poll and returns the posted message's call and ts.
func (h *harness) createPoll(text string) (call, string) {
	h.t.Helper()
	status, body := h.command("U1", "C1", "/poll", text)
	if status != http.StatusOK {
		h.t.Fatalf("/poll: status %d: %s", status, body)
	}
	posts := h.api.recorded("chat.postMessage")
	if len(posts) == 0 {
		h.t.Fatalf("/poll posted nothing; reply %s", body)
	}
	p := posts[len(posts)-1]
	return p, p.TS
}

// pollState reads the only poll of channel C1 and its ballots.
func (h *harness) pollState() (*poll.Poll, []poll.Ballot) {
	h.t.Helper()
	ctx := context.Background()
	ps, err := h.polls.List(ctx, bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"})
	if err != nil || len(ps) == 0 {
		h.t.Fatalf("no poll in C1: %v", err)
	}
	p, ballots, err := h.polls.Get(ctx, ps[0].ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return p, ballots
}
