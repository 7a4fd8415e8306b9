// Package shelltest runs scripted shell sessions for golden tests: a shell
// wired as kring shell wires it, on a fresh embedded store, with a clock
// that stands still until the script moves it on.
package shelltest

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

// Start is where a session's clock stands: Tuesday 13 January 2026, 14:30
// in Amsterdam.
var Start = time.Date(2026, 1, 13, 14, 30, 0, 0, Amsterdam)

// Amsterdam is the workspace's time zone in a session.
var Amsterdam = mustZone("Europe/Amsterdam")

// Admins are a session's admins: the user "beheer".
const Admins = "beheer"

// Session is what a feature under test is wired to.
type Session struct {
	DB     *bolt.DB
	Mux    *bot.Mux
	Runner *schedule.Runner
	Shell  *shell.Shell
	Clock  bot.Clock
	// Stop registers what stops a feature, run when the script has ended
	// and before the store closes.
	Stop func(func())
}

// Run runs script through a shell with /kring and the features wire
// registers, and returns the transcript.
func Run(t *testing.T, script string, wire func(s Session)) string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := &shell.Clock{Base: bottest.NewClock(Start)}
	mux := &bot.Mux{Settings: db.Settings()}
	runner := &schedule.Runner{Store: db.Jobs(), Clock: clock, Max: 1}
	var out bytes.Buffer
	sh := shell.New(mux, runner, clock, &out)
	sh.Echo = true
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	wire(Session{DB: db, Mux: mux, Runner: runner, Shell: sh, Clock: clock, Stop: func(f func()) { stops = append(stops, f) }})
	kring.New(db.Settings(), mux, bot.ParseAdmins(Admins)).Register(mux, nil)
	if err := sh.Run(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// Counter makes ids for a feature's NewID: prefix1, prefix2, …, so a
// transcript reads the same every time.
func Counter(prefix string) func() string {
	n := 0
	return func() string {
		n++
		return prefix + strconv.Itoa(n)
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
