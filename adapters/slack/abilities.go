package slack

import (
	"context"
	"errors"
	"fmt"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// The platform abilities Slack has: a channel's members, a mention, a
// reply in a thread, deleting a message.
var (
	_ bot.Mentioner = (*webPoster)(nil)
	_ bot.Roster    = (*webPoster)(nil)
	_ bot.Threader  = (*webPoster)(nil)
	_ bot.Deleter   = (*webPoster)(nil)
)

// abilityAPI is the part of the Web API the abilities need beyond webAPI;
// *slack.Client has it. A stand-in for webAPI without it lacks them.
type abilityAPI interface {
	GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) ([]string, string, error)
	DeleteMessageContext(ctx context.Context, channel, messageTimestamp string) (string, string, error)
}

var _ abilityAPI = (*slack.Client)(nil)

// membersPage is how many members one conversations.members call asks for;
// Slack allows up to 1,000 and may answer fewer.
const membersPage = 200

// maxMembersPages bounds the paging, should Slack keep answering with a
// cursor: 500 pages are 100,000 members, more than any workspace of a
// regional partnership has.
const maxMembersPages = 500

func (p *webPoster) abilities(what string) (abilityAPI, error) {
	api, ok := p.api.(abilityAPI)
	if !ok {
		return nil, fmt.Errorf("slack cannot %s: %w", what, errors.ErrUnsupported)
	}
	return api, nil
}

// Members implements bot.Roster with conversations.members, page by page,
// leaving out the bot itself (auth.test says which user it is), and,
// through the users cache and users.info, other bots and deactivated
// accounts. The list is kept a minute (users.Cache.Members).
func (p *webPoster) Members(ctx context.Context, where bot.Where) ([]string, error) {
	api, err := p.abilities("list channel members")
	if err != nil {
		return nil, err
	}
	return p.users.Members(ctx, where.Key(), func(ctx context.Context) ([]string, error) {
		return p.listMembers(ctx, api, where)
	})
}

// listMembers asks conversations.members for every member of where but
// the bot itself.
func (p *webPoster) listMembers(ctx context.Context, api abilityAPI, where bot.Where) ([]string, error) {
	me, err := p.api.AuthTestContext(ctx)
	if err != nil {
		return nil, apiError("auth.test", "", err)
	}
	var ids []string
	params := &slack.GetUsersInConversationParameters{ChannelID: where.Channel, Limit: membersPage}
	for page := 0; ; page++ {
		if page == maxMembersPages {
			return nil, fmt.Errorf("slack conversations.members %s: still more after %d pages", where.Channel, page)
		}
		got, next, err := api.GetUsersInConversationContext(ctx, params)
		if err != nil {
			return nil, apiError("conversations.members", where.Channel, err)
		}
		for _, id := range got {
			if id != me.UserID {
				ids = append(ids, id)
			}
		}
		if next == "" {
			return ids, nil
		}
		params.Cursor = next
	}
}

// Reply implements bot.Threader with chat.postMessage and the root's
// thread_ts. The reply stays in the thread (no reply_broadcast).
func (p *webPoster) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	opts := append(msgOptions(m), slack.MsgOptionTS(root.ID))
	_, ts, err := p.api.PostMessageContext(ctx, root.Channel, opts...)
	if err != nil {
		return bot.Ref{}, apiError("chat.postMessage", root.Channel, err)
	}
	return bot.Ref{Where: root.Where, ID: ts}, nil
}

// Delete implements bot.Deleter with chat.delete. Slack answers a message
// that is gone with message_not_found, and one the bot did not post with
// cant_delete_message; both come back as errors.
func (p *webPoster) Delete(ctx context.Context, ref bot.Ref) error {
	api, err := p.abilities("delete a message")
	if err != nil {
		return err
	}
	if _, _, err := api.DeleteMessageContext(ctx, ref.Channel, ref.ID); err != nil {
		return apiError("chat.delete", ref.Channel, err)
	}
	return nil
}

// Mention implements bot.Mentioner: <@U…>, which Slack shows with the
// user's current name and notifies them by. Where a mention cannot be
// written (a header, the notification text) the name shows.
func (p *webPoster) Mention(ctx context.Context, _ bot.Where, userID string) string {
	label := "@" + userID
	if name := p.users.Names(ctx, []string{userID})[userID]; name != "" {
		label = "@" + name
	}
	return bot.MentionLink(userID, label)
}
