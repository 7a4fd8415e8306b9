package ical

import (
	"fmt"
	"time"
)

// A VTIMEZONE is written from Go's tz data, in two parts:
//
//   - the observance in effect at the zone's earliest written time, with its
//     real onset, so every time in the feed falls after some onset;
//   - from that year on, when the zone's changes follow one yearly rule for
//     every year the feed spans and ten years beyond (Europe/Amsterdam: last
//     Sunday of March and of October), one DAYLIGHT and one STANDARD with an
//     RRULE, as Outlook writes them. An RRULE keeps an open-ended series
//     right in every later year, where a list of changes ends somewhere,
//     and it is the form Outlook's own (Windows) zones have. Where the zone
//     follows no such rule (a change of rules in the span, a zone whose
//     dates move with the moon), every change is written out with its own
//     onset: exact, through the span's last year, and for a series ten
//     years further, after which the last observance holds.
//
// The rule is only written when Go's tz data gives the same dates, so both
// forms say exactly what the tz data says over the checked years. Apps that
// know the IANA name in TZID may use their own tz data instead.

// zoneUse is one zone of a calendar and the span of times written in it.
type zoneUse struct {
	name        string
	loc         *time.Location
	first, last time.Time
	series      bool // a series starts in it, so its span is open-ended
}

// observance is one STANDARD or DAYLIGHT sub-component.
type observance struct {
	onset    time.Time // the instant the offset changes; zero: always
	from, to int       // UTC offsets in seconds before and after
	name     string    // the abbreviation after, e.g. "CEST"
	dst      bool
	rrule    string
}

// ruleYears is how far beyond the span a yearly rule must hold to be written
// as an RRULE, and how far an explicit list runs for a series.
const ruleYears = 10

func writeZone(lw *lineWriter, z *zoneUse) {
	lw.line("BEGIN:VTIMEZONE")
	lw.line("TZID:" + z.name)
	for _, o := range zoneObservances(z) {
		kind := "STANDARD"
		if o.dst {
			kind = "DAYLIGHT"
		}
		lw.line("BEGIN:" + kind)
		lw.line("DTSTART:" + onsetLocal(o))
		lw.line("TZOFFSETFROM:" + formatOffset(o.from))
		lw.line("TZOFFSETTO:" + formatOffset(o.to))
		if o.rrule != "" {
			lw.line("RRULE:" + o.rrule)
		}
		if o.name != "" {
			lw.line("TZNAME:" + escapeText(o.name))
		}
		lw.line("END:" + kind)
	}
	lw.line("END:VTIMEZONE")
}

// zoneObservances returns the sub-components for z, by onset.
func zoneObservances(z *zoneUse) []observance {
	loc := z.loc
	first := z.first.In(loc)
	obs := []observance{inEffect(first)}
	ruleYear := first.Year()
	lastYear := max(z.last.In(loc).Year(), ruleYear)
	if rule := yearlyRule(loc, ruleYear, lastYear+ruleYears); rule != nil {
		// The observance in effect may itself be the rule's first change.
		if !obs[0].onset.IsZero() && !obs[0].onset.Before(yearStart(loc, ruleYear)) {
			obs = obs[:0]
		}
		return append(obs, rule...)
	}
	end := yearStart(loc, lastYear+1)
	if z.series {
		end = yearStart(loc, lastYear+1+ruleYears)
	}
	return append(obs, changes(loc, first, end)...)
}

// inEffect is the observance in effect at t, with the onset of its offset.
func inEffect(t time.Time) observance {
	name, off := t.Zone()
	o := observance{from: off, to: off, name: name, dst: t.IsDST()}
	for {
		start, _ := t.ZoneBounds()
		if start.IsZero() {
			return o
		}
		if !start.Before(t) {
			// Go's zone bounds may not move away from t (see nextChange);
			// a change within the day before t is found by bisection.
			start = t.Add(-24 * time.Hour)
			if sameZone(start, t) {
				t = start
				continue
			}
			start = bisect(start, t)
		}
		before := start.Add(-time.Second)
		if !sameZone(before, t) {
			o.onset = start
			_, o.from = before.Zone()
			return o
		}
		t = before
	}
}

// sameZone reports whether a and b are in one observance. Go's ZoneBounds
// also ends a zone where nothing changes (at the end of its table and at
// each new year under the zone's rule string), which is no change to write.
func sameZone(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return an == bn && ao == bo && a.IsDST() == b.IsDST()
}

// changes returns every change of observance after t and before end.
func changes(loc *time.Location, t, end time.Time) []observance {
	var obs []observance
	t = t.In(loc)
	for {
		next := nextChange(t)
		if next.IsZero() || !next.Before(end) {
			return obs
		}
		next = next.In(loc)
		if !sameZone(next, t) {
			obs = append(obs, inEffect(next))
		}
		t = next
	}
}

// nextChange is the end of t's zone as ZoneBounds gives it, or zero for
// none. Under a zone's rule string (past its table) Go 1.26 ends a leap
// year's last zone on 31 December, and ZoneBounds at that instant gives
// the same end again; then the next day is taken, bisected if a change
// falls in it.
func nextChange(t time.Time) time.Time {
	_, next := t.ZoneBounds()
	if next.IsZero() || next.After(t) {
		return next
	}
	next = t.Add(24 * time.Hour)
	if !sameZone(t, next) {
		return bisect(t, next)
	}
	return next
}

// bisect returns the first second after a that is not in a's observance,
// given that b is not.
func bisect(a, b time.Time) time.Time {
	for b.Sub(a) > time.Second {
		mid := a.Add(b.Sub(a) / 2).Truncate(time.Second)
		if mid.Equal(a) {
			break
		}
		if sameZone(a, mid) {
			a = mid
		} else {
			b = mid
		}
	}
	return b
}

// yearlyRule returns a DAYLIGHT and a STANDARD observance with RRULEs that
// give the zone's changes in each year from y0 to y1, or nil when the zone
// has no such rule over those years.
func yearlyRule(loc *time.Location, y0, y1 int) []observance {
	type rulePart struct {
		o       observance
		month   time.Month
		weekday time.Weekday
		clock   string // local time of day of the onset, in the old offset
		nth     int
		last    bool // the last such weekday of the month all years
		nthSame bool // the same nth weekday all years
	}
	var parts [2]*rulePart // by dst
	for y := y0; y <= y1; y++ {
		cs := changes(loc, yearStart(loc, y), yearStart(loc, y+1))
		if len(cs) != 2 || cs[0].dst == cs[1].dst {
			return nil
		}
		for _, c := range cs {
			local := c.onset.UTC().Add(time.Duration(c.from) * time.Second)
			daysIn := time.Date(local.Year(), local.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
			p := &rulePart{
				o:       c,
				month:   local.Month(),
				weekday: local.Weekday(),
				clock:   local.Format("150405"),
				nth:     (local.Day()-1)/7 + 1,
				last:    local.Day()+7 > daysIn,
				nthSame: true,
			}
			i := 0
			if c.dst {
				i = 1
			}
			prev := parts[i]
			if prev == nil {
				parts[i] = p
				continue
			}
			if prev.month != p.month || prev.weekday != p.weekday || prev.clock != p.clock ||
				prev.o.from != p.o.from || prev.o.to != p.o.to || prev.o.name != p.o.name {
				return nil
			}
			prev.last = prev.last && p.last
			prev.nthSame = prev.nthSame && prev.nth == p.nth
		}
	}
	out := make([]observance, 0, 2)
	for _, p := range parts {
		if p == nil {
			return nil
		}
		var byDay string
		switch {
		case p.last:
			byDay = "-1"
		case p.nthSame:
			byDay = fmt.Sprintf("%d", p.nth)
		default:
			return nil
		}
		byDay += weekdays[p.weekday]
		o := p.o
		o.rrule = fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%s", p.month, byDay)
		out = append(out, o)
	}
	if out[1].onset.Before(out[0].onset) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

var weekdays = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func yearStart(loc *time.Location, y int) time.Time {
	return time.Date(y, time.January, 1, 0, 0, 0, 0, loc)
}

// onsetLocal is an observance's DTSTART: the local time of its onset in
// the offset before it, as RFC 5545 wants; an observance that was always
// in effect starts at 1970.
func onsetLocal(o observance) string {
	if o.onset.IsZero() {
		return "19700101T000000"
	}
	return o.onset.UTC().Add(time.Duration(o.from) * time.Second).Format(localLayout)
}

// formatOffset writes a UTC offset as RFC 5545's utc-offset: +hhmm[ss].
func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	s := fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}
