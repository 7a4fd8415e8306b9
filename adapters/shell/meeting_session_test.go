package shell_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/kringbot/kring/adapters/shell/shelltest"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
)

// feedToken hides the random token of a calendar feed's address, so a
// transcript reads the same every time.
var feedToken = regexp.MustCompile(`/ics/[A-Za-z0-9_-]+\.ics`)

// meetingSession runs a script through a shell with /meeting wired as
// kring shell wires it (shelltest.Run).
func meetingSession(t *testing.T, script string) string {
	t.Helper()
	out := shelltest.Run(t, script, func(s shelltest.Session) {
		f := meeting.New(meeting.Config{
			NewID: shelltest.Counter("m"),
			Store: s.DB.Meetings(), Jobs: s.DB.Jobs(), Poster: s.Shell, Clock: s.Clock, Location: shelltest.Amsterdam,
			Admins: bot.ParseAdmins(shelltest.Admins), Locale: s.Mux.Locale, Settings: s.DB.Settings(),
			PublicURL: "https://kring.example.org",
		})
		s.Stop(f.Close)
		f.Register(s.Mux, s.Runner)
	})
	return feedToken.ReplaceAllString(out, "/ics/TOKEN.ics")
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
