package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/poll"
	goredis "github.com/redis/go-redis/v9"
)

// Meetings is the Redis meeting.Store.
//
// A meeting is a HASH whose fields change together or alone:
//
//	meeting   the meeting as JSON, without its Ref
//	ref       the posted message, JSON, "" until posted (a click may set it)
//	platform  Where.Platform  ┐ the click's channel check, without
//	chan      Where.Channel   ┘ decoding the JSON
//	channel   Where.Key(), to find the index entry on Delete
//	ended     "1" or "0", the click's ErrEnded check
//	version   raised by every write of meeting or ref, for Update's
//	          compare-and-set
//
// Its RSVPs are a second HASH, user → RSVP JSON, and a click's delivery
// record a STRING with a TTL, both in the meeting's slot, so one script
// applies a whole click. Beside them, in slots of their own:
//
//	kring:channel:{platform:team:channel}:meetings  ZSET  meeting ids by creation time (ms)
//	kring:attending:{platform:user}                 SET   meeting ids the user clicked Yes or Maybe on
//	kring:{feeds}:token                             HASH  token → feed JSON
//	kring:{feeds}:of                                HASH  the feed without its token, JSON → token
//
// The attending set is written before the click's script, so it always
// holds every meeting the user said Yes or Maybe to, also after a crash
// between the two; it may hold more (an answer changed to No, a refused
// click), which Attending leaves out by reading the answers themselves.
// Delete removes the entries of everyone who answered.
//
// All feeds share one slot: there are a few per channel and user, read
// when a calendar polls (hours apart), and a token and its feed's
// identity must change in one step, or a rotation cut short would leave
// the old URL working.
type Meetings struct{ s *Store }

var _ meeting.Store = (*Meetings)(nil)

// Meetings returns the meeting store.
func (s *Store) Meetings() meeting.Store { return &Meetings{s: s} }

func (s *Store) meetingKey(id string) string { return s.prefix + "meeting:{" + id + "}" }

// meetingKeys are a meeting's hash and its RSVPs, built from one
// meetingKey.
func (s *Store) meetingKeys(id string) []string {
	base := s.meetingKey(id)
	return []string{base, base + ":rsvps"}
}

func (s *Store) meetingChannelKey(where string) string {
	return s.prefix + "channel:{" + where + "}:meetings"
}

func (s *Store) attendingKey(platform, user string) string {
	return s.prefix + "attending:{" + platform + ":" + user + "}"
}

func (s *Store) feedKeys() []string {
	return []string{s.prefix + "{feeds}:token", s.prefix + "{feeds}:of"}
}

// meetingUpdateAttempts bounds Update's compare-and-set retries. Each
// failed attempt means another write succeeded meanwhile, so n concurrent
// Updates need at most n attempts each; this is far beyond what a
// channel's organisers do at once.
const meetingUpdateAttempts = 1000

// meetingClickTTL is how long a click's delivery is remembered: the same
// window a poll click's delivery has, which outlives the platforms'
// retries.
const meetingClickTTL = poll.ClickDeliveryTTL

// meetingCreateScript stores a meeting unless its id is taken, clearing
// RSVPs a Delete cut short may have left under the id. KEYS: meeting,
// rsvps. ARGV: field/value pairs.
var meetingCreateScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// meetingUpdateScript writes fields if the meeting is still the version
// Update read. KEYS: meeting. ARGV: the version read, field/value pairs.
var meetingUpdateScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return 'not_found' end
if v ~= ARGV[1] then return 'changed' end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 'ok'
`)

// meetingDeleteScript removes a meeting and its RSVPs and returns its
// channel key, platform and the users who answered, for the indexes in
// other slots; nil when there was no meeting. KEYS: meeting, rsvps.
var meetingDeleteScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'channel', 'platform')
if not f[1] then return false end
local users = redis.call('HKEYS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return {f[1], f[2] or '', users}
`)

// meetingClickScript is a whole RSVP click in the meeting's slot: the
// channel check (bot.Where.Reaches: platform and channel, not the team),
// the delivery check, the ended check, the answer, the delivery record
// and a missing Ref. It returns the meeting's fields.
// KEYS: meeting, rsvps, delivery.
// ARGV: platform, channel, invited ("1" or "0"), user, RSVP JSON,
// delivery ("" for none), delivery ttl in ms, the clicked message as
// JSON ("" for none).
var meetingClickScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'platform', 'chan', 'ended', 'ref')
if not f[1] then return {'not_found'} end
if ARGV[3] ~= '1' and (f[1] ~= ARGV[1] or f[2] ~= ARGV[2] or ARGV[2] == '') then
  return {'not_found'}
end
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return {'repeated'} end
if f[3] == '1' then return {'ended'} end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
if ARGV[6] ~= '' then redis.call('SET', KEYS[3], '1', 'PX', ARGV[7]) end
if (f[4] == false or f[4] == '') and ARGV[8] ~= '' then
  -- posted, but its message id was never recorded: the click tells where
  redis.call('HSET', KEYS[1], 'ref', ARGV[8])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
end
return {'ok', redis.call('HGETALL', KEYS[1])}
`)

// meetingFeedScript returns the token of a feed, making one (ARGV[2])
// the first time or on rotation, when the old token is removed in the
// same step. KEYS: token hash, identity hash. ARGV: identity, new token,
// the feed's JSON under the new token, rotate ("1" or "0").
var meetingFeedScript = goredis.NewScript(`
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old and ARGV[4] ~= '1' then return old end
if old then redis.call('HDEL', KEYS[1], old) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ARGV[2]
`)

// Replies of the meeting scripts that refuse.
var meetingRefusals = map[string]error{
	"not_found": meeting.ErrNotFound,
	"ended":     meeting.ErrEnded,
	"repeated":  bot.ErrRepeated,
}

// meetingFields are the hash fields that hold m, version aside.
func meetingFields(m *meeting.Meeting) ([]any, error) {
	base := *m
	base.Ref = bot.Ref{}
	js, err := json.Marshal(base)
	if err != nil {
		return nil, fmt.Errorf("encode meeting: %w", err)
	}
	ref, err := refField(m.Ref)
	if err != nil {
		return nil, fmt.Errorf("encode message ref: %w", err)
	}
	return []any{
		"meeting", js,
		"ref", ref,
		"platform", m.Where.Platform,
		"chan", m.Where.Channel,
		"channel", m.Where.Key(),
		"ended", boolField(m.Ended),
	}, nil
}

// decodeMeeting assembles a meeting from its hash fields.
func decodeMeeting(f map[string]string) (*meeting.Meeting, error) {
	m := new(meeting.Meeting)
	if err := json.Unmarshal([]byte(f["meeting"]), m); err != nil {
		return nil, fmt.Errorf("decode meeting: %w", err)
	}
	if r := f["ref"]; r != "" {
		if err := json.Unmarshal([]byte(r), &m.Ref); err != nil {
			return nil, fmt.Errorf("decode message ref: %w", err)
		}
	}
	return m, nil
}

// Create stores the meeting, then indexes it under its channel.
func (ms *Meetings) Create(ctx context.Context, m *meeting.Meeting) error {
	if err := ms.create(ctx, m); err != nil {
		return fmt.Errorf("create meeting %s: %w", m.ID, err)
	}
	return nil
}

func (ms *Meetings) create(ctx context.Context, m *meeting.Meeting) error {
	s := ms.s
	fields, err := meetingFields(m)
	if err != nil {
		return err
	}
	fields = append(fields, "version", 0)
	created, err := meetingCreateScript.Run(ctx, s.c, s.meetingKeys(m.ID), fields...).Int()
	if err != nil {
		return err
	}
	if created == 0 {
		return meeting.ErrExists
	}
	// The index lives in the channel's slot, so it cannot join the script.
	// If indexing fails, the meeting is taken back so a retry starts clean.
	err = s.c.ZAdd(ctx, s.meetingChannelKey(m.Where.Key()), goredis.Z{Score: float64(m.Created.UnixMilli()), Member: m.ID}).Err()
	if err != nil {
		if derr := s.c.Del(ctx, s.meetingKeys(m.ID)...).Err(); derr != nil {
			return fmt.Errorf("index meeting: %w (and removing it again: %v)", err, derr)
		}
		return fmt.Errorf("index meeting: %w", err)
	}
	return nil
}

// Get reads the meeting's hash.
func (ms *Meetings) Get(ctx context.Context, id string) (*meeting.Meeting, error) {
	fields, err := ms.s.c.HGetAll(ctx, ms.s.meetingKey(id)).Result()
	if err == nil && len(fields) == 0 {
		err = meeting.ErrNotFound
	}
	var m *meeting.Meeting
	if err == nil {
		m, err = decodeMeeting(fields)
	}
	if err != nil {
		return nil, fmt.Errorf("get meeting %s: %w", id, err)
	}
	return m, nil
}

// Update reads the meeting, applies change and writes the result only if
// nobody wrote the meeting meanwhile (meetingUpdateScript); otherwise it
// reads again and applies change to what is stored now. Writers never
// hold a lock, so a slow change holds up nobody.
func (ms *Meetings) Update(ctx context.Context, id string, change func(*meeting.Meeting) error) (*meeting.Meeting, error) {
	s := ms.s
	for range meetingUpdateAttempts {
		fields, err := s.c.HGetAll(ctx, s.meetingKey(id)).Result()
		if err == nil && len(fields) == 0 {
			err = meeting.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("update meeting %s: %w", id, err)
		}
		// Decoded twice: change edits one copy, reindex compares with the
		// other.
		old, err := decodeMeeting(fields)
		if err != nil {
			return nil, fmt.Errorf("update meeting %s: %w", id, err)
		}
		changed, _ := decodeMeeting(fields)
		version := fields["version"]
		if err := change(changed); err != nil {
			return nil, err
		}
		if changed.ID != id {
			return nil, fmt.Errorf("update meeting %s: the change set the id to %q; a meeting keeps its id", id, changed.ID)
		}
		values, err := meetingFields(changed)
		if err != nil {
			return nil, fmt.Errorf("update meeting %s: %w", id, err)
		}
		args := append([]any{version}, values...)
		status, err := meetingUpdateScript.Run(ctx, s.c, []string{s.meetingKey(id)}, args...).Text()
		switch {
		case err != nil:
			return nil, fmt.Errorf("update meeting %s: %w", id, err)
		case status == "changed":
			continue
		case status == "not_found":
			return nil, fmt.Errorf("update meeting %s: %w", id, meeting.ErrNotFound)
		case status != "ok":
			return nil, fmt.Errorf("update meeting %s: script returned %q", id, status)
		}
		if err := ms.reindex(ctx, old, changed); err != nil {
			return nil, fmt.Errorf("update meeting %s: %w", id, err)
		}
		return changed, nil
	}
	return nil, fmt.Errorf("update meeting %s: still changed by others after %d attempts", id, meetingUpdateAttempts)
}

// reindex moves the meeting's index entry when an Update changed its
// channel or creation time. The new entry comes first: a crash between
// the two steps leaves an extra entry, which List leaves out by the
// meeting's own channel, rather than none.
func (ms *Meetings) reindex(ctx context.Context, old, m *meeting.Meeting) error {
	s := ms.s
	if old.Where.Key() == m.Where.Key() && old.Created.UnixMilli() == m.Created.UnixMilli() {
		return nil
	}
	err := s.c.ZAdd(ctx, s.meetingChannelKey(m.Where.Key()), goredis.Z{Score: float64(m.Created.UnixMilli()), Member: m.ID}).Err()
	if err == nil && old.Where.Key() != m.Where.Key() {
		err = s.c.ZRem(ctx, s.meetingChannelKey(old.Where.Key()), m.ID).Err()
	}
	if err != nil {
		return fmt.Errorf("move index entry: %w", err)
	}
	return nil
}

// Delete removes the meeting and its RSVPs in one script, then its entry
// in the channel's index and in the attending sets of those who answered.
func (ms *Meetings) Delete(ctx context.Context, id string) error {
	if err := ms.delete(ctx, id); err != nil {
		return fmt.Errorf("delete meeting %s: %w", id, err)
	}
	return nil
}

func (ms *Meetings) delete(ctx context.Context, id string) error {
	s := ms.s
	reply, err := meetingDeleteScript.Run(ctx, s.c, s.meetingKeys(id)).Slice()
	if errors.Is(err, goredis.Nil) {
		return meeting.ErrNotFound
	}
	if err != nil {
		return err
	}
	if len(reply) != 3 {
		return fmt.Errorf("script returned %v", reply)
	}
	channel, _ := reply[0].(string)
	platform, _ := reply[1].(string)
	users, _ := reply[2].([]any)
	_, err = s.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.ZRem(ctx, s.meetingChannelKey(channel), id)
		for _, u := range users {
			user, _ := u.(string)
			pipe.SRem(ctx, s.attendingKey(platform, user), id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove index entries: %w", err)
	}
	return nil
}

// List reads the channel's index, then the meetings in one pipeline.
func (ms *Meetings) List(ctx context.Context, where bot.Where) ([]*meeting.Meeting, error) {
	s := ms.s
	ids, err := s.c.ZRange(ctx, s.meetingChannelKey(where.Key()), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list meetings of %s: %w", where.Key(), err)
	}
	list, err := ms.readAll(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list meetings of %s: %w", where.Key(), err)
	}
	// An entry a cut-short Update left in its old channel is not this
	// channel's meeting.
	list = slices.DeleteFunc(list, func(m *meeting.Meeting) bool { return m.Where.Key() != where.Key() })
	sortMeetings(list)
	return list, nil
}

// readAll reads meetings in one pipeline, leaving out those that are gone.
func (ms *Meetings) readAll(ctx context.Context, ids []string) ([]*meeting.Meeting, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	s := ms.s
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, s.meetingKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	list := make([]*meeting.Meeting, 0, len(ids))
	for i, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue // deleted since the index was read, or a Delete cut short
		}
		m, err := decodeMeeting(cmd.Val())
		if err != nil {
			return nil, fmt.Errorf("meeting %s: %w", ids[i], err)
		}
		list = append(list, m)
	}
	return list, nil
}

// sortMeetings orders by creation, then id: the index orders by
// millisecond, and this settles finer times and ties as the bolt store
// does.
func sortMeetings(list []*meeting.Meeting) {
	slices.SortStableFunc(list, func(a, b *meeting.Meeting) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Click records a Yes or Maybe in the user's attending set, then runs
// meetingClickScript. See Meetings for why in that order.
func (ms *Meetings) Click(ctx context.Context, c meeting.Click) (*meeting.Meeting, error) {
	m, err := ms.click(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("click on meeting %s: %w", c.Meeting, err)
	}
	return m, nil
}

func (ms *Meetings) click(ctx context.Context, c meeting.Click) (*meeting.Meeting, error) {
	if !c.Answer.Valid() {
		return nil, fmt.Errorf("answer %q is none of yes, maybe, no", c.Answer)
	}
	s := ms.s
	rsvp, err := json.Marshal(meeting.RSVP{User: c.User, Name: c.Name, Answer: c.Answer, At: c.At})
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	ref, err := refField(c.Ref)
	if err != nil {
		return nil, fmt.Errorf("encode message ref: %w", err)
	}
	attends := c.Answer != meeting.No
	if attends && c.Channel.Platform != "" {
		if err := s.c.SAdd(ctx, s.attendingKey(c.Channel.Platform, c.User), c.Meeting).Err(); err != nil {
			return nil, fmt.Errorf("index attendance: %w", err)
		}
	}
	keys := s.meetingKeys(c.Meeting)
	keys = append(keys, keys[0]+":delivery:"+c.Delivery)
	reply, err := meetingClickScript.Run(ctx, s.c, keys,
		c.Channel.Platform, c.Channel.Channel, boolField(c.Invited), c.User, rsvp,
		c.Delivery, meetingClickTTL.Milliseconds(), ref,
	).Slice()
	if err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, errors.New("script returned nothing")
	}
	if status, _ := reply[0].(string); status != "ok" {
		if err, ok := meetingRefusals[status]; ok {
			return nil, err
		}
		return nil, fmt.Errorf("script returned status %v", reply[0])
	}
	if len(reply) != 2 {
		return nil, fmt.Errorf("script returned %v", reply)
	}
	m, err := decodeMeeting(pairs(reply[1]))
	if err != nil {
		return nil, err
	}
	if attends && m.Where.Platform != c.Channel.Platform {
		// An invited click that did not say its platform: the set is
		// the meeting's platform's, known only now.
		if err := s.c.SAdd(ctx, s.attendingKey(m.Where.Platform, c.User), c.Meeting).Err(); err != nil {
			return nil, fmt.Errorf("index attendance: %w", err)
		}
	}
	return m, nil
}

// RSVPs reads the meeting's answers; a meeting without any is told from
// one that does not exist by a look at the meeting itself.
func (ms *Meetings) RSVPs(ctx context.Context, id string) ([]meeting.RSVP, error) {
	s := ms.s
	keys := s.meetingKeys(id)
	var exists *goredis.IntCmd
	var all *goredis.MapStringStringCmd
	_, err := s.c.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		exists = pipe.Exists(ctx, keys[0])
		all = pipe.HGetAll(ctx, keys[1])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("answers to meeting %s: %w", id, err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("answers to meeting %s: %w", id, meeting.ErrNotFound)
	}
	out := make([]meeting.RSVP, 0, len(all.Val()))
	for user, raw := range all.Val() {
		var r meeting.RSVP
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("answers to meeting %s: decode answer of %s: %w", id, user, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Attending reads the user's attending set, then each meeting and the
// user's answer to it, keeping those still answered Yes or Maybe.
func (ms *Meetings) Attending(ctx context.Context, platform, user string) ([]*meeting.Meeting, error) {
	list, err := ms.attending(ctx, platform, user)
	if err != nil {
		return nil, fmt.Errorf("meetings %s:%s attends: %w", platform, user, err)
	}
	return list, nil
}

func (ms *Meetings) attending(ctx context.Context, platform, user string) ([]*meeting.Meeting, error) {
	s := ms.s
	ids, err := s.c.SMembers(ctx, s.attendingKey(platform, user)).Result()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	meetings := make([]*goredis.MapStringStringCmd, len(ids))
	answers := make([]*goredis.StringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, id := range ids {
			keys := s.meetingKeys(id)
			meetings[i] = pipe.HGetAll(ctx, keys[0])
			answers[i] = pipe.HGet(ctx, keys[1], user)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	var list []*meeting.Meeting
	for i, id := range ids {
		raw, err := answers[i].Result()
		if errors.Is(err, goredis.Nil) || len(meetings[i].Val()) == 0 {
			continue // never answered (a refused click), or gone
		}
		if err != nil {
			return nil, fmt.Errorf("answer to meeting %s: %w", id, err)
		}
		var r meeting.RSVP
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("decode answer to meeting %s: %w", id, err)
		}
		if r.Answer != meeting.Yes && r.Answer != meeting.Maybe {
			continue
		}
		m, err := decodeMeeting(meetings[i].Val())
		if err != nil {
			return nil, fmt.Errorf("meeting %s: %w", id, err)
		}
		if m.Where.Platform != platform {
			continue
		}
		list = append(list, m)
	}
	sortMeetings(list)
	return list, nil
}

// feedIdentity is what names a feed, whatever its token: the feed
// without it, as JSON.
func feedIdentity(f meeting.Feed) (string, error) {
	f.Token = ""
	b, err := json.Marshal(f)
	return string(b), err
}

// FeedToken runs meetingFeedScript.
func (ms *Meetings) FeedToken(ctx context.Context, f meeting.Feed, rotate bool) (string, error) {
	s := ms.s
	id, err := feedIdentity(f)
	if err != nil {
		return "", fmt.Errorf("feed token: encode feed: %w", err)
	}
	f.Token = meeting.NewFeedToken()
	js, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("feed token of %s: encode feed: %w", id, err)
	}
	token, err := meetingFeedScript.Run(ctx, s.c, s.feedKeys(), id, f.Token, js, boolField(rotate)).Text()
	if err != nil {
		return "", fmt.Errorf("feed token of %s: %w", id, err)
	}
	return token, nil
}

// FeedByToken reads the feed a token is for.
func (ms *Meetings) FeedByToken(ctx context.Context, token string) (meeting.Feed, error) {
	if token == "" {
		return meeting.Feed{}, fmt.Errorf("feed of token %q: %w", token, meeting.ErrNotFound)
	}
	raw, err := ms.s.c.HGet(ctx, ms.s.feedKeys()[0], token).Result()
	if errors.Is(err, goredis.Nil) {
		err = meeting.ErrNotFound
	}
	if err != nil {
		// A token is a secret: only its start goes into the error.
		return meeting.Feed{}, fmt.Errorf("feed of token %.6s…: %w", token, err)
	}
	var f meeting.Feed
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return meeting.Feed{}, fmt.Errorf("feed of token %.6s…: decode: %w", token, err)
	}
	return f, nil
}
