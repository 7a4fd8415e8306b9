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
	"os"
	"strings"
	"sync"
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
	bucketTally     = []byte("poll_tally") // poll id → tally JSON (see polltally.go)
	bucketPollIndex = []byte("poll_index") // channel key → bucket of created+id → id
	bucketJobs      = []byte("jobs")       // job id → jobRecord JSON
	bucketDue       = []byte("jobs_due")   // due+id → id: older files' job order, moved by the first claim (see jobs.go)
	bucketOnce      = []byte("once")       // key → expiry (unix ns, 8 bytes)
	bucketOnceExp   = []byte("once_exp")   // expiry+key → key, in expiry order
	bucketSettings  = []byte("settings")   // workspace key → bucket of name → value
	bucketHealth    = []byte("health")     // "probe" → the time of the last readiness probe write
)

// buckets are the top-level buckets Open creates.
var buckets = [][]byte{bucketPolls, bucketVotes, bucketTally, bucketPollIndex, bucketJobs, bucketDue, bucketOnce, bucketOnceExp, bucketSettings, bucketHealth,
	bucketMeetings, bucketMeetingRSVPs, bucketMeetingIndex, bucketAttending, bucketFeeds, bucketFeedTokens}

// DB is an open kring bbolt file.
type DB struct {
	db *bbolt.DB
	// votesInFlight counts Vote calls under way; a lone vote commits at
	// once instead of waiting for a batch to fill.
	votesInFlight atomic.Int64
	// now is the wall clock for Once's expiry.
	now func() time.Time

	// writeErr is why the last write transaction failed to commit, until
	// one commits again: Ping reports it, so /readyz turns red while
	// writes fail (a full disk, a file-size limit) although reads work.
	writeMu    sync.Mutex
	writeErr   error
	writeErrAt time.Time
}

// probeAfter is how long Ping reports a failed commit before it tries a
// write of its own to see whether writes work again.
const probeAfter = 30 * time.Second

// Open opens (creating when needed) the bbolt file at path. A file that
// another process holds open is an error after a short wait, not a hang.
// A damaged file is a *DamagedError, found by bbolt's own consistency
// check before kring uses the file, rather than a panic now or a failing
// write later.
func Open(path string) (_ *DB, err error) {
	db, err := openChecked(path, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, err
	}
	defer func() {
		// A damaged freelist panics only at the first write.
		if r := recover(); r != nil {
			db.Close()
			err = damaged(path, fmt.Errorf("%v", r))
		}
	}()
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range buckets {
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

// openChecked opens path with bbolt and checks that the file is whole:
// bbolt's Open panics on some damage (a garbled freelist) and reports
// other damage only when a transaction reaches it, so kring checks every
// page at start. The check reads the whole file once; a kring file is
// small enough for that to take well under a second.
func openChecked(path string, opts *bbolt.Options) (_ *bbolt.DB, err error) {
	var db *bbolt.DB
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			err = damaged(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bbolt.Open(path, 0o600, opts)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open bolt store %s: the file is locked by another process (is another kring running on it?): %w", path, err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch),
		err != nil && strings.Contains(err.Error(), "file size too small"):
		return nil, damaged(path, err)
	case err != nil:
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	if err := check(db); err != nil {
		db.Close()
		return nil, damaged(path, err)
	}
	return db, nil
}

// check runs bbolt's consistency check and returns its first finding.
func check(db *bbolt.DB) error {
	return db.View(func(tx *bbolt.Tx) error {
		// Pages past the end of a truncated file are mapped but not
		// backed: reading one faults the process instead of panicking, so
		// a file shorter than its meta page says is refused before the
		// pages are walked.
		fi, err := os.Stat(db.Path())
		if err != nil {
			return fmt.Errorf("stat: %w", err)
		}
		if fi.Size() < tx.Size() {
			return fmt.Errorf("the file is %d bytes, shorter than the %d its index needs (truncated)", fi.Size(), tx.Size())
		}
		var first error
		n := 0
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
			n++
		}
		if n > 1 {
			return fmt.Errorf("%w (and %d more problems)", first, n-1)
		}
		return first
	})
}

// DamagedError says that a bolt file is damaged and what to do about it.
type DamagedError struct {
	Path  string
	Cause error
}

func (e *DamagedError) Error() string {
	cause := strings.Join(strings.Fields(e.Cause.Error()), " ") // one line, whatever bbolt said
	return fmt.Sprintf("the bolt store %s is damaged (%s): restore it from a backup, "+
		"or copy out what is still readable with `kring store salvage --from %s --to NEW.db` and point KRING_STORE at the copy",
		e.Path, cause, e.Path)
}

func (e *DamagedError) Unwrap() error { return e.Cause }

func damaged(path string, cause error) error { return &DamagedError{Path: path, Cause: cause} }

// Close closes the file. Pending batched votes are committed first.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close bolt store: %w", err)
	}
	return nil
}

// Ping reports whether the file is open and readable, and whether writes
// commit: after a failed commit it reports that failure. A readiness probe
// that takes kring out of service would then leave no writes to clear
// it, so once the failure is probeAfter old, Ping tries a small write of
// its own and a success ends the report. That small write may fit where
// a larger one does not (a full disk still has free pages inside the
// file); the next failing commit turns Ping red again for probeAfter.
func (d *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping bolt store %s: %w", d.db.Path(), err)
	}
	d.writeMu.Lock()
	failed, at := d.writeErr, d.writeErrAt
	d.writeMu.Unlock()
	if failed == nil {
		return nil
	}
	red := fmt.Errorf("bolt store %s: writes fail: %w", d.db.Path(), failed)
	if d.now().Sub(at) < probeAfter {
		return red
	}
	err := d.update(func(tx *bbolt.Tx) error {
		v, _ := d.now().UTC().MarshalText()
		return tx.Bucket(bucketHealth).Put([]byte("probe"), v)
	})
	if err != nil {
		return fmt.Errorf("bolt store %s: writes fail: %w", d.db.Path(), err)
	}
	return nil
}

// update runs fn in a write transaction (see bbolt.DB.Update) and keeps
// track of whether commits work. An error fn returns is the caller's
// business (a refused vote); an error from bbolt itself, or a panic,
// means the file cannot be written.
func (d *DB) update(fn func(*bbolt.Tx) error) error {
	return d.write(d.db.Update, fn)
}

// batch is update through bbolt.DB.Batch.
func (d *DB) batch(fn func(*bbolt.Tx) error) error {
	return d.write(d.db.Batch, fn)
}

func (d *DB) write(run func(func(*bbolt.Tx) error) error, fn func(*bbolt.Tx) error) (err error) {
	var fnErr error
	defer func() {
		if r := recover(); r != nil {
			// bbolt rolled the transaction back; a page it could not
			// read is damage, which the caller hears of as an error.
			err = damaged(d.db.Path(), fmt.Errorf("%v", r))
		}
		d.writeMu.Lock()
		defer d.writeMu.Unlock()
		switch {
		case err == nil:
			d.writeErr = nil
		case fnErr == nil || !errors.Is(err, fnErr):
			d.writeErr, d.writeErrAt = err, d.now()
		}
	}()
	return run(func(tx *bbolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
}

// Polls returns the poll store.
func (d *DB) Polls() poll.Store { return &Polls{d: d} }

// Jobs returns the schedule store.
func (d *DB) Jobs() schedule.Store { return &Jobs{d: d} }

// Settings returns the workspace settings store.
func (d *DB) Settings() bot.SettingsStore { return &Settings{d: d} }
