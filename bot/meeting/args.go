package meeting

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/when"
)

// word is one word of a command, or one quoted phrase (bot.Words).
type word = bot.Word

// spec is a meeting as its organiser asked for it.
type spec struct {
	Title     string
	Plan      when.Plan
	Duration  time.Duration
	Place     string
	Link      string
	Remind    []time.Duration
	Everyone  bool
	InChannel bool
}

// defaultDuration is a meeting's length when nobody says: an hour, as
// the calendar apps do.
const defaultDuration = time.Hour

// Bounds of the spans a user gives.
const (
	maxDuration = 7 * 24 * time.Hour
	maxRemind   = 28 * 24 * time.Hour
)

// The settings (instellingen) of a new meeting, by every name they answer
// to, Dutch first: the first name of each is the one help shows.
var flags = bot.Flags{
	{"duur", "duur"}, {"plaats", "plaats"}, {"link", "link"}, {"herinner", "herinner"}, {"iedereen", "iedereen"}, {"kanaal", "kanaal"},
	{"duration", "duur"}, {"place", "plaats"}, {"remind", "herinner"}, {"everyone", "iedereen"}, {"channel", "kanaal"},
	{"locatie", "plaats"}, {"location", "plaats"}, {"waar", "plaats"}, {"where", "plaats"}, {"url", "link"},
	{"herinnering", "herinner"}, {"herinneringen", "herinner"}, {"reminder", "herinner"}, {"reminders", "herinner"},
	{"lengte", "duur"}, {"length", "duur"}, {"allen", "iedereen"}, {"all", "iedereen"},
}

// parseCreate reads a new meeting: a title, when it is, and settings
// anywhere. now and loc place the moments.
func parseCreate(toks []word, now time.Time, loc *time.Location) (spec, error) {
	sp := spec{Duration: defaultDuration}
	var words []word
	for i := 0; i < len(toks); i++ {
		name, value, hasValue, ok := flags.Parse(toks[i])
		if !ok {
			words = append(words, toks[i])
			continue
		}
		takeValue := func() (string, bool) {
			if hasValue {
				return strings.TrimSpace(value), true
			}
			if i+1 < len(toks) {
				if _, _, _, isFlag := flags.Parse(toks[i+1]); !isFlag {
					i++
					return strings.TrimSpace(toks[i].Text), true
				}
			}
			return "", false
		}
		set, known := flags.Setting(name)
		switch {
		case !known:
			if near, ok := flags.Suggest(name); ok {
				return sp, bot.Errorf("meeting.err.unknown_flag_near", "Flag", bot.Escape(toks[i].Text), "Near", near)
			}
			return sp, bot.Errorf("meeting.err.unknown_flag", "Flag", bot.Escape(toks[i].Text))
		case set == "iedereen":
			sp.Everyone = true
		case set == "kanaal":
			sp.InChannel = true
		case set == "duur":
			v, _ := takeValue()
			d, err := parseDuration(v)
			if err != nil {
				return sp, err
			}
			sp.Duration = d
		case set == "plaats":
			v, ok := takeValue()
			if !ok || v == "" {
				return sp, bot.Errorf("meeting.err.place_missing")
			}
			if len([]rune(v)) > MaxPlaceLen {
				return sp, bot.Errorf("meeting.err.place_too_long", "Max", MaxPlaceLen)
			}
			sp.Place = v
		case set == "link":
			v, _ := takeValue()
			link, err := parseLink(v)
			if err != nil {
				return sp, err
			}
			sp.Link = link
		case set == "herinner":
			v, _ := takeValue()
			r, err := parseRemind(v)
			if err != nil {
				return sp, err
			}
			sp.Remind = r
		}
	}
	if (sp.Everyone || sp.InChannel) && len(sp.Remind) == 0 {
		return sp, bot.Errorf("meeting.err.remind_needed")
	}
	title, plan, err := splitTitle(words, now, loc)
	if err != nil {
		return sp, err
	}
	sp.Title, sp.Plan = title, plan
	return sp, nil
}

// splitTitle finds the title and the time among the words of a new
// meeting (flags taken out): a quoted first phrase is the title and the
// rest the time; without quotes the title is the fewest first words after
// which the rest reads as a time ("Kick-off Limburg 3 december 14:30").
func splitTitle(words []word, now time.Time, loc *time.Location) (string, when.Plan, error) {
	if len(words) == 0 {
		return "", when.Plan{}, bot.Errorf("meeting.err.empty_title")
	}
	check := func(title string) error {
		switch {
		case title == "":
			return bot.Errorf("meeting.err.empty_title")
		case len([]rune(title)) > MaxTitleLen:
			return bot.Errorf("meeting.err.title_too_long", "Max", MaxTitleLen)
		}
		return nil
	}
	if words[0].Quoted {
		title := strings.TrimSpace(words[0].Text)
		if err := check(title); err != nil {
			return "", when.Plan{}, err
		}
		if len(words) == 1 {
			return "", when.Plan{}, bot.Errorf("meeting.err.no_when", "Title", bot.Escape(title))
		}
		plan, err := readSchedule(joinText(words[1:]), now, loc)
		return title, plan, err
	}
	for i := 1; i < len(words); i++ {
		if slices.ContainsFunc(words[i:], func(w word) bool { return w.Quoted }) {
			continue // a quoted phrase is never part of a time
		}
		plan, err := when.Schedule(joinText(words[i:]), now, loc)
		if err != nil {
			continue
		}
		title := strings.TrimSpace(joinText(words[:i]))
		if err := check(title); err != nil {
			return "", when.Plan{}, err
		}
		if err := future(plan, now); err != nil {
			return "", when.Plan{}, err
		}
		return title, plan, nil
	}
	return "", when.Plan{}, bot.Errorf("meeting.err.unsure", "Text", bot.Escape(joinText(words)))
}

// readSchedule reads a meeting's time: a moment or a repeating schedule.
func readSchedule(s string, now time.Time, loc *time.Location) (when.Plan, error) {
	plan, err := when.Schedule(s, now, loc)
	if err != nil {
		return when.Plan{}, whenError(err)
	}
	return plan, future(plan, now)
}

// future refuses a plan without a time of day, and one whose every
// occurrence has passed.
func future(plan when.Plan, now time.Time) error {
	if plan.DayOnly {
		return bot.Errorf("meeting.err.need_time")
	}
	if plan.RRule == "" {
		if !plan.Start.After(now) {
			return bot.Errorf("meeting.err.past")
		}
		return nil
	}
	if len(plan.Occurrences(now, now.Add(horizon), 1)) == 0 {
		return bot.Errorf("meeting.err.no_occurrences")
	}
	return nil
}

// whenError turns what package when could not read into a reply that
// says what it understood, with examples.
func whenError(err error) error {
	var we *when.Error
	if errors.As(err, &we) {
		return we.UserError()
	}
	return err
}

// joinText writes words with one space between them, quotes left off.
func joinText(ws []word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.Text
	}
	return strings.Join(parts, " ")
}

// parseDuration reads --duur: a span such as 90m, 1u30, 2 uur.
func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, bot.Errorf("meeting.err.duration_value", "Value", "")
	}
	d, err := when.Span(v)
	if err != nil || d <= 0 {
		return 0, bot.Errorf("meeting.err.duration_value", "Value", bot.Escape(v))
	}
	if d > maxDuration {
		return 0, bot.Errorf("meeting.err.duration_long")
	}
	return d, nil
}

// parseRemind reads --herinner: spans before the meeting, separated by
// commas (1d,1h), longest first, each once.
func parseRemind(v string) ([]time.Duration, error) {
	if v == "" {
		return nil, bot.Errorf("meeting.err.remind_value", "Value", "")
	}
	var out []time.Duration
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := when.Span(part)
		if err != nil || d <= 0 {
			return nil, bot.Errorf("meeting.err.remind_value", "Value", bot.Escape(part))
		}
		if d > maxRemind {
			return nil, bot.Errorf("meeting.err.remind_far", "Value", bot.Escape(part))
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, bot.Errorf("meeting.err.remind_value", "Value", bot.Escape(v))
	}
	if len(out) > MaxReminders {
		return nil, bot.Errorf("meeting.err.remind_many", "Max", MaxReminders)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int((b - a) / time.Second) })
	return out, nil
}

// parseLink reads --link: a web address people can open.
func parseLink(v string) (string, error) {
	if v == "" {
		return "", bot.Errorf("meeting.err.link_value", "Value", "")
	}
	s := v
	if !strings.Contains(s, "://") {
		s = "https://" + s // "meet.jit.si/kring" as people copy it
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(s, " \t\r\n<>\"\\`") {
		return "", bot.Errorf("meeting.err.link_value", "Value", bot.Escape(v))
	}
	if len(s) > MaxLinkLen {
		return "", bot.Errorf("meeting.err.link_too_long", "Max", MaxLinkLen)
	}
	// Parentheses end a link in kring's markup.
	return strings.NewReplacer("(", "%28", ")", "%29").Replace(s), nil
}

// subcommands are the words /meeting takes before a meeting's id, Dutch
// and English.
var subcommands = map[string]string{
	"help": "help", "hulp": "help", "?": "help",
	"lijst": "list", "list": "list", "overzicht": "list",
	"agenda":    "agenda",
	"verplaats": "move", "verplaatsen": "move", "move": "move", "verzet": "move",
	"annuleer": "cancel", "annuleren": "cancel", "cancel": "cancel", "afzeggen": "cancel",
	"agenda-link": "feed", "agendalink": "feed", "ics": "feed", "feed": "feed", "calendar": "feed", "kalender": "feed",
	"mijn-agenda": "mine", "mijnagenda": "mine", "my-calendar": "mine", "mycalendar": "mine",
}

// subcommand reads which subcommand toks start with and the words after
// it; "" when they are a new meeting. "mijn agenda" and "my calendar" are
// read as two words too.
func subcommand(toks []word) (string, []word) {
	if toks[0].Quoted {
		return "", nil
	}
	w := strings.ToLower(toks[0].Text)
	if (w == "mijn" || w == "my") && len(toks) >= 2 && !toks[1].Quoted {
		switch strings.ToLower(toks[1].Text) {
		case "agenda", "calendar", "kalender":
			return "mine", toks[2:]
		}
	}
	if sub, ok := subcommands[w]; ok {
		return sub, toks[1:]
	}
	return "", nil
}

// idWord reads a meeting id as people paste it: abc234, `abc234`.
func idWord(t word) string {
	return strings.ToLower(strings.Trim(t.Text, "`'\"“”„‘’‚.,;:!?()[]<> "))
}

// rotateWord reports whether w asks for a new feed token.
func rotateWord(w string) bool {
	switch strings.ToLower(strings.TrimLeft(w, "-—")) {
	case "vernieuw", "vernieuwen", "nieuw", "rotate", "renew", "new", "reset":
		return true
	}
	return false
}

// removeWord reports whether w asks to take an agenda point off.
func removeWord(w string) bool {
	switch strings.ToLower(w) {
	case "weg", "verwijder", "verwijderen", "schrap", "remove", "delete", "del", "rm":
		return true
	}
	return false
}
