// Package storage opens the store KRING_STORE names: an embedded bbolt
// file (the default) or Redis. It hands out every feature's Store from it.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/kringbot/kring/storage/redis"
)

// DefaultURL is the store kring uses when none is configured.
const DefaultURL = "bolt:kring.db"

// Forms lists the store addresses Open takes, for messages.
const Forms = "bolt:/path/kring.db (or bolt:kring.db), " + redis.Forms

// Stores holds every feature's store, all on one backend.
type Stores struct {
	Polls    poll.Store
	Jobs     schedule.Store
	Settings bot.SettingsStore
	Meetings meeting.Store

	backend string
	ping    func(context.Context) error
	close   func() error
}

// Open opens the store url names:
//
//	bolt:/path/kring.db, bolt:kring.db    an embedded bbolt file
//	redis://host:port/db, rediss://...    a Redis server (rediss: over TLS)
//	redis-sentinel://host:port[,host:port]/mastername[/db]
//	host:port,host:port                   Redis Cluster seed nodes
//
// See package storage/redis for the details of the Redis forms.
func Open(ctx context.Context, url string) (*Stores, error) {
	switch kind, err := classify(url); {
	case err != nil:
		return nil, err
	case kind == "bolt":
		path := strings.TrimPrefix(url, "bolt:")
		db, err := bolt.Open(path)
		if err != nil {
			return nil, err
		}
		return &Stores{
			Polls: db.Polls(), Jobs: db.Jobs(), Settings: db.Settings(), Meetings: db.Meetings(),
			backend: "bolt", ping: db.Ping, close: db.Close,
		}, nil
	default:
		s, err := redis.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return &Stores{
			Polls: s.Polls(), Jobs: s.Jobs(), Settings: s.Settings(), Meetings: s.Meetings(),
			backend: "redis", ping: s.Ping, close: s.Close,
		}, nil
	}
}

// classify tells which backend url is for, or why it is none.
func classify(url string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("store %q: %s; use %s", redactURL(url), why, Forms)
	}
	if path, ok := strings.CutPrefix(url, "bolt:"); ok {
		switch {
		case path == "":
			return bad("no file after bolt:")
		case strings.HasPrefix(path, "//"):
			return bad("write bolt:/absolute/path or bolt:relative/path, without //")
		}
		return "bolt", nil
	}
	if scheme, _, ok := strings.Cut(url, "://"); ok {
		switch scheme {
		case "redis", "rediss", "redis-sentinel":
			return "redis", nil
		}
		return bad(fmt.Sprintf("unknown scheme %q", scheme))
	}
	if url == "" {
		return bad("empty")
	}
	// Without a scheme only a list of host:port (Redis Cluster) is left.
	for a := range strings.SplitSeq(url, ",") {
		_, port, err := net.SplitHostPort(strings.TrimSpace(a))
		if _, perr := strconv.Atoi(port); err != nil || perr != nil {
			return bad("neither a bolt file nor a list of host:port")
		}
	}
	return "redis", nil
}

// redactURL hides a password in url.
func redactURL(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); at < 0 || slash >= 0 && slash < at {
		return url
	}
	return scheme + "://xxxxx@" + rest[at+1:]
}

// Backend names the backend: "bolt" or "redis".
func (s *Stores) Backend() string { return s.backend }

// Ping reports whether the store answers, for readiness checks.
func (s *Stores) Ping(ctx context.Context) error {
	if s.ping == nil {
		return errors.New("ping store: not opened by storage.Open")
	}
	return s.ping(ctx)
}

// Close closes the store.
func (s *Stores) Close() error {
	if s.close == nil {
		return errors.New("close store: not opened by storage.Open")
	}
	return s.close()
}
