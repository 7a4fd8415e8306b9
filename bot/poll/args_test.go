package poll

import (
	"slices"
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
			got = append(got, tk.text)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{`"open`, `Vraag "Ja`, `“Lunch? Pizza`} {
		if _, err := tokenize(in); !isUserError(err, "poll.err.unbalanced_quote") {
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
	sp, err := parse(t, `"Wanneer houden we de kick-off in Limburg?" "di 14 jan" "do 16 jan" "vr 17 jan" --stemmen=2 --anoniem --toevoegen --verborgen --sluit=2u`)
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
	if sp, err := parse(t, `Koffie? "--anoniem" Thee`); err != nil || sp.Anonymous || sp.Options[0] != "--anoniem" {
		t.Fatalf("a quoted flag is an option: %+v, %v", sp, err)
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
		{`Vraag? Ja Nee --stemmen=veel`, "poll.err.votes_value"},
		{`Vraag? Ja Nee --stemmen`, "poll.err.votes_value"},
		{`Vraag? Ja ja`, "poll.err.duplicate_option"},
		{`Vraag? Soep ſOEP`, "poll.err.duplicate_option"}, // folded as the stores fold (ſ is s)
		{`Vraag? Ja ""`, "poll.err.empty_option"},
		{`Vraag? Ja Nee --sluit=gisteren`, "poll.err.close_value"},
		{`Vraag? Ja Nee --sluit=2020-01-01`, "poll.err.close_past"},
		{`Vraag? Ja Nee --sluit=400d`, "poll.err.close_far"},
		{`"Vraag? Ja Nee`, "poll.err.unbalanced_quote"},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.in)
		if !isUserError(err, tt.id) {
			t.Errorf("parse(%q) error = %v, want %s", tt.in, err, tt.id)
		}
	}
}

func TestParseWhen(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2u", now.Add(2 * time.Hour)},
		{"2h", now.Add(2 * time.Hour)},
		{"30m", now.Add(30 * time.Minute)},
		{"3d", now.Add(72 * time.Hour)},
		{"3 dagen", now.Add(72 * time.Hour)},
		{"1w", now.Add(7 * 24 * time.Hour)},
		{"1h30m", now.Add(90 * time.Minute)},
		{"17:00", time.Date(2026, 1, 13, 17, 0, 0, 0, ams)},
		{"09:00", time.Date(2026, 1, 14, 9, 0, 0, 0, ams)}, // passed today: tomorrow
		{"2026-01-20", time.Date(2026, 1, 20, 23, 59, 0, 0, ams)},
		{"20-1-2026", time.Date(2026, 1, 20, 23, 59, 0, 0, ams)},
		{"2026-01-20 10:00", time.Date(2026, 1, 20, 10, 0, 0, 0, ams)},
		{"2026-01-20T10:00", time.Date(2026, 1, 20, 10, 0, 0, 0, ams)},
		// Days on which the clocks change still end at 23:59 on the wall.
		{"2026-03-29", time.Date(2026, 3, 29, 23, 59, 0, 0, ams)},
		{"2026-10-25", time.Date(2026, 10, 25, 23, 59, 0, 0, ams)},
	}
	for _, tt := range tests {
		got, err := parseWhen(tt.in, now, ams)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseCreate(f *testing.F) {
	for _, s := range []string{
		`"Wie?" Ja Nee --anoniem`, `„Lunch?” Pizza Soep —stemmen=2`, `Vraag "a b" c --sluit="2026-12-01 17:00"`,
		`--stemmen`, `"`, `lijst`, `Vraag? a b --sluit=1h30m`,
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
		if sp.Question == "" || len(sp.Options) < MinOptions || len(sp.Options) > MaxOptions || sp.MaxVotes < 1 {
			t.Fatalf("parseCreate(%q) accepted an invalid poll: %+v", text, sp)
		}
		if !sp.Closes.IsZero() && !sp.Closes.After(now) {
			t.Fatalf("parseCreate(%q) accepted a closing time in the past: %v", text, sp.Closes)
		}
	})
}

func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"2u", "17:00", "2026-01-20 10:00", "1h30m", "20-1-2026", "99999d", "-5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseWhen(s, now, ams)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("parseWhen(%q): not a user error: %v", s, err)
			}
			return
		}
		if !at.After(now) || at.Sub(now) > 366*24*time.Hour {
			t.Fatalf("parseWhen(%q) = %v, outside (now, now+1y]", s, at)
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
