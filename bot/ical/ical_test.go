package ical

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/bottest"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var stamp = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// monthly is "elke derde donderdag 10:00" in Amsterdam, from January 2027,
// with the April meeting cancelled and the October one moved to 4 November
// (from summer time to winter time).
func monthly(t testing.TB) Event {
	ams := mustZone(t, "Europe/Amsterdam")
	return Event{
		UID:         "meeting-ab12cd@kring",
		Sequence:    3,
		Summary:     "Maandoverleg projectleiders",
		Location:    "Online",
		Description: "Agenda:\n- Terugblik kick-off; regio Utrecht, Amersfoort\n- Praktijkvoorbeeld \\ kraamzorg",
		URL:         "https://meet.example.org/maandoverleg?id=42,43",
		Start:       time.Date(2027, 1, 21, 10, 0, 0, 0, ams),
		Duration:    90 * time.Minute,
		RRule:       "FREQ=MONTHLY;BYDAY=+3TH",
		ExDates:     []time.Time{time.Date(2027, 4, 15, 10, 0, 0, 0, ams)},
		Overrides: []Override{{
			RecurrenceID: time.Date(2027, 10, 21, 10, 0, 0, 0, ams),
			Start:        time.Date(2027, 11, 4, 10, 0, 0, 0, ams),
			Sequence:     3,
		}},
		Stamp: stamp,
	}
}

// The series, read back with golang-ical and expanded with rrule-go, gives
// the occurrences a person would write down: 10:00 in Amsterdam all year,
// so 09:00Z in winter and 08:00Z in summer, April left out, October on
// 4 November.
func TestMonthlySeriesExpands(t *testing.T) {
	_, cal := write(t, Calendar{Name: "kring: #projectleiders", Events: []Event{monthly(t)}})
	ams := mustZone(t, "Europe/Amsterdam")
	got := expand(t, cal, "meeting-ab12cd@kring", time.Date(2028, 3, 1, 0, 0, 0, 0, ams))
	want := []string{
		"2027-01-21T09:00:00Z–10:30Z",
		"2027-02-18T09:00:00Z–10:30Z",
		"2027-03-18T09:00:00Z–10:30Z",
		// 15 April cancelled
		"2027-05-20T08:00:00Z–09:30Z",
		"2027-06-17T08:00:00Z–09:30Z",
		"2027-07-15T08:00:00Z–09:30Z",
		"2027-08-19T08:00:00Z–09:30Z",
		"2027-09-16T08:00:00Z–09:30Z",
		"2027-11-04T09:00:00Z–10:30Z", // moved from 21 October
		"2027-11-18T09:00:00Z–10:30Z",
		"2027-12-16T09:00:00Z–10:30Z",
		"2028-01-20T09:00:00Z–10:30Z",
		"2028-02-17T09:00:00Z–10:30Z",
	}
	if g, w := formatOccurrences(got), strings.Join(want, "\n")+"\n"; g != w {
		t.Errorf("occurrences:\n%s\nwant:\n%s", g, w)
	}
	for _, o := range got {
		if l := o.Start.In(ams); l.Hour() != 10 || l.Minute() != 0 {
			t.Errorf("%v starts at %s Amsterdam time, not 10:00", o, l.Format("15:04"))
		}
	}
}

// Every value an app shows comes back as it went in.
func TestFieldsReadBack(t *testing.T) {
	e := monthly(t)
	_, cal := write(t, Calendar{Name: "kring: #projectleiders, regio; Noord", Events: []Event{e}})
	var names []string
	for _, p := range cal.CalendarProperties {
		names = append(names, p.IANAToken+"="+p.Value)
	}
	for _, want := range []string{
		"VERSION=2.0", "CALSCALE=GREGORIAN", "METHOD=PUBLISH",
		"X-WR-CALNAME=kring: #projectleiders, regio; Noord",
		"X-WR-TIMEZONE=Europe/Amsterdam",
		"REFRESH-INTERVAL=PT1H", "X-PUBLISHED-TTL=PT1H",
	} {
		if !strings.Contains(strings.Join(names, "\n")+"\n", want+"\n") {
			t.Errorf("calendar lacks %s; has %v", want, names)
		}
	}
	events := cal.Events()
	if len(events) != 2 {
		t.Fatalf("%d VEVENTs, want the series and its override", len(events))
	}
	for i, ev := range events {
		for name, want := range map[string]string{
			"UID":         e.UID,
			"SUMMARY":     e.Summary,
			"LOCATION":    e.Location,
			"DESCRIPTION": e.Description,
			"URL":         e.URL,
			"STATUS":      "CONFIRMED",
			"SEQUENCE":    "3",
		} {
			if p := prop(ev, name); p == nil || p.Value != want {
				t.Errorf("VEVENT %d: %s = %v, want %q", i, name, p, want)
			}
		}
		if got := propTime(t, ev, "DTSTAMP"); !got.Equal(stamp) || !strings.HasSuffix(prop(ev, "DTSTAMP").Value, "Z") {
			t.Errorf("VEVENT %d: DTSTAMP %s, want %s in UTC", i, prop(ev, "DTSTAMP").Value, stamp)
		}
		if tz := prop(ev, "DTSTART").ICalParameters["TZID"]; len(tz) != 1 || tz[0] != "Europe/Amsterdam" {
			t.Errorf("VEVENT %d: DTSTART TZID %v", i, tz)
		}
	}
	if p := prop(events[1], "RECURRENCE-ID"); p == nil || p.Value != "20271021T100000" || p.ICalParameters["TZID"][0] != "Europe/Amsterdam" {
		t.Errorf("override's RECURRENCE-ID = %+v", p)
	}
}

// A one-off in UTC is written in UTC form, with no VTIMEZONE; a
// cancelled one says so.
func TestUTCAndCancelled(t *testing.T) {
	e := Event{
		UID: "meeting-utc@kring", Summary: "Kick-off", Stamp: stamp, Cancelled: true,
		Start: time.Date(2027, 2, 1, 13, 0, 0, 0, time.UTC), Duration: time.Hour,
	}
	out, cal := write(t, Calendar{Events: []Event{e}})
	if len(cal.Timezones()) != 0 || bytes.Contains(out, []byte("X-WR-TIMEZONE")) {
		t.Errorf("a UTC-only calendar has a zone:\n%s", out)
	}
	ev := cal.Events()[0]
	if p := prop(ev, "DTSTART"); p.Value != "20270201T130000Z" || len(p.ICalParameters["TZID"]) != 0 {
		t.Errorf("DTSTART %+v, want 20270201T130000Z without TZID", p)
	}
	if p := prop(ev, "STATUS"); p.Value != "CANCELLED" {
		t.Errorf("STATUS %s, want CANCELLED", p.Value)
	}
	got := expand(t, cal, e.UID, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 1 || !got[0].Start.Equal(e.Start) || got[0].End.Sub(got[0].Start) != time.Hour {
		t.Errorf("one-off reads back as %v", got)
	}
}

// An override without a Duration keeps the series'; one with its own has it.
func TestOverrideDuration(t *testing.T) {
	e := monthly(t)
	ams := mustZone(t, "Europe/Amsterdam")
	e.Overrides = append(e.Overrides, Override{
		RecurrenceID: time.Date(2027, 2, 18, 10, 0, 0, 0, ams),
		Start:        time.Date(2027, 2, 18, 13, 0, 0, 0, ams),
		Duration:     2 * time.Hour,
		Sequence:     4,
	})
	_, cal := write(t, Calendar{Events: []Event{e}})
	got := expand(t, cal, e.UID, time.Date(2027, 12, 1, 0, 0, 0, 0, ams))
	want := map[string]time.Duration{"2027-02-18T12:00:00Z": 2 * time.Hour, "2027-11-04T09:00:00Z": 90 * time.Minute}
	for _, o := range got {
		if d, ok := want[o.Start.UTC().Format(time.RFC3339)]; ok {
			if o.End.Sub(o.Start) != d {
				t.Errorf("%v lasts %s, want %s", o, o.End.Sub(o.Start), d)
			}
			delete(want, o.Start.UTC().Format(time.RFC3339))
		}
	}
	if len(want) > 0 {
		t.Errorf("moved occurrences %v missing from %v", want, got)
	}
}

// One calendar with a one-off, a series with a cancelled and a moved
// occurrence, in two zones, plus a cancelled one in UTC: the whole text.
func TestGolden(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	out, cal := write(t, Calendar{Name: "kring: #projectleiders", Events: []Event{
		monthly(t),
		{
			UID: "meeting-ef34gh@kring", Sequence: 1,
			Summary:     "Kennistafel geboortezorg (met collega's uit New York)",
			Location:    "Zoom, kamer 3; wachtwoord volgt",
			Description: strings.Repeat("Een lange beschrijving met één, twee; drie \\ regels.\n", 3),
			Start:       time.Date(2027, 3, 11, 9, 30, 0, 0, ny), Duration: 45 * time.Minute,
			Stamp: stamp.Add(-24 * time.Hour),
		},
		{
			UID: "meeting-utc@kring", Summary: "Vervallen: kick-off", Cancelled: true,
			Start: time.Date(2027, 2, 1, 13, 0, 0, 0, time.UTC), Duration: time.Hour, Stamp: stamp,
		},
	}})
	if n := len(cal.Timezones()); n != 2 {
		t.Errorf("%d VTIMEZONEs, want one for Amsterdam and one for New York", n)
	}
	bottest.Golden(t, filepath.Join("testdata", "calendar.ics"), out)
}

func TestWriteRejects(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	ok := func() Event { return monthly(t) }
	cases := map[string]func(e *Event){
		"no UID":                 func(e *Event) { e.UID = "" },
		"no Start":               func(e *Event) { e.Start = time.Time{} },
		"no Stamp":               func(e *Event) { e.Stamp = time.Time{} },
		"negative Duration":      func(e *Event) { e.Duration = -time.Minute },
		"Local zone":             func(e *Event) { e.Start = e.Start.In(time.Local) },
		"fixed zone":             func(e *Event) { e.Start = e.Start.In(time.FixedZone("CET", 3600)) },
		"RRULE with DTSTART":     func(e *Event) { e.RRule = "DTSTART:20270121T100000\nRRULE:FREQ=MONTHLY" },
		"RRULE with name":        func(e *Event) { e.RRule = "RRULE:FREQ=MONTHLY" },
		"RRULE with line break":  func(e *Event) { e.RRule = "FREQ=MONTHLY\r\nX-EVIL:1" },
		"URL with line break":    func(e *Event) { e.URL = "https://a.example\r\nX-EVIL:1" },
		"UID with line break":    func(e *Event) { e.UID = "a\nb" },
		"ExDates on a one-off":   func(e *Event) { e.RRule, e.Overrides = "", nil },
		"Overrides on a one-off": func(e *Event) { e.RRule, e.ExDates = "", nil },
		"cancelled and moved": func(e *Event) {
			e.ExDates = append(e.ExDates, time.Date(2027, 10, 21, 10, 0, 0, 0, ams))
		},
		"moved twice": func(e *Event) { e.Overrides = append(e.Overrides, e.Overrides[0]) },
		"override without RecurrenceID": func(e *Event) {
			e.Overrides = []Override{{Start: e.Start}}
		},
		"override in a fixed zone": func(e *Event) {
			e.Overrides[0].Start = e.Overrides[0].Start.In(time.FixedZone("", 7200))
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := ok()
			change(&e)
			var buf bytes.Buffer
			if err := Write(&buf, Calendar{Events: []Event{e}}); err == nil {
				t.Fatalf("Write accepted it:\n%s", buf.Bytes())
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
	t.Run("UID twice", func(t *testing.T) {
		if err := Write(&bytes.Buffer{}, Calendar{Events: []Event{ok(), ok()}}); err == nil {
			t.Fatal("Write accepted two events with one UID")
		}
	})
}

type failingWriter struct{ after int }

var errDisk = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDisk
	}
	w.after--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	err := Write(&failingWriter{after: 10}, Calendar{Events: []Event{monthly(t)}})
	if !errors.Is(err, errDisk) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
}

// An empty calendar is still a valid one.
func TestEmpty(t *testing.T) {
	_, cal := write(t, Calendar{})
	if len(cal.Events()) != 0 {
		t.Fatal("events in an empty calendar")
	}
}

// An end in the repeated hour of the night the clocks go back, on its
// second pass, is written in UTC: as local time it would name the first.
func TestEndInRepeatedHour(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	start := time.Date(2027, 10, 31, 1, 30, 0, 0, ams) // CEST, 23:30Z
	e := Event{UID: "nacht@kring", Start: start, Duration: 2 * time.Hour, Stamp: stamp}
	_, cal := write(t, Calendar{Events: []Event{e}})
	got := expand(t, cal, e.UID, start.AddDate(0, 0, 1))
	if len(got) != 1 || !got[0].End.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("read back as %v, want the end at %s", got, start.Add(2*time.Hour).UTC())
	}
	if p := prop(cal.Events()[0], "DTEND"); p.Value != "20271031T013000Z" {
		t.Errorf("DTEND:%s, want 20271031T013000Z", p.Value)
	}
}

// On its first pass the repeated hour is written as local time, which RFC
// 5545 reads as the first pass. (Go's own time.Date picks the second, so
// this is checked on the text, not read back through golang-ical.)
func TestEndInRepeatedHourFirstPass(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	start := time.Date(2027, 10, 31, 1, 0, 0, 0, ams)
	e := Event{UID: "nacht@kring", Start: start, Duration: 90 * time.Minute, Stamp: stamp}
	_, cal := write(t, Calendar{Events: []Event{e}})
	if p := prop(cal.Events()[0], "DTEND"); p.Value != "20271031T023000" || p.ICalParameters["TZID"][0] != "Europe/Amsterdam" {
		t.Errorf("DTEND %+v, want 20271031T023000 in Europe/Amsterdam", p)
	}
}

// A one-off that starts in the second pass of the repeated hour is
// written in UTC; a series keeps its zone (apps expand it in local time).
func TestStartInRepeatedHour(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	start := time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC) // 02:30 CET, second pass
	e := Event{UID: "nacht@kring", Start: start.In(ams), Duration: time.Hour, Stamp: stamp}
	_, cal := write(t, Calendar{Events: []Event{e}})
	ev := cal.Events()[0]
	if p := prop(ev, "DTSTART"); p.Value != "20271031T013000Z" {
		t.Errorf("DTSTART %+v, want 20271031T013000Z", p)
	}
	if got := expand(t, cal, e.UID, start.AddDate(0, 0, 1)); len(got) != 1 || !got[0].Start.Equal(start) || got[0].End.Sub(got[0].Start) != time.Hour {
		t.Errorf("read back as %v", got)
	}
}
