// Package postertest checks that a bot.Poster keeps the contract features
// rely on, the way testing/fstest checks a file system and go-cloud's
// drivertest a driver: one suite, run by each adapter against its own
// Poster on its platform's stand-in. A Poster passes the same suite or it
// is not done.
//
// The suite tests the Poster an adapter wraps, not the pace.Poster around
// it: pace sends updates later, on its own schedule, and has tests of its
// own.
package postertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kringbot/kring/bot"
)

// Fixture is a Poster under test with a view of what its platform shows.
type Fixture struct {
	Poster bot.Poster
	// Platform reads back what the platform shows now.
	Platform Platform
	// Channel is a channel the bot is a member of; Members are the
	// people among its other members, at least two.
	Channel bot.Where
	Members []string
	// NotPeople are members of Channel the platform lists but who are no
	// people to write to: other bots, deactivated accounts. Members must
	// leave them out. Empty where the platform has none.
	NotPeople []string
	// Zones are the time zones the platform keeps for users (id → IANA
	// zone); at least one of Members where the Poster is a
	// bot.Directory.
	Zones map[string]string
	// Missing is a message id in the platform's own form that names no
	// message of Channel.
	Missing string
	// Trigger returns a trigger id the platform gave userID, as it does
	// with a command or a click: it opens a form for them.
	Trigger func(userID string) string
}

// Platform is what a chat platform shows, read back from it.
type Platform interface {
	// Messages are the messages Channel shows now, oldest first: posts
	// and replies in threads; deleted ones are gone.
	Messages(where bot.Where) []Shown
	// Ephemerals are the messages shown to userID alone in where.
	Ephemerals(where bot.Where, userID string) []Shown
	// DMs are the messages of the direct conversation between the bot
	// and userID.
	DMs(userID string) []Shown
	// Files are the files shared in where, with their content.
	Files(where bot.Where) []bot.File
	// Forms are the titles of the forms opened for userID.
	Forms(userID string) []string
}

// Shown is a message as people see it.
type Shown struct {
	ID string // the message's id, as a bot.Ref names it
	// Thread is the id of the thread's root for a reply in a thread, ""
	// for a message in the channel itself.
	Thread string
	// Text is everything a person reads in the message, the platform's
	// markup decoded: "a < b", not "a &lt; b".
	Text string
	// Notifies are whom the message notifies: user ids, and "channel",
	// "here" or "all" for a mention of everyone.
	Notifies []string
}

// Test runs the suite, with a new fixture for every check.
func Test(t *testing.T, newFixture func(t *testing.T) Fixture) {
	checks := []struct {
		name string
		run  func(t *testing.T, f Fixture)
	}{
		{"PostShows", testPostShows},
		{"UpdateReplaces", testUpdateReplaces},
		{"UpdateOfMissingFails", testUpdateOfMissingFails},
		{"EphemeralReachesOnlyThatUser", testEphemeral},
		{"DMReachesOnlyThatUser", testDM},
		{"OpenFormForTheTrigger", testOpenForm},
		{"UploadShares", testUpload},
		{"UserTextStaysText", testEscaping},
		{"Members", testMembers},
		{"Directory", testDirectory},
		{"Mention", testMention},
		{"ReplyInThread", testReply},
		{"Delete", testDelete},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if len(f.Members) < 2 {
				t.Fatalf("fixture: channel %s has %d other members, want at least 2", f.Channel.Channel, len(f.Members))
			}
			c.run(t, f)
		})
	}
}

var seq atomic.Int64

// token is a word no other message of the run contains.
func token(what string) string { return fmt.Sprintf("%s%d", what, seq.Add(1)) }

// text is a message of one section of markup s, with s as its plain
// notification text.
func text(s string) bot.Message {
	return bot.Message{Text: bot.PlainText(s), Blocks: []bot.Block{bot.Section{Text: s}}}
}

// find returns the shown message with id.
func find(shown []Shown, id string) (Shown, bool) {
	for _, s := range shown {
		if s.ID == id {
			return s, true
		}
	}
	return Shown{}, false
}

// anyHas reports whether a shown message contains s.
func anyHas(shown []Shown, s string) bool {
	return slices.ContainsFunc(shown, func(m Shown) bool { return strings.Contains(m.Text, s) })
}

func post(t *testing.T, f Fixture, m bot.Message) bot.Ref {
	t.Helper()
	ref, err := f.Poster.Post(context.Background(), f.Channel, m)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	if ref.Where != f.Channel || ref.ID == "" {
		t.Fatalf("Post returned %+v, want a ref in %+v", ref, f.Channel)
	}
	return ref
}

func testPostShows(t *testing.T, f Fixture) {
	tok := token("post")
	ref := post(t, f, text("Hallo "+tok))
	m, ok := find(f.Platform.Messages(f.Channel), ref.ID)
	if !ok || !strings.Contains(m.Text, tok) || m.Thread != "" {
		t.Errorf("channel shows %+v for the post %s, want %q in the channel itself", m, ref.ID, tok)
	}
}

func testUpdateReplaces(t *testing.T, f Fixture) {
	first, second := token("eerste"), token("tweede")
	ref := post(t, f, text(first))
	before := len(f.Platform.Messages(f.Channel))
	if err := f.Poster.Update(context.Background(), ref, text(second)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	shown := f.Platform.Messages(f.Channel)
	m, ok := find(shown, ref.ID)
	if !ok || !strings.Contains(m.Text, second) {
		t.Errorf("message %s shows %+v after the update, want %q", ref.ID, m, second)
	}
	if anyHas(shown, first) {
		t.Errorf("the text before the update still shows: %+v", shown)
	}
	if len(shown) != before {
		t.Errorf("channel shows %d messages after the update, %d before: an update is no new message", len(shown), before)
	}
}

func testUpdateOfMissingFails(t *testing.T, f Fixture) {
	err := f.Poster.Update(context.Background(), bot.Ref{Where: f.Channel, ID: f.Missing}, text(token("nergens")))
	if err == nil {
		t.Errorf("Update of message %s, which does not exist, did not fail", f.Missing)
	}
}

func testEphemeral(t *testing.T, f Fixture) {
	tok := token("alleen")
	to, other := f.Members[0], f.Members[1]
	if err := f.Poster.Ephemeral(context.Background(), f.Channel, to, text(tok)); err != nil {
		t.Fatalf("Ephemeral: %v", err)
	}
	if !anyHas(f.Platform.Ephemerals(f.Channel, to), tok) {
		t.Errorf("%s was not shown %q", to, tok)
	}
	if anyHas(f.Platform.Ephemerals(f.Channel, other), tok) {
		t.Errorf("%s was shown %q, meant for %s alone", other, tok, to)
	}
	if anyHas(f.Platform.Messages(f.Channel), tok) {
		t.Errorf("the channel shows %q, meant for %s alone", tok, to)
	}
}

func testDM(t *testing.T, f Fixture) {
	tok, later := token("prive"), token("bijgewerkt")
	to, other := f.Members[0], f.Members[1]
	ref, err := f.Poster.DM(context.Background(), f.Channel, to, text(tok))
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	if !anyHas(f.Platform.DMs(to), tok) {
		t.Errorf("%s's direct messages lack %q: %+v", to, tok, f.Platform.DMs(to))
	}
	if anyHas(f.Platform.DMs(other), tok) || anyHas(f.Platform.Messages(f.Channel), tok) {
		t.Errorf("%q, a direct message to %s, shows elsewhere", tok, to)
	}
	if err := f.Poster.Update(context.Background(), ref, text(later)); err != nil {
		t.Fatalf("Update of the direct message: %v", err)
	}
	if dms := f.Platform.DMs(to); !anyHas(dms, later) || anyHas(dms, tok) {
		t.Errorf("after its update the direct message shows %+v, want %q only", dms, later)
	}
}

func testOpenForm(t *testing.T, f Fixture) {
	to, other := f.Members[0], f.Members[1]
	title := token("Formulier ")
	form := bot.Form{
		ID: "postertest.form", Title: title, Submit: "Verstuur", State: "s1",
		Inputs: []bot.Input{{Name: "naam", Label: "Naam", Kind: bot.Text}},
	}
	if err := f.Poster.OpenForm(context.Background(), f.Channel, f.Trigger(to), form); err != nil {
		t.Fatalf("OpenForm: %v", err)
	}
	if !slices.Contains(f.Platform.Forms(to), title) {
		t.Errorf("no form %q opened for %s: %v", title, to, f.Platform.Forms(to))
	}
	if slices.Contains(f.Platform.Forms(other), title) {
		t.Errorf("form %q opened for %s, whose trigger it was not", title, other)
	}
}

func testUpload(t *testing.T, f Fixture) {
	tok := token("bestand")
	file := bot.File{Name: tok + ".csv", Title: "Uitslag", Type: "text/csv", Content: []byte("optie;stemmen\nPizza;2\n")}
	if err := f.Poster.Upload(context.Background(), f.Channel, file); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	for _, got := range f.Platform.Files(f.Channel) {
		if got.Name == file.Name {
			if string(got.Content) != string(file.Content) {
				t.Errorf("file %s holds %q, want %q", got.Name, got.Content, file.Content)
			}
			return
		}
	}
	t.Errorf("channel has no file %s: %+v", file.Name, f.Platform.Files(f.Channel))
}

// testEscaping: user text passed through bot.Escape reads as typed in
// every block and notifies nobody; the plain notification text (which is
// no markup) notifies nobody either.
func testEscaping(t *testing.T, f Fixture) {
	typed := "1 < 2 & 3 > 0 *vet* _schuin_ [x](https://example.org) @channel @here @all"
	m := bot.Message{
		Text:   typed,
		Blocks: []bot.Block{bot.Header{Text: bot.Escape(typed)}, bot.Section{Text: bot.Escape(typed)}, bot.Context{Text: bot.Escape(typed)}},
	}
	ref := post(t, f, m)
	got, _ := find(f.Platform.Messages(f.Channel), ref.ID)
	for _, want := range []string{"1 < 2 & 3 > 0", "*vet*", "_schuin_", "[x](https://example.org)"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the message does not read %q as typed:\n%s", want, got.Text)
		}
	}
	if len(got.Notifies) > 0 {
		t.Errorf("user text notifies %v", got.Notifies)
	}
}

func testMembers(t *testing.T, f Fixture) {
	r, ok := f.Poster.(bot.Roster)
	if !ok {
		t.Skip("the Poster cannot list members")
	}
	got, err := r.Members(context.Background(), f.Channel)
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	want := slices.Sorted(slices.Values(f.Members))
	if got = slices.Sorted(slices.Values(got)); !slices.Equal(got, want) {
		t.Errorf("Members = %v, want %v (the bot, other bots and deactivated accounts %v left out)", got, want, f.NotPeople)
	}
}

func testDirectory(t *testing.T, f Fixture) {
	d, ok := f.Poster.(bot.Directory)
	if !ok {
		t.Skip("the Poster cannot tell about users")
	}
	zoned := 0
	for _, id := range f.Members {
		if f.Zones[id] != "" {
			zoned++
		}
	}
	if zoned == 0 {
		t.Fatal("fixture: no member of the channel has a time zone")
	}
	ids := append(slices.Clone(f.Members), "nobody-"+token("x"))
	got := d.Users(context.Background(), f.Channel, ids)
	for _, id := range f.Members {
		u, ok := got[id]
		switch {
		case !ok:
			t.Errorf("Users tells nothing about %s, a member of the channel", id)
		case u.ID != id:
			t.Errorf("Users[%s] has id %q", id, u.ID)
		case u.TZ != f.Zones[id]:
			t.Errorf("Users[%s].TZ = %q, want %q", id, u.TZ, f.Zones[id])
		}
	}
	if len(got) != len(f.Members) {
		t.Errorf("Users told about %d users, want the %d members alone: %v", len(got), len(f.Members), got)
	}
}

func testMention(t *testing.T, f Fixture) {
	mn, ok := f.Poster.(bot.Mentioner)
	if !ok {
		t.Skip("the Poster cannot mention users")
	}
	who := f.Members[0]
	mention := mn.Mention(context.Background(), f.Channel, who)
	if mention == "" {
		t.Fatalf("Mention(%s) is empty for a member of the channel", who)
	}
	ref := post(t, f, text("Herinnering voor "+mention+": stem je nog?"))
	got, _ := find(f.Platform.Messages(f.Channel), ref.ID)
	if !slices.Contains(got.Notifies, who) {
		t.Errorf("a message with %q notifies %v, want %s:\n%s", mention, got.Notifies, who, got.Text)
	}
}

func testReply(t *testing.T, f Fixture) {
	th, ok := f.Poster.(bot.Threader)
	if !ok {
		t.Skip("the Poster cannot reply in threads")
	}
	ctx := context.Background()
	root := post(t, f, text(token("onderwerp")))
	tok, later := token("antwoord"), token("nagekomen")
	reply, err := th.Reply(ctx, root, text(tok))
	if err != nil {
		t.Fatalf("Reply: %v", err)
	}
	if reply.Where != root.Where || reply.ID == "" || reply.ID == root.ID {
		t.Fatalf("Reply returned %+v for root %+v", reply, root)
	}
	shown := f.Platform.Messages(f.Channel)
	m, ok := find(shown, reply.ID)
	if !ok || m.Thread != root.ID || !strings.Contains(m.Text, tok) {
		t.Errorf("the reply shows as %+v, want %q in the thread of %s", m, tok, root.ID)
	}
	if r, _ := find(shown, root.ID); strings.Contains(r.Text, tok) {
		t.Errorf("the root took the reply's text: %+v", r)
	}
	if err := f.Poster.Update(ctx, reply, text(later)); err != nil {
		t.Fatalf("Update of the reply: %v", err)
	}
	if m, _ := find(f.Platform.Messages(f.Channel), reply.ID); !strings.Contains(m.Text, later) || m.Thread != root.ID {
		t.Errorf("the updated reply shows as %+v", m)
	}
}

func testDelete(t *testing.T, f Fixture) {
	d, ok := f.Poster.(bot.Deleter)
	if !ok {
		t.Skip("the Poster cannot delete")
	}
	ctx := context.Background()
	tok := token("weg")
	keep := post(t, f, text(token("blijft")))
	ref := post(t, f, text(tok))
	if err := d.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	shown := f.Platform.Messages(f.Channel)
	if _, ok := find(shown, ref.ID); ok || anyHas(shown, tok) {
		t.Errorf("the deleted message still shows: %+v", shown)
	}
	if _, ok := find(shown, keep.ID); !ok {
		t.Errorf("deleting %s took %s with it", ref.ID, keep.ID)
	}
	if err := d.Delete(ctx, ref); err == nil {
		t.Errorf("a second Delete of %s did not fail", ref.ID)
	}
	if err := f.Poster.Update(ctx, ref, text(token("terug"))); err == nil {
		t.Errorf("Update of the deleted message %s did not fail", ref.ID)
	}
}
