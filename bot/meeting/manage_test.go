package meeting_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
)

func TestAgendaAddAndRemove(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Maandoverleg" elke derde donderdag 10:00`)
	steps := []struct {
		who, text, want string
	}{
		{"bert", `agenda m1 "Begroting 2027"`, "Punt 1 staat op de agenda"},
		{"cor", "agenda m1 Nieuwe werkgroep kraamzorg", "Punt 2 staat op de agenda"},
		{"bert", "agenda `m1` weg 2", "Alleen wie het punt toevoegde (Cor), wie de vergadering plande (Anna)"},
		{"cor", "agenda m1 weg 2", "Punt 2 („Nieuwe werkgroep kraamzorg”) is van de agenda gehaald"},
		{"cor", "agenda m1 Regiodag", "Punt 3 staat op de agenda"}, // 2 is not given again
		{"anna", "agenda m1 remove 1", "Punt 1 („Begroting 2027”) is van de agenda gehaald"},
		{"anna", "agenda m1 weg 7", "Punt 7 staat niet op de agenda"},
		{"anna", "agenda m1 weg twee", "Geef het nummer"},
		{"anna", "agenda m1", "3. Regiodag (Cor)"},
		{"anna", "agenda", "Geef aan om welke vergadering het gaat"},
		{"anna", `agenda m9 "x"`, "Ik vind geen vergadering met ID m9"},
	}
	for _, s := range steps {
		if got := fx.command(user(s.who), s.text); !strings.Contains(got, s.want) {
			t.Errorf("%s: /meeting %s\n got: %s\nwant: %s", s.who, s.text, got, s.want)
		}
	}
	_, m := fx.post(t)
	if got := text(m); !strings.Contains(got, "Agenda\n3. Regiodag (Cor)") || strings.Contains(got, "Begroting") {
		t.Errorf("the post's agenda:\n%s", got)
	}
}

// TestMoveAndCancelTellWhoComes: only the organiser or an admin moves or
// cancels; who said yes or maybe is told by DM, who said no is not, nor
// the one who made the change; answers are kept.
func TestMoveAndCancelTellWhoComes(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Maandoverleg" elke derde donderdag 10:00 --duur=90m`)
	ref, m := fx.post(t)
	fx.click(user("anna"), fx.where, button(t, m, "Ja"), ref)
	fx.click(user("bert"), fx.where, button(t, m, "Ja"), ref)
	fx.click(user("cor"), fx.where, button(t, m, "Misschien"), ref)
	fx.click(user("dirk"), fx.where, button(t, m, "Nee"), ref)

	if r := fx.command(user("bert"), "verplaats m1 19 februari 20 februari 14:00"); !strings.Contains(r, "Alleen wie de vergadering plande (Anna) of een beheerder") {
		t.Errorf("bert moving anna's meeting: %s", r)
	}
	before := len(fx.poster.Calls())
	if r := fx.command(user("anna"), "verplaats m1 19 februari 20 februari 14:00"); !strings.Contains(r, "van do 19 feb 10:00 is verplaatst naar vrijdag 20 februari 14:00–15:30") {
		t.Errorf("move: %s", r)
	}
	fx.runDue(t)
	told := map[string]string{}
	for _, c := range fx.poster.Calls()[before:] {
		if c.Method == "DM" {
			told[c.User] = text(c.Message)
		}
	}
	if len(told) != 2 || told["bert"] == "" || told["cor"] == "" {
		t.Fatalf("told of the move: %v, want bert and cor", told)
	}
	if !strings.Contains(told["cor"], "Maandoverleg van do 19 feb 10:00 is verplaatst naar vrijdag 20 februari 14:00–15:30 (door Anna)") {
		t.Errorf("cor's notice:\n%s", told["cor"])
	}
	_, m = fx.post(t)
	if got := text(m); !strings.Contains(got, "vr 20 feb 14:00 (verplaatst)") || !strings.Contains(got, "Ja (2): Anna, Bert") {
		t.Errorf("the post after the move:\n%s", got)
	}

	if r := fx.command(user("beheer"), "annuleer m1 19 maart"); !strings.Contains(r, "van do 19 mrt 10:00 gaat niet door") {
		t.Errorf("an admin cancelling one date: %s", r)
	}
	if r := fx.command(user("anna"), "annuleer m1 19 maart"); !strings.Contains(r, "Op „19 maart” gaat de vergadering al niet door") {
		t.Errorf("cancelling a cancelled date: %s", r)
	}
	if r := fx.command(user("anna"), "annuleer m1 20 maart"); !strings.Contains(r, "Op „20 maart” is deze vergadering niet") {
		t.Errorf("cancelling a day without a meeting: %s", r)
	}
	if r := fx.command(user("anna"), "verplaats m1 morgen 10:00"); !strings.Contains(r, "Zeg welke keer je verplaatst") {
		t.Errorf("a single new time for a series: %s", r)
	}
	_, m = fx.post(t)
	if got := text(m); !strings.Contains(got, "gaat niet door: do 19 mrt 10:00") {
		t.Errorf("the post after cancelling a date:\n%s", got)
	}

	before = len(fx.poster.Calls())
	if r := fx.command(user("anna"), "verplaats m1 elke tweede dinsdag 14:00"); !strings.Contains(r, "voortaan elke tweede dinsdag van de maand, de eerste keer dinsdag 10 februari 14:00–15:30") {
		t.Errorf("moving the series: %s", r)
	}
	fx.runDue(t)
	var seriesTold []string
	for _, c := range fx.poster.Calls()[before:] {
		if c.Method == "DM" && strings.Contains(c.Message.Text, "voortaan elke tweede dinsdag van de maand") {
			seriesTold = append(seriesTold, c.User)
		}
	}
	if strings.Join(seriesTold, ",") != "bert,cor" {
		t.Errorf("told of the series' move: %v", seriesTold)
	}
	_, m = fx.post(t)
	if got := text(m); !strings.Contains(got, "dinsdag 10 februari 14:00–15:30") || strings.Contains(got, "gaat niet door") || !strings.Contains(got, "Misschien (1): Cor") {
		t.Errorf("the post after moving the series:\n%s", got)
	}

	before = len(fx.poster.Calls())
	if r := fx.command(user("anna"), "annuleer m1"); !strings.Contains(r, "„Maandoverleg” is geannuleerd") {
		t.Errorf("cancel all: %s", r)
	}
	fx.runDue(t)
	var ended []string
	for _, c := range fx.poster.Calls()[before:] {
		if c.Method == "DM" && strings.Contains(c.Message.Text, "geannuleerd door Anna") {
			ended = append(ended, c.User)
		}
	}
	if strings.Join(ended, ",") != "bert,cor" {
		t.Errorf("told of the cancellation: %v", ended)
	}
	_, m = fx.post(t)
	if got := text(m); !strings.Contains(got, "(geannuleerd)") || len(m.Buttons()) != 0 {
		t.Errorf("the cancelled post:\n%s", got)
	}
	if r := fx.click(user("dirk"), fx.where, bot.Button{ID: "meeting.rsvp", Value: "m1:yes"}, ref); !strings.Contains(r, "geannuleerd") {
		t.Errorf("an RSVP to a cancelled meeting: %q", r)
	}
	if r := fx.command(user("anna"), "annuleer m1"); !strings.Contains(r, "is geannuleerd; daar verandert niets meer aan") {
		t.Errorf("cancelling again: %s", r)
	}
	if r := fx.command(user("anna"), "lijst"); !strings.Contains(r, "Er staan geen vergaderingen gepland") {
		t.Errorf("the list after cancelling: %s", r)
	}
	if jobs, _ := fx.jobs.Claim(context.Background(), fx.clock.Now().AddDate(2, 0, 0), "test", 1, 100); len(jobs) != 0 {
		for _, j := range jobs {
			if j.Kind == "meeting.remind" {
				t.Errorf("a reminder job outlives the cancelled meeting: %v", j)
			}
		}
	}
}

// TestMeetingReachableOnlyFromItsChannel: from another channel a meeting
// does not exist, for commands and for its buttons.
func TestMeetingReachableOnlyFromItsChannel(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Geheim overleg" morgen 10:00 --herinner=1u`)
	_, m := fx.post(t)
	home := fx.where
	fx.where = bot.Where{Platform: home.Platform, Team: home.Team, Channel: "friesland"}
	for _, text := range []string{`agenda m1 "punt"`, "agenda m1", "verplaats m1 morgen 11:00", "annuleer m1", "agenda m1 weg 1"} {
		if got := fx.command(user("anna"), text); !strings.Contains(got, "Ik vind geen vergadering met ID m1 in dit kanaal") {
			t.Errorf("/meeting %s from another channel: %s", text, got)
		}
	}
	if got := fx.command(user("anna"), "lijst"); strings.Contains(got, "Geheim") {
		t.Errorf("listed in another channel: %s", got)
	}
	if got := fx.click(user("anna"), fx.where, button(t, m, "Ja"), bot.Ref{Where: fx.where, ID: "x"}); !strings.Contains(got, "Ik vind geen vergadering") {
		t.Errorf("a click from another channel: %q", got)
	}
	// A DM button for someone else does not count either.
	if got := fx.click(user("anna"), fx.where, bot.Button{ID: "meeting.rsvp", Value: "m1:yes:bert"}, bot.Ref{Where: fx.where, ID: "x"}); !strings.Contains(got, "Ik vind geen vergadering") {
		t.Errorf("someone else's reminder button: %q", got)
	}
	fx.where = home
	_, m = fx.post(t)
	if got := text(m); !strings.Contains(got, "Ja (0)") {
		t.Errorf("the clicks from elsewhere counted:\n%s", got)
	}
}

func TestMoveOneOff(t *testing.T) {
	fx := setup(t)
	fx.command(user("anna"), `"Kick-off" morgen 10:00`)
	for _, s := range []struct{ text, want string }{
		{"verplaats m1 overmorgen 11:00", "van wo 14 jan 10:00 is verplaatst naar donderdag 15 januari 11:00–12:00"},
		{"verplaats m1 15 januari 14:00", "naar donderdag 15 januari 14:00–15:00"},
		{"verplaats m1 16 januari", "Op welk tijdstip?"},
		{"verplaats m1 2026-01-12 10:00", "Dat moment is al voorbij"},
		{"verplaats m1 elke maandag 9:00", "voortaan elke maandag, de eerste keer maandag 19 januari 09:00–10:00"},
	} {
		if got := fx.command(user("anna"), s.text); !strings.Contains(got, s.want) {
			t.Errorf("/meeting %s\n got: %s\nwant: %s", s.text, got, s.want)
		}
	}
}
