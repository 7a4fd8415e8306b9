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
// the one hash tag {jobs}: in a Cluster all jobs share a slot. kring has
// few jobs (a handful per poll, meeting or digest), so one slot holds them
// easily.
type Jobs struct{ s *Store }

var _ schedule.Store = (*Jobs)(nil)

func (s *Store) jobKeys() []string {
	return []string{s.prefix + "{jobs}:due", s.prefix + "{jobs}:job", s.prefix + "{jobs}:lease"}
}

// Times in the jobs' keys are Unix microseconds: exact in a float64 score
// and in Lua's numbers until the year 2255.
func micros(t time.Time) int64 { return t.UnixMicro() }

// jobClaimScript leases up to ARGV[4] due jobs to ARGV[3] until ARGV[2],
// earliest first, skipping those whose lease ends after now (ARGV[1]).
// ARGV[5..] are pairs of a kind and how many jobs of it to lease at most;
// the jobs of a kind over its cap stay unleased. KEYS: due, job, lease.
var jobClaimScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[4])
local out = {}
if max <= 0 then return out end
local caps = nil
if #ARGV > 4 then
  caps = {}
  for i = 5, #ARGV - 1, 2 do caps[ARGV[i]] = tonumber(ARGV[i + 1]) end
end
local taken = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local lease = redis.call('HGET', KEYS[3], id)
  local leased = false
  if lease then
    local untilv = tonumber(string.match(lease, '^(-?%d+)'))
    leased = untilv ~= nil and untilv > now
  end
  if not leased then
    local job = redis.call('HGET', KEYS[2], id)
    local take = job ~= false
    if take and caps then
      -- A job that does not decode has no kind: Claim's caller reports it.
      local ok, decoded = pcall(cjson.decode, job)
      local kind = ok and type(decoded) == 'table' and decoded['kind'] or nil
      local limit = kind and caps[kind]
      if limit then
        local n = taken[kind] or 0
        if n >= limit then
          take = false
        else
          taken[kind] = n + 1
        end
      end
    end
    if take then
      redis.call('HSET', KEYS[3], id, ARGV[2] .. ' ' .. ARGV[3])
      out[#out + 1] = job
      if #out >= max then break end
    end
  end
end
return out
`)

// jobExtendScript moves ARGV[3]'s lease on job ARGV[1] to ARGV[4] if the
// job is still due at ARGV[2] and the lease is ARGV[3]'s (Put drops a
// lease, a claim by another owner replaces it). KEYS: due, job, lease.
var jobExtendScript = goredis.NewScript(`
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) ~= tonumber(ARGV[2]) then return 0 end
local lease = redis.call('HGET', KEYS[3], ARGV[1])
if not lease or string.match(lease, '^-?%d+ (.*)$') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4] .. ' ' .. ARGV[3])
return 1
`)

// jobDoneScript removes job ARGV[1] if it is still due at ARGV[2].
// KEYS: due, job, lease.
var jobDoneScript = goredis.NewScript(`
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`)

// Put adds or replaces a job and drops its lease, in one MULTI.
func (j *Jobs) Put(ctx context.Context, job schedule.Job) error {
	v, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("put job %s: encode: %w", job.ID, err)
	}
	k := j.s.jobKeys()
	_, err = j.s.c.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.ZAdd(ctx, k[0], goredis.Z{Score: float64(micros(job.Due)), Member: job.ID})
		pipe.HSet(ctx, k[1], job.ID, v)
		pipe.HDel(ctx, k[2], job.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("put job %s: %w", job.ID, err)
	}
	return nil
}

// Cancel removes a job, in one MULTI.
func (j *Jobs) Cancel(ctx context.Context, id string) error {
	k := j.s.jobKeys()
	_, err := j.s.c.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.ZRem(ctx, k[0], id)
		pipe.HDel(ctx, k[1], id)
		pipe.HDel(ctx, k[2], id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	return nil
}

// Claim runs jobClaimScript.
func (j *Jobs) Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]schedule.Job, error) {
	return j.ClaimKinds(ctx, now, owner, lease, max, nil)
}

// ClaimKinds runs jobClaimScript with a cap per kind.
func (j *Jobs) ClaimKinds(ctx context.Context, now time.Time, owner string, lease time.Duration, max int, perKind map[string]int) ([]schedule.Job, error) {
	args := make([]any, 0, 4+2*len(perKind))
	args = append(args, micros(now), micros(now.Add(lease)), owner, max)
	for kind, n := range perKind {
		args = append(args, kind, n)
	}
	raw, err := jobClaimScript.Run(ctx, j.s.c, j.s.jobKeys(), args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
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

// Extend runs jobExtendScript.
func (j *Jobs) Extend(ctx context.Context, job schedule.Job, owner string, until time.Time) (bool, error) {
	held, err := jobExtendScript.Run(ctx, j.s.c, j.s.jobKeys(), job.ID, micros(job.Due), owner, micros(until)).Bool()
	if err != nil {
		return false, fmt.Errorf("extend lease on job %s for %s: %w", job.ID, owner, err)
	}
	return held, nil
}

// Done runs jobDoneScript.
func (j *Jobs) Done(ctx context.Context, job schedule.Job) error {
	if err := jobDoneScript.Run(ctx, j.s.c, j.s.jobKeys(), job.ID, micros(job.Due)).Err(); err != nil {
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
