package bolt

import (
	"context"
	"fmt"

	"github.com/kringbot/kring/bot"
	bbolt "go.etcd.io/bbolt"
)

// Settings is the bbolt bot.SettingsStore: a bucket per workspace, a key
// per setting.
type Settings struct{ d *DB }

var _ bot.SettingsStore = (*Settings)(nil)

var keyLocale = []byte("locale")

// Locale returns the workspace's language, "" when it chose none.
func (s *Settings) Locale(ctx context.Context, workspace bot.Where) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var locale string
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		if ws := tx.Bucket(bucketSettings).Bucket([]byte(workspace.Workspace().Key())); ws != nil {
			locale = string(ws.Get(keyLocale))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return locale, nil
}

// SetLocale stores the workspace's language.
func (s *Settings) SetLocale(ctx context.Context, workspace bot.Where, locale string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.d.db.Update(func(tx *bbolt.Tx) error {
		ws, err := tx.Bucket(bucketSettings).CreateBucketIfNotExists([]byte(workspace.Workspace().Key()))
		if err != nil {
			return err
		}
		return ws.Put(keyLocale, []byte(locale))
	})
	if err != nil {
		return fmt.Errorf("set locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return nil
}
