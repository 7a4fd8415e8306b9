package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

// feedToken hides the random token of a calendar feed's address, so a
// transcript reads the same every time.
var feedToken = regexp.MustCompile(`/ics/[A-Za-z0-9_-]+\.ics`)

// meetingSession runs a script through a shell with /meeting wired as
// kring shell wires it, on a fresh embedded store and a clock standing
// still at a known time (a Tuesday afternoon).
func meetingSession(t *testing.T, script string) string {
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
	f := meeting.New(meeting.Config{
		NewID: func() string { n++; return fmt.Sprintf("m%d", n) },
		Store: db.Meetings(), Jobs: db.Jobs(), Poster: sh, Clock: clock, Location: ams,
		Admins: bot.ParseAdmins("beheer"), Locale: mux.Locale, Settings: db.Settings(),
		PublicURL: "https://kring.example.org",
	})
	defer f.Close()
	f.Register(mux, runner)
	kring.New(db.Settings(), mux, bot.ParseAdmins("beheer")).Register(mux, nil)
	if err := sh.Run(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	return feedToken.ReplaceAllString(out.String(), "/ics/TOKEN.ics")
}

func TestMeetingSessionDutch(t *testing.T) {
	script, err := os.ReadFile("testdata/meeting.nl.script")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "meeting.nl.golden", meetingSession(t, string(script)))
}

func TestMeetingSessionEnglish(t *testing.T) {
	script, err := os.ReadFile("testdata/meeting.en.script")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "meeting.en.golden", meetingSession(t, string(script)))
}
