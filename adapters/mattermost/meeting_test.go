package mattermost

// /meeting through Mattermost, end to end: slash commands with their token
// and button clicks with the signed context the stand-in hands back go
// in, the REST API stand-in records the posts, patches and direct
// messages, and the schedule's runner on a fake clock sends the
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

	"github.com/mattermost/mattermost/server/public/model"
	goredis "github.com/redis/go-redis/v9"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/kringbot/kring/storage/redis"
)

// More people of the meeting tests, beside anna, bram and cato.
const (
	dirk         = "dirk0000000000000000000000"
	eva          = "evaa0000000000000000000000"
	otherChannel = "chan20000000000000000000000"
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
// Thursday 15 January and the posts read the same every run.
var meetingStart = time.Date(2026, 1, 5, 9, 0, 0, 0, meetingZone)

// planLine is the meeting the issue has a project leader plan.
const planLine = `/meeting "Maandoverleg projectleiders" elke derde donderdag 10:00 --duur=90m --plaats=Online --herinner=1d,1h`

// meetingHarness is kring on Mattermost with the real meeting feature,
// wired as kring serve wires it (cmd/kring/app.go): one store for the
// meetings and the jobs, the live post rendered off the request
// path, the adapter's endpoints and the calendar feeds on one server
// (KRING_PUBLIC_URL), and the schedule's runner on a fake clock.
type meetingHarness struct {
	t        *testing.T
	mm       *mattermosttest.Server
	kring    *httptest.Server
	meetings meeting.Store
	// poster is the adapter's Poster, as the feature has it.
	poster bot.Poster
	clock  *bottest.Clock
	runner *schedule.Runner
}

// meetingStores are the stores kring serve opens, on one backend.
type meetingStores struct {
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
	return meetingStores{meetings: db.Meetings(), jobs: db.Jobs(), settings: db.Settings()}
}

// redisStores are the stores on the test Redis (KRING_TEST_REDIS, else
// db 15 of the local one) under a key prefix of this test's own, removed
// when it ends. Without a Redis the test is skipped, loudly; on CI
// (CI=true) it fails.
func redisStores(t *testing.T) meetingStores {
	t.Helper()
	addr := os.Getenv("KRING_TEST_REDIS")
	if addr == "" {
		addr = "redis://127.0.0.1:6379/15"
	}
	opts, err := goredis.ParseURL(addr)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("\n\n*** NO REDIS: /meeting through Mattermost is NOT tested on Redis. Start Redis or set KRING_TEST_REDIS. ***\n*** %v ***\n\n", err)
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
	return meetingStores{meetings: s.Meetings(), jobs: s.Jobs(), settings: s.Settings()}
}

func newMeetingHarness(t *testing.T) *meetingHarness {
	t.Helper()
	return newMeetingHarnessOn(t, boltStores(t))
}

// newMeetingHarnessOn is the meeting harness on the stores given.
func newMeetingHarnessOn(t *testing.T, st meetingStores) *meetingHarness {
	t.Helper()
	mm := mattermosttest.New(t)
	mm.AddUser(anna, "anna", "Anna", "de Vries", "Europe/Amsterdam")
	mm.AddUser(bram, "bram", "Bram", "Bakker", "Europe/Amsterdam")
	mm.AddUser(cato, "cato", "Cato", "", "")
	mm.SetTimezone(cato, true, "America/New_York")
	mm.AddUser(dirk, "dirk", "Dirk", "", "Europe/Amsterdam")
	mm.AddUser(eva, "eva", "Eva", "", "Europe/Amsterdam")
	mm.AddMembers(testChannel, anna, bram, cato, dirk)
	mm.AddMembers(otherChannel, eva)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	web := http.NewServeMux()
	kring := httptest.NewServer(web)
	t.Cleanup(kring.Close)
	bm := &bot.Mux{Deliveries: st.jobs, Settings: st.settings, Log: log}
	ad, err := New(Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{testToken},
		Secret: testSecret, PublicURL: kring.URL, Handler: bm, Log: log,
		RetryBackoff: time.Millisecond, Every: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := bottest.NewClock(meetingStart)
	runner := &schedule.Runner{Store: st.jobs, Clock: clock, Log: log}
	posters := bot.Posters{bot.Mattermost: ad.Poster()}
	lv := live.New(live.Config{Poster: posters, Jobs: st.jobs, Every: 5 * time.Millisecond, Clock: clock, Log: log})
	var n atomic.Int64
	f := meeting.New(meeting.Config{
		Store: st.meetings, Jobs: st.jobs, Poster: posters, Clock: clock,
		Location: meetingZone, Log: log, NewID: func() string { return fmt.Sprintf("m%d", n.Add(1)) },
		Locale: bm.Locale, Settings: st.settings, Live: lv, PublicURL: kring.URL,
	})
	f.Register(bm, runner)
	ad.Mount(web)
	f.Routes(web)
	// The final renders go out before the adapter closes, as kring
	// serve stops.
	t.Cleanup(func() {
		f.Close()
		lv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := ad.Close(ctx); err != nil {
			t.Errorf("close adapter: %v", err)
		}
	})
	return &meetingHarness{t: t, mm: mm, kring: kring, meetings: st.meetings, poster: ad.Poster(), clock: clock, runner: runner}
}

// command runs a slash command as user in channel and returns the text
// of its immediate answer, which must be for that user only.
func (h *meetingHarness) command(user, channel, line string) string {
	h.t.Helper()
	r, err := h.mm.Command(h.kring.URL+"/mattermost/commands", testToken, user, channel, line)
	if err != nil || r.Status != http.StatusOK {
		h.t.Fatalf("%s: %v %d %s", line, err, r.Status, r.Body)
	}
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil {
		h.t.Fatalf("%s: %v", line, err)
	}
	if resp.ResponseType != model.CommandResponseTypeEphemeral {
		h.t.Errorf("%s: answer of type %q, want ephemeral", line, resp.ResponseType)
	}
	return resp.Text
}

// click clicks the i-th button of a post as user, as Mattermost sends it,
// and returns the text kring showed that user only.
func (h *meetingHarness) click(post string, i int, user string) string {
	h.t.Helper()
	before := len(h.mm.Ephemerals())
	r, err := h.mm.Click(nil, post, i, user)
	if err != nil || r.Status != http.StatusOK {
		h.t.Fatalf("click %d of %s by %s: %v %d %s", i, post, user, err, r.Status, r.Body)
	}
	var texts []string
	for _, e := range h.mm.Ephemerals()[before:] {
		if e.UserID == user {
			texts = append(texts, e.Post.Message)
		}
	}
	return strings.Join(texts, "\n")
}

// clickBody is the request Mattermost sends for a click on the i-th
// button of post by user, with trigger as its trigger id, from the
// channel and team given (a real click carries the post's channel and
// that channel's team, "" for a direct message).
func (h *meetingHarness) clickBody(post string, i int, user, channel, team, trigger string) []byte {
	h.t.Helper()
	a := mattermosttest.Actions(h.mm.Post(post))[i]
	body, err := json.Marshal(model.PostActionIntegrationRequest{
		UserId: user, ChannelId: channel, TeamId: team, PostId: post,
		TriggerId: trigger, Type: model.PostActionTypeButton, Context: a.Integration.Context,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return body
}

// deliver sends a click's request to kring and returns the status and
// the text kring answered for the clicking user only.
func (h *meetingHarness) deliver(body []byte) (int, string) {
	h.t.Helper()
	resp, err := http.Post(h.kring.URL+"/mattermost/actions", "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer model.PostActionIntegrationResponse
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && len(raw) > 0 {
		if err := json.Unmarshal(raw, &answer); err != nil {
			h.t.Fatalf("answer to a click is not JSON: %v: %s", err, raw)
		}
	}
	return resp.StatusCode, answer.EphemeralText
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

// settled waits until the post, as Mattermost holds it, satisfies ok.
// Updates are coalesced, so only the latest shows the final state.
func (h *meetingHarness) settled(post, what string, ok func(text string) bool) *model.Post {
	h.t.Helper()
	var p *model.Post
	h.mm.WaitFor(h.t, time.Minute, what, func() bool {
		p = h.mm.Post(post)
		return ok(shown(p))
	})
	return p
}

// shown is what a person reads of a post: its text and its buttons'
// labels, one line each.
func shown(p *model.Post) string {
	var b strings.Builder
	b.WriteString(p.Message)
	for _, a := range mattermosttest.Actions(p) {
		b.WriteString("\n[" + a.Name + "]")
	}
	return b.String()
}

// buttonNames lists a post's buttons' labels.
func buttonNames(p *model.Post) []string {
	var out []string
	for _, a := range mattermosttest.Actions(p) {
		out = append(out, a.Name)
	}
	return out
}

func containsAll(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// dmsOf returns the direct messages kring sent user, in order.
func (h *meetingHarness) dmsOf(user string) []*model.Post {
	return h.mm.ChannelPosts(h.mm.DMChannel(user))
}

// remindersSent checks that each user got want[user] direct messages so
// far and nobody else any (of the users given in all), and returns the
// messages by user.
func (h *meetingHarness) remindersSent(all []string, want map[string]int) map[string][]*model.Post {
	h.t.Helper()
	got := map[string][]*model.Post{}
	for _, u := range all {
		dms := h.dmsOf(u)
		if len(dms) != want[u] {
			h.t.Errorf("%s got %d direct messages, want %d", u, len(dms), want[u])
		}
		got[u] = dms
	}
	if h.t.Failed() {
		h.t.FailNow()
	}
	return got
}

// goldenPost compares what a post shows, with its buttons' actions and
// values but not their signatures or kring's address, with
// testdata/name.golden.
func goldenPost(t *testing.T, name string, p *model.Post) {
	t.Helper()
	type button struct {
		Name, Style, Action, Value string
	}
	shape := struct {
		Message  string   `json:"message"`
		Fallback string   `json:"fallback"`
		Buttons  []button `json:"buttons"`
	}{Message: p.Message}
	for i, a := range mattermosttest.Attachments(p) {
		if i == 0 {
			shape.Fallback = a.Fallback
		}
		for _, act := range a.Actions {
			ctx := act.Integration.Context
			action, _ := ctx[keyAction].(string)
			value, _ := ctx[keyValue].(string)
			shape.Buttons = append(shape.Buttons, button{Name: act.Name, Style: act.Style, Action: action, Value: value})
		}
	}
	golden(t, name, shape)
}

// TestMattermostMeeting is the issue's flow through Mattermost: a project
// leader plans the monthly meeting with the slash command; three
// colleagues answer with the buttons, which patch the post in place (a
// repeated delivery counting once, a click in another channel refused);
// the day and the hour before, the runner sends the reminders through
// POST /channels/direct and POST /posts to who said Ja or Misschien, in
// each one's own timezone as Mattermost keeps it; a Ja in a reminder
// counts on the post; and /meeting agenda-link gives a feed kring serves.
// It runs on both backends: on Redis a click is one script that also
// records its delivery.
func TestMattermostMeeting(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { mattermostMeetingFlow(t, newMeetingHarness(t)) })
	t.Run("redis", func(t *testing.T) { mattermostMeetingFlow(t, newMeetingHarnessOn(t, redisStores(t))) })
}

func mattermostMeetingFlow(t *testing.T, h *meetingHarness) {
	everyone := []string{anna, bram, cato, dirk, eva}

	reply := h.command(anna, testChannel, planLine)
	containsAll(t, "/meeting answer", reply, "Je vergadering staat in het kanaal", "m1", "donderdag 15 januari 10:00–11:30")
	posts := h.mm.ChannelPosts(testChannel)
	if len(posts) != 1 || posts[0].UserId != h.mm.Bot.Id {
		t.Fatalf("%d posts in the channel after /meeting, want the bot's one", len(posts))
	}
	post := posts[0].Id
	first := h.mm.Post(post)
	containsAll(t, "meeting post", shown(first),
		"Maandoverleg projectleiders", "donderdag 15 januari 10:00–11:30", "elke derde donderdag van de maand",
		"do 19 feb 10:00", "📍 Online", "herinnering 1 dag en 1 uur van tevoren aan wie ja of misschien zei")
	if got, want := buttonNames(first), []string{"Ja (0)", "Misschien (0)", "Nee (0)"}; !slices.Equal(got, want) {
		t.Fatalf("RSVP buttons %q, want %q", got, want)
	}

	// Bram first says Nee, then Ja; the Nee is then delivered once more
	// as it was (a proxy retrying): it changes nothing.
	firstNo := h.clickBody(post, 2, bram, testChannel, h.mm.TeamID, h.mm.IssueTrigger(bram))
	if s, _ := h.deliver(firstNo); s != http.StatusOK {
		t.Fatalf("bram's Nee: %d", s)
	}
	h.click(post, 0, bram)
	h.click(post, 1, cato)
	h.click(post, 2, dirk)
	if s, _ := h.deliver(firstNo); s != http.StatusOK {
		t.Fatalf("bram's Nee delivered again: %d", s)
	}
	want := map[string]meeting.Answer{bram: meeting.Yes, cato: meeting.Maybe, dirk: meeting.No}
	if got := h.answers("m1"); !maps.Equal(got, want) {
		t.Fatalf("answers after three people clicked and a repeat: %v, want %v", got, want)
	}
	last := h.settled(post, "the post with three answers", func(s string) bool {
		return strings.Contains(s, "[Ja (1)]") && strings.Contains(s, "[Misschien (1)]") && strings.Contains(s, "[Nee (1)]")
	})
	containsAll(t, "updated post", shown(last), "Bram Bakker", "Cato", "Dirk", "donderdag 15 januari 10:00–11:30")
	if n := len(h.mm.ChannelPosts(testChannel)); n != 1 {
		t.Errorf("%d posts in the channel, want the one post, patched in place", n)
	}
	if n := h.mm.Count(http.MethodPut, "/api/v4/posts/"+post+"/patch"); n < 2 {
		t.Errorf("the post was patched %d times, want its buttons bound and the answers shown", n)
	}
	goldenPost(t, "meeting_post", last)

	// The post's context sent from another channel does not verify: it
	// is signed with its own channel and post.
	if s, _ := h.deliver(h.clickBody(post, 0, eva, otherChannel, h.mm.TeamID, h.mm.IssueTrigger(eva))); s != http.StatusForbidden {
		t.Errorf("a click of the post sent from another channel: %d, want 403", s)
	}
	// A button kring made in another channel, naming the same meeting,
	// finds no meeting there.
	elsewhere := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: otherChannel}
	ref, err := h.poster.Post(context.Background(), elsewhere, bot.Message{Text: "m1", Blocks: []bot.Block{
		bot.Buttons{Buttons: []bot.Button{{ID: "meeting.rsvp", Label: "Ja", Value: "m1:yes"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	containsAll(t, "a click in another channel", h.click(ref.ID, 0, eva), "Ik vind geen vergadering met ID", "m1")
	if got := h.answers("m1"); !maps.Equal(got, want) {
		t.Fatalf("a click in another channel changed the answers: %v", got)
	}

	// Nothing is due before the day before.
	h.advanceTo(time.Date(2026, 1, 14, 9, 59, 0, 0, meetingZone))
	h.remindersSent(everyone, nil)
	// The day before: bram (Amsterdam) and cato (New York), not dirk
	// (Nee) nor the organiser, who did not answer.
	h.advanceTo(time.Date(2026, 1, 14, 10, 0, 0, 0, meetingZone))
	dms := h.remindersSent(everyone, map[string]int{bram: 1, cato: 1})
	containsAll(t, "bram's reminder", shown(dms[bram][0]), "Herinnering: Maandoverleg projectleiders",
		"donderdag 15 januari 10:00–11:30", "over 1 dag", "📍 Online", "_Je antwoord:_ **_Ja_**", "[Ja]", "[Misschien]", "[Nee]")
	if s := dms[bram][0].Message; strings.Contains(s, "jouw tijd") {
		t.Errorf("bram's reminder names a zone, though bram is in the meeting's:\n%s", s)
	}
	containsAll(t, "cato's reminder", shown(dms[cato][0]), "donderdag 15 januari 04:00–05:30", "jouw tijd, America/New", "over 1 dag", "_Je antwoord:_ **_Misschien_**")
	goldenPost(t, "meeting_reminder", dms[cato][0])
	if n := h.mm.Count(http.MethodPost, "/api/v4/channels/direct"); n < 2 {
		t.Errorf("POST /channels/direct %d times for two people", n)
	}

	// Cato says Ja in the reminder: it counts on the post. The click
	// carries no team, as Mattermost sends it from a direct message
	// (DoPostActionWithCookie: TeamId is the channel's, and a direct
	// channel has none; the stand-in's Click sends its team).
	reminder := dms[cato][0]
	status, noted := h.deliver(h.clickBody(reminder.Id, 0, cato, reminder.ChannelId, "", h.mm.IssueTrigger(cato)))
	if status != http.StatusOK {
		t.Fatalf("cato's Ja in the reminder: %d", status)
	}
	containsAll(t, "cato's Ja in the reminder", noted, "Genoteerd", "Maandoverleg projectleiders", "Ja")
	if got := h.answers("m1")[cato]; got != meeting.Yes {
		t.Fatalf("cato's answer after Ja in the reminder: %q", got)
	}
	last = h.settled(post, "the post with cato's Ja", func(s string) bool { return strings.Contains(s, "[Ja (2)]") })
	containsAll(t, "post after the reminder's Ja", shown(last), "Bram Bakker, Cato", "[Misschien (0)]")

	// Running the due jobs again sends nothing twice.
	h.advanceTo(time.Date(2026, 1, 14, 10, 1, 0, 0, meetingZone))
	h.remindersSent(everyone, map[string]int{bram: 1, cato: 1})
	// The hour before, the second reminder; cato said Ja by now.
	h.advanceTo(time.Date(2026, 1, 15, 9, 0, 0, 0, meetingZone))
	dms = h.remindersSent(everyone, map[string]int{bram: 2, cato: 2})
	containsAll(t, "bram's second reminder", dms[bram][1].Message, "donderdag 15 januari 10:00–11:30", "over 1 uur")
	containsAll(t, "cato's second reminder", dms[cato][1].Message, "04:00–05:30", "over 1 uur", "_Je antwoord:_ **_Ja_**")

	// The channel's calendar feed: its address to the asker only, and
	// kring serves the meeting there with its rule.
	containsAll(t, "/meeting agenda-link", h.command(dirk, testChannel, "/meeting agenda-link"),
		"Zet de vergaderingen van dit kanaal in je agenda", h.kring.URL+"/ics/")
	containsAll(t, "feed of the channel", fetchFeed(t, h.feedAddress(testChannel)), "BEGIN:VCALENDAR", "SUMMARY:Maandoverleg projectleiders",
		"RRULE:FREQ=MONTHLY;BYDAY=+3TH", "DTSTART;TZID=Europe/Amsterdam:20260115T100000", "LOCATION:Online")
	if n := len(h.mm.ChannelPosts(testChannel)); n != 1 {
		t.Errorf("%d posts in the channel; the feed's address is for the asker only", n)
	}
}

// feedAddress is the address of channel's calendar feed as kring keeps
// it: KRING_PUBLIC_URL/ics/TOKEN.ics.
func (h *meetingHarness) feedAddress(channel string) string {
	h.t.Helper()
	where := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: channel}
	token, err := h.meetings.FeedToken(context.Background(), meeting.Feed{Where: where}, false)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.kring.URL + "/ics/" + token + ".ics"
}

// feedAddressShape is a feed's address: its token is letters and digits.
var feedAddressShape = regexp.MustCompile(`/ics/[0-9a-f]{64}\.ics$`)

// TestMattermostMeetingFeedAddressWhole: the answer to /meeting
// agenda-link carries the feed's address so that Mattermost links to it
// and shows it as it is. Tokens were base64url once, and about half had a
// '_': Mattermost's markdown read it as italics, and in a bare address its
// escape "\_" stayed in the link (mattermost/marked's GFM url rule takes
// a backslash as part of the address, and browsers read it as '/'), so
// calendars got a 404. Tokens are hex now: letters and digits only.
func TestMattermostMeetingFeedAddressWhole(t *testing.T) {
	h := newMeetingHarness(t)
	h.command(anna, testChannel, planLine)
	answer := h.command(anna, testChannel, "/meeting agenda-link vernieuw")
	addr := h.feedAddress(testChannel)
	// Letters and digits only: no Markdown reads part of it as formatting.
	if !feedAddressShape.MatchString(addr) {
		t.Fatalf("feed address %s: want /ics/ and a token of 64 hex digits", addr)
	}
	fetchFeed(t, addr)
	if !strings.Contains(answer, addr) {
		t.Errorf("the answer does not carry the feed's address %s as it is (as a link or bare), so Mattermost links elsewhere:\n%s", addr, answer)
	}
}

// fetchFeed GETs a calendar feed and returns its body unfolded, checking
// it is iCalendar.
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

// TestMattermostMeetingEveryone: with --iedereen the channel's members, as
// GET /channels/{id}/members lists them page by page, decide who gets the
// reminder: every member who did not say Nee, the organiser too, but not
// kring itself, another bot or a deactivated account.
func TestMattermostMeetingEveryone(t *testing.T) {
	h := newMeetingHarness(t)
	const robot, gone = "robo0000000000000000000000", "gone0000000000000000000000"
	h.mm.AddBot(robot, "robo")
	h.mm.AddUser(gone, "oud", "", "", "")
	h.mm.Deactivate(gone)
	h.mm.SetTimezone(cato, false, "Asia/Jakarta")
	// More members than one page of channel members holds.
	people := []string{anna, bram, cato, dirk}
	var fillers []string
	for i := range membersPage {
		id := fmt.Sprintf("fill%022d", i)
		h.mm.AddUser(id, fmt.Sprintf("lid%d", i), "", "", "")
		fillers = append(fillers, id)
	}
	h.mm.AddMembers(otherChannel, append([]string{robot, gone}, fillers...)...)
	h.mm.AddMembers(otherChannel, people...)

	h.command(anna, otherChannel, `/meeting "Kennistafel geboortezorg" morgen 14:00 --herinner=1u --iedereen`)
	posts := h.mm.ChannelPosts(otherChannel)
	if len(posts) != 1 {
		t.Fatalf("%d posts after /meeting, want 1", len(posts))
	}
	post := posts[0].Id
	containsAll(t, "meeting post", shown(posts[0]), "dinsdag 6 januari 14:00–15:00", "herinnering 1 uur van tevoren aan iedereen die niet nee zei")
	h.click(post, 0, bram)
	h.click(post, 2, dirk)

	h.advanceTo(time.Date(2026, 1, 6, 13, 0, 0, 0, meetingZone))
	want := map[string]int{anna: 1, bram: 1, cato: 1, eva: 1}
	for _, id := range fillers {
		want[id] = 1
	}
	all := append(append([]string{robot, gone}, people...), fillers...)
	all = append(all, eva)
	dms := h.remindersSent(all, want)
	containsAll(t, "cato's reminder", dms[cato][0].Message, "dinsdag 6 januari 20:00–21:00", "jouw tijd, Asia/Jakarta", "Je hebt nog niet gezegd of je komt")
	containsAll(t, "bram's reminder", dms[bram][0].Message, "dinsdag 6 januari 14:00–15:00", "_Je antwoord:_ **_Ja_**")
	if n := h.mm.Count(http.MethodGet, "/api/v4/channels/"+otherChannel+"/members"); n < 2 {
		t.Errorf("GET /channels/%s/members %d times; the members fill more than one page", otherChannel, n)
	}
}
