package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// hungStore is a Deduper whose store does not answer, as a frozen Redis:
// every call waits for its context to end. It records the deadline each
// call got.
type hungStore struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (h *hungStore) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Time{}
	}
	h.mu.Lock()
	h.deadlines = append(h.deadlines, d)
	h.mu.Unlock()
	<-ctx.Done()
	return false, ctx.Err()
}

// countingMux records whether a request got past the delivery check; its
// Locale, like a Mux on a hung store, falls back to the default language
// once its context has ended.
type countingMux struct {
	mu     sync.Mutex
	served int
}

func (m *countingMux) ServeCommand(ctx context.Context, req *bot.Request) bot.Reply {
	m.mu.Lock()
	m.served++
	m.mu.Unlock()
	return bot.Reply{Message: bot.TextMessage("gedaan")}
}

func (m *countingMux) ServeAction(ctx context.Context, act *bot.Action) bot.Reply {
	return m.ServeCommand(ctx, nil)
}

func (m *countingMux) Locale(ctx context.Context, _ bot.Where) string {
	if ctx.Err() == nil {
		<-ctx.Done() // the store hangs until the caller's deadline
	}
	return "nl"
}

// recordingTransport answers every HTTP call kring makes (response_urls)
// with 200 and keeps the bodies, without a network.
type recordingTransport struct {
	mu     sync.Mutex
	bodies []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	rt.bodies = append(rt.bodies, string(b))
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: r}, nil
}

func (rt *recordingTransport) all() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.bodies...)
}

const faultSecret = "fault-secret"

func newFaultAdapter(t *testing.T, store Deduper, mux Dispatcher, rt http.RoundTripper) *Adapter {
	t.Helper()
	a, err := New(Config{
		SigningSecret: faultSecret,
		BotToken:      "xoxb-test",
		Mux:           mux,
		Dedupe:        store,
		Log:           slog.New(slog.DiscardHandler),
		HTTPClient:    &http.Client{Transport: rt},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// signedRequest is a POST Slack would send at the (bubble's) current time.
func signedRequest(path string, form url.Values) *http.Request {
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(faultSecret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return r
}

// TestHungStoreCommandAnsweredInTime: with a store that does not answer,
// a slash command still gets its acknowledgement within AckWithin, and that
// acknowledgement asks the user to try again. The time is the bubble's
// fake clock, so the bound is exact, not a guess about machine speed.
func TestHungStoreCommandAnsweredInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, mux, rt := &hungStore{}, &countingMux{}, &recordingTransport{}
		a := newFaultAdapter(t, store, mux, rt)
		defer a.Close(context.Background())
		h := http.NewServeMux()
		a.Mount(h)

		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest("/slack/commands", url.Values{
			"command": {"/poll"}, "text": {"Lunch? Ja Nee"}, "team_id": {"T1"}, "channel_id": {"C1"},
			"user_id": {"U1"}, "user_name": {"cor"}, "trigger_id": {"tr1"}, "response_url": {"https://hooks.example/r1"},
		}))
		took := time.Since(start)

		if took >= a.cfg.AckWithin {
			t.Errorf("acknowledged after %v, want within AckWithin (%v)", took, a.cfg.AckWithin)
		}
		var reply struct {
			ResponseType string `json:"response_type"`
			Text         string `json:"text"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || rec.Code != 200 {
			t.Fatalf("ack %d %q: %v", rec.Code, rec.Body, err)
		}
		if !strings.Contains(reply.Text, "Probeer het zo opnieuw") || reply.ResponseType != "ephemeral" {
			t.Errorf("ack %+v, want an ephemeral \"probeer het zo opnieuw\"", reply)
		}
		if mux.served != 0 {
			t.Errorf("the command was handled %d times although its delivery could not be checked", mux.served)
		}
		checkDeadlines(t, store, start, a.cfg.AckWithin)
	})
}

// TestHungStoreClickAnsweredInTime: a click on a hung store is acknowledged
// in time, and the "try again" reply goes to its response_url at once, not
// after the store's timeouts.
func TestHungStoreClickAnsweredInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, mux, rt := &hungStore{}, &countingMux{}, &recordingTransport{}
		a := newFaultAdapter(t, store, mux, rt)
		h := http.NewServeMux()
		a.Mount(h)

		cb := slack.InteractionCallback{
			Type:        slack.InteractionTypeBlockActions,
			Team:        slack.Team{ID: "T1"},
			User:        slack.User{ID: "U1", Name: "cor"},
			Channel:     slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: "C1"}}},
			TriggerID:   "tr2",
			ResponseURL: "https://hooks.example/r2",
			ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{
				{ActionID: "poll.vote", Value: "p1:0", ActionTs: "1.5"},
			}},
		}
		payload, err := json.Marshal(cb)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest("/slack/interactions", url.Values{"payload": {string(payload)}}))
		if took := time.Since(start); took >= a.cfg.AckWithin || rec.Code != 200 {
			t.Errorf("click acknowledged with %d after %v, want 200 within %v", rec.Code, took, a.cfg.AckWithin)
		}
		// The reply is sent by a goroutine of the adapter; Close waits for it.
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took >= a.cfg.AckWithin {
			t.Errorf("the reply went out after %v, want within %v", took, a.cfg.AckWithin)
		}
		bodies := rt.all()
		if len(bodies) != 1 || !strings.Contains(bodies[0], "Probeer het zo opnieuw") {
			t.Errorf("response_url got %q, want one \"probeer het zo opnieuw\"", bodies)
		}
		if mux.served != 0 {
			t.Errorf("the click was handled %d times although its delivery could not be checked", mux.served)
		}
		checkDeadlines(t, store, start, a.cfg.AckWithin)
	})
}

// TestSlowStoreStillHandles: a store that answers the delivery check late,
// but within its share of the budget, is no reason to refuse the request.
func TestSlowStoreStillHandles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mux := &countingMux{}
		a := newFaultAdapter(t, slowOnce(1500*time.Millisecond), mux, &recordingTransport{})
		defer a.Close(context.Background())
		ack, err := a.command(slack.SlashCommand{Command: "/poll", TeamID: "T1", ChannelID: "C1", UserID: "U1", TriggerID: "tr3"}, "sig")
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := ack.(commandReply); !ok || r.Text != "gedaan" || mux.served != 1 {
			t.Errorf("ack %#v after %d handlings, want the handler's reply", ack, mux.served)
		}
	})
}

// TestTimedOutStoreAsksToTryAgain: a store that gives up with its own
// timeout before the budget ends (go-redis's read timeout on a frozen
// Redis) is hung too: the user is asked to try again instead of waiting
// for the request's other store calls to time out one after another.
func TestTimedOutStoreAsksToTryAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mux := &countingMux{}
		a := newFaultAdapter(t, timedOut{}, mux, &recordingTransport{})
		defer a.Close(context.Background())
		ack, err := a.command(slack.SlashCommand{Command: "/poll", TeamID: "T1", ChannelID: "C1", UserID: "U1", TriggerID: "tr4"}, "sig")
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := ack.(commandReply); !ok || !strings.Contains(r.Text, "Probeer het zo opnieuw") || mux.served != 0 {
			t.Errorf("ack %#v after %d handlings, want \"probeer het zo opnieuw\" and none", ack, mux.served)
		}
	})
}

// timedOut is a Deduper whose store times out after a second.
type timedOut struct{}

func (timedOut) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	time.Sleep(time.Second) // the client's read timeout, in the bubble's time
	return false, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

// slowOnce is a Deduper that answers "new" after d.
type slowOnce time.Duration

func (d slowOnce) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	t := time.NewTimer(time.Duration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// checkDeadlines wants every store call made for the request to have had a
// deadline within the acknowledgement's budget.
func checkDeadlines(t *testing.T, store *hungStore, start time.Time, budget time.Duration) {
	t.Helper()
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.deadlines) == 0 {
		t.Fatal("the delivery check never reached the store")
	}
	for _, d := range store.deadlines {
		if d.IsZero() || d.After(start.Add(budget)) {
			t.Errorf("a store call had deadline %v, want one within %v of the request", d.Sub(start), budget)
		}
	}
}
