package meeting_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/redis"
)

// These tests run the reminders the way two `kring serve` processes on
// one Redis do: each "process" has its own Redis client, store, meeting
// feature, job runner and Poster; they share only Redis (db 15, under a
// key prefix of the test's own) and the clock.

// scaleRedisURL is the Redis these tests use; db 15 is the tests'.
func scaleRedisURL() string {
	if u := os.Getenv("KRING_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// scaleRedis checks that the test Redis answers (skipping tb loudly when
// it does not, failing it on CI) and returns a function that opens one
// more store on it under one fresh key prefix, as another process would.
// Every key under the prefix is removed when tb ends.
func scaleRedis(tb testing.TB) (open func() *redis.Store) {
	tb.Helper()
	fail := func(err error) {
		msg := fmt.Sprintf("\n\n*** NO REDIS: reminders on Redis are NOT tested. Start Redis or set KRING_TEST_REDIS to a redis:// URL. ***\n*** %v ***\n\n", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	opts, err := goredis.ParseURL(scaleRedisURL())
	if err != nil {
		fail(err)
	}
	admin := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := admin.Ping(ctx).Err(); err != nil {
		admin.Close()
		fail(err)
	}
	prefix := "kringtest:" + bot.NewID(6) + ":"
	tb.Cleanup(func() {
		defer admin.Close()
		ctx := context.Background()
		iter := admin.Scan(ctx, 0, prefix+"*", 2000).Iterator()
		var keys []string
		flush := func() {
			if len(keys) > 0 {
				if err := admin.Unlink(ctx, keys...).Err(); err != nil {
					tb.Errorf("remove test keys %s*: %v", prefix, err)
				}
				keys = keys[:0]
			}
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 500 {
				flush()
			}
		}
		flush()
		if err := iter.Err(); err != nil {
			tb.Errorf("scan test keys %s*: %v", prefix, err)
		}
	})
	return func() *redis.Store {
		o := *opts
		// Many jobs run at once: room for each on the pool.
		o.PoolSize = 128
		s := redis.New(goredis.NewClient(&o), prefix)
		tb.Cleanup(func() { s.Close() }) // a second Close after a test's "kill" only errs
		return s
	}
}

var (
	scaleZone  = mustLoad("Europe/Amsterdam")
	scaleQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))
	// scaleT0 is when the reminders start to fall due, on the fake clock.
	scaleT0 = time.Date(2026, 3, 12, 9, 0, 0, 0, scaleZone)
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// dmLog records every reminder DM of every process, by meeting,
// occurrence and user, with when (on the processes' clock) and by which
// process it was sent.
type dmLog struct {
	clock bot.Clock
	mu    sync.Mutex
	sent  map[dmKey][]dmSent
}

// dmKey is one reminder's idempotency key as a person sees it: the
// meeting (from the RSVP buttons), the occurrence (the message's text
// names title and date) and the user.
type dmKey struct{ meeting, occurrence, user string }

type dmSent struct {
	proc string
	at   time.Time
}

func newDMLog(clock bot.Clock) *dmLog { return &dmLog{clock: clock, sent: map[dmKey][]dmSent{}} }

func (l *dmLog) record(proc string, k dmKey) {
	at := l.clock.Now()
	l.mu.Lock()
	l.sent[k] = append(l.sent[k], dmSent{proc, at})
	l.mu.Unlock()
}

// byUser returns the DMs of meeting id, by user.
func (l *dmLog) byUser(id string) map[string][]dmSent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]dmSent{}
	for k, s := range l.sent {
		if k.meeting == id {
			out[k.user] = append(out[k.user], s...)
		}
	}
	return out
}

// meetingOf is the meeting a reminder DM is about: its RSVP buttons'
// value starts with the meeting's id.
func meetingOf(m bot.Message) string {
	for _, b := range m.Buttons() {
		if id, _, ok := strings.Cut(b.Value, ":"); ok {
			return id
		}
	}
	return ""
}

// procPoster is one process's Poster: it records DMs in the shared log
// and, after each, calls hook, which may stand for the process dying.
type procPoster struct {
	*bottest.Poster
	name string
	log  *dmLog
	hook func(user, meeting string)
}

func (p *procPoster) DM(_ context.Context, where bot.Where, user string, m bot.Message) (bot.Ref, error) {
	id := meetingOf(m)
	p.log.record(p.name, dmKey{id, m.Text, user})
	if p.hook != nil {
		p.hook(user, id)
	}
	return bot.Ref{Where: bot.Where{Platform: where.Platform, Team: where.Team, Channel: "D" + user}, ID: "dm"}, nil
}

// proc is one kring process: its own store (Redis client), feature,
// runner and Poster.
type proc struct {
	name   string
	store  *redis.Store
	jobs   schedule.Store
	feat   *meeting.Feature
	mux    *bot.Mux
	runner *schedule.Runner
	poster *procPoster
}

// newProc starts a process on a store of its own. wrap, when set, wraps
// the job store the feature and runner use.
func newProc(tb testing.TB, name string, open func() *redis.Store, clock bot.Clock, log *dmLog, wrap func(schedule.Store) schedule.Store) *proc {
	st := open()
	jobs := st.Jobs()
	if wrap != nil {
		jobs = wrap(jobs)
	}
	p := &proc{
		name: name, store: st, jobs: jobs,
		poster: &procPoster{Poster: bottest.NewPoster(), name: name, log: log},
		runner: &schedule.Runner{Store: jobs, Clock: clock, Owner: name, Log: scaleQuiet},
	}
	settings := &bot.CachedSettings{Store: st.Settings()}
	p.mux = &bot.Mux{Settings: settings, Log: scaleQuiet}
	p.feat = meeting.New(meeting.Config{
		Store: st.Meetings(), Jobs: jobs, Poster: p.poster, Clock: clock, Location: scaleZone,
		Locale: p.mux.Locale, Settings: settings, Log: scaleQuiet,
	})
	tb.Cleanup(p.feat.Close)
	p.feat.Register(p.mux, p.runner)
	return p
}

// plan is one meeting a test puts in the store: a one-off hour starting
// an hour after its reminder is due (--herinner=1u), with who said Ja.
type plan struct {
	id    string
	where bot.Where
	due   time.Time // the reminder's instant
	yes   []string
}

func (pl plan) start() time.Time { return pl.due.Add(time.Hour) }

// reminderJob is the job /meeting puts for a meeting whose next wake is
// at, scheduled at since. checkReminderJob holds it to the feature's own.
func reminderJob(id string, at, since time.Time) schedule.Job {
	payload, err := json.Marshal(map[string]any{"meeting": id, "since": since})
	if err != nil {
		panic(err)
	}
	return schedule.Job{ID: "meeting.remind:" + id, Kind: "meeting.remind", Due: at, Payload: payload}
}

// checkReminderJob makes a meeting through the /meeting command on p and
// checks that the job the feature put for it is the one reminderJob
// makes, so the meetings planted directly in the store below are
// reminded as /meeting's own are. It removes the meeting's job again.
func checkReminderJob(tb testing.TB, p *proc, clock bot.Clock) {
	tb.Helper()
	ctx := context.Background()
	where := bot.Where{Platform: bot.Shell, Team: "t", Channel: "vorm"}
	r := p.mux.ServeCommand(ctx, &bot.Request{Where: where, User: bot.User{ID: "vorm", Name: "Vorm"}, Command: "/meeting", Text: `"Vorm" morgen 10:00 --herinner=1u`, TriggerID: "t"})
	ms, err := p.store.Meetings().List(ctx, where)
	if err != nil || len(ms) != 1 || r.Message == nil {
		tb.Fatalf("make a meeting through /meeting: %v, %v, %+v", ms, err, r.Message)
	}
	m := ms[0]
	far := clock.Now().AddDate(1, 0, 0)
	claimed, err := p.jobs.Claim(ctx, far, "vorm", time.Minute, 100)
	if err != nil {
		tb.Fatal(err)
	}
	want := reminderJob(m.ID, m.Start.Add(-time.Hour), clock.Now())
	var got []schedule.Job
	for _, j := range claimed {
		if j.Kind == want.Kind {
			got = append(got, j)
		}
		if err := p.jobs.Cancel(ctx, j.ID); err != nil {
			tb.Fatal(err)
		}
	}
	var gotP, wantP map[string]any
	if len(got) == 1 {
		_ = json.Unmarshal(got[0].Payload, &gotP)
		_ = json.Unmarshal(want.Payload, &wantP)
	}
	if len(got) != 1 || got[0].ID != want.ID || !got[0].Due.Equal(want.Due) || fmt.Sprint(gotP) != fmt.Sprint(wantP) {
		tb.Fatalf("/meeting's reminder job is no longer what these tests plant (update reminderJob):\n got %+v (payload %s)\nwant %+v (payload %s)", got, payloadOf(got), want, want.Payload)
	}
}

func payloadOf(js []schedule.Job) string {
	if len(js) == 0 {
		return "none"
	}
	return string(js[0].Payload)
}

// plant stores the meetings, their Ja answers and their reminder jobs
// through p's stores, from several goroutines as many organisers would.
func plant(tb testing.TB, p *proc, since time.Time, plans []plan) {
	tb.Helper()
	ctx := context.Background()
	ms := p.store.Meetings()
	work := make(chan plan)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 96 { // a Redis round trip on a busy machine is mostly waiting
		wg.Go(func() {
			for pl := range work {
				if err := plantOne(ctx, ms, p.jobs, since, pl); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, pl := range plans {
		work <- pl
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}

func plantOne(ctx context.Context, ms meeting.Store, jobs schedule.Store, since time.Time, pl plan) error {
	m := &meeting.Meeting{
		ID: pl.id, Where: pl.where, Ref: bot.Ref{Where: pl.where, ID: "post-" + pl.id},
		Organiser: bot.User{ID: pl.yes[0], Name: pl.yes[0]}, Title: "Overleg " + pl.id, Zone: scaleZone.String(),
		Start: pl.start(), Duration: time.Hour, Place: "Online", Remind: []time.Duration{time.Hour},
		Created: since, Changed: since,
	}
	if err := ms.Create(ctx, m); err != nil {
		return err
	}
	for _, u := range pl.yes {
		if _, err := ms.Click(ctx, meeting.Click{Meeting: pl.id, Channel: pl.where, User: u, Name: u, Answer: meeting.Yes, At: since}); err != nil {
			return err
		}
	}
	return jobs.Put(ctx, reminderJob(pl.id, pl.due, since))
}

// spread plans n meetings whose reminders fall due evenly over span from
// t0, in 100 channels, each with one to yesMax Ja answers by people from
// a pool of 500.
func spread(n int, t0 time.Time, span time.Duration, yesMax int) []plan {
	plans := make([]plan, n)
	for i := range plans {
		pl := plan{
			id:    fmt.Sprintf("s%06d", i),
			where: bot.Where{Platform: bot.Shell, Team: "t", Channel: fmt.Sprintf("kanaal%02d", i%100)},
			due:   t0.Add(span * time.Duration(i) / time.Duration(n)),
		}
		for k := range 1 + i%yesMax {
			pl.yes = append(pl.yes, fmt.Sprintf("U%03d", (i*7+k*131)%500))
		}
		plans[i] = pl
	}
	return plans
}

// TestRemindersTwoRunnersTenThousand: two processes on one Redis, 10,000
// meetings whose reminders fall due over one minute, the fake clock moved
// a second at a time with both runners running what is due at once: every
// reminder DM goes out, none twice, none early, none later than the step
// it fell due in, and both processes sent some.
func TestRemindersTwoRunnersTenThousand(t *testing.T) {
	const (
		meetings = 10_000
		step     = time.Second
	)
	open := scaleRedis(t)
	clock := bottest.NewClock(scaleT0.Add(-2 * time.Hour))
	log := newDMLog(clock)
	a := newProc(t, "kringA", open, clock, log, nil)
	b := newProc(t, "kringB", open, clock, log, nil)
	checkReminderJob(t, a, clock)
	// More reminder jobs at once than kring serve runs (DefaultLimit):
	// the test is over sooner, and the runners contend harder.
	for _, p := range []*proc{a, b} {
		p.runner.Limits = map[string]int{"meeting.remind": 16}
	}

	plans := spread(meetings, scaleT0, time.Minute, 2)
	began := time.Now()
	plant(t, a, clock.Now(), plans)
	t.Logf("planted %d meetings in %v", meetings, time.Since(began))
	began = time.Now()

	// Each process's first DM waits until the other has sent one, so both
	// surely take part however the goroutines are scheduled: the waiting
	// one holds only its own 16 jobs at most, and the other claims the
	// rest of the first step's 167.
	first := map[string]chan struct{}{a.name: make(chan struct{}), b.name: make(chan struct{})}
	other := map[string]string{a.name: b.name, b.name: a.name}
	for _, p := range []*proc{a, b} {
		var once sync.Once
		p.poster.hook = func(string, string) {
			once.Do(func() {
				close(first[p.name])
				select {
				case <-first[other[p.name]]:
				case <-time.After(time.Minute): // a hang guard, not a bound on speed
					t.Errorf("%s sent no DM while %s waited for it", other[p.name], p.name)
				}
			})
		}
	}

	ctx := context.Background()
	clock.Advance(scaleT0.Add(step).Sub(clock.Now()))
	for clock.Now().Before(scaleT0.Add(time.Minute + step)) {
		var wg sync.WaitGroup
		for _, p := range []*proc{a, b} {
			wg.Go(func() {
				if _, err := p.runner.RunDue(ctx); err != nil {
					t.Errorf("%s: %v", p.name, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		clock.Advance(step)
	}

	ran := time.Since(began)
	due := map[string]plan{}
	for _, pl := range plans {
		due[pl.id] = pl
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	got := map[string]map[string]int{} // meeting → user → DMs
	perProc := map[string]int{}
	var twice, early, late []string
	for k, sent := range log.sent {
		pl, ok := due[k.meeting]
		if !ok {
			t.Errorf("a DM about a meeting never planted: %+v", k)
			continue
		}
		if got[k.meeting] == nil {
			got[k.meeting] = map[string]int{}
		}
		got[k.meeting][k.user] += len(sent)
		if len(sent) > 1 {
			twice = append(twice, fmt.Sprintf("%s to %s: %v", k.meeting, k.user, sent))
		}
		if !strings.Contains(k.occurrence, "Overleg "+pl.id) {
			t.Errorf("the DM to %s about %s names another meeting: %q", k.user, pl.id, k.occurrence)
		}
		for _, s := range sent {
			perProc[s.proc]++
			switch lateness := s.at.Sub(pl.due); {
			case lateness < 0:
				early = append(early, fmt.Sprintf("%s to %s %v early", k.meeting, k.user, -lateness))
			case lateness > step:
				late = append(late, fmt.Sprintf("%s to %s %v late", k.meeting, k.user, lateness))
			}
		}
	}
	var missing []string
	want := 0
	for _, pl := range plans {
		for _, u := range pl.yes {
			want++
			if got[pl.id][u] == 0 {
				missing = append(missing, pl.id+" to "+u)
			}
		}
	}
	for what, list := range map[string][]string{"never sent": missing, "sent twice": twice, "sent early": early, "sent late": late} {
		if len(list) > 0 {
			slices.Sort(list)
			t.Errorf("%d reminders %s, such as %v", len(list), what, list[:min(5, len(list))])
		}
	}
	if perProc[a.name]+perProc[b.name] != want || perProc[a.name] == 0 || perProc[b.name] == 0 {
		t.Errorf("DMs per process: %v, want %d in all from both", perProc, want)
	}
	t.Logf("%d meetings, %d reminder DMs in %v: %v", meetings, want, ran, perProc)

	// Every meeting's job now waits for its meeting to end, an hour on.
	if left, err := a.jobs.Claim(ctx, clock.Now(), "check", time.Minute, 10); err != nil || len(left) != 0 {
		t.Errorf("jobs still due after the minute: %v, %v", left, err)
	}
}

// killed stands for a process killed (kill -9) at some point in a job:
// kill is called there; it closes the process's Redis client, so nothing
// it would still do reaches the store, and blocks that goroutine until
// the test is done with the other process, as a dead process never goes
// on. Anything the process tries after it is noted in after.
type killed struct {
	proc    *proc
	dead    chan struct{} // closed when the process died
	release chan struct{} // closed at the end of the test
	once    sync.Once
	mu      sync.Mutex
	after   []string
}

func newKilled() *killed {
	return &killed{dead: make(chan struct{}), release: make(chan struct{})}
}

func (k *killed) kill() {
	k.once.Do(func() {
		k.proc.store.Close()
		close(k.dead)
	})
	<-k.release
}

func (k *killed) isDead() bool {
	select {
	case <-k.dead:
		return true
	default:
		return false
	}
}

func (k *killed) note(what string) {
	k.mu.Lock()
	k.after = append(k.after, what)
	k.mu.Unlock()
}

// onceKiller is a job store that kills its process right after the
// Once that records the reminder to user, before the DM.
type onceKiller struct {
	schedule.Store
	user string
	k    *killed
}

var errKilled = errors.New("the process was killed")

func (s onceKiller) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := s.Store.Once(ctx, key, ttl)
	if strings.HasSuffix(key, ":"+s.user) && first && err == nil {
		s.k.kill()
		return false, errKilled // the dead process goes no further
	}
	return first, err
}

// TestReminderRunnerKilled: a process that dies in the middle of a
// reminder job leaves its lease to run out; the job is not taken while
// the lease holds, then the other process claims it and finishes it.
//
// Killed between a DM and its Done (after the DM to the chosen person,
// who is the first, a middle or the last of five): nobody gets a DM
// twice and everyone gets theirs, from one process or the other.
//
// Killed between the Once that records a DM and the DM itself: that
// person gets no reminder at all. This is the window remind.go documents
// (a reminder lost rather than sent twice); the test holds it to that so
// a change is noticed.
func TestReminderRunnerKilled(t *testing.T) {
	yes := []string{"U1", "U2", "U3", "U4", "U5"}
	for _, c := range []struct {
		name  string
		at    string // where the process dies: "dm" or "once"
		chose int    // the person, by index in yes
	}{
		{"after the DM to the first", "dm", 0},
		{"after the DM to a middle one", "dm", 2},
		{"after the DM to the last", "dm", 4},
		{"after the Once of the first, before its DM", "once", 0},
		{"after the Once of a middle one, before its DM", "once", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			open := scaleRedis(t)
			clock := bottest.NewClock(scaleT0.Add(-2 * time.Hour))
			log := newDMLog(clock)
			chosen := yes[c.chose]
			k := newKilled()
			var wrap func(schedule.Store) schedule.Store
			if c.at == "once" {
				wrap = func(s schedule.Store) schedule.Store { return onceKiller{Store: s, user: chosen, k: k} }
			}
			a := newProc(t, "kringA", open, clock, log, wrap)
			k.proc = a
			a.poster.hook = func(user, _ string) {
				switch {
				case k.isDead():
					k.note("DM to " + user)
				case c.at == "dm" && user == chosen:
					k.kill()
				}
			}
			b := newProc(t, "kringB", open, clock, log, nil)
			checkReminderJob(t, a, clock)
			pl := plan{id: "k1", where: bot.Where{Platform: bot.Shell, Team: "t", Channel: "kern"}, due: scaleT0, yes: yes}
			plant(t, a, clock.Now(), []plan{pl})

			ctx := context.Background()
			clock.Advance(scaleT0.Sub(clock.Now()))
			aDone := make(chan error, 1)
			go func() {
				_, err := a.runner.RunDue(ctx)
				aDone <- err
			}()
			released := false
			t.Cleanup(func() {
				if !released {
					close(k.release)
					<-aDone
				}
			})
			bottest.Receive(t, k.dead, "the process's death")

			// While A's lease holds, B leaves the job alone.
			if n, err := b.runner.RunDue(ctx); n != 0 || err != nil {
				t.Fatalf("B ran %d jobs while A's lease held (%v)", n, err)
			}
			if got := log.byUser(pl.id); len(got) != c.chose+btoi(c.at == "dm") {
				t.Fatalf("DMs before the lease ran out: %v", got)
			}
			// A's lease (a minute) runs out; B takes the job over.
			clock.Advance(time.Minute + time.Second)
			if n, err := b.runner.RunDue(ctx); n != 1 || err != nil {
				t.Fatalf("B ran %d jobs after A's lease ran out (%v), want 1", n, err)
			}
			// The dead process does nothing more once it is let go: its
			// store is gone, so its job fails and is not marked done.
			close(k.release)
			released = true
			<-aDone // with an error: its store is closed
			if len(k.after) > 0 {
				t.Errorf("the killed process went on: %v", k.after)
			}

			got := log.byUser(pl.id)
			for i, u := range yes {
				var want []string
				switch {
				case u == chosen && c.at == "once":
					// Lost: A recorded it and died before sending; B
					// finds the record and leaves it. The documented window.
				case i <= c.chose:
					want = []string{a.name} // before the death, from A
				default:
					want = []string{b.name} // after it, from B
				}
				var from []string
				for _, s := range got[u] {
					from = append(from, s.proc)
				}
				if !slices.Equal(from, want) {
					t.Errorf("%s got reminders from %v, want from %v", u, from, want)
				}
			}
			// B finished the job: the meeting's job waits for its end.
			if left, err := b.jobs.Claim(ctx, clock.Now(), "check", time.Minute, 10); err != nil || len(left) != 0 {
				t.Errorf("jobs still due after B took over: %v, %v", left, err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
