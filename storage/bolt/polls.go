package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Polls is the bbolt poll.Store.
type Polls struct{ d *DB }

var _ poll.Store = (*Polls)(nil)

// timeKey encodes t so that byte order is time order, also before 1970.
func timeKey(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano())^(1<<63))
	return b[:]
}

func indexKey(p *poll.Poll) []byte {
	return append(timeKey(p.Created), p.ID...)
}

func getPoll(tx *bbolt.Tx, id string) (*poll.Poll, error) {
	v := tx.Bucket(bucketPolls).Get([]byte(id))
	if v == nil {
		return nil, poll.ErrNotFound
	}
	p := new(poll.Poll)
	if err := json.Unmarshal(v, p); err != nil {
		return nil, fmt.Errorf("decode poll: %w", err)
	}
	return p, nil
}

func putPoll(tx *bbolt.Tx, p *poll.Poll) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode poll: %w", err)
	}
	return tx.Bucket(bucketPolls).Put([]byte(p.ID), v)
}

// Create stores a new poll and indexes it under its channel.
func (s *Polls) Create(ctx context.Context, p *poll.Poll) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketPolls).Get([]byte(p.ID)) != nil {
			return poll.ErrExists
		}
		if err := putPoll(tx, p); err != nil {
			return err
		}
		if _, err := tx.Bucket(bucketVotes).CreateBucket([]byte(p.ID)); err != nil {
			return fmt.Errorf("create ballot bucket: %w", err)
		}
		idx, err := tx.Bucket(bucketPollIndex).CreateBucketIfNotExists([]byte(p.Where.Key()))
		if err != nil {
			return fmt.Errorf("create channel index: %w", err)
		}
		return idx.Put(indexKey(p), []byte(p.ID))
	})
	if err != nil {
		return fmt.Errorf("create poll %s: %w", p.ID, err)
	}
	return nil
}

// Get returns a poll and its ballots.
func (s *Polls) Get(ctx context.Context, id string) (*poll.Poll, []poll.Ballot, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var (
		p       *poll.Poll
		ballots []poll.Ballot
	)
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		var err error
		if p, err = getPoll(tx, id); err != nil {
			return err
		}
		votes := tx.Bucket(bucketVotes).Bucket([]byte(id))
		if votes == nil {
			return nil
		}
		return votes.ForEach(func(k, v []byte) error {
			var b poll.Ballot
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("decode ballot of %s: %w", k, err)
			}
			ballots = append(ballots, b)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	return p, ballots, nil
}

// Poll returns the poll without reading its ballots.
func (s *Polls) Poll(ctx context.Context, id string) (*poll.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var p *poll.Poll
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		var err error
		p, err = getPoll(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	return p, nil
}

// sameLabel reports whether two option labels count as one.
func sameLabel(a, b string) bool {
	return poll.FoldLabel(a) == poll.FoldLabel(b)
}

// AddOption appends an option in one write transaction.
func (s *Polls) AddOption(ctx context.Context, id string, o poll.Option) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var index int
	err := s.d.update(func(tx *bbolt.Tx) error {
		p, err := getPoll(tx, id)
		if err != nil {
			return err
		}
		if p.Closed {
			return poll.ErrClosed
		}
		if slices.ContainsFunc(p.Options, func(e poll.Option) bool { return sameLabel(e.Label, o.Label) }) {
			return poll.ErrDuplicate
		}
		if len(p.Options) >= poll.MaxOptions {
			return poll.ErrTooManyOption
		}
		p.Options = append(p.Options, o)
		index = len(p.Options) - 1
		return putPoll(tx, p)
	})
	if err != nil {
		return 0, fmt.Errorf("add option to poll %s: %w", id, err)
	}
	return index, nil
}

// update applies change to poll id in one write transaction.
func (s *Polls) update(ctx context.Context, id string, change func(p *poll.Poll)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.d.update(func(tx *bbolt.Tx) error {
		p, err := getPoll(tx, id)
		if err != nil {
			return err
		}
		change(p)
		return putPoll(tx, p)
	})
}

// SetRef records where the poll's message was posted.
func (s *Polls) SetRef(ctx context.Context, id string, ref bot.Ref) error {
	if err := s.update(ctx, id, func(p *poll.Poll) { p.Ref = ref }); err != nil {
		return fmt.Errorf("set message of poll %s: %w", id, err)
	}
	return nil
}

// SetClosed closes or reopens a poll; ballots stay.
func (s *Polls) SetClosed(ctx context.Context, id string, closed bool, at time.Time) error {
	err := s.update(ctx, id, func(p *poll.Poll) {
		p.Closed = closed
		p.ClosedAt = time.Time{}
		if closed {
			p.ClosedAt = at
		}
	})
	if err != nil {
		return fmt.Errorf("set poll %s closed=%t: %w", id, closed, err)
	}
	return nil
}

// Delete removes the poll, its ballots and its index entry.
func (s *Polls) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		p, err := getPoll(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketPolls).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketVotes).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("remove ballots: %w", err)
		}
		if err := tx.Bucket(bucketTally).Delete([]byte(id)); err != nil {
			return fmt.Errorf("remove tally: %w", err)
		}
		if idx := tx.Bucket(bucketPollIndex).Bucket([]byte(p.Where.Key())); idx != nil {
			if err := idx.Delete(indexKey(p)); err != nil {
				return fmt.Errorf("remove index entry: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete poll %s: %w", id, err)
	}
	return nil
}

// List returns the polls of a channel, newest first, without ballots.
func (s *Polls) List(ctx context.Context, where bot.Where) ([]*poll.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var polls []*poll.Poll
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketPollIndex).Bucket([]byte(where.Key()))
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		for k, id := c.Last(); k != nil; k, id = c.Prev() {
			p, err := getPoll(tx, string(id))
			if errors.Is(err, poll.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("poll %s: %w", id, err)
			}
			polls = append(polls, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list polls of %s: %w", where.Key(), err)
	}
	// The index is in creation order already; sorting again settles equal
	// creation times the same way as the Redis store does.
	slices.SortStableFunc(polls, comparePolls)
	return polls, nil
}

// comparePolls orders newest first, then by id descending.
func comparePolls(a, b *poll.Poll) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}
