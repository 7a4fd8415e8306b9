package when

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
)

var ams = mustLoad("Europe/Amsterdam")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// now is Monday 30 November 2026, 09:00 in Amsterdam.
var now = time.Date(2026, 11, 30, 9, 0, 0, 0, ams)

func at(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, ams) }

func TestMoment(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		dayOnly bool
	}{
		// The examples.
		{"morgen 10:00", at(2026, 12, 1, 10, 0), false},
		{"overmorgen", at(2026, 12, 2, 0, 0), true},
		{"vrijdag 17u", at(2026, 12, 4, 17, 0), false},
		{"volgende week dinsdag 9:30", at(2026, 12, 8, 9, 30), false},
		{"over 2 uur", at(2026, 11, 30, 11, 0), false},
		{"3 december 14:30", at(2026, 12, 3, 14, 30), false},
		{"3 dec", at(2026, 12, 3, 0, 0), true},
		{"2026-12-03 14:30", at(2026, 12, 3, 14, 30), false},
		{"3-12-2026", at(2026, 12, 3, 0, 0), true},
		{"tomorrow 10am", at(2026, 12, 1, 10, 0), false},
		{"friday 5pm", at(2026, 12, 4, 17, 0), false},
		{"in 3 days", at(2026, 12, 3, 9, 0), false},
		{"next monday 13:00", at(2026, 12, 7, 13, 0), false},
		// What --sluit read before.
		{"30m", at(2026, 11, 30, 9, 30), false},
		{"3d", at(2026, 12, 3, 9, 0), false},
		{"1w", at(2026, 12, 7, 9, 0), false},
		{"1h30m", at(2026, 11, 30, 10, 30), false},
		{"17:00", at(2026, 11, 30, 17, 0), false},
		{"2026-12-01 17:00", at(2026, 12, 1, 17, 0), false},
		{"2026-12-01", at(2026, 12, 1, 0, 0), true},
		{"1-12-2026 17:00", at(2026, 12, 1, 17, 0), false},
		{"2026-12-03T14:30", at(2026, 12, 3, 14, 30), false},
		// A Dutch hour without over/in is a time of day.
		{"17u", at(2026, 11, 30, 17, 0), false},
		{"17 uur", at(2026, 11, 30, 17, 0), false},
		{"17u30", at(2026, 11, 30, 17, 30), false},
		{"2u", at(2026, 12, 1, 2, 0), false}, // 02:00 has passed today
		{"om 9 uur", at(2026, 12, 1, 9, 0), false},
		{"over 2u", at(2026, 11, 30, 11, 0), false},
		{"2h", at(2026, 11, 30, 11, 0), false},
		{"2 hours", at(2026, 11, 30, 11, 0), false},
		{"2u30m", at(2026, 11, 30, 11, 30), false},
		{"2 uur later", at(2026, 11, 30, 11, 0), false},
		// Spans in words.
		{"over 1 minuut", at(2026, 11, 30, 9, 1), false},
		{"1 minuut", at(2026, 11, 30, 9, 1), false},
		{"een half uur", at(2026, 11, 30, 9, 30), false},
		{"over anderhalf uur", at(2026, 11, 30, 10, 30), false},
		{"over 2 uur en 15 minuten", at(2026, 11, 30, 11, 15), false},
		{"in half an hour", at(2026, 11, 30, 9, 30), false},
		{"over een maand", at(2026, 12, 30, 9, 0), false},
		// More ways to say a day or a time.
		{"morgen om 10", at(2026, 12, 1, 10, 0), false},
		{"10:00 morgen", at(2026, 12, 1, 10, 0), false},
		{"morgen 10.00 uur", at(2026, 12, 1, 10, 0), false},
		{"maandag", at(2026, 11, 30, 0, 0), true},         // today: the day is not over
		{"maandag 8:00", at(2026, 12, 7, 8, 0), false},    // 08:00 today has passed
		{"maandag 10:00", at(2026, 11, 30, 10, 0), false}, // still to come today
		{"volgende maandag", at(2026, 12, 7, 0, 0), true}, // never today
		{"volgende dinsdag", at(2026, 12, 1, 0, 0), true}, // the first after today
		{"3 uur 's middags", at(2026, 11, 30, 15, 0), false},
		{"half 3", at(2026, 12, 1, 2, 30), false},
		{"kwart over 4", at(2026, 12, 1, 4, 15), false},
		{"kwart voor 10", at(2026, 11, 30, 9, 45), false},
		{"vrijdag 4 december", at(2026, 12, 4, 0, 0), true},
		{"december 3rd", at(2026, 12, 3, 0, 0), true},
		{"3rd of december 2027 at 9am", at(2027, 12, 3, 9, 0), false},
		{"5:30 pm", at(2026, 11, 30, 17, 30), false},
		{"12am morgen", at(2026, 12, 1, 0, 0), false},
		{"1 januari", at(2027, 1, 1, 0, 0), true},           // the first 1 January from today
		{"30 november 8:00", at(2026, 11, 30, 8, 0), false}, // today, passed: a date is not rolled on
		{"vandaag 24:00", at(2026, 12, 1, 0, 0), false},
		{"vanavond 8 uur", at(2026, 11, 30, 20, 0), false},
		{"vanmiddag half 4", at(2026, 11, 30, 15, 30), false},
		{"morgenochtend 9:00", at(2026, 12, 1, 9, 0), false},
		{"morgenavond 19:30", at(2026, 12, 1, 19, 30), false},
		{"tonight 8pm", at(2026, 11, 30, 20, 0), false},
		{"dinsdag volgende week 9:30", at(2026, 12, 8, 9, 30), false},
		{"tuesday next week", at(2026, 12, 8, 0, 0), true},
		{"deze week vrijdag", at(2026, 12, 4, 0, 0), true},
		{"nu", now, false},
		{"2026-12-03T14:30:00+01:00", at(2026, 12, 3, 14, 30), false},
		{"  Morgen   10:00 ", at(2026, 12, 1, 10, 0), false},
	}
	for _, tt := range tests {
		r, err := Moment(tt.in, now, ams)
		if err != nil {
			t.Errorf("Moment(%q): %v", tt.in, err)
			continue
		}
		if !r.At.Equal(tt.want) || r.DayOnly != tt.dayOnly || r.Moved || r.At.Location() != ams {
			t.Errorf("Moment(%q) = %v (day only %v, moved %v); want %v (day only %v)", tt.in, r.At, r.DayOnly, r.Moved, tt.want, tt.dayOnly)
		}
	}
}

func TestMomentErrors(t *testing.T) {
	tests := []struct{ in, reason, understood string }{
		{"vrijdag 25:00", "clock", "vrijdag"},
		{"morgen 10:75", "clock", "morgen"},
		{"13pm", "clock", ""},
		{"twee uur", "hours", ""},
		{"een uur", "hours", ""},
		{"31 februari", "date", ""},
		{"vrijdag 3 december", "weekday", ""},
		{"3/12", "slash", ""},
		{"morgen overmorgen", "twice", "morgen"},
		{"10:00 11:00", "twice", "10:00"},
		{"volgende week", "which_weekday", ""},
		{"gisteren", "", ""},
		{"morgen om", "incomplete", "morgen om"},
		{"morgen 10:00 of zo", "", "morgen 10:00"},
		{"", "", ""},
		{"-5m", "", ""},
		{"0m", "zero", ""},
		{"99999999d", "", ""},
		{"9000000 weken", "too_long", ""},
	}
	for _, tt := range tests {
		_, err := Moment(tt.in, now, ams)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Moment(%q) = %v; want an *Error", tt.in, err)
			continue
		}
		if e.Reason != tt.reason || e.Understood != tt.understood || e.Input != strings.TrimSpace(tt.in) || e.Kind != "moment" {
			t.Errorf("Moment(%q): %#v; want reason %q, understood %q", tt.in, e, tt.reason, tt.understood)
		}
	}
}

func TestSpan(t *testing.T) {
	tests := map[string]time.Duration{
		"2u": 2 * time.Hour, "17u": 17 * time.Hour, "90m": 90 * time.Minute, "1d": 24 * time.Hour,
		"1 minuut": time.Minute, "een half uur": 30 * time.Minute, "over 1 minuut": time.Minute,
		"2 hours": 2 * time.Hour, "1w": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute, "1u30": 90 * time.Minute,
		"anderhalf uur": 90 * time.Minute, "kwartier": 15 * time.Minute, "drie kwartier": 45 * time.Minute,
		"1,5 uur": 90 * time.Minute, "1.5 hours": 90 * time.Minute, "half an hour": 30 * time.Minute,
		"an hour": time.Hour, "twee dagen": 48 * time.Hour, "1 uur en 20 minuten": 80 * time.Minute,
		"30s": 30 * time.Second, "in 2 hours": 2 * time.Hour, "2 DAGEN": 48 * time.Hour,
	}
	for in, want := range tests {
		if got, err := Span(in); err != nil || got != want {
			t.Errorf("Span(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, reason := range map[string]string{
		"": "", "soon": "", "d": "", "2x": "", "0m": "zero", "1 maand": "month_span", "2 uur 3": "",
		"11 jaar": "", "100000 weken": "too_long", "-2u": "", "2u morgen": "",
	} {
		_, err := Span(in)
		var e *Error
		if !errors.As(err, &e) || e.Reason != reason || e.Kind != "span" {
			t.Errorf("Span(%q) error = %#v; want reason %q", in, err, reason)
		}
	}
}

func TestExplain(t *testing.T) {
	_, err := Moment("vrijdag 25:00", now, ams)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	nl, en := e.Explain(bot.T("nl")), e.Explain(bot.T("en"))
	for _, want := range []string{"`vrijdag 25:00`", "uren gaan van 0 tot en met 23", "Wel begrepen: `vrijdag`", "`morgen 10:00`"} {
		if !strings.Contains(nl, want) {
			t.Errorf("Dutch explanation lacks %q:\n%s", want, nl)
		}
	}
	for _, want := range []string{"`vrijdag 25:00`", "hours run from 0 to 23", "Understood so far: `vrijdag`", "`tomorrow 10:00`"} {
		if !strings.Contains(en, want) {
			t.Errorf("English explanation lacks %q:\n%s", want, en)
		}
	}
	_, err = Span("soon")
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if got := e.Explain(bot.T("nl")); !strings.Contains(got, "Het woord `soon` ken ik hier niet.") || strings.Contains(got, "Wel begrepen") {
		t.Errorf("explanation of an unknown word: %s", got)
	}
}

// Every message of this package exists in both languages, and each
// reason an Error can carry has a text.
func TestMessagesInEveryLocale(t *testing.T) {
	ids := map[string]map[string]bool{}
	for _, l := range bot.Locales {
		ids[l] = map[string]bool{}
		for _, id := range bot.MessageIDs(l) {
			if strings.HasPrefix(id, "when.") {
				ids[l][id] = true
			}
		}
	}
	for _, a := range bot.Locales {
		for _, b := range bot.Locales {
			for id := range ids[a] {
				if !ids[b][id] {
					t.Errorf("%s is in %s but not in %s", id, a, b)
				}
			}
		}
	}
	for _, r := range []string{"clock", "date", "weekday", "hours", "which_day", "count_until", "until_before", "never", "too_long", "zero", "month_span", "slash", "twice", "count", "which_weekday", "incomplete"} {
		if !ids["nl"]["when.why."+r] {
			t.Errorf("reason %s has no text", r)
		}
	}
}
