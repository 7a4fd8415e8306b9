package slack

import (
	"context"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// userInfo is the part of the Web API the users cache asks.
type userInfo interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
}

// slackbot is Slack's own helper, a member of every channel whose
// users.info says is_bot false.
const slackbot = "USLACKBOT"

// lookup asks users.info about one user (slack-go asks for include_locale):
// the name Slack shows (display name, else real name, else handle), the
// time zone, the language, and whether it is a bot (is_bot; an app's bot
// user has it too) or deactivated (deleted).
func lookup(api userInfo) users.Lookup {
	return func(ctx context.Context, id string) (users.Profile, error) {
		info, err := api.GetUserInfoContext(ctx, id)
		if err != nil {
			return users.Profile{}, apiError("users.info", id, err)
		}
		name := info.Profile.DisplayName
		if name == "" {
			name = info.RealName
		}
		if name == "" {
			name = info.Name
		}
		return users.Profile{
			User: bot.User{ID: id, Name: name, TZ: info.TZ, Locale: info.Locale},
			Bot:  info.IsBot || id == slackbot, Gone: info.Deleted,
		}, nil
	}
}

var _ bot.Namer = (*webPoster)(nil)

// Names implements bot.Namer: the names Slack shows for ids, from the
// users cache, asking users.info only about ids it does not hold, within
// the cache's bounded wait. A user id is one person in every workspace
// the bot token reaches, so where does not narrow it.
func (p *webPoster) Names(ctx context.Context, _ bot.Where, ids []string) map[string]string {
	return p.users.Names(ctx, ids)
}

var _ bot.Directory = (*webPoster)(nil)

// Users implements bot.Directory: what users.info tells about ids (name,
// tz, locale), from the users cache, asking only about ids it does not
// hold, a few at once, while ctx lasts.
func (p *webPoster) Users(ctx context.Context, _ bot.Where, ids []string) map[string]bot.User {
	return profiles(ctx, p.users, ids)
}

// profiles turns the cache's profiles into the users a feature sees.
func profiles(ctx context.Context, c *users.Cache, ids []string) map[string]bot.User {
	got := c.Profiles(ctx, ids)
	out := make(map[string]bot.User, len(got))
	for id, p := range got {
		out[id] = p.User
	}
	return out
}
