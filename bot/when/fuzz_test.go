package when

import (
	"errors"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

var seeds = []string{
	"morgen 10:00", "overmorgen", "vrijdag 17u", "volgende week dinsdag 9:30", "over 2 uur", "3 december 14:30",
	"3 dec", "2026-12-03 14:30", "3-12-2026", "tomorrow 10am", "friday 5pm", "in 3 days", "next monday 13:00",
	"2u", "30m", "3d", "17:00", "2026-12-01 17:00", "over 1 minuut", "een half uur", "vrijdag 25:00",
	"elke derde donderdag 10:00", "elke maand op de laatste vrijdag", "elke 2 weken op dinsdag 09:30",
	"elke werkdag 9:00", "elke maandag en woensdag 8:45", "every first monday 13:00", "every other week on tuesday",
	"elke derde donderdag 10:00 tot 1 juli", "every weekday 9am 5 times", "elk jaar op 29 februari",
	"half 3 's middags", "kwart voor 12", "1u30", "anderhalve dag", "28 maart 2027 02:30", "9999-12-31 23:59",
	"elke 999 jaar op 31 december", "31-12-9999", "over 9999999 weken",
}

func FuzzMoment(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Moment(s, now, ams)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != "moment" {
				t.Fatalf("Moment(%q): %v is no *Error", s, err)
			}
			return
		}
		if r.At.Location() != ams {
			t.Fatalf("Moment(%q) = %v, not in Amsterdam", s, r.At)
		}
		if r.Moved != (r.Asked != "") {
			t.Fatalf("Moment(%q): moved %v, asked %q", s, r.Moved, r.Asked)
		}
	})
}

func FuzzSpan(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Span(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != "span" {
				t.Fatalf("Span(%q): %v is no *Error", s, err)
			}
			return
		}
		if d <= 0 || d > maxSpan {
			t.Fatalf("Span(%q) = %v", s, d)
		}
	})
}

func FuzzSchedule(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Schedule(s, now, ams)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != "schedule" {
				t.Fatalf("Schedule(%q): %v is no *Error", s, err)
			}
			return
		}
		if p.RRule != "" {
			if _, err := rrule.StrToRRule(p.RRule); err != nil {
				t.Fatalf("Schedule(%q): RRULE %q does not parse: %v", s, p.RRule, err)
			}
			// A plan without a time of day may start today, at 00:00.
			if p.DayOnly && dateOf(p.Start).before(dateOf(now)) || !p.DayOnly && p.Start.Before(now) {
				t.Fatalf("Schedule(%q) starts at %v, before now", s, p.Start)
			}
		}
		from, to := p.Start.AddDate(0, 0, -3), p.Start.AddDate(2, 0, 0)
		got := p.Occurrences(from, to, 50)
		if len(got) == 0 || len(got) > 50 || !got[0].Equal(p.Start) {
			t.Fatalf("Schedule(%q) = %+v: occurrences %v do not begin at Start", s, p, got)
		}
		for i, o := range got {
			if o.Before(from) || !o.Before(to) || o.Location() != ams {
				t.Fatalf("Schedule(%q): occurrence %v outside [%v, %v)", s, o, from, to)
			}
			if i > 0 && !o.After(got[i-1]) {
				t.Fatalf("Schedule(%q): occurrences out of order: %v", s, got)
			}
			if next, ok := p.Next(o); !ok || !next.Equal(o) {
				t.Fatalf("Schedule(%q): Next(%v) = %v, %v", s, o, next, ok)
			}
		}
	})
}

func TestMomentIgnoresTheZoneOfNow(t *testing.T) {
	r, err := Moment("morgen 10:00", now.UTC(), ams)
	if err != nil || !r.At.Equal(at(2026, 12, 1, 10, 0)) {
		t.Errorf("now given in UTC: %v, %v", r.At, err)
	}
	if r, err := Moment("morgen 10:00", now, nil); err != nil || r.At.Location() != time.UTC {
		t.Errorf("no location: %v, %v", r.At, err)
	}
}
