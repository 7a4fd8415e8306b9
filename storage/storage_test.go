package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

func TestOpenBolt(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kring.db")
	s, err := Open(ctx, "bolt:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "bolt" {
		t.Errorf("Backend() = %q, want bolt", s.Backend())
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	p := &poll.Poll{ID: "p1", Where: bot.Where{Platform: bot.Shell, Channel: "c"}, MaxVotes: 1,
		Options: []poll.Option{{Label: "A"}, {Label: "B"}}, Created: time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)}
	if err := s.Polls.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.Settings.SetLocale(ctx, p.Where.Workspace(), "en"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping after Close succeeded")
	}

	// The data outlives the process.
	s, err = Open(ctx, "bolt:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Polls.Get(ctx, "p1"); err != nil {
		t.Errorf("Get after reopening: %v", err)
	}
	if l, err := s.Settings.Languages(ctx, p.Where.Workspace()); err != nil || l.Workspace != "en" {
		t.Errorf("workspace language after reopening = %q, %v", l.Workspace, err)
	}
}

func TestOpenBoltRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := Open(t.Context(), DefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "kring.db")); err != nil {
		t.Errorf("bolt:kring.db did not make kring.db in the working directory: %v", err)
	}
}

func TestOpenRedis(t *testing.T) {
	url := os.Getenv("KRING_TEST_REDIS")
	if url == "" {
		url = "redis://127.0.0.1:6379/15"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	s, err := Open(ctx, url)
	if err != nil {
		msg := "\n\n*** NO REDIS: storage.Open on Redis is NOT tested: " + err.Error() + " ***\n\n"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer s.Close()
	if s.Backend() != "redis" {
		t.Errorf("Backend() = %q, want redis", s.Backend())
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// A read only: these are the real kring keys of the test database.
	if _, err := s.Settings.Languages(t.Context(), bot.Where{Platform: bot.Shell, Team: "storage-test-" + bot.NewID(4)}); err != nil {
		t.Errorf("Languages: %v", err)
	}
}

func TestOpenUnknown(t *testing.T) {
	for _, url := range []string{
		"", "kring.db", "/var/lib/kring/kring.db", "mysql://kring@db/kring", "postgres://x",
		"bolt:", "bolt://kring.db", "file:kring.db", "redis:", "localhost",
	} {
		s, err := Open(t.Context(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if !strings.Contains(err.Error(), "bolt:/path/kring.db") || !strings.Contains(err.Error(), "redis://") {
			t.Errorf("Open(%q) error does not name the accepted forms: %v", url, err)
		}
	}
}

func TestClassify(t *testing.T) {
	for url, want := range map[string]string{
		"bolt:/var/lib/kring/kring.db":          "bolt",
		"bolt:kring.db":                         "bolt",
		"redis://127.0.0.1:6379/0":              "redis",
		"rediss://redis.example:6380/0":         "redis",
		"redis-sentinel://s1:26379,s2/mymaster": "redis",
		"10.0.0.1:7000,10.0.0.2:7000":           "redis",
		"[::1]:7000":                            "redis",
	} {
		if got, err := classify(url); got != want || err != nil {
			t.Errorf("classify(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
}

func TestOpenBoltMissingDir(t *testing.T) {
	_, err := Open(t.Context(), "bolt:"+filepath.Join(t.TempDir(), "no", "such", "dir", "kring.db"))
	if err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("mysql://kring:hunter2@db/kring"); strings.Contains(got, "hunter2") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}
