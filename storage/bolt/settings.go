package bolt

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kringbot/kring/bot"
	bbolt "go.etcd.io/bbolt"
)

// Settings is the bbolt bot.SettingsStore: a bucket per workspace, a key
// per setting and one per user who chose a language of their own.
type Settings struct{ d *DB }

var _ bot.SettingsStore = (*Settings)(nil)

var keyLocale = []byte("locale")

func keyUserLocale(userID string) []byte { return []byte("locale:user:" + userID) }

// Languages reads the workspace's bucket: its language and every language
// a user chose.
func (s *Settings) Languages(ctx context.Context, workspace bot.Where) (bot.Languages, error) {
	if err := ctx.Err(); err != nil {
		return bot.Languages{}, err
	}
	langs := bot.Languages{Users: map[string]string{}}
	err := s.d.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSettings).Bucket([]byte(workspace.Workspace().Key()))
		if b == nil {
			return nil
		}
		langs.Workspace = string(b.Get(keyLocale))
		return b.ForEach(func(k, v []byte) error {
			if user, ok := bytes.CutPrefix(k, keyUserLocale("")); ok {
				langs.Users[string(user)] = string(v)
			}
			return nil
		})
	})
	if err != nil {
		return bot.Languages{}, fmt.Errorf("read languages of %s: %w", workspace.Workspace().Key(), err)
	}
	return langs, nil
}

// SetLocale stores the workspace's language.
func (s *Settings) SetLocale(ctx context.Context, workspace bot.Where, locale string) error {
	if err := s.put(ctx, workspace, keyLocale, locale); err != nil {
		return fmt.Errorf("set locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return nil
}

// SetUserLocale stores a user's own language; "" forgets it.
func (s *Settings) SetUserLocale(ctx context.Context, workspace bot.Where, userID, locale string) error {
	if err := s.put(ctx, workspace, keyUserLocale(userID), locale); err != nil {
		return fmt.Errorf("set locale of %s in %s: %w", userID, workspace.Workspace().Key(), err)
	}
	return nil
}

// put sets a workspace setting; an empty value deletes it.
func (s *Settings) put(ctx context.Context, workspace bot.Where, key []byte, value string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.d.update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketSettings).CreateBucketIfNotExists([]byte(workspace.Workspace().Key()))
		if err != nil {
			return err
		}
		if value == "" {
			return b.Delete(key)
		}
		return b.Put(key, []byte(value))
	})
}
