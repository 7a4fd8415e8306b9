package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	goredis "github.com/redis/go-redis/v9"
)

// Polls is the Redis poll.Store.
//
// A poll is a HASH with a field for each part that changes on its own, so
// that closing, recording the message and adding an option never overwrite
// each other:
//
//	poll       the poll as created, JSON, without the parts below
//	options    JSON array of options        (AddOption appends, in Lua)
//	labels     JSON array of folded labels  (AddOption's duplicate check)
//	n_options  number of options            (Vote's range check)
//	max_votes  votes per person
//	closed     "1" or "0"
//	closed_at  RFC 3339 time, "" while open
//	ref        the posted message, JSON, "" until posted
//	channel    where.Key(), to find the index entry on Delete
//	kind       poll.Poll.Kind: "" for buttons, else set by SetBallot only
//
// Its ballots are a second HASH, voter → {"name":..., "options":[...]},
// and its tally a third (see clickScript), all in the same Cluster slot,
// so a Lua script sees them together.
type Polls struct{ s *Store }

var _ poll.Store = (*Polls)(nil)

func (s *Store) pollKey(id string) string  { return s.prefix + "poll:{" + id + "}" }
func (s *Store) votesKey(id string) string { return s.pollKey(id) + ":votes" }
func (s *Store) tallyKey(id string) string { return s.pollKey(id) + ":tally" }

// pollKeys are a poll's hash, ballots and tally, in that order, built from
// one pollKey: the keys every script on the whole poll takes.
func (s *Store) pollKeys(id string) []string {
	base := s.pollKey(id)
	return []string{base, base + ":votes", base + ":tally"}
}
func (s *Store) channelKey(where string) string {
	return s.prefix + "channel:{" + where + "}:polls"
}

// Replies of the scripts that refuse; each maps to the store's error.
var refusals = map[string]error{
	"not_found": poll.ErrNotFound,
	"closed":    poll.ErrClosed,
	"no_option": poll.ErrNoSuchOption,
	"limit":     poll.ErrVoteLimit,
	"too_many":  poll.ErrTooManyOption,
	"duplicate": poll.ErrDuplicate,
	"repeated":  bot.ErrRepeated,
	"kind":      poll.ErrWrongKind,
}

// createScript stores a poll unless its id is taken, with an empty
// tally. It clears any ballots a half-finished Delete may have left under
// the id. KEYS: poll, votes, tally.
var createScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('HSET', KEYS[3], 'voters', 0)
redis.call('HSET', KEYS[1], 'tallied', '1')
return 1
`)

// addOptionScript appends an option. The JSON arrays are extended as
// text, so the existing options stay byte for byte as Go wrote them.
// KEYS: poll. ARGV: option JSON, folded label JSON, poll.MaxOptions.
var addOptionScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'closed', 'options', 'labels', 'n_options')
if not f[2] then return {'not_found'} end
if f[1] == '1' then return {'closed'} end
local label = cjson.decode(ARGV[2])
for _, l in ipairs(cjson.decode(f[3])) do
  if l == label then return {'duplicate'} end
end
local n = tonumber(f[4])
if n >= tonumber(ARGV[3]) then return {'too_many'} end
local sep = ','
if n == 0 then sep = '' end
redis.call('HSET', KEYS[1],
  'options', string.sub(f[2], 1, -2) .. sep .. ARGV[1] .. ']',
  'labels', string.sub(f[3], 1, -2) .. sep .. ARGV[2] .. ']',
  'n_options', n + 1)
return {'ok', n}
`)

// setScript sets fields of an existing hash; 0 when there is none.
var setScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// deleteScript removes a poll and its ballots and returns its channel
// key, or nil when there was no poll.
var deleteScript = goredis.NewScript(`
local channel = redis.call('HGET', KEYS[1], 'channel')
if not channel then return false end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return channel
`)

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func timeField(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func refField(r bot.Ref) (string, error) {
	if r == (bot.Ref{}) {
		return "", nil
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// Create stores the poll, then indexes it under its channel.
func (p *Polls) Create(ctx context.Context, pl *poll.Poll) error {
	if err := p.create(ctx, pl); err != nil {
		return fmt.Errorf("create poll %s: %w", pl.ID, err)
	}
	return nil
}

func (p *Polls) create(ctx context.Context, pl *poll.Poll) error {
	base := *pl
	base.Options, base.Ref, base.Closed, base.ClosedAt = nil, bot.Ref{}, false, time.Time{}
	baseJSON, err := json.Marshal(base)
	if err != nil {
		return fmt.Errorf("encode poll: %w", err)
	}
	options := pl.Options
	if options == nil {
		options = []poll.Option{}
	}
	optionsJSON, err := json.Marshal(options)
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	labels := make([]string, len(options))
	for i, o := range options {
		labels[i] = poll.FoldLabel(o.Label)
	}
	labelsJSON, err := json.Marshal(labels)
	if err != nil {
		return fmt.Errorf("encode labels: %w", err)
	}
	ref, err := refField(pl.Ref)
	if err != nil {
		return fmt.Errorf("encode message ref: %w", err)
	}
	s := p.s
	created, err := createScript.Run(ctx, s.c, s.pollKeys(pl.ID),
		"poll", baseJSON,
		"options", optionsJSON,
		"labels", labelsJSON,
		"n_options", len(options),
		"max_votes", pl.MaxVotes,
		"closed", boolField(pl.Closed),
		"closed_at", timeField(pl.ClosedAt),
		"ref", ref,
		"channel", pl.Where.Key(),
		"anonymous", boolField(pl.Anonymous),
		"hidden", boolField(pl.Hidden),
		"kind", pl.Kind,
	).Int()
	if err != nil {
		return err
	}
	if created == 0 {
		return poll.ErrExists
	}
	// The index lives in the channel's slot, so it cannot join the script.
	// If indexing fails, the poll is taken back so a retry starts clean.
	err = s.c.ZAdd(ctx, s.channelKey(pl.Where.Key()), goredis.Z{Score: float64(pl.Created.UnixMilli()), Member: pl.ID}).Err()
	if err != nil {
		if derr := s.c.Del(ctx, s.pollKeys(pl.ID)...).Err(); derr != nil {
			return fmt.Errorf("index poll: %w (and removing it again: %v)", err, derr)
		}
		return fmt.Errorf("index poll: %w", err)
	}
	return nil
}

// decodePoll assembles a poll from its hash fields.
func decodePoll(f map[string]string) (*poll.Poll, error) {
	pl := new(poll.Poll)
	if err := json.Unmarshal([]byte(f["poll"]), pl); err != nil {
		return nil, fmt.Errorf("decode poll: %w", err)
	}
	if err := json.Unmarshal([]byte(f["options"]), &pl.Options); err != nil {
		return nil, fmt.Errorf("decode options: %w", err)
	}
	if r := f["ref"]; r != "" {
		if err := json.Unmarshal([]byte(r), &pl.Ref); err != nil {
			return nil, fmt.Errorf("decode message ref: %w", err)
		}
	}
	pl.Closed = f["closed"] == "1"
	if at := f["closed_at"]; at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("decode closing time: %w", err)
		}
		pl.ClosedAt = t
	}
	return pl, nil
}

// storedBallot is a ballot as the votes hash holds it; the voter is the
// field name. A ballot without a name (an anonymous poll's) is stored as
// the bare array of its options, which saves Redis memory per vote.
type storedBallot struct {
	Name    string `json:"name"`
	Options []int  `json:"options"`
	Points  []int  `json:"points,omitempty"` // a ranked or dot-vote poll's
}

func decodeBallot(raw string) (storedBallot, error) {
	var b storedBallot
	if strings.HasPrefix(raw, "[") {
		err := json.Unmarshal([]byte(raw), &b.Options)
		return b, err
	}
	err := json.Unmarshal([]byte(raw), &b)
	return b, err
}

// Get reads the poll and its ballots in one MULTI, so they agree.
func (p *Polls) Get(ctx context.Context, id string) (*poll.Poll, []poll.Ballot, error) {
	s := p.s
	var pollCmd, votesCmd *goredis.MapStringStringCmd
	_, err := s.c.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pollCmd = pipe.HGetAll(ctx, s.pollKey(id))
		votesCmd = pipe.HGetAll(ctx, s.votesKey(id))
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	fields := pollCmd.Val()
	if len(fields) == 0 {
		return nil, nil, fmt.Errorf("get poll %s: %w", id, poll.ErrNotFound)
	}
	pl, err := decodePoll(fields)
	if err != nil {
		return nil, nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	votes := votesCmd.Val()
	ballots := make([]poll.Ballot, 0, len(votes))
	for voter, v := range votes {
		b, err := decodeBallot(v)
		if err != nil {
			return nil, nil, fmt.Errorf("get poll %s: decode ballot of %s: %w", id, voter, err)
		}
		ballots = append(ballots, poll.Ballot{Voter: voter, Name: b.Name, Options: b.Options, Points: b.Points})
	}
	return pl, ballots, nil
}

// Poll returns the poll without reading its ballots.
func (p *Polls) Poll(ctx context.Context, id string) (*poll.Poll, error) {
	fields, err := p.s.c.HGetAll(ctx, p.s.pollKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("get poll %s: %w", id, poll.ErrNotFound)
	}
	pl, err := decodePoll(fields)
	if err != nil {
		return nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	return pl, nil
}

// refusal reads a script's status, the first element of its reply.
func refusal(reply []any) error {
	if len(reply) == 0 {
		return errors.New("script returned nothing")
	}
	status, _ := reply[0].(string)
	if status == "ok" {
		return nil
	}
	if err, ok := refusals[status]; ok {
		return err
	}
	return fmt.Errorf("script returned status %v", reply[0])
}

// AddOption runs addOptionScript.
func (p *Polls) AddOption(ctx context.Context, id string, o poll.Option) (int, error) {
	s := p.s
	optionJSON, err := json.Marshal(o)
	if err != nil {
		return 0, fmt.Errorf("add option to poll %s: encode: %w", id, err)
	}
	labelJSON, err := json.Marshal(poll.FoldLabel(o.Label))
	if err != nil {
		return 0, fmt.Errorf("add option to poll %s: encode: %w", id, err)
	}
	reply, err := addOptionScript.Run(ctx, s.c, []string{s.pollKey(id)}, optionJSON, labelJSON, poll.MaxOptions).Slice()
	if err == nil {
		err = refusal(reply)
	}
	if err != nil {
		return 0, fmt.Errorf("add option to poll %s: %w", id, err)
	}
	if len(reply) != 2 {
		return 0, fmt.Errorf("add option to poll %s: script returned %v", id, reply)
	}
	i, ok := reply[1].(int64)
	if !ok {
		return 0, fmt.Errorf("add option to poll %s: script returned %T for the index", id, reply[1])
	}
	return int(i), nil
}

// set sets fields of poll id, which must exist.
func (p *Polls) set(ctx context.Context, id string, fieldValues ...any) error {
	ok, err := setScript.Run(ctx, p.s.c, []string{p.s.pollKey(id)}, fieldValues...).Int()
	if err != nil {
		return err
	}
	if ok == 0 {
		return poll.ErrNotFound
	}
	return nil
}

// SetRef records where the poll's message was posted.
func (p *Polls) SetRef(ctx context.Context, id string, ref bot.Ref) error {
	v, err := refField(ref)
	if err == nil {
		err = p.set(ctx, id, "ref", v)
	}
	if err != nil {
		return fmt.Errorf("set message of poll %s: %w", id, err)
	}
	return nil
}

// SetClosed closes or reopens a poll; ballots stay.
func (p *Polls) SetClosed(ctx context.Context, id string, closed bool, at time.Time) error {
	if !closed {
		at = time.Time{}
	}
	if err := p.set(ctx, id, "closed", boolField(closed), "closed_at", timeField(at)); err != nil {
		return fmt.Errorf("set poll %s closed=%t: %w", id, closed, err)
	}
	return nil
}

// Delete removes the poll and its ballots, then its index entry.
func (p *Polls) Delete(ctx context.Context, id string) error {
	s := p.s
	channel, err := deleteScript.Run(ctx, s.c, s.pollKeys(id)).Text()
	if errors.Is(err, goredis.Nil) {
		err = poll.ErrNotFound
	}
	if err == nil {
		err = s.c.ZRem(ctx, s.channelKey(channel), id).Err()
	}
	if err != nil {
		return fmt.Errorf("delete poll %s: %w", id, err)
	}
	return nil
}

// List reads the channel's index, then the polls in one pipeline.
func (p *Polls) List(ctx context.Context, where bot.Where) ([]*poll.Poll, error) {
	s := p.s
	ids, err := s.c.ZRevRange(ctx, s.channelKey(where.Key()), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list polls of %s: %w", where.Key(), err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, s.pollKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list polls of %s: %w", where.Key(), err)
	}
	polls := make([]*poll.Poll, 0, len(ids))
	for i, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue // deleted since the index was read, or a Delete cut short
		}
		pl, err := decodePoll(cmd.Val())
		if err != nil {
			return nil, fmt.Errorf("list polls of %s: poll %s: %w", where.Key(), ids[i], err)
		}
		polls = append(polls, pl)
	}
	// The index orders by millisecond; this settles finer times and ties
	// the way the bolt store does.
	slices.SortStableFunc(polls, func(a, b *poll.Poll) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return polls, nil
}
