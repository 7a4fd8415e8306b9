package mattermost

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// users looks up display names, time zones and languages, keeping each for
// a while:
// a busy poll would otherwise ask for the same voters over and over.
type users struct {
	c   *client
	ttl time.Duration

	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	user    bot.User
	expires time.Time
}

const maxCachedUsers = 10000

// get returns the user with id. When the users API fails the request goes
// on with what Mattermost sent along (the username), uncached.
func (u *users) get(ctx context.Context, id, username string) bot.User {
	now := time.Now()
	u.mu.Lock()
	e, ok := u.m[id]
	u.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.user
	}
	var mu *model.User
	err := u.c.do(ctx, "get user", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		mu, resp, err = u.c.api.GetUser(ctx, id, "")
		return resp, err
	})
	if err != nil || mu == nil {
		return bot.User{ID: id, Name: username}
	}
	user := bot.User{ID: id, Name: displayName(mu), TZ: timezone(mu.Timezone), Locale: mu.Locale}
	u.mu.Lock()
	if len(u.m) >= maxCachedUsers {
		for k, v := range u.m {
			if now.After(v.expires) {
				delete(u.m, k)
			}
		}
		if len(u.m) >= maxCachedUsers {
			u.m = map[string]cachedUser{}
		}
	}
	u.m[id] = cachedUser{user: user, expires: now.Add(u.ttl)}
	u.mu.Unlock()
	return user
}

// displayName is the name people know someone by: the full name, else the
// nickname, else the username.
func displayName(u *model.User) string {
	if full := strings.TrimSpace(u.FirstName + " " + u.LastName); full != "" {
		return full
	}
	if u.Nickname != "" {
		return u.Nickname
	}
	return u.Username
}

// timezone picks the zone a user's Mattermost shows them: the automatic one
// their browser reported, or the one they set by hand.
func timezone(tz model.StringMap) string {
	if tz["useAutomaticTimezone"] == "true" {
		if tz["automaticTimezone"] != "" {
			return tz["automaticTimezone"]
		}
	}
	if tz["manualTimezone"] != "" {
		return tz["manualTimezone"]
	}
	return tz["automaticTimezone"]
}
