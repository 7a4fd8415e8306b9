//go:build !linux

package redis_test

import (
	"os"
	"testing"
)

// The Sentinel and Cluster tests start redis-server processes that die
// with the test binary (Pdeathsig), which only Linux offers.

func TestSentinelFailover(t *testing.T) { skipTopology(t) }
func TestClusterFailover(t *testing.T)  { skipTopology(t) }

func skipTopology(t *testing.T) {
	msg := "\n\n*** The Sentinel and Cluster tests run on Linux only: they are NOT run here. ***\n\n"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
