// Package bottest has fakes for feature tests: a clock that moves only when
// told, and a Poster that records what features post.
package bottest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
)

// Clock is a fake bot.Clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Call is one recorded Poster call.
type Call struct {
	Method    string // "Post", "Update", "Ephemeral", "DM", "OpenForm", "Upload"
	Where     bot.Where
	Ref       bot.Ref // Update: the message updated; Post and DM: the new message
	User      string  // Ephemeral and DM
	TriggerID string
	Message   bot.Message
	Form      bot.Form
	File      bot.File
}

// Poster records every call and keeps the latest state of every message.
type Poster struct {
	mu       sync.Mutex
	calls    []Call
	messages map[bot.Ref]bot.Message
	n        int
	// Err, when set, is returned by every call.
	Err error
}

var _ bot.Poster = (*Poster)(nil)

// NewPoster returns an empty recording Poster.
func NewPoster() *Poster { return &Poster{messages: map[bot.Ref]bot.Message{}} }

func (p *Poster) record(c Call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	p.calls = append(p.calls, c)
	return nil
}

func (p *Poster) newRef(where bot.Where) bot.Ref {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return bot.Ref{Where: where, ID: fmt.Sprintf("m%d", p.n)}
}

// Post implements bot.Poster.
func (p *Poster) Post(_ context.Context, where bot.Where, m bot.Message) (bot.Ref, error) {
	ref := p.newRef(where)
	if err := p.record(Call{Method: "Post", Where: where, Ref: ref, Message: m}); err != nil {
		return bot.Ref{}, err
	}
	p.mu.Lock()
	p.messages[ref] = m
	p.mu.Unlock()
	return ref, nil
}

// Update implements bot.Poster.
func (p *Poster) Update(_ context.Context, ref bot.Ref, m bot.Message) error {
	if err := p.record(Call{Method: "Update", Where: ref.Where, Ref: ref, Message: m}); err != nil {
		return err
	}
	p.mu.Lock()
	p.messages[ref] = m
	p.mu.Unlock()
	return nil
}

// Ephemeral implements bot.Poster.
func (p *Poster) Ephemeral(_ context.Context, where bot.Where, user string, m bot.Message) error {
	return p.record(Call{Method: "Ephemeral", Where: where, User: user, Message: m})
}

// DM implements bot.Poster.
func (p *Poster) DM(_ context.Context, where bot.Where, user string, m bot.Message) (bot.Ref, error) {
	ref := p.newRef(bot.Where{Platform: where.Platform, Team: where.Team, Channel: "dm-" + user})
	return ref, p.record(Call{Method: "DM", Where: where, Ref: ref, User: user, Message: m})
}

// OpenForm implements bot.Poster.
func (p *Poster) OpenForm(_ context.Context, where bot.Where, trigger string, f bot.Form) error {
	return p.record(Call{Method: "OpenForm", Where: where, TriggerID: trigger, Form: f})
}

// Upload implements bot.Poster.
func (p *Poster) Upload(_ context.Context, where bot.Where, f bot.File) error {
	return p.record(Call{Method: "Upload", Where: where, File: f})
}

// Calls returns the calls so far.
func (p *Poster) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Message returns the latest state of a posted message.
func (p *Poster) Message(ref bot.Ref) (bot.Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.messages[ref]
	return m, ok
}
