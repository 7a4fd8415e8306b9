//go:build linux

package redis_test

import (
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
	kredis "github.com/kringbot/kring/storage/redis"
	"github.com/kringbot/kring/storage/storagetest"
	goredis "github.com/redis/go-redis/v9"
)

// TestClusterMeetings runs the meeting suite on a Redis Cluster of its
// own. A script or MULTI whose keys spanned two slots would fail there
// with CROSSSLOT, as it never does on a single server: this is the check
// that a meeting's hash, answers and delivery records share its slot.
func TestClusterMeetings(t *testing.T) {
	c := startCluster(t)
	addrs := strings.Split(c.addr(), ",")
	storagetest.TestMeetings(t, func(t *testing.T) meeting.Store {
		client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
		s := kredis.New(client, "kringtest:"+bot.NewID(6)+":")
		t.Cleanup(func() { s.Close() })
		return s.Meetings()
	})
}
