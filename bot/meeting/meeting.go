// Package meeting is kring's /meeting: one-off and recurring meetings in a
// channel, with RSVP buttons, an agenda, reminder DMs before each
// occurrence and the channel's meetings as a calendar feed.
package meeting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/kringbot/kring/bot"
)

// Limits of a meeting.
const (
	MaxTitleLen  = 200
	MaxPlaceLen  = 200
	MaxLinkLen   = 500
	MaxPointLen  = 300
	MaxPoints    = 30
	MaxReminders = 5
)

// Answer is what someone said they will do.
type Answer string

// The answers of the RSVP buttons.
const (
	Yes   Answer = "yes"
	Maybe Answer = "maybe"
	No    Answer = "no"
)

// Valid reports whether a is one of the three answers.
func (a Answer) Valid() bool { return a == Yes || a == Maybe || a == No }

// Meeting is a one-off or recurring meeting of a channel.
type Meeting struct {
	ID        string    `json:"id"`
	Where     bot.Where `json:"where"`
	Ref       bot.Ref   `json:"ref"` // the posted message; zero until posted
	Organiser bot.User  `json:"organiser"`
	Title     string    `json:"title"`
	// Zone is the IANA time zone the meeting's wall times are kept in: a
	// 10:00 meeting stays at 10:00 there across daylight-saving changes.
	Zone string `json:"zone"`
	// Start is the first occurrence. RRule ("" for a one-off) is an RFC
	// 5545 RRULE without DTSTART that repeats it, in Zone.
	Start time.Time `json:"start"`
	RRule string    `json:"rrule,omitempty"`
	// Asked is the wall time ("02:30") the organiser asked for when the
	// first occurrence fell in the hour the clocks skip and Start was
	// moved forward (when.Plan.Asked): later occurrences keep the time
	// asked for. "" otherwise.
	Asked    string        `json:"asked,omitempty"`
	Duration time.Duration `json:"duration"`
	Place    string        `json:"place,omitempty"`
	Link     string        `json:"link,omitempty"`
	// Remind lists how long before each occurrence the reminder DMs go
	// out, longest first.
	Remind []time.Duration `json:"remind,omitempty"`
	// Everyone sends reminders to every channel member who did not say
	// No, not only to those who said Yes or Maybe.
	Everyone bool `json:"everyone,omitempty"`
	// InChannel posts each reminder in the channel too.
	InChannel bool    `json:"in_channel,omitempty"`
	Agenda    []Point `json:"agenda,omitempty"`
	// Points counts the agenda points ever added, removed ones too: the
	// next point's ID is Points+1, so an ID is never reused.
	Points int `json:"points,omitempty"`
	// Cancelled holds the original starts of cancelled occurrences.
	Cancelled []time.Time `json:"cancelled,omitempty"`
	// Moves holds occurrences moved to another time, by original start.
	Moves []Move `json:"moves,omitempty"`
	// Ended is set when the whole series (or the one-off) is cancelled.
	Ended   bool      `json:"ended,omitempty"`
	EndedAt time.Time `json:"ended_at,omitzero"`
	// Sequence is raised on every change a calendar must see (a move, a
	// cancellation, a new place), for the .ics SEQUENCE.
	Sequence int       `json:"sequence"`
	Created  time.Time `json:"created"`
	Changed  time.Time `json:"changed"`
}

// Point is one item on a meeting's agenda.
type Point struct {
	ID     int       `json:"id"` // 1, 2, … in the order added; never reused
	Text   string    `json:"text"`
	By     string    `json:"by"` // user id of who added it
	ByName string    `json:"by_name,omitempty"`
	Added  time.Time `json:"added"`
}

// Move is one occurrence moved: From is its original start, To the new one.
type Move struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// RSVP is one person's answer to a meeting (the whole series).
type RSVP struct {
	User   string    `json:"user"`
	Name   string    `json:"name,omitempty"`
	Answer Answer    `json:"answer"`
	At     time.Time `json:"at"`
}

// Click is a click on an RSVP button, all a Store needs to apply it.
type Click struct {
	Meeting string
	// Channel is where the click came from: a meeting kept in another
	// channel is ErrNotFound, unless Invited.
	Channel bot.Where
	// Invited is set when the click came from a reminder DM kring sent to
	// this very user (the feature checks the button's value against the
	// clicking user): such a click counts as one on the post.
	Invited  bool
	User     string
	Name     string
	Answer   Answer
	At       time.Time
	Delivery string  // "" or the delivery's key: a repeat changes nothing (bot.ErrRepeated)
	Ref      bot.Ref // the message clicked: recorded as the meeting's if it has none yet
}

// Feed is a calendar feed: a channel's meetings, or (User set) the
// meetings one user said Yes or Maybe to, in every channel of the
// platform. Token is the secret in its URL.
type Feed struct {
	Token string    `json:"token"`
	Where bot.Where `json:"where"` // the channel; for a personal feed only Platform and Team
	User  string    `json:"user,omitempty"`
}

// Errors the store returns; the handlers turn them into replies.
var (
	ErrNotFound = errors.New("meeting not found")
	ErrExists   = errors.New("meeting id already taken")
	ErrEnded    = errors.New("meeting has ended")
)

// Store keeps meetings, their RSVPs and the calendar feeds' tokens.
type Store interface {
	// Create stores a new meeting (ErrExists when its ID is taken) and
	// indexes it under its channel for List.
	Create(ctx context.Context, m *Meeting) error
	// Get returns a meeting, or ErrNotFound.
	Get(ctx context.Context, id string) (*Meeting, error)
	// Update applies change to the meeting atomically: change sees the
	// stored meeting and edits it in place; when it returns an error
	// nothing is stored and Update returns that error. Two concurrent
	// Updates never lose each other's change (change may be called more
	// than once). It returns the meeting as stored. ErrNotFound.
	Update(ctx context.Context, id string, change func(*Meeting) error) (*Meeting, error)
	// Delete removes the meeting, its RSVPs and its index entries;
	// ErrNotFound when there is none.
	Delete(ctx context.Context, id string) error
	// List returns the meetings of a channel, in order of creation.
	List(ctx context.Context, where bot.Where) ([]*Meeting, error)
	// Click applies an RSVP click in one atomic step: it checks the
	// channel (unless c.Invited), records c.Delivery (bot.ErrRepeated
	// when seen before), refuses an ended meeting (ErrEnded), stores the
	// user's answer (replacing an earlier one) and keeps the user's index
	// for Attending in step. It returns the meeting. ErrNotFound.
	Click(ctx context.Context, c Click) (*Meeting, error)
	// RSVPs returns every answer to the meeting, in no particular order.
	RSVPs(ctx context.Context, id string) ([]RSVP, error)
	// Attending returns the meetings on platform that user answered Yes or
	// Maybe to, in any channel.
	Attending(ctx context.Context, platform, user string) ([]*Meeting, error)
	// FeedToken returns the token of the feed f names (f.Token unset),
	// making one up the first time; with rotate it replaces the token, and
	// the old one then finds nothing.
	FeedToken(ctx context.Context, f Feed, rotate bool) (string, error)
	// FeedByToken returns the feed of a token, or ErrNotFound.
	FeedByToken(ctx context.Context, token string) (Feed, error)
}

// NewFeedToken makes the secret in a feed's address: 32 random bytes, long
// enough that nobody guesses it, in hex: letters and digits only, so that
// no platform's markup reads part of the address as formatting (a '_' as
// italics) and cuts it when it is shown or copied.
func NewFeedToken() string {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}
