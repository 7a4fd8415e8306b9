package main

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"time"
)

// cpuUse is the CPU a handler's process and Redis used during a burst. On
// a machine that is busy with other work the throughput of both sides
// drops, but the CPU each spends per click barely moves: it says where
// kring's time goes when the ratio alone cannot.
type cpuUse struct {
	pid          int
	fl           *floor
	process      time.Duration // the handler's process; 0 when not measured
	redis        time.Duration // the Redis server, all its clients together
	processKnown bool
	redisKnown   bool
}

// startCPU notes the CPU used so far by process pid (0: none to measure)
// and by the Redis behind fl.
func startCPU(ctx context.Context, pid int, fl *floor) *cpuUse {
	u := &cpuUse{pid: pid, fl: fl}
	if pid != 0 {
		u.process, u.processKnown = processCPU(pid)
	}
	u.redis, u.redisKnown = redisCPU(ctx, fl)
	return u
}

// stop turns the noted figures into what was used since startCPU.
func (u *cpuUse) stop(ctx context.Context) {
	if u.processKnown {
		now, ok := processCPU(u.pid)
		u.process, u.processKnown = now-u.process, ok
	}
	if u.redisKnown {
		now, ok := redisCPU(ctx, u.fl)
		u.redis, u.redisKnown = now-u.redis, ok
	}
}

// perClick is d spread over n clicks, in µs, or "" when not measured.
func perClick(d time.Duration, known bool, n int) string {
	if !known || n == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(d.Microseconds())/float64(n), 'f', 0, 64)
}

// redisCPU is the CPU the Redis server has used so far, from INFO cpu.
func redisCPU(ctx context.Context, fl *floor) (time.Duration, bool) {
	info, err := fl.rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, false
	}
	var total float64
	found := 0
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		total += f
		found++
	}
	return time.Duration(total * float64(time.Second)), found == 2
}
