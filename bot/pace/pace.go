// Package pace keeps kring within chat platforms' rate limits, once for
// every adapter: posts to one channel are spaced out, updates of one busy
// message are coalesced so the latest state wins and at most one update per
// interval goes out, and a platform's "retry after" is obeyed.
package pace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
)

// Poster wraps a bot.Poster. Post and DM wait for their conversation's next
// slot; Update returns at once and sends the message's latest state from a
// background worker. Close sends what is pending and stops the workers.
type Poster struct {
	next     bot.Poster
	every    time.Duration
	log      *slog.Logger
	retries  int
	ctx      context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	slots    map[string]time.Time // conversation → earliest time of its next post
	updates  map[string]*pending  // message → its latest unsent state
	closing  chan struct{}
	isClosed bool
}

type pending struct {
	ref     bot.Ref
	msg     bot.Message
	has     bool // msg is newer than what was sent
	running bool // a worker owns this message
	last    time.Time
}

var _ bot.Poster = (*Poster)(nil)

// New wraps next so that each conversation gets at most one post, and each
// message at most one update, per every (Slack: one second).
func New(next bot.Poster, every time.Duration, log *slog.Logger) *Poster {
	if log == nil {
		log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Poster{
		next: next, every: every, log: log, retries: 3,
		ctx: ctx, stop: stop,
		slots:   map[string]time.Time{},
		updates: map[string]*pending{},
		closing: make(chan struct{}),
	}
}

// Post implements bot.Poster, waiting for the channel's next slot.
func (p *Poster) Post(ctx context.Context, where bot.Where, m bot.Message) (bot.Ref, error) {
	if err := p.wait(ctx, where.Key()); err != nil {
		return bot.Ref{}, err
	}
	var ref bot.Ref
	err := p.retry(ctx, func() error {
		var err error
		ref, err = p.next.Post(ctx, where, m)
		return err
	})
	return ref, err
}

// DM implements bot.Poster, waiting for the user's next slot.
func (p *Poster) DM(ctx context.Context, where bot.Where, userID string, m bot.Message) (bot.Ref, error) {
	if err := p.wait(ctx, where.Platform+":dm:"+userID); err != nil {
		return bot.Ref{}, err
	}
	var ref bot.Ref
	err := p.retry(ctx, func() error {
		var err error
		ref, err = p.next.DM(ctx, where, userID, m)
		return err
	})
	return ref, err
}

// Ephemeral implements bot.Poster.
func (p *Poster) Ephemeral(ctx context.Context, where bot.Where, userID string, m bot.Message) error {
	return p.retry(ctx, func() error { return p.next.Ephemeral(ctx, where, userID, m) })
}

// OpenForm implements bot.Poster. Forms are never delayed: a trigger id
// expires within seconds.
func (p *Poster) OpenForm(ctx context.Context, where bot.Where, triggerID string, f bot.Form) error {
	return p.next.OpenForm(ctx, where, triggerID, f)
}

// Upload implements bot.Poster.
func (p *Poster) Upload(ctx context.Context, where bot.Where, f bot.File) error {
	if err := p.wait(ctx, where.Key()); err != nil {
		return err
	}
	return p.retry(ctx, func() error { return p.next.Upload(ctx, where, f) })
}

var _ bot.Namer = (*Poster)(nil)

// Names implements bot.Namer by asking the wrapped Poster, when it can
// name users; else it names nobody. Names are no post, so they are not
// paced.
func (p *Poster) Names(ctx context.Context, where bot.Where, ids []string) map[string]string {
	if n, ok := p.next.(bot.Namer); ok {
		return n.Names(ctx, where, ids)
	}
	return nil
}

var _ bot.Directory = (*Poster)(nil)

// Users implements bot.Directory by asking the wrapped Poster, when it
// can tell; else it tells nothing. Like names, profiles are not paced.
func (p *Poster) Users(ctx context.Context, where bot.Where, ids []string) map[string]bot.User {
	return bot.UserProfiles(ctx, p.next, where, ids)
}

// Update implements bot.Poster. It records m as the message's latest state
// and returns; a worker sends it as soon as the message's interval allows.
// Errors are logged: the user's click has long been answered by then.
func (p *Poster) Update(_ context.Context, ref bot.Ref, m bot.Message) error {
	key := ref.Key() + ":" + ref.ID
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isClosed {
		return errors.New("pace: poster closed")
	}
	u := p.updates[key]
	if u == nil {
		u = &pending{ref: ref}
		p.updates[key] = u
	}
	u.msg, u.has = m, true
	if !u.running {
		u.running = true
		p.wg.Add(1)
		go p.flush(key, u)
	}
	return nil
}

// flush sends u's latest state, then waits out the interval and sends again
// while newer states arrived. It keeps the message for one interval after
// its last send, so a new worker never sends sooner than that.
func (p *Poster) flush(key string, u *pending) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		wait := time.Until(u.last.Add(p.every))
		p.mu.Unlock()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.closing:
				t.Stop()
			}
		}
		p.mu.Lock()
		if !u.has {
			u.running = false
			delete(p.updates, key)
			p.mu.Unlock()
			return
		}
		msg := u.msg
		u.has = false
		p.mu.Unlock()

		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		err := p.retry(ctx, func() error { return p.next.Update(ctx, u.ref, msg) })
		cancel()
		if err != nil {
			p.log.Error("update message", "channel", u.ref.Channel, "message", u.ref.ID, "err", err)
		}
		p.mu.Lock()
		u.last = time.Now()
		p.mu.Unlock()
	}
}

// wait reserves the conversation's next slot and sleeps until it comes.
func (p *Poster) wait(ctx context.Context, key string) error {
	now := time.Now()
	p.mu.Lock()
	at := p.slots[key]
	if at.Before(now) {
		at = now
	}
	p.slots[key] = at.Add(p.every)
	if len(p.slots) > 10000 {
		for k, t := range p.slots {
			if t.Before(now) {
				delete(p.slots, k)
			}
		}
	}
	p.mu.Unlock()
	return sleep(ctx, time.Until(at))
}

// retry runs f, waiting and trying again while the platform says it is
// rate limited.
func (p *Poster) retry(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		var rl *bot.RateLimited
		if !errors.As(err, &rl) || attempt >= p.retries {
			return err
		}
		p.log.Warn("rate limited; waiting", "after", rl.After)
		if err := sleep(ctx, rl.After); err != nil {
			return err
		}
	}
}

// Close sends every pending update at once and waits for the workers, or
// for ctx to end.
func (p *Poster) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.isClosed {
		p.isClosed = true
		close(p.closing)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		p.stop()
		return nil
	case <-ctx.Done():
		p.stop()
		return ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The platform abilities pass through to the wrapped Poster, or report
// errors.ErrUnsupported (Mention: "") where it lacks one, as bot.Posters
// does. A reply and a delete change a channel as a post does, so they
// wait for the channel's slot; listing members and writing a mention post
// nothing and go at once.
var (
	_ bot.Roster    = (*Poster)(nil)
	_ bot.Mentioner = (*Poster)(nil)
	_ bot.Threader  = (*Poster)(nil)
	_ bot.Deleter   = (*Poster)(nil)
)

// Members implements bot.Roster.
func (p *Poster) Members(ctx context.Context, where bot.Where) ([]string, error) {
	var ids []string
	err := p.retry(ctx, func() error {
		var err error
		ids, err = bot.ChannelMembers(ctx, p.next, where)
		return err
	})
	return ids, err
}

// Mention implements bot.Mentioner.
func (p *Poster) Mention(ctx context.Context, where bot.Where, userID string) string {
	if m, ok := p.next.(bot.Mentioner); ok {
		return m.Mention(ctx, where, userID)
	}
	return ""
}

// Reply implements bot.Threader, waiting for the channel's next slot.
func (p *Poster) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	t, ok := p.next.(bot.Threader)
	if !ok {
		return bot.Ref{}, fmt.Errorf("%s cannot reply in a thread: %w", root.Platform, errors.ErrUnsupported)
	}
	if err := p.wait(ctx, root.Key()); err != nil {
		return bot.Ref{}, err
	}
	var ref bot.Ref
	err := p.retry(ctx, func() error {
		var err error
		ref, err = t.Reply(ctx, root, m)
		return err
	})
	return ref, err
}

// Delete implements bot.Deleter, waiting for the channel's next slot. An
// update of the message still waiting to be sent is dropped: it would
// only fail on a message that is gone.
func (p *Poster) Delete(ctx context.Context, ref bot.Ref) error {
	d, ok := p.next.(bot.Deleter)
	if !ok {
		return fmt.Errorf("%s cannot delete a message: %w", ref.Platform, errors.ErrUnsupported)
	}
	p.mu.Lock()
	if u := p.updates[ref.Key()+":"+ref.ID]; u != nil {
		u.has = false
	}
	p.mu.Unlock()
	if err := p.wait(ctx, ref.Key()); err != nil {
		return err
	}
	return p.retry(ctx, func() error { return d.Delete(ctx, ref) })
}
