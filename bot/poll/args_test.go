package poll

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
)

var ams, _ = time.LoadLocation("Europe/Amsterdam")

// now is a Tuesday afternoon in Amsterdam.
var now = time.Date(2026, 1, 13, 14, 30, 0, 0, ams)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`"Wie komt er?" Ja Nee`, []string{"Wie komt er?", "Ja", "Nee"}},
		{`“Lunch?” “Pizza met ui” Soep`, []string{"Lunch?", "Pizza met ui", "Soep"}},
		{`„Lunch?” „Pizza” Soep`, []string{"Lunch?", "Pizza", "Soep"}},
		{`  veel   ruimte  `, []string{"veel", "ruimte"}},
		{`--sluit="2026-12-01 17:00"`, []string{"--sluit=2026-12-01 17:00"}},
		{`"" leeg`, []string{"", "leeg"}},
		{``, nil},
	}
	for _, tt := range tests {
		toks, err := tokenize(tt.in)
		if err != nil {
			t.Errorf("tokenize(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			got = append(got, tk.Text)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{`"open`, `Vraag "Ja`, `“Lunch? Pizza`} {
		if _, err := tokenize(in); !isUserError(err, "kring.err.unbalanced_quote") {
			t.Errorf("tokenize(%q) error = %v, want unbalanced quote", in, err)
		}
	}
}

func isUserError(err error, id string) bool {
	ue, ok := bot.AsUserError(err)
	return ok && ue.ID == id
}

func parse(t *testing.T, text string) (spec, error) {
	t.Helper()
	toks, err := tokenize(text)
	if err != nil {
		return spec{}, err
	}
	return parseCreate(toks, now, ams)
}

func TestParseCreate(t *testing.T) {
	sp, err := parse(t, `"Wanneer houden we de kick-off in Limburg?" "di 14 jan" "do 16 jan" "vr 17 jan" --stemmen=2 --anoniem --toevoegen --verborgen --sluit=over 2 uur`)
	if err != nil {
		t.Fatal(err)
	}
	want := spec{
		Question: "Wanneer houden we de kick-off in Limburg?", Options: []string{"di 14 jan", "do 16 jan", "vr 17 jan"},
		Anonymous: true, Hidden: true, AllowAdd: true, MaxVotes: 2, Closes: now.Add(2 * time.Hour),
	}
	if !slices.Equal(sp.Options, want.Options) || sp.Question != want.Question || sp.Anonymous != want.Anonymous ||
		sp.Hidden != want.Hidden || sp.AllowAdd != want.AllowAdd || sp.MaxVotes != want.MaxVotes || !sp.Closes.Equal(want.Closes) {
		t.Fatalf("got %+v\nwant %+v", sp, want)
	}

	english, err := parse(t, `Lunch? Pizza Soup --anonymous --votes 3 --add-options --hidden --close=30m`)
	if err != nil {
		t.Fatal(err)
	}
	if !english.Anonymous || !english.Hidden || !english.AllowAdd || english.MaxVotes != 3 || !english.Closes.Equal(now.Add(30*time.Minute)) {
		t.Fatalf("English flags: %+v", english)
	}
	phone, err := parse(t, `“Lunch?” Pizza Soep —anoniem –stemmen=2`)
	if err != nil || !phone.Anonymous || phone.MaxVotes != 2 {
		t.Fatalf("dashes from a phone: %+v, %v", phone, err)
	}
	if sp, err := parse(t, `Prioriteiten? A B C --rangschik --methode=irv`); err != nil || sp.Kind != KindRank || sp.Method != MethodIRV {
		t.Fatalf("ranked by instant runoff: %+v, %v", sp, err)
	}
	if sp, err := parse(t, `Priorities? A B C --rank --method borda`); err != nil || sp.Kind != KindRank || sp.Method != "" {
		t.Fatalf("ranked by Borda, said: %+v, %v", sp, err)
	}
	if sp, err := parse(t, `Budget? A B C --points 12`); err != nil || sp.Kind != KindPoints || sp.Points != 12 {
		t.Fatalf("dot vote: %+v, %v", sp, err)
	}
	if sp, err := parse(t, `Koffie? "--anoniem" Thee`); err != nil || sp.Anonymous || sp.Options[0] != "--anoniem" {
		t.Fatalf("a quoted flag is an option: %+v, %v", sp, err)
	}
}

// TestCloseDateAndTimeUnquoted: the README's --sluit=2026-12-04 17:00
// closes at 17:00 that day and adds no option "17:00".
func TestCloseDateAndTimeUnquoted(t *testing.T) {
	for _, line := range []string{
		`Maandoverleg? di 12 jan, do 14 jan --sluit=2026-12-04 17:00`,
		`"Maandoverleg?" "di 12 jan" "do 14 jan" --sluit 4-12-2026 17:00`,
		`Maandoverleg? --sluit=2026-12-04 17:00 di 12 jan, do 14 jan`,
	} {
		sp, err := parse(t, line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := time.Date(2026, 12, 4, 17, 0, 0, 0, ams)
		if !sp.Closes.Equal(want) || !slices.Equal(sp.Options, []string{"di 12 jan", "do 14 jan"}) {
			t.Errorf("%s: closes %v with options %q; want %v with di 12 jan, do 14 jan", line, sp.Closes, sp.Options, want)
		}
	}
	// A quoted time after a date is an option, as the user wrote.
	sp, err := parse(t, `"Wanneer?" --sluit=2026-12-04 "17:00" "18:00"`)
	if err != nil || !slices.Equal(sp.Options, []string{"17:00", "18:00"}) || sp.Closes.Hour() != 23 {
		t.Errorf("quoted times: %+v, %v", sp, err)
	}
}

func TestParseCreateErrors(t *testing.T) {
	many := "Vraag?"
	for i := range 21 {
		many += " o" + string(rune('a'+i))
	}
	tests := []struct {
		in, id string
	}{
		{`"Alleen een optie?" Ja`, "poll.err.too_few_options"},
		{`"Vraag?"`, "poll.err.too_few_options"},
		{many, "poll.err.too_many_options"},
		{`Vraag? Ja Nee --snel`, "poll.err.unknown_flag"},
		{`"" Ja Nee`, "poll.err.empty_question"},
		{`--anoniem`, "poll.err.empty_question"},
		{`Vraag? Ja Nee --stemmen=0`, "poll.err.votes_value"},
		{`Vraag? Ja Nee --rangschik --punten=10`, "poll.err.kind_both"},
		{`Vraag? Ja Nee --points=5 --rank`, "poll.err.kind_both"},
		{`Vraag? Ja Nee --punten=0`, "poll.err.points_flag"},
		{`Vraag? Ja Nee --punten=101`, "poll.err.points_flag"},
		{`Vraag? Ja Nee --punten`, "poll.err.points_flag"},
		{`Vraag? Ja Nee --methode=irv`, "poll.err.method_needs_rank"},
		{`Vraag? Ja Nee --punten=5 --methode=borda`, "poll.err.method_needs_rank"},
		{`Vraag? Ja Nee --rangschik --methode=stv`, "poll.err.method_value"},
		{`Vraag? Ja Nee --rangschik --stemmen=2`, "poll.err.votes_with_kind"},
		{`Vraag? Ja Nee --punten=10 --toevoegen`, "poll.err.add_with_kind"},
		{`Vraag? Ja Nee --stemmen=veel`, "poll.err.votes_value"},
		{`Vraag? Ja Nee --stemmen`, "poll.err.votes_value"},
		{`Vraag? Ja ja`, "poll.err.duplicate_option"},
		{`Vraag? Soep ſOEP`, "poll.err.duplicate_option"}, // folded as the stores fold (ſ is s)
		{`Vraag? Ja ""`, "poll.err.empty_option"},
		{`Vraag? Ja Nee --sluit=gisteren`, "poll.err.close_value"},
		{`Vraag? Ja Nee --sluit=2020-01-01`, "poll.err.close_past"},
		{`Vraag? Ja Nee --sluit=400d`, "poll.err.close_far"},
		{`"Vraag? Ja Nee`, "kring.err.unbalanced_quote"},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.in)
		if !isUserError(err, tt.id) {
			t.Errorf("parse(%q) error = %v, want %s", tt.in, err, tt.id)
		}
	}
}

// TestCloseTime: --sluit reads what bot/when reads as a moment. now is
// Tuesday 13 January 2026, 14:30.
func TestCloseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"over 2 uur", now.Add(2 * time.Hour)},
		{"2h", now.Add(2 * time.Hour)},
		{"30m", now.Add(30 * time.Minute)},
		{"3d", now.Add(72 * time.Hour)},
		{"3 dagen", now.Add(72 * time.Hour)},
		{"1w", now.Add(7 * 24 * time.Hour)},
		{"1h30m", now.Add(90 * time.Minute)},
		{"een half uur", now.Add(30 * time.Minute)},
		{"17:00", time.Date(2026, 1, 13, 17, 0, 0, 0, ams)},
		{"09:00", time.Date(2026, 1, 14, 9, 0, 0, 0, ams)}, // passed today: tomorrow
		// A Dutch hour is a time of day, not a number of hours.
		{"17u", time.Date(2026, 1, 13, 17, 0, 0, 0, ams)},
		{"17 uur", time.Date(2026, 1, 13, 17, 0, 0, 0, ams)},
		{"2u", time.Date(2026, 1, 14, 2, 0, 0, 0, ams)},
		{"vrijdag 17u", time.Date(2026, 1, 16, 17, 0, 0, 0, ams)},
		{"morgen 10:00", time.Date(2026, 1, 14, 10, 0, 0, 0, ams)},
		{"friday 5pm", time.Date(2026, 1, 16, 17, 0, 0, 0, ams)},
		// A day alone closes at its end.
		{"2026-01-20", time.Date(2026, 1, 20, 23, 59, 0, 0, ams)},
		{"20-1-2026", time.Date(2026, 1, 20, 23, 59, 0, 0, ams)},
		{"vrijdag", time.Date(2026, 1, 16, 23, 59, 0, 0, ams)},
		{"vandaag", time.Date(2026, 1, 13, 23, 59, 0, 0, ams)},
		{"2026-01-20 10:00", time.Date(2026, 1, 20, 10, 0, 0, 0, ams)},
		{"2026-01-20T10:00", time.Date(2026, 1, 20, 10, 0, 0, 0, ams)},
		// Days on which the clocks change still end at 23:59 on the wall.
		{"2026-03-29", time.Date(2026, 3, 29, 23, 59, 0, 0, ams)},
		{"2026-10-25", time.Date(2026, 10, 25, 23, 59, 0, 0, ams)},
	}
	for _, tt := range tests {
		got, moved, used, err := closeTime(tt.in, nil, now, ams)
		if err != nil || !got.Equal(tt.want) || used != 0 || moved {
			t.Errorf("closeTime(%q) = %v, %d, %v; want %v", tt.in, got, used, err, tt.want)
		}
	}
}

// TestCloseTimeMoved: a closing time the clocks skip is moved past the
// gap, and says so, so the reply can tell the creator.
func TestCloseTimeMoved(t *testing.T) {
	at, moved, _, err := closeTime("2026-03-29 02:30", nil, now, ams)
	if err != nil || !moved || !at.Equal(time.Date(2026, 3, 29, 3, 30, 0, 0, ams)) {
		t.Errorf("closeTime(2026-03-29 02:30) = %v, moved %v, %v; want 03:30, moved", at, moved, err)
	}
}

// TestCloseTimeRunsOn: a closing time typed without quotes takes the words
// that belong to it, and no more.
func TestCloseTimeRunsOn(t *testing.T) {
	tests := []struct {
		line    string
		closes  time.Time
		options []string
	}{
		{`Wanneer? Ja Nee --sluit=vrijdag 17u`, time.Date(2026, 1, 16, 17, 0, 0, 0, ams), []string{"Ja", "Nee"}},
		{`Wanneer? --sluit=over 2 uur Ja Nee`, now.Add(2 * time.Hour), []string{"Ja", "Nee"}},
		{`Wanneer? --sluit volgende week dinsdag 9:30 Ja Nee`, time.Date(2026, 1, 20, 9, 30, 0, 0, ams), []string{"Ja", "Nee"}},
		{`Hoe laat? --sluit=morgen 10:00 11:00 12:00`, time.Date(2026, 1, 14, 10, 0, 0, 0, ams), []string{"11:00", "12:00"}},
		{`Welke dag? --sluit=morgen maandag dinsdag`, time.Date(2026, 1, 14, 23, 59, 0, 0, ams), []string{"maandag", "dinsdag"}},
		{`Hoe laat? --sluit=17:00 morgen overmorgen`, time.Date(2026, 1, 13, 17, 0, 0, 0, ams), []string{"morgen", "overmorgen"}},
		{`Wanneer? --sluit=3 december Ja Nee`, time.Date(2026, 12, 3, 23, 59, 0, 0, ams), []string{"Ja", "Nee"}},
		{`Hoe laat? --sluit=morgen "10:00" "11:00"`, time.Date(2026, 1, 14, 23, 59, 0, 0, ams), []string{"10:00", "11:00"}},
	}
	for _, tt := range tests {
		sp, err := parse(t, tt.line)
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		if !sp.Closes.Equal(tt.closes) || !slices.Equal(sp.Options, tt.options) {
			t.Errorf("%s: closes %v with options %q; want %v with %q", tt.line, sp.Closes, sp.Options, tt.closes, tt.options)
		}
	}
}

// TestCloseTimeExplains: what --sluit cannot read is answered with what
// bot/when understood, in the user's language.
func TestCloseTimeExplains(t *testing.T) {
	for _, line := range []string{`Vraag? Ja Nee --sluit=vrijdag 25:00`, `Vraag? Ja Nee --sluit=gisteren`, `Vraag? Ja Nee --sluit="twee uur"`} {
		_, err := parse(t, line)
		ue, ok := bot.AsUserError(err)
		if !ok || ue.ID != "poll.err.close_value" {
			t.Errorf("%s: %v", line, err)
			continue
		}
		nl := ue.Translate(bot.T("nl"))
		if !strings.HasPrefix(nl, "Die sluitingstijd begrijp ik niet. Ik kan `") || !strings.Contains(nl, "`morgen 10:00`") {
			t.Errorf("%s: %s", line, nl)
		}
		if en := ue.Translate(bot.T("en")); !strings.HasPrefix(en, "I don't understand that closing time. I can't read `") {
			t.Errorf("%s: %s", line, en)
		}
	}
	_, err := parse(t, `Vraag? Ja Nee --sluit=vrijdag 25:00`)
	ue, _ := bot.AsUserError(err)
	if got := ue.Translate(bot.T("nl")); !strings.Contains(got, "`vrijdag 25:00`") || !strings.Contains(got, "uren gaan van 0 tot en met 23") {
		t.Errorf("a time that cannot be: %s", got)
	}
}

func FuzzParseCreate(f *testing.F) {
	for _, s := range []string{
		`"Wie?" Ja Nee --anoniem`, `„Lunch?” Pizza Soep —stemmen=2`, `Vraag "a b" c --sluit="2026-12-01 17:00"`,
		`--stemmen`, `"`, `lijst`, `Vraag? a b --sluit=1h30m`,
		`Wie komt er naar de regiodag? Ja Nee Misschien`, `Wanneer? di 12 jan, do 14 jan,`, `'Zo'n dag?' 's ochtends, 's middags`,
		`Lunch Pizza Soep`, `Wie kiest "x"? a b`, `Vraag?! a -b --anonym`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks, err := tokenize(text)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("tokenize(%q): not a user error: %v", text, err)
			}
			return
		}
		sp, err := parseCreate(toks, now, ams)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("parseCreate(%q): not a user error: %v", text, err)
			}
			return
		}
		if sp.Question == "" || len(sp.Options) < MinOptions || len(sp.Options) > MaxOptions || sp.MaxVotes < 1 ||
			len([]rune(sp.Question)) > MaxQuestionLen {
			t.Fatalf("parseCreate(%q) accepted an invalid poll: %+v", text, sp)
		}
		seen := map[string]bool{}
		for _, o := range sp.Options {
			if o == "" || o != strings.TrimSpace(o) || len([]rune(o)) > MaxOptionLen || seen[FoldLabel(o)] {
				t.Fatalf("parseCreate(%q) accepted option %q of %q", text, o, sp.Options)
			}
			seen[FoldLabel(o)] = true
		}
		if !sp.Closes.IsZero() && !sp.Closes.After(now) {
			t.Fatalf("parseCreate(%q) accepted a closing time in the past: %v", text, sp.Closes)
		}
	})
}

func FuzzCloseTime(f *testing.F) {
	for _, s := range []string{"2u", "17u", "17:00", "2026-01-20 10:00", "1h30m", "20-1-2026", "99999d", "-5m", "vrijdag 17u", "over 2 uur"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, _, _, err := closeTime(s, nil, now, ams)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("closeTime(%q): not a user error: %v", s, err)
			}
			return
		}
		if !at.After(now) || at.Sub(now) > 366*24*time.Hour {
			t.Fatalf("closeTime(%q) = %v, outside (now, now+1y]", s, at)
		}
	})
}

func TestToggle(t *testing.T) {
	three := []Option{{Label: "a"}, {Label: "b"}, {Label: "c"}}
	tests := []struct {
		name    string
		max     int
		closed  bool
		current []int
		click   int
		want    []int
		err     error
	}{
		{"first vote", 1, false, nil, 0, []int{0}, nil},
		{"one vote moves", 1, false, []int{0}, 2, []int{2}, nil},
		{"click again takes back", 1, false, []int{1}, 1, []int{}, nil},
		{"second of two", 2, false, []int{0}, 1, []int{0, 1}, nil},
		{"third of two refused", 2, false, []int{0, 1}, 2, []int{0, 1}, ErrVoteLimit},
		{"take back one of two", 2, false, []int{0, 1}, 0, []int{1}, nil},
		{"no such option", 1, false, nil, 3, nil, ErrNoSuchOption},
		{"negative option", 1, false, nil, -1, nil, ErrNoSuchOption},
		{"closed", 1, true, []int{0}, 1, []int{0}, ErrClosed},
		{"zero max counts as one", 0, false, []int{0}, 1, []int{1}, nil},
	}
	for _, tt := range tests {
		p := &Poll{Options: three, MaxVotes: tt.max, Closed: tt.closed}
		got, err := p.Toggle(tt.current, tt.click)
		if err != tt.err || !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
			t.Errorf("%s: Toggle(%v, %d) = %v, %v; want %v, %v", tt.name, tt.current, tt.click, got, err, tt.want, tt.err)
		}
	}
}

func TestTokenizeQuotesAndApostrophes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`'Wie komt er?' Ja 'Nee, helaas'`, []string{"Wie komt er?", "Ja", "Nee, helaas"}},
		{`‘Lunch?’ ‚Pizza’ Soep`, []string{"Lunch?", "Pizza", "Soep"}},
		{`Is zo'n dag handig? Ja Nee`, []string{"Is", "zo'n", "dag", "handig?", "Ja", "Nee"}},
		{`Is zo’n dag handig? Ja Nee`, []string{"Is", "zo’n", "dag", "handig?", "Ja", "Nee"}},
		{`Wie komt 's middags? Ja 'Nee'`, []string{"Wie", "komt", "'s", "middags?", "Ja", "Nee"}},
		{`Naar 's-Hertogenbosch? Ja Nee`, []string{"Naar", "'s-Hertogenbosch?", "Ja", "Nee"}},
		{`'Kom je 's avonds?' Ja`, []string{"Kom je 's avonds?", "Ja"}},
		{`Kees' fiets? Ja Nee`, []string{"Kees'", "fiets?", "Ja", "Nee"}},
		{`'open zonder einde`, []string{"'open", "zonder", "einde"}}, // an apostrophe after all
		{`"di 12 jan", do`, []string{"di 12 jan", ",", "do"}},        // a quoted phrase ends at its quote
		{`"Zeg 'ns" Ja`, []string{"Zeg 'ns", "Ja"}},
		{`'Zeg "ja"' Ja`, []string{`Zeg "ja"`, "Ja"}},
	}
	for _, tt := range tests {
		toks, err := tokenize(tt.in)
		if err != nil {
			t.Errorf("tokenize(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			got = append(got, tk.Text)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestQuestionAndOptions: where the question ends and how the options are
// split, as first-time users type a poll.
func TestQuestionAndOptions(t *testing.T) {
	tests := []struct {
		in       string
		question string
		options  []string
	}{
		{`Wie komt er naar de regiodag? Ja Nee Misschien`, "Wie komt er naar de regiodag?", []string{"Ja", "Nee", "Misschien"}},
		{`Wanneer het maandoverleg? di 12 jan, do 14 jan, ma 18 jan`, "Wanneer het maandoverleg?", []string{"di 12 jan", "do 14 jan", "ma 18 jan"}},
		{`Wanneer? di 12 jan,do 14 jan,`, "Wanneer?", []string{"di 12 jan", "do 14 jan"}},
		{`Wanneer? di 12 jan , , do 14 jan`, "Wanneer?", []string{"di 12 jan", "do 14 jan"}},
		{`"Lunch?" Pizza Soep`, "Lunch?", []string{"Pizza", "Soep"}},
		{`"Lunch" Pizza, Soep met ui`, "Lunch", []string{"Pizza", "Soep met ui"}},
		{`'Wie komt er?' Ja Nee`, "Wie komt er?", []string{"Ja", "Nee"}},
		{`Is zo'n dag handig? Ja Nee`, "Is zo'n dag handig?", []string{"Ja", "Nee"}},
		{`Wie komt 's middags? Ja, graag, Nee`, "Wie komt 's middags?", []string{"Ja", "graag", "Nee"}},
		{`Wie komt?Ja Nee`, "Wie komt?", []string{"Ja", "Nee"}},
		{`Echt?! Ja Nee`, "Echt?!", []string{"Ja", "Nee"}},
		{`Wie kiest "Samen beslissen"? Ja Nee`, `Wie kiest "Samen beslissen"?`, []string{"Ja", "Nee"}},
		{`Wat is 10 % van 50? 5 "vijf?"`, "Wat is 10 % van 50?", []string{"5", "vijf?"}},
		{`Lunch "Pizza met ui" Soep`, "Lunch", []string{"Pizza met ui", "Soep"}},
		{`Wanneer? "di 12 jan, 10:00", do 14 jan`, "Wanneer?", []string{"di 12 jan, 10:00", "do 14 jan"}},
		{`Vraag? Ja "Nee, helaas"`, "Vraag?", []string{"Ja", "Nee, helaas"}},
		{`Hoeveel? -1 0 +1`, "Hoeveel?", []string{"-1", "0", "+1"}},
		{`   Wie    komt?   Ja    Nee  `, "Wie komt?", []string{"Ja", "Nee"}},
	}
	for _, tt := range tests {
		sp, err := parse(t, tt.in)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.in, err)
			continue
		}
		if sp.Question != tt.question || !slices.Equal(sp.Options, tt.options) {
			t.Errorf("parse(%q) = %q %q, want %q %q", tt.in, sp.Question, sp.Options, tt.question, tt.options)
		}
	}
}

// TestFlagsAnywhere: settings may come before, inside or after the
// question and the options.
func TestFlagsAnywhere(t *testing.T) {
	sp, err := parse(t, `--anoniem Wie komt --stemmen 2 er? Ja, graag, Nee -verborgen`)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Question != "Wie komt er?" || !slices.Equal(sp.Options, []string{"Ja", "graag", "Nee"}) || !sp.Anonymous || !sp.Hidden || sp.MaxVotes != 2 {
		t.Fatalf("got %+v", sp)
	}
}

// TestNotSure: without a question mark kring cannot know where the
// question ends; it says how it would read the command and posts nothing.
func TestNotSure(t *testing.T) {
	tests := []struct {
		in       string
		question string
		options  []string
	}{
		{`Wie komt er naar de regiodag Ja Nee Misschien`, "Wie", []string{"komt", "er", "naar", "de", "regiodag", "Ja", "Nee", "Misschien"}},
		{`Lunch Pizza Soep`, "Lunch", []string{"Pizza", "Soep"}},
		{`Welke dag "di 12 jan" "do 14 jan"`, "Welke dag", []string{"di 12 jan", "do 14 jan"}},
		{`Wanneer het overleg di 12 jan, do 14 jan`, "Wanneer", []string{"het overleg di 12 jan", "do 14 jan"}},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.in)
		ue, ok := bot.AsUserError(err)
		if !ok || ue.ID != "poll.err.unsure" {
			t.Errorf("parse(%q) error = %v, want poll.err.unsure", tt.in, err)
			continue
		}
		msg := ue.Translate(bot.T("nl"))
		want := "vraag: *" + tt.question + "*"
		if !strings.Contains(msg, want) {
			t.Errorf("parse(%q) says:\n%s\nwant %q", tt.in, msg, want)
		}
		for i, o := range tt.options {
			if i < 8 && !strings.Contains(msg, "\n- "+o+"\n") {
				t.Errorf("parse(%q) does not list option %q:\n%s", tt.in, o, msg)
			}
		}
		if !strings.Contains(msg, "vraagteken") || !strings.Contains(msg, "/poll Wie komt er naar de regiodag? Ja Nee Misschien") {
			t.Errorf("parse(%q) does not say how to write it:\n%s", tt.in, msg)
		}
	}
}

// TestFlagNearMiss: a setting kring does not know gets the nearest one it
// does, in Dutch or English as typed.
func TestFlagNearMiss(t *testing.T) {
	tests := []struct{ in, near string }{
		{"--sluiten=2u", "sluit"},
		{"--slut=2u", "sluit"},
		{"--anonym", "anonymous"}, // a prefix: the nearer slip
		{"--anoneim", "anoniem"},
		{"--anonymus", "anonymous"},
		{"--verborgn", "verborgen"},
		{"--verb", "verborgen"},
		{"--stemen=2", "stemmen"},
		{"--hiden", "hidden"},
		{"--vote=2", "votes"},
		{"—toevoege", "toevoegen"},
		{"--snel", ""},
		{"--xyz", ""},
		{"--to", "tot"},
		{"--q", ""},
	}
	for _, tt := range tests {
		_, err := parse(t, "Vraag? Ja Nee "+tt.in)
		ue, ok := bot.AsUserError(err)
		switch {
		case !ok:
			t.Errorf("%s: error %v", tt.in, err)
		case tt.near == "" && ue.ID != "poll.err.unknown_flag":
			t.Errorf("%s: %s %v, want unknown_flag without a suggestion", tt.in, ue.ID, ue.Data)
		case tt.near != "" && (ue.ID != "poll.err.unknown_flag_near" || !strings.Contains(ue.Translate(bot.T("nl")), "Bedoel je `--"+tt.near+"`?")):
			t.Errorf("%s: %q, want Bedoel je --%s?", tt.in, ue.Translate(bot.T("nl")), tt.near)
		}
	}
	for _, in := range []string{"--sluit", "--sluit=", "--close"} {
		if _, err := parse(t, "Vraag? Ja Nee "+in); !isUserError(err, "poll.err.close_missing") {
			t.Errorf("%s: %v, want close_missing", in, err)
		}
	}
}

func TestIDArg(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"abc234", "abc234", true},
		{"`abc234`", "abc234", true},
		{"ABC234", "abc234", true},
		{"ID abc234", "abc234", true},
		{"id: `abc234`", "abc234", true},
		{"abc234.", "abc234", true},
		{"", "", false},
		{"abc234 def567", "", false},
		{"``", "", false},
	}
	for _, tt := range tests {
		toks, _ := tokenize(tt.in)
		got, ok := idArg(toks)
		if got != tt.want || ok != tt.ok {
			t.Errorf("idArg(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
