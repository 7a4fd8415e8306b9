package poll_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
)

// TestPollReachableOnlyFromItsChannel: every command and action that names
// a poll acts only in the poll's own channel. From another channel of the
// same workspace the poll does not exist: the answer is "not found", nothing
// is uploaded, posted or changed, and neither its question nor its counts
// leak.
func TestPollReachableOnlyFromItsChannel(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `"Geheime begroting?" Ja Nee --anoniem --toevoegen`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)

	elsewhere := bot.Where{Platform: fx.where.Platform, Team: fx.where.Team, Channel: "friesland"}
	otherTeam := bot.Where{Platform: fx.where.Platform, Team: "ander", Channel: "friesland"}
	as := func(user string) bot.User { return bot.User{ID: user, Name: user} }
	command := func(where bot.Where, user, text string) bot.Reply {
		return fx.mux.ServeCommand(context.Background(), &bot.Request{Where: where, User: as(user), Command: "/poll", Text: text, TriggerID: "t"})
	}
	action := func(where bot.Where, user, actionID, value string, form bot.Values) bot.Reply {
		return fx.mux.ServeAction(context.Background(), &bot.Action{
			Where: where, User: as(user), ID: actionID, Value: value, Form: form, TriggerID: "t",
			Ref: bot.Ref{Where: where, ID: "m99"},
		})
	}
	tests := []struct {
		name string
		do   func(where bot.Where) bot.Reply
	}{
		{"/poll export", func(w bot.Where) bot.Reply { return command(w, "anna", "export "+id) }},
		{"/poll exporteren", func(w bot.Where) bot.Reply { return command(w, "anna", "exporteren "+id) }},
		{"/poll uitslag", func(w bot.Where) bot.Reply { return command(w, "anna", "uitslag "+id) }},
		{"/poll sluit", func(w bot.Where) bot.Reply { return command(w, "anna", "sluit "+id) }},
		{"/poll sluiten by an admin", func(w bot.Where) bot.Reply { return command(w, "beheer", "sluiten "+id) }},
		{"/poll heropen", func(w bot.Where) bot.Reply { return command(w, "anna", "heropen "+id) }},
		{"/poll verwijder", func(w bot.Where) bot.Reply { return command(w, "anna", "verwijder "+id) }},
		{"/poll verwijderen by an admin", func(w bot.Where) bot.Reply { return command(w, "beheer", "verwijderen "+id) }},
		{"my vote", func(w bot.Where) bot.Reply { return action(w, "bert", "poll.mine", id, nil) }},
		{"vote", func(w bot.Where) bot.Reply { return action(w, "cor", "poll.vote", id+":0", nil) }},
		{"add option form", func(w bot.Where) bot.Reply { return action(w, "cor", "poll.add", id, nil) }},
		{"add option submit", func(w bot.Where) bot.Reply {
			return action(w, "cor", "poll.add.submit", id, bot.Values{"option": {"Misschien"}})
		}},
		{"close button", func(w bot.Where) bot.Reply { return action(w, "anna", "poll.close", id, nil) }},
		{"reopen button", func(w bot.Where) bot.Reply { return action(w, "anna", "poll.reopen", id, nil) }},
		{"delete button", func(w bot.Where) bot.Reply { return action(w, "anna", "poll.delete", id, nil) }},
	}
	for _, where := range []bot.Where{elsewhere, otherTeam} {
		for _, tt := range tests {
			before := len(fx.poster.Calls())
			r := tt.do(where)
			got := replyText(r)
			for _, e := range r.FieldErrors {
				got += "\n" + e
			}
			if !strings.Contains(got, "Ik vind geen peiling met ID "+id) {
				t.Errorf("%s from #%s/%s: %q, want not found", tt.name, where.Team, where.Channel, got)
			}
			for _, leak := range []string{"Geheime begroting", "Ja", "stem"} {
				if strings.Contains(got, leak) {
					t.Errorf("%s from #%s: the reply leaks %q: %q", tt.name, where.Channel, leak, got)
				}
			}
			if calls := fx.poster.Calls()[before:]; len(calls) > 0 {
				t.Errorf("%s from #%s: %d poster calls (first %s in %s), want none", tt.name, where.Channel, len(calls), calls[0].Method, calls[0].Where.Channel)
			}
		}
	}
	p, ballots, err := fx.store.Get(context.Background(), id)
	if err != nil || p.Closed || len(p.Options) != 2 || len(ballots) != 1 {
		t.Fatalf("after tries from elsewhere the poll is %+v with %d ballots (%v); want it open, unchanged, 1 ballot", p, len(ballots), err)
	}
	if r := replyText(command(elsewhere, "anna", "lijst")); strings.Contains(r, "Geheime begroting") {
		t.Errorf("/poll lijst in another channel lists the poll: %q", r)
	}

	// In its own channel each of them still works.
	if r := replyText(fx.command("anna", "export "+id)); !strings.Contains(r, "De export") {
		t.Errorf("export in the poll's channel: %q", r)
	}
	if r := replyText(fx.command("anna", "sluit "+id)); !strings.Contains(r, "gesloten") {
		t.Errorf("close in the poll's channel: %q", r)
	}
}

// A vote's delivery is recorded by the store with the vote, so the Mux
// does not check it first: a click is one store round trip, and a
// delivery repeated counts once all the same.
func TestVoteRecordsItsOwnDelivery(t *testing.T) {
	fx := setup(t)
	log := &countingLog{}
	fx.mux.Deliveries = log
	fx.command("anna", `Lunch? Pizza Soep`)
	ref, m := fx.posted(t)
	pizza := button(t, m, "poll.vote", "1.")
	for range 2 {
		fx.mux.ServeAction(context.Background(), &bot.Action{Where: fx.where, User: bot.User{ID: "bert", Name: "Bert"}, ID: pizza.ID, Value: pizza.Value, Ref: ref, Delivery: "d1"})
	}
	if log.calls != 0 {
		t.Errorf("the Mux checked a vote's delivery %d times; the store does it", log.calls)
	}
	if _, ballots, _ := fx.store.Get(context.Background(), pollID(t, m)); len(ballots) != 1 {
		t.Errorf("a repeated delivery of a vote: %d ballots, want 1 (not taken back)", len(ballots))
	}
}

type countingLog struct{ calls int }

func (l *countingLog) Once(context.Context, string, time.Duration) (bool, error) {
	l.calls++
	return true, nil
}
