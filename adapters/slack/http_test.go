package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// TestPollEndToEnd: a poll is created, three users click its buttons, and
// Slack receives a chat.postMessage, then chat.updates whose final state
// shows the right counts.
func TestPollEndToEnd(t *testing.T) {
	h := newHarness(t, nil)
	status, body := h.command("U1", "C1", "/poll", `"Lunch?" Pizza Soep`)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	var ack struct {
		ResponseType string          `json:"response_type"`
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &ack); err != nil {
		t.Fatalf("command reply is not JSON: %v: %s", err, body)
	}
	if ack.ResponseType != "ephemeral" || ack.Text == "" {
		t.Errorf("command reply = %+v, want an ephemeral confirmation", ack)
	}
	post, ts := h.createPollFromLast()
	if ch := post.Form.Get("channel"); ch != "C1" {
		t.Errorf("posted in %q, want C1", ch)
	}
	votes := buttons(t, post, "poll.vote")
	if len(votes) != 2 {
		t.Fatalf("poll has %d vote buttons, want 2", len(votes))
	}
	for user, option := range map[string]int{"U1": 0, "U2": 1, "U3": 0} {
		if got := h.click(user, "C1", ts, votes[option]); got != http.StatusOK {
			t.Fatalf("click by %s: status %d", user, got)
		}
	}
	h.close()
	updates := h.api.recorded("chat.update")
	if len(updates) == 0 {
		t.Fatal("no chat.update")
	}
	last := updates[len(updates)-1]
	if last.Form.Get("ts") != ts || last.Form.Get("channel") != "C1" {
		t.Errorf("updated %s/%s, want C1/%s", last.Form.Get("channel"), last.Form.Get("ts"), ts)
	}
	text := last.text(t)
	for _, want := range []string{"3 stemmers", " 2 stemmen (67%)", " 1 stem (33%)", "Name U1", "Name U2", "Name U3"} {
		if !strings.Contains(text, want) {
			t.Errorf("final update lacks %q:\n%s", want, text)
		}
	}
}

// createPollFromLast returns the last posted message and its ts.
func (h *harness) createPollFromLast() (call, string) {
	h.t.Helper()
	posts := h.api.recorded("chat.postMessage")
	if len(posts) == 0 {
		h.t.Fatal("nothing posted")
	}
	p := posts[len(posts)-1]
	return p, p.TS
}

// TestRejectedRequests: a bad, stale or missing signature gets 401, a body
// over 1 MiB 413, a malformed payload 400; none of them changes anything,
// and the server keeps serving.
func TestRejectedRequests(t *testing.T) {
	h := newHarness(t, nil)
	post, ts := h.createPoll(`"Lunch?" Pizza Soep`)
	vote := buttons(t, post, "poll.vote")[0]
	valid := h.clickBody("U9", "C1", ts, vote)
	badJSON := url.Values{"payload": {`{"type":"block_actions","actions":[`}}.Encode()
	noUser := strings.Replace(valid, "U9", "", -1)
	tests := []struct {
		name string
		req  request
		want int
	}{
		{"forged signature", request{path: "/slack/interactions", body: valid, secret: "not-the-secret"}, 401},
		{"stale timestamp", request{path: "/slack/interactions", body: valid, ts: time.Now().Add(-6 * time.Minute).Unix()}, 401},
		{"future timestamp", request{path: "/slack/interactions", body: valid, ts: time.Now().Add(6 * time.Minute).Unix()}, 401},
		{"missing signature", request{path: "/slack/interactions", body: valid, unsigned: true}, 401},
		{"garbled signature", request{path: "/slack/interactions", body: valid, headers: map[string]string{"X-Slack-Signature": "v0=zz"}}, 401},
		{"oversized body", request{path: "/slack/interactions", body: "payload=" + strings.Repeat("a", 1<<20)}, 413},
		{"oversized command", request{path: "/slack/commands", body: h.commandBody("U9", "C1", "/poll", strings.Repeat("x", 1<<20))}, 413},
		{"malformed payload", request{path: "/slack/interactions", body: badJSON}, 400},
		{"no payload", request{path: "/slack/interactions", body: "foo=bar"}, 400},
		{"click without user", request{path: "/slack/interactions", body: noUser}, 400},
		{"malformed form", request{path: "/slack/commands", body: "%zz"}, 400},
		{"command without command", request{path: "/slack/commands", body: "user_id=U9&channel_id=C1"}, 400},
		{"forged command", request{path: "/slack/commands", body: h.commandBody("U9", "C1", "/poll", `"Q" a b`), secret: "nope"}, 401},
	}
	before := len(h.api.recorded())
	_, ballotsBefore := h.pollState()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, _ := h.send(tt.req)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.want, body)
			}
		})
	}
	h.close()
	if calls := h.api.recorded()[before:]; len(calls) != 0 {
		t.Errorf("rejected requests reached Slack: %d calls, first %s", len(calls), calls[0].Method)
	}
	if _, ballots := h.pollState(); len(ballots) != len(ballotsBefore) {
		t.Errorf("rejected requests changed the votes: %d ballots, want %d", len(ballots), len(ballotsBefore))
	}
	ps, _ := h.polls.List(context.Background(), bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"})
	if len(ps) != 1 {
		t.Errorf("%d polls, want the 1 made before", len(ps))
	}
}

// TestServesAfterBadRequests: the process answers valid requests after
// malformed ones.
func TestServesAfterBadRequests(t *testing.T) {
	h := newHarness(t, nil)
	post, ts := h.createPoll(`"Lunch?" Pizza Soep`)
	h.send(request{path: "/slack/interactions", body: "payload=%7B"})
	h.send(request{path: "/slack/interactions", body: "payload=" + url.QueryEscape(`{"type":"block_actions","actions":"x"}`)})
	if got := h.click("U2", "C1", ts, buttons(t, post, "poll.vote")[1]); got != 200 {
		t.Fatalf("valid click after malformed ones: %d", got)
	}
	if _, ballots := h.pollState(); len(ballots) != 1 {
		t.Errorf("%d ballots, want 1", len(ballots))
	}
}

// TestRepeatedDelivery: the same click delivered again (replayed as is,
// or retried by Slack with a new timestamp) counts once; a second count
// would take the vote back.
func TestRepeatedDelivery(t *testing.T) {
	h := newHarness(t, nil)
	post, ts := h.createPoll(`"Lunch?" Pizza Soep`)
	body := h.clickBody("U2", "C1", ts, buttons(t, post, "poll.vote")[0])
	stamp := time.Now().Unix()
	for i, r := range []request{
		{path: "/slack/interactions", body: body, ts: stamp},
		{path: "/slack/interactions", body: body, ts: stamp},
		{path: "/slack/interactions", body: body, ts: stamp + 1, headers: map[string]string{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}},
	} {
		if resp, _, _ := h.send(r); resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, resp.StatusCode)
		}
	}
	if _, ballots := h.pollState(); len(ballots) != 1 || !slices.Equal(ballots[0].Options, []int{0}) {
		t.Errorf("ballots after a repeated click = %+v, want one vote for option 0", ballots)
	}
	// A repeated command makes no second poll.
	cmd := h.commandBody("U1", "C1", "/poll", `"Twee?" a b`)
	h.send(request{path: "/slack/commands", body: cmd, ts: stamp})
	h.send(request{path: "/slack/commands", body: cmd, ts: stamp})
	ps, _ := h.polls.List(context.Background(), bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"})
	if len(ps) != 2 {
		t.Errorf("%d polls after a repeated command, want 2", len(ps))
	}
}

// TestBusyPoll: 200 people click one poll within a second, through the
// signed endpoint. Every click is counted and answered without waiting for
// Slack's rate limit or a retry; the message is updated at most
// once a second; the state with every vote lands within a second of the
// last click, without Close's flush; and no update comes after it.
//
// It runs in a testing/synctest bubble on an in-process network: time
// moves only when every goroutine waits, so what it checks is kring's
// pacing, not how busy the machine is. BenchmarkClickBolt and
// BenchmarkClickRedis measure how fast clicks are answered.
func TestBusyPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newBubbleHarness(t, nil)
		post, ts := h.createPoll(`"Lunch?" Pizza Soep Salade`)
		votes := buttons(t, post, "poll.vote")
		const clicks, together = 200, 10
		// In the bubble only waiting on a timer takes time. bbolt's write
		// batching may (a millisecond a write); a wait for Slack's pace (a
		// second), a retry's back-off or the ack deadline may not.
		const clickWaits = 100 * time.Millisecond
		bodies := make([]string, clicks)
		for i := range bodies {
			bodies[i] = h.clickBody("U"+strconv.Itoa(i), "C1", ts, votes[i%3])
		}
		// The clicks come in 20 waves of 10 at once, 50 ms apart: 200
		// people clicking within a second.
		first := time.Now()
		lastClick := bottest.Burst(clicks, together, time.Second, clickWaits, func(i int) {
			resp, body, _ := h.send(request{path: "/slack/interactions", body: bodies[i]})
			if resp.StatusCode != http.StatusOK {
				t.Errorf("click %d: status %d: %s", i, resp.StatusCode, body)
			}
		}, func(i int, waited time.Duration) {
			t.Errorf("click %d answered after %v of waiting on timers, want under %v", i, waited, clickWaits)
		})
		if _, ballots := h.pollState(); len(ballots) != clicks {
			t.Errorf("%d ballots, want %d", len(ballots), clicks)
		}

		isUpdate := func(c call) bool { return c.Method == "chat.update" && c.Form.Get("ts") == ts }
		calls := h.api.waitFor("the update with every vote", func(cs []call) bool {
			return slices.ContainsFunc(cs, func(c call) bool { return isUpdate(c) && strings.Contains(c.Form.Get("text"), "200 stemmers") })
		})
		var updates []call
		for _, c := range calls {
			if isUpdate(c) {
				updates = append(updates, c)
			}
		}
		final := updates[len(updates)-1]
		if late := final.At.Sub(lastClick); late > time.Second {
			t.Errorf("the final state landed %v after the last click, want within the one-second pace", late)
		}
		for i := 1; i < len(updates); i++ {
			if gap := updates[i].At.Sub(updates[i-1].At); gap < time.Second {
				t.Errorf("updates %d and %d %v apart, want at least a second", i-1, i, gap)
			}
		}
		if most := 1 + int(final.At.Sub(first)/time.Second); len(updates) > most {
			t.Errorf("%d chat.updates in %v, want at most %d", len(updates), final.At.Sub(first), most)
		}
		text := final.text(t)
		for _, want := range []string{"200 stemmers", " 67 stemmen (34%)", " 66 stemmen (33%)"} {
			if !strings.Contains(text, want) {
				t.Errorf("last update lacks %q:\n%s", want, text)
			}
		}
		t.Logf("%d chat.updates for %d clicks in %v", len(updates), clicks, lastClick.Sub(first))

		// Close sends whatever is pending; nothing may follow the final
		// state but the final state.
		h.close()
		all := h.api.recorded("chat.update")
		if last := all[len(all)-1].text(t); !strings.Contains(last, "200 stemmers") {
			t.Errorf("the last update of all is not the final state:\n%s", last)
		}
	})
}
