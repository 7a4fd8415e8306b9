package slack

import (
	"context"
	"maps"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// userInfoAPI answers users.info only.
type userInfoAPI struct{ user slack.User }

func (a userInfoAPI) GetUserInfoContext(context.Context, string, ...slack.GetUserInfoOption) (*slack.User, error) {
	return &a.user, nil
}

func TestUserLookupCarriesLocale(t *testing.T) {
	api := userInfoAPI{user: slack.User{ID: "U1", Name: "anna", TZ: "Europe/Amsterdam", Locale: "nl-NL",
		Profile: slack.UserProfile{DisplayName: "Anna"}}}
	got, err := lookup(api)(context.Background(), "U1")
	if err != nil || got.Locale != "nl-NL" || got.Name != "Anna" || got.TZ != "Europe/Amsterdam" {
		t.Errorf("lookup = %+v, %v; want Anna in Europe/Amsterdam with locale nl-NL", got, err)
	}
}

// actionsMux records the actions it is given.
type actionsMux struct {
	mu   sync.Mutex
	acts []bot.Action
}

func (m *actionsMux) ServeCommand(context.Context, *bot.Request) bot.Reply { return bot.Reply{} }
func (m *actionsMux) ServeAction(_ context.Context, act *bot.Action) bot.Reply {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acts = append(m.acts, *act)
	return bot.Reply{}
}
func (m *actionsMux) Locale(context.Context, bot.Where) string { return "nl" }

func (m *actionsMux) last() bot.Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acts[len(m.acts)-1]
}

// TestClickMakesNoUserLookup: a click reaches the Mux with the id and
// handle its payload carries, and Slack is not asked about the user; once
// the user is known (a render named them), their clicks carry the display
// name, time zone and language from the cache, still without a lookup.
func TestClickMakesNoUserLookup(t *testing.T) {
	mux := &actionsMux{}
	h := newHarness(t, func(c *Config) { c.Mux = mux })
	b := &slack.ButtonBlockElement{ActionID: "poll.vote", Value: "p1:0", Text: &slack.TextBlockObject{Text: "Pizza"}}
	for _, u := range []string{"U2", "U3", "U2"} {
		if status := h.click(u, "C1", "1700000000.000001", b); status != http.StatusOK {
			t.Fatalf("click by %s: %d", u, status)
		}
	}
	h.close()
	if n := h.api.count("users.info", "", ""); n != 0 {
		t.Errorf("%d users.info calls for three clicks, want none", n)
	}
	if got := mux.last().User; got != (bot.User{ID: "U2", Name: "u2"}) {
		t.Errorf("click by an unknown user carries %+v, want the id and the payload's handle", got)
	}

	mux2 := &actionsMux{}
	h2 := newHarness(t, func(c *Config) { c.Mux = mux2 })
	h2.a.Poster().(bot.Namer).Names(t.Context(), bot.Where{Platform: bot.Slack, Team: "T1"}, []string{"U2"})
	h2.click("U2", "C1", "1700000000.000001", b)
	h2.close()
	if got := mux2.last().User; got.Name != "Name U2" || got.TZ != "Europe/Amsterdam" {
		t.Errorf("click by a known user carries %+v, want the cached display name and zone", got)
	}
	if n := h2.api.count("users.info", "", ""); n != 1 {
		t.Errorf("%d users.info calls, want the one Names made", n)
	}
}

// TestCommandLearnsItsUser: a command is answered with what its request
// carries, and its user is looked up after, so their next request has
// their zone and language.
func TestCommandLearnsItsUser(t *testing.T) {
	h := newHarness(t, nil)
	h.command("U7", "C1", "/kring", "help")
	h.api.waitFor("the lookup of U7", func(cs []call) bool { return h.api.count("users.info", "user", "U7") == 1 })
	h.close()
	if u := h.a.users.User("U7", "u7"); u.Name != "Name U7" || u.TZ != "Europe/Amsterdam" {
		t.Errorf("after a command, U7 is %+v", u)
	}
	h.command("U7", "C1", "/kring", "help")
	if n := h.api.count("users.info", "user", "U7"); n != 1 {
		t.Errorf("U7 looked up %d times, want once", n)
	}
}

// TestNames: Names through the Poster features get (paced) names the
// users it knows from the cache, asks users.info about the others once,
// leaves out a user Slack does not know (and does not ask again soon),
// and waits a bounded time for a slow users.info.
func TestNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newBubbleHarness(t, nil)
		namer, ok := h.a.Poster().(bot.Namer)
		if !ok {
			t.Fatal("the Slack Poster cannot name users")
		}
		where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
		h.api.setFail("users.info:UGONE", "user_not_found")

		got := namer.Names(t.Context(), where, []string{"U1", "U2", "UGONE", "U1", ""})
		want := map[string]string{"U1": "Name U1", "U2": "Name U2"}
		if !maps.Equal(got, want) {
			t.Errorf("Names = %v, want %v", got, want)
		}
		if n := h.api.count("users.info", "", ""); n != 3 {
			t.Errorf("%d users.info calls, want one each for U1, U2, UGONE", n)
		}
		// Again: all from the cache, the failure too.
		if got := namer.Names(t.Context(), where, []string{"U2", "UGONE", "U1"}); !maps.Equal(got, want) {
			t.Errorf("Names again = %v, want %v", got, want)
		}
		if n := h.api.count("users.info", "", ""); n != 3 {
			t.Errorf("%d users.info calls after a second Names, want still 3", n)
		}

		// A users.info that does not answer costs a render the cache's
		// wait, no more; the others are named meanwhile.
		release := make(chan struct{})
		h.api.holdUntil("users.info:USLOW", release)
		start := time.Now()
		got = namer.Names(t.Context(), where, []string{"USLOW", "U3"})
		if took := time.Since(start); took != users.DefaultWait {
			t.Errorf("Names with a hung users.info took %v, want the cache's wait, %v", took, users.DefaultWait)
		}
		if !maps.Equal(got, map[string]string{"U3": "Name U3"}) {
			t.Errorf("Names with a hung users.info = %v, want U3 only", got)
		}
		close(release)
		// USLOW was not marked as unknown: a later render asks again.
		if got := namer.Names(t.Context(), where, []string{"USLOW"}); got["USLOW"] != "Name USLOW" {
			t.Errorf("Names after users.info recovered = %v", got)
		}
	})
}

// TestResponseURLsExpire: a response_url is used for 25 minutes (Slack
// keeps it 30), per user and conversation and per ephemeral message, and
// forgotten after.
func TestResponseURLsExpire(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := newResponseURLs(func() time.Time { return now })
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	ref := bot.Ref{Where: where, ID: "1.1"}
	r.rememberUser(where, "U1", "https://hooks.example/1")
	r.rememberEphemeral(ref, "https://hooks.example/e")
	r.rememberUser(where, "U2", "") // no response_url: nothing to keep
	now = now.Add(24 * time.Minute)
	r.rememberUser(where, "U1", "https://hooks.example/2") // a later click
	if u, ok := r.latest(where, "U1"); !ok || u != "https://hooks.example/2" {
		t.Errorf("U1's latest = %q, %v", u, ok)
	}
	if _, ok := r.latest(where, "U2"); ok {
		t.Error("U2 has a response_url without a click that carried one")
	}
	if u, ok := r.ephemeral(ref); !ok || u != "https://hooks.example/e" {
		t.Errorf("ephemeral at 24 min = %q, %v", u, ok)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := r.ephemeral(ref); ok {
		t.Error("an ephemeral message's response_url was used after 25 minutes")
	}
	if _, ok := r.latest(where, "U1"); !ok {
		t.Error("U1's later response_url was forgotten with the first")
	}
	now = now.Add(25 * time.Minute)
	if _, ok := r.latest(where, "U1"); ok {
		t.Error("U1's response_url was used after 25 minutes")
	}
}
