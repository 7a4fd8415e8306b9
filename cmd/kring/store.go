package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kringbot/kring/storage/bolt"
)

const storeUsage = `Usage:
  kring store salvage --from damaged.db --to new.db

Copies what is still readable of a damaged bolt file (KRING_STORE=bolt:…)
into a new file, bucket by bucket, and says what it could not read. The
damaged file is only read. Stop kring first; then point KRING_STORE at the
new file, or restore a backup when too much is lost.
`

func (m *Main) runStore(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "salvage" {
		fmt.Fprint(m.Err, storeUsage)
		return errors.New("kring store: name a subcommand: salvage")
	}
	fs := m.flags("store salvage")
	from := fs.String("from", "", "the damaged bolt file")
	to := fs.String("to", "", "the new file to copy into (must not exist)")
	fs.Usage = func() { fmt.Fprint(m.Err, storeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fmt.Fprint(m.Err, storeUsage)
		return errors.New("kring store salvage: give --from and --to")
	}
	*from = strings.TrimPrefix(*from, "bolt:")
	*to = strings.TrimPrefix(*to, "bolt:")
	rep, err := bolt.Salvage(*from, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Out, "copied %d values in %d buckets from %s to %s\n", rep.Keys, rep.Buckets, *from, *to)
	if len(rep.Lost) == 0 {
		fmt.Fprintln(m.Out, "nothing was lost")
		return nil
	}
	fmt.Fprintln(m.Out, "could not read the rest of:")
	for _, l := range rep.Lost {
		fmt.Fprintln(m.Out, "  "+l)
	}
	fmt.Fprintf(m.Out, "compare with a backup if you have one; to use the copy, set KRING_STORE=bolt:%s\n", *to)
	return nil
}
