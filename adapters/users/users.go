// Package users keeps what a chat platform tells about its users (display
// name, time zone, language, whether they are a bot or gone) and who is in
// a channel, for a while, once for every adapter. Nothing on a request's
// path asks the platform: a click carries the user's id and handle, and
// takes the rest only from here. Who voted is named when a live message
// is rendered, off the request's path, through Names, which asks the
// platform only about the users it does not know yet, in a bounded time,
// and never fails. A channel's members (Members) are the people in it:
// bots and deactivated accounts left out, the list kept for a minute.
package users

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kringbot/kring/adapters/expiring"
	"github.com/kringbot/kring/bot"
)

// Profile is what the platform tells about a user: the user as features
// see them, and whether the account is a person's in use.
type Profile struct {
	bot.User
	Bot  bool // a bot or an app's user, not a person
	Gone bool // deactivated or deleted
}

// Person reports whether p is someone kring writes to: a person whose
// account is in use.
func (p Profile) Person() bool { return !p.Bot && !p.Gone }

// Lookup asks the platform about one user (Slack's users.info,
// Mattermost's GET /users/{id}). A *bot.RateLimited error pauses every
// lookup for as long as it says.
type Lookup func(ctx context.Context, id string) (Profile, error)

// LookupMany asks the platform about several users in one call
// (Mattermost's POST /users/ids). The ids it does not know are left out
// of the answer; an error says nothing about any of them.
type LookupMany func(ctx context.Context, ids []string) (map[string]Profile, error)

// Defaults of a Cache.
const (
	// DefaultLife is how long what the platform said about a user is
	// kept: names, zones and languages change seldom, and a stale name
	// for an hour harms nobody.
	DefaultLife = time.Hour
	// DefaultMissLife is how long a failed lookup is not tried again, so
	// a platform that fails is not asked on every render.
	DefaultMissLife = time.Minute
	// DefaultWait bounds one Names call: a render waits this long at most
	// for the platform and shows the ids it could not name by what it has.
	DefaultWait = 2 * time.Second
	// DefaultParallel is how many lookups one Names call makes at once:
	// Slack allows users.info about a hundred times a minute, a render of
	// a new poll names a few dozen voters at most.
	DefaultParallel = 8
	// DefaultSize bounds the users kept; past it the oldest are forgotten.
	DefaultSize = 100_000
	// DefaultBatch is how many users one LookupMany call asks about.
	DefaultBatch = 200
	// DefaultMembersLife is how long a channel's members are kept: a
	// change of membership shows after a minute at most, and a job that
	// writes to every member of a busy channel lists them once.
	DefaultMembersLife = time.Minute
	// maxChannels bounds the member lists kept.
	maxChannels = 10_000
)

// Config configures a Cache; only Lookup is required.
type Config struct {
	Lookup Lookup
	// Many, when the platform has it, asks about users Batch at a time
	// instead of one Lookup each.
	Many        LookupMany
	Batch       int              // 0: DefaultBatch
	MembersLife time.Duration    // 0: DefaultMembersLife
	Life        time.Duration    // 0: DefaultLife
	MissLife    time.Duration    // 0: DefaultMissLife
	Wait        time.Duration    // 0: DefaultWait
	Parallel    int              // 0: DefaultParallel
	Size        int              // 0: DefaultSize
	Now         func() time.Time // nil: time.Now
	Log         *slog.Logger     // nil: slog.Default()
}

// Cache is users by id, as the platform told about them.
type Cache struct {
	cfg     Config
	m       *expiring.Map[string, known]
	rosters *expiring.Map[string, []string] // a channel's key → its people

	mu          sync.Mutex
	pausedUntil time.Time // the platform asked to wait (rate limited)
}

// known is what the cache holds of a user: the user, or that asking
// failed (found false) and should not be tried again soon.
type known struct {
	user  Profile
	found bool
}

// New returns a Cache.
func New(cfg Config) *Cache {
	if cfg.Life <= 0 {
		cfg.Life = DefaultLife
	}
	if cfg.MissLife <= 0 {
		cfg.MissLife = DefaultMissLife
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Size <= 0 {
		cfg.Size = DefaultSize
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.MembersLife <= 0 {
		cfg.MembersLife = DefaultMembersLife
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Cache{cfg: cfg, m: expiring.New[string, known](cfg.Size), rosters: expiring.New[string, []string](maxChannels)}
}

// User is who made a request: what the cache knows of id, else the id and
// the handle the request carried (name). It never asks the platform, so a
// click costs no lookup; TZ and Locale are "" for a user not known yet.
func (c *Cache) User(id, name string) bot.User {
	if k, ok := c.m.Get(c.cfg.Now(), id); ok && k.found {
		return k.user.User
	}
	return bot.User{ID: id, Name: name}
}

// Known reports whether the cache holds an answer about id, a failure
// included: a caller that fills the cache off the request's path asks
// Get only when it does not.
func (c *Cache) Known(id string) bool {
	_, ok := c.m.Get(c.cfg.Now(), id)
	return ok
}

// Get returns the user with id from the cache, or asks the platform and
// keeps the answer. ok is false when the platform could not tell (the
// failure is kept for MissLife, and the caller shows what it has).
func (c *Cache) Get(ctx context.Context, id string) (u bot.User, ok bool) {
	p, ok := c.profile(ctx, id)
	return p.User, ok
}

// profile is Get with all the platform told.
func (c *Cache) profile(ctx context.Context, id string) (Profile, bool) {
	now := c.cfg.Now()
	if k, hit := c.m.Get(now, id); hit {
		return k.user, k.found
	}
	if c.paused(now) {
		return Profile{User: bot.User{ID: id}}, false
	}
	p, err := c.cfg.Lookup(ctx, id)
	if err != nil {
		c.failed(ctx, []string{id}, err)
		return Profile{User: bot.User{ID: id}}, false
	}
	p.ID = id
	c.m.Put(c.cfg.Now(), id, known{user: p, found: true}, c.cfg.Life) // an answer's life starts when it came
	return p, true
}

// failed notes that asking about ids failed with err.
func (c *Cache) failed(ctx context.Context, ids []string, err error) {
	now := c.cfg.Now()
	if rl, limited := errors.AsType[*bot.RateLimited](err); limited {
		c.pause(now.Add(rl.After))
	}
	c.cfg.Log.Warn("cannot look up users; showing what the requests carried", "users", ids, "err", err)
	if ctx.Err() != nil {
		// A lookup cut off by the caller's deadline says nothing
		// about the users; only a real failure is remembered.
		return
	}
	for _, id := range ids {
		c.m.Put(now, id, known{}, c.cfg.MissLife)
	}
}

// many asks the platform about ids with LookupMany, Batch at a time, and
// keeps the answers; an id the platform does not know is kept as a
// failure.
func (c *Cache) many(ctx context.Context, ids []string, each func(Profile)) {
	for chunk := range slices.Chunk(ids, c.cfg.Batch) {
		if ctx.Err() != nil || c.paused(c.cfg.Now()) {
			return
		}
		got, err := c.cfg.Many(ctx, chunk)
		if err != nil {
			c.failed(ctx, chunk, err)
			continue
		}
		now := c.cfg.Now()
		for _, id := range chunk {
			p, ok := got[id]
			if !ok {
				c.m.Put(now, id, known{}, c.cfg.MissLife)
				continue
			}
			p.ID = id
			c.m.Put(now, id, known{user: p, found: true}, c.cfg.Life)
			each(p)
		}
	}
}

// Names returns the display names of the users with ids that the cache
// knows or the platform tells within the Cache's Wait, asking it only
// about ids not cached, a few at once. An id nobody could name is left
// out: the caller shows what it has. It never fails.
func (c *Cache) Names(ctx context.Context, ids []string) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Wait)
	defer cancel()
	out := make(map[string]string, len(ids))
	for id, p := range c.Profiles(ctx, ids) {
		if p.Name != "" {
			out[id] = p.Name
		}
	}
	return out
}

// Profiles returns what the cache knows or the platform tells, while ctx
// lasts, about the users with ids, asking it only about ids not cached: a
// few at once, or Batch in one call where the platform can. An id nobody
// could tell about is left out. It never fails.
func (c *Cache) Profiles(ctx context.Context, ids []string) map[string]Profile {
	out := make(map[string]Profile, len(ids))
	now := c.cfg.Now()
	var ask []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		k, hit := c.m.Get(now, id)
		switch {
		case hit && k.found:
			out[id] = k.user
		case !hit:
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out
	}
	var mu sync.Mutex
	keep := func(p Profile) {
		mu.Lock()
		out[p.ID] = p
		mu.Unlock()
	}
	if c.cfg.Many != nil {
		c.many(ctx, ask, keep)
		return out
	}
	var (
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(c.cfg.Parallel, len(ask)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if p, ok := c.profile(ctx, id); ok {
					keep(p)
				}
			}
		}()
	}
feed:
	for _, id := range ask {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return out
}

// Members returns the people in the channel with key, as list tells its
// members: the ids whose profile says bot or gone are left out (an id the
// platform could not tell about stays in: a message too many beats a
// person missed). The list is kept for MembersLife, so a change of
// membership shows after that long at most. An error of list is
// returned as it is, and nothing is kept.
func (c *Cache) Members(ctx context.Context, key string, list func(ctx context.Context) ([]string, error)) ([]string, error) {
	if ids, ok := c.rosters.Get(c.cfg.Now(), key); ok {
		return slices.Clone(ids), nil
	}
	ids, err := list(ctx)
	if err != nil {
		return nil, err
	}
	profiles := c.Profiles(ctx, ids)
	people := make([]string, 0, len(ids))
	for _, id := range ids {
		if p, ok := profiles[id]; ok && !p.Person() {
			continue
		}
		people = append(people, id)
	}
	c.rosters.Put(c.cfg.Now(), key, people, c.cfg.MembersLife)
	return slices.Clone(people), nil
}

func (c *Cache) paused(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Before(c.pausedUntil)
}

func (c *Cache) pause(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}
