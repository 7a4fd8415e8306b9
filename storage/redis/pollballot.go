package redis

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kringbot/kring/bot/poll"
	goredis "github.com/redis/go-redis/v9"
)

// setBallotScript replaces a voter's whole ballot in a ranked or dot-vote
// poll and moves the tally by the difference: the old ballot's points come
// off, the new one's go on. It lives beside clickScript rather than in it,
// so the click on a button stays as short as it was.
// KEYS: poll, votes, tally.
// ARGV: platform, channel, voter, anonymous key, name, the ballot as the
// votes hash stores it (JSON; its name is replaced in an anonymous poll),
// the options as JSON, their points as JSON, poll.NamesKept.
var setBallotScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'closed', 'n_options', 'channel', 'anonymous', 'hidden', 'kind')
if not f[2] then return {'not_found'} end
local home, platform, channel = f[3] or '', ARGV[1], ARGV[2]
if string.sub(home, 1, #platform + 1) ~= platform .. ':' or string.sub(home, -(#channel + 1)) ~= ':' .. channel then
  return {'not_found'}
end
if f[1] == '1' then return {'closed'} end
if not f[6] or f[6] == '' then return {'kind'} end
local options, points = cjson.decode(ARGV[7]), cjson.decode(ARGV[8])
local n = tonumber(f[2])
for _, o in ipairs(options) do
  if o < 0 or o >= n then return {'no_option'} end
end
local anonymous, hidden = f[4] == '1', f[5] == '1'
local voter, stored = ARGV[3], ARGV[6]
if anonymous then
  voter = ARGV[4]
  stored = '{"name":"","options":' .. ARGV[7] .. ',"points":' .. ARGV[8] .. '}'
end
local kept = tonumber(ARGV[9])
local raw = redis.call('HGET', KEYS[2], voter)
local before = {}
if raw then
  local b = cjson.decode(raw)
  before = {b['options'] or {}, b['points'] or {}}
else
  before = {{}, {}}
end
for i, o in ipairs(before[1]) do
  redis.call('HINCRBY', KEYS[3], 'c' .. o, -(before[2][i] or 0))
  local names = redis.call('HGET', KEYS[3], 'n' .. o)
  if names then
    local out = {}
    for _, v in ipairs(cjson.decode(names)) do if v ~= voter then out[#out + 1] = v end end
    if #out == 0 then redis.call('HDEL', KEYS[3], 'n' .. o, 'm' .. o)
    else redis.call('HSET', KEYS[3], 'n' .. o, cjson.encode(out), 'm' .. o, #out) end
  end
end
for i, o in ipairs(options) do
  redis.call('HINCRBY', KEYS[3], 'c' .. o, points[i] or 0)
  local names = redis.call('HGET', KEYS[3], 'n' .. o)
  local list = {}
  if names then list = cjson.decode(names) end
  if #list < kept then
    list[#list + 1] = voter
    redis.call('HSET', KEYS[3], 'n' .. o, cjson.encode(list), 'm' .. o, #list)
  end
end
if #before[1] == 0 and #options > 0 then redis.call('HINCRBY', KEYS[3], 'voters', 1) end
if #before[1] > 0 and #options == 0 then redis.call('HINCRBY', KEYS[3], 'voters', -1) end
if #options == 0 then
  redis.call('HDEL', KEYS[2], voter)
else
  redis.call('HSET', KEYS[2], voter, stored)
end
local fields = {}
if anonymous or hidden then fields = redis.call('HGETALL', KEYS[1]) end
return {'ok', voter, fields}
`)

// SetBallot runs setBallotScript: one round trip for a whole ballot.
func (p *Polls) SetBallot(ctx context.Context, c poll.Cast) (poll.Clicked, error) {
	s := p.s
	options, points := c.Options, c.Points
	if options == nil {
		options = []int{}
	}
	if points == nil {
		points = make([]int, len(options))
	}
	stored, err := json.Marshal(storedBallot{Name: c.Name, Options: options, Points: points})
	if err != nil {
		return poll.Clicked{}, fmt.Errorf("set ballot in poll %s: encode: %w", c.Poll, err)
	}
	optionsJSON, _ := json.Marshal(options) // []int always encodes
	pointsJSON, _ := json.Marshal(points)
	reply, err := setBallotScript.Run(ctx, s.c, s.pollKeys(c.Poll),
		c.Channel.Platform, c.Channel.Channel, c.Voter, c.AnonKey, c.Name,
		stored, optionsJSON, pointsJSON, poll.NamesKept,
	).Slice()
	if err == nil {
		err = refusal(reply)
	}
	if err != nil {
		return poll.Clicked{}, fmt.Errorf("set ballot in poll %s: %w", c.Poll, err)
	}
	if len(reply) != 3 {
		return poll.Clicked{}, fmt.Errorf("set ballot in poll %s: script returned %v", c.Poll, reply)
	}
	voter, _ := reply[1].(string)
	b := poll.Ballot{Voter: voter, Options: []int{}}
	if len(c.Options) > 0 {
		b.Options, b.Points = options, points
	}
	var out poll.Clicked
	if fields := pairs(reply[2]); len(fields) > 0 {
		pl, err := decodePoll(fields)
		if err != nil {
			return poll.Clicked{}, fmt.Errorf("set ballot in poll %s: %w", c.Poll, err)
		}
		out.Poll = pl
	}
	if out.Poll == nil || !out.Poll.Anonymous {
		b.Name = c.Name
	}
	out.Ballot = b
	return out, nil
}
