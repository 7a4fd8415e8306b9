package bolt

import (
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

// Locale returns the workspace's language, "" when it chose none.
func (s *Settings) Locale(ctx context.Context, workspace bot.Where) (string, error) {
	_, ws, err := s.locales(ctx, workspace, nil)
	if err != nil {
		return "", fmt.Errorf("read locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return ws, nil
}

// Locales returns a user's own language and the workspace's in one read.
func (s *Settings) Locales(ctx context.Context, workspace bot.Where, userID string) (string, string, error) {
	user, ws, err := s.locales(ctx, workspace, keyUserLocale(userID))
	if err != nil {
		return "", "", fmt.Errorf("read locales of %s in %s: %w", userID, workspace.Workspace().Key(), err)
	}
	return user, ws, nil
}

func (s *Settings) locales(ctx context.Context, workspace bot.Where, userKey []byte) (user, ws string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	err = s.d.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketSettings).Bucket([]byte(workspace.Workspace().Key())); b != nil {
			ws = string(b.Get(keyLocale))
			if userKey != nil {
				user = string(b.Get(userKey))
			}
		}
		return nil
	})
	return user, ws, err
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
