package poll

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/when"
)

// token is one word of a command, or one quoted phrase (bot.Words).
type token = bot.Word

// tokenize splits a command's text as every command does (bot.Words).
func tokenize(s string) ([]token, error) { return bot.Words(s) }

// spec is a poll as its creator asked for it.
type spec struct {
	Question  string
	Options   []string
	Anonymous bool
	Hidden    bool
	AllowAdd  bool
	MaxVotes  int
	Closes    time.Time
	// ClosesMoved is set when the closing time asked for does not exist
	// (the clocks go forward over it) and Closes was moved past the gap.
	ClosesMoved bool
	Remind      []time.Duration // nudges, this long before Closes (nudge.go)
	Kind        string          // "", KindRank or KindPoints
	Method      string          // a ranked poll's count: "" Borda, MethodIRV
	Points      int             // a dot vote's points per voter
}

// The settings (instellingen) of a new poll, by every name they answer
// to, Dutch first: the first name of each is the one help shows.
var flags = bot.Flags{
	{"anoniem", "anoniem"}, {"verborgen", "verborgen"}, {"toevoegen", "toevoegen"}, {"stemmen", "stemmen"}, {"sluit", "sluit"},
	{"anonymous", "anoniem"}, {"hidden", "verborgen"}, {"add-options", "toevoegen"}, {"votes", "stemmen"}, {"close", "sluit"},
	{"anon", "anoniem"}, {"geheim", "verborgen"}, {"add", "toevoegen"}, {"tot", "sluit"}, {"until", "sluit"},
	{"herinner", "herinner"}, {"remind", "herinner"}, {"herinnering", "herinner"}, {"reminder", "herinner"},
	{"rangschik", "rangschik"}, {"rank", "rangschik"}, {"rangschikken", "rangschik"}, {"ranked", "rangschik"},
	{"methode", "methode"}, {"method", "methode"},
	{"punten", "punten"}, {"points", "punten"}, {"dots", "punten"},
}

// parseCreate reads a new poll: a question, its options, and settings
// anywhere. See splitQuestion for where the question ends.
func parseCreate(toks []token, now time.Time, loc *time.Location) (spec, error) {
	sp := spec{MaxVotes: 1}
	var words []token
	votesSet := false
	for i := 0; i < len(toks); i++ {
		name, value, hasValue, ok := flags.Parse(toks[i])
		if !ok {
			words = append(words, toks[i])
			continue
		}
		// A flag that takes a value may also have it as the next word.
		takeValue := func() (string, bool) {
			if hasValue {
				return value, true
			}
			if i+1 < len(toks) {
				if _, _, _, isFlag := flags.Parse(toks[i+1]); !isFlag {
					i++
					return toks[i].Text, true
				}
			}
			return "", false
		}
		set, known := flags.Setting(name)
		switch {
		case !known:
			if near, ok := flags.Suggest(name); ok {
				return sp, bot.Errorf("poll.err.unknown_flag_near", "Flag", bot.Escape(toks[i].Text), "Near", near)
			}
			return sp, bot.Errorf("poll.err.unknown_flag", "Flag", bot.Escape(toks[i].Text))
		case set == "anoniem":
			sp.Anonymous = true
		case set == "verborgen":
			sp.Hidden = true
		case set == "toevoegen":
			sp.AllowAdd = true
		case set == "stemmen":
			v, ok := takeValue()
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if !ok || err != nil || n < 1 || n > MaxOptions {
				return sp, bot.Errorf("poll.err.votes_value", "Value", bot.Escape(v), "Max", MaxOptions)
			}
			sp.MaxVotes, votesSet = n, true
		case set == "rangschik":
			if sp.Kind == KindPoints {
				return sp, bot.Errorf("poll.err.kind_both")
			}
			sp.Kind = KindRank
		case set == "punten":
			if sp.Kind == KindRank {
				return sp, bot.Errorf("poll.err.kind_both")
			}
			v, ok := takeValue()
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if !ok || err != nil || n < 1 || n > MaxPoints {
				return sp, bot.Errorf("poll.err.points_flag", "Value", bot.Escape(v), "Max", MaxPoints)
			}
			sp.Kind, sp.Points = KindPoints, n
		case set == "methode":
			v, _ := takeValue()
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "irv", "instant-runoff", "runoff":
				sp.Method = MethodIRV
			case "borda":
				sp.Method = ""
			default:
				return sp, bot.Errorf("poll.err.method_value", "Value", bot.Escape(v))
			}
			if sp.Method == "" {
				sp.Method = "borda" // said, so --rangschik is checked for below
			}
		case set == "sluit":
			v, ok := takeValue()
			if !ok || strings.TrimSpace(v) == "" {
				return sp, bot.Errorf("poll.err.close_missing")
			}
			at, moved, used, err := closeTime(v, toks[i+1:], now, loc)
			if err != nil {
				return sp, err
			}
			i += used
			sp.Closes, sp.ClosesMoved = at, moved
		case set == "herinner":
			v, _ := takeValue()
			r, err := parseRemind(v, when.Span)
			if err != nil {
				return sp, err
			}
			sp.Remind = r
		}
	}
	if sp.Method != "" && sp.Kind != KindRank {
		return sp, bot.Errorf("poll.err.method_needs_rank")
	}
	if sp.Method == "borda" {
		sp.Method = ""
	}
	if sp.Kind != "" && votesSet {
		return sp, bot.Errorf("poll.err.votes_with_kind")
	}
	if sp.Kind != "" && sp.AllowAdd {
		return sp, bot.Errorf("poll.err.add_with_kind")
	}
	q, opts, err := splitQuestion(words)
	if err != nil {
		return sp, err
	}
	sp.Question, sp.Options = strings.TrimSpace(q), opts
	if sp.Question == "" {
		return sp, bot.Errorf("poll.err.empty_question")
	}
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

// splitQuestion finds the question and the options among the words of a
// new poll (flags taken out):
//
//   - a quoted first phrase is the question: `"Lunch?" Pizza Soep`;
//   - otherwise everything up to and including the first question mark
//     is: `Wie komt er naar de regiodag? Ja Nee Misschien`;
//   - without a question mark, one word followed by quoted options is
//     clear enough (`Lunch "Pizza met ui" Soep`); anything else could be
//     read several ways, and kring says how it would read it instead of
//     posting a poll nobody asked for.
//
// The options are the words after the question, or, when a comma follows
// the question, the pieces between commas: `Wanneer? di 12 jan, do 14 jan`.
func splitQuestion(words []token) (string, []string, error) {
	if len(words) == 0 || words[0].Quoted {
		if len(words) == 0 {
			return "", nil, bot.Errorf("poll.err.empty_question")
		}
		return words[0].Text, options(words[1:]), nil
	}
	for q, w := range words {
		k := strings.IndexByte(w.Text, '?')
		if w.Quoted || k < 0 {
			continue
		}
		head, tail := w.Text[:k+1], w.Text[k+1:]
		if !strings.ContainsFunc(tail, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			head, tail = w.Text, "" // "regiodag?!"
		}
		question := joinRaw(words[:q])
		if q > 0 && !w.Glued {
			question += " "
		}
		question += head
		rest := words[q+1:]
		if tail != "" {
			rest = append([]token{{Text: tail, Raw: tail}}, rest...)
		}
		return question, options(rest), nil
	}
	lead := 0
	for lead < len(words) && !words[lead].Quoted {
		lead++
	}
	if len(words) == 1 || lead == 1 {
		return words[0].Text, options(words[1:]), nil
	}
	// Not sure: say how it reads.
	question, opts := words[0].Text, options(words[1:])
	if lead < len(words) {
		question, opts = joinRaw(words[:lead]), options(words[lead:])
	}
	return "", nil, bot.Errorf("poll.err.unsure", "Question", bot.Escape(question), "Options", optionLines(opts))
}

// joinRaw writes tokens as they were typed, one space between words.
func joinRaw(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && !t.Glued {
			b.WriteByte(' ')
		}
		b.WriteString(t.Raw)
	}
	return b.String()
}

// options reads the options after the question: one per word or quoted
// phrase, or, when an unquoted comma is among them, one per piece between
// commas.
func options(toks []token) []string {
	commas := slices.ContainsFunc(toks, func(t token) bool { return !t.Quoted && strings.Contains(t.Text, ",") })
	var out []string
	if !commas {
		for _, t := range toks {
			out = append(out, strings.TrimSpace(t.Text))
		}
		return out
	}
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.TrimSpace(strings.Join(cur, " ")))
		}
		cur = nil
	}
	for _, t := range toks {
		if t.Quoted {
			cur = append(cur, t.Text)
			continue
		}
		for j, part := range strings.Split(t.Text, ",") {
			if j > 0 {
				flush()
			}
			if part != "" {
				cur = append(cur, part)
			}
		}
	}
	flush()
	return out
}

// optionLines lists options as kring read them, one a line.
func optionLines(opts []string) string {
	const shown = 8
	var b strings.Builder
	for i, o := range opts {
		if i == shown {
			b.WriteString("\n- …")
			break
		}
		b.WriteString("\n- " + bot.Escape(o))
	}
	return b.String()
}

// idArg reads the poll id after a subcommand as people paste it: abc234,
// `abc234` (copied from under the poll), "ID abc234".
func idArg(toks []token) (string, bool) {
	if len(toks) == 2 && strings.EqualFold(strings.TrimRight(toks[0].Text, ":"), "id") {
		toks = toks[1:]
	}
	if len(toks) != 1 {
		return "", false
	}
	id := strings.ToLower(strings.Trim(toks[0].Text, "`'\"“”„‘’‚.,;:!?()[]<> "))
	return id, id != ""
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

// maxJoin is how many words after --sluit=… may belong to the closing
// time: "--sluit=volgende week dinsdag 9:30" is four.
const maxJoin = 4

// closeTime reads a poll's closing time (as bot/when reads a moment) from
// the value after --sluit and, where it runs on, the words after it, as
// people type it without quotes: --sluit=2026-12-04 17:00, --sluit=vrijdag
// 17u, --sluit=over 2 uur. A following word joins the time only while the
// value alone is no moment, or is a day without a time and the words add
// one; a quoted word never joins. It returns how many words it took.
//
// A day without a time closes at the end of that day, 23:59 on the wall.
// moved reports a time the clocks skip, moved past the gap.
func closeTime(v string, rest []token, now time.Time, loc *time.Location) (at time.Time, moved bool, used int, err error) {
	r, err := when.Moment(v, now, loc)
	if err != nil || r.DayOnly {
		dayOnly := err == nil
		joined := v
		for k := 0; k < len(rest) && k < maxJoin; k++ {
			if _, _, _, isFlag := flags.Parse(rest[k]); isFlag || rest[k].Quoted {
				break
			}
			joined += " " + rest[k].Text
			longer, lerr := when.Moment(joined, now, loc)
			if lerr == nil && (err != nil || !longer.DayOnly) {
				r, err, used = longer, nil, k+1
				continue
			}
			// "--sluit=vrijdag 25:00": a time that cannot be, not an option.
			if we, ok := lerr.(*when.Error); ok && k == 0 && dayOnly && we.Reason != "" && we.Reason != "twice" {
				err = lerr
				break
			}
		}
	}
	if err != nil {
		var we *when.Error
		if errors.As(err, &we) {
			return time.Time{}, false, 0, bot.Errorf("poll.err.close_value", "Problem", we.UserError())
		}
		return time.Time{}, false, 0, err
	}
	at = r.At
	if r.DayOnly {
		at = time.Date(at.Year(), at.Month(), at.Day(), 23, 59, 0, 0, loc)
	}
	if !at.After(now) {
		return time.Time{}, false, 0, bot.Errorf("poll.err.close_past")
	}
	if at.Sub(now) > 366*24*time.Hour {
		return time.Time{}, false, 0, bot.Errorf("poll.err.close_far")
	}
	return at, r.Moved, used, nil
}
