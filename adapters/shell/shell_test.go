package shell_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kringbot/kring/adapters/shell/shelltest"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/poll"
)

// session runs a script through a shell with /poll wired as kring shell
// wires it (shelltest.Run).
func session(t *testing.T, script string) string {
	t.Helper()
	return shelltest.Run(t, script, func(s shelltest.Session) {
		poll.New(poll.Config{
			NewID: shelltest.Counter("p"),
			Store: s.DB.Polls(), Jobs: s.DB.Jobs(), Poster: s.Shell, Clock: s.Clock, Location: shelltest.Amsterdam,
			Admins: bot.ParseAdmins(shelltest.Admins), Secret: "test", Locale: s.Mux.Locale,
		}).Register(s.Mux, s.Runner)
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	bottest.Golden(t, filepath.Join("testdata", name), []byte(got))
}

func TestSessionDutch(t *testing.T) {
	script, err := os.ReadFile("testdata/session.nl.script")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "session.nl.golden", session(t, string(script)))
}

func TestSessionEnglish(t *testing.T) {
	script, err := os.ReadFile("testdata/session.en.script")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "session.en.golden", session(t, string(script)))
}

func TestShellCommandsAndMistakes(t *testing.T) {
	got := session(t, strings.Join([]string{
		"hallo", ":click 1", ":submit x=1", ":advance soon", ":nope", ":user", ":help",
		"/poll", "/onbekend", `/poll "open`,
	}, "\n"))
	for _, want := range []string{
		"Commando's beginnen met /", "nog geen bericht met knoppen", "geen formulier open",
		"hoe ver de klok vooruit", ":nope ken ik niet", "Geef een naam mee", ":advance 2h",
		"Peilingen met /poll", "Dat commando ken ik niet: /onbekend", "Er mist een afsluitend aanhalingsteken",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
}
