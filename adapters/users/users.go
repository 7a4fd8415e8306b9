// Package users keeps what a chat platform tells about its users (display
// name, time zone, language) for a while, once for every adapter. Nothing
// on a request's path asks the platform: a click carries the user's id and
// handle, and takes the rest only from here. Who voted is named when a
// live message is rendered, off the request's path, through Names, which
// asks the platform only about the users it does not know yet, in a
// bounded time, and never fails.
package users

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kringbot/kring/adapters/expiring"
	"github.com/kringbot/kring/bot"
)

// Lookup asks the platform about one user (Slack's users.info,
// Mattermost's GET /users/{id}). A *bot.RateLimited error pauses every
// lookup for as long as it says.
type Lookup func(ctx context.Context, id string) (bot.User, error)

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
)

// Config configures a Cache; only Lookup is required.
type Config struct {
	Lookup   Lookup
	Life     time.Duration    // 0: DefaultLife
	MissLife time.Duration    // 0: DefaultMissLife
	Wait     time.Duration    // 0: DefaultWait
	Parallel int              // 0: DefaultParallel
	Size     int              // 0: DefaultSize
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: slog.Default()
}

// Cache is users by id, as the platform told about them.
type Cache struct {
	cfg Config
	m   *expiring.Map[string, known]

	mu          sync.Mutex
	pausedUntil time.Time // the platform asked to wait (rate limited)
}

// known is what the cache holds of a user: the user, or that asking
// failed (found false) and should not be tried again soon.
type known struct {
	user  bot.User
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Cache{cfg: cfg, m: expiring.New[string, known](cfg.Size)}
}

// User is who made a request: what the cache knows of id, else the id and
// the handle the request carried (name). It never asks the platform, so a
// click costs no lookup; TZ and Locale are "" for a user not known yet.
func (c *Cache) User(id, name string) bot.User {
	if k, ok := c.m.Get(c.cfg.Now(), id); ok && k.found {
		return k.user
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
	now := c.cfg.Now()
	if k, hit := c.m.Get(now, id); hit {
		return k.user, k.found
	}
	if c.paused(now) {
		return bot.User{ID: id}, false
	}
	u, err := c.cfg.Lookup(ctx, id)
	now = c.cfg.Now() // an answer's life starts when it came
	if err != nil {
		if rl, limited := errors.AsType[*bot.RateLimited](err); limited {
			c.pause(now.Add(rl.After))
		}
		c.cfg.Log.Warn("cannot look up a user; showing what the request carried", "user", id, "err", err)
		if ctx.Err() == nil {
			// A lookup cut off by the caller's deadline says nothing
			// about the user; only a real failure is remembered.
			c.m.Put(now, id, known{}, c.cfg.MissLife)
		}
		return bot.User{ID: id}, false
	}
	u.ID = id
	c.m.Put(now, id, known{user: u, found: true}, c.cfg.Life)
	return u, true
}

// Names returns the display names of the users with ids that the cache
// knows or the platform tells within the Cache's Wait, asking it only
// about ids not cached, a few at once. An id nobody could name is left
// out: the caller shows what it has. It never fails.
func (c *Cache) Names(ctx context.Context, ids []string) map[string]string {
	out := make(map[string]string, len(ids))
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
		case hit && k.found && k.user.Name != "":
			out[id] = k.user.Name
		case !hit:
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Wait)
	defer cancel()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(c.cfg.Parallel, len(ask)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if u, ok := c.Get(ctx, id); ok && u.Name != "" {
					mu.Lock()
					out[id] = u.Name
					mu.Unlock()
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
