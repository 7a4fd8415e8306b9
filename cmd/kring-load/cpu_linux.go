package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// processCPU is the CPU time (user and system) process pid has used so far,
// read from /proc/pid/stat; false where it cannot be read.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Linux reports in clock ticks of 1/100 s (USER_HZ) on every
	// architecture Go runs on.
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}
