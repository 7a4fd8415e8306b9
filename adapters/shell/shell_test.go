package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

// session runs a script through a shell wired as kring shell wires it, on a
// fresh embedded store and a clock standing still at a known time.
func session(t *testing.T, script string) string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	clock := &shell.Clock{Base: bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams))}
	mux := &bot.Mux{Settings: db.Settings()}
	runner := &schedule.Runner{Store: db.Jobs(), Clock: clock, Max: 1}
	var out bytes.Buffer
	sh := shell.New(mux, runner, clock, &out)
	sh.Echo = true
	n := 0
	poll.New(poll.Config{
		NewID: func() string { n++; return fmt.Sprintf("p%d", n) },
		Store: db.Polls(), Jobs: db.Jobs(), Poster: sh, Clock: clock, Location: ams,
		Admins: bot.ParseAdmins("beheer"), Secret: "test", Locale: mux.Locale,
	}).Register(mux, runner)
	kring.New(db.Settings(), mux, bot.ParseAdmins("beheer")).Register(mux, nil)
	if err := sh.Run(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	return out.String()
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
