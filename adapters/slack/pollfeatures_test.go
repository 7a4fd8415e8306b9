package slack

// Every poll feature through Slack, end to end: signed requests as Slack
// sends them go in, the Web API stand-in records what kring does.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/slack-go/slack"
)

// quickHarness is a harness whose updates go out every few milliseconds
// instead of every second, so a test waits for less. Its users are known
// to kring already, as in a workspace where kring has named them before:
// every request carries their display names (a request by an unknown user
// carries its handle: TestClickMakesNoUserLookup).
func quickHarness(t *testing.T) *harness {
	h := newHarness(t, func(c *Config) { c.PaceEvery = 5 * time.Millisecond })
	h.know("U1", "U2", "U3", "U4", testAdmin)
	return h
}

// slashReply is a slash command's immediate reply as Slack reads it.
type slashReply struct {
	ResponseType string       `json:"response_type"`
	Text         string       `json:"text"`
	Blocks       slack.Blocks `json:"blocks"`
}

// all is the reply's fallback text and the JSON of its blocks.
func (r slashReply) all() string {
	js, _ := json.Marshal(r.Blocks)
	return r.Text + "\n" + string(js)
}

// say runs a slash command and returns its immediate reply.
func (h *harness) say(user, channel, command, text string) slashReply {
	h.t.Helper()
	status, body := h.command(user, channel, command, text)
	if status != http.StatusOK {
		h.t.Fatalf("%s %s: status %d: %s", command, text, status, body)
	}
	var r slashReply
	if len(body) == 0 {
		return r
	}
	if err := json.Unmarshal(body, &r); err != nil {
		h.t.Fatalf("%s %s: reply is not Slack JSON: %v: %s", command, text, err, body)
	}
	if r.ResponseType != slack.ResponseTypeEphemeral {
		h.t.Errorf("%s %s: reply of type %q, want ephemeral (seen by its user only)", command, text, r.ResponseType)
	}
	return r
}

// clickFor clicks b as user and returns the path of the response_url the
// click carried: Slack gives each click its own, bound to the user who
// clicked, so a reply there reaches that user only.
func (h *harness) clickFor(user, channel, ts string, b *slack.ButtonBlockElement) string {
	h.t.Helper()
	payload := h.clickPayload(user, channel, ts, b)
	var p struct {
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		h.t.Fatal(err)
	}
	resp, body, _ := h.send(request{path: "/slack/interactions", body: url.Values{"payload": {string(payload)}}.Encode()})
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		h.t.Fatalf("click %s by %s: %d %q, want an empty 200", b.ActionID, user, resp.StatusCode, body)
	}
	u, err := url.Parse(p.ResponseURL)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Path
}

// webhookReply is what kring posted to a response_url.
type webhookReply struct {
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
}

// replyAt waits for kring's reply to the response_url at path, checks it
// is ephemeral and leaves the poll message alone, and returns its text.
func (h *harness) replyAt(path string) string {
	h.t.Helper()
	calls := h.api.waitFor("a reply at "+path, func(cs []call) bool {
		return slices.ContainsFunc(cs, func(c call) bool { return c.Method == "respond" && c.Path == path })
	})
	var replies []webhookReply
	for _, c := range calls {
		if c.Method != "respond" || c.Path != path {
			continue
		}
		var r webhookReply
		if err := json.Unmarshal(c.Body, &r); err != nil {
			h.t.Fatalf("reply at %s is not JSON: %v: %s", path, err, c.Body)
		}
		replies = append(replies, r)
	}
	if len(replies) != 1 {
		h.t.Errorf("%d replies at %s, want 1", len(replies), path)
	}
	r := replies[0]
	if r.ResponseType != slack.ResponseTypeEphemeral || r.ReplaceOriginal || r.DeleteOriginal {
		h.t.Errorf("reply at %s: response_type %q, replace_original %v, delete_original %v; want an ephemeral reply that leaves the poll alone",
			path, r.ResponseType, r.ReplaceOriginal, r.DeleteOriginal)
	}
	return r.Text + "\n" + string(r.Blocks)
}

// settled waits until the latest chat.update of the message at ts
// satisfies ok, and returns that update. Updates are coalesced, so only
// the latest is sure to show the final state.
func (h *harness) settled(ts, what string, ok func(text string) bool) call {
	h.t.Helper()
	var last call
	h.api.waitFor(what, func(cs []call) bool {
		found := false
		for _, c := range cs {
			if c.Method == "chat.update" && c.Form.Get("ts") == ts {
				last, found = c, true
			}
		}
		return found && ok(last.text(h.t))
	})
	return last
}

// pollOf returns the poll whose message is at ts in channel, with ballots.
func (h *harness) pollOf(channel, ts string) (*poll.Poll, []poll.Ballot) {
	h.t.Helper()
	ctx := context.Background()
	ps, err := h.polls.List(ctx, bot.Where{Platform: bot.Slack, Team: "T1", Channel: channel})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range ps {
		if p.Ref.ID == ts {
			full, ballots, err := h.polls.Get(ctx, p.ID)
			if err != nil {
				h.t.Fatal(err)
			}
			return full, ballots
		}
	}
	h.t.Fatalf("no poll at %s in %s", ts, channel)
	return nil, nil
}

func containsAll(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// TestSlackAnonymousPoll: votes are counted, no voter's name reaches the
// channel, and each voter sees their own vote through their click's
// response_url only.
func TestSlackAnonymousPoll(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Wie wordt voorzitter?" Anna Bram --anoniem`)
	votes, mine := buttons(t, post, "poll.vote"), buttons(t, post, "poll.mine")
	if len(votes) != 2 || len(mine) != 1 {
		t.Fatalf("%d vote buttons and %d own-vote buttons, want 2 and 1", len(votes), len(mine))
	}
	labels := []string{"Anna", "Bram"}
	for _, v := range []struct {
		user   string
		option int
	}{{"U2", 0}, {"U3", 1}, {"U4", 0}} {
		reply := h.replyAt(h.clickFor(v.user, "C1", ts, votes[v.option]))
		containsAll(t, v.user+"'s own vote", reply, "Je stem bij", labels[v.option])
		if other := labels[1-v.option]; strings.Contains(reply, other) {
			t.Errorf("%s's own vote names %s too: %s", v.user, other, reply)
		}
	}
	containsAll(t, "U3 asking for their vote", h.replyAt(h.clickFor("U3", "C1", ts, mine[0])), "Bram")
	containsAll(t, "U5 asking for their vote", h.replyAt(h.clickFor("U5", "C1", ts, mine[0])), "niet gestemd")

	last := h.settled(ts, "the update with three voters", func(s string) bool { return strings.Contains(s, "3 stemmers") })
	containsAll(t, "final update", last.text(t), " 2 stemmen (67%)", " 1 stem (33%)", "anoniem")
	h.close()
	for _, c := range h.api.recorded("chat.postMessage", "chat.update") {
		text := c.text(t)
		for _, voter := range []string{"U2", "U3", "U4"} {
			if strings.Contains(text, voter) {
				t.Errorf("%s names voter %s in the channel:\n%s", c.Method, voter, text)
			}
		}
	}
	if eph := h.api.recorded("chat.postEphemeral"); len(eph) != 0 {
		t.Errorf("%d chat.postEphemeral; the own votes belong at the clicks' response_urls", len(eph))
	}
	_, ballots := h.pollOf("C1", ts)
	if len(ballots) != 3 {
		t.Fatalf("%d ballots, want 3", len(ballots))
	}
	for _, b := range ballots {
		if !strings.HasPrefix(b.Voter, "anon:") || b.Name != "" {
			t.Errorf("anonymous ballot stored as voter %q, name %q", b.Voter, b.Name)
		}
	}
}

// TestSlackMultiVote: with --stemmen=2 a third vote is refused in Dutch,
// to the voter only; clicking a chosen option again takes that vote back.
func TestSlackMultiVote(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Wanneer?" Di Wo Do --stemmen=2`)
	votes := buttons(t, post, "poll.vote")
	h.clickFor("U2", "C1", ts, votes[0])
	h.clickFor("U2", "C1", ts, votes[1])
	refusal := h.replyAt(h.clickFor("U2", "C1", ts, votes[2]))
	containsAll(t, "third vote", refusal, "Je hebt al 2 stemmen uitgebracht", "trekken")
	ballotOf := func(user string) []int {
		_, ballots := h.pollOf("C1", ts)
		for _, b := range ballots {
			if b.Voter == user {
				return b.Options
			}
		}
		return nil
	}
	if got := ballotOf("U2"); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("U2 voted %v after a refused third vote, want [0 1]", got)
	}
	h.clickFor("U2", "C1", ts, votes[0]) // takes Di back
	if got := ballotOf("U2"); !slices.Equal(got, []int{1}) {
		t.Fatalf("U2 voted %v after clicking Di again, want [1]", got)
	}
	h.clickFor("U2", "C1", ts, votes[2])
	h.clickFor("U3", "C1", ts, votes[2])
	if got := ballotOf("U2"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("U2 voted %v, want [1 2]", got)
	}
	last := h.settled(ts, "the update with both voters", func(s string) bool {
		return strings.Contains(s, "2 stemmers") && strings.Contains(s, " 2 stemmen (100%)")
	})
	text := last.text(t)
	containsAll(t, "final update", text, " 0 stemmen (0%)", " 1 stem (50%)", " 2 stemmen (100%)", "Name U2, Name U3", "hooguit 2 stemmen per persoon")
	if n := len(h.api.recorded("respond")); n != 1 {
		t.Errorf("%d replies to clicks, want only the refusal", n)
	}
}

// TestSlackHiddenPoll: --verborgen shows no counts while the poll is open,
// tells each voter their own vote, refuses an export, and shows the result
// once the creator closes the poll with its button.
func TestSlackHiddenPoll(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Begroting akkoord?" Ja Nee --verborgen`)
	votes := buttons(t, post, "poll.vote")
	for _, v := range []struct {
		user   string
		option int
	}{{"U2", 0}, {"U3", 1}, {"U4", 0}} {
		containsAll(t, v.user+"'s own vote", h.replyAt(h.clickFor(v.user, "C1", ts, votes[v.option])), "Je stem bij")
	}
	h.settled(ts, "the update with three voters", func(s string) bool { return strings.Contains(s, "3 stemmers") })
	for _, c := range append(h.api.recorded("chat.postMessage"), h.api.recorded("chat.update")...) {
		text := c.text(t)
		if strings.Contains(text, "stemmen (") || strings.Contains(text, "stem (") || strings.Contains(text, "Name U2") || strings.Contains(text, "Name U3") {
			t.Errorf("%s of an open hidden poll shows results:\n%s", c.Method, text)
		}
		containsAll(t, c.Method, text, "verborgen")
	}
	p, _ := h.pollOf("C1", ts)
	reply := h.say("U1", "C1", "/poll", "export "+p.ID)
	containsAll(t, "export of a hidden poll", reply.all(), "blijft verborgen tot de peiling sluit")
	if n := len(h.api.recorded("files.getUploadURLExternal")); n != 0 {
		t.Errorf("a hidden poll was uploaded (%d calls)", n)
	}

	closeBtn := buttons(t, post, "poll.close")
	if len(closeBtn) != 1 {
		t.Fatal("no close button")
	}
	containsAll(t, "close reply", h.replyAt(h.clickFor("U1", "C1", ts, closeBtn[0])), "is gesloten")
	last := h.settled(ts, "the closed poll with its result", func(s string) bool { return strings.Contains(s, "(gesloten)") })
	containsAll(t, "closed hidden poll", last.text(t), " 2 stemmen (67%)", " 1 stem (33%)", "Name U2, Name U4", "Name U3")
	reply = h.say("U1", "C1", "/poll", "export "+p.ID)
	containsAll(t, "export after closing", reply.all(), "staat in dit gesprek")
}

// TestSlackCloseReopenDelete: the close and delete buttons ask for
// confirmation in Block Kit; the creator and an admin (KRING_ADMINS) may
// close, reopen and delete, anyone else gets an error only they see.
func TestSlackCloseReopenDelete(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Uitje?" Bowlen Wandelen`)
	closeBtn := buttons(t, post, "poll.close")
	if len(closeBtn) != 1 {
		t.Fatal("no close button")
	}
	checkConfirm := func(b *slack.ButtonBlockElement, title, yes string) {
		t.Helper()
		c := b.Confirm
		if c == nil || c.Title == nil || c.Text == nil || c.Confirm == nil || c.Deny == nil {
			t.Fatalf("%s has no complete confirm dialog: %+v", b.ActionID, c)
		}
		if c.Title.Text != title || c.Confirm.Text != yes || c.Deny.Text != "Annuleren" || c.Text.Text == "" || c.Style != slack.StyleDanger || b.Style != slack.StyleDanger {
			t.Errorf("%s confirm: title %q, yes %q, no %q, style %q/%q", b.ActionID, c.Title.Text, c.Confirm.Text, c.Deny.Text, c.Style, b.Style)
		}
	}
	checkConfirm(closeBtn[0], "Peiling sluiten?", "Sluiten")
	isClosed := func() bool { p, _ := h.pollOf("C1", ts); return p.Closed }
	notYours := "Alleen de maker (Name U1) of een beheerder"

	containsAll(t, "U2 closing U1's poll", h.replyAt(h.clickFor("U2", "C1", ts, closeBtn[0])), notYours)
	if isClosed() {
		t.Fatal("another user closed the poll")
	}
	containsAll(t, "U1 closing", h.replyAt(h.clickFor("U1", "C1", ts, closeBtn[0])), "is gesloten")
	closed := h.settled(ts, "the closed poll", func(s string) bool { return strings.Contains(s, "(gesloten)") })
	if len(buttons(t, closed, "poll.vote")) != 0 {
		t.Error("a closed poll still has vote buttons")
	}
	reopen, del := buttons(t, closed, "poll.reopen"), buttons(t, closed, "poll.delete")
	if len(reopen) != 1 || len(del) != 1 {
		t.Fatalf("closed poll has %d reopen and %d delete buttons, want 1 and 1", len(reopen), len(del))
	}
	checkConfirm(del[0], "Peiling verwijderen?", "Verwijderen")

	containsAll(t, "U2 reopening", h.replyAt(h.clickFor("U2", "C1", ts, reopen[0])), notYours)
	containsAll(t, "U2 deleting", h.replyAt(h.clickFor("U2", "C1", ts, del[0])), notYours)
	if !isClosed() {
		t.Fatal("another user reopened the poll")
	}
	containsAll(t, "admin reopening", h.replyAt(h.clickFor(testAdmin, "C1", ts, reopen[0])), "weer open")
	open := h.settled(ts, "the reopened poll", func(s string) bool { return !strings.Contains(s, "(gesloten)") })
	if isClosed() || len(buttons(t, open, "poll.vote")) != 2 {
		t.Fatal("the admin's reopen did not reopen the poll")
	}
	containsAll(t, "admin closing", h.replyAt(h.clickFor(testAdmin, "C1", ts, buttons(t, open, "poll.close")[0])), "is gesloten")
	closed = h.settled(ts, "the poll closed again", func(s string) bool { return strings.Contains(s, "(gesloten)") })
	containsAll(t, "U1 deleting", h.replyAt(h.clickFor("U1", "C1", ts, buttons(t, closed, "poll.delete")[0])), "is verwijderd")
	gone := h.settled(ts, "the deleted poll's message", func(s string) bool { return strings.Contains(s, "verwijderd door") })
	containsAll(t, "deleted poll's message", gone.text(t), "Uitje?", "Name U1")
	if len(buttons(t, gone, "")) != 0 {
		t.Error("the deleted poll's message still has buttons")
	}
	ps, _ := h.polls.List(context.Background(), bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"})
	if len(ps) != 0 {
		t.Errorf("%d polls left after delete", len(ps))
	}
	// A stale button of the deleted poll answers, to the clicker only.
	containsAll(t, "vote on a deleted poll", h.replyAt(h.clickFor("U2", "C1", ts, buttons(t, post, "poll.vote")[0])), "Ik vind geen peiling")

	// The admin may delete someone else's open poll too.
	_, ts2 := h.createPoll(`"Tweede?" a b`)
	p2, _ := h.pollOf("C1", ts2)
	containsAll(t, "U2 deleting by command", h.say("U2", "C1", "/poll", "verwijder "+p2.ID).all(), notYours)
	containsAll(t, "admin deleting by command", h.say(testAdmin, "C1", "/poll", "verwijder "+p2.ID).all(), "is verwijderd")
	h.settled(ts2, "the admin's delete", func(s string) bool { return strings.Contains(s, "verwijderd door Name "+testAdmin) })
	if _, _, err := h.polls.Get(context.Background(), p2.ID); !errors.Is(err, poll.ErrNotFound) {
		t.Errorf("poll deleted by the admin: Get = %v", err)
	}
	if n := len(h.api.recorded("chat.postEphemeral")); n != 0 {
		t.Errorf("%d chat.postEphemeral; replies to clicks belong at their response_urls", n)
	}
}

// TestSlackAddOptionVotable: an option added through the modal (a
// view_submission carrying the whole view, as Slack sends it) shows up in
// the poll and can be voted on; the confirmation goes to its adder only.
func TestSlackAddOptionVotable(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Lunch?" Pizza Soep --toevoegen`)
	h.clickFor("U2", "C1", ts, buttons(t, post, "poll.add")[0])
	opens := h.api.recorded("views.open")
	if len(opens) != 1 {
		t.Fatalf("%d views.open, want 1", len(opens))
	}
	var open struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(opens[0].Body, &open); err != nil {
		t.Fatal(err)
	}
	body := h.viewSubmission("U2", open.View, map[string]any{
		"option": map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": "Salade"}},
	})
	resp, ack, _ := h.send(request{path: "/slack/interactions", body: body})
	if resp.StatusCode != http.StatusOK || len(ack) != 0 {
		t.Fatalf("submission: %d %q, want an empty 200 that closes the modal", resp.StatusCode, ack)
	}
	added := h.settled(ts, "the poll with the added option", func(s string) bool { return strings.Contains(s, "3. Salade") })
	votes := buttons(t, added, "poll.vote")
	if len(votes) != 3 {
		t.Fatalf("%d vote buttons after adding, want 3", len(votes))
	}
	h.clickFor("U3", "C1", ts, votes[2])
	h.settled(ts, "the vote on the added option", func(s string) bool {
		return strings.Contains(s, "1 stemmer") && strings.Contains(s, " 1 stem (100%)") && strings.Contains(s, "Name U3")
	})
	eph := h.api.waitFor("the confirmation", func(cs []call) bool {
		return slices.ContainsFunc(cs, func(c call) bool { return c.Method == "chat.postEphemeral" })
	})
	for _, c := range eph {
		if c.Method == "chat.postEphemeral" && (c.Form.Get("user") != "U2" || c.Form.Get("channel") != "C1" || !strings.Contains(c.Form.Get("text"), "Salade")) {
			t.Errorf("confirmation to %s in %s: %s", c.Form.Get("user"), c.Form.Get("channel"), c.Form.Get("text"))
		}
	}
}

// viewSubmission is a view_submission payload as Slack sends it: the view
// as kring opened it (blocks, callback id, private_metadata) with Slack's
// own fields added, and the state of its inputs.
func (h *harness) viewSubmission(user string, opened json.RawMessage, values map[string]any) string {
	h.t.Helper()
	var view map[string]any
	if err := json.Unmarshal(opened, &view); err != nil {
		h.t.Fatal(err)
	}
	n := h.n.Add(1)
	view["id"] = "V0" + h.run
	view["team_id"] = "T1"
	view["app_id"] = "A1"
	view["bot_id"] = "B1"
	view["hash"] = "1700000000.abcdef"
	view["root_view_id"] = view["id"]
	view["previous_view_id"] = nil
	view["external_id"] = ""
	view["clear_on_close"] = false
	view["notify_on_close"] = false
	view["state"] = map[string]any{"values": values}
	payload, err := json.Marshal(map[string]any{
		"type":                  "view_submission",
		"team":                  map[string]any{"id": "T1", "domain": "kring-test"},
		"user":                  map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user), "team_id": "T1"},
		"api_app_id":            "A1",
		"token":                 "legacy-token",
		"trigger_id":            "trig-view-" + h.run + "-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+n%26)),
		"view":                  view,
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return url.Values{"payload": {string(payload)}}.Encode()
}

// TestSlackPollList: /poll lijst answers only its user, with the open
// polls of that channel.
func TestSlackPollList(t *testing.T) {
	h := quickHarness(t)
	post1, ts1 := h.createPoll(`"Eerste vraag?" a b`)
	_, ts2 := h.createPoll(`"Tweede vraag?" c d`)
	h.say("U1", "C2", "/poll", `"Elders?" e f`)
	p1, _ := h.pollOf("C1", ts1)
	p2, _ := h.pollOf("C1", ts2)
	h.say("U1", "C1", "/poll", "sluit "+p2.ID)
	h.clickFor("U3", "C1", ts1, buttons(t, post1, "poll.vote")[0])
	posts := len(h.api.recorded("chat.postMessage"))

	list := h.say("U2", "C1", "/poll", "lijst").all()
	containsAll(t, "/poll lijst", list, "1 open peiling in dit kanaal", "Eerste vraag?", p1.ID, "1 stemmer")
	for _, not := range []string{"Tweede vraag?", "Elders?"} {
		if strings.Contains(list, not) {
			t.Errorf("/poll lijst in C1 lists %q:\n%s", not, list)
		}
	}
	containsAll(t, "/poll list", h.say("U2", "C1", "/poll", "list").all(), "Eerste vraag?")
	containsAll(t, "/poll lijst in C2", h.say("U2", "C2", "/poll", "lijst").all(), "Elders?")
	containsAll(t, "/poll lijst in C3", h.say("U2", "C3", "/poll", "lijst").all(), "geen open peilingen")
	if n := len(h.api.recorded("chat.postMessage")); n != posts {
		t.Errorf("/poll lijst posted %d public messages", n-posts)
	}
}

// TestSlackExport: /poll export uploads the CSV with
// files.getUploadURLExternal, the upload and files.completeUploadExternal
// to the channel or DM it was asked in, and falls back to a code block
// when the app lacks files:write.
func TestSlackExport(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Lunch?" Pizza "=Soep"`)
	votes := buttons(t, post, "poll.vote")
	h.clickFor("U2", "C1", ts, votes[0])
	h.clickFor("U3", "C1", ts, votes[1])
	p, _ := h.pollOf("C1", ts)
	// Dutch Excel reads ';' between fields, and UTF-8 after a byte order mark.
	const csv = "\uFEFFoptie;stemmen;stemmers\nPizza;1;Name U2\n'=Soep;1;Name U3\n"

	reply := h.say("U1", "C1", "/poll", "export "+p.ID)
	containsAll(t, "export reply", reply.all(), "De export van peiling", p.ID)
	// checkUpload checks the latest upload.
	checkUpload := func(channel, id, title, content string) {
		t.Helper()
		get, up, done := h.api.recorded("files.getUploadURLExternal"), h.api.recorded("upload"), h.api.recorded("files.completeUploadExternal")
		if len(get) == 0 || len(up) == 0 || len(done) == 0 {
			t.Fatalf("%d getUploadURLExternal, %d uploads, %d completeUploadExternal", len(get), len(up), len(done))
		}
		g, u, d := get[len(get)-1], up[len(up)-1], done[len(done)-1]
		if f := g.Form; f.Get("filename") != "peiling-"+id+".csv" || f.Get("length") != strconv.Itoa(len(content)) {
			t.Errorf("files.getUploadURLExternal: filename %q, length %q; want peiling-%s.csv, %d", f.Get("filename"), f.Get("length"), id, len(content))
		}
		if !strings.Contains(string(u.Body), content) {
			t.Errorf("uploaded file lacks the CSV %q:\n%s", content, u.Body)
		}
		var files []struct{ ID, Title string }
		if err := json.Unmarshal([]byte(d.Form.Get("files")), &files); err != nil || len(files) != 1 || files[0].ID != "F1" || files[0].Title != title {
			t.Errorf("files.completeUploadExternal files = %s (%v), want F1 titled %q", d.Form.Get("files"), err, title)
		}
		if got := d.Form.Get("channel_id"); got != channel {
			t.Errorf("file shared to %q, want %s", got, channel)
		}
	}
	checkUpload("C1", p.ID, "Uitslag: Lunch?", csv)

	// Asked in a DM with kring, the poll of C1 does not exist: nothing is
	// uploaded anywhere (TestSlackPollReachableOnlyFromItsChannel).
	containsAll(t, "export asked in a DM", h.say("U1", "DU1", "/poll", "export "+p.ID).all(), "Ik vind geen peiling")
	if n := len(h.api.recorded("upload")); n != 1 {
		t.Fatalf("%d uploads after an export asked in a DM, want still 1", n)
	}

	// Without files:write the CSV comes as a code block in the channel.
	h.api.setFail("files.getUploadURLExternal", "missing_scope")
	posts := len(h.api.recorded("chat.postMessage"))
	reply = h.say("U1", "C1", "/poll", "export "+p.ID)
	containsAll(t, "export reply without files:write", reply.all(), "De export van peiling")
	all := h.api.recorded("chat.postMessage")
	if len(all) != posts+1 {
		t.Fatalf("%d messages posted for the fallback, want 1", len(all)-posts)
	}
	fb := all[len(all)-1]
	if fb.Form.Get("channel") != "C1" {
		t.Errorf("fallback posted in %s", fb.Form.Get("channel"))
	}
	containsAll(t, "code block fallback", fb.text(t), "Uitslag: Lunch?", "optie;stemmen;stemmers", "Pizza;1;Name U2", "'=Soep;1;Name U3")

	// An anonymous poll's export has no voters column.
	h.api.setFail("files.getUploadURLExternal", "")
	post, ts = h.createPoll(`"Geheim?" Ja Nee --anoniem`)
	h.replyAt(h.clickFor("U2", "C1", ts, buttons(t, post, "poll.vote")[1]))
	p, _ = h.pollOf("C1", ts)
	h.say("U1", "C1", "/poll", "export "+p.ID)
	checkUpload("C1", p.ID, "Uitslag: Geheim?", "\uFEFFoptie;stemmen\nJa;0\nNee;1\n")
	if up := h.api.recorded("upload"); len(up) != 2 || strings.Contains(string(up[1].Body), "U2") {
		t.Errorf("%d uploads; anonymous export:\n%s", len(up), up[len(up)-1].Body)
	}
}

// TestSlackEnglish: after /kring taal en, polls speak English in that
// workspace: the reply, the poll message, its buttons and confirm, the
// own-vote reply, the updates and the list; Dutch keywords still work.
func TestSlackEnglish(t *testing.T) {
	h := quickHarness(t)
	containsAll(t, "/kring taal en by a member", h.say("U1", "C1", "/kring", "taal en --werkruimte").all(), "Alleen beheerders")
	containsAll(t, "/kring taal en by an admin", h.say(testAdmin, "C1", "/kring", "taal en --werkruimte").all(), "in this workspace are in English")
	reply := h.say("U1", "C1", "/poll", `"Lunch?" Pizza Soup --anonymous --votes=2`)
	containsAll(t, "/poll reply", reply.all(), "Your poll is in the channel")
	post, ts := h.createPollFromLast()
	containsAll(t, "English poll", post.text(t), "no votes yet", "anonymous", "up to 2 votes per person", "My vote", "Close")
	closeBtn := buttons(t, post, "poll.close")[0]
	if c := closeBtn.Confirm; c == nil || c.Title.Text != "Close the poll?" || c.Deny.Text == "Annuleren" {
		t.Errorf("close confirm not in English: %+v", c)
	}
	votes := buttons(t, post, "poll.vote")
	containsAll(t, "own vote", h.replyAt(h.clickFor("U2", "C1", ts, votes[1])), "Your vote", "Soup")
	h.settled(ts, "the English update", func(s string) bool { return strings.Contains(s, "1 voter") && strings.Contains(s, " 1 vote (100%)") })
	containsAll(t, "/poll lijst in English", h.say("U2", "C1", "/poll", "lijst").all(), "1 open poll in this channel", "Lunch?")
	containsAll(t, "U3 closing", h.replyAt(h.clickFor("U3", "C1", ts, closeBtn)), "Only its creator")
	// Another workspace still speaks Dutch.
	body := strings.Replace(h.commandBody("U1", "C1", "/poll", "lijst"), "team_id=T1", "team_id=T2", 1)
	resp, raw, _ := h.send(request{path: "/slack/commands", body: body})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "open peilingen") {
		t.Errorf("/poll lijst in another workspace: %d %s", resp.StatusCode, raw)
	}
}

// recordingMux answers every action with nothing and hands it to the
// test.
type recordingMux struct{ got chan *bot.Action }

func (m *recordingMux) ServeCommand(context.Context, *bot.Request) bot.Reply { return bot.Reply{} }
func (m *recordingMux) ServeAction(_ context.Context, act *bot.Action) bot.Reply {
	m.got <- act
	return bot.Reply{}
}
func (m *recordingMux) Locale(context.Context, bot.Where) string { return "nl" }

// TestViewSubmissionEveryInputKind: a modal with an input of every kind
// renders to the Block Kit elements Slack documents, and a view_submission
// whose state holds each element's value as Slack sends it (plain_text_input
// value, static_select selected_option, multi_static_select
// selected_options, users_select selected_user, datepicker selected_date;
// null or empty when left blank) reaches the feature as bot.Values.
func TestViewSubmissionEveryInputKind(t *testing.T) {
	rec := &recordingMux{got: make(chan *bot.Action, 1)}
	h := newHarness(t, func(c *Config) { c.Mux = rec })
	opts := []bot.Option{{Value: "noord", Label: "Noord"}, {Value: "zuid", Label: "Zuid"}, {Value: "oost", Label: "Oost"}}
	form := bot.Form{ID: "test.submit", Title: "Alles", State: "st-1", Inputs: []bot.Input{
		{Name: "titel", Label: "Titel", Kind: bot.Text},
		{Name: "toelichting", Label: "Toelichting", Kind: bot.LongText},
		{Name: "regio", Label: "Regio", Kind: bot.Select, Options: opts},
		{Name: "themas", Label: "Thema's", Kind: bot.MultiSelect, Options: opts},
		{Name: "wie", Label: "Wie", Kind: bot.UserPicker},
		{Name: "datum", Label: "Datum", Kind: bot.Date},
		{Name: "leeg_tekst", Label: "Leeg", Kind: bot.Text, Optional: true},
		{Name: "leeg_select", Label: "Leeg", Kind: bot.Select, Options: opts, Optional: true},
		{Name: "leeg_multi", Label: "Leeg", Kind: bot.MultiSelect, Options: opts, Optional: true},
		{Name: "leeg_wie", Label: "Leeg", Kind: bot.UserPicker, Optional: true},
		{Name: "leeg_datum", Label: "Leeg", Kind: bot.Date, Optional: true},
	}}
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	if err := h.a.Poster().OpenForm(context.Background(), where, "trig-open", form); err != nil {
		t.Fatal(err)
	}
	var open struct {
		View json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(h.api.recorded("views.open")[0].Body, &open); err != nil {
		t.Fatal(err)
	}
	var view slack.ModalViewRequest
	if err := json.Unmarshal(open.View, &view); err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{
		"titel": "plain_text_input", "toelichting": "plain_text_input", "regio": "static_select", "themas": "multi_static_select",
		"wie": "users_select", "datum": "datepicker", "leeg_tekst": "plain_text_input", "leeg_select": "static_select",
		"leeg_multi": "multi_static_select", "leeg_wie": "users_select", "leeg_datum": "datepicker",
	}
	for _, b := range view.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			t.Errorf("modal block of type %s, want input", b.BlockType())
			continue
		}
		js, _ := json.Marshal(in.Element)
		var el struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
		}
		_ = json.Unmarshal(js, &el)
		if el.Type != wantTypes[in.BlockID] || el.ActionID != inputActionID {
			t.Errorf("input %s renders as %s/%s, want %s/%s", in.BlockID, el.Type, el.ActionID, wantTypes[in.BlockID], inputActionID)
		}
	}
	option := func(v, label string) map[string]any {
		return map[string]any{"text": map[string]any{"type": "plain_text", "text": label, "emoji": true}, "value": v}
	}
	state := func(typ string, kv ...any) map[string]any {
		v := map[string]any{"type": typ}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{inputActionID: v}
	}
	values := map[string]any{
		"titel":       state("plain_text_input", "value", "Kick-off <regio> & meer"),
		"toelichting": state("plain_text_input", "value", "regel 1\nregel 2"),
		"regio":       state("static_select", "selected_option", option("zuid", "Zuid")),
		"themas":      state("multi_static_select", "selected_options", []any{option("noord", "Noord"), option("oost", "Oost")}),
		"wie":         state("users_select", "selected_user", "U7"),
		"datum":       state("datepicker", "selected_date", "2026-01-15"),
		"leeg_tekst":  state("plain_text_input", "value", nil),
		"leeg_select": state("static_select", "selected_option", nil),
		"leeg_multi":  state("multi_static_select", "selected_options", []any{}),
		"leeg_wie":    state("users_select", "selected_user", nil),
		"leeg_datum":  state("datepicker", "selected_date", nil),
	}
	resp, body, _ := h.send(request{path: "/slack/interactions", body: h.viewSubmission("U2", open.View, values)})
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("submission: %d %q", resp.StatusCode, body)
	}
	var act *bot.Action
	select {
	case act = <-rec.got:
	case <-time.After(time.Minute): // a hang, not a speed limit
		t.Fatal("the submission never reached the Mux")
	}
	if act.ID != "test.submit" || act.Value != "st-1" || act.User.ID != "U2" || act.Where != where {
		t.Errorf("action %q value %q by %q in %+v", act.ID, act.Value, act.User.ID, act.Where)
	}
	want := bot.Values{
		"titel":       {"Kick-off <regio> & meer"},
		"toelichting": {"regel 1\nregel 2"},
		"regio":       {"zuid"},
		"themas":      {"noord", "oost"},
		"wie":         {"U7"},
		"datum":       {"2026-01-15"},
	}
	for name, vs := range want {
		if !slices.Equal(act.Form[name], vs) {
			t.Errorf("form value %s = %q, want %q", name, act.Form[name], vs)
		}
	}
	for name, vs := range act.Form {
		if _, ok := want[name]; !ok {
			t.Errorf("blank input %s came through as %q", name, vs)
		}
	}
}

// TestSlackClosingTime: a poll made with --sluit closes on time through
// the job runner: the message shows the final result and a notice is
// posted in the channel.
func TestSlackClosingTime(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Borrel?" Ja Nee --sluit=2h`)
	containsAll(t, "poll with a closing time", post.text(t), "sluit ")
	votes := buttons(t, post, "poll.vote")
	h.clickFor("U2", "C1", ts, votes[0])
	h.clickFor("U3", "C1", ts, votes[0])
	ctx := context.Background()
	if n, err := h.runner.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("before its time: %d jobs ran (%v)", n, err)
	}
	h.clock.Advance(2*time.Hour + time.Minute)
	// Due now: the closing job, and the durable render the votes left
	// (live.JobKind), as in kring serve. The votes' put of that render runs
	// off the click's path and may land only after the render ran; it is
	// then due again and renders once more, the same message.
	if n, err := h.runner.RunDue(ctx); err != nil || n < 2 || n > 3 {
		t.Fatalf("after its time: %d jobs ran (%v), want the close and the votes' render (twice at most)", n, err)
	}
	last := h.settled(ts, "the poll closed on time", func(s string) bool { return strings.Contains(s, "(gesloten)") })
	containsAll(t, "poll closed on time", last.text(t), "🏆", " 2 stemmen (100%)", "gesloten ")
	posts := h.api.recorded("chat.postMessage")
	notice := posts[len(posts)-1]
	if notice.Form.Get("channel") != "C1" || !strings.Contains(notice.text(t), "2 stemmers") {
		t.Errorf("closing notice in %s: %s", notice.Form.Get("channel"), notice.text(t))
	}
	if _, err := h.runner.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if again := h.api.recorded("chat.postMessage"); len(again) != len(posts) {
		t.Errorf("the closing job ran again: %d posts after it, %d before", len(again), len(posts))
	}
	if p, _ := h.pollOf("C1", ts); !p.Closed {
		t.Error("the poll is still open in the store")
	}
}

// TestSlackBadInput: a mistake in /poll gets a Dutch usage reply with an
// example, seen by its user only, and posts nothing; typographic quotes,
// as phones type them, work.
func TestSlackBadInput(t *testing.T) {
	h := quickHarness(t)
	for _, text := range []string{`"Alleen één?" ja`, `"Lunch?" Pizza Soep --onbekend`, `"Lunch? Pizza Soep`, `"" a b`} {
		reply := h.say("U1", "C1", "/poll", text)
		containsAll(t, "/poll "+text, reply.all(), "Zo maak je een peiling", `/poll \"Lunch?\" Pizza Soep --anoniem`)
	}
	if n := len(h.api.recorded("chat.postMessage")); n != 0 {
		t.Errorf("bad input posted %d messages", n)
	}
	h.say("U1", "C1", "/poll", "“Lunch vandaag?” “Pizza Margherita” Soep")
	post, _ := h.createPollFromLast()
	containsAll(t, "poll typed with typographic quotes", post.text(t), "Lunch vandaag?", "1. Pizza Margherita", "2. Soep")
}
