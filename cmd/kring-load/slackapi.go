package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// slackBotToken is the bot token the Slack stand-in accepts.
const slackBotToken = "xoxb-load"

// slackMessage is a message as the stand-in holds it: its latest text and
// Block Kit.
type slackMessage struct {
	Channel, TS string
	Text        string
	Blocks      json.RawMessage
}

// readable is everything a person reads in the message, for the final
// count check.
func (m slackMessage) readable() string { return m.Text + "\n" + string(m.Blocks) }

// slackAPI is a stand-in of the Slack Web API methods kring calls, on
// loopback: it answers as Slack does, keeps every message's latest state
// and times every chat.update per message.
type slackAPI struct {
	*served
	start int64 // ts seconds: the stand-in's start, so ts differ across runs

	mu       sync.Mutex
	n        int
	posted   []slackMessage           // chat.postMessage, in order
	messages map[string]*slackMessage // by ts, latest state
	updates  map[string][]time.Time   // chat.update times by ts
	calls    map[string]int           // by method
	replies  map[string]int           // texts shown to one user (response_url, chat.postEphemeral)
	changed  chan struct{}            // closed and replaced on every change
}

func startSlackAPI(addr string) (*slackAPI, error) {
	s := &slackAPI{
		start:    time.Now().Unix(),
		messages: map[string]*slackMessage{},
		updates:  map[string][]time.Time{},
		calls:    map[string]int{},
		replies:  map[string]int{},
		changed:  make(chan struct{}),
	}
	srv, err := serve(addr, http.HandlerFunc(s.serveHTTP))
	if err != nil {
		return nil, fmt.Errorf("slack stand-in: %w", err)
	}
	s.served = srv
	return s, nil
}

// APIURL is the base URL kring's KRING_SLACK_API_URL takes.
func (s *slackAPI) APIURL() string { return s.URL + "/api/" }

// wait returns a channel closed on the next change.
func (s *slackAPI) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// posts returns the messages posted to channel, in order.
func (s *slackAPI) posts(channel string) []slackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []slackMessage
	for _, m := range s.posted {
		if m.Channel == channel {
			out = append(out, m)
		}
	}
	return out
}

// message returns the latest state of the message at ts.
func (s *slackAPI) message(ts string) (slackMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[ts]
	if !ok {
		return slackMessage{}, false
	}
	return *m, true
}

// updateTimes returns when the message at ts was updated.
func (s *slackAPI) updateTimes(ts string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.updates[ts]...)
}

// callCounts returns how often each method was called.
func (s *slackAPI) callCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

func (s *slackAPI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/respond/") {
		// A response_url takes the reply and says "ok", as Slack does.
		s.count("response_url")
		var reply struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(body, &reply)
		s.reply(reply.Text)
		fmt.Fprint(w, "ok")
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	form := params(r, body)
	s.count(method)
	if !s.authorized(r, form) {
		slackJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		slackJSON(w, map[string]any{"ok": true, "url": "https://kring-load.slack.com/", "team": "Kring Load",
			"user": "kring", "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"})
	case "chat.postMessage":
		s.postMessage(w, form)
	case "chat.update":
		s.update(w, form)
	case "chat.postEphemeral":
		s.reply(form.Get("text"))
		slackJSON(w, map[string]any{"ok": true, "message_ts": s.nextTS()})
	case "conversations.open":
		users := form.Get("users")
		if users == "" {
			slackJSON(w, map[string]any{"ok": false, "error": "users_list_not_supplied"})
			return
		}
		slackJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.ReplaceAll(users, ",", "")}})
	case "users.info":
		u := form.Get("user")
		if u == "" {
			slackJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		slackJSON(w, map[string]any{"ok": true, "user": map[string]any{
			"id": u, "team_id": "T1", "name": strings.ToLower(u), "real_name": "Stemmer " + u,
			"tz": "Europe/Amsterdam", "tz_offset": 3600, "locale": "nl-NL",
			"profile": map[string]any{"display_name": "Stemmer " + u, "real_name": "Stemmer " + u},
		}})
	default:
		slackJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// params reads a Web API call's arguments: a form, a JSON body or the
// query, as Slack takes all three.
func params(r *http.Request, body []byte) url.Values {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		v, _ := url.ParseQuery(string(body))
		return v
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		v := url.Values{}
		if json.Unmarshal(body, &m) == nil {
			for k, x := range m {
				if s, ok := x.(string); ok {
					v.Set(k, s)
				} else if js, err := json.Marshal(x); err == nil {
					v.Set(k, string(js))
				}
			}
		}
		return v
	}
	return r.URL.Query()
}

func (s *slackAPI) authorized(r *http.Request, form url.Values) bool {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t == slackBotToken
	}
	return form.Get("token") == slackBotToken
}

func (s *slackAPI) count(method string) {
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
}

// reply notes a text shown to one user.
func (s *slackAPI) reply(text string) {
	s.mu.Lock()
	s.replies[text]++
	s.mu.Unlock()
}

// replyCounts returns the texts shown to one user, with how often each.
func (s *slackAPI) replyCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.replies))
	for k, v := range s.replies {
		out[k] = v
	}
	return out
}

// nextTS is a new message ts, unique in this run.
func (s *slackAPI) nextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("%d.%06d", s.start, s.n)
}

func (s *slackAPI) postMessage(w http.ResponseWriter, form url.Values) {
	ch := form.Get("channel")
	if ch == "" {
		slackJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	m := slackMessage{Channel: ch, TS: s.nextTS(), Text: form.Get("text"), Blocks: json.RawMessage(form.Get("blocks"))}
	if len(m.Blocks) == 0 {
		m.Blocks = json.RawMessage("[]")
	}
	s.mu.Lock()
	s.posted = append(s.posted, m)
	s.messages[m.TS] = &m
	s.notifyLocked()
	s.mu.Unlock()
	slackJSON(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS,
		"message": map[string]any{"type": "message", "user": "UBOT", "bot_id": "BBOT", "text": m.Text, "ts": m.TS, "blocks": m.Blocks}})
}

func (s *slackAPI) update(w http.ResponseWriter, form url.Values) {
	ch, ts := form.Get("channel"), form.Get("ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[ts]
	if !ok || m.Channel != ch {
		slackJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	m.Text = form.Get("text")
	if b := form.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	s.updates[ts] = append(s.updates[ts], time.Now())
	s.notifyLocked()
	slackJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text})
}

// notifyLocked wakes whoever waits for a change; s.mu is held.
func (s *slackAPI) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func slackJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
