package when

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

func TestSchedule(t *testing.T) {
	tests := []struct {
		in      string
		start   time.Time
		rule    string
		dayOnly bool
		next    []time.Time // the occurrences after the first, as many as listed
	}{
		// The examples; now is Monday 30 November 2026 09:00.
		{"elke derde donderdag 10:00", at(2026, 12, 17, 10, 0), "FREQ=MONTHLY;BYDAY=+3TH", false,
			[]time.Time{at(2027, 1, 21, 10, 0), at(2027, 2, 18, 10, 0), at(2027, 3, 18, 10, 0), at(2027, 4, 15, 10, 0)}},
		{"elke maand op de laatste vrijdag", at(2026, 12, 25, 0, 0), "FREQ=MONTHLY;BYDAY=-1FR", true,
			[]time.Time{at(2027, 1, 29, 0, 0), at(2027, 2, 26, 0, 0)}},
		{"elke 2 weken op dinsdag 09:30", at(2026, 12, 1, 9, 30), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", false,
			[]time.Time{at(2026, 12, 15, 9, 30), at(2026, 12, 29, 9, 30)}},
		{"elke werkdag 9:00", at(2026, 11, 30, 9, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", false, // 09:00 today is now: it counts
			[]time.Time{at(2026, 12, 1, 9, 0), at(2026, 12, 2, 9, 0), at(2026, 12, 3, 9, 0), at(2026, 12, 4, 9, 0), at(2026, 12, 7, 9, 0)}},
		{"elke maandag en woensdag 8:45", at(2026, 12, 2, 8, 45), "FREQ=WEEKLY;BYDAY=MO,WE", false,
			[]time.Time{at(2026, 12, 7, 8, 45), at(2026, 12, 9, 8, 45)}},
		{"every first monday 13:00", at(2026, 12, 7, 13, 0), "FREQ=MONTHLY;BYDAY=+1MO", false,
			[]time.Time{at(2027, 1, 4, 13, 0), at(2027, 2, 1, 13, 0)}},
		{"every other week on tuesday", at(2026, 12, 1, 0, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", true,
			[]time.Time{at(2026, 12, 15, 0, 0)}},
		{"elke derde donderdag 10:00 tot 1 juli", at(2026, 12, 17, 10, 0), "FREQ=MONTHLY;BYDAY=+3TH;UNTIL=20270701T215959Z", false,
			[]time.Time{at(2027, 1, 21, 10, 0), at(2027, 2, 18, 10, 0), at(2027, 3, 18, 10, 0), at(2027, 4, 15, 10, 0), at(2027, 5, 20, 10, 0), at(2027, 6, 17, 10, 0)}},
		{"every first monday 13:00 until July 1", at(2026, 12, 7, 13, 0), "FREQ=MONTHLY;BYDAY=+1MO;UNTIL=20270701T215959Z", false,
			[]time.Time{at(2027, 1, 4, 13, 0), at(2027, 2, 1, 13, 0), at(2027, 3, 1, 13, 0), at(2027, 4, 5, 13, 0), at(2027, 5, 3, 13, 0), at(2027, 6, 7, 13, 0)}},
		{"elke maandag 10:00 5 keer", at(2026, 11, 30, 10, 0), "FREQ=WEEKLY;BYDAY=MO;COUNT=5", false,
			[]time.Time{at(2026, 12, 7, 10, 0), at(2026, 12, 14, 10, 0), at(2026, 12, 21, 10, 0), at(2026, 12, 28, 10, 0)}},
		{"every tuesday 9am 3 times", at(2026, 12, 1, 9, 0), "FREQ=WEEKLY;BYDAY=TU;COUNT=3", false,
			[]time.Time{at(2026, 12, 8, 9, 0), at(2026, 12, 15, 9, 0)}},
		// More forms.
		{"elke eerste en derde donderdag om 10 uur", at(2026, 12, 3, 10, 0), "FREQ=MONTHLY;BYDAY=+1TH,+3TH", false,
			[]time.Time{at(2026, 12, 17, 10, 0), at(2027, 1, 7, 10, 0)}},
		{"om de week op vrijdag 16:00", at(2026, 12, 4, 16, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", false,
			[]time.Time{at(2026, 12, 18, 16, 0)}},
		{"tweewekelijks op woensdag 14u", at(2026, 12, 2, 14, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", false, nil},
		{"elke dag 7:00", at(2026, 12, 1, 7, 0), "FREQ=DAILY", false, []time.Time{at(2026, 12, 2, 7, 0)}},
		{"dagelijks om 17u", at(2026, 11, 30, 17, 0), "FREQ=DAILY", false, nil},
		{"elke maand op de 15e om 9:00", at(2026, 12, 15, 9, 0), "FREQ=MONTHLY;BYMONTHDAY=15", false, []time.Time{at(2027, 1, 15, 9, 0)}},
		{"every month on the 15th", at(2026, 12, 15, 0, 0), "FREQ=MONTHLY;BYMONTHDAY=15", true, nil},
		{"elke laatste dag van de maand 17:00", at(2026, 11, 30, 17, 0), "FREQ=MONTHLY;BYMONTHDAY=-1", false, []time.Time{at(2026, 12, 31, 17, 0)}},
		{"elk jaar op 3 december 12:00", at(2026, 12, 3, 12, 0), "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=3", false, []time.Time{at(2027, 12, 3, 12, 0)}},
		{"every year on the 3rd of december", at(2026, 12, 3, 0, 0), "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=3", true, nil},
		{"jaarlijks op de 3 december om 12 uur", at(2026, 12, 3, 12, 0), "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=3", false, nil},
		{"elke 3 maanden op de eerste maandag 10:00", at(2026, 12, 7, 10, 0), "FREQ=MONTHLY;INTERVAL=3;BYDAY=+1MO", false, []time.Time{at(2027, 3, 1, 10, 0)}},
		{"elke week vanaf vrijdag 4 december 10:00", at(2026, 12, 4, 10, 0), "FREQ=WEEKLY", false, []time.Time{at(2026, 12, 11, 10, 0)}},
		{"elke donderdag 10:00 tot en met 10 december", at(2026, 12, 3, 10, 0), "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261210T225959Z", false, []time.Time{at(2026, 12, 10, 10, 0)}},
		{"elke dinsdagen en donderdagen, 9:30", at(2026, 12, 1, 9, 30), "FREQ=WEEKLY;BYDAY=TU,TH", false, []time.Time{at(2026, 12, 3, 9, 30)}},
		// A single moment.
		{"morgen 10:00", at(2026, 12, 1, 10, 0), "", false, nil},
		{"3 dec", at(2026, 12, 3, 0, 0), "", true, nil},
	}
	for _, tt := range tests {
		p, err := Schedule(tt.in, now, ams)
		if err != nil {
			t.Errorf("Schedule(%q): %v", tt.in, err)
			continue
		}
		if !p.Start.Equal(tt.start) || p.RRule != tt.rule || p.DayOnly != tt.dayOnly || p.Moved || p.Start.Location() != ams {
			t.Errorf("Schedule(%q) = %v %q (day only %v, moved %v); want %v %q (day only %v)", tt.in, p.Start, p.RRule, p.DayOnly, p.Moved, tt.start, tt.rule, tt.dayOnly)
			continue
		}
		want := append([]time.Time{tt.start}, tt.next...)
		got := p.Occurrences(now, now.AddDate(2, 0, 0), len(want))
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("Schedule(%q) occurs at %v; want %v", tt.in, got, want)
		}
		// A plan is stored as its fields and read back.
		stored := Plan{Start: p.Start, RRule: p.RRule, DayOnly: p.DayOnly}
		if again := stored.Occurrences(now, now.AddDate(2, 0, 0), len(want)); !slices.EqualFunc(again, want, time.Time.Equal) {
			t.Errorf("Schedule(%q) rebuilt from its fields occurs at %v", tt.in, again)
		}
	}
}

func TestScheduleEnds(t *testing.T) {
	p, err := Schedule("elke derde donderdag 10:00 tot 1 juli", now, ams)
	if err != nil {
		t.Fatal(err)
	}
	all := p.Occurrences(now, now.AddDate(5, 0, 0), 0)
	if len(all) != 7 || !all[6].Equal(at(2027, 6, 17, 10, 0)) {
		t.Errorf("until 1 July: %v", all)
	}
	if next, ok := p.Next(at(2027, 6, 17, 10, 1)); ok {
		t.Errorf("Next after the last = %v", next)
	}
	if next, ok := p.Next(at(2027, 2, 1, 0, 0)); !ok || !next.Equal(at(2027, 2, 18, 10, 0)) {
		t.Errorf("Next(1 Feb) = %v, %v", next, ok)
	}
	if next, ok := p.Next(p.Start); !ok || !next.Equal(p.Start) {
		t.Errorf("Next(Start) = %v, %v; want Start itself", next, ok)
	}
	five, err := Schedule("every weekday 9am 5 times", now, ams)
	if err != nil {
		t.Fatal(err)
	}
	if got := five.Occurrences(now, now.AddDate(1, 0, 0), 0); len(got) != 5 || !got[4].Equal(at(2026, 12, 4, 9, 0)) {
		t.Errorf("5 times: %v", got)
	}
	single := Plan{Start: at(2026, 12, 1, 10, 0)}
	if got := single.Occurrences(now, at(2026, 12, 1, 10, 0), 0); len(got) != 0 {
		t.Errorf("a single moment at the end of the range is outside it: %v", got)
	}
	if got, ok := single.Next(now); !ok || !got.Equal(single.Start) {
		t.Errorf("single Next = %v, %v", got, ok)
	}
	if _, ok := single.Next(single.Start.Add(time.Second)); ok {
		t.Error("a single moment has no next after it")
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"elke week", "which_day"},
		{"elke maand", "which_day"},
		{"elke", "which_day"},
		{"elke derde", "which_day"},
		{"elk jaar op de 15e", "which_day"},
		{"elke week op de derde donderdag", "which_day"},
		{"elke maandag 10:00 5 keer tot 1 juli", "count_until"},
		{"elke maandag 10:00 tot 1-11-2026", "until_before"},
		{"elke maandag 10:00 11:00", "twice"},
		{"elke maandag 25:00", "clock"},
		{"elke maandag 24:00", "clock"},
		{"elke maand op de 32e", "date"},
		{"elke maandag 10:00 0 keer", "count"},
		{"elke maandag om", "incomplete"},
		{"elke blauwe maandag", ""},
		{"vrijdag 25:00", "clock"},
		{"elke dag tot 31 februari", "date"},
	}
	for _, tt := range tests {
		_, err := Schedule(tt.in, now, ams)
		var e *Error
		if !errors.As(err, &e) || e.Reason != tt.reason || e.Kind != "schedule" {
			t.Errorf("Schedule(%q) error = %#v; want reason %q", tt.in, err, tt.reason)
		}
	}
}

// Every RRULE kring writes reads back with rrule-go.
func TestRRuleParsesBack(t *testing.T) {
	for _, in := range []string{"elke derde donderdag 10:00 tot 1 juli", "every other week on tuesday 5 times", "elke laatste dag van de maand", "elk jaar op 29 februari 12:00"} {
		p, err := Schedule(in, now, ams)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if _, err := rrule.StrToRRule(p.RRule); err != nil {
			t.Errorf("%s: %q does not parse: %v", in, p.RRule, err)
		}
	}
}
