//go:build linux

package redis_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage"
	goredis "github.com/redis/go-redis/v9"
)

// rig is the real poll feature on a store storage.Open opened, as kring
// wires it: a Mux, a recording Poster, the job runner on a fake clock.
type rig struct {
	t      *testing.T
	stores *storage.Stores
	mux    *bot.Mux
	poster *bottest.Poster
	clock  *bottest.Clock
	runner *schedule.Runner
	where  bot.Where
	log    *lockedBuffer
}

// newRig opens addr with storage.Open. newID, when not nil, makes the
// poll ids.
func newRig(t *testing.T, addr string, newID func() string) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	stores, err := storage.Open(ctx, addr)
	if err != nil {
		t.Fatalf("storage.Open(%q): %v", addr, err)
	}
	t.Cleanup(func() { stores.Close() })
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{
		t:      t,
		stores: stores,
		poster: bottest.NewPoster(),
		clock:  bottest.NewClock(time.Date(2026, 3, 19, 10, 0, 0, 0, ams)),
		where:  bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C-limburg"},
		log:    &lockedBuffer{},
	}
	log := slog.New(slog.NewTextHandler(r.log, nil))
	// Wired as kring serve wires it (cmd/kring/app.go): deliveries
	// remembered in the store, messages rendered off the request path
	// with a durable render job.
	r.mux = &bot.Mux{Settings: stores.Settings, Log: log, Deliveries: stores.Jobs}
	r.runner = &schedule.Runner{Store: stores.Jobs, Clock: r.clock, Log: log}
	lv := live.New(live.Config{Poster: r.poster, Jobs: stores.Jobs, Clock: r.clock, Log: log})
	p := poll.New(poll.Config{
		Store: stores.Polls, Jobs: stores.Jobs, Poster: r.poster, Clock: r.clock,
		Secret: "failover-test", Location: ams, Log: log, Locale: r.mux.Locale, NewID: newID, Live: lv,
	})
	p.Register(r.mux, r.runner)
	t.Cleanup(func() { p.Close(); lv.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kring logged:\n%s", r.log.tail(60))
		}
	})
	return r
}

// posted is a poll as the channel sees it.
type posted struct {
	id       string
	question string
	ref      bot.Ref
	votes    []bot.Button
}

// create runs /poll and returns the poll it posted.
func (r *rig) create(question, rest string) posted {
	r.t.Helper()
	before := len(r.poster.Calls())
	reply := r.mux.ServeCommand(r.t.Context(), &bot.Request{
		Where: r.where, User: bot.User{ID: "U-anna", Name: "Anna"}, Command: "/poll", Text: strconv.Quote(question) + " " + rest,
	})
	for _, c := range r.poster.Calls()[before:] {
		if c.Method != "Post" {
			continue
		}
		p := posted{question: question, ref: c.Ref}
		for _, b := range c.Message.Buttons() {
			if b.ID == "poll.vote" {
				p.votes = append(p.votes, b)
			}
		}
		if len(p.votes) > 0 {
			p.id, _, _ = strings.Cut(p.votes[0].Value, ":")
			return p
		}
	}
	var said string
	if reply.Message != nil {
		said = reply.Message.Text
	}
	r.t.Fatalf("/poll %s %s posted no poll; it answered %q", question, rest, said)
	return posted{}
}

// click is one voter clicking option i of p, as the platform delivered
// it (delivery names the delivery: the platform's retry of it carries the
// same); it reports whether kring acknowledged it, answering without an
// error. A repeat is acknowledged without effect: its first delivery
// counted.
func (r *rig) click(ctx context.Context, p posted, voter, delivery string, i int) (bool, string) {
	b := p.votes[i%len(p.votes)]
	reply := r.mux.ServeAction(ctx, &bot.Action{
		Where: r.where, User: bot.User{ID: voter, Name: "Lid " + voter}, ID: b.ID, Value: b.Value, Ref: p.ref,
		Delivery: delivery,
	})
	if reply.Message == nil && reply.FieldErrors == nil {
		return true, ""
	}
	if reply.Message != nil {
		return false, reply.Message.Text
	}
	return false, fmt.Sprintf("%+v", reply)
}

// voteMany has n voters named prefix000… click p, together at a time,
// voter i for option i. It returns the voters kring acknowledged, and
// what it answered the others. With retry, a click that failed is
// delivered again, as Slack retries one, until it is acknowledged: the
// delivery is recorded with the vote, so a retry of a click that did
// land changes nothing (a click is a toggle: counted twice it would take
// the vote back).
func (r *rig) voteMany(p posted, prefix string, n, together int, retry bool) (acked []string, refused []string) {
	r.t.Helper()
	ctx := r.t.Context()
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range together {
		wg.Go(func() {
			for i := range next {
				voter := fmt.Sprintf("%s%03d", prefix, i)
				delivery := p.id + ":" + voter
				ok, said := r.click(ctx, p, voter, delivery, i)
				for !ok && retry && ctx.Err() == nil {
					ok, said = r.click(ctx, p, voter, delivery, i)
				}
				mu.Lock()
				if ok {
					acked = append(acked, voter)
				} else {
					refused = append(refused, voter+": "+said)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	slices.Sort(acked)
	return acked, refused
}

// ballots reads who voted on poll id and for what.
func (r *rig) ballots(id string) map[string][]int {
	r.t.Helper()
	_, bs, err := r.stores.Polls.Get(r.t.Context(), id)
	if err != nil {
		r.t.Fatalf("read ballots of %s: %v", id, err)
	}
	out := make(map[string][]int, len(bs))
	for _, b := range bs {
		out[b.Voter] = b.Options
	}
	return out
}

func (r *rig) closed(id string) bool {
	r.t.Helper()
	p, _, err := r.stores.Polls.Get(r.t.Context(), id)
	if err != nil {
		r.t.Fatalf("read poll %s: %v", id, err)
	}
	return p.Closed
}

// runJobs runs the jobs due now.
func (r *rig) runJobs() {
	r.t.Helper()
	if _, err := r.runner.RunDue(r.t.Context()); err != nil {
		r.t.Fatalf("run due jobs: %v", err)
	}
}

// until runs due jobs and moves the fake clock on a second at a time
// until cond holds: the messages follow changes off the request path,
// paced in real time, and their durable render is a job due seconds
// later on the fake clock.
func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	waitFor(r.t, what, func() bool {
		r.runJobs()
		if cond() {
			return true
		}
		r.clock.Advance(time.Second)
		return false
	})
}

// notices are the closing notices posted for p.
func (r *rig) notices(p posted) []string {
	var out []string
	for _, c := range r.poster.Calls() {
		if text := bot.PlainText(c.Message.Text); c.Method == "Post" && strings.Contains(text, p.question) && strings.Contains(text, "gesloten") {
			out = append(out, text)
		}
	}
	return out
}

// message is the text of p's message as the channel shows it now.
func (r *rig) message(p posted) string {
	m, ok := r.poster.Message(p.ref)
	if !ok {
		r.t.Fatalf("no message %v", p.ref)
	}
	var b strings.Builder
	for _, blk := range m.Blocks {
		switch blk := blk.(type) {
		case bot.Header:
			b.WriteString(blk.Text + "\n")
		case bot.Section:
			b.WriteString(blk.Text + "\n")
		case bot.Context:
			b.WriteString(blk.Text + "\n")
		}
	}
	return bot.PlainText(b.String() + m.Text)
}

// closeByJob moves the clock past p's closing time and runs the due jobs:
// p closes, its message ends showing want voters, and one closing notice
// says so.
func (r *rig) closeByJob(p posted, after time.Duration, want int) {
	r.t.Helper()
	r.clock.Advance(after)
	voters := fmt.Sprintf("%d stemmers", want)
	r.until(fmt.Sprintf("poll %q closes and shows %s", p.question, voters), func() bool {
		return r.closed(p.id) && strings.Contains(r.message(p), voters) && strings.Contains(r.message(p), "(gesloten)")
	})
	r.clock.Advance(time.Minute)
	r.runJobs() // nothing runs the closing again
	if n := r.notices(p); len(n) != 1 || !strings.Contains(n[0], voters) {
		r.t.Errorf("closing notices of %q: %q; want one saying %s", p.question, n, voters)
	}
}

// topology is what the failover scenario needs of a Sentinel group or a
// Cluster.
type topology struct {
	addr string
	// master holds the polls' and the jobs' keys; replica is its replica.
	master, replica *node
	// promoted reports whether the replica has taken over, as the
	// topology itself sees it (the sentinels, the cluster's nodes).
	promoted func(context.Context) bool
	// newID makes poll ids; nil for kring's own.
	newID func() string
	// checkKeys, when set, looks at the keys of the polls in the store.
	checkKeys func(t *testing.T, ids []string)
}

// testFailover is the scenario both topologies pass: a poll is voted on
// and closed by its job; a second poll is open with votes and a pending
// closing job; the master stops and its replica takes over; then nothing
// acknowledged before the failover began is lost, and voting and jobs
// work on.
//
// "Acknowledged before the failover began" is meant as Redis can keep it.
// Replication is asynchronous: the master answers a write before its
// replica has it, and a master that dies in between takes the write with
// it. So the scenario marks the moment the failover begins as the moment
// the replica has caught up with everything the master had acknowledged
// (its replication offset reaches the master's). Votes acknowledged
// before that mark must all survive. After it, the master loses its
// replica and acknowledges a few more votes before it stops: the window
// Redis leaves open, which the test logs (those votes are lost) but does
// not promise anything about. Clicks made while the master is stopped
// are promised only an answer: each is acknowledged or refused, and the
// test logs what became of them. Clicks made once kring writes to the new
// master must all count again, and kring's client must get there within
// a few tries of the promotion.
func testFailover(t *testing.T, top topology) {
	quiet := &lockedBuffer{}
	goredis.SetLogger(bufLogger{b: quiet})
	t.Cleanup(func() {
		goredis.SetLogger(bufLogger{stderr: true})
		if t.Failed() {
			t.Logf("go-redis logged:\n%s", quiet.tail(40))
		}
	})
	ctx := t.Context()
	r := newRig(t, top.addr, top.newID)

	// A poll, many voters, closed by its job.
	first := r.create("Kennistafel in april?", "Ja Nee Misschien --sluit=1h")
	acked, refused := r.voteMany(first, "a", 120, 12, false)
	if len(refused) > 0 {
		t.Errorf("%d of 120 clicks refused on a healthy topology: %q", len(refused), refused[:min(5, len(refused))])
	}
	if got := r.ballots(first.id); !slices.Equal(voters(got), acked) {
		t.Fatalf("%d ballots for %d acknowledged votes", len(got), len(acked))
	}
	r.closeByJob(first, time.Hour+time.Minute, len(acked))

	// A second poll stays open across the failover, its closing job due
	// after it.
	second := r.create("Wie komt naar de regiodag?", "Ik Niet --sluit=2h")
	before, refused := r.voteMany(second, "b", 60, 12, false)
	if len(refused) > 0 {
		t.Errorf("%d of 60 clicks refused on a healthy topology: %q", len(refused), refused[:min(5, len(refused))])
	}
	if top.checkKeys != nil {
		top.checkKeys(t, []string{first.id, second.id})
	}

	// The failover begins: the replica has everything acknowledged so
	// far. Then the window asynchronous replication leaves open: the
	// master loses its replica's link and acknowledges a few more votes
	// before it stops, as a hung server does. The test does not promise
	// those votes anything; it says what became of them.
	offset := caughtUp(t, top.master, top.replica)
	// The replica may not sync again (its PSYNC is refused), and its link
	// is cut.
	if err := top.master.c.Do(ctx, "ACL", "SETUSER", "default", "-psync", "-sync").Err(); err != nil {
		t.Fatalf("refuse the replica's resync: %v", err)
	}
	if err := top.master.c.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
		t.Fatalf("cut the replica's link: %v", err)
	}
	unreplicated, _ := r.voteMany(second, "x", 5, 1, false)
	top.master.pause(t)
	stopped := time.Now()

	// Clicks while the master is stopped: each voter clicks once.
	var (
		duringMu        sync.Mutex
		duringAcked     []string
		duringRefused   int
		duringN         int
		stopClicking    = make(chan struct{})
		clickerFinished = make(chan struct{})
	)
	go func() {
		defer close(clickerFinished)
		for i := range maxDuring {
			select {
			case <-stopClicking:
				return
			default:
			}
			voter := fmt.Sprintf("w%03d", i)
			ok, _ := r.click(ctx, second, voter, second.id+":"+voter, i)
			duringMu.Lock()
			duringN++
			if ok {
				duringAcked = append(duringAcked, voter)
			} else {
				duringRefused++
			}
			duringMu.Unlock()
		}
	}()
	waitFor(t, "the replica takes over", func() bool { return top.promoted(ctx) })
	promoted := time.Since(stopped)
	// kring's client follows: a write to the jobs' keys (a claim of
	// nothing: no job is due in 1970) reaches the new master within a few
	// tries. A client that learns the new master only from a periodic
	// refresh fails every try until then (each one waiting out the hung
	// master's timeouts), and so needs many more.
	tries := 0
	waitFor(t, "kring writes to the new master", func() bool {
		tries++
		_, err := r.stores.Jobs.Claim(ctx, time.Unix(0, 0), "probe", time.Second, 1)
		return err == nil
	})
	if tries > maxFollowTries {
		t.Errorf("kring's store wrote to the new master after %d tries (%v) once the replica had taken over; want at most %d",
			tries, time.Since(stopped)-promoted, maxFollowTries)
	}
	followed := time.Since(stopped)
	close(stopClicking)
	<-clickerFinished

	// Clicks after the failover all count.
	after, _ := r.voteMany(second, "c", 60, 12, true)

	// Nothing acknowledged before the failover began is lost; the first
	// poll is as it was, closed.
	if got := r.ballots(first.id); !slices.Equal(voters(got), acked) {
		t.Errorf("after the failover the closed poll has %d ballots, want the %d acknowledged before it", len(got), len(acked))
	}
	if !r.closed(first.id) {
		t.Errorf("the closed poll is open again after the failover")
	}
	got := r.ballots(second.id)
	for _, v := range slices.Concat(before, after) {
		if _, ok := got[v]; !ok {
			t.Errorf("vote of %s, acknowledged before the failover began or after it ended, is lost", v)
		}
	}
	clicked := map[string]bool{}
	for _, v := range slices.Concat(before, after) {
		clicked[v] = true
	}
	lostDuring := 0
	for _, v := range duringAcked {
		clicked[v] = true
		if _, ok := got[v]; !ok {
			lostDuring++
		}
	}
	for v := range got {
		if !clicked[v] && !strings.HasPrefix(v, "w") && !strings.HasPrefix(v, "x") {
			t.Errorf("ballot of %s, who never clicked", v)
		}
	}
	lostUnreplicated := 0
	for _, v := range unreplicated {
		if _, ok := got[v]; !ok {
			lostUnreplicated++
		}
	}
	t.Logf("failover: replica promoted %v after the master stopped (offset %d), kring writing to it after %v (%d tries); "+
		"%d of %d votes the master acknowledged with its replica cut off lost; "+
		"%d clicks meanwhile: %d acknowledged (%d of those lost), %d refused",
		promoted.Round(time.Millisecond), offset, followed.Round(time.Millisecond), tries,
		lostUnreplicated, len(unreplicated),
		duringN, len(duringAcked), lostDuring, duringRefused)

	// Jobs work after the failover: the second poll closes by its job,
	// once, with every ballot the store has.
	r.closeByJob(second, 2*time.Hour, len(got))

	// And a poll made after the failover lives its whole life.
	third := r.create("Evaluatie na de storing?", "Goed Matig --sluit=30m")
	late, refused := r.voteMany(third, "d", 30, 6, false)
	if len(refused) > 0 {
		t.Errorf("%d of 30 clicks refused after the failover: %q", len(refused), refused[:min(5, len(refused))])
	}
	r.closeByJob(third, 31*time.Minute, len(late))
}

// maxDuring bounds the clicks made during a failover: once kring writes
// to the new master, clicks are quick again.
const maxDuring = 300

// maxFollowTries is how many writes may fail after a failover before
// kring's client writes to the new master: the first failure makes the
// client ask again where the master is, and the answer may take a
// moment to reach every node.
const maxFollowTries = 5

func voters(ballots map[string][]int) []string {
	var out []string
	for v := range ballots {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// bufLogger keeps go-redis's log lines (dials that fail while a master is
// stopped are expected) for a failing test; with stderr set it logs as
// go-redis does by default.
type bufLogger struct {
	b      *lockedBuffer
	stderr bool
}

var stdLog = log.New(os.Stderr, "redis: ", log.LstdFlags|log.Lshortfile)

func (l bufLogger) Printf(_ context.Context, format string, v ...any) {
	if l.stderr {
		stdLog.Output(2, fmt.Sprintf(format, v...))
		return
	}
	fmt.Fprintf(l.b, format+"\n", v...)
}
