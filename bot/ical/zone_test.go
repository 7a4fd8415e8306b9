package ical

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// onset is one change of offset a VTIMEZONE describes.
type onset struct {
	at     time.Time
	offset int
}

// readZone reads a VTIMEZONE as an app without tz data of its own must:
// each STANDARD/DAYLIGHT's DTSTART (local time in TZOFFSETFROM) and its
// RRULE give the instants at which TZOFFSETTO begins.
func readZone(t testing.TB, z *ics.VTimezone, until time.Time) []onset {
	t.Helper()
	var ons []onset
	for _, sub := range z.SubComponents() {
		start := prop(sub, "DTSTART")
		from, to := prop(sub, "TZOFFSETFROM"), prop(sub, "TZOFFSETTO")
		if start == nil || from == nil || to == nil {
			t.Fatalf("observance without DTSTART, TZOFFSETFROM or TZOFFSETTO")
		}
		// Local times are read as if UTC, then moved by the offset before.
		wall, err := time.Parse("20060102T150405", start.Value)
		if err != nil {
			t.Fatalf("observance DTSTART %q: %v", start.Value, err)
		}
		walls := []time.Time{wall}
		if r := prop(sub, "RRULE"); r != nil {
			opt, err := rrule.StrToROptionInLocation(r.Value, time.UTC)
			if err != nil {
				t.Fatalf("observance RRULE %q: %v", r.Value, err)
			}
			opt.Dtstart = wall
			rule, err := rrule.NewRRule(*opt)
			if err != nil {
				t.Fatal(err)
			}
			walls = rule.Between(wall, until, true)
			if len(walls) == 0 || !walls[0].Equal(wall) {
				t.Fatalf("observance DTSTART %s is not its RRULE's first onset", start.Value)
			}
		}
		fromOff, toOff := parseOffset(t, from.Value), parseOffset(t, to.Value)
		for _, w := range walls {
			ons = append(ons, onset{w.Add(-time.Duration(fromOff) * time.Second), toOff})
		}
	}
	slices.SortFunc(ons, func(a, b onset) int { return a.at.Compare(b.at) })
	return ons
}

func parseOffset(t testing.TB, s string) int {
	t.Helper()
	if len(s) != 5 && len(s) != 7 || (s[0] != '+' && s[0] != '-') {
		t.Fatalf("bad utc-offset %q", s)
	}
	n := func(i int) int {
		v, err := strconv.Atoi(s[i : i+2])
		if err != nil {
			t.Fatalf("bad utc-offset %q", s)
		}
		return v
	}
	sec := n(1)*3600 + n(3)*60
	if len(s) == 7 {
		sec += n(5)
	}
	if s[0] == '-' {
		sec = -sec
	}
	return sec
}

// offsetAt is the offset the onsets give at instant at.
func offsetAt(t testing.TB, ons []onset, at time.Time) int {
	t.Helper()
	i, _ := slices.BinarySearchFunc(ons, at, func(o onset, at time.Time) int {
		if o.at.After(at) {
			return 1
		}
		return -1
	})
	if i == 0 {
		t.Fatalf("%s is before the VTIMEZONE's first onset %s", at, ons[0].at)
	}
	return ons[i-1].offset
}

// The VTIMEZONE written for a zone gives Go's own offset at every hour
// and on both sides of every change, over the whole span the calendar uses
// (for a series ten years on). Zones with a yearly rule north and south,
// without daylight time, with half-hour and 45-minute offsets, one that
// gave up daylight time, and ones whose changes follow no yearly rule.
func TestZoneAgreesWithTzData(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		rrule bool // written with yearly RRULEs
	}{
		{"Europe/Amsterdam", true},
		{"America/New_York", true},
		{"Australia/Sydney", true},
		{"America/St_Johns", true},
		{"Pacific/Chatham", true},
		{"Australia/Lord_Howe", true},
		{"Europe/Dublin", true},
		{"Asia/Tokyo", false},
		{"Asia/Kolkata", false},
		{"America/Sao_Paulo", false},
		{"Africa/Casablanca", false},
		{"Asia/Gaza", false},
		{"Etc/GMT-3", false},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			e := monthly(t)
			e.Start = time.Date(2027, 1, 21, 10, 0, 0, 0, loc)
			e.ExDates = []time.Time{time.Date(2027, 4, 15, 10, 0, 0, 0, loc)}
			e.Overrides = nil
			out, cal := write(t, Calendar{Events: []Event{e}})
			zones := cal.Timezones()
			if len(zones) != 1 {
				t.Fatalf("%d VTIMEZONEs", len(zones))
			}
			if p := prop(zones[0], "TZID"); p == nil || p.Value != tc.zone {
				t.Fatalf("TZID %v, want the IANA name %s", p, tc.zone)
			}
			if got := strings.Contains(string(out), "RRULE:FREQ=YEARLY"); got != tc.rrule {
				t.Errorf("VTIMEZONE with yearly RRULEs: %v, want %v\n%s", got, tc.rrule, out)
			}
			from := e.Start
			until := time.Date(2037, 1, 1, 0, 0, 0, 0, loc)
			ons := readZone(t, zones[0], until.AddDate(1, 0, 0))
			check := func(at time.Time) {
				_, want := at.In(loc).Zone()
				if got := offsetAt(t, ons, at); got != want {
					t.Fatalf("at %s the VTIMEZONE gives %s, Go's tz data %s\n%s", at.UTC(), fmtOff(got), fmtOff(want), out)
				}
			}
			// Every hour; every minute of an hour in which Go's offset
			// changes; both sides of every onset the VTIMEZONE names.
			for at := from; at.Before(until); at = at.Add(time.Hour) {
				check(at)
				if _, a := at.In(loc).Zone(); func() int { _, b := at.Add(time.Hour).In(loc).Zone(); return b }() != a {
					for m := at; m.Before(at.Add(time.Hour)); m = m.Add(time.Minute) {
						check(m)
					}
				}
			}
			for _, o := range ons {
				if o.at.After(from) && o.at.Before(until) {
					check(o.at.Add(-time.Second))
					check(o.at)
				}
			}
		})
	}
}

func fmtOff(sec int) string { return fmt.Sprintf("%+d:%02d", sec/3600, (sec/60%60+60)%60) }

// For a one-off the VTIMEZONE covers its own year; the observance in
// effect at its start begins at the real change before it, not at a year
// boundary Go's tz data marks without a change.
func TestZoneOnsetIsARealChange(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	for _, start := range []time.Time{
		time.Date(2027, 2, 1, 12, 0, 0, 0, ams),  // winter: CET since 25 Oct 2026
		time.Date(2040, 2, 1, 12, 0, 0, 0, ams),  // beyond Go's table, from the rule string
		time.Date(2027, 6, 1, 12, 0, 0, 0, ams),  // summer
		time.Date(2027, 12, 1, 12, 0, 0, 0, ams), // winter again, after the year's changes
	} {
		z := zoneObservances(&zoneUse{name: ams.String(), loc: ams, first: start, last: start})
		o := z[0]
		if o.onset.After(start) {
			t.Fatalf("%s: first observance begins %s, after it", start, o.onset)
		}
		if o.from == o.to {
			t.Errorf("%s: first observance begins at %s where nothing changes", start, o.onset.In(ams))
		}
	}
}
