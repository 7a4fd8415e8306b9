package mattermost

import (
	"strings"

	"github.com/kringbot/kring/bot"
)

// mdSpecials are the characters that mean something anywhere in
// Mattermost's markdown; in plain text they are backslash-escaped. '(' and
// ')' need no escape while '[' and ']' have one; '#' only at a line's start.
const mdSpecials = "\\`*_[]~<>|"

// escapeMarkdown makes plain text show as itself in Mattermost and breaks
// mass mentions.
func escapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart := true
	for _, r := range s {
		if strings.ContainsRune(mdSpecials, r) || (r == '#' && lineStart) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		lineStart = r == '\n' || (lineStart && (r == ' ' || r == '\t'))
	}
	return bot.NeutraliseMentions(b.String())
}

// markdown renders kring markup as Mattermost markdown. Formatting is
// applied per line, since a '**' pair may not span a paragraph break, and
// spaces at a span's edges are moved outside its markers, where markdown
// wants them.
func markdown(s string) string { return renderSpans(bot.ParseMarkup(s), false) }

// smallMarkdown renders markup as italic small print.
func smallMarkdown(s string) string { return renderSpans(bot.ParseMarkup(s), true) }

func renderSpans(spans []bot.Span, italic bool) string {
	var b strings.Builder
	for _, sp := range spans {
		if sp.Code {
			b.WriteString(codeSpan(sp.Text))
			continue
		}
		lines := strings.Split(sp.Text, "\n")
		for i, line := range lines {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(formatLine(line, sp, italic || sp.Italic))
		}
	}
	return bot.NeutraliseMentions(b.String())
}

// formatLine writes one line of a span: its text escaped, wrapped in a link
// and in bold and italic markers as the span says.
func formatLine(line string, sp bot.Span, italic bool) string {
	core := strings.TrimSpace(line)
	if core == "" {
		return line
	}
	lead := line[:strings.Index(line, core)]
	trail := line[len(lead)+len(core):]
	// A "- " at the start of a line is a list item in kring markup too.
	bullet := ""
	if sp.URL == "" && strings.HasPrefix(core, "- ") && len(core) > 2 {
		bullet, core = "- ", core[2:]
	}
	text := escapeMarkdown(core)
	if sp.URL != "" {
		text = "[" + text + "](" + linkTarget(sp.URL) + ")"
	}
	if italic {
		text = "_" + text + "_"
	}
	if sp.Bold {
		text = "**" + text + "**"
	}
	return lead + bullet + text + trail
}

// linkTarget keeps a URL from ending the markdown link early.
func linkTarget(u string) string {
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "")
	return r.Replace(strings.TrimSpace(u))
}

// codeSpan writes s as inline code, with a fence longer than any run of
// backticks inside it.
func codeSpan(s string) string {
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// plain renders markup as plain text with mass mentions broken, for the
// places Mattermost shows without markdown: button labels, notification
// fallbacks, attachment field titles, dialog labels.
func plain(s string) string { return bot.NeutraliseMentions(bot.PlainText(s)) }

// truncateRunes shortens s to at most n runes, ending in "…" when it cut.
func truncateRunes(s string, n int) string { return bot.Truncate(s, n) }

// truncateBytes shortens s to at most n bytes on a rune boundary, ending in
// "…" when it cut; Mattermost measures dialog fields in bytes.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	if cut <= 0 {
		return ""
	}
	return s[:cut] + ell
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
