package bot

import (
	"context"
	"sync"
	"time"
)

// CachedSettings keeps each workspace's languages for a short while, so a
// click, even by someone kring has never seen, is answered without a
// store read: one read per workspace per TTL. A change made through it is
// seen at once; one made by another kring process on the same store within
// TTL.
type CachedSettings struct {
	Store SettingsStore
	TTL   time.Duration    // 0 means 30 seconds
	Now   func() time.Time // nil means time.Now

	mu sync.Mutex
	m  map[string]cachedLanguages // by workspace key
}

var _ SettingsStore = (*CachedSettings)(nil)

type cachedLanguages struct {
	langs Languages
	until time.Time
}

// cacheMax bounds the cache; past it the cache starts afresh.
const cacheMax = 10_000

func (c *CachedSettings) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *CachedSettings) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return 30 * time.Second
}

// Languages implements SettingsStore, from the cache when it can.
func (c *CachedSettings) Languages(ctx context.Context, workspace Where) (Languages, error) {
	key := workspace.Workspace().Key()
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.langs, nil
	}
	langs, err := c.Store.Languages(ctx, workspace)
	if err != nil {
		return Languages{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = map[string]cachedLanguages{}
	}
	c.m[key] = cachedLanguages{langs: langs, until: now.Add(c.ttl())}
	c.mu.Unlock()
	return langs, nil
}

// forget drops workspace's entry, after a change.
func (c *CachedSettings) forget(workspace Where) {
	c.mu.Lock()
	delete(c.m, workspace.Workspace().Key())
	c.mu.Unlock()
}

// SetLocale implements SettingsStore and forgets the workspace's entry.
func (c *CachedSettings) SetLocale(ctx context.Context, workspace Where, locale string) error {
	defer c.forget(workspace)
	return c.Store.SetLocale(ctx, workspace, locale)
}

// SetUserLocale implements SettingsStore and forgets the workspace's entry.
func (c *CachedSettings) SetUserLocale(ctx context.Context, workspace Where, userID, locale string) error {
	defer c.forget(workspace)
	return c.Store.SetUserLocale(ctx, workspace, userID, locale)
}
