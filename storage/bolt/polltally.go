package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	bbolt "go.etcd.io/bbolt"
)

// storedTally is a poll's tally as bucketTally holds it, kept by Click in
// the transaction that changes a ballot. A poll stored before tallies
// existed has none; the first click or read builds it from the ballots.
type storedTally struct {
	Voters int        `json:"voters"`
	Counts []int      `json:"counts"`
	Names  [][]string `json:"names"` // per option, its first poll.NamesKept voters
}

// grow makes room for option o.
func (t *storedTally) grow(o int) {
	for len(t.Counts) <= o {
		t.Counts = append(t.Counts, 0)
		t.Names = append(t.Names, nil)
	}
}

// getTally reads poll id's tally, building it from votes when it has none.
func getTally(tx *bbolt.Tx, id string, votes *bbolt.Bucket) (*storedTally, error) {
	t := new(storedTally)
	if v := tx.Bucket(bucketTally).Get([]byte(id)); v != nil {
		if err := json.Unmarshal(v, t); err != nil {
			return nil, fmt.Errorf("decode tally: %w", err)
		}
		return t, nil
	}
	if votes == nil {
		return t, nil
	}
	err := votes.ForEach(func(k, v []byte) error {
		var b poll.Ballot
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("decode ballot of %s: %w", k, err)
		}
		if len(b.Options) > 0 {
			t.Voters++
		}
		for i, o := range b.Options {
			t.grow(o)
			t.Counts[o] += weight(b, i)
			if len(t.Names[o]) < poll.NamesKept {
				t.Names[o] = append(t.Names[o], string(k))
			}
		}
		return nil
	})
	return t, err
}

func putTally(tx *bbolt.Tx, id string, t *storedTally) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode tally: %w", err)
	}
	return tx.Bucket(bucketTally).Put([]byte(id), v)
}

// Click applies a whole click in one write transaction. When other clicks
// are under way it joins their batch (one commit for all); a lone click
// commits at once rather than wait for company.
func (s *Polls) Click(ctx context.Context, c poll.Click) (poll.Clicked, error) {
	if err := ctx.Err(); err != nil {
		return poll.Clicked{}, err
	}
	// A batched fn may run more than once (when another fn in its batch
	// fails, the batch is retried), so it sets its outcome afresh on every
	// run. A refusal is no failure of the transaction: it goes out through
	// refusal, since returning it would roll back everyone's clicks.
	var (
		out     poll.Clicked
		refusal error
	)
	now := s.d.now()
	delivery := "poll:" + c.Poll + ":delivery:" + c.Delivery
	fn := func(tx *bbolt.Tx) error {
		out, refusal = poll.Clicked{}, nil
		p, err := getPoll(tx, c.Poll)
		if errors.Is(err, poll.ErrNotFound) || err == nil && !p.Where.Reaches(c.Channel) {
			refusal = poll.ErrNotFound
			return nil
		}
		if err != nil {
			return err
		}
		if c.Delivery != "" {
			seen, err := onceSeen(tx, delivery, now)
			if err != nil {
				return err
			}
			if seen {
				refusal = bot.ErrRepeated
				return nil
			}
		}
		votes, err := tx.Bucket(bucketVotes).CreateBucketIfNotExists([]byte(c.Poll))
		if err != nil {
			return fmt.Errorf("ballot bucket: %w", err)
		}
		voter, name := c.Voter, c.Name
		if p.Anonymous {
			voter, name = c.AnonKey, ""
		}
		key := []byte(voter)
		var current poll.Ballot
		if v := votes.Get(key); v != nil {
			if err := json.Unmarshal(v, &current); err != nil {
				return fmt.Errorf("decode ballot of %s: %w", voter, err)
			}
		}
		after, err := p.Toggle(current.Options, c.Option)
		if err != nil {
			refusal = err
			out.MaxVotes = p.MaxVotes
			return nil
		}
		t, err := getTally(tx, c.Poll, votes)
		if err != nil {
			return err
		}
		b := poll.Ballot{Voter: voter, Name: name, Options: after}
		if len(after) == 0 {
			if err := votes.Delete(key); err != nil {
				return fmt.Errorf("remove ballot of %s: %w", voter, err)
			}
		} else {
			v, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("encode ballot: %w", err)
			}
			if err := votes.Put(key, v); err != nil {
				return fmt.Errorf("store ballot of %s: %w", voter, err)
			}
		}
		for _, o := range current.Options {
			if !slices.Contains(after, o) {
				t.grow(o)
				t.Counts[o]--
				t.Names[o] = slices.DeleteFunc(t.Names[o], func(v string) bool { return v == voter })
			}
		}
		for _, o := range after {
			if !slices.Contains(current.Options, o) {
				t.grow(o)
				t.Counts[o]++
				if len(t.Names[o]) < poll.NamesKept {
					t.Names[o] = append(t.Names[o], voter)
				}
			}
		}
		switch {
		case len(current.Options) == 0 && len(after) > 0:
			t.Voters++
		case len(current.Options) > 0 && len(after) == 0:
			t.Voters--
		}
		if err := putTally(tx, c.Poll, t); err != nil {
			return err
		}
		if c.Delivery != "" {
			if err := onceRecord(tx, delivery, now, poll.ClickDeliveryTTL); err != nil {
				return err
			}
		}
		if p.Ref.IsZero() && !c.Ref.IsZero() {
			// Posted, but its message id was never recorded (the store
			// failed right after posting): the click tells where it is.
			p.Ref = c.Ref
			if err := putPoll(tx, p); err != nil {
				return err
			}
		}
		out.Ballot = b
		if b.Options == nil {
			out.Ballot.Options = []int{}
		}
		if p.Anonymous || p.Hidden {
			out.Poll = p
		}
		return nil
	}
	var err error
	if s.d.votesInFlight.Add(1) > 1 {
		err = s.d.batch(fn)
	} else {
		err = s.d.update(fn)
	}
	s.d.votesInFlight.Add(-1)
	if err == nil {
		err = refusal
	}
	if err != nil {
		return out, fmt.Errorf("click on poll %s: %w", c.Poll, err)
	}
	return out, nil
}

// Tally reads a poll, its tally and the names the tally keeps, without
// reading every ballot.
func (s *Polls) Tally(ctx context.Context, id string) (*poll.Poll, poll.Tally, error) {
	if err := ctx.Err(); err != nil {
		return nil, poll.Tally{}, err
	}
	var (
		p *poll.Poll
		t poll.Tally
	)
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		var err error
		if p, err = getPoll(tx, id); err != nil {
			return err
		}
		votes := tx.Bucket(bucketVotes).Bucket([]byte(id))
		st, err := getTally(tx, id, votes)
		if err != nil {
			return err
		}
		t = poll.NewTally(len(p.Options))
		t.Voters = st.Voters
		for o := range min(len(st.Counts), len(t.Counts)) {
			t.Counts[o] = st.Counts[o]
			if p.Anonymous || votes == nil {
				continue
			}
			names := map[string]string{}
			for _, voter := range st.Names[o] {
				var b poll.Ballot
				if v := votes.Get([]byte(voter)); v != nil && json.Unmarshal(v, &b) == nil {
					names[voter] = b.Name
				}
			}
			t.Named(o, st.Names[o], names)
		}
		return nil
	})
	if err != nil {
		return nil, poll.Tally{}, fmt.Errorf("tally poll %s: %w", id, err)
	}
	t.Sort()
	return p, t, nil
}

// SetBallot replaces a voter's whole ballot in a ranked or dot-vote poll
// and moves the tally by the difference, in one write transaction.
func (s *Polls) SetBallot(ctx context.Context, c poll.Cast) (poll.Clicked, error) {
	if err := ctx.Err(); err != nil {
		return poll.Clicked{}, err
	}
	var out poll.Clicked
	err := s.d.update(func(tx *bbolt.Tx) error {
		out = poll.Clicked{}
		p, err := getPoll(tx, c.Poll)
		if errors.Is(err, poll.ErrNotFound) || err == nil && !p.Where.Reaches(c.Channel) {
			return poll.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := p.CheckCast(c); err != nil {
			return err
		}
		votes, err := tx.Bucket(bucketVotes).CreateBucketIfNotExists([]byte(c.Poll))
		if err != nil {
			return fmt.Errorf("ballot bucket: %w", err)
		}
		voter, name := c.Voter, c.Name
		if p.Anonymous {
			voter, name = c.AnonKey, ""
		}
		key := []byte(voter)
		var current poll.Ballot
		if v := votes.Get(key); v != nil {
			if err := json.Unmarshal(v, &current); err != nil {
				return fmt.Errorf("decode ballot of %s: %w", voter, err)
			}
		}
		t, err := getTally(tx, c.Poll, votes)
		if err != nil {
			return err
		}
		b := poll.Ballot{Voter: voter, Name: name, Options: slices.Clone(c.Options), Points: slices.Clone(c.Points)}
		if len(b.Options) == 0 {
			b.Options, b.Points = []int{}, nil
			if err := votes.Delete(key); err != nil {
				return fmt.Errorf("remove ballot of %s: %w", voter, err)
			}
		} else {
			v, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("encode ballot: %w", err)
			}
			if err := votes.Put(key, v); err != nil {
				return fmt.Errorf("store ballot of %s: %w", voter, err)
			}
		}
		for i, o := range current.Options {
			t.grow(o)
			t.Counts[o] -= weight(current, i)
			t.Names[o] = slices.DeleteFunc(t.Names[o], func(v string) bool { return v == voter })
		}
		for i, o := range b.Options {
			t.grow(o)
			t.Counts[o] += weight(b, i)
			if len(t.Names[o]) < poll.NamesKept {
				t.Names[o] = append(t.Names[o], voter)
			}
		}
		switch {
		case len(current.Options) == 0 && len(b.Options) > 0:
			t.Voters++
		case len(current.Options) > 0 && len(b.Options) == 0:
			t.Voters--
		}
		if err := putTally(tx, c.Poll, t); err != nil {
			return err
		}
		out.Ballot = b
		if p.Anonymous || p.Hidden {
			out.Poll = p
		}
		return nil
	})
	if err != nil {
		return poll.Clicked{}, fmt.Errorf("set ballot in poll %s: %w", c.Poll, err)
	}
	return out, nil
}

// weight is what option i of b adds to its count.
func weight(b poll.Ballot, i int) int {
	if b.Points == nil {
		return 1
	}
	if i < len(b.Points) {
		return b.Points[i]
	}
	return 0
}
