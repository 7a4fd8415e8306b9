// Package poll is kring's /poll: polls with buttons, anonymous or not, with
// several votes per person, options added by others, results hidden until
// the poll closes, a closing time, and CSV export; and ranked polls
// (Borda count or instant runoff) and dot votes, voted through a form.
package poll

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kringbot/kring/bot"
)

// Limits of a poll.
const (
	MinOptions     = 2
	MaxOptions     = 20
	MaxQuestionLen = 300
	MaxOptionLen   = 150
)

// Poll is a question with options that people vote on.
type Poll struct {
	ID        string    `json:"id"`
	Where     bot.Where `json:"where"`
	Ref       bot.Ref   `json:"ref"` // the posted message; zero until posted
	Creator   bot.User  `json:"creator"`
	Question  string    `json:"question"`
	Options   []Option  `json:"options"`
	Anonymous bool      `json:"anonymous,omitempty"`
	Hidden    bool      `json:"hidden,omitempty"`    // results hidden until closed
	AllowAdd  bool      `json:"allow_add,omitempty"` // anyone may add options
	MaxVotes  int       `json:"max_votes"`           // votes per person, at least 1
	Closes    time.Time `json:"closes,omitzero"`     // zero: open until closed by hand
	Closed    bool      `json:"closed,omitempty"`
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	Created   time.Time `json:"created"`
	// Remind are how long before Closes the channel's members who have
	// not voted get a direct message (--herinner=1d,1u), longest first.
	Remind []time.Duration `json:"remind,omitempty"`
	// Kind is "" for a poll voted on with buttons, KindRank for one whose
	// voters put the options in order, KindPoints for a dot vote.
	Kind string `json:"kind,omitempty"`
	// Method counts a ranked poll: "" by Borda count, MethodIRV by
	// instant runoff.
	Method string `json:"method,omitempty"`
	// Points is what each voter spreads in a dot vote.
	Points int `json:"points,omitempty"`
}

// Option is one answer a voter can choose.
type Option struct {
	Label   string `json:"label"`
	AddedBy string `json:"added_by,omitempty"` // user id; "" for the creator's own
}

// Ballot is one voter's choices in one poll.
type Ballot struct {
	// Voter is the user id, or in an anonymous poll a keyed hash of it, so
	// the store never holds who voted what.
	Voter string `json:"voter"`
	// Name is the voter's display name; "" in an anonymous poll.
	Name string `json:"name,omitempty"`
	// Options are the chosen option indexes, in the order chosen; in a
	// ranked poll, the voter's order, first choice first.
	Options []int `json:"options"`
	// Points are, in a ranked or dot-vote poll, what each of Options adds
	// to its count: its Borda points (BordaPoints), or the points given.
	// Nil in a poll voted on with buttons, where each option counts 1.
	Points []int `json:"points,omitempty"`
}

// Cast is a whole ballot of a ranked or dot-vote poll, handed in through a
// form: all a Store needs to replace the voter's ballot with it.
type Cast struct {
	Poll    string    // the poll's id
	Channel bot.Where // where the form came from; a poll kept elsewhere is ErrNotFound
	Voter   string    // the user id: a named poll stores the ballot under it
	AnonKey string    // what stands for the voter in an anonymous poll
	Name    string    // the voter's name; a named poll keeps it
	// Options and Points are the new ballot (Ballot.Options and .Points,
	// as long as each other); no options takes the ballot back.
	Options []int
	Points  []int
}

// Click is a click on a vote button, all a Store needs to apply it.
type Click struct {
	Poll     string    // the poll's id
	Channel  bot.Where // where the click came from; a poll kept elsewhere is ErrNotFound
	Voter    string    // the user id: a named poll stores the ballot under it
	AnonKey  string    // what stands for the voter in an anonymous poll
	Name     string    // the voter's name as the click carried it; a named poll keeps it
	Option   int
	Delivery string  // "" or the delivery's key: a repeat changes nothing
	Ref      bot.Ref // the message clicked: recorded if the poll has none yet
}

// Clicked is what a click did.
type Clicked struct {
	Ballot Ballot // the voter's ballot after the click
	// Poll is the poll without its ballots, but only when the message does
	// not show the voter's choice (an anonymous or hidden poll): the click
	// is then answered with their own vote, which needs the labels.
	Poll *Poll
	// MaxVotes is the votes each person has, set with ErrVoteLimit so the
	// refusal can say how many.
	MaxVotes int
}

// NamesKept is how many voters of each option a Tally names: the first
// ones, in the order they voted. The message shows them and counts the
// rest.
const NamesKept = 10

// ClickDeliveryTTL is how long a store remembers a click's delivery:
// longer than Slack's five-minute signature window and its retries.
const ClickDeliveryTTL = 10 * time.Minute

// Errors the store returns; the handlers turn them into replies.
var (
	ErrNotFound      = errors.New("poll not found")
	ErrExists        = errors.New("poll id already taken")
	ErrClosed        = errors.New("poll is closed")
	ErrNoSuchOption  = errors.New("no such option")
	ErrVoteLimit     = errors.New("vote limit reached")
	ErrTooManyOption = errors.New("poll has the most options it may have")
	ErrDuplicate     = errors.New("option exists already")
	ErrWrongKind     = errors.New("poll is not voted on this way")
)

// Toggle is the voting rule: given a voter's current choices, it returns
// their choices after they click option. Clicking a chosen option takes
// that vote back. Otherwise the option is added while the voter has votes
// left; with one vote per person the click moves the vote; with several and
// none left it is refused with ErrVoteLimit. Every Store applies this rule
// atomically (storage/redis mirrors it in Lua; storagetest checks both).
func (p *Poll) Toggle(current []int, option int) ([]int, error) {
	if p.Closed {
		return current, ErrClosed
	}
	if p.Kind != "" {
		return current, ErrWrongKind
	}
	if option < 0 || option >= len(p.Options) {
		return current, ErrNoSuchOption
	}
	if i := slices.Index(current, option); i >= 0 {
		return slices.Delete(slices.Clone(current), i, i+1), nil
	}
	max := max(p.MaxVotes, 1)
	if len(current) < max {
		return append(slices.Clone(current), option), nil
	}
	if max == 1 {
		return []int{option}, nil
	}
	return current, ErrVoteLimit
}

// CheckCast checks a ballot for p as a Store does: a Store refuses what it
// refuses, with the same errors.
func (p *Poll) CheckCast(c Cast) error {
	if p.Closed {
		return ErrClosed
	}
	if p.Kind == "" {
		return ErrWrongKind
	}
	for _, o := range c.Options {
		if o < 0 || o >= len(p.Options) {
			return ErrNoSuchOption
		}
	}
	return nil
}

// Store keeps polls and their ballots.
type Store interface {
	// Create stores a new poll; ErrExists when its ID is taken. It also
	// indexes the poll under its channel for List.
	Create(ctx context.Context, p *Poll) error
	// Get returns a poll and its ballots (in no particular order), or
	// ErrNotFound.
	Get(ctx context.Context, id string) (*Poll, []Ballot, error)
	// Poll returns a poll without its ballots, or ErrNotFound: what a click
	// needs to know before it votes, without reading every ballot.
	Poll(ctx context.Context, id string) (*Poll, error)
	// Click applies a click on a vote button in one atomic step, which is
	// the whole of a click's work in the store: it checks that the poll is
	// in the click's channel (else ErrNotFound), records c.Delivery (a
	// delivery seen before changes nothing: bot.ErrRepeated), applies
	// Poll.Toggle to the voter's ballot (stored under c.AnonKey in an
	// anonymous poll, else under c.Voter with c.Name) and keeps the poll's
	// Tally in step. It returns the ballot after the click (Options empty
	// when the last vote was taken back: the ballot is then removed).
	// Errors: ErrNotFound, ErrClosed, ErrNoSuchOption, ErrVoteLimit,
	// bot.ErrRepeated.
	Click(ctx context.Context, c Click) (Clicked, error)
	// SetBallot replaces a voter's ballot in a ranked or dot-vote poll in
	// one atomic step: it checks that the poll is in c's channel (else
	// ErrNotFound), open (ErrClosed), of such a kind (ErrWrongKind), and
	// that every option exists (ErrNoSuchOption); stores the ballot under
	// c.AnonKey in an anonymous poll, else under c.Voter with c.Name; and
	// keeps the Tally in step, each option counting its Points. No options
	// removes the ballot. Whether the ballot itself is sound (no option
	// twice, the right total) the poll package checks before (CheckCast).
	SetBallot(ctx context.Context, c Cast) (Clicked, error)
	// Tally returns a poll without its ballots and its tally, with the
	// first NamesKept voters of each option named. Its cost does not grow
	// with the number of voters. ErrNotFound.
	Tally(ctx context.Context, id string) (*Poll, Tally, error)
	// AddOption appends an option atomically and returns its index.
	// Errors: ErrNotFound, ErrClosed, ErrTooManyOption (at MaxOptions),
	// ErrDuplicate (a label equal to an existing one, ignoring case and
	// surrounding space).
	AddOption(ctx context.Context, id string, o Option) (int, error)
	// SetRef records where the poll's message was posted.
	SetRef(ctx context.Context, id string, ref bot.Ref) error
	// SetClosed closes (closed true, at the time given) or reopens a poll.
	// Votes are kept either way. ErrNotFound.
	SetClosed(ctx context.Context, id string, closed bool, at time.Time) error
	// Delete removes the poll, its ballots and its index entry. Deleting a
	// poll that does not exist returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// List returns the polls of a channel, newest first, without ballots.
	List(ctx context.Context, where bot.Where) ([]*Poll, error)
}
