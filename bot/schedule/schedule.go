// Package schedule keeps durable due-jobs: everything kring does later (a
// poll closing, a reminder, a digest) is a Job in a Store, and a Runner
// claims due jobs with a lease, runs them and marks them done. Several
// runners may share one store: a claim is atomic, so each job runs once;
// a job's effect can use Store.Once with Job.Key to stay single even when a
// runner dies between the effect and Done.
//
// A Runner runs due jobs at the same time, a few of each kind, so a slow
// kind (a digest, a feed fetch) fills only its own slots and a reminder
// due behind it still goes out on time. While a job runs its lease is
// extended, so a job that takes longer than one lease is not claimed and
// run a second time by another runner.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
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
	// concurrent claims never return the same job. A job whose lease ran
	// out may be ordered by its due time or by its lease's end (when it
	// became claimable again): a store may keep retried jobs behind those
	// that fell due meanwhile.
	Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Job, error)
	// ClaimKinds is Claim with a cap per kind: of a kind named in perKind
	// it leases at most perKind[kind] jobs (none for 0) and passes over
	// the rest, which stay unleased for another runner or a later claim;
	// kinds not named are capped by max alone. So a runner whose slots
	// for a slow kind are full still gets the jobs of other kinds that are
	// due behind that kind's backlog.
	ClaimKinds(ctx context.Context, now time.Time, owner string, lease time.Duration, max int, perKind map[string]int) ([]Job, error)
	// Extend atomically moves the end of owner's lease on j to until and
	// reports whether owner still held it. It reports false, and changes
	// nothing, when the job was done, cancelled or Put again since owner
	// claimed it (Extend compares j.Due), or when another owner has
	// claimed it since: then that owner runs it. A lease that ran out but
	// was claimed by no one else is still owner's and is extended.
	Extend(ctx context.Context, j Job, owner string, until time.Time) (bool, error)
	// Done removes a claimed job, unless it was Put again after the claim
	// with another due time: then it stays, unleased, to run at that time.
	Done(ctx context.Context, j Job) error
	// Once records key and reports whether it was new. The record is
	// forgotten after ttl.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Func does a job. A returned error leaves the job to be retried when its
// lease runs out. ctx ends when the runner loses the job's lease (its
// cause is then ErrLeaseLost) or gives up waiting for it on Close.
type Func func(ctx context.Context, j Job) error

const (
	// DefaultLimit is how many jobs of one kind a Runner runs at once
	// unless Runner.Limits names the kind.
	DefaultLimit = 4
	// DefaultMax is how many jobs of all kinds a Runner runs at once
	// unless Runner.Max says otherwise.
	DefaultMax = 16
)

var (
	// ErrLeaseLost is the cause of a job's context when the runner no
	// longer holds its lease: another runner claimed it, the job was
	// cancelled or rescheduled meanwhile, or the lease ran out while the
	// store could not be reached. The job may be running elsewhere, or
	// this run is moot, so it should stop; it is not marked done.
	ErrLeaseLost = errors.New("the runner lost the job's lease")
	// ErrClosed is returned by RunDue after Close.
	ErrClosed = errors.New("job runner closed")
	// errStopped is the cause of a job's context when Close stopped
	// waiting for it; its lease runs out and another runner retries it.
	errStopped = errors.New("job runner stopped before the job ended")
)

// Runner claims and runs due jobs. Its zero value with a Store is ready
// to use; set the fields before the first call.
type Runner struct {
	Store Store
	Clock bot.Clock
	Owner string // names this process in leases; "" picks a random one
	// Lease is how long a claim holds; 0 means one minute. While a job
	// runs, its lease is extended every third of Lease.
	Lease time.Duration
	Log   *slog.Logger
	// Limits caps how many jobs of a kind run at once on this runner. A
	// kind not named here, or named with less than 1, gets DefaultLimit.
	Limits map[string]int
	// Max caps how many jobs run at once on this runner in all; 0 means
	// DefaultMax. 1 runs one job at a time, in due order.
	Max int

	once sync.Once
	// claiming lets one claim at a time read the free slots and start its
	// jobs, so two claims never both fill the same slot.
	claiming sync.Mutex

	mu      sync.Mutex
	funcs   map[string]Func
	running map[string]int // kind → jobs in flight
	total   int
	active  map[*run]struct{}
	closed  bool
	jobs    sync.WaitGroup // every job in flight
	stop    context.Context
	cancel  context.CancelCauseFunc // ends every job in flight: Close's deadline passed
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
		if r.Max < 1 {
			r.Max = DefaultMax
		}
		r.stop, r.cancel = context.WithCancelCause(context.Background())
		r.mu.Lock()
		r.running = map[string]int{}
		r.active = map[*run]struct{}{}
		r.mu.Unlock()
	})
}

// RunDue runs every job due now, several at once within the limits, and
// returns when each job it started has ended, with how many ran without
// error. A job held back because its kind's slots are full runs as soon
// as one of them is free, still within this call. Jobs left for slots
// taken by a concurrent Run on the same Runner are Run's to start.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	r.init()
	b := newBatch()
	var claimErr error
	for {
		_, endedBefore := b.counts()
		n, err := r.startDue(ctx, ctx, b)
		if err != nil {
			claimErr = err
			break
		}
		if n > 0 {
			continue
		}
		running, ended := b.counts()
		if running > 0 {
			<-b.ended // a slot is free: a job its kind held back may start now
			continue
		}
		if ended != endedBefore {
			continue // a job ended during the claim, which may have passed over a job for want of the slot it freed
		}
		break
	}
	for {
		if running, _ := b.counts(); running == 0 {
			break
		}
		<-b.ended
	}
	return b.ranOK(), claimErr
}

// Run claims and starts due jobs every interval, and as soon as a job
// ends and frees a slot, until ctx ends. It does not wait for a running
// job before claiming more: a slow job keeps only its own slot. Jobs
// missed while no runner ran are due already, so they run on the first
// tick. The jobs Run started outlive ctx: Close waits for them.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	r.init()
	t := time.NewTicker(every)
	defer t.Stop()
	b := newBatch()
	jobCtx := context.WithoutCancel(ctx) // the jobs end by Close, not with ctx
	for {
		for {
			n, err := r.startDue(ctx, jobCtx, b)
			if errors.Is(err, ErrClosed) {
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					r.Log.Error("run due jobs", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.ended:
		}
	}
}

// Close stops claiming and waits for the jobs in flight. When ctx ends
// first, it cancels their contexts, waits for them to return, and reports
// how many it cancelled; their leases run out and another runner retries
// them. Run and RunDue claim nothing after Close.
func (r *Runner) Close(ctx context.Context) error {
	r.init()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	r.mu.Lock()
	n := r.total
	r.mu.Unlock()
	r.cancel(errStopped)
	<-done
	return fmt.Errorf("stop job runner: %d jobs still running were cancelled: %w", n, ctx.Err())
}

// Heartbeat extends now the lease of every job in flight, as the runner
// does by itself every third of Lease. A test that moves a fake Clock
// calls it to stand for the time that passed.
func (r *Runner) Heartbeat(ctx context.Context) {
	r.init()
	r.mu.Lock()
	runs := make([]*run, 0, len(r.active))
	for rn := range r.active {
		runs = append(runs, rn)
	}
	r.mu.Unlock()
	for _, rn := range runs {
		r.extend(ctx, rn)
	}
}

// batch counts the jobs one RunDue or Run started and tells it when one
// ends.
type batch struct {
	mu       sync.Mutex
	running  int
	finished int
	ran      int
	ended    chan struct{} // holds one signal at most: something ended since the last receive
}

func newBatch() *batch { return &batch{ended: make(chan struct{}, 1)} }

func (b *batch) add() {
	b.mu.Lock()
	b.running++
	b.mu.Unlock()
}

func (b *batch) end(ok bool) {
	b.mu.Lock()
	b.running--
	b.finished++
	if ok {
		b.ran++
	}
	b.mu.Unlock()
	select {
	case b.ended <- struct{}{}:
	default:
	}
}

// counts reports how many of the batch's jobs are running and how many
// have ended.
func (b *batch) counts() (running, ended int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running, b.finished
}

func (b *batch) ranOK() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ran
}

// startDue claims as many due jobs as there are free slots, within each
// kind's limit, and starts each on its own goroutine under parent. It
// reports how many it claimed; 0 means none was due that fits, or no slot
// is free.
func (r *Runner) startDue(ctx, parent context.Context, b *batch) (int, error) {
	r.claiming.Lock()
	defer r.claiming.Unlock()
	free, perKind, err := r.free()
	if err != nil || free == 0 {
		return 0, err
	}
	now := r.Clock.Now()
	jobs, err := r.Store.ClaimKinds(ctx, now, r.Owner, r.Lease, free, perKind)
	for _, j := range jobs { // a claim that failed half way still returns what it leased
		r.start(parent, j, now.Add(r.Lease), b)
	}
	if err != nil {
		return len(jobs), fmt.Errorf("claim due jobs: %w", err)
	}
	return len(jobs), nil
}

// free reports how many jobs may start now in all, and of each kind
// with a Func.
func (r *Runner) free() (int, map[string]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, nil, ErrClosed
	}
	perKind := make(map[string]int, len(r.funcs))
	for kind := range r.funcs {
		perKind[kind] = max(r.limit(kind)-r.running[kind], 0)
	}
	return max(r.Max-r.total, 0), perKind, nil
}

func (r *Runner) limit(kind string) int {
	if n := r.Limits[kind]; n >= 1 {
		return n
	}
	return DefaultLimit
}

// run is one job in flight.
type run struct {
	job    Job
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	until time.Time // the end of the lease as last set
	lost  bool
}

// lose stops the job: its lease is gone, so it must not be marked done.
func (rn *run) lose() {
	rn.mu.Lock()
	rn.lost = true
	rn.mu.Unlock()
	rn.cancel(ErrLeaseLost)
}

// start runs j on its own goroutine, which the runner owns until it ends.
func (r *Runner) start(parent context.Context, j Job, until time.Time, b *batch) {
	r.mu.Lock()
	f := r.funcs[j.Kind]
	if f == nil || r.closed {
		r.mu.Unlock()
		if f == nil {
			r.drop(parent, j)
		} // closed: the job waits out its lease and another runner takes it
		return
	}
	ctx, cancel := context.WithCancelCause(parent)
	rn := &run{job: j, cancel: cancel, until: until}
	r.running[j.Kind]++
	r.total++
	r.active[rn] = struct{}{}
	r.jobs.Add(1)
	r.mu.Unlock()
	b.add()
	stopOnClose := context.AfterFunc(r.stop, func() { cancel(context.Cause(r.stop)) })
	go func() {
		defer r.jobs.Done()
		ok := r.execute(ctx, rn, f)
		stopOnClose()
		cancel(nil)
		r.mu.Lock()
		r.running[j.Kind]--
		r.total--
		delete(r.active, rn)
		r.mu.Unlock()
		b.end(ok)
	}()
}

// unknownLease is how long a runner holds a job of a kind it does not know
// before it leaves the job to another runner again.
const unknownLease = 10 * time.Second

// drop passes over a job of a kind this runner does not know: one put by a
// newer kring, during a rolling upgrade, or by a feature this process has
// not registered. The job is neither run nor removed: its lease is cut
// short so another runner, one that knows it, can claim it soon.
func (r *Runner) drop(ctx context.Context, j Job) {
	r.Log.Warn("job of a kind this process does not know left for another", "job", j.ID, "kind", j.Kind)
	if _, err := r.Store.Extend(ctx, j, r.Owner, r.Clock.Now().Add(unknownLease)); err != nil {
		r.Log.Error("shorten the lease of a job of unknown kind", "job", j.ID, "err", err)
	}
}

// execute does the job while a heartbeat keeps its lease, and marks it
// done unless it failed or its lease was lost.
func (r *Runner) execute(ctx context.Context, rn *run, f Func) bool {
	j := rn.job
	stopBeat := r.keepLease(ctx, rn)
	err := call(ctx, f, j)
	stopBeat()
	rn.mu.Lock()
	lost := rn.lost
	rn.mu.Unlock()
	switch {
	case lost:
		return false // its new owner runs it and marks it done
	case err != nil:
		r.Log.Error("job failed; it is retried when its lease ends", "job", j.ID, "kind", j.Kind, "lease", r.Lease, "err", err)
		return false
	}
	// Done even when Close cancelled the job just after it succeeded.
	if err := r.Store.Done(context.WithoutCancel(ctx), j); err != nil {
		r.Log.Error("mark job done", "job", j.ID, "err", err)
		return false
	}
	return true
}

// call runs f, turning a panic into an error so that one bad job does not
// end the process and the jobs of every other kind with it.
func call(ctx context.Context, f Func, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return f(ctx, j)
}

// keepLease extends rn's lease every third of Lease until the returned
// func is called; that func returns once the heartbeat has stopped.
func (r *Runner) keepLease(ctx context.Context, rn *run) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(r.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.extend(ctx, rn)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// extend moves rn's lease on by Lease from now. When the lease is gone
// (another runner holds the job now, or it was cancelled or rescheduled),
// or ran out while the store failed, the job is stopped here.
func (r *Runner) extend(ctx context.Context, rn *run) {
	j := rn.job
	until := r.Clock.Now().Add(r.Lease)
	held, err := r.Store.Extend(ctx, j, r.Owner, until)
	switch {
	case err != nil && ctx.Err() != nil:
		// The job ended or was stopped meanwhile.
	case err != nil:
		rn.mu.Lock()
		expired := !r.Clock.Now().Before(rn.until)
		rn.mu.Unlock()
		if expired {
			r.Log.Error("job's lease ran out and could not be extended; stopping the job here, another runner may take it", "job", j.ID, "kind", j.Kind, "owner", r.Owner, "err", err)
			rn.lose()
			return
		}
		r.Log.Warn("extend job lease; trying again at the next heartbeat", "job", j.ID, "kind", j.Kind, "err", err)
	case !held:
		r.Log.Warn("job's lease is gone (another runner claimed it, or it was cancelled or rescheduled); stopping the job here", "job", j.ID, "kind", j.Kind, "owner", r.Owner)
		rn.lose()
	default:
		rn.mu.Lock()
		rn.until = until
		rn.mu.Unlock()
	}
}
