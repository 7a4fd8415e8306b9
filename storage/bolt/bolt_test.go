package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/kringbot/kring/storage/storagetest"
)

func open(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestPolls(t *testing.T) {
	storagetest.TestPolls(t, func(t *testing.T) poll.Store { return open(t).Polls() })
}

func TestJobs(t *testing.T) {
	storagetest.TestJobs(t, func(t *testing.T) schedule.Store { return open(t).Jobs() })
}

func TestSettings(t *testing.T) {
	storagetest.TestSettings(t, func(t *testing.T) bot.SettingsStore { return open(t).Settings() })
}
