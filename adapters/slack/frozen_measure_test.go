package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/storage/redis"
	"github.com/slack-go/slack"
)

// TestMeasureFrozenRedis is a measurement, not a test: it runs only with
// KRING_MEASURE_FROZEN=1 and a Redis at KRING_TEST_REDIS (default
// redis://127.0.0.1:6379/15). It puts a proxy between kring and that Redis,
// freezes the proxy (the Redis itself is never stopped), sends 90 signed
// clicks over HTTP on loopback, 10 at a time, and prints how long each
// acknowledgement and each "try again" reply took. BENCHMARKS.md has the
// figures. It measures two kinds of click: one whose handler records its
// delivery with its own single store call, as a vote does ("vote"), and
// one whose delivery the Mux checks before the handler's store call
// ("other": two calls on the frozen store).
func TestMeasureFrozenRedis(t *testing.T) {
	if os.Getenv("KRING_MEASURE_FROZEN") != "1" {
		t.Skip("a measurement; set KRING_MEASURE_FROZEN=1 to run it")
	}
	t.Run("vote", func(t *testing.T) { measureFrozen(t, true) })
	t.Run("other", func(t *testing.T) { measureFrozen(t, false) })
}

// recordingHandler answers m.* with one store call; it says it records
// the delivery itself when records is set.
type recordingHandler struct {
	bot.ActionHandlerFunc
	records bool
}

func (h recordingHandler) RecordsDelivery(string) bool { return h.records }

func measureFrozen(t *testing.T, recorder bool) {
	target := os.Getenv("KRING_TEST_REDIS")
	if target == "" {
		target = "redis://127.0.0.1:6379/15"
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	px := newMeasureProxy(t, u.Host)
	store, err := redis.Open(context.Background(), "redis://"+px.ln.Addr().String()+u.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	var replyMu sync.Mutex
	replyAt := map[string]time.Time{}
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		replyMu.Lock()
		replyAt[r.URL.Path] = time.Now()
		replyMu.Unlock()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: r}, nil
	})
	mux := &bot.Mux{Settings: store.Settings(), Log: slog.New(slog.DiscardHandler), Deliveries: store.Jobs()}
	mux.HandleAction("m.", recordingHandler{records: recorder, ActionHandlerFunc: func(ctx context.Context, act *bot.Action) (*bot.Message, error) {
		if _, err := store.Polls().Poll(ctx, "measure"); err != nil {
			return nil, err
		}
		return bot.TextMessage("ok"), nil
	}})
	a, err := New(Config{SigningSecret: faultSecret, BotToken: "xoxb-m", Mux: mux,
		Log: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.NewServeMux()
	a.Mount(h)
	srv := httptest.NewServer(h)
	defer srv.Close()

	px.freeze()
	run := bot.NewID(6)
	var (
		mu   sync.Mutex
		acks []time.Duration
		sent = map[string]time.Time{}
		late int
	)
	for wave := range 9 {
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				id := fmt.Sprintf("%s-%d-%d", run, wave, i)
				cb := slack.InteractionCallback{
					Type: slack.InteractionTypeBlockActions, Team: slack.Team{ID: "T1"}, User: slack.User{ID: "U" + id},
					Channel:   slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: "C1"}}},
					TriggerID: "tr" + id, ResponseURL: "https://hooks.example/" + id,
					ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: "m.x", Value: "1", ActionTs: "1"}}},
				}
				payload, _ := json.Marshal(cb)
				req := signedRequest("/slack/interactions", url.Values{"payload": {string(payload)}})
				req.RequestURI = ""
				req.URL, _ = url.Parse(srv.URL + "/slack/interactions")
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				took := time.Since(start)
				if err == nil {
					resp.Body.Close()
				}
				mu.Lock()
				acks = append(acks, took)
				sent["/"+id] = start
				if took > 3*time.Second {
					late++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	a.Close(context.Background())
	px.thaw()
	var replies []time.Duration
	for p, at := range replyAt {
		if s, ok := sent[p]; ok {
			replies = append(replies, at.Sub(s))
		}
	}
	slices.Sort(acks)
	slices.Sort(replies)
	pct := func(d []time.Duration, q float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[int(q*float64(len(d)-1))].Round(time.Millisecond)
	}
	t.Logf("acks: %d, after 3 s: %d, median %v, p95 %v, max %v", len(acks), late, pct(acks, .5), pct(acks, .95), pct(acks, 1))
	t.Logf("replies through response_url: %d, median %v, max %v", len(replies), pct(replies, .5), pct(replies, 1))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// measureProxy forwards to Redis and can stop forwarding while keeping
// the connections open.
type measureProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	thawed chan struct{}
	conns  []net.Conn
}

func newMeasureProxy(t *testing.T, target string) *measureProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &measureProxy{ln: ln, thawed: make(chan struct{})}
	close(p.thawed)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.thaw()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *measureProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.thawed
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *measureProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default:
	}
}

func (p *measureProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}
