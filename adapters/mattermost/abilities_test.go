package mattermost

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

func newAbilityAdapter(t *testing.T) (*Adapter, *mattermosttest.Server) {
	t.Helper()
	mm := mattermosttest.New(t)
	ad, err := New(Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{testToken},
		Secret: testSecret, PublicURL: "http://kring.test", Handler: &bot.Mux{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBackoff: time.Millisecond, Every: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = ad.Close(ctx)
	})
	return ad, mm
}

var mmWhere = bot.Where{Platform: bot.Mattermost, Team: "team1000000000000000000000", Channel: testChannel}

// TestMembersPageByPage: 450 members and the bot take three pages of 200;
// the bot is left out.
func TestMembersPageByPage(t *testing.T) {
	ad, mm := newAbilityAdapter(t)
	var want []string
	for i := range 450 {
		want = append(want, fmt.Sprintf("user%022d", i))
	}
	mm.AddMembers(testChannel, want...)
	got, err := ad.rest.Members(context.Background(), mmWhere)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Errorf("got %d members, want %d", len(got), len(want))
	}
	if n := mm.Count(http.MethodGet, "/api/v4/channels/"+testChannel+"/members"); n != 3 {
		t.Errorf("%d member pages asked, want 3", n)
	}
}

// TestMembersPages: the stand-in pages as the server does: at most 200,
// 60 when per_page is not given.
func TestMembersPages(t *testing.T) {
	_, mm := newAbilityAdapter(t)
	for i := range 300 {
		mm.AddMembers(testChannel, fmt.Sprintf("user%022d", i))
	}
	api := model.NewAPIv4Client(mm.URL)
	api.SetToken(mm.BotToken)
	for _, c := range []struct{ page, perPage, want int }{{0, 500, 200}, {1, 200, 101}, {0, -1, 60}, {2, 200, 0}} {
		got, _, err := api.GetChannelMembers(context.Background(), testChannel, c.page, c.perPage, "")
		if err != nil || len(got) != c.want {
			t.Errorf("page %d per_page %d: %d members, %v; want %d", c.page, c.perPage, len(got), err, c.want)
		}
	}
}

// TestAbilitiesRefused: what Mattermost refuses reaches the caller as an
// error, the how-to where the bot is not in the channel.
func TestAbilitiesRefused(t *testing.T) {
	ad, mm := newAbilityAdapter(t)
	ctx := context.Background()
	mm.AddUser("anna0000000000000000000000", "anna", "Anna", "", "")
	out := bot.Where{Platform: bot.Mattermost, Channel: "chanout0000000000000000000"}
	mm.Outsider(out.Channel)
	if _, err := ad.rest.Members(ctx, out); !isUserError(err, "mattermost.not_in_channel") {
		t.Errorf("members of a channel without the bot: %v", err)
	}

	root, err := ad.rest.Post(ctx, mmWhere, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := ad.rest.Reply(ctx, root, bot.Message{Text: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ad.rest.Reply(ctx, reply, bot.Message{Text: "2"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("reply to a reply: %v, want 400", err)
	}
	elsewhere := bot.Ref{Where: bot.Where{Platform: bot.Mattermost, Channel: "chan20000000000000000000000"}, ID: root.ID}
	if _, err := ad.rest.Reply(ctx, elsewhere, bot.Message{Text: "3"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("reply in another channel than the root's: %v, want 400", err)
	}

	theirs := bot.Ref{Where: mmWhere, ID: mm.PostAs("anna0000000000000000000000", testChannel, "van Anna")}
	if err := ad.rest.Delete(ctx, theirs); statusOf(err) != http.StatusForbidden {
		t.Errorf("deleting a user's post: %v, want 403", err)
	}
	if err := ad.rest.Delete(ctx, root); err != nil {
		t.Fatal(err)
	}
	for _, p := range mm.ChannelPosts(testChannel) {
		if p.Id == root.ID || p.Id == reply.ID {
			t.Errorf("post %s shows after its thread's root was deleted", p.Id)
		}
	}
	if _, err := ad.rest.Reply(ctx, root, bot.Message{Text: "4"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("reply to a deleted root: %v, want 400", err)
	}
	if err := ad.rest.Delete(ctx, root); statusOf(err) != http.StatusNotFound {
		t.Errorf("second delete: %v, want 404", err)
	}
	if got := ad.rest.Mention(ctx, mmWhere, "nobody0000000000000000000"); got != "" {
		t.Errorf("mention of an unknown user = %q, want none", got)
	}
}

// TestPacedPosterHasTheAbilities: the Poster features get passes the
// abilities through.
func TestPacedPosterHasTheAbilities(t *testing.T) {
	ad, mm := newAbilityAdapter(t)
	ctx := context.Background()
	mm.AddUser("anna0000000000000000000000", "anna", "Anna", "", "")
	mm.AddMembers(testChannel, "anna0000000000000000000000")
	p := ad.Poster()
	if ids, err := bot.ChannelMembers(ctx, p, mmWhere); err != nil || !slices.Equal(ids, []string{"anna0000000000000000000000"}) {
		t.Errorf("members = %v, %v", ids, err)
	}
	if got := bot.MentionOf(ctx, p, mmWhere, bot.User{ID: "anna0000000000000000000000"}); got != "@anna" {
		t.Errorf("mention = %q", got)
	}
	root, err := p.Post(ctx, mmWhere, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := bot.ReplyInThread(ctx, p, root, bot.Message{Text: "antwoord"})
	if err != nil || mm.Post(reply.ID).RootId != root.ID {
		t.Fatalf("reply %+v, %v", reply, err)
	}
	if err := bot.DeleteMessage(ctx, p, root, bot.Message{Text: "weg"}); err != nil {
		t.Fatal(err)
	}
	if got := mm.ChannelPosts(testChannel); len(got) != 0 {
		t.Errorf("channel shows %d posts after its only thread was deleted", len(got))
	}
}

func isUserError(err error, id string) bool {
	ue, ok := bot.AsUserError(err)
	return ok && ue.ID == id
}

// TestMembersPeopleOnly: the members are the channel's people: bots and
// deactivated accounts, whom Mattermost lists as members, are left out;
// the users are asked about with POST /users/ids, 200 at a time; the list
// is kept a minute, so a member who joins shows after it; the directory
// tells each user's zone, automatic or set by hand.
func TestMembersPeopleOnly(t *testing.T) {
	mm := mattermosttest.New(t)
	clock := bottest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	ad, err := New(Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{testToken},
		Secret: testSecret, PublicURL: "http://kring.test", Handler: &bot.Mux{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBackoff: time.Millisecond, Every: time.Millisecond,
		Users: users.Config{Now: clock.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = ad.Close(ctx)
	})
	var people []string
	for i := range 430 {
		id := fmt.Sprintf("user%022d", i)
		mm.AddUser(id, fmt.Sprintf("user%d", i), "", "", "")
		people = append(people, id)
	}
	mm.SetTimezone(people[0], true, "America/Curacao")
	mm.SetTimezone(people[1], false, "Europe/Amsterdam")
	const robot, gone, joiner = "robo0000000000000000000000", "gone0000000000000000000000", "join0000000000000000000000"
	mm.AddBot(robot, "robo")
	mm.AddUser(gone, "oud", "", "", "")
	mm.Deactivate(gone)
	mm.AddUser(joiner, "nieuw", "", "", "")
	mm.AddMembers(testChannel, append([]string{robot, gone}, people...)...)

	ctx := context.Background()
	got, err := ad.Poster().(bot.Roster).Members(ctx, mmWhere)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(got); !slices.Equal(got, people) {
		t.Errorf("got %d members, want the %d people", len(got), len(people))
	}
	if n := mm.Count(http.MethodPost, "/api/v4/users/ids"); n != 3 {
		t.Errorf("%d POST /users/ids for 432 members, want 3 of at most 200", n)
	}

	mm.AddMembers(testChannel, joiner)
	clock.Advance(time.Minute - time.Second)
	if got, _ := ad.rest.Members(ctx, mmWhere); slices.Contains(got, joiner) {
		t.Error("the list was asked again within a minute")
	}
	clock.Advance(time.Second)
	if got, _ := ad.rest.Members(ctx, mmWhere); !slices.Contains(got, joiner) {
		t.Error("a member who joined does not show after a minute")
	}

	dir := bot.UserProfiles(ctx, ad.Poster(), mmWhere, []string{people[0], people[1], people[2], "ghost000000000000000000000"})
	if dir[people[0]].TZ != "America/Curacao" || dir[people[1]].TZ != "Europe/Amsterdam" || dir[people[2]].TZ != "" || len(dir) != 3 {
		t.Errorf("directory = %+v", dir)
	}
}

// TestUsersByIDsAsTheServer: the stand-in answers POST /users/ids as
// getUsersByIds does: an empty list is a 400, unknown ids are left out,
// a repeated id is answered once.
func TestUsersByIDsAsTheServer(t *testing.T) {
	mm := mattermosttest.New(t)
	mm.AddUser("anna0000000000000000000000", "anna", "Anna", "", "Europe/Amsterdam")
	api := model.NewAPIv4Client(mm.URL)
	api.SetToken(mm.BotToken)
	ctx := context.Background()
	if _, resp, err := api.GetUsersByIds(ctx, []string{}); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an empty list: %v, want 400", err)
	}
	got, _, err := api.GetUsersByIds(ctx, []string{"anna0000000000000000000000", "ghost000000000000000000000", "anna0000000000000000000000"})
	if err != nil || len(got) != 1 || got[0].Timezone["manualTimezone"] != "Europe/Amsterdam" || got[0].Timezone["useAutomaticTimezone"] != "false" {
		t.Errorf("users = %+v, %v; want anna once, with her zone", got, err)
	}
}

// TestMattermostPollNudge: /poll --herinner through Mattermost: an hour
// before the close, the channel's people who have not voted get a direct
// message, a bot member, a deactivated one and the voter none; the one
// whose timezone map says America/Curacao reads the closing time in
// their zone; running the jobs again sends nothing twice.
func TestMattermostPollNudge(t *testing.T) {
	mm := mattermosttest.New(t)
	const anna, bram, cato, robot, gone = "anna0000000000000000000000", "bram0000000000000000000000", "cato0000000000000000000000", "robo0000000000000000000000", "gone0000000000000000000000"
	mm.AddUser(anna, "anna", "Anna", "de Vries", "Europe/Amsterdam")
	mm.AddUser(bram, "bram", "Bram", "", "")
	mm.AddUser(cato, "cato", "Cato", "", "")
	mm.SetTimezone(cato, true, "America/Curacao")
	mm.AddBot(robot, "robo")
	mm.AddUser(gone, "oud", "", "", "")
	mm.Deactivate(gone)
	mm.AddMembers(testChannel, anna, bram, cato, robot, gone)

	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mux := http.NewServeMux()
	kringSrv := httptest.NewServer(mux)
	t.Cleanup(kringSrv.Close)
	bm := &bot.Mux{Deliveries: db.Jobs(), Settings: db.Settings()}
	ad, err := New(Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{testToken},
		Secret: testSecret, PublicURL: kringSrv.URL, Handler: bm,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBackoff: time.Millisecond, Every: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = ad.Close(ctx)
	})
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	clock := bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams))
	runner := &schedule.Runner{Store: db.Jobs(), Clock: clock}
	poll.New(poll.Config{
		Store: db.Polls(), Jobs: db.Jobs(), Poster: ad.Poster(), Clock: clock, Secret: "test",
		Location: ams, Locale: bm.Locale,
	}).Register(bm, runner)
	ad.Mount(mux)

	r, err := mm.Command(kringSrv.URL+"/mattermost/commands", testToken, anna, testChannel, `/poll "Regiodag in maart?" Ja Nee --sluit=2h --herinner=1u`)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("/poll: %v %d %s", err, r.Status, r.Body)
	}
	posts := mm.ChannelPosts(testChannel)
	if len(posts) == 0 {
		t.Fatal("/poll posted nothing")
	}
	if r, err := mm.Click(nil, posts[len(posts)-1].Id, 0, bram); err != nil || r.Status != http.StatusOK {
		t.Fatalf("bram's vote: %v %d %s", err, r.Status, r.Body)
	}
	ctx := context.Background()
	clock.Advance(time.Hour)
	for range 2 {
		if _, err := runner.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for user, want := range map[string]int{anna: 1, bram: 0, cato: 1, robot: 0, gone: 0} {
		dms := mm.ChannelPosts(mm.DMChannel(user))
		if len(dms) != want {
			t.Errorf("%s got %d direct messages, want %d", user, len(dms), want)
		}
	}
	if dms := mm.ChannelPosts(mm.DMChannel(cato)); len(dms) == 1 && !strings.Contains(dms[0].Message, "11:30 (jouw tijd, America/Curacao)") {
		t.Errorf("cato's nudge: %s", dms[0].Message)
	}
	if dms := mm.ChannelPosts(mm.DMChannel(anna)); len(dms) == 1 && !strings.Contains(dms[0].Message, "sluit di 13 jan om 16:30.") {
		t.Errorf("anna's nudge: %s", dms[0].Message)
	}
}
