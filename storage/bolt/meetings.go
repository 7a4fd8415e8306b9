package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/poll"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The meeting store's buckets.
var (
	bucketMeetings     = []byte("meetings")          // meeting id → meeting JSON
	bucketMeetingRSVPs = []byte("meeting_rsvps")     // meeting id → bucket of user → RSVP JSON
	bucketMeetingIndex = []byte("meeting_index")     // channel key → bucket of created+id → id
	bucketAttending    = []byte("meeting_attending") // platform:user → bucket of meeting id → ""
	bucketFeeds        = []byte("meeting_feeds")     // token → feed JSON
	bucketFeedTokens   = []byte("meeting_feed_of")   // the feed without its token, JSON → token
)

// Meetings is the bbolt meeting.Store. Every operation is one
// transaction, so the attending index changes with the answer it
// follows and never disagrees with it.
type Meetings struct{ d *DB }

var _ meeting.Store = (*Meetings)(nil)

// Meetings returns the meeting store.
func (d *DB) Meetings() meeting.Store { return &Meetings{d: d} }

// meetingClickTTL is how long a click's delivery is remembered: the same
// window a poll click's delivery has, which outlives the platforms'
// retries.
const meetingClickTTL = poll.ClickDeliveryTTL

func meetingIndexKey(m *meeting.Meeting) []byte {
	return append(timeKey(m.Created), m.ID...)
}

func attendingKey(platform, user string) []byte {
	return []byte(platform + ":" + user)
}

func getMeeting(tx *bbolt.Tx, id string) (*meeting.Meeting, error) {
	v := tx.Bucket(bucketMeetings).Get([]byte(id))
	if v == nil {
		return nil, meeting.ErrNotFound
	}
	m := new(meeting.Meeting)
	if err := json.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("decode meeting: %w", err)
	}
	return m, nil
}

func putMeeting(tx *bbolt.Tx, m *meeting.Meeting) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	return tx.Bucket(bucketMeetings).Put([]byte(m.ID), v)
}

func indexMeeting(tx *bbolt.Tx, m *meeting.Meeting) error {
	idx, err := tx.Bucket(bucketMeetingIndex).CreateBucketIfNotExists([]byte(m.Where.Key()))
	if err != nil {
		return fmt.Errorf("create channel index: %w", err)
	}
	return idx.Put(meetingIndexKey(m), []byte(m.ID))
}

func unindexMeeting(tx *bbolt.Tx, m *meeting.Meeting) error {
	idx := tx.Bucket(bucketMeetingIndex).Bucket([]byte(m.Where.Key()))
	if idx == nil {
		return nil
	}
	if err := idx.Delete(meetingIndexKey(m)); err != nil {
		return fmt.Errorf("remove index entry: %w", err)
	}
	return nil
}

// Create stores a new meeting and indexes it under its channel.
func (s *Meetings) Create(ctx context.Context, m *meeting.Meeting) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeetings).Get([]byte(m.ID)) != nil {
			return meeting.ErrExists
		}
		if err := putMeeting(tx, m); err != nil {
			return err
		}
		return indexMeeting(tx, m)
	})
	if err != nil {
		return fmt.Errorf("create meeting %s: %w", m.ID, err)
	}
	return nil
}

// Get returns a meeting.
func (s *Meetings) Get(ctx context.Context, id string) (*meeting.Meeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var m *meeting.Meeting
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		var err error
		m, err = getMeeting(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get meeting %s: %w", id, err)
	}
	return m, nil
}

// Update applies change in one write transaction, which bbolt runs one
// at a time: change runs once and sees every earlier change.
func (s *Meetings) Update(ctx context.Context, id string, change func(*meeting.Meeting) error) (*meeting.Meeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		out       *meeting.Meeting
		changeErr error
	)
	err := s.d.update(func(tx *bbolt.Tx) error {
		old, err := getMeeting(tx, id)
		if err != nil {
			return err
		}
		m, err := getMeeting(tx, id) // a copy of its own for change to edit
		if err != nil {
			return err
		}
		if changeErr = change(m); changeErr != nil {
			return changeErr
		}
		if m.ID != id {
			return fmt.Errorf("the change set the id to %q; a meeting keeps its id", m.ID)
		}
		if err := putMeeting(tx, m); err != nil {
			return err
		}
		if !bytes.Equal(meetingIndexKey(old), meetingIndexKey(m)) || old.Where.Key() != m.Where.Key() {
			if err := unindexMeeting(tx, old); err != nil {
				return err
			}
			if err := indexMeeting(tx, m); err != nil {
				return err
			}
		}
		out = m
		return nil
	})
	if changeErr != nil {
		return nil, changeErr
	}
	if err != nil {
		return nil, fmt.Errorf("update meeting %s: %w", id, err)
	}
	return out, nil
}

// Delete removes the meeting, its RSVPs, its index entry and those of
// everyone who answered it.
func (s *Meetings) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.update(func(tx *bbolt.Tx) error {
		m, err := getMeeting(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeetings).Delete([]byte(id)); err != nil {
			return err
		}
		if rsvps := tx.Bucket(bucketMeetingRSVPs).Bucket([]byte(id)); rsvps != nil {
			attending := tx.Bucket(bucketAttending)
			err := rsvps.ForEach(func(user, _ []byte) error {
				if b := attending.Bucket(attendingKey(m.Where.Platform, string(user))); b != nil {
					return b.Delete([]byte(id))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("remove attendance: %w", err)
			}
			if err := tx.Bucket(bucketMeetingRSVPs).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return fmt.Errorf("remove answers: %w", err)
			}
		}
		return unindexMeeting(tx, m)
	})
	if err != nil {
		return fmt.Errorf("delete meeting %s: %w", id, err)
	}
	return nil
}

// List returns the meetings of a channel in order of creation.
func (s *Meetings) List(ctx context.Context, where bot.Where) ([]*meeting.Meeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var list []*meeting.Meeting
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketMeetingIndex).Bucket([]byte(where.Key()))
		if idx == nil {
			return nil
		}
		return idx.ForEach(func(_, id []byte) error {
			m, err := getMeeting(tx, string(id))
			if err != nil {
				return fmt.Errorf("meeting %s: %w", id, err)
			}
			list = append(list, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list meetings of %s: %w", where.Key(), err)
	}
	// The index orders by creation time and then id already; this only
	// makes the order the Redis store's by construction.
	sortMeetings(list)
	return list, nil
}

func sortMeetings(list []*meeting.Meeting) {
	slices.SortStableFunc(list, func(a, b *meeting.Meeting) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Click applies a whole RSVP click in one write transaction, joining
// other clicks' batch when some are under way, as a poll click does.
func (s *Meetings) Click(ctx context.Context, c meeting.Click) (*meeting.Meeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !c.Answer.Valid() {
		return nil, fmt.Errorf("click on meeting %s: answer %q is none of yes, maybe, no", c.Meeting, c.Answer)
	}
	rsvp, err := json.Marshal(meeting.RSVP{User: c.User, Name: c.Name, Answer: c.Answer, At: c.At})
	if err != nil {
		return nil, fmt.Errorf("click on meeting %s: encode answer: %w", c.Meeting, err)
	}
	// A batched fn may run more than once, so it sets its outcome afresh
	// on every run; a refusal goes out beside the transaction's error,
	// since returning it would roll back everyone's clicks in the batch.
	var (
		out     *meeting.Meeting
		refusal error
	)
	now := s.d.now()
	delivery := "meeting:" + c.Meeting + ":delivery:" + c.Delivery
	fn := func(tx *bbolt.Tx) error {
		out, refusal = nil, nil
		m, err := getMeeting(tx, c.Meeting)
		if errors.Is(err, meeting.ErrNotFound) || err == nil && !c.Invited && !m.Where.Reaches(c.Channel) {
			refusal = meeting.ErrNotFound
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
		if m.Ended {
			refusal = meeting.ErrEnded
			return nil
		}
		rsvps, err := tx.Bucket(bucketMeetingRSVPs).CreateBucketIfNotExists([]byte(c.Meeting))
		if err != nil {
			return fmt.Errorf("answer bucket: %w", err)
		}
		if err := rsvps.Put([]byte(c.User), rsvp); err != nil {
			return fmt.Errorf("store answer of %s: %w", c.User, err)
		}
		attending, err := tx.Bucket(bucketAttending).CreateBucketIfNotExists(attendingKey(m.Where.Platform, c.User))
		if err != nil {
			return fmt.Errorf("attendance bucket: %w", err)
		}
		if c.Answer == meeting.No {
			err = attending.Delete([]byte(c.Meeting))
		} else {
			err = attending.Put([]byte(c.Meeting), nil)
		}
		if err != nil {
			return fmt.Errorf("index attendance: %w", err)
		}
		if c.Delivery != "" {
			if err := onceRecord(tx, delivery, now, meetingClickTTL); err != nil {
				return err
			}
		}
		if m.Ref.IsZero() && !c.Ref.IsZero() {
			// Posted, but its message id was never recorded: the click
			// tells where it is.
			m.Ref = c.Ref
			if err := putMeeting(tx, m); err != nil {
				return err
			}
		}
		out = m
		return nil
	}
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
		return nil, fmt.Errorf("click on meeting %s: %w", c.Meeting, err)
	}
	return out, nil
}

// RSVPs returns every answer to the meeting.
func (s *Meetings) RSVPs(ctx context.Context, id string) ([]meeting.RSVP, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []meeting.RSVP
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeetings).Get([]byte(id)) == nil {
			return meeting.ErrNotFound
		}
		rsvps := tx.Bucket(bucketMeetingRSVPs).Bucket([]byte(id))
		if rsvps == nil {
			return nil
		}
		return rsvps.ForEach(func(user, v []byte) error {
			var r meeting.RSVP
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode answer of %s: %w", user, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("answers to meeting %s: %w", id, err)
	}
	return out, nil
}

// Attending reads the user's attending bucket, which Click and Delete
// keep exact.
func (s *Meetings) Attending(ctx context.Context, platform, user string) ([]*meeting.Meeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var list []*meeting.Meeting
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAttending).Bucket(attendingKey(platform, user))
		if b == nil {
			return nil
		}
		return b.ForEach(func(id, _ []byte) error {
			m, err := getMeeting(tx, string(id))
			if err != nil {
				return fmt.Errorf("meeting %s: %w", id, err)
			}
			list = append(list, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("meetings %s:%s attends: %w", platform, user, err)
	}
	sortMeetings(list)
	return list, nil
}

// feedIdentity is what names a feed, whatever its token: the feed
// without it, as JSON.
func feedIdentity(f meeting.Feed) ([]byte, error) {
	f.Token = ""
	return json.Marshal(f)
}

// FeedToken returns the feed's token, making one the first time or on
// rotation, when the old token is removed in the same transaction.
func (s *Meetings) FeedToken(ctx context.Context, f meeting.Feed, rotate bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id, err := feedIdentity(f)
	if err != nil {
		return "", fmt.Errorf("feed token: encode feed: %w", err)
	}
	var token string
	err = s.d.update(func(tx *bbolt.Tx) error {
		feeds, of := tx.Bucket(bucketFeeds), tx.Bucket(bucketFeedTokens)
		old := of.Get(id)
		if old != nil && !rotate {
			token = string(old)
			return nil
		}
		if old != nil {
			if err := feeds.Delete(old); err != nil {
				return fmt.Errorf("remove old token: %w", err)
			}
		}
		f.Token = meeting.NewFeedToken()
		v, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("encode feed: %w", err)
		}
		if err := feeds.Put([]byte(f.Token), v); err != nil {
			return err
		}
		token = f.Token
		return of.Put(id, []byte(f.Token))
	})
	if err != nil {
		return "", fmt.Errorf("feed token of %s: %w", id, err)
	}
	return token, nil
}

// FeedByToken returns the feed a token is for.
func (s *Meetings) FeedByToken(ctx context.Context, token string) (meeting.Feed, error) {
	if err := ctx.Err(); err != nil {
		return meeting.Feed{}, err
	}
	var f meeting.Feed
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		if token == "" {
			return meeting.ErrNotFound
		}
		v := tx.Bucket(bucketFeeds).Get([]byte(token))
		if v == nil {
			return meeting.ErrNotFound
		}
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		return nil
	})
	if err != nil {
		// A token is a secret: only its start goes into the error.
		return meeting.Feed{}, fmt.Errorf("feed of token %.6s…: %w", token, err)
	}
	return f, nil
}
