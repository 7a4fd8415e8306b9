package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/slack-go/slack"
)

// newAbilityAdapter is an Adapter on a fresh stand-in.
func newAbilityAdapter(t *testing.T) (*Adapter, *standin) {
	t.Helper()
	api := newStandinOn(t, nil)
	a, err := New(Config{
		SigningSecret: testSecret, BotToken: "xoxb-test", APIURL: api.apiURL(),
		Mux: &bot.Mux{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PaceEvery: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = a.Close(ctx)
	})
	return a, api
}

// TestMembersPageByPage: a channel of 450 people takes three
// conversations.members calls of at most 200, and the bot is left out.
func TestMembersPageByPage(t *testing.T) {
	a, api := newAbilityAdapter(t)
	var want []string
	members := []string{standinBot}
	for i := range 450 {
		id := fmt.Sprintf("U%04d", i)
		want = append(want, id)
		members = append(members, id)
	}
	api.addChannel("CBIG", false, members...)
	got, err := a.raw.Members(context.Background(), bot.Where{Platform: bot.Slack, Team: "T1", Channel: "CBIG"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Errorf("got %d members, want %d", len(got), len(want))
	}
	calls := api.recorded("conversations.members")
	if len(calls) != 3 {
		t.Errorf("%d conversations.members calls, want 3", len(calls))
	}
	for i, c := range calls {
		if c.Form.Get("limit") != "200" || (i > 0) != (c.Form.Get("cursor") != "") {
			t.Errorf("call %d: limit %q cursor %q", i, c.Form.Get("limit"), c.Form.Get("cursor"))
		}
	}
}

// TestAbilitiesRefused: what Slack refuses reaches the caller as an error,
// a user error where an admin can fix it.
func TestAbilitiesRefused(t *testing.T) {
	a, api := newAbilityAdapter(t)
	ctx := context.Background()
	api.addChannel("GSECRET", true, "U1")
	api.addChannel("COUT", false, "U1")
	api.addChannel("C1", false, standinBot, "U1")
	secret := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "GSECRET"}
	out := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "COUT"}
	c1 := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}

	if _, err := a.raw.Members(ctx, secret); !isUserError(err, "slack.channel_not_found") {
		t.Errorf("members of a private channel without the bot: %v", err)
	}
	if _, err := a.raw.Reply(ctx, bot.Ref{Where: out, ID: api.postAs("U1", "COUT", "hoi")}, bot.Message{Text: "x"}); !isUserError(err, "slack.not_in_channel") {
		t.Errorf("reply in a channel without the bot: %v", err)
	}
	theirs := bot.Ref{Where: c1, ID: api.postAs("U1", "C1", "van U1")}
	if err := a.raw.Delete(ctx, theirs); err == nil {
		t.Error("deleting a user's message did not fail")
	} else if se, ok := errors.AsType[slack.SlackErrorResponse](err); !ok || se.Err != "cant_delete_message" {
		t.Errorf("deleting a user's message: %v", err)
	}
	if len(api.held("C1")) != 1 {
		t.Errorf("the user's message is gone: %+v", api.held("C1"))
	}
}

// TestReplyToAReplyJoinsTheRootsThread: Slack keeps threads one level
// deep, so a reply to a reply lands in the root's thread.
func TestReplyToAReplyJoinsTheRootsThread(t *testing.T) {
	a, api := newAbilityAdapter(t)
	ctx := context.Background()
	c1 := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	root, err := a.raw.Post(ctx, c1, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.raw.Reply(ctx, root, bot.Message{Text: "1"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.raw.Reply(ctx, first, bot.Message{Text: "2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range api.held("C1") {
		if m.TS == second.ID && m.Thread != root.ID {
			t.Errorf("reply to a reply is in thread %q, want %q", m.Thread, root.ID)
		}
	}
}

// TestPacedPosterHasTheAbilities: the Poster features get (pace around the
// Web API Poster) replies and deletes through to Slack.
func TestPacedPosterHasTheAbilities(t *testing.T) {
	a, api := newAbilityAdapter(t)
	ctx := context.Background()
	c1 := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	p := a.Poster()
	root, err := p.Post(ctx, c1, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := bot.ReplyInThread(ctx, p, root, bot.Message{Text: "antwoord"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.DeleteMessage(ctx, p, root, bot.Message{Text: "weg"}); err != nil {
		t.Fatal(err)
	}
	held := api.held("C1")
	if len(held) != 1 || held[0].TS != reply.ID || held[0].Thread != root.ID {
		t.Errorf("channel holds %+v, want the reply alone under its deleted root", held)
	}
	if got := bot.MentionOf(ctx, p, c1, bot.User{ID: "U1", Name: "Anna <3"}); got != "[@Name U1](mention:U1)" {
		t.Errorf("mention on Slack = %q, want a mention link", got)
	}
}

func isUserError(err error, id string) bool {
	ue, ok := bot.AsUserError(err)
	return ok && ue.ID == id
}

// TestMembersPeopleOnly: conversations.members lists bots, Slackbot and
// deactivated accounts too; Members leaves them out (users.info says
// which), keeps a member users.info does not find, keeps the list a
// minute, and the directory tells each user's tz.
func TestMembersPeopleOnly(t *testing.T) {
	api := newStandinOn(t, nil)
	clock := bottest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	a, err := New(Config{
		SigningSecret: testSecret, BotToken: "xoxb-test", APIURL: api.apiURL(),
		Mux: &bot.Mux{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PaceEvery: time.Millisecond,
		Users: users.Config{Now: clock.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = a.Close(ctx)
	})
	api.addUser("U1", "America/Curacao", false, false)
	api.addUser("UROBOT", "America/Los_Angeles", true, false)
	api.addUser("UGONE", "Europe/Amsterdam", false, true)
	api.forgetUser("UMISSING")
	api.addChannel("C1", false, standinBot, "U1", "UROBOT", slackbot, "U2", "UGONE", "UMISSING")
	c1 := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	ctx := context.Background()

	got, err := a.Poster().(bot.Roster).Members(ctx, c1)
	if slices.Sort(got); err != nil || !slices.Equal(got, []string{"U1", "U2", "UMISSING"}) {
		t.Errorf("Members = %v, %v; want U1, U2 and UMISSING (not found, so kept)", got, err)
	}
	api.addChannel("C1", false, standinBot, "U1", "U2", "U3")
	clock.Advance(time.Minute - time.Second)
	if got, _ := a.raw.Members(ctx, c1); slices.Contains(got, "U3") || api.count("conversations.members", "", "") != 1 {
		t.Errorf("within a minute the list was asked again: %v", got)
	}
	clock.Advance(time.Second)
	if got, _ := a.raw.Members(ctx, c1); !slices.Contains(got, "U3") || slices.Contains(got, "UMISSING") {
		t.Errorf("after a minute: %v, want the new list", got)
	}

	dir := bot.UserProfiles(ctx, a.Poster(), c1, []string{"U1", "U2", "UMISSING", "not-an-id"})
	if len(dir) != 2 || dir["U1"].TZ != "America/Curacao" || dir["U2"].TZ != "Europe/Amsterdam" || dir["U1"].Name != "Name U1" {
		t.Errorf("directory = %+v", dir)
	}
	for _, c := range api.recorded("users.info") {
		if c.Form.Get("user") == "not-an-id" {
			return
		}
	}
	t.Error("users.info was not asked about not-an-id")
}

// TestSlackPollNudge: /poll --herinner through Slack: an hour before the
// close, the channel's people who have not voted get a direct message
// (conversations.open and chat.postMessage), a bot member and the voter
// none; the one whose users.info says America/Curacao (U5, whom kring
// has not met yet) reads the closing time in their zone; the ballots
// hold no user ids.
func TestSlackPollNudge(t *testing.T) {
	h := quickHarness(t)
	h.api.addUser("U5", "America/Curacao", false, false)
	h.api.addUser("UROBOT", "Europe/Amsterdam", true, false)
	h.api.addChannel("C1", false, standinBot, "U1", "U2", "U5", "UROBOT")
	post, ts := h.createPoll(`"Regiodag in maart?" Ja Nee --sluit=2h --herinner=1u --anoniem`)
	h.clickFor("U2", "C1", ts, buttons(t, post, "poll.vote")[0])
	ctx := context.Background()
	h.clock.Advance(time.Hour)
	if _, err := h.runner.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	dms := map[string]string{}
	for _, c := range h.api.recorded("chat.postMessage") {
		if ch := c.Form.Get("channel"); strings.HasPrefix(ch, "D") {
			dms[strings.TrimPrefix(ch, "D")] += c.text(t)
		}
	}
	if len(dms) != 2 || dms["U1"] == "" || dms["U5"] == "" {
		t.Fatalf("nudged %v, want U1 and U5 (not the voter U2, not the bot)", slices.Sorted(maps.Keys(dms)))
	}
	containsAll(t, "U5's nudge", dms["U5"], "Je hebt nog niet gestemd", "Regiodag in maart?", "America/Curacao", "anoniem")
	if strings.Contains(dms["U1"], "America/Curacao") {
		t.Errorf("U1's nudge is in another's zone: %s", dms["U1"])
	}
	if _, err := h.runner.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range h.api.recorded("chat.postMessage") {
		if strings.HasPrefix(c.Form.Get("channel"), "D") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d direct messages after running the jobs again, want still 2", n)
	}
	_, ballots := h.pollOf("C1", ts)
	for _, b := range ballots {
		if !strings.HasPrefix(b.Voter, "anon:") {
			t.Errorf("the store holds a voter's id: %+v", b)
		}
	}
}
