package meeting_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"

	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/meeting"
)

var feedURL = regexp.MustCompile(`https://kring\.example\.org(/ics/[A-Za-z0-9_-]+\.ics)`)

// feedPath asks for a feed with /meeting text and returns its path.
func (fx *fixture) feedPath(t *testing.T, who string, text string) string {
	t.Helper()
	reply := fx.command(user(who), text)
	m := feedURL.FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("/meeting %s: no feed URL in %q", text, reply)
	}
	return m[1]
}

func get(t *testing.T, web http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, req)
	return rec.Result()
}

// span is one occurrence as instants.
type span struct{ Start, End time.Time }

func (s span) String() string {
	return s.Start.UTC().Format(time.RFC3339) + "–" + s.End.UTC().Format("15:04Z")
}

// TestFeedEndToEnd: the channel's feed, served at the address /meeting
// agenda-link gives, parses back with golang-ical and expands (rrule-go)
// to exactly the occurrences the feature itself has, with a cancelled
// date left out and a moved one where it moved to. Rotating the token
// turns the old address off; the personal feed holds the meetings said
// yes to.
func TestFeedEndToEnd(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Maandoverleg" elke derde donderdag 10:00 --duur=90m --plaats="Utrecht, Jaarbeurs" --link=https://meet.jit.si/maandoverleg`)
	fx.command(user("bert"), `agenda m1 "Begroting 2027"`)
	fx.command(user("anna"), "annuleer m1 21 mei")
	fx.command(user("anna"), "verplaats m1 18 juni 19 juni 14:00")
	fx.command(user("anna"), `"Kick-off Limburg" 3 februari 14:30`)
	ref, m := fx.post(t)
	fx.click(user("bert"), fx.where, button(t, m, "Ja"), ref)

	web := http.NewServeMux()
	fx.feat.Routes(web)
	path := fx.feedPath(t, "cor", "agenda-link")
	resp := get(t, web, path)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, resp.Header, body)
	}
	bottest.Golden(t, "testdata/feed.golden", body)
	if again := get(t, web, path, "If-None-Match", resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("a feed fetched again unchanged: %d, want 304", again.StatusCode)
	}

	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("golang-ical cannot parse the feed: %v", err)
	}
	until := fx.clock.Now().Add(400 * 24 * time.Hour)
	for _, id := range []string{"m1", "m2"} {
		stored, err := fx.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var own []span
		for _, o := range stored.Occurrences(stored.Start.Add(-time.Second), until, 1000) {
			own = append(own, span{o.Start, o.End})
		}
		got := expand(t, cal, "meeting-"+id+"@kring.example.org", until)
		if !slices.EqualFunc(got, own, func(a, b span) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
			t.Errorf("meeting %s: the feed expands to\n%v\nthe feature has\n%v", id, got, own)
		}
		if id == "m1" && len(own) != 12 {
			t.Errorf("meeting m1 has %d occurrences in 400 days, want 13 less the cancelled one", len(own))
		}
	}

	rotated := fx.feedPath(t, "cor", "agenda-link vernieuw")
	if rotated == path {
		t.Fatal("rotating kept the token")
	}
	if r := get(t, web, path); r.StatusCode != 404 {
		t.Errorf("the old address after rotating: %d, want 404", r.StatusCode)
	}
	if r := get(t, web, rotated); r.StatusCode != 200 {
		t.Errorf("the new address: %d", r.StatusCode)
	}
	for _, p := range []string{"/ics/nope.ics", "/ics/" + strings.TrimSuffix(strings.TrimPrefix(rotated, "/ics/"), ".ics"), "/ics/.ics"} {
		if r := get(t, web, p); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}

	mine := get(t, web, fx.feedPath(t, "bert", "mijn-agenda"))
	b, _ := io.ReadAll(mine.Body)
	if mine.StatusCode != 200 || !strings.Contains(string(b), "UID:meeting-m2@") || strings.Contains(string(b), "UID:meeting-m1@") {
		t.Errorf("bert's own feed (said yes to m2 only): %d\n%s", mine.StatusCode, b)
	}
}

func TestFeedNeedsPublicURL(t *testing.T) {
	fx := setupWith(t, time.Date(2026, 1, 13, 14, 30, 0, 0, ams), func(c *meeting.Config) { c.PublicURL = "" })
	for _, sub := range []string{"agenda-link", "mijn-agenda", "ics rotate"} {
		if r := fx.command(user("anna"), sub); !strings.Contains(r, "KRING_PUBLIC_URL") {
			t.Errorf("/meeting %s without a public URL: %q", sub, r)
		}
	}
	fx = setup(t)
	if r := fx.command(user("anna"), "agenda-link extra woorden"); !strings.Contains(r, "vernieuw") {
		t.Errorf("agenda-link with words after it: %q", r)
	}
}

func icsProp(c ics.Component, name string) *ics.IANAProperty {
	for _, p := range c.UnknownPropertiesIANAProperties() {
		if p.IANAToken == name {
			return &p
		}
	}
	return nil
}

// icsTimes reads a DATE-TIME property as RFC 5545 says: a "Z" time is
// UTC, else local time in its TZID.
func icsTimes(t *testing.T, p ics.IANAProperty) []time.Time {
	t.Helper()
	loc := time.UTC
	if tz := p.ICalParameters["TZID"]; len(tz) > 0 {
		loc = mustZone(tz[0])
	}
	var ts []time.Time
	for v := range strings.SplitSeq(p.Value, ",") {
		layout := "20060102T150405"
		if strings.HasSuffix(v, "Z") {
			layout += "Z"
		}
		at, err := time.ParseInLocation(layout, v, loc)
		if err != nil {
			t.Fatalf("%s: %v", p.IANAToken, err)
		}
		ts = append(ts, at)
	}
	return ts
}

// expand expands event uid of cal as a subscribing calendar app does:
// the RRULE from DTSTART, less the EXDATEs, each occurrence an override's
// RECURRENCE-ID names replaced by the override.
func expand(t *testing.T, cal *ics.Calendar, uid string, until time.Time) []span {
	t.Helper()
	var master *ics.VEvent
	moved := map[int64]span{}
	for _, e := range cal.Events() {
		if e.Id() != uid {
			continue
		}
		if rid := icsProp(e, "RECURRENCE-ID"); rid != nil {
			s, _ := e.GetStartAt()
			end, _ := e.GetEndAt()
			moved[icsTimes(t, *rid)[0].Unix()] = span{s, end}
			continue
		}
		master = e
	}
	if master == nil {
		t.Fatalf("no event %s", uid)
	}
	start, err := master.GetStartAt()
	if err != nil {
		t.Fatal(err)
	}
	end, _ := master.GetEndAt()
	rule := icsProp(master, "RRULE")
	if rule == nil {
		return []span{{start, end}}
	}
	opt, err := rrule.StrToROptionInLocation(rule.Value, start.Location())
	if err != nil {
		t.Fatal(err)
	}
	opt.Dtstart = start
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	var set rrule.Set
	set.RRule(r)
	for _, p := range master.UnknownPropertiesIANAProperties() {
		if p.IANAToken == "EXDATE" {
			for _, x := range icsTimes(t, p) {
				set.ExDate(x)
			}
		}
	}
	var out []span
	for _, s := range set.Between(start.Add(-time.Second), until, true) {
		o, ok := moved[s.Unix()]
		if !ok {
			o = span{s, s.Add(end.Sub(start))}
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b span) int { return a.Start.Compare(b.Start) })
	return out
}
