package mattermost

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// Mattermost's limits that rendering keeps within.
const (
	maxPostRunes     = 16383 // a post's message
	maxLabelRunes    = 40    // a button's label; the message says it in full
	maxFallbackRunes = 300   // an attachment's fallback (notifications)
	maxFieldRunes    = 2000  // an attachment field's value
	maxTextBytes     = 150   // a dialog text input, placeholder, help text
	maxTextareaBytes = 3000  // a dialog textarea, select default
	maxNameBytes     = 24    // a dialog's title and an input's label
)

// post is a rendered message: markdown text and the attachments that carry
// buttons and fields.
type post struct {
	Message     string                     `json:"message"`
	Attachments []*model.MessageAttachment `json:"attachments,omitempty"`
}

// props returns the post's props for the REST API.
func (p post) props() model.StringInterface {
	if len(p.Attachments) == 0 {
		return nil
	}
	return model.StringInterface{"attachments": p.Attachments}
}

// maxPropsRunes is how large kring lets a post's props grow, measured as
// the server measures them (propsRunes). Mattermost 5.x refuses a post
// whose props pass 8,000 runes (model.POST_PROPS_MAX_RUNES; today's
// servers 800,000), counted after it adds its own props: "from_bot" on a
// bot's post, channel_mentions for every ~channel the message names. The
// 2,000 runes kept free are for those.
const maxPropsRunes = 6000

// propsRunes measures the props as Post.IsValid does: the runes of their
// JSON, attachments encoded as model.MessageAttachment (the server
// re-encodes them so before it checks). JSON escapes <, > and & as six
// runes each, so user text can weigh more than its length.
func (p post) propsRunes() int {
	props := p.props()
	if props == nil {
		return 0
	}
	return utf8.RuneCountInString(model.StringInterfaceToJSON(props))
}

// hasButtons reports whether m has anything to click.
func hasButtons(m bot.Message) bool { return len(m.Buttons()) > 0 }

// renderer turns kring messages and forms into Mattermost's shapes. Every
// button's context is signed together with the conversation (and, once
// known, the post) it belongs to.
type renderer struct {
	sign      signer
	actionURL string // KRING_PUBLIC_URL + /mattermost/actions
	dialogURL string // KRING_PUBLIC_URL + /mattermost/dialogs
}

// fitSteps are the lengths button labels and the fallback are cut to,
// longest first, until a message's props fit in maxPropsRunes: the
// largest poll kring allows fits at the first step; text full of
// characters JSON escapes may need the later ones.
var fitSteps = []struct{ label, fallback int }{
	{maxLabelRunes, maxFallbackRunes}, {24, maxFallbackRunes}, {12, 100}, {4, 0},
}

// message renders m for a post in where; postID is "" until the post
// exists. Its props fit in maxPropsRunes whenever shorter button labels
// can make them fit.
func (r renderer) message(m bot.Message, where bot.Where, postID string) post {
	var out post
	for _, step := range fitSteps {
		out = r.messageWithLabels(m, where, postID, step.label, step.fallback)
		if out.propsRunes() <= maxPropsRunes {
			break
		}
	}
	return out
}

func (r renderer) messageWithLabels(m bot.Message, where bot.Where, postID string, labelRunes, fallbackRunes int) post {
	var (
		parts   []string
		out     post
		n       int                      // buttons so far, to keep action ids unique in the post
		buttons *model.MessageAttachment // the attachment of the buttons just before
	)
	for _, blk := range m.Blocks {
		if _, ok := blk.(bot.Buttons); !ok {
			buttons = nil
		}
		switch b := blk.(type) {
		case bot.Header:
			if t := markdown(b.Text); t != "" {
				parts = append(parts, "#### "+strings.ReplaceAll(t, "\n", " "))
			}
		case bot.Section:
			if t := markdown(b.Text); t != "" {
				parts = append(parts, t)
			}
			if len(b.Fields) > 0 {
				att := &model.MessageAttachment{}
				for _, f := range b.Fields {
					att.Fields = append(att.Fields, &model.MessageAttachmentField{
						Title: plain(f.Label),
						Value: truncateRunes(markdown(f.Value), maxFieldRunes),
						Short: true,
					})
				}
				out.Attachments = append(out.Attachments, att)
			}
		case bot.Context:
			if t := smallMarkdown(b.Text); t != "" {
				parts = append(parts, t)
			}
		case bot.Divider:
			parts = append(parts, "---")
		case bot.Buttons:
			// Rows of buttons in a row share one attachment, where
			// Mattermost wraps them: every attachment costs props.
			if buttons == nil {
				buttons = &model.MessageAttachment{}
			}
			for _, btn := range b.Buttons {
				buttons.Actions = append(buttons.Actions, r.action(btn, n, where, postID, labelRunes))
				n++
			}
			if len(buttons.Actions) > 0 && !slices.Contains(out.Attachments, buttons) {
				out.Attachments = append(out.Attachments, buttons)
			}
		}
	}
	if len(out.Attachments) > 0 {
		// Shown where the attachments are not (notifications): once is
		// enough.
		out.Attachments[0].Fallback = truncateRunes(plain(m.Text), fallbackRunes)
	}
	if len(m.Blocks) == 0 {
		parts = append(parts, escapeMarkdown(m.Text))
	}
	out.Message = truncateRunes(strings.Join(parts, "\n\n"), maxPostRunes)
	return out
}

// action renders a button. Mattermost routes a click by the action id,
// which must be alphanumeric and unique within the post; kring's own id and
// value travel in the signed context.
func (r renderer) action(b bot.Button, i int, where bot.Where, postID string, labelRunes int) *model.PostAction {
	fields := map[string]string{keyAction: b.ID, keyValue: b.Value}
	if c := b.Confirm; c != nil {
		fields[keyConfirmT] = c.Title
		fields[keyConfirmX] = c.Text
		fields[keyConfirmY] = c.Yes
	}
	style := "" // Mattermost's default; "default" would cost props
	switch b.Style {
	case bot.Primary:
		style = "primary"
	case bot.Danger:
		style = "danger"
	}
	return &model.PostAction{
		Id:    actionID(b.ID, i),
		Type:  "button",
		Name:  truncateRunes(plain(b.Label), labelRunes),
		Style: style,
		Integration: &model.PostActionIntegration{
			URL:     r.actionURL,
			Context: r.sign.context(fields, where.Channel, postID),
		},
	}
}

// actionID is kring's action id made alphanumeric, numbered to be unique in
// its post: "poll.vote" as the third button is "pollvote2".
func actionID(id string, i int) string {
	var b strings.Builder
	for _, r := range id {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 20 {
		s = s[:20]
	}
	if s == "" {
		s = "kring"
	}
	return fmt.Sprintf("%s%d", s, i)
}

// text renders m as markdown alone, for the places Mattermost takes no
// attachments (an action's ephemeral answer, a dialog's introduction).
func (r renderer) text(m bot.Message) string {
	p := r.message(bot.Message{Text: m.Text, Blocks: withoutButtons(m.Blocks)}, bot.Where{}, "")
	for _, a := range p.Attachments {
		for _, f := range a.Fields {
			p.Message += fmt.Sprintf("\n**%s:** %v", escapeMarkdown(f.Title), f.Value)
		}
	}
	return truncateRunes(p.Message, maxPostRunes)
}

func withoutButtons(blocks []bot.Block) []bot.Block {
	var out []bot.Block
	for _, b := range blocks {
		if _, ok := b.(bot.Buttons); !ok {
			out = append(out, b)
		}
	}
	return out
}

// commandResponse is an ephemeral slash-command answer; Mattermost shows
// its attachments, buttons included.
type commandResponse struct {
	ResponseType     string                     `json:"response_type"`
	Text             string                     `json:"text"`
	Attachments      []*model.MessageAttachment `json:"attachments,omitempty"`
	SkipSlackParsing bool                       `json:"skip_slack_parsing"`
}

func (r renderer) commandResponse(m *bot.Message, where bot.Where) commandResponse {
	resp := commandResponse{ResponseType: "ephemeral", SkipSlackParsing: true}
	if m != nil {
		p := r.message(*m, where, "")
		resp.Text, resp.Attachments = p.Message, p.Attachments
	}
	return resp
}

// dialog renders a form as an interactive dialog whose state carries where
// the form belongs, the form's id and its state, signed.
func (r renderer) dialog(where bot.Where, f bot.Form) model.Dialog {
	d := model.Dialog{
		CallbackId:  f.ID,
		Title:       truncateBytes(plain(f.Title), maxNameBytes),
		SubmitLabel: truncateBytes(plain(f.Submit), maxNameBytes),
		State: r.sign.state(map[string]string{
			keyKind: "form", keyForm: f.ID, keyState: f.State,
			keyTeam: where.Team, keyChannel: where.Channel,
		}),
	}
	if d.Title == "" {
		d.Title = "kring"
	}
	for _, in := range f.Inputs {
		d.Elements = append(d.Elements, element(in))
	}
	return d
}

// element renders one input. Only element types Mattermost 5.x knows are
// used: a date is a text input with a YYYY-MM-DD placeholder, and a
// multi-select is a select that newer servers let pick several options.
func element(in bot.Input) model.DialogElement {
	label := plain(in.Label)
	e := model.DialogElement{
		Name:        in.Name,
		DisplayName: truncateBytes(label, maxNameBytes),
		Placeholder: truncateBytes(plain(in.Placeholder), maxTextBytes),
		Optional:    in.Optional,
	}
	help := plain(in.Hint)
	if e.DisplayName != label {
		// The label did not fit; the help text under the input says it all.
		if help != "" {
			help = label + " · " + help
		} else {
			help = label
		}
	}
	e.HelpText = truncateBytes(help, maxTextBytes)
	limit := func(max int) int {
		if in.MaxLength > 0 && in.MaxLength < max {
			return in.MaxLength
		}
		return max
	}
	switch in.Kind {
	case bot.LongText:
		e.Type = "textarea"
		e.MaxLength = limit(maxTextareaBytes)
		e.Default = truncateBytes(in.Value, e.MaxLength)
	case bot.Select, bot.MultiSelect:
		e.Type = "select"
		e.MultiSelect = in.Kind == bot.MultiSelect
		for _, o := range in.Options {
			e.Options = append(e.Options, &model.PostActionOptions{Text: plain(o.Label), Value: o.Value})
			if o.Value == in.Value {
				e.Default = in.Value
			}
		}
	case bot.UserPicker:
		e.Type = "select"
		e.DataSource = "users"
		e.Default = in.Value
	case bot.Date:
		e.Type = "text"
		e.MaxLength = 10
		e.Default = in.Value
		if e.Placeholder == "" {
			e.Placeholder = "JJJJ-MM-DD"
		}
	default:
		e.Type = "text"
		e.MaxLength = limit(maxTextBytes)
		e.Default = truncateBytes(in.Value, e.MaxLength)
	}
	return e
}

// confirmDialog asks "are you sure?" before a button's action runs:
// Mattermost buttons have no confirmation of their own. Its state carries
// the action to run when the user confirms.
func (r renderer) confirmDialog(ctx map[string]string, postID string) model.Dialog {
	title := ctx[keyConfirmT]
	if title == "" {
		title = "kring"
	}
	return model.Dialog{
		CallbackId:       "confirm",
		Elements:         []model.DialogElement{}, // older web apps expect a list
		Title:            truncateBytes(plain(title), maxNameBytes),
		IntroductionText: markdown(ctx[keyConfirmX]),
		SubmitLabel:      truncateBytes(plain(ctx[keyConfirmY]), maxNameBytes),
		State: r.sign.state(map[string]string{
			keyKind: "confirm", keyAction: ctx[keyAction], keyValue: ctx[keyValue],
			keyTeam: ctx[keyTeam], keyChannel: ctx[keyChannel], keyPost: postID,
		}),
	}
}
