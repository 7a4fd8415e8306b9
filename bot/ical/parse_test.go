package ical

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// What the tests read back, they read with independent code: golang-ical
// parses, rrule-go expands. Neither shares code with the writer.

// write writes c, checks the lines' form and parses it back.
func write(t testing.TB, c Calendar) ([]byte, *ics.Calendar) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatalf("Write: %v", err)
	}
	checkLines(t, buf.Bytes())
	cal, err := ics.ParseCalendar(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("golang-ical cannot parse the output: %v\n%s", err, buf.Bytes())
	}
	return buf.Bytes(), cal
}

// checkLines checks the physical lines: CRLF-terminated, at most 75
// octets, each valid UTF-8 on its own, components balanced.
func checkLines(t testing.TB, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("output does not end in CRLF")
	}
	var open []string
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		switch {
		case strings.ContainsAny(l, "\r\n"):
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, l)
		case len(l) > 75:
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		case !utf8.ValidString(l):
			t.Fatalf("line %d splits a UTF-8 sequence: %q", i+1, l)
		case strings.HasPrefix(l, "BEGIN:"):
			open = append(open, l[len("BEGIN:"):])
		case strings.HasPrefix(l, "END:"):
			if len(open) == 0 || open[len(open)-1] != l[len("END:"):] {
				t.Fatalf("line %d: %s closes %v", i+1, l, open)
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) != 0 {
		t.Fatalf("unclosed components %v", open)
	}
}

func prop(c ics.Component, name string) *ics.IANAProperty {
	for _, p := range c.UnknownPropertiesIANAProperties() {
		if p.IANAToken == name {
			return &p
		}
	}
	return nil
}

func props(c ics.Component, name string) []ics.IANAProperty {
	var ps []ics.IANAProperty
	for _, p := range c.UnknownPropertiesIANAProperties() {
		if p.IANAToken == name {
			ps = append(ps, p)
		}
	}
	return ps
}

// propTimes reads a DATE-TIME property (DTSTART, EXDATE, RECURRENCE-ID,
// ...) as RFC 5545 says: a "Z" time is UTC, else local time in its TZID.
func propTimes(t testing.TB, p *ics.IANAProperty) []time.Time {
	t.Helper()
	loc := time.UTC
	if tz := p.ICalParameters["TZID"]; len(tz) > 0 {
		var err error
		if loc, err = time.LoadLocation(tz[0]); err != nil {
			t.Fatalf("%s: TZID %q: %v", p.IANAToken, tz[0], err)
		}
	}
	var ts []time.Time
	for _, v := range strings.Split(p.Value, ",") {
		var at time.Time
		var err error
		if strings.HasSuffix(v, "Z") {
			at, err = time.Parse("20060102T150405Z", v)
		} else {
			if _, ok := p.ICalParameters["TZID"]; !ok {
				t.Fatalf("%s:%s is a floating time", p.IANAToken, v)
			}
			at, err = time.ParseInLocation("20060102T150405", v, loc)
		}
		if err != nil {
			t.Fatalf("%s: %v", p.IANAToken, err)
		}
		ts = append(ts, at)
	}
	return ts
}

func propTime(t testing.TB, c ics.Component, name string) time.Time {
	t.Helper()
	p := prop(c, name)
	if p == nil {
		t.Fatalf("no %s", name)
	}
	ts := propTimes(t, p)
	if len(ts) != 1 {
		t.Fatalf("%s has %d values", name, len(ts))
	}
	return ts[0]
}

// occurrence is one expanded occurrence as a calendar app shows it.
type occurrence struct {
	Start, End time.Time
}

func (o occurrence) String() string {
	return o.Start.UTC().Format(time.RFC3339) + "–" + o.End.UTC().Format("15:04Z")
}

// expand expands the event uid of cal as a subscribing app would: the
// master's RRULE from its DTSTART, less its EXDATEs, each occurrence that
// an override's RECURRENCE-ID names replaced by that override.
func expand(t testing.TB, cal *ics.Calendar, uid string, until time.Time) []occurrence {
	t.Helper()
	var master *ics.VEvent
	var overrides []*ics.VEvent
	for _, e := range cal.Events() {
		if e.Id() != uid {
			continue
		}
		if prop(e, "RECURRENCE-ID") != nil {
			overrides = append(overrides, e)
		} else if master != nil {
			t.Fatalf("two masters for %s", uid)
		} else {
			master = e
		}
	}
	if master == nil {
		t.Fatalf("no event %s", uid)
	}
	start, err := master.GetStartAt()
	if err != nil {
		t.Fatal(err)
	}
	end, err := master.GetEndAt()
	if err != nil {
		t.Fatal(err)
	}
	length := end.Sub(start)
	moved := map[int64]occurrence{}
	for _, o := range overrides {
		ostart, err := o.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		oe, err := o.GetEndAt()
		if err != nil {
			t.Fatal(err)
		}
		moved[propTime(t, o, "RECURRENCE-ID").Unix()] = occurrence{ostart, oe}
	}
	rule := prop(master, "RRULE")
	if rule == nil {
		if len(overrides) > 0 {
			t.Fatalf("%s: overrides of a one-off", uid)
		}
		return []occurrence{{start, end}}
	}
	opt, err := rrule.StrToROptionInLocation(rule.Value, start.Location())
	if err != nil {
		t.Fatalf("rrule-go cannot read RRULE:%s: %v", rule.Value, err)
	}
	opt.Dtstart = start
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	var set rrule.Set
	set.RRule(r)
	for _, p := range props(master, "EXDATE") {
		for _, x := range propTimes(t, &p) {
			set.ExDate(x)
		}
	}
	var occ []occurrence
	for _, s := range set.Between(start.Add(-time.Second), until, true) {
		o, ok := moved[s.Unix()]
		if !ok {
			o = occurrence{s, s.Add(length)}
		}
		delete(moved, s.Unix())
		occ = append(occ, o)
	}
	if len(moved) > 0 {
		t.Fatalf("%s: overrides %v name no occurrence of the series", uid, moved)
	}
	slices.SortFunc(occ, func(a, b occurrence) int { return a.Start.Compare(b.Start) })
	return occ
}

func formatOccurrences(occ []occurrence) string {
	var b strings.Builder
	for _, o := range occ {
		fmt.Fprintln(&b, o)
	}
	return b.String()
}
