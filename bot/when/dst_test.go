package when

import (
	"slices"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

// The clocks go forward on 28 March 2027 in Amsterdam (02:00 → 03:00) and
// on 14 March 2027 in New York (02:00 → 03:00); back on 31 October 2027
// (03:00 → 02:00) and 7 November 2027 (02:00 → 01:00).
var newYork = mustLoad("America/New_York")

func TestWallTimeAcrossDST(t *testing.T) {
	for _, loc := range []*time.Location{ams, newYork} {
		start := time.Date(2026, 11, 30, 9, 0, 0, 0, loc)
		p, err := Schedule("elke maandag 10:00", start, loc)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Occurrences(start, start.AddDate(1, 0, 0), 0)
		if len(got) != 53 { // 30 November 2026 to and with 29 November 2027
			t.Fatalf("%s: %d Mondays in a year", loc, len(got))
		}
		offsets := map[int]bool{}
		for i, o := range got {
			if o.Location() != loc || o.Hour() != 10 || o.Minute() != 0 || o.Weekday() != time.Monday {
				t.Errorf("%s: occurrence %d at %v", loc, i, o)
			}
			if i > 0 && !o.After(got[i-1]) {
				t.Errorf("%s: %v not after %v", loc, o, got[i-1])
			}
			_, off := o.Zone()
			offsets[off] = true
		}
		if len(offsets) != 2 {
			t.Errorf("%s: a year of Mondays in %d offsets", loc, len(offsets))
		}
	}
	// The same plan in each zone changes its distance to UTC on its own
	// zone's dates.
	amsMon, _ := Schedule("elke maandag 10:00", time.Date(2027, 3, 1, 0, 0, 0, 0, ams), ams)
	nyMon, _ := Schedule("elke maandag 10:00", time.Date(2027, 3, 1, 0, 0, 0, 0, newYork), newYork)
	utcHours := func(p Plan) []int {
		var h []int
		for _, o := range p.Occurrences(p.Start, p.Start.AddDate(0, 0, 35), 0) {
			h = append(h, o.UTC().Hour())
		}
		return h
	}
	// Mondays 1, 8, 15, 22, 29 March.
	if got := utcHours(amsMon); !slices.Equal(got, []int{9, 9, 9, 9, 8}) {
		t.Errorf("Amsterdam 10:00 in UTC: %v", got)
	}
	if got := utcHours(nyMon); !slices.Equal(got, []int{15, 15, 14, 14, 14}) {
		t.Errorf("New York 10:00 in UTC: %v", got)
	}
}

func TestGapIsMovedForward(t *testing.T) {
	tests := []struct {
		loc       *time.Location
		in        string
		want      time.Time
		wantAsked string
	}{
		{ams, "28 maart 2027 02:30", time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC), "02:30"}, // 03:30 CEST
		{ams, "28-3-2027 2u", time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC), "02:00"},         // 03:00 CEST
		{newYork, "March 14 2027 2:30am", time.Date(2027, 3, 14, 7, 30, 0, 0, time.UTC), "02:30"},
	}
	for _, tt := range tests {
		r, err := Moment(tt.in, now, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		if !r.At.Equal(tt.want) || !r.Moved || r.Asked != tt.wantAsked || r.At.Hour() != 3 {
			t.Errorf("Moment(%q) in %s = %v moved %v asked %q; want %v moved, asked %q", tt.in, tt.loc, r.At, r.Moved, r.Asked, tt.want, tt.wantAsked)
		}
	}
	// A time that happens twice is the first of the two.
	r, err := Moment("31 oktober 2027 02:30", now, ams)
	if err != nil || r.Moved || !r.At.Equal(time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("02:30 on the day the clocks go back = %v, %v; want 00:30 UTC (CEST)", r.At, err)
	}
	r, err = Moment("November 7 2027 1:30am", now, newYork)
	if err != nil || r.Moved || !r.At.Equal(time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("01:30 on the day New York's clocks go back = %v, %v; want 05:30 UTC (EDT)", r.At, err)
	}
	// "over 1 dag" keeps the wall time; "over 24 uur" is 24 hours.
	sat := time.Date(2027, 3, 27, 2, 30, 0, 0, ams)
	if r, _ := Moment("over 1 dag", sat, ams); !r.Moved || r.Asked != "02:30" || !r.At.Equal(time.Date(2027, 3, 28, 3, 30, 0, 0, ams)) {
		t.Errorf("a day after Saturday 02:30 = %+v", r)
	}
	if r, _ := Moment("over 24 uur", sat, ams); r.Moved || !r.At.Equal(sat.Add(24*time.Hour)) {
		t.Errorf("24 hours after Saturday 02:30 = %+v", r)
	}
}

func TestScheduleInTheGap(t *testing.T) {
	for _, tt := range []struct {
		loc  *time.Location
		in   string
		from time.Time
		gap  time.Time // the occurrence on the day the clocks go forward
	}{
		{ams, "elke zondag 02:30", time.Date(2027, 3, 14, 0, 0, 0, 0, ams), time.Date(2027, 3, 28, 3, 30, 0, 0, ams)},
		{newYork, "every sunday 2:30am", time.Date(2027, 3, 1, 0, 0, 0, 0, newYork), time.Date(2027, 3, 14, 3, 30, 0, 0, newYork)},
	} {
		p, err := Schedule(tt.in, tt.from, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Occurrences(tt.from, tt.from.AddDate(0, 0, 28), 0)
		if len(got) != 4 {
			t.Fatalf("%s: %v", tt.in, got)
		}
		for _, o := range got {
			want := "02:30"
			if o.Equal(tt.gap) {
				want = "03:30"
			}
			if o.Format("15:04") != want {
				t.Errorf("%s: %v; want at %s", tt.in, o, want)
			}
		}
		if !slices.ContainsFunc(got, tt.gap.Equal) {
			t.Errorf("%s: %v lacks %v", tt.in, got, tt.gap)
		}
	}
	// A plan whose first occurrence falls in the gap says so, and the
	// rest stay at the time asked for.
	p, err := Schedule("elke zondag 02:30", time.Date(2027, 3, 27, 12, 0, 0, 0, ams), ams)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Moved || p.Asked != "02:30" || p.Start.Format("2006-01-02 15:04") != "2027-03-28 03:30" {
		t.Fatalf("plan starting in the gap: %+v", p)
	}
	stored := Plan{Start: p.Start, RRule: p.RRule, Moved: p.Moved, Asked: p.Asked}
	got := stored.Occurrences(p.Start, p.Start.AddDate(0, 0, 8), 0)
	if len(got) != 2 || got[1].Format("2006-01-02 15:04") != "2027-04-04 02:30" {
		t.Errorf("after a moved start: %v", got)
	}
}

// The meeting of the issue: every third Thursday at 10:00 for 14 months
// stays at 10:00 in Amsterdam while its UTC hour follows the clocks.
func TestThirdThursdayFourteenMonths(t *testing.T) {
	p, err := Schedule("elke derde donderdag 10:00", now, ams)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Occurrences(now, now.AddDate(0, 14, 0), 0)
	want := []string{
		"2026-12-17 09:00", "2027-01-21 09:00", "2027-02-18 09:00", "2027-03-18 09:00",
		"2027-04-15 08:00", "2027-05-20 08:00", "2027-06-17 08:00", "2027-07-15 08:00",
		"2027-08-19 08:00", "2027-09-16 08:00", "2027-10-21 08:00", "2027-11-18 09:00",
		"2027-12-16 09:00", "2028-01-20 09:00",
	}
	var utc []string
	for _, o := range got {
		utc = append(utc, o.UTC().Format("2006-01-02 15:04"))
		if o.Hour() != 10 || o.Weekday() != time.Thursday || o.Day() < 15 || o.Day() > 21 {
			t.Errorf("occurrence %v", o)
		}
	}
	if !slices.Equal(utc, want) {
		t.Errorf("in UTC: %v\nwant %v", utc, want)
	}
}

// An iCalendar reader expands DTSTART;TZID=… with the RRULE in the zone
// itself; away from the hour the clocks skip it finds the same moments as
// Occurrences.
func TestOccurrencesMatchRRuleInZone(t *testing.T) {
	for _, loc := range []*time.Location{ams, newYork} {
		from := time.Date(2026, 11, 30, 9, 0, 0, 0, loc)
		for _, in := range []string{
			"elke derde donderdag 10:00", "elke 2 weken op dinsdag 09:30", "elke werkdag 9:00 tot 1 juli",
			"every first monday 13:00 20 times", "elke laatste dag van de maand 17:00",
		} {
			p, err := Schedule(in, from, loc)
			if err != nil {
				t.Fatal(err)
			}
			r, err := rrule.StrToRRule(p.RRule)
			if err != nil {
				t.Fatal(err)
			}
			r.DTStart(p.Start)
			to := from.AddDate(0, 14, 0)
			want := r.Between(from, to, true)
			got := p.Occurrences(from, to, 0)
			if len(want) == 0 || !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("%s in %s: %d occurrences, rrule-go finds %d\n%v\n%v", in, loc, len(got), len(want), got, want)
			}
		}
	}
}
