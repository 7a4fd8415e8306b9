package bolt_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	storagetest.TestClicks(t, func(t *testing.T) poll.Store { return open(t).Polls() })
}

func TestJobs(t *testing.T) {
	storagetest.TestJobs(t, func(t *testing.T) schedule.Store { return open(t).Jobs() })
}

func TestSettings(t *testing.T) {
	storagetest.TestSettings(t, func(t *testing.T) bot.SettingsStore { return open(t).Settings() })
	storagetest.TestUserLocales(t, func(t *testing.T) bot.SettingsStore { return open(t).Settings() })
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kring.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// bbolt's file lock holds within one process too, which stands in for
	// a second kring here.
	start := time.Now()
	second, err := bolt.Open(path)
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
	if !strings.Contains(err.Error(), "locked") {
		t.Errorf("error does not say the file is locked: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Open gave up after %v", took)
	}
}

func TestPingAfterClose(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	db.Close()
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping of a closed store succeeded")
	}
}
