package slack

import (
	"encoding/json"
	"fmt"
	"github.com/kringbot/kring/bot/bottest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// call is one request the Web API stand-in received.
type call struct {
	Method string // "chat.postMessage", or "respond" for a response_url, "upload" for a file body
	Path   string // the URL path called, telling one response_url from another
	Form   url.Values
	Body   []byte
	At     time.Time
	TS     string // the ts the stand-in gave a posted message
}

// blocks decodes the call's Block Kit.
func (c call) blocks(t testing.TB) slack.Blocks {
	t.Helper()
	raw := c.Form.Get("blocks")
	if raw == "" && len(c.Body) > 0 {
		var m struct {
			Blocks json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(c.Body, &m); err == nil {
			raw = string(m.Blocks)
		}
	}
	var bs slack.Blocks
	if raw == "" {
		return bs
	}
	if err := json.Unmarshal([]byte(raw), &bs); err != nil {
		t.Fatalf("%s: blocks do not decode: %v\n%s", c.Method, err, raw)
	}
	return bs
}

// text is everything a person would read in the call's message.
func (c call) text(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(c.Form.Get("text"))
	if len(c.Body) > 0 {
		var m struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(c.Body, &m) == nil {
			b.WriteString(m.Text)
		}
	}
	for _, blk := range c.blocks(t).BlockSet {
		js, _ := json.Marshal(blk)
		b.WriteString("\n" + string(js))
	}
	return b.String()
}

// standin is a local Slack Web API that records calls. fail maps a method
// (or "method:channel") to the Slack error it answers with.
type standin struct {
	*httptest.Server
	t testing.TB

	mu    sync.Mutex
	calls []call
	fail  map[string]string
	// hold keeps the answer to a method (or "method:user") until the
	// channel is closed.
	hold map[string]chan struct{}
	ts   int
	// wsURL is what apps.connections.open returns.
	wsURL string
	// changed is closed and replaced on every call, to wait on.
	changed chan struct{}
	// state is what Slack would hold now: see standin_state_test.go.
	state standinState
}

// waitFor waits until ok holds for the recorded calls, or fails the test
// after a minute: the limit catches a hang, it is no bound on speed (in a
// synctest bubble the minute is fake and passes only when all is stuck).
func (s *standin) waitFor(what string, ok func([]call) bool) []call {
	s.t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	for {
		s.mu.Lock()
		calls := append([]call(nil), s.calls...)
		ch := s.changed
		s.mu.Unlock()
		if ok(calls) {
			return calls
		}
		select {
		case <-ch:
		case <-limit.C:
			s.t.Fatalf("stand-in never saw %s", what)
		}
	}
}

// newStandinOn serves the stand-in on n as http://slack.test:80, or on a
// loopback port when n is nil.
func newStandinOn(t testing.TB, n *bottest.PipeNet) *standin {
	s := &standin{t: t, fail: map[string]string{}, changed: make(chan struct{})}
	s.Server = n.Serve(http.HandlerFunc(s.serve), "slack.test:80")
	t.Cleanup(s.Close)
	return s
}

func (s *standin) apiURL() string { return s.URL + "/api/" }

// holdUntil keeps the answers to key ("method:user") until release.
func (s *standin) holdUntil(key string, release chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = map[string]chan struct{}{}
	}
	s.hold[key] = release
}

// count is how many calls of method the stand-in received with form
// field key set to value ("" value: any).
func (s *standin) count(method, key, value string) int {
	n := 0
	for _, c := range s.recorded(method) {
		if value == "" || c.Form.Get(key) == value {
			n++
		}
	}
	return n
}

func (s *standin) setFail(key, slackErr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[key] = slackErr
}

// recorded returns the calls of the methods named, or every call.
func (s *standin) recorded(methods ...string) []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func (s *standin) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{Body: body, At: time.Now(), Path: r.URL.Path}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		c.Form, _ = url.ParseQuery(string(body))
	} else {
		c.Form = r.URL.Query()
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/respond/"):
		c.Method = "respond"
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		c.Method = "upload"
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.ts++
	ts := s.ts
	c.TS = fmt.Sprintf("1700000000.%06d", ts)
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
	failure := s.fail[c.Method]
	if f, ok := s.fail[c.Method+":"+c.Form.Get("channel")]; ok {
		failure = f
	}
	if f, ok := s.fail[c.Method+":"+c.Form.Get("user")]; ok && c.Form.Get("user") != "" {
		failure = f
	}
	hold := s.hold[c.Method+":"+c.Form.Get("user")]
	wsURL := s.wsURL
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}

	if failure == "ratelimited" {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if failure != "" {
		resp := map[string]any{"ok": false, "error": failure}
		if failure == "missing_scope" {
			resp["needed"] = "files:write"
			resp["provided"] = "commands,chat:write"
		}
		writeJSON(w, resp)
		return
	}
	if s.applyToState(w, c) {
		return
	}
	switch c.Method {
	case "respond", "upload":
		fmt.Fprint(w, "ok")
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user": "kring", "team": "Kring Test", "team_id": "T1", "user_id": "UBOT"})
	case "chat.postMessage":
		writeJSON(w, map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.TS})
	case "chat.update":
		writeJSON(w, map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")})
	case "chat.postEphemeral":
		writeJSON(w, map[string]any{"ok": true, "message_ts": fmt.Sprintf("1700000000.%06d", ts)})
	case "conversations.open":
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + c.Form.Get("users")}})
	case "views.open":
		writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": "V1"}})
	case "files.getUploadURLExternal":
		writeJSON(w, map[string]any{"ok": true, "upload_url": s.URL + "/upload/F1", "file_id": "F1"})
	case "files.completeUploadExternal":
		writeJSON(w, map[string]any{"ok": true, "files": []map[string]any{{"id": "F1", "title": "export"}}})
	case "apps.connections.open":
		writeJSON(w, map[string]any{"ok": true, "url": wsURL})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
