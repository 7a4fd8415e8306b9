package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/server"
	"github.com/kringbot/kring/storage"
)

// TestScaleOut runs two, then three kring serve on one Redis behind one
// address that hands each request to the next of them, as a load balancer
// does. People vote on a Slack poll and on a Mattermost poll, their clicks
// spread over every process; then the polls close on time, and the
// processes stop one after the other. Every vote counts once, each poll's
// closing job runs once (one closing notice), and each message ends on
// the final state.
func TestScaleOut(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) { testScaleOut(t, n) })
	}
}

func testScaleOut(t *testing.T, n int) {
	const voters = 90 // per poll, a third for each option
	port := freePort(t)
	startRedis(t, port)
	store := fmt.Sprintf("redis://127.0.0.1:%d/0", port)

	mm := mattermosttest.New(t)
	mmUsers(mm)
	users := make([]string, voters)
	for i := range users {
		users[i] = fmt.Sprintf("lid%023d", i)
		mm.AddUser(users[i], fmt.Sprintf("lid%d", i), "Lid", fmt.Sprint(i), "")
	}
	api := newSlackAPI(t)
	lb := newBalancer(t)
	// One clock for all: the processes share the schedule, and the test
	// moves the polls' closing time near.
	clock := bottest.NewClock(time.Now().Truncate(time.Second))
	var procs []*scaleServe
	for i := range n {
		procs = append(procs, startScaleServe(t, fmt.Sprintf("kring%d", i+1), clock, Config{
			Store: store, Locale: "nl", Timezone: "Europe/Amsterdam", PublicURL: lb.URL,
			ActionSecret: mmSecret, MattermostURL: mm.URL, MattermostBotToken: mm.BotToken, MattermostCommandToken: mmToken,
			SlackSigningSecret: signingSecret, SlackBotToken: "xoxb-test", SlackAPIURL: api.URL + "/api/",
		}))
	}
	for _, p := range procs {
		lb.add(p.url)
	}

	// A poll on each platform, through the one address.
	const slackQ, mmQ = "Kennistafel in juni?", "Regiodag in oktober?"
	cmd := url.Values{
		"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"anna"},
		"command": {"/poll"}, "text": {`"` + slackQ + `" Ja Nee Misschien --sluit=1h`}, "trigger_id": {"trig-poll"},
		"response_url": {api.URL + "/respond/poll"},
	}.Encode()
	if code, body := postSigned(t, lb.URL+"/slack/commands", cmd); code != http.StatusOK {
		t.Fatalf("slack /poll: %d %s", code, body)
	}
	posts := api.recorded("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d chat.postMessage after /poll, want 1", len(posts))
	}
	ts, votes := posts[0].Get("returned_ts"), slackVoteButtons(t, posts[0].Get("blocks"))
	slackPoll, _, _ := strings.Cut(votes[0].Value, ":")

	if r, err := mm.Command(lb.URL+"/mattermost/commands", mmToken, anna, mmChannel, `/poll "`+mmQ+`" Ja Nee Misschien --sluit=1h`); err != nil || r.Status != http.StatusOK {
		t.Fatalf("mattermost /poll: %v %+v", err, r)
	}
	post := mm.Posts()[0].Id
	mmPoll := pollIDOf(t, mm.Post(post).Message)

	// Everyone votes on both, ten clicks at a time, spread over the
	// processes.
	var refused atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for range 10 {
		wg.Go(func() {
			for i := range next {
				user := fmt.Sprintf("U%03d", i)
				b := votes[i%3]
				payload, _ := json.Marshal(map[string]any{
					"type": "block_actions", "team": map[string]any{"id": "T1"},
					"user":       map[string]any{"id": user, "name": strings.ToLower(user)},
					"channel":    map[string]any{"id": "C1"},
					"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": "C1"},
					"trigger_id": "trig-click-" + user, "response_url": api.URL + "/respond/" + user,
					"actions": []map[string]any{{"type": "button", "block_id": "votes", "action_id": b.ActionID, "value": b.Value, "action_ts": fmt.Sprintf("1700000001.%06d", i)}},
				})
				if code, body := postSigned(t, lb.URL+"/slack/interactions", url.Values{"payload": {string(payload)}}.Encode()); code != http.StatusOK {
					refused.Add(1)
					t.Errorf("slack click by %s: %d %s", user, code, body)
				}
				if r, err := mm.Click(nil, post, i%3, users[i]); err != nil || r.Status != http.StatusOK {
					refused.Add(1)
					t.Errorf("mattermost click by %s: %v %d %s", users[i], err, r.Status, r.Body)
				}
			}
		})
	}
	for i := range voters {
		next <- i
	}
	close(next)
	wg.Wait()
	if refused.Load() > 0 {
		t.FailNow()
	}
	for _, path := range clickPaths {
		if hits := lb.clicks(path); slices.Contains(hits, 0) {
			t.Errorf("a process got no clicks on %s: %v", path, hits)
		}
	}

	// The polls close on time: whichever process claims a closing job
	// runs it. The clock then stands still, so the durable renders that
	// follow the closing are not due yet.
	stores, err := storage.Open(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	clock.Advance(time.Hour + time.Minute)
	eventually(t, "both polls closed and announced", func() bool {
		return isClosed(t, stores, slackPoll) && isClosed(t, stores, mmPoll) &&
			len(slackNotices(api, slackQ)) > 0 && len(mmNotices(mm, mmQ)) > 0
	})

	// The processes stop one by one, as in a rolling restart, each sending
	// what it holds; an update a process paced before the closing may land
	// after the closed state. The last one standing runs the durable
	// renders once they are due: each sends the message as the store has
	// it, even when it sent the same before, so the final state lands last.
	for _, p := range procs[1:] {
		lb.closeIdle() // else a server waits five seconds for a connection the balancer opened and never used
		p.stop()
	}
	slackBefore, mmBefore := len(slackUpdates(api, ts)), mm.Updates(post)
	clock.Advance(10 * time.Second)
	final := []string{"(gesloten)", fmt.Sprintf("%d stemmers", voters)}
	eventually(t, "the durable renders put both polls in their final state", func() bool {
		return len(slackUpdates(api, ts)) > slackBefore && mm.Updates(post) > mmBefore &&
			containsAll(lastSlackUpdate(api, ts), final) && containsAll(mm.Post(post).Message, final)
	})
	lb.closeIdle()
	procs[0].stop()

	if got := slackNotices(api, slackQ); len(got) != 1 {
		t.Errorf("%d closing notices of the Slack poll, want 1: %q", len(got), got)
	}
	if got := mmNotices(mm, mmQ); len(got) != 1 {
		t.Errorf("%d closing notices of the Mattermost poll, want 1: %q", len(got), got)
	}
	if last := lastSlackUpdate(api, ts); !containsAll(last, final) {
		t.Errorf("the Slack poll ends as:\n%s\nwant %q", last, final)
	}
	if last := mm.Post(post).Message; !containsAll(last, final) {
		t.Errorf("the Mattermost poll ends as:\n%s\nwant %q", last, final)
	}

	// The store has every vote once, and no closing job left.
	for _, id := range []string{slackPoll, mmPoll} {
		p, ballots, err := stores.Polls.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("poll %s: %v", id, err)
		}
		counts := make([]int, len(p.Options))
		for _, b := range ballots {
			for _, o := range b.Options {
				counts[o]++
			}
		}
		if len(ballots) != voters || !slices.Equal(counts, []int{voters / 3, voters / 3, voters / 3}) || !p.Closed {
			t.Errorf("poll %s (%s): %d ballots, counts %v, closed %t; want %d, a third each, closed",
				id, p.Where.Platform, len(ballots), counts, p.Closed, voters)
		}
		_, tally, err := stores.Polls.Tally(t.Context(), id)
		if err != nil || tally.Voters != voters || !slices.Equal(tally.Counts, counts) {
			t.Errorf("tally of poll %s: %+v, %v; want %d voters, counts %v", id, tally, err, voters, counts)
		}
	}
	left, err := stores.Jobs.Claim(t.Context(), clock.Now().AddDate(1, 0, 0), "test", time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range left {
		if j.Kind == "poll.close" {
			t.Errorf("closing job %s is still in the schedule", j.ID)
		}
	}
	t.Logf("%d processes: clicks per process on Slack %v, on Mattermost %v", n, lb.clicks(clickPaths[0]), lb.clicks(clickPaths[1]))
}

// scaleServe is one kring serve among several, wired as runServe wires it
// (as startMattermostServe does) but on a clock the test shares between
// the processes and moves.
type scaleServe struct {
	url  string
	stop func()
}

func startScaleServe(t *testing.T, name string, clock bot.Clock, c Config) *scaleServe {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	m.Config = c
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil)).With("process", name)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := m.newApp(ctx, log, clock, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(log)
	a.mux.Observe = srv.Metrics.Observe
	var platforms []platform
	for _, make := range []func(*app) (platform, error){m.slackPlatform, m.mattermostPlatform} {
		p, err := make(a)
		if err != nil {
			t.Fatalf("%s: platform: %v", name, err)
		}
		if p != nil {
			platforms = append(platforms, p)
			a.posters[p.Name()] = p.Poster()
			p.Mount(srv.Mux)
		}
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, log, srv, l, a, platforms) }()
	var once sync.Once
	s := &scaleServe{url: "http://" + l.Addr().String()}
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: serve: %v", name, err)
			}
			a.close()
		})
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s logged:\n%s", name, logs.String())
		}
	})
	return s
}

// balancer is one address in front of several kring serve. It hands the
// requests of each path to the backends in turn, so that every process
// gets its share of each platform's clicks.
type balancer struct {
	*httptest.Server
	transport *http.Transport
	mu        sync.Mutex
	backends  []*httputil.ReverseProxy
	next      map[string]int   // by path, the number of requests so far
	hits      map[string][]int // by click path, the clicks each backend got
}

// clickPaths are the endpoints that take clicks.
var clickPaths = []string{"/slack/interactions", "/mattermost/actions"}

func newBalancer(t *testing.T) *balancer {
	b := &balancer{transport: &http.Transport{}, next: map[string]int{}, hits: map[string][]int{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		if len(b.backends) == 0 {
			b.mu.Unlock()
			http.Error(w, "no kring behind the balancer yet", http.StatusServiceUnavailable)
			return
		}
		i := b.next[r.URL.Path] % len(b.backends)
		b.next[r.URL.Path]++
		if slices.Contains(clickPaths, r.URL.Path) {
			if b.hits[r.URL.Path] == nil {
				b.hits[r.URL.Path] = make([]int, len(b.backends))
			}
			b.hits[r.URL.Path][i]++
		}
		proxy := b.backends[i]
		b.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		b.Close()
		b.transport.CloseIdleConnections()
	})
	return b
}

func (b *balancer) add(backend string) {
	u, _ := url.Parse(backend)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = b.transport
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, proxy)
}

// closeIdle closes the connections to the backends that carry no request.
func (b *balancer) closeIdle() { b.transport.CloseIdleConnections() }

// clicks is how many clicks of path each backend was handed.
func (b *balancer) clicks(path string) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]int, len(b.backends))
	copy(out, b.hits[path])
	return out
}

// slackVoteButtons reads a poll's vote buttons from its Block Kit JSON.
func slackVoteButtons(t *testing.T, blocksJSON string) []*slack.ButtonBlockElement {
	t.Helper()
	var blocks slack.Blocks
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
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
	if len(votes) != 3 {
		t.Fatalf("%d vote buttons, want 3", len(votes))
	}
	return votes
}

// slackUpdates are the chat.update calls of the message ts, as text and
// blocks, in the order Slack got them.
func slackUpdates(api *slackAPI, ts string) []string {
	var out []string
	for _, u := range api.recorded("chat.update") {
		if u.Get("ts") == ts {
			out = append(out, u.Get("text")+"\n"+u.Get("blocks"))
		}
	}
	return out
}

// lastSlackUpdate is what Slack shows of the message ts.
func lastSlackUpdate(api *slackAPI, ts string) string {
	u := slackUpdates(api, ts)
	if len(u) == 0 {
		return ""
	}
	return u[len(u)-1]
}

// isClosed reports whether the store has poll id closed.
func isClosed(t *testing.T, stores *storage.Stores, id string) bool {
	p, err := stores.Polls.Poll(t.Context(), id)
	if err != nil {
		t.Fatalf("poll %s: %v", id, err)
	}
	return p.Closed
}

// slackNotices are the closing notices posted of the poll question q.
func slackNotices(api *slackAPI, q string) []string {
	var out []string
	for _, p := range api.recorded("chat.postMessage") {
		if text := p.Get("text") + p.Get("blocks"); strings.Contains(text, q) && strings.Contains(text, "is gesloten") {
			out = append(out, p.Get("text"))
		}
	}
	return out
}

// mmNotices are the closing notices posted of the poll question q.
func mmNotices(mm *mattermosttest.Server, q string) []string {
	var out []string
	for _, p := range mm.Posts() {
		if strings.Contains(p.Message, q) && strings.Contains(p.Message, "is gesloten") {
			out = append(out, p.Message)
		}
	}
	return out
}

// syncBuffer is a buffer a process logs to while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
