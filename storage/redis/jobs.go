package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kringbot/kring/bot/schedule"
	goredis "github.com/redis/go-redis/v9"
)

// Jobs is the Redis schedule.Store. Jobs belong to no object, and Claim
// must look at all of them in one atomic step, so every job key carries
// the one hash tag {jobs}: in a Cluster all jobs share a slot.
//
// Each kind has its own sorted set of job ids, {jobs}:due:KIND, scored by
// when the job is next claimable: its due time, or the end of its lease
// while it is leased. So a claim reads, for each kind it has room for,
// only the first few members scored at or before now, and its cost does
// not grow with the backlog of due jobs, leased or of a kind whose cap is
// full. The due time itself is in {jobs}:at, which Extend and Done compare
// with the job they are given. The scripts build the per-kind keys from
// the prefix and the kind; they all share the {jobs} slot.
type Jobs struct{ s *Store }

var _ schedule.Store = (*Jobs)(nil)

// jobKeys are the keys every job script declares, in this order.
const (
	kJob   = iota // HASH id → job JSON
	kLease        // HASH id → "untilµs owner"
	kAt           // HASH id → due time (µs)
	kKind         // HASH id → kind, to find the job's sorted set
	kKinds        // SET of kinds that have a sorted set
	kOld          // ZSET of the layout before per-kind sets: id → due (µs)
)

func (s *Store) jobKeys() []string {
	p := s.prefix + "{jobs}:"
	return []string{p + "job", p + "lease", p + "at", p + "kind", p + "kinds", p + "due"}
}

// jobDuePrefix starts the key of a kind's sorted set; the kind ends it.
func (s *Store) jobDuePrefix() string { return s.prefix + "{jobs}:due:" }

// Times in the jobs' keys are Unix microseconds: exact in a float64 score
// and in Lua's numbers until the year 2255.
func micros(t time.Time) int64 { return t.UnixMicro() }

// jobLua is shared by the job scripts. KEYS are jobKeys; ARGV[1] is
// jobDuePrefix. forget removes job id from its kind's set and drops the
// kind from the set of kinds when that leaves its set empty.
const jobLua = `
local function forget(id, kind)
  local key = ARGV[1] .. kind
  redis.call('ZREM', key, id)
  if redis.call('ZCARD', key) == 0 then redis.call('SREM', KEYS[5], kind) end
end
local function place(id, kind, score)
  local old = redis.call('HGET', KEYS[4], id)
  if old and old ~= kind then forget(id, old) end
  redis.call('ZADD', ARGV[1] .. kind, score, id)
  redis.call('HSET', KEYS[4], id, kind)
  redis.call('SADD', KEYS[5], kind)
end
local function remove(id)
  local kind = redis.call('HGET', KEYS[4], id)
  if kind then forget(id, kind) end
  redis.call('ZREM', KEYS[6], id)
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
-- Scores go to Redis as the strings they came as: a Lua number would be
-- formatted on the way, which need not keep every microsecond.
local function leaseEnd(id)
  local lease = redis.call('HGET', KEYS[2], id)
  if not lease then return nil end
  return string.match(lease, '^(-?%d+)')
end
`

// jobMigrateBatch bounds how many jobs of the old layout one script call
// moves, so that Redis answers others between batches.
const jobMigrateBatch = 1000

// jobMigrateScript moves up to ARGV[2] jobs of the layout before per-kind
// sets (one sorted set {jobs}:due for all kinds) into the per-kind sets,
// earliest first, and returns how many are left. A job keeps its lease:
// its score is its lease's end when that is later than its due time. A
// job whose JSON does not decode has no kind to read; it goes to the kind
// "", which no runner caps, so a claim hands it to Claim's caller to
// report.
var jobMigrateScript = goredis.NewScript(jobLua + `
local batch = redis.call('ZRANGE', KEYS[6], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 1, #batch, 2 do
  local id, due = batch[i], batch[i + 1]
  local job = redis.call('HGET', KEYS[1], id)
  if job then
    local ok, decoded = pcall(cjson.decode, job)
    local kind = ok and type(decoded) == 'table' and decoded['kind'] or ''
    if type(kind) ~= 'string' then kind = '' end
    local score = due
    local untilv = leaseEnd(id)
    if untilv and tonumber(untilv) > tonumber(due) then score = untilv end
    place(id, kind, score)
    redis.call('HSET', KEYS[3], id, due)
  end
  redis.call('ZREM', KEYS[6], id)
end
return redis.call('ZCARD', KEYS[6])
`)

// jobPutScript adds or replaces job ARGV[2] of kind ARGV[3], due at
// ARGV[4], with JSON ARGV[5], and drops its lease.
var jobPutScript = goredis.NewScript(jobLua + `
local id = ARGV[2]
redis.call('ZREM', KEYS[6], id)
place(id, ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], id, ARGV[5])
redis.call('HDEL', KEYS[2], id)
redis.call('HSET', KEYS[3], id, ARGV[4])
return 1
`)

// jobCancelScript removes job ARGV[2].
var jobCancelScript = goredis.NewScript(jobLua + `
remove(ARGV[2])
return 1
`)

// jobClaimScript leases up to ARGV[5] claimable jobs to ARGV[4] until
// ARGV[3]: those whose score in their kind's set is at or before now
// (ARGV[2]), so due and not under a lease. ARGV[6..] are pairs of a kind
// and how many jobs of it to lease at most; a kind not named is capped by
// the maximum alone. From each kind's set it reads only the first ones it
// may lease, then merges them by score (ties by id, as a sorted set orders
// them) and leases the first in all: a claim reads at most the number of
// kinds times the maximum, whatever the backlog. It returns nothing, and
// leases nothing, while jobs of the old layout are left to migrate
// (KEYS[6] exists), for ClaimKinds to migrate them first.
var jobClaimScript = goredis.NewScript(jobLua + `
if redis.call('EXISTS', KEYS[6]) == 1 then return {'migrate'} end
local max = tonumber(ARGV[5])
local out = {'jobs'}
if max <= 0 then return out end
local caps = {}
for i = 6, #ARGV - 1, 2 do caps[ARGV[i]] = tonumber(ARGV[i + 1]) end
-- before reports whether a sorts before b as bytes, as a sorted set
-- orders members of equal score (Lua's < follows the locale).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local found = {}
for _, kind in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  local n = math.min(caps[kind] or max, max)
  if n > 0 then
    local key = ARGV[1] .. kind
    local r = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, n)
    for i = 1, #r, 2 do
      found[#found + 1] = {id = r[i], score = tonumber(r[i + 1]), key = key}
    end
  end
end
table.sort(found, function(a, b)
  if a.score ~= b.score then return a.score < b.score end
  return before(a.id, b.id)
end)
for i = 1, math.min(#found, max) do
  local f = found[i]
  local job = redis.call('HGET', KEYS[1], f.id)
  if job then
    local score = ARGV[3]
    local at = redis.call('HGET', KEYS[3], f.id)
    if at and tonumber(at) > tonumber(score) then score = at end
    redis.call('ZADD', f.key, score, f.id)
    redis.call('HSET', KEYS[2], f.id, ARGV[3] .. ' ' .. ARGV[4])
    out[#out + 1] = job
  else
    -- An id without a job is left over from a lost write: drop it.
    redis.call('ZREM', f.key, f.id)
  end
end
return out
`)

// jobExtendScript moves ARGV[4]'s lease on job ARGV[2] to ARGV[5] if the
// job is still due at ARGV[3] and the lease is ARGV[4]'s (Put drops a
// lease, a claim by another owner replaces it). The job's score moves
// with it, never before its due time.
var jobExtendScript = goredis.NewScript(jobLua + `
local id = ARGV[2]
local at = redis.call('HGET', KEYS[3], id)
if not at or tonumber(at) ~= tonumber(ARGV[3]) then return 0 end
local lease = redis.call('HGET', KEYS[2], id)
if not lease or string.match(lease, '^-?%d+ (.*)$') ~= ARGV[4] then return 0 end
local kind = redis.call('HGET', KEYS[4], id)
if not kind then return 0 end
redis.call('HSET', KEYS[2], id, ARGV[5] .. ' ' .. ARGV[4])
local score = ARGV[5]
if tonumber(at) > tonumber(score) then score = at end
redis.call('ZADD', ARGV[1] .. kind, score, id)
return 1
`)

// jobDoneScript removes job ARGV[2] if it is still due at ARGV[3].
var jobDoneScript = goredis.NewScript(jobLua + `
local id = ARGV[2]
local at = redis.call('HGET', KEYS[3], id)
if not at then at = redis.call('ZSCORE', KEYS[6], id) end
if not at or tonumber(at) ~= tonumber(ARGV[3]) then return 0 end
remove(id)
return 1
`)

// Put adds or replaces a job and drops its lease, in one script.
func (j *Jobs) Put(ctx context.Context, job schedule.Job) error {
	v, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("put job %s: encode: %w", job.ID, err)
	}
	err = jobPutScript.Run(ctx, j.s.c, j.s.jobKeys(), j.s.jobDuePrefix(), job.ID, job.Kind, micros(job.Due), v).Err()
	if err != nil {
		return fmt.Errorf("put job %s: %w", job.ID, err)
	}
	return nil
}

// Cancel removes a job, in one script.
func (j *Jobs) Cancel(ctx context.Context, id string) error {
	if err := jobCancelScript.Run(ctx, j.s.c, j.s.jobKeys(), j.s.jobDuePrefix(), id).Err(); err != nil {
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	return nil
}

// Claim runs jobClaimScript.
func (j *Jobs) Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]schedule.Job, error) {
	return j.ClaimKinds(ctx, now, owner, lease, max, nil)
}

// ClaimKinds runs jobClaimScript with a cap per kind. When the store
// still holds jobs in the layout of an older kring, it first moves them
// to the per-kind sets, a batch per script call, so that the claim sees
// them all in order and Redis stays free for others between batches.
func (j *Jobs) ClaimKinds(ctx context.Context, now time.Time, owner string, lease time.Duration, max int, perKind map[string]int) ([]schedule.Job, error) {
	args := make([]any, 0, 5+2*len(perKind))
	args = append(args, j.s.jobDuePrefix(), micros(now), micros(now.Add(lease)), owner, max)
	for kind, n := range perKind {
		args = append(args, kind, n)
	}
	keys := j.s.jobKeys()
	var raw []string
	for {
		var err error
		raw, err = jobClaimScript.Run(ctx, j.s.c, keys, args...).StringSlice()
		if err != nil {
			return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
		}
		if len(raw) == 0 || raw[0] != "migrate" {
			break
		}
		if err := j.migrate(ctx); err != nil {
			return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
		}
	}
	if len(raw) > 0 {
		raw = raw[1:] // "jobs"
	}
	jobs := make([]schedule.Job, 0, len(raw))
	var broken []error
	for _, v := range raw {
		var job schedule.Job
		if err := json.Unmarshal([]byte(v), &job); err != nil {
			// The job is leased now and will be offered again when the
			// lease ends; say which one is broken, and still hand out
			// the good ones leased with it.
			broken = append(broken, fmt.Errorf("decode %.60q: %w", v, err))
			continue
		}
		jobs = append(jobs, job)
	}
	if err := errors.Join(broken...); err != nil {
		return jobs, fmt.Errorf("claim jobs for %s: %w", owner, err)
	}
	return jobs, nil
}

// migrate moves every job of the old layout to the per-kind sets.
func (j *Jobs) migrate(ctx context.Context) error {
	for {
		left, err := jobMigrateScript.Run(ctx, j.s.c, j.s.jobKeys(), j.s.jobDuePrefix(), jobMigrateBatch).Int()
		if err != nil {
			return fmt.Errorf("move jobs to per-kind sets: %w", err)
		}
		if left == 0 {
			return nil
		}
	}
}

// Extend runs jobExtendScript.
func (j *Jobs) Extend(ctx context.Context, job schedule.Job, owner string, until time.Time) (bool, error) {
	held, err := jobExtendScript.Run(ctx, j.s.c, j.s.jobKeys(), j.s.jobDuePrefix(), job.ID, micros(job.Due), owner, micros(until)).Bool()
	if err != nil {
		return false, fmt.Errorf("extend lease on job %s for %s: %w", job.ID, owner, err)
	}
	return held, nil
}

// Done runs jobDoneScript.
func (j *Jobs) Done(ctx context.Context, job schedule.Job) error {
	if err := jobDoneScript.Run(ctx, j.s.c, j.s.jobKeys(), j.s.jobDuePrefix(), job.ID, micros(job.Due)).Err(); err != nil {
		return fmt.Errorf("finish job %s: %w", job.ID, err)
	}
	return nil
}

// Once is SET NX with a TTL.
func (j *Jobs) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ttl = max(ttl, time.Millisecond) // PX takes whole milliseconds, at least one
	isNew, err := j.s.c.SetNX(ctx, j.s.prefix+"once:{"+key+"}", "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("record once %s: %w", key, err)
	}
	return isNew, nil
}
