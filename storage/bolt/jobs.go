package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kringbot/kring/bot/schedule"
	bbolt "go.etcd.io/bbolt"
)

// Jobs is the bbolt schedule.Store.
type Jobs struct{ d *DB }

var _ schedule.Store = (*Jobs)(nil)

// jobRecord is a job with its lease.
type jobRecord struct {
	Job        schedule.Job `json:"job"`
	LeaseUntil time.Time    `json:"lease_until,omitzero"`
	LeaseOwner string       `json:"lease_owner,omitempty"`
}

func dueKey(j schedule.Job) []byte { return append(timeKey(j.Due), j.ID...) }

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

func putJob(tx *bbolt.Tx, r *jobRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", r.Job.ID, err)
	}
	return tx.Bucket(bucketJobs).Put([]byte(r.Job.ID), v)
}

// removeJob deletes job r and its place in the due order.
func removeJob(tx *bbolt.Tx, r *jobRecord) error {
	if err := tx.Bucket(bucketDue).Delete(dueKey(r.Job)); err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Delete([]byte(r.Job.ID))
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
			if err := removeJob(tx, old); err != nil {
				return err
			}
		}
		if err := putJob(tx, &jobRecord{Job: j}); err != nil {
			return err
		}
		return tx.Bucket(bucketDue).Put(dueKey(j), []byte(j.ID))
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
// at most perKind[kind] of a kind it names. It runs in one write
// transaction, which bbolt serialises.
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
		taken := map[string]int{}
		nowKey := timeKey(now)
		c := tx.Bucket(bucketDue).Cursor()
		for k, id := c.First(); k != nil && len(jobs) < max; k, id = c.Next() {
			if bytes.Compare(k[:8], nowKey) > 0 {
				break
			}
			r, err := getJob(tx, string(id))
			if err != nil {
				return err
			}
			if r == nil || r.LeaseUntil.After(now) {
				continue
			}
			if limit, capped := perKind[r.Job.Kind]; capped {
				if taken[r.Job.Kind] >= limit {
					continue
				}
				taken[r.Job.Kind]++
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
