package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/adapters/mattermost"
	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/server"
)

// TestMattermost200Clicks: 200 people vote on one post within a second,
// through kring serve's /mattermost/actions as Mattermost sends them.
// Every click is counted and answered without waiting for the pace or a
// retry; the post is updated at most once a second; the state with every
// vote lands within a second of the last click, before shutdown flushes
// anything; and no update comes after it.
//
// It runs in a testing/synctest bubble on an in-process network: time
// moves only when every goroutine waits, so what it checks is kring's
// pacing, not how busy the machine is. The click benchmarks and the load
// tool measure how fast clicks are answered.
func TestMattermost200Clicks(t *testing.T) {
	// The stand-in's own loopback server is never dialled: the bubble
	// serves its handler on the in-process network, at the same address.
	mm := mattermosttest.New(t)
	mmUsers(mm)
	const n, together = 200, 10
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%022d", i)
		mm.AddUser(users[i], fmt.Sprintf("u%d", i), "Lid", fmt.Sprint(i), "")
	}
	synctest.Test(t, func(t *testing.T) {
		s := startMattermostBubble(t, mm)
		reply := s.app.mux.ServeCommand(t.Context(), &bot.Request{
			Where: bot.Where{Platform: bot.Mattermost, Team: mm.TeamID, Channel: mmChannel},
			User:  bot.User{ID: anna, Name: "Anna de Vries"}, Command: "/poll", Text: `"Lunch?" Pizza Soep Salade`,
		})
		if reply.Message == nil {
			t.Fatal("/poll gave no reply")
		}
		id := pollID(t, reply.Message.Text)
		post := mm.Posts()[0].Id
		// Posting a message with buttons patches it once at once, to bind
		// the buttons to the post's id; that is part of posting.
		synctest.Wait()
		posting := len(s.updates.of(post))

		// The clicks come in 20 waves of 10 at once, 50 ms apart.
		const clickWaits = 100 * time.Millisecond // see TestBusyPoll in adapters/slack
		first := time.Now()
		lastClick := bottest.Burst(n, together, time.Second, clickWaits, func(i int) {
			r, err := mm.Click(s.client, post, i%3, users[i])
			if err != nil || r.Status != http.StatusOK {
				t.Errorf("click by %s: %v %d %s", users[i], err, r.Status, r.Body)
			}
		}, func(i int, waited time.Duration) {
			t.Errorf("click by %s answered after %v of waiting on timers, want under %v", users[i], waited, clickWaits)
		})
		if _, ballots, err := s.app.stores.Polls.Get(t.Context(), id); err != nil || len(ballots) != n {
			t.Errorf("%d ballots, want %d (%v)", len(ballots), n, err)
		}

		// One pace interval after the last click the final state is there,
		// without shutdown's flush. (In the bubble this sleep is fake
		// time: it lets the paced updates that are due go out.)
		time.Sleep(time.Second)
		synctest.Wait()
		updates := s.updates.of(post)[posting:]
		if len(updates) == 0 {
			t.Fatal("the post was never updated")
		}
		final := updates[len(updates)-1]
		for _, want := range []string{"200 stemmers", "67 stemmen (34%)", "66 stemmen (33%)"} {
			if !strings.Contains(final.message, want) {
				t.Errorf("a second after the last click the post lacks %q:\n%s", want, final.message)
			}
		}
		if late := final.at.Sub(lastClick); late > time.Second {
			t.Errorf("the final state landed %v after the last click, want within the one-second pace", late)
		}
		for i := 1; i < len(updates); i++ {
			if gap := updates[i].at.Sub(updates[i-1].at); gap < time.Second {
				t.Errorf("updates %d and %d %v apart, want at least a second", i-1, i, gap)
			}
		}
		if most := 1 + int(final.at.Sub(first)/time.Second); len(updates) > most {
			t.Errorf("%d updates in %v, want at most %d", len(updates), final.at.Sub(first), most)
		}
		t.Logf("mattermost: %d clicks in %v; the post updated %d times", n, lastClick.Sub(first), len(updates))

		s.stop() // sends whatever is pending
		if final := mm.Post(post).Message; !strings.Contains(final, "200 stemmers") {
			t.Errorf("after shutdown the post is not the final state:\n%s", final)
		}
	})
}

// mmBubble is `kring serve` with Mattermost on, wired as
// startMattermostServe wires it, but on an in-process network, for a
// testing/synctest bubble: a loopback socket would keep the bubble's clock
// from moving.
type mmBubble struct {
	app     *app
	client  *http.Client // Mattermost's side: clicks to kring
	updates *postUpdates
	stop    func()
}

func startMattermostBubble(t *testing.T, mm *mattermosttest.Server) *mmBubble {
	t.Helper()
	network := &bottest.PipeNet{}
	updates := &postUpdates{mm: mm}
	t.Cleanup(network.Serve(updates.record(mm.Config.Handler), mm.Listener.Addr().String()).Close)
	l := network.Listen("kring.test:80")
	public := "http://kring.test:80"
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	m.Config = Config{
		Store: "bolt:" + t.TempDir() + "/kring.db", Locale: "nl", Timezone: "Europe/Amsterdam", PublicURL: public,
		ActionSecret: mmSecret, MattermostURL: mm.URL, MattermostBotToken: mm.BotToken, MattermostCommandToken: mmToken,
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := m.newApp(ctx, log, bot.SystemClock{}, true)
	if err != nil {
		t.Fatal(err)
	}
	// As mattermostPlatform makes it, with a client on the test network.
	p, err := mattermost.New(mattermost.Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{mmToken}, Secret: mmSecret,
		PublicURL: public, Handler: a.mux, Log: log, HTTPClient: network.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(log)
	a.mux.Observe = srv.Metrics.Observe
	a.posters[p.Name()] = p.Poster()
	p.Mount(srv.Mux)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, log, srv, l, a, []platform{p}) }()
	var once sync.Once
	b := &mmBubble{app: a, client: network.Client(), updates: updates}
	b.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			a.close()
		})
	}
	t.Cleanup(b.stop)
	return b
}

// postUpdates records when the stand-in took each change of a post, and
// the post's message after it.
type postUpdates struct {
	mm   *mattermosttest.Server
	mu   sync.Mutex
	seen []postUpdate
}

type postUpdate struct {
	post, message string
	at            time.Time
}

func (u *postUpdates) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		post, ok := strings.CutPrefix(r.URL.Path, "/api/v4/posts/")
		if r.Method != http.MethodPut || !ok {
			return
		}
		post = strings.TrimSuffix(post, "/patch")
		if p := u.mm.Post(post); p != nil {
			u.mu.Lock()
			u.seen = append(u.seen, postUpdate{post: post, message: p.Message, at: time.Now()})
			u.mu.Unlock()
		}
	})
}

func (u *postUpdates) of(post string) []postUpdate {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []postUpdate
	for _, p := range u.seen {
		if p.post == post {
			out = append(out, p)
		}
	}
	return out
}
