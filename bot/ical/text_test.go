package ical

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Maandoverleg", "Maandoverleg"},
		{"Utrecht, Jaarbeurs", `Utrecht\, Jaarbeurs`},
		{"a;b", `a\;b`},
		{`C:\map`, `C:\\map`},
		{"regel 1\nregel 2", `regel 1\nregel 2`},
		{"regel 1\r\nregel 2\rregel 3", `regel 1\nregel 2\nregel 3`},
		{"tab\tblijft", "tab\tblijft"},
		{"bel\x07weg\x7f", "belweg"},
		{"kapot \xff", "kapot \uFFFD"},
		{`\n is geen regel`, `\\n is geen regel`},
		{"één: twee", "één: twee"},
	} {
		if got := escapeText(tc.in); got != tc.want {
			t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFold(t *testing.T) {
	a75 := strings.Repeat("a", 75)
	for _, tc := range []struct{ in, want string }{
		{"", "\r\n"},
		{a75, a75 + "\r\n"},
		{a75 + "b", a75 + "\r\n b\r\n"},
		{a75 + strings.Repeat("b", 74) + "c", a75 + "\r\n " + strings.Repeat("b", 74) + "\r\n c\r\n"},
		// "é" is two octets: it would straddle octet 75, so it moves whole.
		{strings.Repeat("a", 74) + "é", strings.Repeat("a", 74) + "\r\n é\r\n"},
		// "🎉" is four octets starting at octet 73.
		{strings.Repeat("a", 72) + "🎉x", strings.Repeat("a", 72) + "\r\n 🎉x\r\n"},
	} {
		if got := string(appendFolded(nil, tc.in)); got != tc.want {
			t.Errorf("fold(%q) =\n%q, want\n%q", tc.in, got, tc.want)
		}
	}
}

// unfold and unescape are written apart from the writer, from RFC 5545
// 3.1 and 3.3.11.
func unfold(s string) string { return strings.ReplaceAll(s, "\r\n ", "") }

func unescape(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == ';':
			t.Fatalf("unescaped %q in %q", c, s)
		case c != '\\':
			b.WriteByte(c)
		case i+1 == len(s):
			t.Fatalf("dangling backslash in %q", s)
		default:
			i++
			switch s[i] {
			case '\\', ';', ',':
				b.WriteByte(s[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				t.Fatalf("bad escape \\%c in %q", s[i], s)
			}
		}
	}
	return b.String()
}

// Any text, escaped and folded: no line over 75 octets, each line valid
// UTF-8 without control characters, and unfolding and unescaping gives the
// text back (as cleanText keeps it: TEXT has no other control characters).
// golang-ical reads the same back from a whole calendar.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"", "Maandoverleg projectleiders", "Utrecht, Jaarbeurs; zaal 3",
		"regel\r\nregel\rregel\n", `\,;\\n`, strings.Repeat("é", 80),
		strings.Repeat("a", 70) + "🎉🎉🎉", "\x00\x1f\x7f\xff\xfe", "\t",
	} {
		f.Add(s)
	}
	stamp := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		const name = "DESCRIPTION:"
		folded := string(appendFolded(nil, name+escapeText(s)))
		if !strings.HasSuffix(folded, "\r\n") {
			t.Fatalf("no CRLF at the end: %q", folded)
		}
		for _, l := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
			if len(l) > 75 {
				t.Fatalf("line of %d octets: %q", len(l), l)
			}
			if !utf8.ValidString(l) {
				t.Fatalf("line splits a UTF-8 sequence: %q", l)
			}
			if hasControl(l) {
				t.Fatalf("control character in %q", l)
			}
		}
		got := unescape(t, strings.TrimPrefix(unfold(strings.TrimSuffix(folded, "\r\n")), name))
		want := cleanText(s)
		if got != want {
			t.Fatalf("read back %q, want %q", got, want)
		}
		if utf8.ValidString(s) && !hasControl(strings.ReplaceAll(s, "\n", "")) && got != s {
			t.Fatalf("clean text %q read back as %q", s, got)
		}

		_, cal := write(t, Calendar{Name: s, Events: []Event{{
			UID: "fuzz@kring", Summary: s, Location: s, Description: s,
			Start: stamp, Stamp: stamp,
		}}})
		ev := cal.Events()[0]
		for _, p := range []string{"SUMMARY", "LOCATION", "DESCRIPTION"} {
			if v := prop(ev, p); want != "" && (v == nil || v.Value != want) {
				t.Fatalf("golang-ical reads %s as %+v, want %q", p, v, want)
			}
		}
	})
}
