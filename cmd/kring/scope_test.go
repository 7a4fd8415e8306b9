package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
)

// TestMattermostPollReachableOnlyFromItsChannel: through kring serve's
// Mattermost endpoints a poll exists only in its own channel. Its id typed
// in another channel of the team or in a DM uploads nothing, changes
// nothing and answers "not found" without the question or counts, for its
// creator and for an admin alike; a click whose context is replayed from
// another channel, or altered to name the poll, is refused.
func TestMattermostPollReachableOnlyFromItsChannel(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db", func(c *Config) { c.Admins = "mattermost:" + cato })
	id := pollID(t, s.command(anna, `/poll "Geheime begroting?" Ja Nee --anoniem --toevoegen`).Text)
	post := mm.Posts()[0].Id
	s.click(post, s.button(post, "pollvote"), bram)
	s.waitPost(post, "1 stemmer")

	const other = "other00000000000000000000a"
	// A second poll, in the other channel, whose buttons are validly signed
	// for that channel.
	otherPoll := pollID(t, s.commandIn(other, anna, `/poll "Andere vraag?" a b`).Text)
	var otherPost string
	for _, p := range mm.Posts() {
		if p.ChannelId == other {
			otherPost = p.Id
		}
	}
	if otherPost == "" || otherPoll == id {
		t.Fatalf("no second poll in %s", other)
	}

	posts, files, updates, dialogs := len(mm.Posts()), len(mm.Files()), mm.Updates(post), len(mm.Dialogs())
	notFound := func(what, reply string) {
		t.Helper()
		if !strings.Contains(reply, "Ik vind geen peiling met ID") || !strings.Contains(reply, id) {
			t.Errorf("%s: %q, want not found", what, reply)
		}
		for _, leak := range []string{"Geheime begroting", "stem (", "100%"} {
			if strings.Contains(reply, leak) {
				t.Errorf("%s leaks %q: %q", what, leak, reply)
			}
		}
	}
	for _, channel := range []string{other, mm.DMChannel(anna)} {
		for _, line := range []string{
			"export " + id, "exporteren `" + id + "`", "uitslag " + id, "mijn stem " + id,
			"sluit " + id, "sluiten " + id, "heropen " + id, "verwijder " + id, "verwijderen " + id,
		} {
			for _, user := range []string{anna, cato} {
				notFound("/poll "+line+" in "+channel, s.commandIn(channel, user, "/poll "+line).Text)
			}
		}
	}

	// Replayed and altered clicks.
	send := func(a *model.PostAction, channel, postID string, context map[string]any) int {
		t.Helper()
		body, _ := json.Marshal(model.PostActionIntegrationRequest{
			UserId: anna, UserName: "anna", ChannelId: channel, TeamId: mm.TeamID, PostId: postID,
			TriggerId: "trigger-forged", Type: model.PostActionTypeButton, Context: context,
		})
		resp, err := http.Post(a.Integration.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	actions := mattermosttest.Actions(mm.Post(post))
	if len(actions) < 4 {
		t.Fatalf("the poll has %d buttons", len(actions))
	}
	for _, a := range actions {
		// The poll's own button context, sent as if clicked in the other
		// channel (on the other poll's post).
		if code := send(a, other, otherPost, a.Integration.Context); code != http.StatusForbidden {
			t.Errorf("%s replayed from another channel: %d, want 403", a.Id, code)
		}
	}
	// The other poll's buttons, their values changed to name this poll.
	altered := 0
	for _, a := range mattermosttest.Actions(mm.Post(otherPost)) {
		ctx := maps.Clone(a.Integration.Context)
		for k, v := range ctx {
			if s, ok := v.(string); ok && strings.HasPrefix(s, otherPoll) {
				ctx[k] = id + strings.TrimPrefix(s, otherPoll)
				altered++
			}
		}
		if code := send(a, other, otherPost, ctx); code != http.StatusForbidden {
			t.Errorf("%s of the other poll altered to name %s: %d, want 403", a.Id, id, code)
		}
	}

	p, ballots := s.poll(id)
	if p.Closed || len(ballots) != 1 || len(p.Options) != 2 {
		t.Errorf("after the tries from elsewhere the poll is closed=%v with %d ballots and %d options; want open, 1, 2", p.Closed, len(ballots), len(p.Options))
	}
	if altered == 0 {
		t.Error("no button of the other poll names it; nothing was altered")
	}
	s.stop() // waits for work in flight
	if n := len(mm.Files()); n != files {
		t.Errorf("%d files uploaded from elsewhere", n-files)
	}
	if n := len(mm.Posts()); n != posts {
		t.Errorf("%d posts made from elsewhere", n-posts)
	}
	if n := mm.Updates(post); n != updates {
		t.Errorf("the poll's post was updated %d times from elsewhere", n-updates)
	}
	if n := len(mm.Dialogs()); n != dialogs {
		t.Errorf("%d dialogs opened from elsewhere", n-dialogs)
	}
}
