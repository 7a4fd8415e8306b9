package bot

import (
	"regexp"
	"strings"
)

// Span is a run of text with one formatting, as ParseMarkup finds it.
type Span struct {
	Text   string
	Bold   bool
	Italic bool
	Code   bool   // `code`
	URL    string // set for a link; Text is then its label
}

const markupSpecials = `\*_[]()~` + "`"

// Escape makes user text safe to put into message markup: every markup
// character is backslash-escaped, so a poll called "*gratis* [taart](x)" shows
// just that, and mass mentions (@channel, @here, @all, @everyone) are broken
// with a word joiner so they notify nobody.
func Escape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if strings.ContainsRune(markupSpecials, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return NeutraliseMentions(b.String())
}

var massMention = regexp.MustCompile(`(?i)([@!])(channel|here|all|everyone)\b`)

// NeutraliseMentions breaks @channel, @here, @all and @everyone (and their
// Slack "!" forms) with an invisible word joiner so they notify nobody.
func NeutraliseMentions(s string) string {
	return massMention.ReplaceAllString(s, "$1\u2060$2")
}

// ParseMarkup splits kring markup into spans. It is forgiving: an unclosed
// '*' or '_' formats to the end of the text, a '[' without a "](url)" is
// plain text. Adapters render the spans in their platform's own syntax.
func ParseMarkup(s string) []Span {
	var (
		spans        []Span
		cur          strings.Builder
		bold, italic bool
	)
	flush := func() {
		if cur.Len() > 0 {
			spans = append(spans, Span{Text: cur.String(), Bold: bold, Italic: italic})
			cur.Reset()
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
		case r == '`':
			end := indexRune(rs, i+1, '`')
			if end < 0 {
				cur.WriteRune(r)
				continue
			}
			flush()
			spans = append(spans, Span{Text: string(rs[i+1 : end]), Code: true})
			i = end
		case r == '*':
			flush()
			bold = !bold
		case r == '_' && atWordEdge(rs, i):
			flush()
			italic = !italic
		case r == '[':
			label, url, end, ok := parseLink(rs, i)
			if !ok {
				cur.WriteRune(r)
				continue
			}
			flush()
			spans = append(spans, Span{Text: label, Bold: bold, Italic: italic, URL: url})
			i = end
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return spans
}

func indexRune(rs []rune, from int, r rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// atWordEdge reports whether the '_' at i opens or closes italics rather
// than sitting inside a word like snake_case.
func atWordEdge(rs []rune, i int) bool {
	before := i == 0 || !isWordRune(rs[i-1])
	after := i == len(rs)-1 || !isWordRune(rs[i+1])
	return before || after
}

func isWordRune(r rune) bool {
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

// parseLink reads "[label](url)" starting at rs[i] == '['. Escapes inside
// the label are honoured; the url ends at the first unescaped ')'.
func parseLink(rs []rune, i int) (label, url string, end int, ok bool) {
	var lb strings.Builder
	j := i + 1
	for ; j < len(rs) && rs[j] != ']'; j++ {
		if rs[j] == '\\' && j+1 < len(rs) {
			j++
		}
		lb.WriteRune(rs[j])
	}
	if j+1 >= len(rs) || rs[j+1] != '(' {
		return "", "", 0, false
	}
	var ub strings.Builder
	k := j + 2
	for ; k < len(rs) && rs[k] != ')'; k++ {
		if rs[k] == '\\' && k+1 < len(rs) {
			k++
		}
		ub.WriteRune(rs[k])
	}
	if k >= len(rs) || ub.Len() == 0 {
		return "", "", 0, false
	}
	return lb.String(), ub.String(), k, true
}

// PlainText renders markup as plain text: formatting dropped, links as
// "label (url)".
func PlainText(s string) string {
	var b strings.Builder
	for _, sp := range ParseMarkup(s) {
		b.WriteString(sp.Text)
		if _, mention := MentionedUser(sp.URL); sp.URL != "" && sp.URL != sp.Text && !mention {
			b.WriteString(" (" + sp.URL + ")")
		}
	}
	return b.String()
}

// Truncate shortens s to at most n runes, ending in "…" when it cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
