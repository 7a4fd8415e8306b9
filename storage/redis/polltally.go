package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kringbot/kring/bot/poll"
	goredis "github.com/redis/go-redis/v9"
)

// A poll's tally is a HASH beside its ballots, kept by clickScript in the
// same step as the ballot it changes:
//
//	voters   how many people have a vote in the poll
//	c<i>     votes for option i (absent: 0)
//	n<i>     JSON array of the first poll.NamesKept voters of option i
//	m<i>     the length of n<i>, so a click need not read a full list
//
// A poll stored before tallies existed has none; the first click or read
// builds it from the ballots, once.

// pollTallyLua builds a missing tally from the ballots. KEYS: votes, tally.
// ARGV[1]: poll.NamesKept.
const pollTallyLua = `
-- ballotOptions reads a stored ballot: {"name":…,"options":[…]}, or the
-- bare [...] of a ballot without a name (an anonymous poll's).
local function ballotOptions(raw)
  local v = cjson.decode(raw)
  if v['options'] then return v['options'] end
  return v
end
local function buildTally(votesKey, tallyKey, kept)
  if redis.call('EXISTS', tallyKey) == 1 then return end
  local all = redis.call('HGETALL', votesKey)
  local voters, counts, names = 0, {}, {}
  for i = 1, #all, 2 do
    local options = ballotOptions(all[i + 1])
    if #options > 0 then voters = voters + 1 end
    for _, o in ipairs(options) do
      counts[o] = (counts[o] or 0) + 1
      names[o] = names[o] or {}
      if #names[o] < kept then table.insert(names[o], all[i]) end
    end
  end
  redis.call('HSET', tallyKey, 'voters', voters)
  for o, n in pairs(counts) do
    redis.call('HSET', tallyKey, 'c' .. o, n, 'n' .. o, cjson.encode(names[o]), 'm' .. o, #names[o])
  end
end
`

// clickScript is a whole click: the channel check, the delivery check,
// poll.Toggle (storagetest checks that the Go and Lua rules agree), the
// ballot and the tally, in the poll's slot.
// KEYS: poll, votes, tally, delivery.
// ARGV: platform, channel, voter, anonymous key, name, option, delivery
// ("" for none), delivery ttl in ms, poll.NamesKept, and the clicked
// message's platform, team, channel and id (id "" for none). It returns
// {'ok', voter, the ballot's options, the poll's fields when the click's
// answer needs them}.
var clickScript = goredis.NewScript(pollTallyLua + `
local f = redis.call('HMGET', KEYS[1], 'closed', 'n_options', 'max_votes', 'channel', 'anonymous', 'hidden', 'ref', 'tallied', 'holes', 'kind')
if not f[2] then return {'not_found'} end
local home, platform, channel = f[4] or '', ARGV[1], ARGV[2]
if string.sub(home, 1, #platform + 1) ~= platform .. ':' or string.sub(home, -(#channel + 1)) ~= ':' .. channel then
  return {'not_found'}
end
-- The delivery is recorded first, in the step that tells whether it was
-- seen before; a click that is refused below forgets it again, so that a
-- retry of a refused click is answered as the click was.
local delivery = ARGV[7] ~= ''
if delivery and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[8]) then return {'repeated'} end
local function refuse(...)
  if delivery then redis.call('DEL', KEYS[4]) end
  return {...}
end
if f[1] == '1' then return refuse('closed') end
if f[10] and f[10] ~= '' then return refuse('kind') end
local option = tonumber(ARGV[6])
if option < 0 or option >= tonumber(f[2]) then return refuse('no_option') end
local anonymous, hidden = f[5] == '1', f[6] == '1'
if not f[5] then
  -- stored before the flags had fields of their own
  local p = cjson.decode(redis.call('HGET', KEYS[1], 'poll'))
  anonymous, hidden = p['anonymous'] == true, p['hidden'] == true
end
local voter, name = ARGV[3], ARGV[5]
if anonymous then voter, name = ARGV[4], '' end
local max = tonumber(f[3])
if max < 1 then max = 1 end
local current = {}
local raw = redis.call('HGET', KEYS[2], voter)
if raw then current = ballotOptions(raw) end
local chosen = nil
for i, v in ipairs(current) do
  if v == option then chosen = i break end
end
local after = {}
if chosen then
  for i, v in ipairs(current) do
    if i ~= chosen then after[#after + 1] = v end
  end
elseif #current < max then
  for i, v in ipairs(current) do after[i] = v end
  after[#after + 1] = option
elseif max == 1 then
  after = {option}
else
  return refuse('limit', max)
end
local kept = tonumber(ARGV[9])
if f[8] ~= '1' then
  -- a poll from before tallies, or from before this mark: once
  buildTally(KEYS[2], KEYS[3], kept)
  redis.call('HSET', KEYS[1], 'tallied', '1')
end
if #after == 0 then
  redis.call('HDEL', KEYS[2], voter)
else
  local choices = '[' .. table.concat(after, ',') .. ']'
  if name ~= '' then choices = '{"name":' .. cjson.encode(name) .. ',"options":' .. choices .. '}' end
  redis.call('HSET', KEYS[2], voter, choices)
end
local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end
for _, o in ipairs(current) do
  if not has(after, o) then
    redis.call('HINCRBY', KEYS[3], 'c' .. o, -1)
    local names = redis.call('HGET', KEYS[3], 'n' .. o)
    if names then
      local list, out = cjson.decode(names), {}
      for _, v in ipairs(list) do if v ~= voter then out[#out + 1] = v end end
      if #out < #list then
        if #out == 0 then redis.call('HDEL', KEYS[3], 'n' .. o, 'm' .. o)
        else redis.call('HSET', KEYS[3], 'n' .. o, cjson.encode(out), 'm' .. o, #out) end
        if f[9] ~= '1' then redis.call('HSET', KEYS[1], 'holes', '1') end
      end
    end
  end
end
for _, o in ipairs(after) do
  if not has(current, o) then
    local count = redis.call('HINCRBY', KEYS[3], 'c' .. o, 1)
    -- m<o> is the length of n<o>: a full list is not read on every click.
    -- Until a named voter is taken off a list (the poll's 'holes'), a
    -- list holds the first min(count, kept) voters, so past kept votes
    -- it is full and m<o> need not be read either.
    if (count <= kept or f[9] == '1') and (tonumber(redis.call('HGET', KEYS[3], 'm' .. o)) or 0) < kept then
      local names = redis.call('HGET', KEYS[3], 'n' .. o)
      local list = {}
      if names then list = cjson.decode(names) end
      if #list < kept then
        list[#list + 1] = voter
        redis.call('HSET', KEYS[3], 'n' .. o, cjson.encode(list), 'm' .. o, #list)
      else
        redis.call('HSET', KEYS[3], 'm' .. o, #list) -- a tally from before m<o>
      end
    end
  end
end
if #current == 0 and #after > 0 then redis.call('HINCRBY', KEYS[3], 'voters', 1) end
if #current > 0 and #after == 0 then redis.call('HINCRBY', KEYS[3], 'voters', -1) end
if (f[7] == false or f[7] == '') and ARGV[13] ~= '' then
  -- posted, but its message id was never recorded (the store failed right
  -- after posting): the click tells where it is
  redis.call('HSET', KEYS[1], 'ref', cjson.encode({platform = ARGV[10], team = ARGV[11], channel = ARGV[12], id = ARGV[13]}))
end
local fields = {}
if anonymous or hidden then fields = redis.call('HGETALL', KEYS[1]) end
return {'ok', voter, after, fields}
`)

// Click runs clickScript: one round trip for the whole click.
func (p *Polls) Click(ctx context.Context, c poll.Click) (poll.Clicked, error) {
	s := p.s
	keys := s.pollKeys(c.Poll)
	keys = append(keys, keys[0]+":delivery:"+c.Delivery)
	reply, err := clickScript.Run(ctx, s.c,
		keys,
		c.Channel.Platform, c.Channel.Channel, c.Voter, c.AnonKey, c.Name, c.Option,
		c.Delivery, poll.ClickDeliveryTTL.Milliseconds(), poll.NamesKept,
		c.Ref.Platform, c.Ref.Team, c.Ref.Channel, c.Ref.ID,
	).Slice()
	if err == nil {
		err = refusal(reply)
	}
	if errors.Is(err, poll.ErrVoteLimit) && len(reply) == 2 {
		n, _ := reply[1].(int64)
		return poll.Clicked{MaxVotes: int(n)}, fmt.Errorf("click on poll %s: %w", c.Poll, err)
	}
	if err != nil {
		return poll.Clicked{}, fmt.Errorf("click on poll %s: %w", c.Poll, err)
	}
	if len(reply) != 4 {
		return poll.Clicked{}, fmt.Errorf("click on poll %s: script returned %v", c.Poll, reply)
	}
	voter, _ := reply[1].(string)
	b := poll.Ballot{Voter: voter, Options: []int{}}
	chosen, _ := reply[2].([]any)
	for _, o := range chosen {
		n, ok := o.(int64)
		if !ok {
			return poll.Clicked{}, fmt.Errorf("click on poll %s: script returned option %v", c.Poll, o)
		}
		b.Options = append(b.Options, int(n))
	}
	var out poll.Clicked
	if fields := pairs(reply[3]); len(fields) > 0 {
		pl, err := decodePoll(fields)
		if err != nil {
			return poll.Clicked{}, fmt.Errorf("click on poll %s: %w", c.Poll, err)
		}
		out.Poll = pl
	}
	if out.Poll == nil || !out.Poll.Anonymous {
		b.Name = c.Name
	}
	out.Ballot = b
	return out, nil
}

// tallyScript reads a poll, its tally and the names of the voters the
// tally keeps, building a missing tally first. KEYS: poll, votes, tally.
// ARGV[1]: poll.NamesKept.
var tallyScript = goredis.NewScript(pollTallyLua + `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return {} end
buildTally(KEYS[2], KEYS[3], tonumber(ARGV[1]))
local tally = redis.call('HGETALL', KEYS[3])
local voters = {}
for i = 1, #tally, 2 do
  if string.sub(tally[i], 1, 1) == 'n' then
    for _, v in ipairs(cjson.decode(tally[i + 1])) do voters[#voters + 1] = v end
  end
end
local names = {}
if #voters > 0 then names = redis.call('HMGET', KEYS[2], unpack(voters)) end
return {fields, tally, voters, names}
`)

// Tally runs tallyScript: a read whose cost does not grow with the
// number of voters.
func (p *Polls) Tally(ctx context.Context, id string) (*poll.Poll, poll.Tally, error) {
	s := p.s
	reply, err := tallyScript.Run(ctx, s.c, s.pollKeys(id), poll.NamesKept).Slice()
	if err != nil {
		return nil, poll.Tally{}, fmt.Errorf("tally poll %s: %w", id, err)
	}
	if len(reply) == 0 {
		return nil, poll.Tally{}, fmt.Errorf("tally poll %s: %w", id, poll.ErrNotFound)
	}
	if len(reply) != 4 {
		return nil, poll.Tally{}, fmt.Errorf("tally poll %s: script returned %d parts", id, len(reply))
	}
	pl, err := decodePoll(pairs(reply[0]))
	if err != nil {
		return nil, poll.Tally{}, fmt.Errorf("tally poll %s: %w", id, err)
	}
	voters, _ := reply[2].([]any)
	ballots, _ := reply[3].([]any)
	names := make(map[string]string, len(voters))
	for i, v := range voters {
		voter, _ := v.(string)
		if i >= len(ballots) {
			break
		}
		raw, _ := ballots[i].(string)
		if b, err := decodeBallot(raw); err == nil {
			names[voter] = b.Name
		}
	}
	t := poll.NewTally(len(pl.Options))
	for k, v := range pairs(reply[1]) {
		switch {
		case k == "voters":
			t.Voters, _ = strconv.Atoi(v)
		case k[0] == 'c':
			if o, err := strconv.Atoi(k[1:]); err == nil && o < len(t.Counts) {
				t.Counts[o], _ = strconv.Atoi(v)
			}
		case k[0] == 'n':
			o, err := strconv.Atoi(k[1:])
			var ids []string
			if err != nil || o >= len(t.Counts) || json.Unmarshal([]byte(v), &ids) != nil {
				continue
			}
			if !pl.Anonymous {
				t.Named(o, ids, names)
			}
		}
	}
	t.Sort()
	return pl, t, nil
}

// pairs reads a flat [k1, v1, k2, v2, …] script reply as a map.
func pairs(v any) map[string]string {
	list, _ := v.([]any)
	m := make(map[string]string, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		k, _ := list[i].(string)
		val, _ := list[i+1].(string)
		m[k] = val
	}
	return m
}
