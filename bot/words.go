package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word is one word of a command as a user typed it, or one quoted phrase.
type Word struct {
	Text   string // the word, or the phrase without its quotes
	Raw    string // as typed, quotes included
	Quoted bool   // began with a quote: a phrase, never a flag, keyword or question mark
	Glued  bool   // typed right after the previous word, with no space between
}

// Quotes people type: straight ones, and the typographic ones phones put in
// (“…”, the Dutch „…”, ‘…’ and ‚…’).
const (
	openQuotes   = "\"“”„"
	closeQuotes  = "\"“”"
	openSingles  = "'‘‚"
	closeSingles = "'’‘"
)

// Words splits a command's text into words and quoted phrases, as a
// shell does: `"Wie komt er?" Ja 'Nee, helaas'`. A quoted phrase ends at
// its closing quote; a double quote inside a word quotes the rest of it
// (--sluit="2026-12-01 17:00").
//
// A single quote is an apostrophe as often as it is a quote (zo'n, 's
// middags, Kees'), so it opens a phrase only at the start of a word and
// closes one only at the end of a word; one that never closes was an
// apostrophe after all.
func Words(s string) ([]Word, error) {
	literal := map[int]bool{}
	for {
		toks, unclosed, err := wordsOnce(s, literal)
		if unclosed >= 0 && !literal[unclosed] {
			literal[unclosed] = true
			continue
		}
		return toks, err
	}
}

// wordsOnce splits s with the single quotes at the byte offsets in
// literal taken as apostrophes. When a single quote opens a phrase that
// never closes, it returns that quote's offset.
func wordsOnce(s string, literal map[int]bool) (toks []Word, unclosed int, err error) {
	var (
		cur     strings.Builder
		inWord  bool
		quoted  bool
		glued   bool
		space   = true // whitespace (or the start) before the next token
		start   int
		quote   rune // 0 outside a quote, else '"' or '\''
		quoteAt int
	)
	emit := func(end int) {
		toks = append(toks, Word{Text: cur.String(), Raw: s[start:end], Quoted: quoted, Glued: glued})
		cur.Reset()
		inWord, quoted = false, false
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
			glued = !space && len(toks) > 0
			space = false
		}
	}
	for i, r := range s {
		_, size := utf8.DecodeRuneInString(s[i:]) // 1 for a byte that is not UTF-8
		after := s[i+size:]
		switch {
		case quote == '"' && strings.ContainsRune(closeQuotes, r),
			quote == '\'' && strings.ContainsRune(closeSingles, r) && endsWord(after):
			quote = 0
			if quoted {
				emit(i + size)
			}
		case quote != 0:
			cur.WriteRune(r)
		case strings.ContainsRune(openQuotes, r):
			begin(i)
			quote, quoteAt = '"', i
			quoted = quoted || start == i
		case !inWord && strings.ContainsRune(openSingles, r) && !literal[i] && !clitic(after):
			begin(i)
			quote, quoteAt, quoted = '\'', i, true
		case unicode.IsSpace(r):
			if inWord {
				emit(i)
			}
			space = true
		default:
			begin(i)
			cur.WriteRune(r)
		}
	}
	switch quote {
	case '\'':
		return nil, quoteAt, Errorf("kring.err.unbalanced_quote")
	case '"':
		return nil, -1, Errorf("kring.err.unbalanced_quote")
	}
	if inWord {
		emit(len(s))
	}
	return toks, -1, nil
}

// endsWord reports whether what follows a closing single quote ends the
// word: nothing, a space or punctuation.
func endsWord(after string) bool {
	r, _ := utf8.DecodeRuneInString(after)
	return after == "" || unicode.IsSpace(r) || strings.ContainsRune(",;:.?!)", r)
}

// clitic reports whether an apostrophe at the start of a word begins a
// Dutch short form ('s middags, 's-Hertogenbosch, 't, 'n, 'k, 'm) rather
// than a quoted phrase.
func clitic(after string) bool {
	if after == "" || !strings.ContainsRune("stnkmSTNKM", rune(after[0])) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(after[1:])
	return len(after) == 1 || unicode.IsSpace(r) || r == '-'
}
