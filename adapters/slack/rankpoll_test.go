package slack

// Ranked polls and dot votes through Slack: the button opens a modal, the
// view_submission hands in the ballot, a wrong one is refused in the modal.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// openedModal is the view of the last views.open, and its input blocks.
func (h *harness) openedModal(want int) (json.RawMessage, []*slack.InputBlock) {
	h.t.Helper()
	opens := h.api.recorded("views.open")
	if len(opens) != want {
		h.t.Fatalf("%d views.open, want %d", len(opens), want)
	}
	var open struct {
		View json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(opens[len(opens)-1].Body, &open); err != nil {
		h.t.Fatal(err)
	}
	var view slack.ModalViewRequest
	if err := json.Unmarshal(open.View, &view); err != nil {
		h.t.Fatal(err)
	}
	var inputs []*slack.InputBlock
	for _, b := range view.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			inputs = append(inputs, in)
		}
	}
	return open.View, inputs
}

// submitModal sends a view_submission and returns Slack's reading of the
// answer: "" when the modal closes, else the field errors.
func (h *harness) submitModal(user string, view json.RawMessage, values map[string]any) map[string]string {
	h.t.Helper()
	resp, body, _ := h.send(request{path: "/slack/interactions", body: h.viewSubmission(user, view, values)})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("submission: status %d: %s", resp.StatusCode, body)
	}
	if len(body) == 0 {
		return nil
	}
	var refused struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &refused); err != nil || refused.Action != "errors" {
		h.t.Fatalf("submission answered %s, want an empty 200 or response_action errors", body)
	}
	return refused.Errors
}

func selected(v string) map[string]any {
	return map[string]any{inputActionID: map[string]any{"type": "static_select", "selected_option": map[string]any{
		"text": map[string]any{"type": "plain_text", "text": v, "emoji": true}, "value": v,
	}}}
}

func typed(v string) map[string]any {
	return map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": v}}
}

// TestSlackRankedPoll: the Rangschik button opens a modal with a select
// per place; the same option twice is refused on its place; a top 2 is
// counted by Borda count and shown in order.
func TestSlackRankedPoll(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Prioriteiten 2027?" Overdracht Dashboard Koppeling --rangschik`)
	if !strings.Contains(post.text(t), "Borda-telling") {
		t.Fatalf("the post does not name its method: %s", post.text(t))
	}
	h.clickFor("U2", "C1", ts, buttons(t, post, "poll.rank")[0])
	view, inputs := h.openedModal(1)
	if len(inputs) != 3 {
		t.Fatalf("%d inputs, want a select per place (3)", len(inputs))
	}
	for _, in := range inputs {
		if in.Element.(*slack.SelectBlockElement).Type != "static_select" {
			t.Fatalf("place %s is no select", in.BlockID)
		}
	}
	errs := h.submitModal("U2", view, map[string]any{"1": selected("2"), "2": selected("2")})
	if !strings.Contains(errs["2"], "plaats 1") || len(errs) != 1 {
		t.Fatalf("the same option twice: errors %v, want one on place 2", errs)
	}
	if errs := h.submitModal("U2", view, map[string]any{"1": selected("3"), "2": selected("1")}); errs != nil {
		t.Fatalf("a top 2 refused: %v", errs)
	}
	h.settled(ts, "the ranking counted", func(s string) bool {
		return strings.Contains(s, "1. Koppeling") && strings.Contains(s, "2 punten") && strings.Contains(s, "1 stemmer")
	})
	_, ballots := h.pollOf("C1", ts)
	if len(ballots) != 1 || ballots[0].Voter != "U2" || len(ballots[0].Options) != 2 || ballots[0].Options[0] != 2 || ballots[0].Options[1] != 0 {
		t.Fatalf("ballots %+v, want U2's order [2 0]", ballots)
	}
}

// TestSlackDotVote: the Punten verdelen button opens a modal with a number
// per option; a wrong total is refused on the form with what is left.
func TestSlackDotVote(t *testing.T) {
	h := quickHarness(t)
	post, ts := h.createPoll(`"Budget?" Scholing Congres Intervisie --punten=10`)
	h.clickFor("U3", "C1", ts, buttons(t, post, "poll.points")[0])
	view, inputs := h.openedModal(1)
	if len(inputs) != 3 {
		t.Fatalf("%d inputs, want a number per option (3)", len(inputs))
	}
	errs := h.submitModal("U3", view, map[string]any{"1": typed("4"), "2": typed("4")})
	if !strings.Contains(errs["1"], "nog 2 over") {
		t.Fatalf("8 of 10 points: errors %v, want the 2 left on the form", errs)
	}
	errs = h.submitModal("U3", view, map[string]any{"1": typed("8"), "2": typed("4")})
	if !strings.Contains(errs["1"], "2 meer") {
		t.Fatalf("12 of 10 points: errors %v, want 2 too many on the form", errs)
	}
	if errs := h.submitModal("U3", view, map[string]any{"1": typed("6"), "3": typed("4")}); errs != nil {
		t.Fatalf("10 of 10 points refused: %v", errs)
	}
	h.settled(ts, "the points counted", func(s string) bool {
		return strings.Contains(s, "6 punten (60%)") && strings.Contains(s, "4 punten (40%)") && strings.Contains(s, "1 stemmer")
	})
}
