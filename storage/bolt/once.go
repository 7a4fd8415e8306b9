package bolt

import (
	"bytes"
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// onceSeen reports whether key is recorded and not yet expired at now,
// within tx. It clears a few expired records on the way, so they do not
// pile up.
func onceSeen(tx *bbolt.Tx, key string, now time.Time) (bool, error) {
	once, exp := tx.Bucket(bucketOnce), tx.Bucket(bucketOnceExp)
	nowKey := timeKey(now)
	c := exp.Cursor()
	for n := 0; n < onceSweep; n++ {
		k, v := c.First()
		if k == nil || bytes.Compare(k[:8], nowKey) > 0 {
			break
		}
		if err := once.Delete(v); err != nil {
			return false, err
		}
		if err := c.Delete(); err != nil {
			return false, err
		}
	}
	v := once.Get([]byte(key))
	if len(v) != 8 {
		return false, nil
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).After(now), nil
}

// onceRecord records key until now+ttl within tx, replacing an expired
// record of it.
func onceRecord(tx *bbolt.Tx, key string, now time.Time, ttl time.Duration) error {
	once, exp := tx.Bucket(bucketOnce), tx.Bucket(bucketOnceExp)
	if v := once.Get([]byte(key)); len(v) == 8 {
		old := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		if err := exp.Delete(append(timeKey(old), key...)); err != nil {
			return err
		}
	}
	until := now.Add(ttl)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(until.UnixNano()))
	if err := once.Put([]byte(key), b[:]); err != nil {
		return err
	}
	return exp.Put(append(timeKey(until), key...), []byte(key))
}
