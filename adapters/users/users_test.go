package users

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
)

// platform is a users API in a test: it knows some users, fails on some,
// hangs on some until its caller gives up, and counts what it is asked.
type platform struct {
	mu       sync.Mutex
	known    map[string]bot.User
	bots     map[string]bool
	gone     map[string]bool
	fail     map[string]error
	hang     map[string]bool
	asked    map[string]int
	inFlight int
	most     int   // the most lookups at once
	batches  []int // the size of each LookupMany call
}

func newPlatform() *platform {
	return &platform{
		known: map[string]bot.User{
			"U1": {Name: "Anna de Vries", TZ: "Europe/Amsterdam", Locale: "nl"},
			"U2": {Name: "Bram"},
			"U3": {Name: "Cato"},
		},
		fail: map[string]error{}, hang: map[string]bool{}, asked: map[string]int{},
		bots: map[string]bool{}, gone: map[string]bool{},
	}
}

func (p *platform) lookup(ctx context.Context, id string) (Profile, error) {
	p.mu.Lock()
	p.asked[id]++
	p.inFlight++
	p.most = max(p.most, p.inFlight)
	u, ok := p.known[id]
	err, hang := p.fail[id], p.hang[id]
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	time.Sleep(10 * time.Millisecond) // a round trip, in the bubble's time
	switch {
	case hang:
		<-ctx.Done()
		return Profile{}, ctx.Err()
	case err != nil:
		return Profile{}, err
	case !ok:
		return Profile{}, errors.New("user not found")
	}
	return Profile{User: u, Bot: p.bots[id], Gone: p.gone[id]}, nil
}

func (p *platform) askedFor(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked[id]
}

func newCache(p *platform) *Cache {
	return New(Config{Lookup: p.lookup, Log: slog.New(slog.DiscardHandler)})
}

// TestUserAsksNothing: a request's user comes from the cache or from what
// the request carried, never from the platform.
func TestUserAsksNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		c := newCache(p)
		if u := c.User("U1", "anna"); u != (bot.User{ID: "U1", Name: "anna"}) {
			t.Errorf("unknown user = %+v, want the id and the handle", u)
		}
		if c.Known("U1") || p.askedFor("U1") != 0 {
			t.Error("User asked the platform")
		}
		if _, ok := c.Get(t.Context(), "U1"); !ok {
			t.Fatal("Get failed")
		}
		want := bot.User{ID: "U1", Name: "Anna de Vries", TZ: "Europe/Amsterdam", Locale: "nl"}
		if u := c.User("U1", "anna"); u != want || !c.Known("U1") {
			t.Errorf("known user = %+v, want %+v", u, want)
		}
		if p.askedFor("U1") != 1 {
			t.Errorf("asked %d times", p.askedFor("U1"))
		}
	})
}

// TestLife: an answer is kept for Life, a failure for MissLife; after
// that the platform is asked again.
func TestLife(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		c := newCache(p)
		c.Get(t.Context(), "U1")
		c.Get(t.Context(), "UX")
		time.Sleep(DefaultMissLife - time.Millisecond)
		c.Get(t.Context(), "U1")
		c.Get(t.Context(), "UX")
		if p.askedFor("U1") != 1 || p.askedFor("UX") != 1 {
			t.Errorf("within MissLife: asked about U1 %d and UX %d times, want once each", p.askedFor("U1"), p.askedFor("UX"))
		}
		time.Sleep(2 * time.Millisecond)
		c.Get(t.Context(), "UX")
		if p.askedFor("UX") != 2 {
			t.Errorf("after MissLife: asked about UX %d times, want again", p.askedFor("UX"))
		}
		time.Sleep(DefaultLife)
		if c.User("U1", "anna").Name != "anna" {
			t.Error("an answer outlived Life")
		}
		c.Get(t.Context(), "U1")
		if p.askedFor("U1") != 2 {
			t.Errorf("after Life: asked about U1 %d times, want again", p.askedFor("U1"))
		}
	})
}

// TestNames: hits from the cache, misses asked once each (duplicates and
// empty ids left out), failures left out and remembered.
func TestNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		p.fail["UBAD"] = errors.New("500 internal error")
		c := newCache(p)
		c.Get(t.Context(), "U1")
		got := c.Names(t.Context(), []string{"U1", "U2", "U2", "", "UBAD", "UNONE"})
		want := map[string]string{"U1": "Anna de Vries", "U2": "Bram"}
		if !maps.Equal(got, want) {
			t.Errorf("Names = %v, want %v", got, want)
		}
		for id, n := range map[string]int{"U1": 1, "U2": 1, "UBAD": 1, "UNONE": 1} {
			if p.askedFor(id) != n {
				t.Errorf("asked about %s %d times, want %d", id, p.askedFor(id), n)
			}
		}
		if got := c.Names(t.Context(), []string{"U2", "UBAD", "UNONE"}); !maps.Equal(got, map[string]string{"U2": "Bram"}) {
			t.Errorf("Names again = %v", got)
		}
		if p.askedFor("UBAD") != 1 || p.askedFor("UNONE") != 1 {
			t.Error("a failure was asked about again at once")
		}
	})
}

// TestNamesBounded: Names waits Wait at most for a platform that hangs,
// names the others meanwhile, asks at most Parallel at once, and does not
// remember a lookup it cut off as a failure.
func TestNamesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		p.hang["USLOW"] = true
		ids := []string{"USLOW", "U1", "U2", "U3"}
		for i := range 40 {
			id := "N" + string(rune('A'+i))
			p.known[id] = bot.User{Name: "naam " + id}
			ids = append(ids, id)
		}
		c := newCache(p)
		start := time.Now()
		got := c.Names(t.Context(), ids)
		if took := time.Since(start); took != DefaultWait {
			t.Errorf("Names took %v, want the wait, %v", took, DefaultWait)
		}
		if len(got) != len(ids)-1 || got["USLOW"] != "" {
			t.Errorf("Names named %d of %d, want all but USLOW", len(got), len(ids))
		}
		if p.most > DefaultParallel {
			t.Errorf("%d lookups at once, want at most %d", p.most, DefaultParallel)
		}
		if c.Known("USLOW") {
			t.Error("a lookup cut off by the wait was remembered as a failure")
		}
		// A caller with less time than the wait is heard.
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		c.Names(ctx, []string{"USLOW"})
		if took := time.Since(start); took != 100*time.Millisecond {
			t.Errorf("Names under a 100ms context took %v", took)
		}
	})
}

// TestRateLimited: a platform that says to wait is not asked again until
// then; the users it could not name are left out meanwhile.
func TestRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		p.fail["U1"] = &bot.RateLimited{After: 30 * time.Second}
		c := New(Config{Lookup: p.lookup, Parallel: 1, Log: slog.New(slog.DiscardHandler)})
		c.Names(t.Context(), []string{"U1"})
		delete(p.fail, "U1")
		if got := c.Names(t.Context(), []string{"U2"}); len(got) != 0 || p.askedFor("U2") != 0 {
			t.Errorf("while rate limited: Names = %v, asked about U2 %d times; want nothing asked", got, p.askedFor("U2"))
		}
		time.Sleep(30 * time.Second)
		if got := c.Names(t.Context(), []string{"U2"}); got["U2"] != "Bram" {
			t.Errorf("after the wait: Names = %v", got)
		}
	})
}

// TestSize: the cache holds at most Size users, forgetting the oldest.
func TestSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		c := New(Config{Lookup: p.lookup, Size: 2, Log: slog.New(slog.DiscardHandler)})
		for _, id := range []string{"U1", "U2", "U3"} {
			c.Get(t.Context(), id)
		}
		if c.Known("U1") || !c.Known("U2") || !c.Known("U3") {
			t.Errorf("known: U1 %v, U2 %v, U3 %v; want the two latest", c.Known("U1"), c.Known("U2"), c.Known("U3"))
		}
	})
}

// many is the platform's LookupMany: the users it knows among ids, and
// how many calls it took.
func (p *platform) many(ctx context.Context, ids []string) (map[string]Profile, error) {
	p.mu.Lock()
	p.batches = append(p.batches, len(ids))
	p.mu.Unlock()
	out := map[string]Profile{}
	for _, id := range ids {
		if prof, err := p.lookup(ctx, id); err == nil {
			out[id] = prof
		}
	}
	return out, nil
}

// TestProfilesInBatches: with LookupMany the platform is asked Batch
// users at a time; users it does not know are left out and remembered
// as such; what it told is kept for the next call.
func TestProfilesInBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		var ids []string
		for i := range 450 {
			id := "N" + string(rune('A'+i/26)) + string(rune('a'+i%26))
			p.known[id] = bot.User{Name: "naam " + id, TZ: "America/New_York"}
			ids = append(ids, id)
		}
		c := New(Config{Lookup: p.lookup, Many: p.many, Log: slog.New(slog.DiscardHandler)})
		got := c.Profiles(t.Context(), append(ids, "UNONE"))
		if len(got) != 450 || got["NAa"].TZ != "America/New_York" || got["NAa"].ID != "NAa" {
			t.Errorf("Profiles told about %d users (%+v), want 450 with their zone", len(got), got["NAa"])
		}
		if want := []int{200, 200, 51}; !slices.Equal(p.batches, want) {
			t.Errorf("batches %v, want %v", p.batches, want)
		}
		c.Profiles(t.Context(), []string{"NAa", "UNONE"})
		if len(p.batches) != 3 {
			t.Errorf("asked again about users it knew: batches %v", p.batches)
		}
	})
}

// TestMembers: a channel's members are its people, bots and deactivated
// accounts left out (one the platform cannot tell about kept), listed
// once a minute at most; a failed listing is not kept.
func TestMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlatform()
		p.known["UBOT"] = bot.User{Name: "Polly"}
		p.bots["UBOT"] = true
		p.known["UOLD"] = bot.User{Name: "Oud"}
		p.gone["UOLD"] = true
		c := newCache(p)
		listed := []string{"U1", "UBOT", "U2", "UOLD", "UNONE"}
		lists := 0
		var fail error
		list := func(context.Context) ([]string, error) {
			lists++
			return slices.Clone(listed), fail
		}
		got, err := c.Members(t.Context(), "slack:T1:C1", list)
		if want := []string{"U1", "U2", "UNONE"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Members = %v, %v; want %v", got, err, want)
		}
		listed = append(listed, "U3")
		time.Sleep(DefaultMembersLife - time.Millisecond)
		if got, _ := c.Members(t.Context(), "slack:T1:C1", list); len(got) != 3 || lists != 1 {
			t.Errorf("within a minute: %v after %d listings, want the kept list", got, lists)
		}
		time.Sleep(time.Millisecond)
		if got, _ := c.Members(t.Context(), "slack:T1:C1", list); !slices.Contains(got, "U3") || lists != 2 {
			t.Errorf("after a minute: %v after %d listings, want U3 in", got, lists)
		}
		fail = errors.New("channel_not_found")
		if _, err := c.Members(t.Context(), "slack:T1:C2", list); err == nil {
			t.Error("a failed listing did not fail")
		}
		fail = nil
		if got, err := c.Members(t.Context(), "slack:T1:C2", list); err != nil || len(got) != 4 {
			t.Errorf("after a failure: %v, %v; want a new listing", got, err)
		}
	})
}
