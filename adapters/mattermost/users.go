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
// by, their time zone and their language, and whether it is a bot or
// deactivated.
func lookup(c *client) users.Lookup {
	return func(ctx context.Context, id string) (users.Profile, error) {
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
			return users.Profile{}, err
		}
		return profile(mu), nil
	}
}

// lookupMany asks POST /users/ids about several users at once. The server
// answers the users it knows and leaves the others out (an empty list of
// ids is a 400, which the cache never sends); it sets no bound on how
// many ids one call names, and the cache asks users.DefaultBatch at a
// time, as many as a page of channel members.
func lookupMany(c *client) users.LookupMany {
	return func(ctx context.Context, ids []string) (map[string]users.Profile, error) {
		var got []*model.User
		err := c.do(ctx, "get users by ids", func() (*model.Response, error) {
			var (
				resp *model.Response
				err  error
			)
			got, resp, err = c.api.GetUsersByIds(ctx, ids)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		out := make(map[string]users.Profile, len(got))
		for _, u := range got {
			out[u.Id] = profile(u)
		}
		return out, nil
	}
}

// profile is what kring keeps of a Mattermost user. A deactivated user
// has a delete_at; a bot account is_bot.
func profile(u *model.User) users.Profile {
	return users.Profile{
		User: bot.User{ID: u.Id, Name: displayName(u), TZ: timezone(u.Timezone), Locale: u.Locale},
		Bot:  u.IsBot, Gone: u.DeleteAt != 0,
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

var _ bot.Directory = (*restPoster)(nil)

// Users implements bot.Directory: what Mattermost tells about ids (name,
// time zone, locale), from the users cache, asking POST /users/ids about
// the ids it does not hold, while ctx lasts.
func (p *restPoster) Users(ctx context.Context, _ bot.Where, ids []string) map[string]bot.User {
	got := p.users.Profiles(ctx, ids)
	out := make(map[string]bot.User, len(got))
	for id, pr := range got {
		out[id] = pr.User
	}
	return out
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
