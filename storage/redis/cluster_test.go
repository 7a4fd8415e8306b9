//go:build linux

package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestClusterFailover: kring on a three-master Cluster through the
// comma-separated address form votes, closes a poll by its job, keeps
// every key of a poll in the poll's slot, and goes on after the master
// holding the polls and the jobs hangs and its replica takes over,
// without losing a vote acknowledged before the failover began (see
// testFailover).
func TestClusterFailover(t *testing.T) {
	c := startCluster(t)
	ctx := t.Context()
	for _, key := range []string{"kring:{jobs}:due", "kring:poll:{abc234}:votes", "plain", "{}x", "a{b}{c}"} {
		if got, want := keySlot(key), c.slot(ctx, t, key); got != want {
			t.Fatalf("keySlot(%q) = %d; the cluster says %d", key, got, want)
		}
	}
	// The master to stop holds the jobs, and every poll's id is picked to
	// hash to it too: one failover then moves a poll's votes and its
	// closing job at once.
	m := masterOf(keySlot("kring:{jobs}:due"))
	testFailover(t, topology{
		addr:    c.addr(),
		master:  c.masters[m],
		replica: c.replicas[m],
		promoted: func(ctx context.Context) bool {
			return c.replicas[m].info(ctx, "replication")["role"] == "master" && clusterOK(ctx, c.replicas[m])
		},
		newID: func() string {
			for {
				id := pollID()
				if masterOf(keySlot("{"+id+"}")) == m {
					return id
				}
			}
		},
		checkKeys: func(t *testing.T, ids []string) { checkPollSlots(t, c, ids) },
	})
}

// checkPollSlots wants every key of each poll (every key that names its
// id, but for the once-records of its jobs, which are single keys of
// their own) in the poll's slot, so that a script or a MULTI on the poll
// never spans two slots.
func checkPollSlots(t *testing.T, c *cluster, ids []string) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for _, m := range c.masters {
		var cursor uint64
		for {
			batch, next, err := m.c.Scan(ctx, cursor, "*", 1000).Result()
			if err != nil {
				t.Fatalf("SCAN %s: %v", m.name, err)
			}
			keys = append(keys, batch...)
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	slices.Sort(keys)
	for _, id := range ids {
		slot := keySlot("{" + id + "}")
		var own []string
		for _, k := range keys {
			if !strings.Contains(k, id) || strings.Contains(k, "once:") {
				continue
			}
			own = append(own, k)
			if s := keySlot(k); s != slot {
				t.Errorf("key %s of poll %s is in slot %d, the poll in slot %d", k, id, s, slot)
			}
		}
		if len(own) < 2 {
			t.Errorf("poll %s has keys %q; want at least the poll and its votes", id, own)
		}
		t.Logf("poll %s: slot %d, keys %s", id, slot, keyKinds(own))
	}
}

// keyKinds sums up keys for a log line: one name per kind of key, with
// how many there are when more than one ("kring:poll:{x}:delivery:* ×120").
func keyKinds(keys []string) string {
	n := map[string]int{}
	var kinds []string
	for _, k := range keys {
		if i := strings.Index(k, ":delivery:"); i >= 0 {
			k = k[:i] + ":delivery:*"
		}
		if n[k] == 0 {
			kinds = append(kinds, k)
		}
		n[k]++
	}
	for i, k := range kinds {
		if n[k] > 1 {
			kinds[i] = fmt.Sprintf("%s ×%d", k, n[k])
		}
	}
	return strings.Join(kinds, ", ")
}

// pollID makes an id as kring does (its alphabet and length).
func pollID() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// keySlot is Redis Cluster's slot of key: CRC16 (XMODEM) of its hash tag,
// or of the whole key when it has none, modulo 16384.
func keySlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
