package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"

	bbolt "go.etcd.io/bbolt"
)

// SalvageReport says what Salvage copied and what it could not read.
type SalvageReport struct {
	Keys    int      // values copied
	Buckets int      // buckets copied, nested ones included, whole or in part
	Lost    []string // "bucket/path: cause" for each bucket whose rest could not be read
}

// Salvage copies what is still readable of the bbolt file from into a new
// file to, bucket by bucket and key by key, in key order. Where a damaged
// page stops a bucket, the keys before it are kept and the rest of that
// bucket is reported as lost; the other buckets are copied on. from is
// opened read-only and not changed; to must not exist yet.
func Salvage(from, to string) (rep SalvageReport, err error) {
	if _, err := os.Stat(to); err == nil {
		return rep, fmt.Errorf("salvage into %s: the file exists already; name a new file", to)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("salvage into %s: %w", to, err)
	}
	src, err := openForSalvage(from)
	if err != nil {
		return rep, err
	}
	defer src.Close()
	dst, err := bbolt.Open(to, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return rep, fmt.Errorf("salvage into %s: %w", to, err)
	}
	defer func() {
		if cerr := dst.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("salvage into %s: %w", to, cerr)
		}
	}()
	err = src.View(func(stx *bbolt.Tx) error {
		return dst.Update(func(dtx *bbolt.Tx) error {
			var names [][]byte
			if lost := guard(func() {
				_ = stx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
					names = append(names, append([]byte(nil), name...))
					return nil
				})
			}); lost != nil {
				rep.Lost = append(rep.Lost, "(top level): "+lost.Error())
			}
			for _, name := range names {
				var sb *bbolt.Bucket
				if lost := guard(func() { sb = stx.Bucket(name) }); lost != nil || sb == nil {
					rep.Lost = append(rep.Lost, fmt.Sprintf("%s: %v", name, lost))
					continue
				}
				db, err := dtx.CreateBucket(name)
				if err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
				if err := copyBucket(sb, db, string(name), &rep); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("salvage %s into %s: %w", from, to, err)
	}
	return rep, nil
}

// openForSalvage opens from read-only: no freelist is loaded and nothing
// is written, so a damaged freelist does not stop the copy.
func openForSalvage(from string) (db *bbolt.DB, err error) {
	if _, err := os.Stat(from); err != nil {
		return nil, fmt.Errorf("salvage %s: %w", from, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("salvage %s: bbolt cannot open it at all (%v); only a backup helps", from, r)
		}
	}()
	db, err = bbolt.Open(from, 0o400, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("salvage %s: bbolt cannot open it at all (%w); only a backup helps", from, err)
	}
	return db, nil
}

// copyBucket copies src into dst, nested buckets too, until a damaged page
// stops it.
func copyBucket(src, dst *bbolt.Bucket, path string, rep *SalvageReport) error {
	rep.Buckets++
	type nested struct{ name []byte }
	var (
		subs   []nested
		putErr error
	)
	lost := guard(func() {
		c := src.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				subs = append(subs, nested{append([]byte(nil), k...)})
				continue
			}
			if putErr = dst.Put(append([]byte(nil), k...), append([]byte(nil), v...)); putErr != nil {
				return
			}
			rep.Keys++
		}
	})
	if putErr != nil {
		return fmt.Errorf("copy %s: %w", path, putErr)
	}
	if lost != nil {
		rep.Lost = append(rep.Lost, fmt.Sprintf("%s: %v", path, lost))
	}
	for _, s := range subs {
		var sb *bbolt.Bucket
		if lost := guard(func() { sb = src.Bucket(s.name) }); lost != nil || sb == nil {
			rep.Lost = append(rep.Lost, fmt.Sprintf("%s/%s: %v", path, s.name, lost))
			continue
		}
		db, err := dst.CreateBucket(s.name)
		if err != nil {
			return fmt.Errorf("create bucket %s/%s: %w", path, s.name, err)
		}
		if err := copyBucket(sb, db, path+"/"+string(s.name), rep); err != nil {
			return err
		}
	}
	return nil
}

// guard runs f and returns its panic as an error. bbolt panics on pages it
// cannot make sense of, and a page beyond a truncated file's end faults;
// SetPanicOnFault turns that fault into a panic guard can recover.
func guard(f func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
		}
	}()
	f()
	return nil
}
