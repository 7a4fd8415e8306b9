// Package bolt keeps every kring Store in one embedded bbolt file: the
// default store, for a single kring process (the shell, a small install).
//
// Values are JSON. Every read-modify-write runs in one bbolt write
// transaction, which bbolt serialises, so the rules of each Store contract
// hold without further locking. Votes go through DB.Batch when several
// arrive at once, so a burst of voters shares a few fsyncs instead of
// paying one each.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// batchDelay is how long a batch of votes waits for more votes.
const batchDelay = time.Millisecond

// lockTimeout is how long Open waits for a file another process holds.
const lockTimeout = 2 * time.Second

// Top-level buckets.
var (
	bucketPolls     = []byte("polls")      // poll id → poll JSON
	bucketVotes     = []byte("votes")      // poll id → bucket of voter → ballot JSON
	bucketPollIndex = []byte("poll_index") // channel key → bucket of created+id → id
	bucketJobs      = []byte("jobs")       // job id → jobRecord JSON
	bucketDue       = []byte("jobs_due")   // due+id → id, in due order
	bucketOnce      = []byte("once")       // key → expiry (unix ns, 8 bytes)
	bucketOnceExp   = []byte("once_exp")   // expiry+key → key, in expiry order
	bucketSettings  = []byte("settings")   // workspace key → bucket of name → value
)

// DB is an open kring bbolt file.
type DB struct {
	db *bbolt.DB
	// votesInFlight counts Vote calls under way; a lone vote commits at
	// once instead of waiting for a batch to fill.
	votesInFlight atomic.Int64
	// now is the wall clock for Once's expiry.
	now func() time.Time
}

// Open opens (creating when needed) the bbolt file at path. A file that
// another process holds open is an error after a short wait, not a hang.
func Open(path string) (*DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt store %s: the file is locked by another process (is another kring running on it?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketPolls, bucketVotes, bucketPollIndex, bucketJobs, bucketDue, bucketOnce, bucketOnceExp, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	// A batch waits this long for company before it commits. bbolt's 10ms
	// default is many fsyncs long here; votes that arrive while a batch
	// commits gather in the next one anyway (BENCHMARKS.md has figures).
	db.MaxBatchDelay = batchDelay
	return &DB{db: db, now: time.Now}, nil
}

// Close closes the file. Pending batched votes are committed first.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close bolt store: %w", err)
	}
	return nil
}

// Ping reports whether the file is open and readable.
func (d *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping bolt store %s: %w", d.db.Path(), err)
	}
	return nil
}

// Polls returns the poll store.
func (d *DB) Polls() poll.Store { return &Polls{d: d} }

// Jobs returns the schedule store.
func (d *DB) Jobs() schedule.Store { return &Jobs{d: d} }

// Settings returns the workspace settings store.
func (d *DB) Settings() bot.SettingsStore { return &Settings{d: d} }
