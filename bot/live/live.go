// Package live keeps messages that change with clicks up to date: a poll,
// and next a meeting's RSVPs, a consent round, an example's marks. A click
// only writes to the store and says Changed; the message follows off the
// request path, rendered from what the store holds:
//
//   - at most once per Every (a second) per message, the first change of a
//     quiet message at once, the changes of a burst folded into one render
//     that starts after the last of them it can see;
//   - an update whose content equals the last one sent is not sent;
//   - durably: each change also puts a job in the schedule, due Settle
//     after the change, that renders the message once more and sends it
//     even when this process sent the same before. After a crash, a
//     restart, or with several kring processes whose updates reach the
//     platform out of order, that render puts the final state last.
package live

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

// ErrGone is what a Render returns for a message there is nothing to
// render for any more (deleted, or never posted).
var ErrGone = errors.New("live message gone")

// Render renders the live message of one object (a poll id) as the store
// holds it now: where it is posted and what it shows.
type Render func(ctx context.Context, id string) (bot.Ref, bot.Message, error)

// Config is what Messages needs.
type Config struct {
	Poster bot.Poster
	// Jobs keeps the durable render; nil leaves it out (the shell, where
	// nothing outlives the process).
	Jobs schedule.Store
	// Every is the least time between two renders of one message; 0
	// means a second.
	Every time.Duration
	// Settle is how long after a change the durable render is due; 0
	// means three seconds: after the in-process render's update landed.
	Settle time.Duration
	// Inline renders on the caller's goroutine, at once, every change (the
	// shell: one person, and a transcript in order).
	Inline bool
	// Clock dates the durable renders, as the schedule's runner reads
	// them; nil means the system clock.
	Clock bot.Clock
	Log   *slog.Logger
}

// JobKind is the schedule kind of the durable renders.
const JobKind = "live.render"

// renderTimeout bounds one render and its update.
const renderTimeout = 30 * time.Second

// Messages renders live messages. Build it with New, register each kind's
// Render with Handle, stop it with Close.
type Messages struct {
	c       Config
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	renders map[string]Render // by kind; filled before use

	mu      sync.Mutex
	msgs    map[string]*message // by kind:id
	swept   time.Time           // when quiet messages were last forgotten
	stopped bool
	wg      sync.WaitGroup
}

// message is what this process knows of one live message.
type message struct {
	lastRender time.Time
	timer      *time.Timer // a render is scheduled
	running    bool        // a render is under way
	dirty      bool        // changed since the render under way read the store
	lastPut    time.Time   // when this process last put the durable render
	putTimer   *time.Timer // a put is scheduled for the end of this Every
	sent       [32]byte    // the content last sent
}

// New returns Messages.
func New(c Config) *Messages {
	if c.Every <= 0 {
		c.Every = time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 3 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = bot.SystemClock{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Messages{c: c, ctx: ctx, cancel: cancel, renders: map[string]Render{}, msgs: map[string]*message{}}
}

// Handle registers how messages of kind are rendered, and the durable
// render job on runner (nil: none). Call it before the first Changed.
func (m *Messages) Handle(kind string, r Render, runner *schedule.Runner) {
	if strings.Contains(kind, ":") {
		panic("live: a kind has no colon: " + kind)
	}
	m.renders[kind] = r
	if runner != nil && m.c.Jobs != nil {
		runner.Handle(JobKind, m.job)
	}
}

// Changed says the message of object id of kind changed in the store. It
// never waits for the store or the platform.
func (m *Messages) Changed(ctx context.Context, kind, id string) {
	key := kind + ":" + id
	if m.c.Inline {
		m.settle(key)
		if err := m.render(ctx, key); err != nil {
			m.c.Log.Error("render live message", "message", key, "err", err)
		}
		return
	}
	m.settle(key)
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	msg := m.entry(key)
	switch {
	case msg.running:
		msg.dirty = true
	case msg.timer == nil:
		wait := max(msg.lastRender.Add(m.c.Every).Sub(now), 0)
		msg.timer = time.AfterFunc(wait, func() { m.fire(key) })
	}
}

// settle puts the durable render of key, due Settle after this change.
// Inline, it puts it at once. Otherwise it puts at most one per Every: a
// change that comes sooner is covered by a put at the end of that Every,
// so the last change of a burst always has a durable render after it.
func (m *Messages) settle(key string) {
	if m.c.Jobs == nil {
		return
	}
	if m.c.Inline {
		m.putJob(key, m.c.Clock.Now().Add(m.c.Settle))
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	msg := m.entry(key)
	switch {
	case msg.putTimer != nil:
		// a put at the end of this Every covers this change
	case now.Sub(msg.lastPut) >= m.c.Every:
		msg.lastPut = now
		due := m.c.Clock.Now().Add(m.c.Settle)
		m.spawn(func() { m.putJob(key, due) })
	default:
		msg.putTimer = time.AfterFunc(msg.lastPut.Add(m.c.Every).Sub(now), func() {
			m.mu.Lock()
			if m.stopped {
				m.mu.Unlock()
				return
			}
			msg.putTimer, msg.lastPut = nil, time.Now()
			m.wg.Add(1)
			m.mu.Unlock()
			defer m.wg.Done()
			m.putJob(key, m.c.Clock.Now().Add(m.c.Settle))
		})
	}
}

// entry is what m knows of key, made when it knows nothing; m.mu is held.
func (m *Messages) entry(key string) *message {
	msg := m.msgs[key]
	if msg == nil {
		msg = &message{}
		m.msgs[key] = msg
	}
	return msg
}

// spawn runs f owned by m; m.mu is held.
func (m *Messages) spawn(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

func (m *Messages) putJob(key string, due time.Time) {
	ctx, cancel := context.WithTimeout(m.ctx, renderTimeout)
	defer cancel()
	j := schedule.Job{ID: JobKind + ":" + key, Kind: JobKind, Due: due, Payload: []byte(key)}
	if err := m.c.Jobs.Put(ctx, j); err != nil {
		m.c.Log.Error("schedule the settling render of a live message", "message", key, "err", err)
	}
}

// fire is a scheduled render: it renders until no change came in while it
// ran, then leaves the message to the next Changed.
func (m *Messages) fire(key string) {
	m.mu.Lock()
	msg := m.msgs[key]
	if m.stopped || msg == nil {
		m.mu.Unlock()
		return
	}
	msg.timer, msg.running, msg.dirty = nil, true, false
	m.wg.Add(1)
	m.mu.Unlock()
	defer m.wg.Done()

	ctx, cancel := context.WithTimeout(m.ctx, renderTimeout)
	err := m.render(ctx, key)
	cancel()
	if err != nil {
		m.c.Log.Error("render live message; the settling render tries again", "message", key, "err", err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	msg.running = false
	msg.lastRender = time.Now()
	if msg.dirty && !m.stopped {
		msg.dirty = false
		msg.timer = time.AfterFunc(m.c.Every, func() { m.fire(key) })
		return
	}
	m.sweep()
}

// sweep forgets, at most once a minute, the messages that have been quiet
// for a while: what matters of them is in the store. m.mu is held.
func (m *Messages) sweep() {
	now := time.Now()
	if now.Sub(m.swept) < time.Minute {
		return
	}
	m.swept = now
	quiet := 2 * max(m.c.Every, m.c.Settle)
	for key, msg := range m.msgs {
		if msg.timer == nil && msg.putTimer == nil && !msg.running && !msg.dirty &&
			now.Sub(msg.lastRender) > quiet && now.Sub(msg.lastPut) > quiet {
			delete(m.msgs, key)
		}
	}
}

// render reads the message from the store and updates it on the platform,
// unless its content is what this process sent last.
func (m *Messages) render(ctx context.Context, key string) error {
	return m.renderAs(ctx, key, false)
}

// renderAs renders key; force sends even content this process sent last:
// another process's older update may have landed after it.
func (m *Messages) renderAs(ctx context.Context, key string, force bool) error {
	kind, id, _ := strings.Cut(key, ":")
	r := m.renders[kind]
	if r == nil {
		return fmt.Errorf("no renderer for live messages of kind %q", kind)
	}
	ref, msg, err := r(ctx, id)
	if errors.Is(err, ErrGone) || err == nil && ref.IsZero() {
		return nil
	}
	if err != nil {
		return err
	}
	sum, err := digest(ref, msg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	st := m.msgs[key]
	same := !force && st != nil && st.sent == sum
	m.mu.Unlock()
	if same {
		return nil
	}
	if err := m.c.Poster.Update(ctx, ref, msg); err != nil {
		return fmt.Errorf("update %s: %w", key, err)
	}
	m.mu.Lock()
	if st := m.msgs[key]; st != nil {
		st.sent = sum
	}
	m.mu.Unlock()
	return nil
}

func digest(ref bot.Ref, msg bot.Message) ([32]byte, error) {
	b, err := json.Marshal(struct {
		Ref bot.Ref
		Msg bot.Message
	}{ref, msg})
	if err != nil {
		return [32]byte{}, fmt.Errorf("encode live message: %w", err)
	}
	return sha256.Sum256(b), nil
}

// job is the durable render. Its failure leaves the job to be retried.
func (m *Messages) job(ctx context.Context, j schedule.Job) error {
	key := string(j.Payload)
	if err := m.renderAs(ctx, key, true); err != nil {
		return err
	}
	m.mu.Lock()
	m.sweep()
	m.mu.Unlock()
	return nil
}

// Close stops scheduling, renders once more every message with a change
// not yet rendered (so the final state is sent before the Poster closes),
// and waits for renders under way. The durable renders stay in the store
// for the next process.
func (m *Messages) Close() {
	m.mu.Lock()
	m.stopped = true
	var pending []string
	var puts []string
	for key, msg := range m.msgs {
		// A timer that fired but whose function has not yet taken m.mu
		// finds m stopped and does nothing, so what it was for is done
		// here too, whether Stop caught it or not.
		if msg.timer != nil {
			msg.timer.Stop()
		}
		if msg.timer != nil || msg.dirty {
			pending = append(pending, key)
		}
		if msg.putTimer != nil {
			msg.putTimer.Stop()
			puts = append(puts, key)
		}
		msg.timer, msg.putTimer = nil, nil
	}
	m.mu.Unlock()
	m.wg.Wait()
	for _, key := range puts {
		m.putJob(key, m.c.Clock.Now().Add(m.c.Settle))
	}
	for _, key := range pending {
		ctx, cancel := context.WithTimeout(context.Background(), renderTimeout)
		if err := m.render(ctx, key); err != nil {
			m.c.Log.Error("final render of a live message", "message", key, "err", err)
		}
		cancel()
	}
	m.cancel()
}
