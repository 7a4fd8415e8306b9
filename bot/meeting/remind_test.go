package meeting_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/schedule"
)

// reminders returns the reminder DMs among calls, by user.
func reminders(calls []bottest.Call) map[string][]bottest.Call {
	out := map[string][]bottest.Call{}
	for _, c := range calls {
		if c.Method == "DM" && strings.Contains(c.Message.Text, "Herinnering") {
			out[c.User] = append(out[c.User], c)
		}
	}
	return out
}

func (fx *fixture) runDue(t *testing.T) {
	t.Helper()
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// advanceTo moves the fake clock to at and runs what is due.
func (fx *fixture) advanceTo(t *testing.T, at time.Time) {
	t.Helper()
	if d := at.Sub(fx.clock.Now()); d > 0 {
		fx.clock.Advance(d)
	}
	fx.runDue(t)
}

// TestRemindersFourteenMonthsAcrossDST: a monthly third-Thursday 10:00
// meeting with --herinner=1d,1u sends each reminder at exactly its
// instant, for 14 months across both clock changes, to a user in
// Amsterdam and one in New York, each with the time on their own clock. A
// cancelled occurrence sends none; a moved one sends them before its new
// time.
func TestRemindersFourteenMonthsAcrossDST(t *testing.T) {
	fx := setup(t)
	ny := mustZone("America/New_York")
	fx.poster.zones["bert"] = "America/New_York"
	fx.poster.zones["anna"] = "Europe/Amsterdam"
	if r := fx.command(user("anna"), `"Maandoverleg" elke derde donderdag 10:00 --duur=90m --plaats=Online --herinner=1d,1u`); !strings.Contains(r, "m1") {
		t.Fatalf("create: %s", r)
	}
	ref, m := fx.post(t)
	fx.click(user("anna"), fx.where, button(t, m, "Ja"), ref)
	fx.click(user("bert"), fx.where, button(t, m, "Misschien"), ref)
	fx.click(user("cor"), fx.where, button(t, m, "Nee"), ref)

	// May's meeting is off; June's moves a day on, to 14:00.
	if r := fx.command(user("anna"), "annuleer m1 21 mei"); !strings.Contains(r, "gaat niet door") {
		t.Fatalf("cancel: %s", r)
	}
	if r := fx.command(user("anna"), "verplaats m1 18 juni 19 juni 14:00"); !strings.Contains(r, "verplaatst") {
		t.Fatalf("move: %s", r)
	}

	var starts []time.Time
	for mo := time.January; mo < time.January+14; mo++ {
		first := time.Date(2026, mo, 1, 10, 0, 0, 0, ams)
		third := first.AddDate(0, 0, (int(time.Thursday)-int(first.Weekday())+7)%7+14)
		switch {
		case third.Month() == time.May && third.Year() == 2026:
			continue
		case third.Month() == time.June && third.Year() == 2026:
			third = time.Date(2026, 6, 19, 14, 0, 0, 0, ams)
		}
		starts = append(starts, third)
	}
	if len(starts) != 13 || starts[len(starts)-1].Format("2006-01-02") != "2027-02-18" {
		t.Fatalf("test's own dates: %v", starts)
	}
	type instant struct {
		at    time.Time
		start time.Time
	}
	var want []instant
	for _, s := range starts {
		for _, d := range []time.Duration{24 * time.Hour, time.Hour} {
			if at := s.Add(-d); at.After(fx.clock.Now()) {
				want = append(want, instant{at, s})
			}
		}
	}
	sent := 0
	for _, w := range want {
		before := len(fx.poster.Calls())
		fx.advanceTo(t, w.at.Add(-time.Second))
		if got := reminders(fx.poster.Calls()[before:]); len(got) != 0 {
			t.Fatalf("a second before %s: reminders already sent: %v", w.at, got)
		}
		fx.advanceTo(t, w.at)
		got := reminders(fx.poster.Calls()[before:])
		if len(got["anna"]) != 1 || len(got["bert"]) != 1 || len(got) != 2 {
			t.Fatalf("at %s (for %s): reminders %v, want one each to anna and bert", w.at.In(ams), w.start.In(ams), got)
		}
		sent += 2
		anna, bert := text(got["anna"][0].Message), text(got["bert"][0].Message)
		if want := w.start.In(ams).Format("15:04"); !strings.Contains(anna, want) {
			t.Errorf("anna's reminder at %s lacks %s:\n%s", w.at, want, anna)
		}
		if want := w.start.In(ny).Format("15:04"); !strings.Contains(bert, want) || !strings.Contains(bert, "America/New_York") {
			t.Errorf("bert's reminder at %s lacks %s (New York):\n%s", w.at, want, bert)
		}
		if strings.Contains(anna, "later dan bedoeld") {
			t.Errorf("an on-time reminder says it is late:\n%s", anna)
		}
		if len(got["bert"][0].Message.Buttons()) != 3 {
			t.Errorf("the reminder has no RSVP buttons: %+v", got["bert"][0].Message)
		}
	}
	if sent != 2*len(want) || len(want) != 26 {
		t.Fatalf("%d reminders at %d instants", sent, len(want))
	}
	// After the last one nothing more is due within the horizon tested.
	before := len(fx.poster.Calls())
	fx.advanceTo(t, starts[len(starts)-1].Add(2*time.Hour))
	if got := reminders(fx.poster.Calls()[before:]); len(got) != 0 {
		t.Fatalf("after the last reminder: %v", got)
	}
}

// TestReminderClickInDMCountsOnThePost: the buttons of a reminder count
// as on the post, for the person it was sent to only.
func TestReminderClickInDMCountsOnThePost(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Kick-off" morgen 10:00 --herinner=1u`)
	ref, m := fx.post(t)
	fx.click(user("bert"), fx.where, button(t, m, "Misschien"), ref)
	fx.advanceTo(t, time.Date(2026, 1, 14, 9, 0, 0, 0, ams))
	got := reminders(fx.poster.Calls())["bert"]
	if len(got) != 1 {
		t.Fatalf("bert's reminders: %v", got)
	}
	dm := got[0]
	dmWhere := dm.Ref.Where
	if r := fx.click(user("cor"), dmWhere, button(t, dm.Message, "Ja"), dm.Ref); !strings.Contains(r, "Ik vind geen vergadering") {
		t.Errorf("someone else clicking bert's reminder: %q", r)
	}
	if r := fx.click(user("bert"), dmWhere, button(t, dm.Message, "Ja"), dm.Ref); !strings.Contains(r, "Genoteerd") {
		t.Errorf("bert clicking his reminder: %q", r)
	}
	_, post := fx.post(t)
	if s := text(post); !strings.Contains(s, "Ja (1): Bert") || !strings.Contains(s, "Misschien (0)") {
		t.Errorf("the post after the click in the DM:\n%s", s)
	}
	if postRef, _ := fx.post(t); postRef != ref {
		t.Errorf("the click in the DM moved the meeting's post to %v", postRef)
	}
}

// TestLateReminderSaysSoAndBegunIsDropped: a reminder that comes more
// than an hour late says so; of one occurrence only the last one due goes
// out; a meeting that has begun gets none.
func TestLateReminderSaysSoAndBegunIsDropped(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Werkgroep" elke donderdag 10:00 --herinner=1d,1u --iedereen`)
	fx.poster.members = []string{"anna", "bert", "cor"}
	ref, m := fx.post(t)
	fx.click(user("cor"), fx.where, button(t, m, "Nee"), ref)
	// kring was down from before Wednesday 10:00 until Thursday 8:30:
	// the 1d reminder is 22.5 hours late and the 1u one not due yet.
	fx.clock.Advance(time.Date(2026, 1, 15, 8, 30, 0, 0, ams).Sub(fx.clock.Now()))
	before := len(fx.poster.Calls())
	fx.runDue(t)
	got := reminders(fx.poster.Calls()[before:])
	if len(got["anna"]) != 1 || len(got["bert"]) != 1 || len(got["cor"]) != 0 {
		t.Fatalf("late reminders: %v (cor said no)", got)
	}
	if s := text(got["bert"][0].Message); !strings.Contains(s, "later dan bedoeld") {
		t.Errorf("a late reminder does not say so:\n%s", s)
	}
	// Down again until after the next Thursday's 10:00: both of its
	// reminders are dropped, and the one after it comes on time.
	before = len(fx.poster.Calls())
	fx.advanceTo(t, time.Date(2026, 1, 22, 10, 5, 0, 0, ams))
	if got := reminders(fx.poster.Calls()[before:]); len(got) != 0 {
		t.Fatalf("reminders for a meeting that began: %v", got)
	}
	before = len(fx.poster.Calls())
	fx.advanceTo(t, time.Date(2026, 1, 28, 10, 0, 0, 0, ams))
	if got := reminders(fx.poster.Calls()[before:]); len(got) != 2 || !slices.Equal([]string{got["anna"][0].User, got["bert"][0].User}, []string{"anna", "bert"}) {
		t.Fatalf("the next reminder: %v", got)
	}
}

// TestReminderOnceAcrossRetries: a job run again after its DMs went out
// (a runner killed before Done) sends none of them again.
func TestReminderOnceAcrossRetries(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Kick-off" morgen 10:00 --herinner=1u --kanaal`)
	ref, m := fx.post(t)
	fx.click(user("anna"), fx.where, button(t, m, "Ja"), ref)
	fx.clock.Advance(time.Date(2026, 1, 14, 9, 0, 0, 0, ams).Sub(fx.clock.Now()))
	jobs, err := fx.jobs.Claim(context.Background(), fx.clock.Now(), "killed", time.Minute, 10)
	jobs = slices.DeleteFunc(jobs, func(j schedule.Job) bool { return j.Kind != "meeting.remind" })
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	// A runner that claimed the job died: once its lease runs out another
	// takes the job over and sends the reminder.
	fx.clock.Advance(2 * time.Minute)
	fx.runDue(t)
	// That runner is killed between the DM and its Done: the same job is
	// due again and runs once more.
	before := len(fx.poster.Calls())
	if err := fx.jobs.Put(context.Background(), jobs[0]); err != nil {
		t.Fatal(err)
	}
	fx.runDue(t)
	for _, c := range fx.poster.Calls()[before:] {
		if c.Method == "DM" || c.Method == "Post" {
			t.Fatalf("sent again on a retry: %+v", c)
		}
	}
	var dms, posts int
	for _, c := range fx.poster.Calls() {
		if strings.Contains(c.Message.Text, "Herinnering") {
			switch c.Method {
			case "DM":
				dms++
			case "Post":
				posts++
			}
		}
	}
	if dms != 1 || posts != 1 {
		t.Fatalf("%d reminder DMs and %d channel reminders, want 1 and 1", dms, posts)
	}
}

// TestPostMovesOnToTheNextDate: when an occurrence ends the post shows
// the next one, also for a meeting without reminders.
func TestPostMovesOnToTheNextDate(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Werkgroep" elke donderdag 10:00 --duur=90m`)
	if _, m := fx.post(t); !strings.Contains(text(m), "donderdag 15 januari 10:00–11:30") {
		t.Fatalf("the post:\n%s", text(m))
	}
	fx.advanceTo(t, time.Date(2026, 1, 15, 10, 30, 0, 0, ams))
	fx.advanceTo(t, time.Date(2026, 1, 15, 11, 30, 0, 0, ams))
	if _, m := fx.post(t); !strings.Contains(text(m), "🗓 donderdag 22 januari 10:00–11:30") {
		t.Fatalf("the post after the first meeting ended:\n%s", text(m))
	}
}
