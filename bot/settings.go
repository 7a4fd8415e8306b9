package bot

import (
	"context"
	"sync"
	"time"
)

// CachedSettings keeps what a SettingsStore said for a short while, so a
// click is answered without reading the languages from the store. A change
// made through it is seen at once; one made by another kring process on
// the same store within TTL.
type CachedSettings struct {
	Store SettingsStore
	TTL   time.Duration    // 0 means 30 seconds
	Now   func() time.Time // nil means time.Now

	mu sync.Mutex
	m  map[string]cachedLocales // by workspace key, "\x00", user id
}

var _ SettingsStore = (*CachedSettings)(nil)

type cachedLocales struct {
	user, ws string
	until    time.Time
}

// cacheMax bounds the cache; past it the cache starts afresh.
const cacheMax = 100_000

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

// Locales implements SettingsStore, from the cache when it can.
func (c *CachedSettings) Locales(ctx context.Context, workspace Where, userID string) (string, string, error) {
	key := workspace.Workspace().Key() + "\x00" + userID
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.user, e.ws, nil
	}
	user, ws, err := c.Store.Locales(ctx, workspace, userID)
	if err != nil {
		return "", "", err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = map[string]cachedLocales{}
	}
	c.m[key] = cachedLocales{user: user, ws: ws, until: now.Add(c.ttl())}
	c.mu.Unlock()
	return user, ws, nil
}

// Locale implements SettingsStore; the workspace's language alone is read
// rarely (work done without a request), so it is not cached.
func (c *CachedSettings) Locale(ctx context.Context, workspace Where) (string, error) {
	return c.Store.Locale(ctx, workspace)
}

// SetLocale implements SettingsStore and forgets the workspace's entries.
func (c *CachedSettings) SetLocale(ctx context.Context, workspace Where, locale string) error {
	err := c.Store.SetLocale(ctx, workspace, locale)
	prefix := workspace.Workspace().Key() + "\x00"
	c.mu.Lock()
	for k := range c.m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
	return err
}

// SetUserLocale implements SettingsStore and forgets the user's entry.
func (c *CachedSettings) SetUserLocale(ctx context.Context, workspace Where, userID, locale string) error {
	err := c.Store.SetUserLocale(ctx, workspace, userID, locale)
	c.mu.Lock()
	delete(c.m, workspace.Workspace().Key()+"\x00"+userID)
	c.mu.Unlock()
	return err
}
