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

// lookup asks users.info about one user (slack-go asks for include_locale):
// the name Slack shows (display name, else real name, else handle), the
// time zone and the language.
func lookup(api userInfo) users.Lookup {
	return func(ctx context.Context, id string) (bot.User, error) {
		info, err := api.GetUserInfoContext(ctx, id)
		if err != nil {
			return bot.User{}, apiError("users.info", id, err)
		}
		name := info.Profile.DisplayName
		if name == "" {
			name = info.RealName
		}
		if name == "" {
			name = info.Name
		}
		return bot.User{ID: id, Name: name, TZ: info.TZ, Locale: info.Locale}, nil
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
