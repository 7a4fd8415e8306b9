//go:build linux

package redis_test

import (
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
	kredis "github.com/kringbot/kring/storage/redis"
	"github.com/kringbot/kring/storage/storagetest"
	goredis "github.com/redis/go-redis/v9"
)

// TestClusterJobs runs the job suite on a Redis Cluster of its own. The
// job scripts build each kind's key from the prefix and the kind, keys
// they cannot declare; a Cluster refuses a script that reaches outside
// its declared keys' slot, so this checks that every job key stays in
// the {jobs} slot.
func TestClusterJobs(t *testing.T) {
	c := startCluster(t)
	addrs := strings.Split(c.addr(), ",")
	storagetest.TestJobs(t, func(t *testing.T) schedule.Store {
		client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
		s := kredis.New(client, "kringtest:"+bot.NewID(6)+":")
		t.Cleanup(func() { s.Close() })
		return s.Jobs()
	})
}
