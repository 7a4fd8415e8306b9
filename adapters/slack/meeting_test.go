package slack

// /meeting through Slack, end to end: signed slash commands and clicks as
// Slack sends them go in, the Web API stand-in records the posts, updates
// and reminder DMs, and the schedule's runner on a fake clock sends the
// reminders.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/kringbot/kring/storage/redis"
	goredis "github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
)

// meetingZone is the workspace's zone (KRING_TIMEZONE) in these tests.
var meetingZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return loc
}()

// meetingStart is the meeting tests' "now": Monday 5 January 2026, 09:00
// in Amsterdam, so that "elke derde donderdag 10:00" is first on
// Thursday 15 January and the transcripts read the same every run.
var meetingStart = time.Date(2026, 1, 5, 9, 0, 0, 0, meetingZone)

// planLine is the meeting the issue has a project leader plan.
const planLine = `"Maandoverleg projectleiders" elke derde donderdag 10:00 --duur=90m --plaats=Online --herinner=1d,1h`

// meetingHarness is the Slack harness with the real meeting feature
// added as kring serve adds it (cmd/kring/app.go): on the same store as
// the polls and the jobs, its live post rendered off the request path,
// its calendar feeds on a web server of their own (KRING_PUBLIC_URL).
type meetingHarness struct {
	*harness
	meetings meeting.Store
	// clock is the meeting feature's, fixed at meetingStart; runner runs
	// its reminders. They shadow the harness's, which the polls use.
	clock  *bottest.Clock
	runner *schedule.Runner
	// public serves the feature's web routes: GET /ics/{token}.ics.
	public *httptest.Server
}

// meetingStores are the stores kring serve opens, on one backend.
type meetingStores struct {
	polls    poll.Store
	meetings meeting.Store
	jobs     schedule.Store
	settings bot.SettingsStore
}

// boltStores are the stores on a bbolt file in a temporary directory.
func boltStores(t *testing.T) meetingStores {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return meetingStores{polls: db.Polls(), meetings: db.Meetings(), jobs: db.Jobs(), settings: db.Settings()}
}

// redisStores are the stores on the test Redis (KRING_TEST_REDIS, else
// db 15 of the local one) under a key prefix of this test's own, removed
// when it ends. Without a Redis the test is skipped, loudly; on CI
// (CI=true) it fails.
func redisStores(t *testing.T) meetingStores {
	t.Helper()
	opts, err := goredis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("\n\n*** NO REDIS: /meeting through Slack is NOT tested on Redis. Start Redis or set KRING_TEST_REDIS. ***\n*** %v ***\n\n", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	prefix := "kringtest:" + bot.NewID(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			if err := c.Unlink(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("remove test key %s: %v", iter.Val(), err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("remove test keys %s*: %v", prefix, err)
		}
		c.Close()
	})
	s := redis.New(c, prefix)
	return meetingStores{polls: s.Polls(), meetings: s.Meetings(), jobs: s.Jobs(), settings: s.Settings()}
}

func newMeetingHarness(t *testing.T) *meetingHarness {
	t.Helper()
	return newMeetingHarnessOn(t, boltStores(t))
}

// newMeetingHarnessOn is the meeting harness on the stores given.
func newMeetingHarnessOn(t *testing.T, st meetingStores) *meetingHarness {
	t.Helper()
	h := newHarnessOn(t, nil, st.polls, st.jobs, st.settings, func(c *Config) { c.PaceEvery = 5 * time.Millisecond })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, nil))
	}
	clock := bottest.NewClock(meetingStart)
	runner := &schedule.Runner{Store: st.jobs, Clock: clock, Log: log}
	posters := bot.Posters{bot.Slack: h.a.Poster()}
	lv := live.New(live.Config{Poster: posters, Jobs: st.jobs, Every: 5 * time.Millisecond, Clock: clock, Log: log})
	web := http.NewServeMux()
	public := httptest.NewServer(web)
	t.Cleanup(public.Close)
	var n atomic.Int64
	f := meeting.New(meeting.Config{
		Store: st.meetings, Jobs: st.jobs, Poster: posters, Clock: clock,
		Admins: bot.ParseAdmins(bot.Slack + ":" + testAdmin), Location: meetingZone, Log: log,
		NewID:  func() string { return fmt.Sprintf("m%d", n.Add(1)) },
		Locale: h.mux.Locale, Settings: st.settings, Live: lv, PublicURL: public.URL,
	})
	f.Register(h.mux, runner)
	f.Routes(web)
	// Cleanups run last first: the final renders go out before the
	// harness closes the adapter, as kring serve stops.
	t.Cleanup(func() {
		f.Close()
		lv.Close()
	})
	return &meetingHarness{harness: h, meetings: st.meetings, clock: clock, runner: runner, public: public}
}

// plan runs /meeting as user in channel and returns its immediate reply
// and the meeting's post.
func (h *meetingHarness) plan(user, channel, text string) (slashReply, call) {
	h.t.Helper()
	before := h.api.count("chat.postMessage", "channel", channel)
	reply := h.say(user, channel, "/meeting", text)
	posts := h.postsIn(channel)
	if len(posts) != before+1 {
		h.t.Fatalf("/meeting %s posted %d messages in %s, want 1; reply %s", text, len(posts)-before, channel, reply.all())
	}
	return reply, posts[len(posts)-1]
}

// postsIn returns the chat.postMessage calls to channel, in order.
func (h *meetingHarness) postsIn(channel string) []call {
	var out []call
	for _, c := range h.api.recorded("chat.postMessage") {
		if c.Form.Get("channel") == channel {
			out = append(out, c)
		}
	}
	return out
}

// deliver sends an interaction body as Slack sends it, and checks that
// kring acknowledged it with an empty 200.
func (h *meetingHarness) deliver(body string) {
	h.t.Helper()
	resp, raw, _ := h.send(request{path: "/slack/interactions", body: body})
	if resp.StatusCode != http.StatusOK || len(raw) != 0 {
		h.t.Fatalf("click: %d %q, want an empty 200", resp.StatusCode, raw)
	}
}

// answers returns what each user answered to meeting id, as stored.
func (h *meetingHarness) answers(id string) map[string]meeting.Answer {
	h.t.Helper()
	rsvps, err := h.meetings.RSVPs(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]meeting.Answer{}
	for _, r := range rsvps {
		out[r.User] = r.Answer
	}
	return out
}

// advanceTo moves the clock on to t and runs the jobs then due.
func (h *meetingHarness) advanceTo(t time.Time) {
	h.t.Helper()
	h.clock.Advance(t.Sub(h.clock.Now()))
	if _, err := h.runner.RunDue(context.Background()); err != nil {
		h.t.Fatalf("run due jobs at %s: %v", t, err)
	}
}

// labels lists the buttons' labels.
func labels(bs []*slack.ButtonBlockElement) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Text.Text
	}
	return out
}

// goldenBlocks compares the Block Kit of c, indented, with
// testdata/name.golden.json.
func goldenBlocks(t *testing.T, name string, c call) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(c.Form.Get("blocks")), "", "  "); err != nil {
		t.Fatalf("%s: blocks are not JSON: %v", name, err)
	}
	buf.WriteByte('\n')
	bottest.Golden(t, filepath.Join("testdata", name+".golden.json"), buf.Bytes())
}

// TestSlackMeeting is the flow through Slack: a project leader
// plans the monthly meeting with a signed slash command; three colleagues
// answer with the buttons, which update the post in place (a repeated
// delivery counting once, a click from another channel refused); the day
// and the hour before, the runner sends the reminder DMs through
// conversations.open and chat.postMessage to who said Ja or Misschien, in
// each one's own zone as users.info tells it; a Ja in a DM counts on the
// post; and /meeting agenda-link gives a feed kring serves. It runs on
// both backends: on Redis a click is one script that also records its
// delivery.
func TestSlackMeeting(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { slackMeetingFlow(t, newMeetingHarness(t)) })
	t.Run("redis", func(t *testing.T) { slackMeetingFlow(t, newMeetingHarnessOn(t, redisStores(t))) })
}

func slackMeetingFlow(t *testing.T, h *meetingHarness) {
	h.api.addUser("U3", "America/New_York", false, false)
	h.know("U1", "U2", "U3", "U4", testAdmin)
	ctx := context.Background()

	reply, post := h.plan("U1", "C1", planLine)
	containsAll(t, "/meeting reply", reply.all(), "Je vergadering staat in het kanaal", "m1", "donderdag 15 januari 10:00–11:30")
	containsAll(t, "meeting post", post.text(t),
		"📅 Maandoverleg projectleiders", "donderdag 15 januari 10:00–11:30", "elke derde donderdag van de maand",
		"do 19 feb 10:00", "📍 Online", "herinnering 1 dag en 1 uur van tevoren aan wie ja of misschien zei", "Name U1")
	ts := post.TS
	rsvp := buttons(t, post, "meeting.rsvp")
	if got, want := labels(rsvp), []string{"Ja (0)", "Misschien (0)", "Nee (0)"}; !slices.Equal(got, want) {
		t.Fatalf("RSVP buttons %q, want %q", got, want)
	}
	if rsvp[0].Style != slack.StylePrimary {
		t.Errorf("Ja is styled %q, want primary", rsvp[0].Style)
	}
	yes, maybe, no := rsvp[0], rsvp[1], rsvp[2]

	// U2 first says Nee, then Ja; Slack then delivers the Nee once more
	// (a retry): it changes nothing.
	firstNo := h.clickBody("U2", "C1", ts, no)
	h.deliver(firstNo)
	h.deliver(h.clickBody("U2", "C1", ts, yes))
	h.deliver(h.clickBody("U3", "C1", ts, maybe))
	h.deliver(h.clickBody("U4", "C1", ts, no))
	h.deliver(firstNo)
	want := map[string]meeting.Answer{"U2": meeting.Yes, "U3": meeting.Maybe, "U4": meeting.No}
	if got := h.answers("m1"); !maps.Equal(got, want) {
		t.Fatalf("answers after three people clicked and a repeat: %v, want %v", got, want)
	}
	last := h.settled(ts, "the post with three answers", func(s string) bool {
		return strings.Contains(s, "Ja (1)") && strings.Contains(s, "Misschien (1)") && strings.Contains(s, "Nee (1)")
	})
	containsAll(t, "updated post", last.text(t), "Name U2", "Name U3", "Name U4", "donderdag 15 januari 10:00–11:30")
	if got, want := labels(buttons(t, last, "meeting.rsvp")), []string{"Ja (1)", "Misschien (1)", "Nee (1)"}; !slices.Equal(got, want) {
		t.Errorf("RSVP buttons after the answers %q, want %q", got, want)
	}
	if n := len(h.postsIn("C1")); n != 1 {
		t.Errorf("%d messages in C1, want the one post, updated in place", n)
	}
	goldenBlocks(t, "meeting_post", last)

	// The same button clicked in another channel names a meeting that
	// does not exist there.
	refusal := h.replyAt(h.clickFor("U5", "C2", ts, yes))
	containsAll(t, "click from another channel", refusal, "Ik vind geen vergadering met ID", "m1")
	if got := h.answers("m1"); !maps.Equal(got, want) {
		t.Fatalf("a click from C2 changed the answers: %v", got)
	}

	// Nothing is due before the day before.
	h.advanceTo(time.Date(2026, 1, 14, 9, 59, 0, 0, meetingZone))
	if n := h.api.count("conversations.open", "", ""); n != 0 {
		t.Fatalf("%d DMs opened before the first reminder was due", n)
	}
	// The day before: U2 (Amsterdam) and U3 (New York), not U4 (Nee)
	// nor the organiser, who did not answer.
	h.advanceTo(time.Date(2026, 1, 14, 10, 0, 0, 0, meetingZone))
	dms := h.remindersSent(t, map[string]int{"U2": 1, "U3": 1})
	containsAll(t, "U2's reminder", dms["U2"][0].text(t), "⏰ Herinnering: Maandoverleg projectleiders",
		"donderdag 15 januari 10:00–11:30", "over 1 dag", "📍 Online", "Je antwoord: *Ja*")
	if s := dms["U2"][0].text(t); strings.Contains(s, "jouw tijd") {
		t.Errorf("U2's reminder names a zone, though U2 is in the meeting's:\n%s", s)
	}
	u3 := dms["U3"][0]
	containsAll(t, "U3's reminder", readable(u3.text(t)), "donderdag 15 januari 04:00–05:30", "jouw tijd, America/New_York", "over 1 dag", "Je antwoord: *Misschien*")
	goldenBlocks(t, "meeting_reminder", u3)
	dmButtons := buttons(t, u3, "meeting.rsvp")
	if got, want := labels(dmButtons), []string{"Ja", "Misschien", "Nee"}; !slices.Equal(got, want) {
		t.Fatalf("reminder buttons %q, want %q", got, want)
	}

	// U3 says Ja in the DM: it counts on the post.
	containsAll(t, "U3's Ja in the DM", h.replyAt(h.clickFor("U3", u3.Form.Get("channel"), u3.TS, dmButtons[0])), "Genoteerd", "Maandoverleg projectleiders", "Ja")
	if got := h.answers("m1")["U3"]; got != meeting.Yes {
		t.Fatalf("U3's answer after Ja in the DM: %q", got)
	}
	last = h.settled(ts, "the post with U3's Ja", func(s string) bool { return strings.Contains(s, "Ja (2)") })
	containsAll(t, "post after the DM's Ja", last.text(t), "Name U2, Name U3", "Misschien (0)")
	// Someone else clicking the button of U3's DM is a click in a
	// conversation the meeting is not in.
	containsAll(t, "U4 clicking U3's DM", h.replyAt(h.clickFor("U4", u3.Form.Get("channel"), u3.TS, dmButtons[0])), "Ik vind geen vergadering")
	if got := h.answers("m1")["U4"]; got != meeting.No {
		t.Errorf("U4's answer changed to %q through another's DM", got)
	}

	// Running the due jobs again sends nothing twice.
	h.advanceTo(time.Date(2026, 1, 14, 10, 1, 0, 0, meetingZone))
	h.remindersSent(t, map[string]int{"U2": 1, "U3": 1})
	// The hour before, the second reminder; U3 said Ja by now.
	h.advanceTo(time.Date(2026, 1, 15, 9, 0, 0, 0, meetingZone))
	dms = h.remindersSent(t, map[string]int{"U2": 2, "U3": 2})
	containsAll(t, "U2's second reminder", dms["U2"][1].text(t), "donderdag 15 januari 10:00–11:30", "over 1 uur")
	containsAll(t, "U3's second reminder", dms["U3"][1].text(t), "04:00–05:30", "over 1 uur", "Je antwoord: *Ja*")

	// The channel's calendar feed: its address to the asker only, and
	// kring serves the meeting there with its rule.
	containsAll(t, "/meeting agenda-link", h.say("U4", "C1", "/meeting", "agenda-link").all(),
		"Zet de vergaderingen van dit kanaal in je agenda", h.public.URL+"/ics/")
	containsAll(t, "feed of C1", fetchFeed(t, h.feedAddress("C1")), "BEGIN:VCALENDAR", "SUMMARY:Maandoverleg projectleiders",
		"RRULE:FREQ=MONTHLY;BYDAY=+3TH", "DTSTART;TZID=Europe/Amsterdam:20260115T100000", "LOCATION:Online")
	if n := len(h.postsIn("C1")); n != 1 {
		t.Errorf("%d messages in C1; the feed's address is for the asker only", n)
	}
	m, err := h.meetings.Get(ctx, "m1")
	if err != nil || m.Ref.ID != ts {
		t.Errorf("meeting m1 records post %+v (%v), want %s", m.Ref, err, ts)
	}
}

// feedAddress is the address of channel's calendar feed as kring keeps
// it: KRING_PUBLIC_URL/ics/TOKEN.ics.
func (h *meetingHarness) feedAddress(channel string) string {
	h.t.Helper()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: channel}
	token, err := h.meetings.FeedToken(context.Background(), meeting.Feed{Where: where}, false)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.public.URL + "/ics/" + token + ".ics"
}

// feedAddressShape is a feed's address: its token is letters and digits.
var feedAddressShape = regexp.MustCompile(`/ics/[0-9a-f]{64}\.ics$`)

// TestSlackMeetingFeedAddressWhole: the answer to /meeting agenda-link
// shows the feed's address in Slack as it is. Tokens were base64url once,
// and about half had a '_', which mrkdwn read as italics (written as plain
// text the renderer put zero-width spaces around it, so the address Slack
// showed, linked and copied was not the feed's). Tokens are hex now:
// letters and digits only.
func TestSlackMeetingFeedAddressWhole(t *testing.T) {
	h := newMeetingHarness(t)
	h.know("U1")
	h.plan("U1", "C1", planLine)
	answer := h.say("U1", "C1", "/meeting", "agenda-link vernieuw")
	addr := h.feedAddress("C1")
	// Letters and digits only: no mrkdwn reads part of it as formatting.
	if !feedAddressShape.MatchString(addr) {
		t.Fatalf("feed address %s: want /ics/ and a token of 64 hex digits", addr)
	}
	fetchFeed(t, addr)
	var shown []string // the mrkdwn Slack shows: the blocks, not the fallback
	for _, b := range answer.Blocks.BlockSet {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil {
			shown = append(shown, s.Text.Text)
		}
	}
	if text := strings.Join(shown, "\n"); !strings.Contains(text, addr) {
		t.Errorf("Slack does not show the feed's address %s as it is (as a link or bare):\n%q", addr, text)
	}
}

// remindersSent checks that each user got want[user] reminder DMs so far,
// each in a conversation opened with conversations.open for them, and
// nobody else any; it returns the DMs by user.
func (h *meetingHarness) remindersSent(t *testing.T, want map[string]int) map[string][]call {
	t.Helper()
	opened := map[string]string{} // DM channel → user
	for _, c := range h.api.recorded("conversations.open") {
		opened["D"+c.Form.Get("users")] = c.Form.Get("users")
	}
	got := map[string][]call{}
	for _, c := range h.api.recorded("chat.postMessage") {
		ch := c.Form.Get("channel")
		if !strings.HasPrefix(ch, "D") {
			continue
		}
		u, ok := opened[ch]
		if !ok {
			t.Errorf("a DM in %s, which conversations.open never gave", ch)
			continue
		}
		got[u] = append(got[u], c)
	}
	for u, n := range want {
		if len(got[u]) != n {
			t.Errorf("%s got %d reminder DMs, want %d", u, len(got[u]), n)
		}
	}
	for u, cs := range got {
		if _, ok := want[u]; !ok {
			t.Errorf("%s got %d reminder DMs, want none", u, len(cs))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return got
}

// readable is mrkdwn as Slack shows it: without the zero-width spaces
// the renderer puts around a '_' in text, so that it shows as itself.
func readable(mrkdwn string) string { return strings.ReplaceAll(mrkdwn, "\u200b", "") }

// fetchFeed GETs a calendar feed and returns its body, checking it is
// iCalendar.
func fetchFeed(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("GET %s: %d %s:\n%s", addr, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// RFC 5545 folds lines at 75 octets with CRLF and a space.
	return strings.ReplaceAll(strings.ReplaceAll(string(body), "\r\n ", ""), "\r\n", "\n")
}

// TestSlackMeetingEveryone: with --iedereen the channel's members, as
// conversations.members lists them page by page, decide who gets the
// reminder: every member who did not say Nee, the organiser too, but not
// kring itself, another bot or a deactivated account.
func TestSlackMeetingEveryone(t *testing.T) {
	h := newMeetingHarness(t)
	h.api.addUser("UHELPER", "Europe/Amsterdam", true, false)
	h.api.addUser("UGONE", "Europe/Amsterdam", false, true)
	h.api.addUser("U3", "Asia/Jakarta", false, false)
	// More members than one page of conversations.members holds.
	members := []string{standinBot, "U1", "U2", "U3", "U4", "UHELPER", "UGONE"}
	for i := range membersPage {
		members = append(members, fmt.Sprintf("UF%03d", i))
	}
	h.api.addChannel("C2", false, members...)
	h.know("U1", "U2", "U3", "U4")

	_, post := h.plan("U1", "C2", `"Kennistafel geboortezorg" morgen 14:00 --herinner=1u --iedereen`)
	containsAll(t, "meeting post", post.text(t), "dinsdag 6 januari 14:00–15:00", "herinnering 1 uur van tevoren aan iedereen die niet nee zei")
	rsvp := buttons(t, post, "meeting.rsvp")
	h.deliver(h.clickBody("U2", "C2", post.TS, rsvp[0]))
	h.deliver(h.clickBody("U4", "C2", post.TS, rsvp[2]))

	h.advanceTo(time.Date(2026, 1, 6, 13, 0, 0, 0, meetingZone))
	want := map[string]int{"U1": 1, "U2": 1, "U3": 1}
	for _, m := range members[7:] {
		want[m] = 1
	}
	dms := h.remindersSent(t, want)
	containsAll(t, "U3's reminder", readable(dms["U3"][0].text(t)), "dinsdag 6 januari 20:00–21:00", "jouw tijd, Asia/Jakarta", "Je hebt nog niet gezegd of je komt")
	containsAll(t, "U2's reminder", dms["U2"][0].text(t), "dinsdag 6 januari 14:00–15:00", "Je antwoord: *Ja*")

	lists := 0
	var cursors []string
	for _, c := range h.api.recorded("conversations.members") {
		if c.Form.Get("channel") == "C2" {
			lists++
			cursors = append(cursors, c.Form.Get("cursor"))
		}
	}
	if lists < 2 || cursors[0] != "" || cursors[1] == "" {
		t.Errorf("conversations.members of C2 asked %d times with cursors %q; want the first page and then the next by its cursor", lists, cursors)
	}
}
