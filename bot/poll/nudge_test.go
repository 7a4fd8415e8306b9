package poll_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell/shelltest"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

// roster is a recording Poster that can list a channel's members and
// tell about users, as Slack and Mattermost can.
type roster struct {
	*bottest.Poster
	mu      sync.Mutex
	members map[string][]string // where.Key() → ids
	users   map[string]bot.User
	listed  int
}

func (r *roster) Members(_ context.Context, where bot.Where) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listed++
	return slices.Clone(r.members[where.Key()]), nil
}

func (r *roster) Users(_ context.Context, _ bot.Where, ids []string) map[string]bot.User {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bot.User{}
	for _, id := range ids {
		if u, ok := r.users[id]; ok {
			out[id] = u
		}
	}
	return out
}

var (
	_ bot.Roster    = (*roster)(nil)
	_ bot.Directory = (*roster)(nil)
)

// setupNudges is setup with a Poster that lists #limburg as anna, bert,
// cor and dirk; cor lives on Curaçao and reads English.
func setupNudges(t *testing.T) (*fixture, *roster) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	fx := &fixture{
		mux:    &bot.Mux{Settings: db.Settings()},
		poster: bottest.NewPoster(),
		clock:  bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams)),
		store:  db.Polls(),
		jobs:   db.Jobs(),
		where:  bot.Where{Platform: bot.Shell, Team: "t", Channel: "limburg"},
	}
	r := &roster{
		Poster:  fx.poster,
		members: map[string][]string{fx.where.Key(): {"anna", "bert", "cor", "dirk"}},
		users: map[string]bot.User{
			"anna": {ID: "anna", Name: "Anna", TZ: "Europe/Amsterdam"},
			"cor":  {ID: "cor", Name: "Cor", TZ: "America/Curacao", Locale: "en-US"},
		},
	}
	fx.runner = &schedule.Runner{Store: fx.jobs, Clock: fx.clock}
	lv := live.New(live.Config{Poster: r, Jobs: fx.jobs, Clock: fx.clock, Inline: true})
	t.Cleanup(lv.Close)
	n := 0
	poll.New(poll.Config{
		NewID: func() string { n++; return fmt.Sprintf("p%d", n) },
		Store: fx.store, Jobs: fx.jobs, Poster: r, Clock: fx.clock,
		Admins: bot.ParseAdmins("shell:beheer"), Secret: "s3cret", Location: ams, Locale: fx.mux.Locale, Live: lv,
	}).Register(fx.mux, fx.runner)
	return fx, r
}

// dms returns the direct messages sent so far, by user, as plain text.
func dms(fx *fixture) map[string][]string {
	out := map[string][]string{}
	for _, c := range fx.poster.Calls() {
		if c.Method == "DM" {
			out[c.User] = append(out[c.User], text(c.Message))
		}
	}
	return out
}

func runDue(t *testing.T, fx *fixture) {
	t.Helper()
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestNudgeThoseWhoDidNotVote: an hour before the close, every member who
// has not voted gets one direct message, in their language and time zone;
// a voter gets none, and running the job again sends nothing twice.
func TestNudgeThoseWhoDidNotVote(t *testing.T) {
	for _, anonymous := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymous=%v", anonymous), func(t *testing.T) {
			fx, _ := setupNudges(t)
			cmd := `"Regiodag in maart?" Ja Nee --sluit=2h --herinner=1u`
			if anonymous {
				cmd += " --anoniem"
			}
			if r := replyText(fx.command("anna", cmd)); !strings.Contains(r, "krijgt een privébericht 1 uur voor de sluiting") {
				t.Fatalf("create: %s", r)
			}
			ref, m := fx.posted(t)
			fx.click("bert", button(t, m, "poll.vote", "1. Ja"), ref)
			fx.click("dirk", button(t, m, "poll.vote", "2. Nee"), ref)
			fx.click("dirk", button(t, m, "poll.vote", "2. Nee"), ref) // took his vote back
			if anonymous {
				_, ballots, err := fx.store.Get(context.Background(), "p1")
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range ballots {
					if !strings.HasPrefix(b.Voter, "anon:") {
						t.Errorf("the store holds a voter's id: %+v", b)
					}
				}
			}

			fx.clock.Advance(59 * time.Minute)
			runDue(t, fx)
			if got := dms(fx); len(got) != 0 {
				t.Fatalf("nudged before the hour: %v", got)
			}
			fx.clock.Advance(time.Minute)
			runDue(t, fx)
			got := dms(fx)
			if len(got) != 3 || got["bert"] != nil || len(got["anna"]) != 1 || len(got["cor"]) != 1 || len(got["dirk"]) != 1 {
				t.Fatalf("nudged %v; want anna, cor and dirk once each", got)
			}
			for _, want := range []string{"Je hebt nog niet gestemd op „Regiodag in maart?” van Anna", "De peiling sluit di 13 jan om 16:30.", "ID p1"} {
				if !strings.Contains(got["anna"][0], want) {
					t.Errorf("anna's nudge lacks %q:\n%s", want, got["anna"][0])
				}
			}
			for _, want := range []string{"You have not voted yet", "closes Tue 13 Jan at 11:30 (your time, America/Curacao)"} {
				if !strings.Contains(got["cor"][0], want) {
					t.Errorf("cor's nudge lacks %q:\n%s", want, got["cor"][0])
				}
			}
			if anon := strings.Contains(got["dirk"][0], "anoniem"); anon != anonymous {
				t.Errorf("dirk's nudge says anonymous %v, want %v:\n%s", anon, anonymous, got["dirk"][0])
			}

			// A runner that lost the job after sending puts it again: no
			// one gets a second message.
			p, err := fx.store.Poll(context.Background(), "p1")
			if err != nil {
				t.Fatal(err)
			}
			again := schedule.Job{ID: "poll.nudge:p1:3600", Kind: "poll.nudge", Due: p.Closes.Add(-time.Hour), Payload: []byte(`{"poll":"p1","before":3600000000000}`)}
			if err := fx.jobs.Put(context.Background(), again); err != nil {
				t.Fatal(err)
			}
			runDue(t, fx)
			if got := dms(fx); len(got["anna"]) != 1 || len(got["cor"]) != 1 || len(got["dirk"]) != 1 {
				t.Errorf("a second run of the job sent again: %v", got)
			}
		})
	}
}

// TestNudgeOffsets: several offsets each nudge, longest first; a member
// who voted between them gets only the first.
func TestNudgeOffsets(t *testing.T) {
	fx, _ := setupNudges(t)
	if r := replyText(fx.command("anna", `"Welk thema?" A B --sluit=3d --herinner=1u,1d`)); !strings.Contains(r, "1 dag voor de sluiting en 1 uur voor de sluiting") {
		t.Fatalf("create: %s", r)
	}
	fx.clock.Advance(2 * 24 * time.Hour)
	runDue(t, fx)
	if got := dms(fx); len(got) != 4 {
		t.Fatalf("a day before: nudged %v, want all four", got)
	}
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.vote", "1. A"), ref)
	fx.clock.Advance(23 * time.Hour)
	runDue(t, fx)
	got := dms(fx)
	if len(got["bert"]) != 1 || len(got["anna"]) != 2 || len(got["cor"]) != 2 {
		t.Errorf("an hour before: %v; want bert once, the others twice", got)
	}
}

// TestNudgeFollowsThePoll: a poll closed by hand nudges no one; reopened
// before its nudge, it nudges; deleted, it does not.
func TestNudgeFollowsThePoll(t *testing.T) {
	fx, _ := setupNudges(t)
	fx.command("anna", `"Eerste?" A B --sluit=2h --herinner=1u`)
	fx.command("anna", `"Tweede?" A B --sluit=2h --herinner=1u`)
	if r := replyText(fx.command("anna", "sluit p1")); !strings.Contains(r, "gesloten") {
		t.Fatal(r)
	}
	if r := replyText(fx.command("anna", "verwijder p2")); !strings.Contains(r, "verwijderd") {
		t.Fatal(r)
	}
	fx.clock.Advance(30 * time.Minute)
	if r := replyText(fx.command("anna", "heropen p1")); !strings.Contains(r, "weer open") {
		t.Fatal(r)
	}
	fx.clock.Advance(30 * time.Minute)
	runDue(t, fx)
	got := dms(fx)
	if len(got) != 4 {
		t.Fatalf("nudged %v, want the four members once about the reopened poll", got)
	}
	for user, texts := range got {
		if len(texts) != 1 || !strings.Contains(texts[0], "Eerste?") {
			t.Errorf("%s got %q", user, texts)
		}
	}

	// Closed after its nudge and reopened: the nudge for that closing
	// time went out already, and does not go again.
	fx.command("anna", "sluit p1")
	fx.command("anna", "heropen p1")
	runDue(t, fx)
	if got := dms(fx); len(got["anna"]) != 1 {
		t.Errorf("a reopened poll nudged again: %v", got)
	}
}

// TestNudgeWithoutMembers: where the platform cannot list members the
// poll is posted anyway, and the reply says no nudges can go out.
func TestNudgeWithoutMembers(t *testing.T) {
	fx := setup(t)
	if r := replyText(fx.command("anna", `"Lunch?" Pizza Soep --sluit=2h --herinner=1u`)); !strings.Contains(r, "kan ik hier niet sturen") {
		t.Fatalf("reply %q, want that nudges cannot be sent here", r)
	}
	fx.posted(t)
	fx.clock.Advance(time.Hour)
	runDue(t, fx)
	if got := dms(fx); len(got) != 0 {
		t.Errorf("nudged %v", got)
	}
}

// TestRemindErrors: what --herinner cannot keep is refused with an
// example of what works, and no poll is posted.
func TestRemindErrors(t *testing.T) {
	fx, _ := setupNudges(t)
	tests := []struct{ cmd, want string }{
		{`"Q?" A B --herinner=1u`, "geef ook een sluitingstijd op"},
		{`"Q?" A B --sluit=30m --herinner=1u`, "Die herinnering zou al voorbij zijn"},
		{`"Q?" A B --sluit=3d --herinner=1m`, "Die herinnering begrijp ik niet: 1m."},
		{`"Q?" A B --sluit=3d --herinner=soms`, "bijvoorbeeld --herinner=1u of --herinner=1d,1u"},
		{`"Q?" A B --sluit=3d --herinner=1u,2u,3u,4u`, "Hooguit 3 herinneringen"},
		{`"Q?" A B --sluit=3d --herinner`, "Die herinnering begrijp ik niet"},
	}
	for _, tc := range tests {
		if got := replyText(fx.command("anna", tc.cmd)); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if got := dms(fx); len(got) != 0 || len(fx.poster.Calls()) != 0 {
		t.Errorf("a refused poll was posted: %+v", fx.poster.Calls())
	}
}

// nudgeSession runs a shell script with /poll wired as kring shell wires
// it (shelltest.Run).
func nudgeSession(t *testing.T, script string) string {
	t.Helper()
	return shelltest.Run(t, script, func(s shelltest.Session) {
		poll.New(poll.Config{
			NewID: shelltest.Counter("p"),
			Store: s.DB.Polls(), Jobs: s.DB.Jobs(), Poster: s.Shell, Clock: s.Clock, Location: shelltest.Amsterdam,
			Admins: bot.ParseAdmins(shelltest.Admins), Secret: "test", Locale: s.Mux.Locale,
		}).Register(s.Mux, s.Runner)
	})
}

// TestNudgeSessions: the shell shows the nudges after :advance, in Dutch
// and in English (golden files; go test -update rewrites them).
func TestNudgeSessions(t *testing.T) {
	for _, lang := range []string{"nl", "en"} {
		t.Run(lang, func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join("testdata", "nudge."+lang+".script"))
			if err != nil {
				t.Fatal(err)
			}
			bottest.Golden(t, filepath.Join("testdata", "nudge."+lang+".golden"), []byte(nudgeSession(t, string(script))))
		})
	}
}
