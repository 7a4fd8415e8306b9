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
)

// faultStore is a store in trouble, as the Mux and a handler meet it: its
// calls (the Mux's delivery check, the handler's own) answer after a
// while, time out by themselves (go-redis's read timeout on a frozen
// Redis), or hang until their context ends.
type faultStore struct {
	mode faultMode
	d    time.Duration

	mu     sync.Mutex
	calls  int
	served int // requests the handler finished with the store's answer
}

type faultMode int

const (
	answersAfter faultMode = iota // answers after d
	timesOut                      // gives up with a network timeout after d
	hangs                         // waits for its context to end
)

func (s *faultStore) do(ctx context.Context) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	switch s.mode {
	case timesOut:
		time.Sleep(s.d) // the client's read timeout, in the bubble's time
		return &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	case hangs:
		<-ctx.Done()
		return ctx.Err()
	}
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Once lets the store be the Mux's delivery log.
func (s *faultStore) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return true, s.do(ctx)
}

// faultMux is a real bot.Mux whose deliveries are checked in s and whose
// /poll command and poll.* actions make one call to s, as a vote does.
func faultMux(s *faultStore) *bot.Mux {
	m := &bot.Mux{Deliveries: s, Log: slog.New(slog.DiscardHandler)}
	serve := func(ctx context.Context) (*bot.Message, error) {
		if err := s.do(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.served++
		s.mu.Unlock()
		return bot.TextMessage("gedaan"), nil
	}
	m.Handle(bot.Command{Name: "/poll"}, bot.HandlerFunc(func(ctx context.Context, _ *bot.Request) (*bot.Message, error) { return serve(ctx) }))
	m.HandleAction("poll.", bot.ActionHandlerFunc(func(ctx context.Context, _ *bot.Action) (*bot.Message, error) { return serve(ctx) }))
	return m
}

// recordingTransport answers every HTTP call kring makes with 200, without
// a network, and keeps the bodies sent to response_urls and when they
// came. (A command's user is looked up in the background; that lookup
// gets a non-JSON answer and fails, which is fine here.)
type recordingTransport struct {
	mu     sync.Mutex
	bodies []string
	at     []time.Time
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Host == "hooks.example" {
		rt.mu.Lock()
		rt.bodies = append(rt.bodies, string(b))
		rt.at = append(rt.at, time.Now())
		rt.mu.Unlock()
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: r}, nil
}

func (rt *recordingTransport) all() ([]string, []time.Time) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.bodies...), append([]time.Time(nil), rt.at...)
}

const faultSecret = "fault-secret"

func newFaultAdapter(t *testing.T, mux Dispatcher, rt http.RoundTripper) *Adapter {
	t.Helper()
	a, err := New(Config{
		SigningSecret: faultSecret,
		BotToken:      "xoxb-test",
		Mux:           mux,
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

func faultCommand() *http.Request {
	return signedRequest("/slack/commands", url.Values{
		"command": {"/poll"}, "text": {"Lunch? Ja Nee"}, "team_id": {"T1"}, "channel_id": {"C1"},
		"user_id": {"U1"}, "user_name": {"cor"}, "trigger_id": {"tr1"}, "response_url": {"https://hooks.example/r1"},
	})
}

func faultClick(t *testing.T) *http.Request {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T1"},
		"user":         map[string]any{"id": "U1", "username": "cor"},
		"channel":      map[string]any{"id": "C1"},
		"container":    map[string]any{"type": "message", "message_ts": "1.1", "channel_id": "C1"},
		"trigger_id":   "tr2",
		"response_url": "https://hooks.example/r2",
		"actions":      []map[string]any{{"action_id": "poll.vote", "value": "p1:0", "action_ts": "1.5"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest("/slack/interactions", url.Values{"payload": {string(payload)}})
}

// serve sends r to a's endpoints and returns the answer and how long it
// took, in the bubble's time.
func serve(a *Adapter, r *http.Request) (*httptest.ResponseRecorder, time.Duration) {
	h := http.NewServeMux()
	a.Mount(h)
	start := time.Now()
	rec := &flushTimer{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(rec, r)
	if !rec.flushed.IsZero() {
		return rec.ResponseRecorder, rec.flushed.Sub(start)
	}
	return rec.ResponseRecorder, time.Since(start)
}

// flushTimer notes when a response was first flushed: a click whose work
// outlasts the deadline is answered then, while its handler goes on.
type flushTimer struct {
	*httptest.ResponseRecorder
	flushed time.Time
}

func (f *flushTimer) Flush() {
	if f.flushed.IsZero() {
		f.flushed = time.Now()
	}
	f.ResponseRecorder.Flush()
}

const tryAgain = "Probeer het zo opnieuw"

// ack is what kring reads back of a command's acknowledgement.
type ack struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// TestTimedOutStoreCommandAnsweredInTime: a store that gives up by its own
// timeout (go-redis's read timeout on a frozen Redis: a second for the
// delivery check, another for the handler's call) gets a slash command the
// Mux's "probeer het zo opnieuw" in the acknowledgement itself, within
// AckWithin. The time is the bubble's fake clock, so the bound is exact,
// not a guess about machine speed.
func TestTimedOutStoreCommandAnsweredInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &faultStore{mode: timesOut, d: time.Second}
		a := newFaultAdapter(t, faultMux(store), &recordingTransport{})
		defer a.Close(context.Background())

		rec, took := serve(a, faultCommand())
		if took >= a.cfg.AckWithin {
			t.Errorf("acknowledged after %v, want within AckWithin (%v)", took, a.cfg.AckWithin)
		}
		var reply ack
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || rec.Code != 200 {
			t.Fatalf("ack %d %q: %v", rec.Code, rec.Body, err)
		}
		if !strings.Contains(reply.Text, tryAgain) || reply.ResponseType != "ephemeral" {
			t.Errorf("ack %+v, want an ephemeral %q", reply, tryAgain)
		}
		// The delivery check timed out: the handler is not run into the
		// same hang.
		if store.calls != 1 || store.served != 0 {
			t.Errorf("%d store calls, %d served; want only the delivery check, not served", store.calls, store.served)
		}
	})
}

// TestTimedOutStoreClickAnsweredInTime: a click on such a store is
// acknowledged in time, and the "try again" goes to its response_url
// within the ack window too, not after some longer timeout.
func TestTimedOutStoreClickAnsweredInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, rt := &faultStore{mode: timesOut, d: time.Second}, &recordingTransport{}
		a := newFaultAdapter(t, faultMux(store), rt)

		start := time.Now()
		rec, took := serve(a, faultClick(t))
		if took >= a.cfg.AckWithin || rec.Code != 200 {
			t.Errorf("click acknowledged with %d after %v, want 200 within %v", rec.Code, took, a.cfg.AckWithin)
		}
		// The reply is sent by the adapter's runner; Close waits for it.
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		bodies, at := rt.all()
		if len(bodies) != 1 || !strings.Contains(bodies[0], tryAgain) {
			t.Fatalf("response_url got %q, want one %q", bodies, tryAgain)
		}
		if d := at[0].Sub(start); d >= a.cfg.AckWithin {
			t.Errorf("the reply went out after %v, want within %v", d, a.cfg.AckWithin)
		}
	})
}

// TestHungStoreAcknowledgedInTime: a store that hangs past the ack window
// (one that ignores its own timeouts) cannot hold up the acknowledgement:
// the command and the click are acknowledged empty when the window ends,
// handled at most once, and the "try again" the work ends with, when its
// context runs out, still reaches the user through the response_url.
func TestHungStoreAcknowledgedInTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(*testing.T) *http.Request
		url  string
	}{
		{"command", func(*testing.T) *http.Request { return faultCommand() }, "r1"},
		{"click", faultClick, "r2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store, rt := &faultStore{mode: hangs}, &recordingTransport{}
				a := newFaultAdapter(t, faultMux(store), rt)
				start := time.Now()
				rec, took := serve(a, tc.req(t))
				if took != a.cfg.AckWithin || rec.Code != 200 || rec.Body.Len() != 0 {
					t.Errorf("acknowledged with %d %q after %v, want an empty 200 at the end of the window, %v", rec.Code, rec.Body, took, a.cfg.AckWithin)
				}
				if err := a.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				bodies, at := rt.all()
				if len(bodies) != 1 || !strings.Contains(bodies[0], tryAgain) {
					t.Fatalf("response_url got %q, want one late %q", bodies, tryAgain)
				}
				if d := at[0].Sub(start); d < a.cfg.AckWithin {
					t.Errorf("late reply after %v, before the acknowledgement", d)
				}
				if store.served != 0 {
					t.Errorf("served %d times on a hung store", store.served)
				}
			})
		})
	}
}

// TestSlowStoreStillHandles: a store that answers late, but within the
// ack window, is no reason to refuse the request.
func TestSlowStoreStillHandles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &faultStore{mode: answersAfter, d: time.Second}
		a := newFaultAdapter(t, faultMux(store), &recordingTransport{})
		defer a.Close(context.Background())
		rec, _ := serve(a, faultCommand())
		var reply ack
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.Text != "gedaan" || store.served != 1 {
			t.Errorf("ack %q after %d handlings, want the handler's reply", rec.Body, store.served)
		}
	})
}
