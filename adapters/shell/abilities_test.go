package shell_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// TestReplyAndDeleteAsPrinted: a reply is printed indented under the id
// of its root, a deletion is announced, and what is gone cannot change.
func TestReplyAndDeleteAsPrinted(t *testing.T) {
	var out bytes.Buffer
	sh := shell.New(&bot.Mux{}, nil, &shell.Clock{Base: bottest.NewClock(time.Now())}, &out)
	ctx := context.Background()
	where := bot.Where{Platform: bot.Shell, Team: "kring", Channel: "algemeen"}
	root, err := sh.Post(ctx, where, bot.Message{Blocks: []bot.Block{bot.Section{Text: "Vergadering *donderdag*"}}})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := sh.Reply(ctx, root, bot.Message{Blocks: []bot.Block{bot.Section{Text: "Notulen staan klaar\nvoor " + sh.Mention(ctx, where, "bram")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Update(ctx, reply, bot.Message{Blocks: []bot.Block{bot.Section{Text: "Notulen bijgewerkt"}}}); err != nil {
		t.Fatal(err)
	}
	if err := sh.Delete(ctx, root); err != nil {
		t.Fatal(err)
	}
	want := `[#algemeen] kring (bericht m1):
│ Vergadering donderdag
    ↳ [#algemeen] kring (antwoord m2 op bericht m1):
    │ Notulen staan klaar
    │ voor @bram
    ↳ [#algemeen] kring (antwoord m2 op bericht m1, bijgewerkt):
    │ Notulen bijgewerkt
  [#algemeen] bericht m1 is verwijderd.
`
	if got := out.String(); got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if err := sh.Delete(ctx, root); err == nil {
		t.Error("a second delete did not fail")
	}
	if err := sh.Update(ctx, root, bot.Message{Text: "terug"}); err == nil {
		t.Error("an update of a deleted message did not fail")
	}
	if _, err := sh.Reply(ctx, root, bot.Message{Text: "nog een"}); err == nil {
		t.Error("a reply to a deleted message did not fail")
	}
	if err := sh.Update(ctx, bot.Ref{Where: bot.Where{Platform: bot.Shell, Team: "kring", Channel: "elders"}, ID: reply.ID}, bot.Message{Text: "x"}); err == nil {
		t.Error("an update naming the wrong channel did not fail")
	}
}

// TestMembersAreWhoTyped: the members of a channel are whoever typed a
// command there this session, each once.
func TestMembersAreWhoTyped(t *testing.T) {
	var out bytes.Buffer
	sh := shell.New(&bot.Mux{}, nil, &shell.Clock{Base: bottest.NewClock(time.Now())}, &out)
	ctx := context.Background()
	for _, line := range []string{"/a", ":user bram", "/b", "/c", ":channel elders", ":user cato", "/d"} {
		sh.Line(ctx, line)
	}
	got, err := sh.Members(ctx, bot.Where{Platform: bot.Shell, Team: "kring", Channel: "algemeen"})
	if err != nil || !slices.Equal(got, []string{"anna", "bram"}) {
		t.Errorf("members of #algemeen = %v, %v; want anna and bram", got, err)
	}
}

// TestUserWithZone: ":user NAME ZONE" gives the user a time zone, which
// the requests they make and the directory carry; an unknown zone is
// refused with an example, and the user stays who they were; ":user
// NAME" alone keeps a zone given before.
func TestUserWithZone(t *testing.T) {
	var out bytes.Buffer
	mux := &bot.Mux{}
	var seen []bot.User
	mux.Handle(bot.Command{Name: "/wie"}, bot.HandlerFunc(func(_ context.Context, req *bot.Request) (*bot.Message, error) {
		seen = append(seen, req.User)
		return nil, nil
	}))
	sh := shell.New(mux, nil, &shell.Clock{Base: bottest.NewClock(time.Now())}, &out)
	ctx := context.Background()
	for _, line := range []string{":user bram America/Curacao", "/wie", ":user cato Mars/Olympus", "/wie", ":user anna", "/wie", ":user bram", "/wie"} {
		sh.Line(ctx, line)
	}
	want := []bot.User{
		{ID: "bram", Name: "bram", TZ: "America/Curacao"},
		{ID: "bram", Name: "bram", TZ: "America/Curacao"},
		{ID: "anna", Name: "anna"},
		{ID: "bram", Name: "bram", TZ: "America/Curacao"},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("requests carried %+v, want %+v", seen, want)
	}
	if !bytes.Contains(out.Bytes(), []byte("Mars/Olympus is geen tijdzone die ik ken")) || !bytes.Contains(out.Bytes(), []byte(":user bram America/Curacao")) {
		t.Errorf("an unknown zone was not refused with an example:\n%s", out.String())
	}
	where := bot.Where{Platform: bot.Shell, Team: "kring", Channel: "algemeen"}
	got := bot.UserProfiles(ctx, sh, where, []string{"anna", "bram", "cato", "nobody"})
	if len(got) != 2 || got["bram"].TZ != "America/Curacao" || got["anna"] != (bot.User{ID: "anna", Name: "anna"}) {
		t.Errorf("directory = %+v, want anna and bram, bram in America/Curacao", got)
	}
}
