package ical

import (
	"io"
	"strings"
	"unicode/utf8"
)

// maxLine is the longest content line RFC 5545 allows, in octets, without
// its CRLF; a continuation line's leading space counts.
const maxLine = 75

// lineWriter writes content lines, folded and CRLF-terminated, and keeps
// the first write error so the writer can be used without checks per line.
type lineWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (lw *lineWriter) line(s string) {
	if lw.err != nil {
		return
	}
	lw.buf = appendFolded(lw.buf[:0], s)
	_, lw.err = lw.w.Write(lw.buf)
}

// appendFolded appends s as one content line folded at maxLine octets:
// each continuation starts with a space, and no UTF-8 sequence is split,
// since some apps read each physical line as UTF-8 on its own.
func appendFolded(b []byte, s string) []byte {
	limit := maxLine
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b = append(b, s[:cut]...)
		b = append(b, "\r\n "...)
		s = s[cut:]
		limit = maxLine - 1
	}
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// escapeText writes s as an RFC 5545 TEXT value: backslash, semicolon,
// comma and line breaks escaped. TEXT cannot hold other control characters
// or invalid UTF-8, so those are dropped or replaced (see cleanText).
func escapeText(s string) string {
	s = cleanText(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ';':
			b.WriteString(`\;`)
		case ',':
			b.WriteString(`\,`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cleanText is what escapeText keeps of s: CRLF and a lone CR become LF
// (people paste text from everywhere), other control characters but tab
// are dropped, and invalid UTF-8 becomes U+FFFD.
func cleanText(s string) string {
	if !hasControl(s) && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// hasControl reports whether s holds a character RFC 5545 calls CONTROL
// (any below 0x20 but tab, and DEL): those may not stand in a value.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}
