package mattermost

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
)

// restPoster is the bot.Poster on the REST API, unpaced: the adapter hands
// features a pace.Poster around it.
type restPoster struct {
	c      *client
	render renderer
	log    *slog.Logger
	users  *users.Cache // names for Names, in users.go

	mu  sync.Mutex
	me  *model.User       // the bot account, once asked
	dms map[string]string // user id → direct channel id
	// conversations are the direct and group messages commands came from,
	// by channel id: kring cannot post there unless it is a member.
	conversations map[string]bool
	// noEphemeralUntil: the API refused an ephemeral post (the bot is no
	// system admin); until then replies go as DMs at once, without asking
	// again. Checked again later, as an admin may grant the permission.
	noEphemeralUntil time.Time
}

// ephemeralRetry is how long a refusal of ephemeral posts is remembered.
const ephemeralRetry = time.Hour

// conversationName matches the channel names Mattermost gives a direct
// message (model.GetDMNameFromIds: two user ids) and a group message
// (model.GetGroupNameFromUserIds: a SHA-1 in hex).
var conversationName = regexp.MustCompile(`^([a-z0-9]{26}__[a-z0-9]{26}|[0-9a-f]{40})$`)

// noteChannel remembers from a command's channel name whether its channel
// is a direct or group message.
func (p *restPoster) noteChannel(id, name string) {
	if !conversationName.MatchString(name) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conversations == nil || len(p.conversations) > maxCachedUsers {
		p.conversations = map[string]bool{}
	}
	p.conversations[id] = true
}

var _ bot.Poster = (*restPoster)(nil)

// bot returns the bot account, asking Mattermost once.
func (p *restPoster) bot(ctx context.Context) (*model.User, error) {
	p.mu.Lock()
	me := p.me
	p.mu.Unlock()
	if me != nil {
		return me, nil
	}
	err := p.c.do(ctx, "get bot user", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		me, resp, err = p.c.api.GetMe(ctx, "")
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.me = me
	p.mu.Unlock()
	return me, nil
}

// Post implements bot.Poster. A message with buttons is updated right after
// it is created, so that every button's signed context names its post too.
func (p *restPoster) Post(ctx context.Context, where bot.Where, m bot.Message) (bot.Ref, error) {
	id, err := p.create(ctx, where, p.render.message(m, where, ""), nil)
	if err != nil {
		return bot.Ref{}, err
	}
	ref := bot.Ref{Where: where, ID: id}
	if hasButtons(m) {
		if err := p.Update(ctx, ref, m); err != nil {
			p.log.Warn("bind buttons to their post", "post", id, "err", err)
		}
	}
	return ref, nil
}

// create posts as the bot; a bot that may not post in the channel is a
// user error that says how to add it.
func (p *restPoster) create(ctx context.Context, where bot.Where, pp post, files []string) (string, error) {
	// Mattermost answers a create whose pending id it saw in the last 30 s
	// with the post it made then, in whatever channel: so every post gets
	// its own random id, and the retries of one create (in p.c.do) reuse
	// it, so that a retry after a lost answer does not post twice.
	in := &model.Post{ChannelId: where.Channel, Message: pp.Message, FileIds: files, PendingPostId: "kring:" + model.NewId()}
	in.SetProps(pp.props())
	var out *model.Post
	err := p.c.do(ctx, "create post", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		out, resp, err = p.c.api.CreatePost(ctx, in)
		return resp, err
	})
	if err != nil {
		if s := statusOf(err); s == http.StatusForbidden || s == http.StatusNotFound {
			return "", p.notInChannel(ctx, where, err)
		}
		return "", err
	}
	return out.Id, nil
}

// notInChannel is the user error for a channel the bot may not post in:
// how to add it, or in a direct or group message (which a bot cannot
// join) that it has to be a channel.
func (p *restPoster) notInChannel(ctx context.Context, where bot.Where, cause error) error {
	p.mu.Lock()
	private := p.conversations[where.Channel]
	p.mu.Unlock()
	if private {
		p.log.Info("bot may not post in a direct or group message", "channel", where.Channel, "err", cause)
		return bot.Errorf("mattermost.private_conversation")
	}
	name := "kring"
	if me, err := p.bot(ctx); err == nil && me.Username != "" {
		name = me.Username
	}
	p.log.Info("bot may not post in channel", "err", cause)
	return bot.Errorf("mattermost.not_in_channel", "Bot", name)
}

// Update implements bot.Poster. It patches the post's message and props
// only: PUT /posts/{id} (UpdatePost) sets is_pinned, has_reactions and
// file_ids from the body as well, so it would unpin a pinned poll and hide
// its reactions, on 5.x as on today's servers. The props are always sent,
// empty when the message has no attachments, so that buttons a message no
// longer has are gone (a patch leaves out what it does not name).
func (p *restPoster) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	pp := p.render.message(m, ref.Where, ref.ID)
	props := pp.props()
	if props == nil {
		props = model.StringInterface{}
	}
	patch := &model.PostPatch{Message: &pp.Message, Props: &props}
	err := p.c.do(ctx, "update post", func() (*model.Response, error) {
		_, resp, err := p.c.api.PatchPost(ctx, ref.ID, patch)
		return resp, err
	})
	if statusOf(err) == http.StatusForbidden {
		return p.notInChannel(ctx, ref.Where, err)
	}
	return err
}

// Ephemeral implements bot.Poster. Mattermost lets only system admins post
// ephemeral messages through the API (PermissionCreatePostEphemeral); a
// bot without that role gets the message as a DM instead, which still
// reaches the user and nobody else. The adapter answers commands and
// clicks in their own responses where it can, so this is for replies that
// come too late for those.
func (p *restPoster) Ephemeral(ctx context.Context, where bot.Where, userID string, m bot.Message) error {
	p.mu.Lock()
	refused := time.Now().Before(p.noEphemeralUntil)
	p.mu.Unlock()
	if refused {
		_, err := p.DM(ctx, where, userID, m)
		return err
	}
	pp := p.render.message(m, where, "")
	in := &model.Post{ChannelId: where.Channel, Message: pp.Message}
	in.SetProps(pp.props())
	err := p.c.do(ctx, "create ephemeral post", func() (*model.Response, error) {
		_, resp, err := p.c.api.CreatePostEphemeral(ctx, &model.PostEphemeral{UserID: userID, Post: in})
		return resp, err
	})
	if statusOf(err) == http.StatusForbidden {
		p.mu.Lock()
		first := p.noEphemeralUntil.IsZero()
		p.noEphemeralUntil = time.Now().Add(ephemeralRetry)
		p.mu.Unlock()
		if first {
			p.log.Info("the bot may not post ephemeral messages (only system admins may); late replies come as DMs", "err", err)
		}
		_, err = p.DM(ctx, where, userID, m)
	}
	return err
}

// DM implements bot.Poster.
func (p *restPoster) DM(ctx context.Context, where bot.Where, userID string, m bot.Message) (bot.Ref, error) {
	ch, err := p.direct(ctx, userID)
	if err != nil {
		return bot.Ref{}, err
	}
	return p.Post(ctx, bot.Where{Platform: where.Platform, Team: where.Team, Channel: ch}, m)
}

// direct finds or creates the direct channel between the bot and a user.
func (p *restPoster) direct(ctx context.Context, userID string) (string, error) {
	p.mu.Lock()
	ch, ok := p.dms[userID]
	p.mu.Unlock()
	if ok {
		return ch, nil
	}
	me, err := p.bot(ctx)
	if err != nil {
		return "", err
	}
	var out *model.Channel
	err = p.c.do(ctx, "create direct channel", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		out, resp, err = p.c.api.CreateDirectChannel(ctx, me.Id, userID)
		return resp, err
	})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if len(p.dms) > maxCachedUsers {
		p.dms = map[string]string{}
	}
	p.dms[userID] = out.Id
	p.mu.Unlock()
	return out.Id, nil
}

// OpenForm implements bot.Poster.
func (p *restPoster) OpenForm(ctx context.Context, where bot.Where, triggerID string, f bot.Form) error {
	return p.openDialog(ctx, triggerID, p.render.dialog(where, f))
}

func (p *restPoster) openDialog(ctx context.Context, triggerID string, d model.Dialog) error {
	if triggerID == "" {
		return fmt.Errorf("open dialog %s: no trigger id", d.CallbackId)
	}
	req := model.OpenDialogRequest{TriggerId: triggerID, URL: p.render.dialogURL, Dialog: d}
	return p.c.do(ctx, "open dialog "+d.CallbackId, func() (*model.Response, error) {
		return p.c.api.OpenInteractiveDialog(ctx, req)
	})
}

// Upload implements bot.Poster: the file attached to a post by the bot.
// Where uploads are off or refused, the file's text is posted in a code
// block instead.
func (p *restPoster) Upload(ctx context.Context, where bot.Where, f bot.File) error {
	var up *model.FileUploadResponse
	err := p.c.do(ctx, "upload file", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		up, resp, err = p.c.api.UploadFile(ctx, f.Content, where.Channel, f.Name)
		return resp, err
	})
	title := "**" + escapeMarkdown(f.Title) + "**"
	if f.Title == "" {
		title = "**" + escapeMarkdown(f.Name) + "**"
	}
	if err == nil && len(up.FileInfos) > 0 {
		ids := make([]string, len(up.FileInfos))
		for i, fi := range up.FileInfos {
			ids[i] = fi.Id
		}
		_, err = p.create(ctx, where, post{Message: title}, ids)
		return err
	}
	if _, ok := bot.AsUserError(err); ok {
		return err
	}
	p.log.Warn("file upload failed; posting the file as text", "file", f.Name, "err", err)
	_, err = p.create(ctx, where, post{Message: codeBlock(title, f)}, nil)
	return err
}

// codeBlock writes a text file as a fenced block under its title, cut to
// fit in one post.
func codeBlock(title string, f bot.File) string {
	body := f.Text()
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	room := maxPostRunes - len([]rune(title)) - 2*len(fence) - 16
	if len([]rune(body)) > room {
		body = string([]rune(body)[:room]) + "\n…"
	}
	return title + "\n" + fence + "\n" + strings.TrimRight(body, "\n") + "\n" + fence
}
