// Package ical writes calendars as iCalendar (RFC 5545) from plain Go
// values, in the subset that Outlook, Google Calendar and Apple Calendar all
// read when they subscribe to a feed: one VTIMEZONE per zone used, events
// with an RRULE, EXDATEs for cancelled occurrences and separate VEVENTs with
// a RECURRENCE-ID for moved ones. It knows nothing of meetings or chat; it
// only writes.
package ical

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Calendar is one feed: a name and its events.
type Calendar struct {
	// Name is shown by the calendar app as the subscription's name
	// (X-WR-CALNAME), e.g. "kring: #projectleiders".
	Name   string
	Events []Event
}

// Event is a one-off or a recurring event (a series).
type Event struct {
	// UID is stable across changes, e.g. "meeting-ab12cd@kring": apps match
	// updates to what they stored by it.
	UID string
	// Sequence is raised on every change, so apps take the new version.
	Sequence                       int
	Summary, Location, Description string
	URL                            string
	// Start is the first occurrence. Its Location is the event's zone: the
	// zone is written as a TZID with a VTIMEZONE, UTC as a plain "Z" time.
	// The zone must be UTC or have an IANA name (time.LoadLocation loads it).
	Start    time.Time
	Duration time.Duration
	// RRule is "" for a one-off, or an RRULE value without DTSTART, e.g.
	// "FREQ=MONTHLY;BYDAY=+3TH". It is written as given.
	RRule string
	// ExDates are cancelled occurrences, by their original start.
	ExDates []time.Time
	// Overrides are moved occurrences.
	Overrides []Override
	// Stamp is when the event last changed (DTSTAMP, written in UTC).
	Stamp time.Time
	// Cancelled marks a cancelled one-off or a whole cancelled series
	// (STATUS:CANCELLED), so subscribed apps drop it instead of keeping a
	// stale copy.
	Cancelled bool
}

// Override moves one occurrence of a series.
type Override struct {
	// RecurrenceID is the original start of the moved occurrence.
	RecurrenceID time.Time
	// Start is the new start; its Location may differ from the series'.
	Start time.Time
	// Duration of the moved occurrence; zero means the series' Duration.
	Duration time.Duration
	// Sequence of the override (SEQUENCE of its VEVENT).
	Sequence int
}

// prodID names the writer, as RFC 5545 asks (PRODID is required).
const prodID = "-//kring//kring calendar feed//NL"

// Write writes c as text/calendar: CRLF lines, folded at 75 octets, TEXT
// values escaped. It checks c first and writes nothing when an event cannot
// be written as valid iCalendar (no UID, no Stamp, a zone without an IANA
// name, an RRULE with a line break, an override of a one-off, ...).
func Write(w io.Writer, c Calendar) error {
	zones, err := check(c)
	if err != nil {
		return err
	}
	lw := &lineWriter{w: w}
	lw.line("BEGIN:VCALENDAR")
	lw.line("VERSION:2.0")
	lw.line("PRODID:" + prodID)
	lw.line("CALSCALE:GREGORIAN")
	lw.line("METHOD:PUBLISH")
	if name := escapeText(c.Name); name != "" {
		lw.line("X-WR-CALNAME:" + name)
	}
	// Google Calendar uses X-WR-TIMEZONE as the feed's display zone; with
	// more than one zone there is no single right answer, so it is left out.
	if len(zones) == 1 {
		lw.line("X-WR-TIMEZONE:" + zones[0].name)
	}
	// Apple reads REFRESH-INTERVAL (RFC 7986), Outlook X-PUBLISHED-TTL; an
	// hour keeps a moved meeting from going unseen for a day.
	lw.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H")
	lw.line("X-PUBLISHED-TTL:PT1H")
	for _, z := range zones {
		writeZone(lw, z)
	}
	for _, e := range c.Events {
		writeEvent(lw, e)
	}
	lw.line("END:VCALENDAR")
	if lw.err != nil {
		return fmt.Errorf("write calendar: %w", lw.err)
	}
	return nil
}

// check validates c and returns the zones its events use (UTC left out),
// sorted by name, each with the span of times written in it.
func check(c Calendar) ([]*zoneUse, error) {
	uses := map[string]*zoneUse{}
	// zoneOf checks that t's zone is the IANA zone of its name at t: apps
	// read the TZID by name, so a fixed zone that happens to be called
	// "CET" would be a different zone to them.
	zoneOf := func(t time.Time) (*zoneUse, error) {
		loc := t.Location()
		if isUTC(loc) {
			return nil, nil
		}
		name := loc.String()
		u := uses[name]
		if u == nil {
			tz, err := time.LoadLocation(name)
			if err != nil || name == "Local" || name == "" {
				return nil, fmt.Errorf("time zone %q has no IANA name: load the zone with time.LoadLocation", name)
			}
			u = &zoneUse{name: name, loc: tz, first: t, last: t}
			uses[name] = u
		}
		if _, off := t.Zone(); func() int { _, o := t.In(u.loc).Zone(); return o }() != off {
			return nil, fmt.Errorf("time zone %q is not the IANA zone of that name at %s", name, t.UTC().Format(utcLayout))
		}
		return u, nil
	}
	// use records that t is written in its zone.
	use := func(t time.Time, series bool) error {
		u, err := zoneOf(t)
		if u == nil || err != nil {
			return err
		}
		if t.Before(u.first) {
			u.first = t
		}
		if t.After(u.last) {
			u.last = t
		}
		u.series = u.series || series
		return nil
	}
	uids := map[string]bool{}
	for i, e := range c.Events {
		if err := checkEvent(e); err != nil {
			return nil, fmt.Errorf("event %d (%q): %w", i, e.UID, err)
		}
		if uids[e.UID] {
			return nil, fmt.Errorf("event %d: UID %q is used twice", i, e.UID)
		}
		uids[e.UID] = true
		series := e.RRule != ""
		loc := e.Start.Location()
		if err := use(e.Start, series); err != nil {
			return nil, fmt.Errorf("event %q: %w", e.UID, err)
		}
		if err := use(e.Start.Add(e.Duration), false); err != nil {
			return nil, fmt.Errorf("event %q: %w", e.UID, err)
		}
		for _, x := range e.ExDates {
			if err := use(x.In(loc), false); err != nil {
				return nil, fmt.Errorf("event %q, ExDate: %w", e.UID, err)
			}
		}
		if series {
			// The apps expand the series in the zone they load by name.
			for m := 1; m <= 12*ruleYears; m++ {
				if _, err := zoneOf(e.Start.AddDate(0, m, 0)); err != nil {
					return nil, fmt.Errorf("event %q, its series: %w", e.UID, err)
				}
			}
		}
		for _, o := range e.Overrides {
			if err := use(o.RecurrenceID.In(loc), false); err != nil {
				return nil, fmt.Errorf("event %q, override: %w", e.UID, err)
			}
			if err := use(o.Start, false); err != nil {
				return nil, fmt.Errorf("event %q, override of %s: %w", e.UID, o.RecurrenceID.UTC().Format(utcLayout), err)
			}
			if err := use(o.Start.Add(overrideDuration(e, o)), false); err != nil {
				return nil, fmt.Errorf("event %q: %w", e.UID, err)
			}
		}
	}
	zones := make([]*zoneUse, 0, len(uses))
	for _, u := range uses {
		zones = append(zones, u)
	}
	slices.SortFunc(zones, func(a, b *zoneUse) int { return strings.Compare(a.name, b.name) })
	return zones, nil
}

func checkEvent(e Event) error {
	switch {
	case e.UID == "":
		return errors.New("no UID")
	case hasControl(e.UID):
		return errors.New("UID has a control character")
	case e.Start.IsZero():
		return errors.New("no Start")
	case e.Stamp.IsZero():
		return errors.New("no Stamp (DTSTAMP is required)")
	case e.Duration < 0:
		return fmt.Errorf("negative Duration %s", e.Duration)
	case e.Sequence < 0:
		return fmt.Errorf("negative Sequence %d", e.Sequence)
	case hasControl(e.URL):
		return errors.New("URL has a control character")
	case hasControl(e.RRule):
		return errors.New("RRule has a control character")
	case strings.Contains(strings.ToUpper(e.RRule), "DTSTART") || strings.Contains(e.RRule, ":"):
		return fmt.Errorf("RRule %q: give only the RRULE value, without DTSTART or a property name", e.RRule)
	case e.RRule == "" && (len(e.ExDates) > 0 || len(e.Overrides) > 0):
		return errors.New("ExDates or Overrides on an event without RRule")
	}
	ex := map[int64]bool{}
	for _, x := range e.ExDates {
		if x.IsZero() {
			return errors.New("a zero ExDate")
		}
		ex[x.Unix()] = true
	}
	moved := map[int64]bool{}
	for _, o := range e.Overrides {
		switch {
		case o.RecurrenceID.IsZero() || o.Start.IsZero():
			return errors.New("an override without RecurrenceID or Start")
		case o.Duration < 0:
			return fmt.Errorf("override of %s: negative Duration", o.RecurrenceID.UTC().Format(utcLayout))
		case o.Sequence < 0:
			return fmt.Errorf("override of %s: negative Sequence", o.RecurrenceID.UTC().Format(utcLayout))
		case moved[o.RecurrenceID.Unix()]:
			return fmt.Errorf("two overrides of %s", o.RecurrenceID.UTC().Format(utcLayout))
		case ex[o.RecurrenceID.Unix()]:
			// An app would have to choose between dropping and moving it.
			return fmt.Errorf("occurrence %s is both cancelled and moved", o.RecurrenceID.UTC().Format(utcLayout))
		}
		moved[o.RecurrenceID.Unix()] = true
	}
	return nil
}

func overrideDuration(e Event, o Override) time.Duration {
	if o.Duration == 0 {
		return e.Duration
	}
	return o.Duration
}

func writeEvent(lw *lineWriter, e Event) {
	loc := e.Start.Location()
	start := e.Start
	if e.RRule == "" {
		// A series keeps its zone: apps expand its RRULE in local time.
		start = exactTime(start)
	}
	writeVEvent(lw, e, e.Sequence, start, e.Duration, func() {
		if e.RRule != "" {
			lw.line("RRULE:" + e.RRule)
		}
		if len(e.ExDates) > 0 {
			ex := slices.Clone(e.ExDates)
			slices.SortFunc(ex, func(a, b time.Time) int { return a.Compare(b) })
			vals := make([]string, len(ex))
			for i, x := range ex {
				vals[i] = formatTime(x.In(loc))
			}
			lw.line("EXDATE" + tzParam(loc) + ":" + strings.Join(vals, ","))
		}
	})
	ovs := slices.Clone(e.Overrides)
	slices.SortFunc(ovs, func(a, b Override) int { return a.RecurrenceID.Compare(b.RecurrenceID) })
	for _, o := range ovs {
		// The RECURRENCE-ID has the series' zone: apps match it against the
		// occurrences they expanded from DTSTART, in DTSTART's zone.
		writeVEvent(lw, e, o.Sequence, exactTime(o.Start), overrideDuration(e, o), func() {
			lw.line("RECURRENCE-ID" + tzParam(loc) + ":" + formatTime(o.RecurrenceID.In(loc)))
		})
	}
}

// writeVEvent writes one VEVENT of e starting at start; extra writes what a
// series or an override adds.
func writeVEvent(lw *lineWriter, e Event, seq int, start time.Time, d time.Duration, extra func()) {
	lw.line("BEGIN:VEVENT")
	lw.line("UID:" + escapeText(e.UID))
	lw.line("DTSTAMP:" + e.Stamp.UTC().Format(utcLayout))
	lw.line(fmt.Sprintf("SEQUENCE:%d", seq))
	loc := start.Location()
	lw.line("DTSTART" + tzParam(loc) + ":" + formatTime(start))
	// DTEND rather than DURATION: every app reads it, and for a series RFC
	// 5545 takes the exact difference as each occurrence's length.
	end := exactTime(start.Add(d))
	lw.line("DTEND" + tzParam(end.Location()) + ":" + formatTime(end))
	extra()
	for _, p := range [...]struct{ name, value string }{
		{"SUMMARY", e.Summary}, {"LOCATION", e.Location}, {"DESCRIPTION", e.Description},
	} {
		if v := escapeText(p.value); v != "" {
			lw.line(p.name + ":" + v)
		}
	}
	if e.URL != "" {
		lw.line("URL:" + e.URL)
	}
	if e.Cancelled {
		lw.line("STATUS:CANCELLED")
	} else {
		lw.line("STATUS:CONFIRMED")
	}
	lw.line("END:VEVENT")
}

const (
	utcLayout   = "20060102T150405Z"
	localLayout = "20060102T150405"
)

func isUTC(loc *time.Location) bool {
	return loc == time.UTC || loc.String() == "UTC"
}

// formatTime writes t as a DATE-TIME: UTC form for UTC, else local time in
// t's zone (paired with tzParam). Sub-second parts are dropped: iCalendar
// has none.
func formatTime(t time.Time) string {
	if isUTC(t.Location()) {
		return t.UTC().Format(utcLayout)
	}
	return t.Format(localLayout)
}

// exactTime is t, or t in UTC when t falls in the hour repeated when the
// clocks go back, on its second pass: as local time apps would read the
// first.
func exactTime(t time.Time) time.Time {
	if wallTimeIsExact(t) {
		return t
	}
	return t.UTC()
}

// wallTimeIsExact reports whether t's local time in its zone names t and
// no earlier instant, as RFC 5545 reads a local time that occurs twice:
// it does not when the clocks went back less than their shift before t.
func wallTimeIsExact(t time.Time) bool {
	if isUTC(t.Location()) {
		return true
	}
	o := inEffect(t)
	back := time.Duration(o.from-o.to) * time.Second
	return o.onset.IsZero() || back <= 0 || t.Sub(o.onset) >= back
}

func tzParam(loc *time.Location) string {
	if isUTC(loc) {
		return ""
	}
	return ";TZID=" + loc.String()
}
