package mattermost

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
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
