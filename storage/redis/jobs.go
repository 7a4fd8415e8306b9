package redis

import (
	"context"
	"encoding/json"
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

// claimScript leases up to ARGV[4] due jobs to ARGV[3] until ARGV[2],
// earliest first, skipping those whose lease ends after now (ARGV[1]).
// KEYS: due, job, lease.
var claimScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[4])
local out = {}
if max <= 0 then return out end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local lease = redis.call('HGET', KEYS[3], id)
  local leased = false
  if lease then
    local untilv = tonumber(string.match(lease, '^(-?%d+)'))
    leased = untilv ~= nil and untilv > now
  end
  if not leased then
    local job = redis.call('HGET', KEYS[2], id)
    if job then
      redis.call('HSET', KEYS[3], id, ARGV[2] .. ' ' .. ARGV[3])
      out[#out + 1] = job
      if #out >= max then break end
    end
  end
end
return out
`)

// doneScript removes job ARGV[1] if it is still due at ARGV[2].
// KEYS: due, job, lease.
var doneScript = goredis.NewScript(`
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

// Claim runs claimScript.
func (j *Jobs) Claim(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]schedule.Job, error) {
	raw, err := claimScript.Run(ctx, j.s.c, j.s.jobKeys(), micros(now), micros(now.Add(lease)), owner, max).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
	}
	jobs := make([]schedule.Job, 0, len(raw))
	for _, v := range raw {
		var job schedule.Job
		if err := json.Unmarshal([]byte(v), &job); err != nil {
			// The job is leased now and will be offered again when the
			// lease ends; say which one is broken.
			return jobs, fmt.Errorf("claim jobs for %s: decode %.60q: %w", owner, v, err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// Done runs doneScript.
func (j *Jobs) Done(ctx context.Context, job schedule.Job) error {
	if err := doneScript.Run(ctx, j.s.c, j.s.jobKeys(), job.ID, micros(job.Due)).Err(); err != nil {
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
