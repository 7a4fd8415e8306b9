package mattermost

import (
	"context"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
)

// maxCachedUsers bounds the adapter's small per-user maps (direct
// channels, conversations seen).
const maxCachedUsers = 10000

// lookup asks GET /users/{id} about one user: the name people know them
// by, their time zone and their language.
func lookup(c *client) users.Lookup {
	return func(ctx context.Context, id string) (bot.User, error) {
		var mu *model.User
		err := c.do(ctx, "get user", func() (*model.Response, error) {
			var (
				resp *model.Response
				err  error
			)
			mu, resp, err = c.api.GetUser(ctx, id, "")
			return resp, err
		})
		if err != nil {
			return bot.User{}, err
		}
		return bot.User{ID: id, Name: displayName(mu), TZ: timezone(mu.Timezone), Locale: mu.Locale}, nil
	}
}

var _ bot.Namer = (*restPoster)(nil)

// Names implements bot.Namer: the names Mattermost shows for ids, from
// the users cache, asking the users API only about ids it does not hold,
// within the cache's bounded wait. User ids are unique on a server, so
// where does not narrow them.
func (p *restPoster) Names(ctx context.Context, _ bot.Where, ids []string) map[string]string {
	return p.users.Names(ctx, ids)
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
