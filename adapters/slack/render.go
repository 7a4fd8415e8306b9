package slack

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// Limits Slack puts on a message; a message over any of them is rejected
// with invalid_blocks, so rendering stays within them.
const (
	maxBlocks          = 50
	maxText            = 3000 // a section's or context's text
	maxFallbackText    = 3000 // the notification text next to the blocks
	maxHeader          = 150
	maxFields          = 10
	maxField           = 2000
	maxButtonsPerBlock = 25
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxActionID        = 255
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30
)

// actionSep joins a button's kring id and its index into a Slack action_id:
// Slack wants action ids unique within a message, and a poll's buttons all
// share the id "poll.vote".
const actionSep = "#"

// rendered is a bot.Message in Slack's terms.
type rendered struct {
	Text   string
	Blocks []slack.Block
}

// render turns m into Block Kit within Slack's limits.
func render(m bot.Message) rendered {
	var blocks []slack.Block
	button := 0
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case bot.Header:
			t := bot.Truncate(strings.TrimSpace(oneLine(bot.PlainText(b.Text))), maxHeader)
			if t != "" {
				blocks = append(blocks, slack.NewHeaderBlock(plain(t)))
			}
		case bot.Section:
			blocks = append(blocks, sections(b)...)
		case bot.Context:
			for _, chunk := range chunks(b.Text, maxText) {
				blocks = append(blocks, slack.NewContextBlock("", markdown(chunk)))
			}
		case bot.Divider:
			blocks = append(blocks, slack.NewDividerBlock())
		case bot.Buttons:
			for start := 0; start < len(b.Buttons); start += maxButtonsPerBlock {
				row := b.Buttons[start:min(start+maxButtonsPerBlock, len(b.Buttons))]
				els := make([]slack.BlockElement, 0, len(row))
				for _, btn := range row {
					els = append(els, renderButton(btn, button))
					button++
				}
				blocks = append(blocks, slack.NewActionBlock("", els...))
			}
		}
	}
	blocks = fitBlocks(blocks)
	text := m.Text
	if text == "" {
		text = fallbackText(m)
	}
	return rendered{
		Text:   bot.Truncate(escapeText(bot.NeutraliseMentions(text)), maxFallbackText),
		Blocks: blocks,
	}
}

// fallbackText is the notification text of a message without one: its
// first header or section.
func fallbackText(m bot.Message) string {
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case bot.Header:
			return bot.PlainText(b.Text)
		case bot.Section:
			if b.Text != "" {
				return bot.PlainText(b.Text)
			}
		}
	}
	return "kring"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func markdown(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// sections renders a Section, split into several when its text or its
// fields exceed what one Slack section holds.
func sections(s bot.Section) []slack.Block {
	var out []slack.Block
	texts := chunks(s.Text, maxText)
	var fields [][]*slack.TextBlockObject
	for start := 0; start < len(s.Fields); start += maxFields {
		var group []*slack.TextBlockObject
		for _, f := range s.Fields[start:min(start+maxFields, len(s.Fields))] {
			group = append(group, markdown(fieldText(f)))
		}
		fields = append(fields, group)
	}
	for i, t := range texts {
		var fs []*slack.TextBlockObject
		if i == len(texts)-1 && len(fields) > 0 {
			fs, fields = fields[0], fields[1:]
		}
		out = append(out, slack.NewSectionBlock(markdown(t), fs, nil))
	}
	for _, fs := range fields {
		out = append(out, slack.NewSectionBlock(nil, fs, nil))
	}
	return out
}

func fieldText(f bot.Field) string {
	label := bot.Truncate(mrkdwn(oneLine(f.Label)), maxField/4)
	s := "*" + strings.Trim(label, "*") + "*\n" + mrkdwn(f.Value)
	if utf8.RuneCountInString(s) > maxField {
		s = bot.Truncate(s, maxField)
	}
	return s
}

// chunks renders markup as mrkdwn in pieces of at most n runes, cut at line
// ends where it can be; "" renders as no piece.
func chunks(s string, n int) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if r := mrkdwn(s); utf8.RuneCountInString(r) <= n {
		return []string{r}
	}
	var out []string
	cur := ""
	for _, line := range strings.Split(s, "\n") {
		next := line
		if cur != "" {
			next = cur + "\n" + line
		}
		if utf8.RuneCountInString(mrkdwn(next)) <= n {
			cur = next
			continue
		}
		if cur != "" {
			out = append(out, mrkdwn(cur))
		}
		cur = line
		for utf8.RuneCountInString(mrkdwn(cur)) > n {
			out = append(out, truncateRendered(cur, n))
			cur = ""
		}
	}
	if cur != "" {
		out = append(out, mrkdwn(cur))
	}
	return out
}

// truncateRendered shortens markup until its rendering fits in n runes.
func truncateRendered(s string, n int) string {
	cut := n
	for {
		r := mrkdwn(bot.Truncate(s, cut))
		over := utf8.RuneCountInString(r) - n
		if over <= 0 {
			return r
		}
		cut -= over
	}
}

func renderButton(b bot.Button, index int) *slack.ButtonBlockElement {
	id := b.ID
	suffix := actionSep + strconv.Itoa(index)
	if len(id)+len(suffix) > maxActionID {
		id = id[:maxActionID-len(suffix)]
	}
	value := b.Value
	if len(value) > maxButtonValue {
		value = value[:maxButtonValue]
	}
	label := bot.Truncate(oneLine(bot.PlainText(b.Label)), maxButtonText)
	if label == "" {
		label = "…"
	}
	el := slack.NewButtonBlockElement(id+suffix, value, plain(label))
	switch b.Style {
	case bot.Primary:
		el.Style = slack.StylePrimary
	case bot.Danger:
		el.Style = slack.StyleDanger
	}
	if c := b.Confirm; c != nil {
		conf := slack.NewConfirmationBlockObject(
			plain(bot.Truncate(oneLine(bot.PlainText(c.Title)), maxConfirmTitle)),
			markdown(truncateRendered(c.Text, maxConfirmText)),
			plain(bot.Truncate(oneLine(bot.PlainText(c.Yes)), maxConfirmButton)),
			plain(bot.Truncate(oneLine(bot.PlainText(c.No)), maxConfirmButton)),
		)
		if b.Style == bot.Danger {
			conf.WithStyle(slack.StyleDanger)
		}
		el.Confirm = conf
	}
	return el
}

// actionID recovers the kring id of a button from its Slack action_id.
func actionID(slackID string) string {
	i := strings.LastIndex(slackID, actionSep)
	if i < 0 {
		return slackID
	}
	if _, err := strconv.Atoi(slackID[i+len(actionSep):]); err != nil {
		return slackID
	}
	return slackID[:i]
}

// fitBlocks keeps a message within 50 blocks: first by joining neighbouring
// text sections, then by leaving out text blocks from the end while keeping
// every row of buttons (they are what people act on), marking the cut with
// "…".
func fitBlocks(blocks []slack.Block) []slack.Block {
	if len(blocks) <= maxBlocks {
		return blocks
	}
	var merged []slack.Block
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok && len(s.Fields) == 0 && s.Text != nil && len(merged) > 0 {
			if prev, ok := merged[len(merged)-1].(*slack.SectionBlock); ok && len(prev.Fields) == 0 && prev.Text != nil &&
				utf8.RuneCountInString(prev.Text.Text)+1+utf8.RuneCountInString(s.Text.Text) <= maxText {
				merged[len(merged)-1] = slack.NewSectionBlock(markdown(prev.Text.Text+"\n"+s.Text.Text), nil, nil)
				continue
			}
		}
		merged = append(merged, b)
	}
	if len(merged) <= maxBlocks {
		return merged
	}
	actions := 0
	for _, b := range merged {
		if b.BlockType() == slack.MBTAction {
			actions++
		}
	}
	actions = min(actions, maxBlocks-1)
	budget := maxBlocks - actions - 1
	var out []slack.Block
	cut := false
	for _, b := range merged {
		if b.BlockType() == slack.MBTAction {
			if actions > 0 {
				out = append(out, b)
				actions--
			}
			continue
		}
		if budget > 0 {
			out = append(out, b)
			budget--
			continue
		}
		if !cut {
			out = append(out, slack.NewContextBlock("", markdown("…")))
			cut = true
		}
	}
	return out
}

// mrkdwn renders kring markup as Slack mrkdwn: &, < and > escaped, literal
// formatting characters kept literal, mass mentions neutralised, "- " list
// items as bullets.
func mrkdwn(s string) string {
	var b strings.Builder
	for _, sp := range bot.ParseMarkup(s) {
		switch {
		case sp.Code:
			b.WriteString("`" + escapeText(strings.ReplaceAll(sp.Text, "`", "ˋ")) + "`")
		case slackMention(sp.URL) != "":
			b.WriteString(styled("<@"+slackMention(sp.URL)+">", sp.Bold, sp.Italic, false))
		case sp.URL != "" && safeURL(sp.URL):
			label := escapeLabel(sp.Text)
			if label == "" {
				label = escapeLabel(sp.URL)
			}
			link := "<" + escapeURL(sp.URL) + "|" + label + ">"
			b.WriteString(styled(link, sp.Bold, sp.Italic, false))
		default:
			text := sp.Text
			if sp.URL != "" {
				text += " (" + sp.URL + ")"
			}
			b.WriteString(styled(literal(text), sp.Bold, sp.Italic, true))
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "- "); ok {
			lines[i] = "• " + rest
		}
	}
	return bot.NeutraliseMentions(strings.Join(lines, "\n"))
}

// styled wraps text in Slack's bold and italic markers line by line (Slack
// does not carry formatting over a line break) and outside surrounding
// spaces (Slack ignores "* x *").
func styled(text string, bold, italic, split bool) string {
	if !bold && !italic {
		return text
	}
	open, close := "", ""
	if bold {
		open, close = "*", "*"
	}
	if italic {
		open, close = open+"_", "_"+close
	}
	lines := []string{text}
	if split {
		lines = strings.Split(text, "\n")
	}
	for i, l := range lines {
		core := strings.TrimSpace(l)
		if core == "" {
			continue
		}
		start := strings.Index(l, core)
		lines[i] = l[:start] + open + core + close + l[start+len(core):]
	}
	return strings.Join(lines, "\n")
}

// literal escapes text for mrkdwn and keeps the characters that format
// (* _ ~ `) from formatting, with zero-width spaces around them: Slack has
// no backslash escape.
func literal(s string) string {
	s = escapeText(s)
	if !strings.ContainsAny(s, "*_~`") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("*_~`", r) {
			b.WriteString("\u200b" + string(r) + "\u200b")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeText escapes the three characters Slack wants escaped in text.
func escapeText(s string) string { return textEscaper.Replace(s) }

func escapeLabel(s string) string {
	return strings.ReplaceAll(literal(oneLine(s)), "|", "¦")
}

func escapeURL(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(s)
}

// slackUserID is what a Slack user id looks like; only such an id is
// written into a mention.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]+$`)

// slackMention is the user a mention link (bot.MentionLink) names, "" for
// any other link.
func slackMention(url string) string {
	if id, ok := bot.MentionedUser(url); ok && slackUserID.MatchString(id) {
		return id
	}
	return ""
}

// safeURL reports whether a link may be rendered as a link: web and mail
// links only, so markup cannot smuggle in Slack's <!here> or <@U123>.
func safeURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return true
	}
	return false
}
