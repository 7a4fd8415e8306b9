package poll

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kringbot/kring/bot"
)

// token is one word of a command, or one quoted phrase.
type token struct {
	text   string
	quoted bool
}

// Quotes people type: straight ones, and the typographic ones phones put in
// (“…”, and the Dutch „…”).
const (
	openQuotes  = "\"“”„"
	closeQuotes = "\"“”"
)

// tokenize splits a command's text into words and quoted phrases, as a
// shell does: `"Wie komt er?" Ja "Nee, helaas"`. A quote inside a word
// quotes the rest of it (--sluit="2026-12-01 17:00").
func tokenize(s string) ([]token, error) {
	var (
		out     []token
		cur     strings.Builder
		inWord  bool
		quoted  bool
		inQuote bool
	)
	for _, r := range s {
		switch {
		case inQuote && strings.ContainsRune(closeQuotes, r):
			inQuote = false
		case inQuote:
			cur.WriteRune(r)
		case strings.ContainsRune(openQuotes, r):
			inQuote = true
			if !inWord {
				quoted = true
			}
			inWord = true
		case unicode.IsSpace(r):
			if inWord {
				out = append(out, token{text: cur.String(), quoted: quoted})
				cur.Reset()
				inWord, quoted = false, false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		return nil, bot.Errorf("poll.err.unbalanced_quote")
	}
	if inWord {
		out = append(out, token{text: cur.String(), quoted: quoted})
	}
	return out, nil
}

// spec is a poll as its creator asked for it.
type spec struct {
	Question  string
	Options   []string
	Anonymous bool
	Hidden    bool
	AllowAdd  bool
	MaxVotes  int
	Closes    time.Time
}

// flagName reads a flag token: "--anoniem", "—anoniem" (a phone turned the
// two dashes into one long one), "--stemmen=2". It returns the lower-case
// name and the value after '=', and whether the token is a flag at all.
func flagName(t token) (name, value string, hasValue, ok bool) {
	if t.quoted {
		return "", "", false, false
	}
	s := t.text
	switch {
	case strings.HasPrefix(s, "--"):
		s = s[2:]
	case strings.HasPrefix(s, "—"), strings.HasPrefix(s, "–"):
		s = strings.TrimLeft(s, "—–")
	default:
		return "", "", false, false
	}
	if s == "" {
		return "", "", false, false
	}
	name, value, hasValue = strings.Cut(s, "=")
	return strings.ToLower(name), value, hasValue, true
}

// parseCreate reads `"vraag" "optie" "optie" … [flags]`.
func parseCreate(toks []token, now time.Time, loc *time.Location) (spec, error) {
	sp := spec{MaxVotes: 1}
	var words []string
	for i := 0; i < len(toks); i++ {
		name, value, hasValue, ok := flagName(toks[i])
		if !ok {
			words = append(words, strings.TrimSpace(toks[i].text))
			continue
		}
		// A flag that takes a value may also have it as the next word.
		takeValue := func() (string, bool) {
			if hasValue {
				return value, true
			}
			if i+1 < len(toks) {
				if _, _, _, isFlag := flagName(toks[i+1]); !isFlag {
					i++
					return toks[i].text, true
				}
			}
			return "", false
		}
		switch name {
		case "anoniem", "anonymous", "anon":
			sp.Anonymous = true
		case "verborgen", "hidden", "geheim":
			sp.Hidden = true
		case "toevoegen", "add-options", "add":
			sp.AllowAdd = true
		case "stemmen", "votes":
			v, ok := takeValue()
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if !ok || err != nil || n < 1 || n > MaxOptions {
				return sp, bot.Errorf("poll.err.votes_value", "Value", bot.Escape(v), "Max", MaxOptions)
			}
			sp.MaxVotes = n
		case "sluit", "close", "tot", "until":
			v, ok := takeValue()
			if !ok {
				return sp, bot.Errorf("poll.err.close_value", "Value", "")
			}
			at, err := parseWhen(v, now, loc)
			if err != nil {
				return sp, err
			}
			sp.Closes = at
		default:
			return sp, bot.Errorf("poll.err.unknown_flag", "Flag", bot.Escape(toks[i].text))
		}
	}
	if len(words) == 0 || words[0] == "" {
		return sp, bot.Errorf("poll.err.empty_question")
	}
	sp.Question, sp.Options = words[0], words[1:]
	if len([]rune(sp.Question)) > MaxQuestionLen {
		return sp, bot.Errorf("poll.err.question_too_long", "Max", MaxQuestionLen)
	}
	if len(sp.Options) < MinOptions {
		return sp, bot.Errorf("poll.err.too_few_options", "Min", MinOptions)
	}
	if len(sp.Options) > MaxOptions {
		return sp, bot.Errorf("poll.err.too_many_options", "Max", MaxOptions, "Got", len(sp.Options))
	}
	seen := map[string]bool{}
	for _, o := range sp.Options {
		if o == "" {
			return sp, bot.Errorf("poll.err.empty_option")
		}
		if len([]rune(o)) > MaxOptionLen {
			return sp, bot.Errorf("poll.err.option_too_long", "Max", MaxOptionLen, "Option", bot.Escape(bot.Truncate(o, 40)))
		}
		k := FoldLabel(o)
		if seen[k] {
			return sp, bot.Errorf("poll.err.duplicate_option", "Option", bot.Escape(o))
		}
		seen[k] = true
	}
	return sp, nil
}

// FoldLabel is the form in which two option labels count as the same:
// trimmed, and each letter folded to one case (as strings.EqualFold
// compares). Every Store's duplicate check uses it, as does /poll itself.
func FoldLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

var relative = regexp.MustCompile(`^(\d{1,4})\s*(m|min|minuten|minutes|u|h|uur|hour|hours|d|dag|dagen|day|days|w|week|weken|weeks)$`)

// parseWhen reads a closing time: a span from now ("2u", "30m", "3d",
// "1w", "1h30m"), a clock time ("17:00": today, or tomorrow once passed), a
// date ("2026-12-01" or "1-12-2026": the end of that day) or a date and
// time ("2026-12-01 17:00"). Dates and times are in loc.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	bad := bot.Errorf("poll.err.close_value", "Value", bot.Escape(s))
	if s == "" {
		return time.Time{}, bad
	}
	var at time.Time
	if m := relative.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[byte]time.Duration{'m': time.Minute, 'u': time.Hour, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[m[2][0]]
		at = now.Add(time.Duration(n) * unit)
	} else if d, err := time.ParseDuration(s); err == nil {
		at = now.Add(d)
	} else if t, err := time.ParseInLocation("15:04", s, loc); err == nil {
		n := now.In(loc)
		at = time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc)
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
	} else if at, err = parseDate(s, loc); err != nil {
		return time.Time{}, bad
	}
	if !at.After(now) {
		return time.Time{}, bot.Errorf("poll.err.close_past")
	}
	if at.Sub(now) > 366*24*time.Hour {
		return time.Time{}, bot.Errorf("poll.err.close_far")
	}
	return at, nil
}

func parseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.Replace(s, "t", " ", 1)
	for _, layout := range []string{"2006-01-02 15:04", "2-1-2006 15:04", "2006-01-02", "2-1-2006"} {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if !strings.Contains(layout, "15") {
			// A date alone: until the end of that day, on the wall clock
			// (a day on which the clocks change is not 24 hours long).
			t = time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 0, 0, loc)
		}
		return t, nil
	}
	return time.Time{}, strconv.ErrSyntax
}
