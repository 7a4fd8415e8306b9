package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// TestSlackPollReachableOnlyFromItsChannel: through the signed endpoints, a
// poll exists only in its own channel. Its id typed in another channel of
// the same workspace, or in a DM with kring, uploads nothing, changes
// nothing and says the poll is not found, without its question or counts;
// a forged click or form naming it from another channel is refused the
// same way.
func TestSlackPollReachableOnlyFromItsChannel(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Geheime begroting?" Ja Nee --anoniem --toevoegen`)
	h.replyAt(h.clickFor("U2", "C1", ts, buttons(t, post, "poll.vote")[0]))
	p, _ := h.pollOf("C1", ts)
	id := p.ID
	h.settled(ts, "the vote", func(s string) bool { return strings.Contains(s, "1 stemmer") })

	// What the poll's channel has seen so far; nothing may be added to it.
	count := func() map[string]int {
		n := map[string]int{}
		for _, m := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "files.getUploadURLExternal", "upload", "files.completeUploadExternal", "views.open"} {
			n[m] = len(h.api.recorded(m))
		}
		return n
	}
	before := count()
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

	for _, channel := range []string{"C2", "DU1"} {
		for _, text := range []string{
			"export " + id, "exporteren `" + id + "`", "uitslag " + id, "mijn stem " + id,
			"sluit " + id, "sluiten " + id, "heropen " + id, "verwijder " + id, "verwijderen " + id,
		} {
			// U1 made the poll; testAdmin may manage any poll: neither reaches it from elsewhere.
			for _, user := range []string{"U1", testAdmin} {
				notFound("/poll "+text+" by "+user+" in "+channel, h.say(user, channel, "/poll", text).all())
			}
		}
		if list := h.say("U1", channel, "/poll", "lijst").all(); strings.Contains(list, "Geheime begroting") {
			t.Errorf("/poll lijst in %s lists the poll of C1: %s", channel, list)
		}
	}

	// Forged clicks: signed as Slack signs them, from channel C2, with
	// buttons naming the poll of C1 (as if copied from its message).
	button := func(action, value string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(action, value, slack.NewTextBlockObject(slack.PlainTextType, action, false, false))
	}
	for _, b := range []*slack.ButtonBlockElement{
		button("poll.vote", id+":1"), button("poll.mine", id), button("poll.add", id),
		button("poll.close", id), button("poll.reopen", id), button("poll.delete", id),
	} {
		notFound("a forged "+b.ActionID+" click in C2", h.replyAt(h.clickFor("U1", "C2", "1700000000.000999", b)))
	}

	// A forged form submission: the add-option modal's state naming the
	// poll of C1, for channel C2.
	meta, err := json.Marshal(formState{V: formStateVersion, Where: bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C2"}, State: id})
	if err != nil {
		t.Fatal(err)
	}
	view, _ := json.Marshal(map[string]any{
		"type": "modal", "callback_id": "poll.add.submit", "private_metadata": string(meta),
		"title": map[string]any{"type": "plain_text", "text": "Optie toevoegen"}, "blocks": []any{},
	})
	resp, body, _ := h.send(request{path: "/slack/interactions", body: h.viewSubmission("U1", view, map[string]any{
		"option": map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": "Misschien"}},
	})})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("forged view submission: %d %s", resp.StatusCode, body)
	}
	h.close()
	eph := h.api.recorded("chat.postEphemeral")[before["chat.postEphemeral"]:]
	if len(eph) != 1 {
		t.Errorf("%d ephemerals after the forged submission, want its refusal", len(eph))
	}
	for _, e := range eph {
		if e.Form.Get("channel") != "C2" {
			t.Errorf("an ephemeral in %s after the forged submission", e.Form.Get("channel"))
		}
		notFound("the answer to a forged form", e.text(t))
	}
	for _, m := range []string{"chat.postMessage", "chat.update", "files.getUploadURLExternal", "upload", "files.completeUploadExternal", "views.open"} {
		if n := len(h.api.recorded(m)); n != before[m] {
			t.Errorf("%s: %d calls before the tries from elsewhere, %d after", m, before[m], n)
		}
	}
	p, ballots := h.pollOf("C1", ts)
	if p.Closed || len(p.Options) != 2 || len(ballots) != 1 {
		t.Errorf("after the tries from elsewhere the poll is closed=%v with %d options and %d ballots; want open, 2, 1", p.Closed, len(p.Options), len(ballots))
	}
}
