package meeting_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

var ams = mustZone("Europe/Amsterdam")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// people is a Poster that also knows users' zones and a channel's
// members, as Slack and Mattermost do.
type people struct {
	*bottest.Poster
	zones   map[string]string
	names   map[string]string
	members []string
}

func (p *people) Users(_ context.Context, _ bot.Where, ids []string) map[string]bot.User {
	out := map[string]bot.User{}
	for _, id := range ids {
		if z, ok := p.zones[id]; ok {
			out[id] = bot.User{ID: id, TZ: z}
		}
	}
	return out
}

// Names implements bot.Namer: the platform's display names, which a
// post shows rather than the names the clicks carried.
func (p *people) Names(_ context.Context, _ bot.Where, ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if n, ok := p.names[id]; ok {
			out[id] = n
		}
	}
	return out
}

func (p *people) Members(context.Context, bot.Where) ([]string, error) {
	return slices.Clone(p.members), nil
}

var (
	_ bot.Directory = (*people)(nil)
	_ bot.Roster    = (*people)(nil)
	_ bot.Namer     = (*people)(nil)
)

type fixture struct {
	mux    *bot.Mux
	poster *people
	clock  *bottest.Clock
	store  meeting.Store
	jobs   schedule.Store
	runner *schedule.Runner
	where  bot.Where
	feat   *meeting.Feature
}

func setupAt(t testing.TB, now time.Time) *fixture {
	return setupWith(t, now, nil)
}

// setupWith is setupAt with the feature's Config changed by change.
func setupWith(t testing.TB, now time.Time, change func(*meeting.Config)) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixture(t, now, db.Meetings(), db.Jobs(), db.Settings(), change)
}

// newFixture wires /meeting on the given stores, with a clock standing
// at now.
func newFixture(t testing.TB, now time.Time, meetings meeting.Store, jobs schedule.Store, settings bot.SettingsStore, change func(*meeting.Config)) *fixture {
	t.Helper()
	fx := &fixture{
		mux:    &bot.Mux{Settings: settings},
		poster: &people{Poster: bottest.NewPoster(), zones: map[string]string{}},
		clock:  bottest.NewClock(now),
		store:  meetings,
		jobs:   jobs,
		where:  bot.Where{Platform: bot.Shell, Team: "t", Channel: "projectleiders"},
	}
	fx.runner = &schedule.Runner{Store: fx.jobs, Clock: fx.clock, Max: 1}
	lv := live.New(live.Config{Poster: fx.poster, Jobs: fx.jobs, Clock: fx.clock, Inline: true})
	t.Cleanup(lv.Close)
	n := 0
	c := meeting.Config{
		Store: fx.store, Jobs: fx.jobs, Poster: fx.poster, Clock: fx.clock, Admins: bot.ParseAdmins("shell:beheer"),
		Location: ams, Locale: fx.mux.Locale, Settings: settings, Live: lv,
		NewID:     func() string { n++; return fmt.Sprintf("m%d", n) },
		PublicURL: "https://kring.example.org/",
	}
	if change != nil {
		change(&c)
	}
	fx.feat = meeting.New(c)
	fx.feat.Register(fx.mux, fx.runner)
	return fx
}

func setup(t testing.TB) *fixture {
	return setupAt(t, time.Date(2026, 1, 13, 14, 30, 0, 0, ams))
}

func user(id string) bot.User {
	return bot.User{ID: id, Name: strings.ToUpper(id[:1]) + id[1:]}
}

func (fx *fixture) command(u bot.User, text string) string {
	r := fx.mux.ServeCommand(context.Background(), &bot.Request{Where: fx.where, User: u, Command: "/meeting", Text: text, TriggerID: "t1"})
	if r.Message == nil {
		return ""
	}
	return bot.PlainText(r.Message.Text)
}

func (fx *fixture) click(u bot.User, where bot.Where, b bot.Button, ref bot.Ref) string {
	r := fx.mux.ServeAction(context.Background(), &bot.Action{Where: where, User: u, ID: b.ID, Value: b.Value, Ref: ref, TriggerID: "t2"})
	if r.Message == nil {
		return ""
	}
	return bot.PlainText(r.Message.Text)
}

// post returns the latest state of the last meeting posted.
func (fx *fixture) post(t *testing.T) (bot.Ref, bot.Message) {
	t.Helper()
	var ref bot.Ref
	for _, c := range fx.poster.Calls() {
		if c.Method == "Post" && len(c.Message.Buttons()) > 0 {
			ref = c.Ref
		}
	}
	if ref.IsZero() {
		t.Fatal("nothing posted")
	}
	m, _ := fx.poster.Message(ref)
	return ref, m
}

func text(m bot.Message) string {
	var b strings.Builder
	for _, blk := range m.Blocks {
		switch blk := blk.(type) {
		case bot.Header:
			b.WriteString(blk.Text + "\n")
		case bot.Section:
			b.WriteString(blk.Text + "\n")
		case bot.Context:
			b.WriteString(blk.Text + "\n")
		case bot.Buttons:
			for _, btn := range blk.Buttons {
				b.WriteString("[" + btn.Label + "] ")
			}
			b.WriteString("\n")
		}
	}
	return bot.PlainText(b.String())
}

func button(t *testing.T, m bot.Message, label string) bot.Button {
	t.Helper()
	for _, b := range m.Buttons() {
		if strings.HasPrefix(b.Label, label) {
			return b
		}
	}
	t.Fatalf("no button %q in %+v", label, m.Buttons())
	return bot.Button{}
}

func TestCreatePostAndRSVP(t *testing.T) {
	fx := setup(t)
	reply := fx.command(user("anna"), `"Maandoverleg projectleiders" elke derde donderdag 10:00 --duur=90m --plaats="Utrecht, Jaarbeurs" --link=https://meet.jit.si/maandoverleg --herinner=1d,1u`)
	if !strings.Contains(reply, "ID m1") {
		t.Fatalf("reply: %s", reply)
	}
	ref, m := fx.post(t)
	for _, want := range []string{"Maandoverleg projectleiders", "donderdag 15 januari 10:00–11:30", "elke derde donderdag van de maand", "Utrecht, Jaarbeurs", "meet.jit.si/maandoverleg", "do 19 feb 10:00"} {
		if !strings.Contains(text(m), want) {
			t.Errorf("post lacks %q:\n%s", want, text(m))
		}
	}
	fx.click(user("anna"), fx.where, button(t, m, "Ja"), ref)
	fx.click(user("bert"), fx.where, button(t, m, "Misschien"), ref)
	fx.click(user("cor"), fx.where, button(t, m, "Nee"), ref)
	fx.click(user("bert"), fx.where, button(t, m, "Ja"), ref)
	_, m = fx.post(t)
	got := text(m)
	for _, want := range []string{"Ja (2): Anna, Bert", "Misschien (0)", "Nee (1): Cor", "[Ja (2)]"} {
		if !strings.Contains(got, want) {
			t.Errorf("post lacks %q:\n%s", want, got)
		}
	}
	fx.poster.names = map[string]string{"bert": "Bert de Vries"}
	fx.click(user("cor"), fx.where, button(t, m, "Nee"), ref) // a click renders the post anew
	if _, m := fx.post(t); !strings.Contains(text(m), "Ja (2): Anna, Bert de Vries") {
		t.Errorf("the post does not name bert as the platform does:\n%s", text(m))
	}
	list := fx.command(user("bert"), "lijst")
	if !strings.Contains(list, "Maandoverleg projectleiders") || !strings.Contains(list, "m1") {
		t.Errorf("list: %s", list)
	}
}

func TestSkippedTimeReply(t *testing.T) {
	fx := setupAt(t, time.Date(2026, 3, 27, 12, 0, 0, 0, ams))
	if r := fx.command(user("anna"), `"Nachtdienst" elke zondag 2:30`); !strings.Contains(r, "die dag gaat de klok vooruit") || !strings.Contains(r, "om 03:30") {
		t.Errorf("reply: %s", r)
	}
	if _, m := fx.post(t); !strings.Contains(text(m), "zondag 29 maart 03:30–04:30") || !strings.Contains(text(m), "zo 5 apr 02:30") {
		t.Errorf("post:\n%s", text(m))
	}
}

// TestOrganiserElsewhereNamesZone: a meeting planned by someone whose
// zone is not the workspace's says on its post which zone its times are in.
func TestOrganiserElsewhereNamesZone(t *testing.T) {
	fx := setup(t)
	u := user("anna")
	u.TZ = "Europe/London"
	fx.command(u, `"Kennistafel" morgen 9:00`)
	if _, m := fx.post(t); !strings.Contains(text(m), "woensdag 14 januari 09:00–10:00") || !strings.Contains(text(m), "tijden in Europe/London") {
		t.Errorf("post:\n%s", text(m))
	}
}

// FuzzCommand: whatever follows /meeting, the answer is a reply, never
// an internal error.
func FuzzCommand(f *testing.F) {
	fx := setup(f)
	fx.command(user("anna"), `"Maandoverleg" elke derde donderdag 10:00 --herinner=1d`)
	fx.command(user("anna"), `"Kick-off" morgen 10:00`)
	for _, s := range []string{
		`agenda m1 "Begroting"`, "agenda m1 weg 1", "agenda m1 remove x", "verplaats m1 15 januari 16 januari 14:00",
		"verplaats m1 elke tweede dinsdag 14:00", "verplaats m2 morgen 11:00", "annuleer m1 19 februari", "annuleer m2",
		"agenda-link vernieuw", "mijn agenda", "lijst", "help", "cancel `m1` 19 March", "move m1 19 February 20 February 9am",
		`"Lunch" tomorrow 12:00 --remind=1h --everyone --channel --link=example.org`, "verplaats m1 31 februari 10:00",
	} {
		f.Add(s)
	}
	internal := regexp.MustCompile(`foutcode|Het lukt me nu even niet`)
	f.Fuzz(func(t *testing.T, s string) {
		if r := fx.command(user("anna"), s); internal.MatchString(r) {
			t.Fatalf("/meeting %s: %s", s, r)
		}
	})
}

// TestRepeatedDeliveryCountsOnce: a click the platform delivers twice is
// one click; the store recognises the second in the same step.
func TestRepeatedDeliveryCountsOnce(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Kick-off" morgen 10:00`)
	ref, m := fx.post(t)
	click := func(b bot.Button) bot.Reply {
		return fx.mux.ServeAction(context.Background(), &bot.Action{Where: fx.where, User: user("bert"), ID: b.ID, Value: b.Value, Ref: ref, Delivery: "d-1"})
	}
	if r := click(button(t, m, "Ja")); r.Repeated || r.Message != nil {
		t.Fatalf("first delivery: %+v", r)
	}
	if r := click(button(t, m, "Nee")); !r.Repeated {
		t.Fatalf("second delivery of the same click: %+v", r)
	}
	if _, m := fx.post(t); !strings.Contains(text(m), "Ja (1): Bert") || !strings.Contains(text(m), "Nee (0)") {
		t.Errorf("post:\n%s", text(m))
	}
}
