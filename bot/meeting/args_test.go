package meeting

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
)

var amsterdam, _ = time.LoadLocation("Europe/Amsterdam")

// now is a Tuesday afternoon.
var now = time.Date(2026, 1, 13, 14, 30, 0, 0, amsterdam)

func words(t testing.TB, s string) []word {
	t.Helper()
	ws, err := bot.Words(s)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func errID(err error) string {
	if ue, ok := bot.AsUserError(err); ok {
		return ue.ID
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestParseCreate(t *testing.T) {
	tests := []struct {
		in    string
		title string
		start string // in Amsterdam
		rrule string
		check func(spec) bool
		err   string
	}{
		{in: `"Maandoverleg projectleiders" elke derde donderdag 10:00 --duur=90m --plaats="Online" --herinner=1d,1h`,
			title: "Maandoverleg projectleiders", start: "2026-01-15 10:00", rrule: "FREQ=MONTHLY;BYDAY=+3TH",
			check: func(s spec) bool {
				return s.Duration == 90*time.Minute && s.Place == "Online" && slices.Equal(s.Remind, []time.Duration{24 * time.Hour, time.Hour})
			}},
		{in: `Kick-off Limburg 3 december 14:30`, title: "Kick-off Limburg", start: "2026-12-03 14:30"},
		{in: `„Werkgroep” elke 2 weken op dinsdag 9:30 --duration 2h --place Utrecht --remind=1h,1d --everyone --channel`,
			title: "Werkgroep", start: "2026-01-20 09:30",
			check: func(s spec) bool {
				return s.Duration == 2*time.Hour && s.Place == "Utrecht" && s.Everyone && s.InChannel && slices.Equal(s.Remind, []time.Duration{24 * time.Hour, time.Hour})
			}},
		{in: `"Stand-up" elke werkdag 9:00 --link=meet.jit.si/standup`, title: "Stand-up", start: "2026-01-14 09:00",
			check: func(s spec) bool { return s.Link == "https://meet.jit.si/standup" && s.Duration == time.Hour }},
		{in: `"Kick-off" morgen 10:00 --link="https://example.org/a(b)"`, title: "Kick-off", start: "2026-01-14 10:00",
			check: func(s spec) bool { return s.Link == "https://example.org/a%28b%29" }},
		{in: `"Lunch" morgen`, err: "meeting.err.need_time"},
		{in: `"Lunch"`, err: "meeting.err.no_when"},
		{in: `Lunch met de regio`, err: "meeting.err.unsure"},
		{in: `"Lunch" gisteren 12:00`, err: "when.err.schedule"},
		{in: `"Lunch" morgen 12:00 --herinering=1d`, err: "meeting.err.unknown_flag_near"},
		{in: `"Lunch" morgen 12:00 --snel`, err: "meeting.err.unknown_flag"},
		{in: `"Lunch" morgen 12:00 --duur=lang`, err: "meeting.err.duration_value"},
		{in: `"Lunch" morgen 12:00 --duur=9d`, err: "meeting.err.duration_long"},
		{in: `"Lunch" morgen 12:00 --herinner=1d,x`, err: "meeting.err.remind_value"},
		{in: `"Lunch" morgen 12:00 --herinner=8w`, err: "meeting.err.remind_far"},
		{in: `"Lunch" morgen 12:00 --herinner=1u,2u,3u,4u,5u,6u`, err: "meeting.err.remind_many"},
		{in: `"Lunch" morgen 12:00 --iedereen`, err: "meeting.err.remind_needed"},
		{in: `"Lunch" morgen 12:00 --link=javascript:alert(1)`, err: "meeting.err.link_value"},
		{in: `"Lunch" morgen 12:00 --link=https://x.nl/a\\b`, err: "meeting.err.link_value"},
		{in: `"Lunch" morgen 12:00 --plaats`, err: "meeting.err.place_missing"},
		{in: `"" morgen 12:00`, err: "meeting.err.empty_title"},
		{in: `"` + strings.Repeat("x", MaxTitleLen+1) + `" morgen 12:00`, err: "meeting.err.title_too_long"},
	}
	for _, tt := range tests {
		sp, err := parseCreate(words(t, tt.in), now, amsterdam)
		if got := errID(err); got != tt.err {
			t.Errorf("%s: error %q (%v), want %q", tt.in, got, err, tt.err)
			continue
		}
		if tt.err != "" {
			continue
		}
		if sp.Title != tt.title || sp.Plan.Start.In(amsterdam).Format("2006-01-02 15:04") != tt.start || tt.rrule != "" && sp.Plan.RRule != tt.rrule {
			t.Errorf("%s: %q at %s (%s)", tt.in, sp.Title, sp.Plan.Start.In(amsterdam), sp.Plan.RRule)
		}
		if tt.check != nil && !tt.check(sp) {
			t.Errorf("%s: %+v", tt.in, sp)
		}
	}
}

func TestDescribeRule(t *testing.T) {
	tests := []struct{ rrule, nl, en string }{
		{"FREQ=MONTHLY;BYDAY=+3TH", "elke derde donderdag van de maand", "every third Thursday of the month"},
		{"FREQ=MONTHLY;BYDAY=-1FR", "elke laatste vrijdag van de maand", "every last Friday of the month"},
		{"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "om de week op dinsdag", "every other week on Tuesday"},
		{"FREQ=WEEKLY;INTERVAL=3;BYDAY=TU", "om de 3 weken op dinsdag", "every 3 weeks on Tuesday"},
		{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "elke werkdag", "every weekday"},
		{"FREQ=WEEKLY;BYDAY=WE,MO", "elke maandag en woensdag", "every Monday and Wednesday"},
		{"FREQ=DAILY", "elke dag", "every day"},
		{"FREQ=MONTHLY;BYMONTHDAY=15", "elke maand op de 15e", "every month on day 15"},
		{"FREQ=WEEKLY;BYDAY=MO;COUNT=5", "elke maandag, 5 keer", "every Monday, 5 times"},
		{"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260630T220000Z", "elke maandag, tot en met 1 juli 2026", "every Monday, until 1 July 2026"},
		{"FREQ=MONTHLY;BYSETPOS=2;BYDAY=MO", "", ""},
	}
	m := &Meeting{Zone: "Europe/Amsterdam", Start: now}
	for _, tt := range tests {
		m.RRule = tt.rrule
		if got := describeRule(bot.T("nl"), m, amsterdam); got != tt.nl {
			t.Errorf("%s in Dutch: %q, want %q", tt.rrule, got, tt.nl)
		}
		if got := describeRule(bot.T("en"), m, amsterdam); got != tt.en {
			t.Errorf("%s in English: %q, want %q", tt.rrule, got, tt.en)
		}
	}
}

// TestEveryMessageInBothLocales: each meeting message exists in Dutch
// and in English.
func TestEveryMessageInBothLocales(t *testing.T) {
	ids := func(locale string) []string {
		var out []string
		for _, id := range bot.MessageIDs(locale) {
			if strings.HasPrefix(id, "meeting.") {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	nl, en := ids("nl"), ids("en")
	if len(nl) < 100 || !slices.Equal(nl, en) {
		t.Fatalf("Dutch has %d meeting messages, English %d; they differ:\nnl: %v\nen: %v", len(nl), len(en), nl, en)
	}
}

func FuzzParseCreate(f *testing.F) {
	for _, s := range []string{
		`"Maandoverleg" elke derde donderdag 10:00 --duur=90m --plaats="Utrecht, Jaarbeurs" --link=https://x.nl --herinner=1d,1u --iedereen --kanaal`,
		`Kick-off Limburg 3 december 14:30`, `"x" morgen 10:00 --herinner=`, `—duur 2u`, `"a" every other week on tuesday 9:30 --remind 1h`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := bot.Words(s)
		if err != nil || len(ws) == 0 {
			return
		}
		sp, err := parseCreate(ws, now, amsterdam)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("%q: an error that is not the user's: %v", s, err)
			}
			return
		}
		if sp.Title == "" || len([]rune(sp.Title)) > MaxTitleLen || !sp.Plan.Start.After(now) || sp.Duration <= 0 || len(sp.Remind) > MaxReminders {
			t.Fatalf("%q: %+v", s, sp)
		}
		if sp.Link != "" && (!strings.HasPrefix(sp.Link, "http") || strings.ContainsAny(sp.Link, "() \\<>")) {
			t.Fatalf("%q: link %q", s, sp.Link)
		}
	})
}

func FuzzDescribeRule(f *testing.F) {
	for _, s := range []string{"FREQ=MONTHLY;BYDAY=+3TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=3", "FREQ=DAILY;UNTIL=20260101", "BYDAY=-9XX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := &Meeting{Zone: "Europe/Amsterdam", Start: now, RRule: s}
		for _, l := range bot.Locales {
			if got := describeRule(bot.T(l), m, amsterdam); strings.Contains(got, "⟦") {
				t.Fatalf("%q: a missing message in %s: %s", s, l, got)
			}
		}
	})
}

// TestHelpExamplesWork: every time the help, the errors and the README
// give as an example is read, with the rule said back in words.
func TestHelpExamplesWork(t *testing.T) {
	for _, ex := range []struct{ when, rule string }{
		{"morgen 10:00", ""}, {"3 december 14:30", ""}, {"vrijdag 17u", ""},
		{"tomorrow 10:00", ""}, {"friday 5pm", ""}, {"3 December 14:30", ""},
		{"elke derde donderdag 10:00", "elke derde donderdag van de maand"},
		{"elke 2 weken op dinsdag 9:30", "om de week op dinsdag"},
		{"elke werkdag 9:00", "elke werkdag"},
		{"elke maand op de laatste vrijdag 15:00", "elke laatste vrijdag van de maand"},
		{"elke maandag en woensdag 8:45", "elke maandag en woensdag"},
		{"every monday and wednesday 8:45", "elke maandag en woensdag"},
		{"elke tweede dinsdag 14:00", "elke tweede dinsdag van de maand"},
		{"elke maandag 9:00 tot 1 juli", "elke maandag, tot en met 1 juli 2026"},
		{"elke maandag 9:00 5 keer", "elke maandag, 5 keer"},
		{"every third thursday 10:00", "elke derde donderdag van de maand"},
		{"every other week on tuesday 9:30", "om de week op dinsdag"},
		{"every weekday 9:00", "elke werkdag"},
		{"every month on the last friday 15:00", "elke laatste vrijdag van de maand"},
		{"every second tuesday 14:00", "elke tweede dinsdag van de maand"},
		{"every first monday 13:00", "elke eerste maandag van de maand"},
		{"every monday 9:00 until July 1", "elke maandag, tot en met 1 juli 2026"},
		{"every monday 9:00 5 times", "elke maandag, 5 keer"},
	} {
		sp, err := parseCreate(words(t, `"Overleg" `+ex.when), now, amsterdam)
		if err != nil {
			t.Errorf("%s: %v", ex.when, err)
			continue
		}
		m := &Meeting{Zone: "Europe/Amsterdam", Start: sp.Plan.Start, RRule: sp.Plan.RRule}
		if got := describeRule(bot.T("nl"), m, amsterdam); got != ex.rule {
			t.Errorf("%s (%s): said as %q, want %q", ex.when, sp.Plan.RRule, got, ex.rule)
		}
	}
}

// TestSkippedTimeIsSaid: a meeting at a time the clocks skip starts an
// hour later that day, the reply says so, and the later occurrences keep
// the time asked for.
func TestSkippedTimeIsSaid(t *testing.T) {
	sp, err := parseCreate(words(t, `"Nachtdienst" elke zondag 2:30`), time.Date(2026, 3, 27, 12, 0, 0, 0, amsterdam), amsterdam)
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Plan.Moved || sp.Plan.Start.In(amsterdam).Format("2006-01-02 15:04") != "2026-03-29 03:30" {
		t.Fatalf("plan: %+v", sp.Plan)
	}
	m := &Meeting{Zone: "Europe/Amsterdam", Start: sp.Plan.Start, RRule: sp.Plan.RRule, Asked: asked(sp.Plan), Duration: time.Hour}
	var got []string
	for _, o := range m.Occurrences(sp.Plan.Start.Add(-time.Minute), sp.Plan.Start.Add(15*24*time.Hour), 10) {
		got = append(got, o.Start.In(amsterdam).Format("01-02 15:04"))
	}
	if strings.Join(got, " ") != "03-29 03:30 04-05 02:30 04-12 02:30" {
		t.Fatalf("occurrences: %v", got)
	}
}

func TestSubcommand(t *testing.T) {
	for _, tt := range []struct{ in, sub, rest string }{
		{"lijst", "list", ""}, {"list", "list", ""}, {"hulp", "help", ""}, {"?", "help", ""},
		{`agenda ab12cd "Begroting"`, "agenda", "ab12cd Begroting"},
		{"verplaats ab12cd 15 januari 14:00", "move", "ab12cd 15 januari 14:00"}, {"move x y", "move", "x y"},
		{"annuleer ab12cd", "cancel", "ab12cd"}, {"cancel ab12cd 3 March", "cancel", "ab12cd 3 March"},
		{"agenda-link vernieuw", "feed", "vernieuw"}, {"ics rotate", "feed", "rotate"},
		{"mijn-agenda", "mine", ""}, {"mijn agenda vernieuw", "mine", "vernieuw"}, {"my calendar", "mine", ""}, {"my-calendar", "mine", ""},
		{`"Lijst" morgen 10:00`, "", ""}, {"Maandoverleg elke maandag 9:00", "", ""},
	} {
		sub, rest := subcommand(words(t, tt.in))
		if sub != tt.sub || joinText(rest) != tt.rest {
			t.Errorf("%s: %q %q, want %q %q", tt.in, sub, joinText(rest), tt.sub, tt.rest)
		}
	}
	for _, w := range []string{"vernieuw", "rotate", "--vernieuw", "nieuw"} {
		if !rotateWord(w) {
			t.Errorf("%s does not rotate", w)
		}
	}
	for _, w := range []string{"weg", "remove", "verwijder"} {
		if !removeWord(w) {
			t.Errorf("%s does not remove", w)
		}
	}
	if id := idWord(words(t, "`AB12cd`.")[0]); id != "ab12cd" {
		t.Errorf("idWord: %q", id)
	}
}
