package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// webAPI is the part of Slack's Web API kring uses; *slack.Client has it,
// and a test may fake it.
type webAPI interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ webAPI = (*slack.Client)(nil)

// webPoster is the bot.Poster on Slack's Web API, unpaced; the Adapter
// wraps it in pace.Poster.
type webPoster struct {
	api     webAPI
	http    *http.Client
	log     *slog.Logger
	locale  func(ctx context.Context, where bot.Where) string
	replies *responseURLs
	users   *users.Cache // names for Names, in users.go

	mu  sync.Mutex
	dms map[string]string // team:user → DM channel id
}

var _ bot.Poster = (*webPoster)(nil)

func msgOptions(m bot.Message) []slack.MsgOption {
	r := render(m)
	return []slack.MsgOption{slack.MsgOptionText(r.Text, false), slack.MsgOptionBlocks(r.Blocks...)}
}

// Post implements bot.Poster with chat.postMessage.
func (p *webPoster) Post(ctx context.Context, where bot.Where, m bot.Message) (bot.Ref, error) {
	_, ts, err := p.api.PostMessageContext(ctx, where.Channel, msgOptions(m)...)
	if err != nil {
		return bot.Ref{}, apiError("chat.postMessage", where.Channel, err)
	}
	return bot.Ref{Where: where, ID: ts}, nil
}

// Update implements bot.Poster with chat.update, or for an ephemeral
// message (which chat.update cannot reach) through the response_url of the
// click that came from it.
func (p *webPoster) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	if u, ok := p.replies.ephemeral(ref); ok {
		return p.respond(ctx, u, m, true)
	}
	_, _, _, err := p.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, msgOptions(m)...)
	if err != nil {
		return apiError("chat.update", ref.Channel, err)
	}
	return nil
}

// Ephemeral implements bot.Poster with chat.postEphemeral; where the bot
// is not in the channel it uses the response_url of the user's latest
// command or click there, which works in any conversation.
func (p *webPoster) Ephemeral(ctx context.Context, where bot.Where, userID string, m bot.Message) error {
	_, err := p.api.PostEphemeralContext(ctx, where.Channel, userID, msgOptions(m)...)
	if err == nil {
		return nil
	}
	err = apiError("chat.postEphemeral", where.Channel, err)
	if ue, ok := bot.AsUserError(err); ok && (ue.ID == "slack.not_in_channel" || ue.ID == "slack.channel_not_found") {
		if u, ok := p.replies.latest(where, userID); ok {
			return p.respond(ctx, u, m, false)
		}
	}
	return err
}

// DM implements bot.Poster with conversations.open and chat.postMessage.
func (p *webPoster) DM(ctx context.Context, where bot.Where, userID string, m bot.Message) (bot.Ref, error) {
	key := where.Team + ":" + userID
	p.mu.Lock()
	ch := p.dms[key]
	p.mu.Unlock()
	if ch == "" {
		c, _, _, err := p.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
		if err != nil {
			return bot.Ref{}, apiError("conversations.open", userID, err)
		}
		ch = c.ID
		p.mu.Lock()
		if p.dms == nil {
			p.dms = map[string]string{}
		}
		p.dms[key] = ch
		p.mu.Unlock()
	}
	dm := bot.Where{Platform: bot.Slack, Team: where.Team, Channel: ch}
	return p.Post(ctx, dm, m)
}

// OpenForm implements bot.Poster with views.open.
func (p *webPoster) OpenForm(ctx context.Context, where bot.Where, triggerID string, f bot.Form) error {
	if triggerID == "" {
		return bot.Errorf("slack.trigger_expired")
	}
	view, err := renderModal(f, where, p.locale(ctx, where))
	if err != nil {
		return err
	}
	if _, err := p.api.OpenViewContext(ctx, triggerID, view); err != nil {
		return apiError("views.open", where.Channel, err)
	}
	return nil
}

// Upload implements bot.Poster with files.getUploadURLExternal, the upload
// and files.completeUploadExternal. When the workspace did not grant
// files:write (or refuses files), the file is posted as a code block.
func (p *webPoster) Upload(ctx context.Context, where bot.Where, f bot.File) error {
	_, err := p.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader:   bytes.NewReader(f.Content),
		FileSize: len(f.Content),
		Filename: f.Name,
		Title:    f.Title,
		Channel:  where.Channel,
	})
	if err == nil {
		return nil
	}
	err = apiError("files.upload", where.Channel, err)
	if ue, ok := bot.AsUserError(err); ok && (ue.ID == "slack.not_in_channel" || ue.ID == "slack.channel_not_found" || ue.ID == "slack.invalid_auth") {
		return err
	}
	p.log.Warn("file upload failed; posting it as a code block", "channel", where.Channel, "file", f.Name, "err", err)
	_, perr := p.Post(ctx, where, codeBlockMessage(f))
	if perr != nil {
		return fmt.Errorf("post %s as a code block after upload failed (%v): %w", f.Name, err, perr)
	}
	return nil
}

// codeBlockMessage shows a text file in a message: a header with its title
// and its content in code blocks, cut short within Slack's limits.
func codeBlockMessage(f bot.File) bot.Message {
	title := f.Title
	if title == "" {
		title = f.Name
	}
	m := bot.Message{Text: title, Blocks: []bot.Block{bot.Header{Text: bot.Escape(title)}}}
	content := f.Text()
	const per = maxText - 10
	for len(content) > 0 && len(m.Blocks) < maxBlocks {
		part := content
		if utf8.RuneCountInString(part) > per {
			part = string([]rune(part)[:per])
			if i := strings.LastIndexByte(part, '\n'); i > 0 {
				part = part[:i+1]
			}
		}
		content = content[len(part):]
		m.Blocks = append(m.Blocks, bot.Section{Text: "```" + codeEscape(part) + "```"})
	}
	return m
}

// codeEscape keeps text in a kring code span literal: the markup has no
// backtick escape inside code, so backticks become a look-alike.
func codeEscape(s string) string { return strings.ReplaceAll(s, "`", "ˋ") }

// respond sends m to a response_url, as an ephemeral reply or replacing
// the message the click came from.
func (p *webPoster) respond(ctx context.Context, url string, m bot.Message, replace bool) error {
	r := render(m)
	msg := &slack.WebhookMessage{
		Text:            r.Text,
		Blocks:          &slack.Blocks{BlockSet: r.Blocks},
		ResponseType:    slack.ResponseTypeEphemeral,
		ReplaceOriginal: replace,
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, url, p.http, msg); err != nil {
		return fmt.Errorf("post to response_url: %w", err)
	}
	return nil
}

// apiError turns a Web API error into what kring's callers understand: a
// bot.RateLimited for pace to wait on, a bot.UserError for what a user or
// an admin can fix, else the error wrapped with the method it came from.
func apiError(method, target string, err error) error {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return &bot.RateLimited{After: rl.RetryAfter}
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		switch se.Err {
		case "not_in_channel":
			return bot.Errorf("slack.not_in_channel")
		case "channel_not_found":
			return bot.Errorf("slack.channel_not_found")
		case "is_archived":
			return bot.Errorf("slack.is_archived")
		case "missing_scope":
			scope := se.Needed
			if scope == "" {
				scope = "?"
			}
			return bot.Errorf("slack.missing_scope", "Scope", scope, "Method", method)
		case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
			return bot.Errorf("slack.invalid_auth")
		case "expired_trigger_id", "invalid_trigger_id", "trigger_expired", "exchanged_trigger_id":
			return bot.Errorf("slack.trigger_expired")
		case "user_not_found", "cannot_dm_bot", "user_disabled":
			return bot.Errorf("slack.user_not_found")
		}
	}
	return fmt.Errorf("slack %s %s: %w", method, target, err)
}
