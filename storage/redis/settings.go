package redis

import (
	"context"
	"errors"
	"fmt"

	"github.com/kringbot/kring/bot"
	goredis "github.com/redis/go-redis/v9"
)

// Settings is the Redis bot.SettingsStore: a hash per workspace, a field
// per setting.
type Settings struct{ s *Store }

var _ bot.SettingsStore = (*Settings)(nil)

func (s *Store) workspaceKey(w bot.Where) string {
	return s.prefix + "workspace:{" + w.Workspace().Key() + "}"
}

// Locale returns the workspace's language, "" when it chose none.
func (st *Settings) Locale(ctx context.Context, workspace bot.Where) (string, error) {
	l, err := st.s.c.HGet(ctx, st.s.workspaceKey(workspace), "locale").Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return l, nil
}

// SetLocale stores the workspace's language.
func (st *Settings) SetLocale(ctx context.Context, workspace bot.Where, locale string) error {
	if err := st.s.c.HSet(ctx, st.s.workspaceKey(workspace), "locale", locale).Err(); err != nil {
		return fmt.Errorf("set locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return nil
}
