//go:build linux

package redis_test

import (
	"context"
	"strconv"
	"testing"
)

// TestSentinelFailover: kring on a Sentinel group through
// storage.Open("redis-sentinel://…") votes, closes a poll by its job and
// goes on after the master hangs and the sentinels promote its replica,
// without losing a vote acknowledged before the failover began (see
// testFailover for what that can mean with asynchronous replication).
func TestSentinelFailover(t *testing.T) {
	g := startSentinelGroup(t)
	replica := strconv.Itoa(g.replica.port)
	testFailover(t, topology{
		addr:    g.addr(),
		master:  g.master,
		replica: g.replica,
		promoted: func(ctx context.Context) bool {
			for _, s := range g.sentinels {
				if g.masterPort(ctx, s) != replica {
					return false
				}
			}
			return g.replica.info(ctx, "replication")["role"] == "master"
		},
	})
}
