// Package schedule keeps durable due-jobs: everything kring does later (a
// poll closing, a reminder, a digest) is a Job in a Store, and a Runner
// claims due jobs with a lease, runs them and marks them done. Several
// runners may share one store: a claim is atomic, so each job runs once;
// a job's effect can use Store.Once with Job.Key to stay single even when a
// runner dies between the effect and Done.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
)

// Job is one thing to do at a time.
type Job struct {
	ID      string    `json:"id"`   // stable per purpose: "poll.close:ab12cd"
	Kind    string    `json:"kind"` // routes the job to its Func: "poll.close"
	Due     time.Time `json:"due"`
	Payload []byte    `json:"payload,omitempty"`
}

// Key identifies this run of the job (its id and due time), for
// idempotency: a rescheduled job gets a new key.
func (j Job) Key() string { return fmt.Sprintf("%s:%d", j.ID, j.Due.Unix()) }

// Store holds jobs durably.
type Store interface {
	// Put adds the job, or replaces the job with the same ID (which
	// reschedules it and drops any lease on it).
	Put(ctx context.Context, j Job) error
	// Cancel removes the job; removing a job that does not exist is no error.
	Cancel(ctx context.Context, id string) error
	// Claim atomically leases to owner, until now+lease, up to max jobs due
	// at or before now that hold no unexpired lease, earliest first. Two
	// concurrent claims never return the same job.
	Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Job, error)
	// Done removes a claimed job, unless it was Put again after the claim
	// with another due time: then it stays, unleased, to run at that time.
	Done(ctx context.Context, j Job) error
	// Once records key and reports whether it was new. The record is
	// forgotten after ttl.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Func does a job. A returned error leaves the job to be retried when its
// lease runs out.
type Func func(ctx context.Context, j Job) error

// Runner claims and runs due jobs.
type Runner struct {
	Store Store
	Clock bot.Clock
	Owner string        // names this process in leases; "" picks a random one
	Lease time.Duration // how long a claim holds; 0 means one minute
	Log   *slog.Logger

	mu    sync.RWMutex
	funcs map[string]Func
	once  sync.Once
}

// Handle registers f for jobs of kind.
func (r *Runner) Handle(kind string, f Func) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.funcs == nil {
		r.funcs = map[string]Func{}
	}
	r.funcs[kind] = f
}

func (r *Runner) init() {
	r.once.Do(func() {
		if r.Owner == "" {
			r.Owner = bot.NewID(6)
		}
		if r.Lease == 0 {
			r.Lease = time.Minute
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
		if r.Clock == nil {
			r.Clock = bot.SystemClock{}
		}
	})
}

// RunDue runs every job due now, batch by batch, and returns how many ran
// without error.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	r.init()
	ran := 0
	for {
		jobs, err := r.Store.Claim(ctx, r.Clock.Now(), r.Owner, r.Lease, 32)
		if err != nil {
			return ran, fmt.Errorf("claim due jobs: %w", err)
		}
		if len(jobs) == 0 {
			return ran, nil
		}
		for _, j := range jobs {
			if r.run(ctx, j) {
				ran++
			}
		}
	}
}

func (r *Runner) run(ctx context.Context, j Job) bool {
	r.mu.RLock()
	f := r.funcs[j.Kind]
	r.mu.RUnlock()
	if f == nil {
		r.Log.Error("job of unknown kind dropped", "job", j.ID, "kind", j.Kind)
		if err := r.Store.Done(ctx, j); err != nil {
			r.Log.Error("drop job", "job", j.ID, "err", err)
		}
		return false
	}
	if err := f(ctx, j); err != nil {
		r.Log.Error("job failed; it is retried when its lease ends", "job", j.ID, "kind", j.Kind, "lease", r.Lease, "err", err)
		return false
	}
	if err := r.Store.Done(ctx, j); err != nil {
		r.Log.Error("mark job done", "job", j.ID, "err", err)
		return false
	}
	return true
}

// Run runs due jobs every interval until ctx ends. Jobs missed while no
// runner ran are due already, so they run on the first tick.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	r.init()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("run due jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
