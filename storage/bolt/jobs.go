package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kringbot/kring/bot/schedule"
	bbolt "go.etcd.io/bbolt"
)

// Jobs is the bbolt schedule.Store.
//
// Each kind has its own index of job ids in the bucket jobs_ready, keyed
// by when the job is next claimable: its due time, or the end of its
// lease while it is leased. So a claim reads, for each kind it has room
// for, only the first few entries at or before now, and its cost does not
// grow with the backlog of due jobs, leased or of a kind whose cap is
// full. Files written before this index keep their jobs' order in
// jobs_due (due+id → id, all kinds); the first claim moves them.
type Jobs struct{ d *DB }

var _ schedule.Store = (*Jobs)(nil)

// bucketReady holds a bucket per kind, named kindBucket(kind), of
// readyKey → job id.
var bucketReady = []byte("jobs_ready")

// jobRecord is a job with its lease.
type jobRecord struct {
	Job        schedule.Job `json:"job"`
	LeaseUntil time.Time    `json:"lease_until,omitzero"`
	LeaseOwner string       `json:"lease_owner,omitempty"`
}

// dueKey is a job's key in the bucket jobs_due of older files.
func dueKey(j schedule.Job) []byte { return append(timeKey(j.Due), j.ID...) }

// readyKey orders a kind's jobs by when they are next claimable, then id.
func readyKey(r *jobRecord) []byte {
	at := r.Job.Due
	if r.LeaseUntil.After(at) {
		at = r.LeaseUntil
	}
	return append(timeKey(at), r.Job.ID...)
}

// kindBucket names a kind's bucket; the prefix keeps the kind "" a valid
// bucket name.
func kindBucket(kind string) []byte { return []byte("k:" + kind) }

func readyBucket(tx *bbolt.Tx, kind string) (*bbolt.Bucket, error) {
	ready, err := tx.CreateBucketIfNotExists(bucketReady)
	if err != nil {
		return nil, err
	}
	return ready.CreateBucketIfNotExists(kindBucket(kind))
}

func getJob(tx *bbolt.Tx, id string) (*jobRecord, error) {
	v := tx.Bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	r := new(jobRecord)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", id, err)
	}
	return r, nil
}

// putJob writes r and its place in its kind's index; r's old place, if it
// had one, must have been removed with unindex.
func putJob(tx *bbolt.Tx, r *jobRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", r.Job.ID, err)
	}
	if err := tx.Bucket(bucketJobs).Put([]byte(r.Job.ID), v); err != nil {
		return err
	}
	b, err := readyBucket(tx, r.Job.Kind)
	if err != nil {
		return err
	}
	return b.Put(readyKey(r), []byte(r.Job.ID))
}

// unindex removes r's place in its kind's index, and in jobs_due where
// an older kring put it.
func unindex(tx *bbolt.Tx, r *jobRecord) error {
	if err := tx.Bucket(bucketDue).Delete(dueKey(r.Job)); err != nil {
		return err
	}
	b, err := readyBucket(tx, r.Job.Kind)
	if err != nil {
		return err
	}
	return b.Delete(readyKey(r))
}

// removeJob deletes job r and its place in the due order.
func removeJob(tx *bbolt.Tx, r *jobRecord) error {
	if err := unindex(tx, r); err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Delete([]byte(r.Job.ID))
}

// migrate moves the jobs of jobs_due, where an older kring kept them, to
// their kinds' indexes. bbolt has one writer, so it does all at once.
func migrate(tx *bbolt.Tx) error {
	due := tx.Bucket(bucketDue)
	if k, _ := due.Cursor().First(); k == nil {
		return nil
	}
	err := due.ForEach(func(_, id []byte) error {
		r, err := getJob(tx, string(id))
		if err != nil || r == nil {
			return err
		}
		b, err := readyBucket(tx, r.Job.Kind)
		if err != nil {
			return err
		}
		return b.Put(readyKey(r), id)
	})
	if err != nil {
		return fmt.Errorf("move jobs to per-kind indexes: %w", err)
	}
	if err := tx.DeleteBucket(bucketDue); err != nil {
		return err
	}
	_, err = tx.CreateBucket(bucketDue)
	return err
}

// Put adds or replaces a job, dropping any lease on it.
func (s *Jobs) Put(ctx context.Context, j schedule.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		old, err := getJob(tx, j.ID)
		if err != nil {
			return err
		}
		if old != nil {
			if err := unindex(tx, old); err != nil {
				return err
			}
		}
		return putJob(tx, &jobRecord{Job: j})
	})
	if err != nil {
		return fmt.Errorf("put job %s: %w", j.ID, err)
	}
	return nil
}

// Cancel removes a job; a missing job is no error.
func (s *Jobs) Cancel(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		r, err := getJob(tx, id)
		if err != nil || r == nil {
			return err
		}
		return removeJob(tx, r)
	})
	if err != nil {
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	return nil
}

// Claim leases up to max due, unleased jobs to owner, earliest first.
func (s *Jobs) Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]schedule.Job, error) {
	return s.ClaimKinds(ctx, now, owner, lease, max, nil)
}

// ClaimKinds leases up to max due, unleased jobs to owner, earliest first,
// at most perKind[kind] of a kind it names. It reads, from each kind's
// index, only the first ones it may lease, and merges them. It runs in
// one write transaction, which bbolt serialises.
func (s *Jobs) ClaimKinds(ctx context.Context, now time.Time, owner string, lease time.Duration, max int, perKind map[string]int) ([]schedule.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, nil
	}
	var jobs []schedule.Job
	err := s.d.update(func(tx *bbolt.Tx) error {
		jobs = jobs[:0]
		if err := migrate(tx); err != nil {
			return err
		}
		ready, err := tx.CreateBucketIfNotExists(bucketReady)
		if err != nil {
			return err
		}
		type found struct {
			key, id []byte
			kind    string
		}
		var all []found
		nowKey := timeKey(now)
		err = ready.ForEachBucket(func(name []byte) error {
			kind := strings.TrimPrefix(string(name), "k:")
			n := max
			if limit, capped := perKind[kind]; capped {
				n = min(n, limit)
			}
			c := ready.Bucket(name).Cursor()
			for k, id := c.First(); k != nil && n > 0 && bytes.Compare(k[:8], nowKey) <= 0; k, id = c.Next() {
				// Copies: the keys are only valid while nothing is written.
				all = append(all, found{bytes.Clone(k), bytes.Clone(id), kind})
				n--
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b found) int { return bytes.Compare(a.key, b.key) })
		for _, f := range all[:min(len(all), max)] {
			r, err := getJob(tx, string(f.id))
			if err != nil {
				return err
			}
			if r == nil { // left by a lost write: drop it
				if err := ready.Bucket(kindBucket(f.kind)).Delete(f.key); err != nil {
					return err
				}
				continue
			}
			if err := unindex(tx, r); err != nil {
				return err
			}
			r.LeaseUntil, r.LeaseOwner = now.Add(lease), owner
			if err := putJob(tx, r); err != nil {
				return err
			}
			jobs = append(jobs, r.Job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
	}
	return jobs, nil
}

// Extend moves owner's lease on j to until, if owner still holds the
// claim of this run of j, in one write transaction.
func (s *Jobs) Extend(ctx context.Context, j schedule.Job, owner string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var held bool
	err := s.d.update(func(tx *bbolt.Tx) error {
		held = false
		r, err := getJob(tx, j.ID)
		if err != nil || r == nil {
			return err
		}
		// Put clears the owner, so an unleased or rescheduled job fails here.
		if !r.Job.Due.Equal(j.Due) || r.LeaseOwner != owner {
			return nil
		}
		if err := unindex(tx, r); err != nil {
			return err
		}
		r.LeaseUntil = until
		held = true
		return putJob(tx, r)
	})
	if err != nil {
		return false, fmt.Errorf("extend lease on job %s for %s: %w", j.ID, owner, err)
	}
	return held, nil
}

// Done removes a claimed job unless it was rescheduled since the claim.
func (s *Jobs) Done(ctx context.Context, j schedule.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		r, err := getJob(tx, j.ID)
		if err != nil || r == nil {
			return err
		}
		if !r.Job.Due.Equal(j.Due) {
			return nil // rescheduled: it runs again at its new time
		}
		return removeJob(tx, r)
	})
	if err != nil {
		return fmt.Errorf("finish job %s: %w", j.ID, err)
	}
	return nil
}

// onceSweep bounds how many expired Once records one call clears.
const onceSweep = 64

// Once records key until ttl has passed and reports whether it was new.
// Each call also clears a few expired records, so they do not pile up.
func (s *Jobs) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.d.now()
	var isNew bool
	err := s.d.update(func(tx *bbolt.Tx) error {
		seen, err := onceSeen(tx, key, now)
		if err != nil || seen {
			isNew = false
			return err
		}
		isNew = true
		return onceRecord(tx, key, now, ttl)
	})
	if err != nil {
		return false, fmt.Errorf("record once %s: %w", key, err)
	}
	return isNew, nil
}
