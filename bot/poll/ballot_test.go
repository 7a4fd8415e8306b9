package poll_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// TestBallotSessions: ranked polls (Borda count and instant runoff) and
// dot votes in the shell, forms and refusals included, in Dutch and in
// English (golden files; go test -update rewrites them).
func TestBallotSessions(t *testing.T) {
	for _, kind := range []string{"rank", "points"} {
		for _, lang := range []string{"nl", "en"} {
			t.Run(kind+"."+lang, func(t *testing.T) {
				script, err := os.ReadFile(filepath.Join("testdata", kind+"."+lang+".script"))
				if err != nil {
					t.Fatal(err)
				}
				bottest.Golden(t, filepath.Join("testdata", kind+"."+lang+".golden"), []byte(nudgeSession(t, string(script))))
			})
		}
	}
}

// lastForm is the last form opened.
func (fx *fixture) lastForm(t *testing.T) bot.Form {
	t.Helper()
	calls := fx.poster.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Method == "OpenForm" {
			return calls[i].Form
		}
	}
	t.Fatal("no form opened")
	return bot.Form{}
}

func (fx *fixture) submit(user string, f bot.Form, values bot.Values) bot.Reply {
	return fx.mux.ServeAction(context.Background(), &bot.Action{
		Where: fx.where, User: bot.User{ID: user, Name: user}, ID: f.ID, Value: f.State, Form: values,
	})
}

// TestBallotFormKeepsOwnBallot: the form of a ranked poll or a dot vote
// opens with the voter's ballot so far, also in an anonymous, hidden
// poll, so a change starts from what they gave.
func TestBallotFormKeepsOwnBallot(t *testing.T) {
	for _, tc := range []struct {
		flags  string
		values bot.Values
		want   map[string]string
	}{
		{"--rangschik --anoniem --verborgen", bot.Values{"1": {"3"}, "2": {"1"}}, map[string]string{"1": "3", "2": "1", "3": ""}},
		{"--punten=5 --anoniem --verborgen", bot.Values{"2": {"4"}, "3": {"1"}}, map[string]string{"1": "", "2": "4", "3": "1"}},
	} {
		t.Run(tc.flags, func(t *testing.T) {
			fx := setup(t)
			if r := fx.command("anna", `"Volgorde?" A B C `+tc.flags); r.Message == nil {
				t.Fatalf("create: %+v", r)
			}
			ref, m := fx.posted(t)
			fx.click("bert", m.Buttons()[0], ref)
			r := fx.submit("bert", fx.lastForm(t), tc.values)
			if len(r.FieldErrors) > 0 || r.Message == nil {
				t.Fatalf("submit: %+v", r)
			}
			fx.click("bert", m.Buttons()[0], ref)
			for _, in := range fx.lastForm(t).Inputs {
				if in.Value != tc.want[in.Name] {
					t.Fatalf("input %s opens with %q; want %q", in.Name, in.Value, tc.want[in.Name])
				}
			}
			// Nobody else sees bert's ballot in his form.
			fx.click("cor", m.Buttons()[0], ref)
			for _, in := range fx.lastForm(t).Inputs {
				if in.Value != "" {
					t.Fatalf("cor's form opens with %s=%q", in.Name, in.Value)
				}
			}
			_, m = fx.posted(t)
			if text := bot.PlainText(m.Blocks[1].(bot.Section).Text); strings.Contains(text, "punt") {
				t.Fatalf("a hidden poll shows points: %s", text)
			}
		})
	}
}

// TestClickOnBallotPollRefused: a vote button's click (as a forged or
// stale one would come) does not count in a ranked poll.
func TestClickOnBallotPollRefused(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `"Volgorde?" A B C --rangschik`)
	ref, m := fx.posted(t)
	r := fx.click("bert", bot.Button{ID: "poll.vote", Value: m.Buttons()[0].Value + ":0"}, ref)
	if r.Message == nil || r.Message.Text != bot.T("nl").S("kring.unknown_action") {
		t.Fatalf("a click in a ranked poll: %+v", r)
	}
	_, ballots, err := fx.store.Get(context.Background(), m.Buttons()[0].Value)
	if err != nil || len(ballots) != 0 {
		t.Fatalf("ballots after a click: %v, %v", ballots, err)
	}
}

// TestBallotPollNudgesAndCloses: a ranked poll and a dot vote, anonymous,
// nudge whoever has not handed in a ballot, and close on time with the
// result shown.
func TestBallotPollNudgesAndCloses(t *testing.T) {
	for _, tc := range []struct {
		flags  string
		values bot.Values
		closed string
	}{
		{"--rangschik", bot.Values{"1": {"2"}}, "🏆 1. Nee"},
		{"--rangschik --methode=irv", bot.Values{"1": {"2"}, "2": {"1"}}, "Winnaar na 1 ronde: Nee"},
		{"--punten=3", bot.Values{"1": {"1"}, "2": {"2"}}, "🏆 2. Nee"},
	} {
		t.Run(tc.flags, func(t *testing.T) {
			fx, _ := setupNudges(t)
			fx.command("anna", `"Regiodag in maart?" Ja Nee --sluit=2h --herinner=1u --anoniem `+tc.flags)
			ref, m := fx.posted(t)
			fx.click("bert", m.Buttons()[0], ref)
			if r := fx.submit("bert", fx.lastForm(t), tc.values); len(r.FieldErrors) > 0 {
				t.Fatalf("bert's ballot refused: %v", r.FieldErrors)
			}
			fx.clock.Advance(time.Hour)
			runDue(t, fx)
			if got := dms(fx); len(got) != 3 || got["bert"] != nil {
				t.Fatalf("nudged %v; want anna, cor and dirk, not bert", got)
			}
			fx.clock.Advance(time.Hour)
			runDue(t, fx)
			_, m = fx.posted(t)
			if s := text(m); !strings.Contains(s, "(gesloten)") || !strings.Contains(s, tc.closed) {
				t.Fatalf("closed poll lacks %q:\n%s", tc.closed, s)
			}
		})
	}
}
