package mattermost

// Ranked polls and dot votes through Mattermost: the button opens an
// interactive dialog, its submission hands in the ballot, a wrong one is
// refused in the dialog.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/bolt"
)

// ballotPoll wires /poll to a Mattermost stand-in and posts the poll
// line as anna; it returns the server, the post's id, the store and a
// func that flushes the adapter.
func ballotPoll(t *testing.T, line string) (*mattermosttest.Server, string, poll.Store, func()) {
	t.Helper()
	mm := mattermosttest.New(t)
	mm.AddUser(anna, "anna", "Anna", "de Vries", "Europe/Amsterdam")
	mm.AddUser(bram, "bram", "Bram", "", "")
	mm.AddMembers(testChannel, anna, bram)
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
	flush := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = ad.Close(ctx)
	}
	t.Cleanup(flush)
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	poll.New(poll.Config{
		Store: db.Polls(), Jobs: db.Jobs(), Poster: ad.Poster(), Clock: bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams)),
		Secret: "test", Location: ams, Locale: bm.Locale,
	}).Register(bm, nil)
	ad.Mount(mux)
	r, err := mm.Command(kringSrv.URL+"/mattermost/commands", testToken, anna, testChannel, line)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("/poll: %v %d %s", err, r.Status, r.Body)
	}
	posts := mm.ChannelPosts(testChannel)
	if len(posts) == 0 {
		t.Fatal("/poll posted nothing")
	}
	return mm, posts[len(posts)-1].Id, db.Polls(), flush
}

// submit submits the last dialog as bram and returns its field errors.
func submitDialog(t *testing.T, mm *mattermosttest.Server, values map[string]any) map[string]string {
	t.Helper()
	r, err := mm.Submit(len(mm.Dialogs())-1, bram, testChannel, values)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("submit: %v %d %s", err, r.Status, r.Body)
	}
	var dr dialogResponse
	if len(r.Body) > 0 {
		if err := r.JSON(&dr); err != nil {
			t.Fatalf("submit answered %s", r.Body)
		}
	}
	return dr.Errors
}

// postText is a post's text and its attachments' text.
func postText(mm *mattermosttest.Server, id string) string {
	p := mm.Post(id)
	text := p.Message
	for _, a := range mattermosttest.Attachments(p) {
		text += "\n" + a.Text
	}
	return text
}

// TestMattermostRankedPoll: the Rangschik button opens a dialog with a
// select per place; the same option twice is refused on its place; the
// ranking is stored in order and counted by Borda count.
func TestMattermostRankedPoll(t *testing.T) {
	mm, id, store, flush := ballotPoll(t, `/poll "Prioriteiten 2027?" Overdracht Dashboard Koppeling --rangschik`)
	if r, err := mm.Click(nil, id, 0, bram); err != nil || r.Status != http.StatusOK {
		t.Fatalf("Rangschik: %v %d %s", err, r.Status, r.Body)
	}
	ds := mm.Dialogs()
	if len(ds) != 1 || len(ds[0].Dialog.Elements) != 3 {
		t.Fatalf("dialogs %+v, want one with a select per place", ds)
	}
	for _, el := range ds[0].Dialog.Elements {
		if el.Type != "select" || len(el.Options) != 3 {
			t.Fatalf("place %s: type %s with %d options, want a select of 3", el.Name, el.Type, len(el.Options))
		}
	}
	errs := submitDialog(t, mm, map[string]any{"1": "2", "2": "2"})
	if len(errs) != 1 || !strings.Contains(errs["2"], "plaats 1") {
		t.Fatalf("the same option twice: errors %v, want one on place 2", errs)
	}
	if errs := submitDialog(t, mm, map[string]any{"1": "3", "2": "1", "3": "2"}); len(errs) > 0 {
		t.Fatalf("a full ranking refused: %v", errs)
	}
	ps, err := store.List(context.Background(), bot.Where{Platform: bot.Mattermost, Team: mm.TeamID, Channel: testChannel})
	if err != nil || len(ps) != 1 {
		t.Fatalf("polls: %v, %v", ps, err)
	}
	_, ballots, err := store.Get(context.Background(), ps[0].ID)
	if err != nil || len(ballots) != 1 || ballots[0].Voter != bram || len(ballots[0].Options) != 3 || ballots[0].Options[0] != 2 {
		t.Fatalf("ballots %+v, %v; want bram's order [2 0 1]", ballots, err)
	}
	flush()
	if text := postText(mm, id); !strings.Contains(text, "1. Koppeling") || !strings.Contains(text, "2 punten") || !strings.Contains(text, "Borda-telling") {
		t.Fatalf("post after the ranking: %s", text)
	}
}

// TestMattermostDotVote: the Punten verdelen button opens a dialog with a
// number per option; a wrong total is refused in the dialog with what is
// left or too many.
func TestMattermostDotVote(t *testing.T) {
	mm, id, _, flush := ballotPoll(t, `/poll "Budget?" Scholing Congres Intervisie --punten=10`)
	if r, err := mm.Click(nil, id, 0, bram); err != nil || r.Status != http.StatusOK {
		t.Fatalf("Punten verdelen: %v %d %s", err, r.Status, r.Body)
	}
	if ds := mm.Dialogs(); len(ds) != 1 || len(ds[0].Dialog.Elements) != 3 {
		t.Fatalf("dialogs %+v, want one with a number per option", ds)
	}
	if errs := submitDialog(t, mm, map[string]any{"1": "3", "2": "3"}); !strings.Contains(errs["1"], "nog 4 over") {
		t.Fatalf("6 of 10 points: errors %v, want the 4 left", errs)
	}
	if errs := submitDialog(t, mm, map[string]any{"1": "9", "2": "3"}); !strings.Contains(errs["1"], "2 meer") {
		t.Fatalf("12 of 10 points: errors %v, want 2 too many", errs)
	}
	if errs := submitDialog(t, mm, map[string]any{"1": "7", "3": "3"}); len(errs) > 0 {
		t.Fatalf("10 of 10 points refused: %v", errs)
	}
	flush()
	if text := postText(mm, id); !strings.Contains(text, "7 punten (70%)") || !strings.Contains(text, "1 stemmer") {
		t.Fatalf("post after the points: %s", text)
	}
}
