package mattermost

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// The platform abilities Mattermost has: a channel's members, a mention, a
// reply in a thread, deleting a post.
var (
	_ bot.Roster    = (*restPoster)(nil)
	_ bot.Mentioner = (*restPoster)(nil)
	_ bot.Threader  = (*restPoster)(nil)
	_ bot.Deleter   = (*restPoster)(nil)
)

// membersPage is how many members one GET /channels/{id}/members asks
// for: the most Mattermost gives in a page (web.PerPageMaximum).
const membersPage = 200

// maxMembersPages bounds the paging: 500 pages are 100,000 members.
const maxMembersPages = 500

// Members implements bot.Roster with GET /channels/{id}/members, page by
// page until a page comes back short, leaving out the bot itself, and,
// through the users cache and POST /users/ids, other bots and
// deactivated accounts (who stay members of their channels). The list is
// kept a minute (users.Cache.Members). A bot that is no member of the
// channel may not list it (403), which is the user error that says how
// to add it.
func (p *restPoster) Members(ctx context.Context, where bot.Where) ([]string, error) {
	return p.users.Members(ctx, where.Key(), func(ctx context.Context) ([]string, error) {
		return p.listMembers(ctx, where)
	})
}

// listMembers asks for every member of where but the bot itself.
func (p *restPoster) listMembers(ctx context.Context, where bot.Where) ([]string, error) {
	me, err := p.bot(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for page := 0; page < maxMembersPages; page++ {
		var got model.ChannelMembers
		err := p.c.do(ctx, "get members of channel "+where.Channel, func() (*model.Response, error) {
			var (
				resp *model.Response
				err  error
			)
			got, resp, err = p.c.api.GetChannelMembers(ctx, where.Channel, page, membersPage, "")
			return resp, err
		})
		if statusOf(err) == http.StatusForbidden {
			return nil, p.notInChannel(ctx, where, err)
		}
		if err != nil {
			return nil, err
		}
		for _, m := range got {
			if m.UserId != me.Id {
				ids = append(ids, m.UserId)
			}
		}
		if len(got) < membersPage {
			return ids, nil
		}
	}
	return nil, fmt.Errorf("get channel members of %s: still more after %d pages", where.Channel, maxMembersPages)
}

// Mention implements bot.Mentioner: Mattermost notifies a user named by
// "@username" anywhere in a post's text (its parser reads the markdown's
// text, so the escape of a '_' in the name does not hide it). The
// username comes from GET /users/{id}; a user it cannot find is not
// mentioned.
func (p *restPoster) Mention(ctx context.Context, _ bot.Where, userID string) string {
	var u *model.User
	err := p.c.do(ctx, "get user", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		u, resp, err = p.c.api.GetUser(ctx, userID, "")
		return resp, err
	})
	if err != nil || u.Username == "" {
		p.log.Warn("cannot mention user", "user", userID, "err", err)
		return ""
	}
	return "@" + bot.Escape(u.Username)
}

// Reply implements bot.Threader: a post whose root_id is root. Mattermost
// threads are one level deep, so root has to be a post of the channel
// itself (as Post returns), not a reply. Like Post, a reply with buttons
// is updated right after it is created, so that its buttons name it.
func (p *restPoster) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	pp := p.render.message(m, root.Where, "")
	// A pending id of its own, shared by the retries of this create, as
	// in create.
	in := &model.Post{ChannelId: root.Channel, RootId: root.ID, Message: pp.Message, PendingPostId: "kring:" + model.NewId()}
	in.SetProps(pp.props())
	var out *model.Post
	err := p.c.do(ctx, "reply to post "+root.ID, func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		out, resp, err = p.c.api.CreatePost(ctx, in)
		return resp, err
	})
	if statusOf(err) == http.StatusForbidden {
		return bot.Ref{}, p.notInChannel(ctx, root.Where, err)
	}
	if err != nil {
		return bot.Ref{}, err
	}
	ref := bot.Ref{Where: root.Where, ID: out.Id}
	if hasButtons(m) {
		if err := p.Update(ctx, ref, m); err != nil {
			p.log.Warn("bind buttons to their post", "post", out.Id, "err", err)
		}
	}
	return ref, nil
}

// Delete implements bot.Deleter with DELETE /posts/{id}, which deletes
// the replies of a thread's root with it. A post that is gone already is
// 404 (older servers answer 403, as for a post the bot did not write).
func (p *restPoster) Delete(ctx context.Context, ref bot.Ref) error {
	return p.c.do(ctx, "delete post "+ref.ID, func() (*model.Response, error) {
		return p.c.api.DeletePost(ctx, ref.ID)
	})
}
