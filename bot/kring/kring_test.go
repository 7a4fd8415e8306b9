package kring_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/kring"
)

func setup() (*bot.Mux, *bottest.Settings) {
	settings := &bottest.Settings{}
	mux := &bot.Mux{Settings: settings}
	mux.Handle(bot.Command{Name: "/poll", Description: "kring.command.description"}, bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil }))
	kring.New(settings, mux, bot.ParseAdmins("shell:beheer")).Register(mux, nil)
	return mux, settings
}

var here = bot.Where{Platform: bot.Shell, Team: "T", Channel: "algemeen"}

func say(mux *bot.Mux, user, command, text string) string {
	r := mux.ServeCommand(context.Background(), &bot.Request{Where: here, User: bot.User{ID: user}, Command: command, Text: text})
	if r.Message == nil {
		return ""
	}
	return r.Message.Text
}

func TestLanguage(t *testing.T) {
	mux, settings := setup()
	ctx := context.Background()
	steps := []struct {
		user, text string
		want       string
	}{
		{"anna", "taal", "Ik praat met jou in het Nederlands"},
		{"anna", "taal en", "I'll talk to you in English"},
		{"anna", "taal", "I talk to you in English; messages for everyone in this workspace are in Dutch"},
		{"bram", "taal", "Ik praat met jou in het Nederlands"},
		{"bram", "taal en --werkruimte", "Alleen beheerders"},
		{"bram", "taal werkruimte en", "Alleen beheerders"},
		{"beheer", "taal en --werkruimte", "in this workspace are in English"},
		{"bram", "taal", "I talk to you in English"},
		{"anna", "taal nl", "ik praat voortaan Nederlands met je"},
		{"anna", "taal standaard", "I follow the workspace's language again"},
		{"anna", "taal klingon", "Choose `nl` (Dutch) or `en` (English)"},
		{"anna", "taal en nl", "Name one language"},
		{"beheer", "`taal` `nl` --workspace", "in het Nederlands"},
	}
	for _, s := range steps {
		if got := say(mux, s.user, "/kring", s.text); !strings.Contains(got, s.want) {
			t.Errorf("%s: /kring %s = %q, want it to contain %q", s.user, s.text, got, s.want)
		}
	}
	if l, _ := settings.Languages(ctx, here); l.Users["anna"] != "" || l.Workspace != "nl" {
		t.Errorf("after the steps: anna's own %q, workspace %q; want none and nl", l.Users["anna"], l.Workspace)
	}
}

func TestHelp(t *testing.T) {
	mux, _ := setup()
	for _, cmd := range []string{"/kring", "/help", "/hulp"} {
		got := say(mux, "anna", cmd, "")
		for _, want := range []string{"/poll", "Komen eraan: consentrondes", "Liever Engels? Typ /kring taal en"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %q lacks %q", cmd, got, want)
			}
		}
		if strings.Contains(got, "/hulp") || strings.Contains(got, "`/help`") {
			t.Errorf("%s lists the hidden aliases: %q", cmd, got)
		}
	}
	if got := say(mux, "anna", "/kring", "hulp"); !strings.Contains(got, "Dit kan kring voor je doen") {
		t.Errorf("/kring hulp = %q", got)
	}
}
