package redis

import (
	"context"
	"fmt"
	"strings"

	"github.com/kringbot/kring/bot"
)

// Settings is the Redis bot.SettingsStore: a hash per workspace, a field
// per setting and one per user who chose a language of their own, so a
// workspace's languages are one HGETALL.
type Settings struct{ s *Store }

var _ bot.SettingsStore = (*Settings)(nil)

func (s *Store) workspaceKey(w bot.Where) string {
	return s.prefix + "workspace:{" + w.Workspace().Key() + "}"
}

const settingsLocaleField = "locale"

func settingsUserLocaleField(userID string) string { return "locale:user:" + userID }

// SetLocale stores the workspace's language.
func (st *Settings) SetLocale(ctx context.Context, workspace bot.Where, locale string) error {
	if err := st.s.c.HSet(ctx, st.s.workspaceKey(workspace), settingsLocaleField, locale).Err(); err != nil {
		return fmt.Errorf("set locale of %s: %w", workspace.Workspace().Key(), err)
	}
	return nil
}

// Languages reads the workspace's hash in one HGETALL: its language and
// every language a user chose.
func (st *Settings) Languages(ctx context.Context, workspace bot.Where) (bot.Languages, error) {
	fields, err := st.s.c.HGetAll(ctx, st.s.workspaceKey(workspace)).Result()
	if err != nil {
		return bot.Languages{}, fmt.Errorf("read languages of %s: %w", workspace.Workspace().Key(), err)
	}
	langs := bot.Languages{Workspace: fields[settingsLocaleField], Users: map[string]string{}}
	for k, v := range fields {
		if user, ok := strings.CutPrefix(k, settingsUserLocaleField("")); ok {
			langs.Users[user] = v
		}
	}
	return langs, nil
}

// SetUserLocale stores a user's own language; "" forgets it.
func (st *Settings) SetUserLocale(ctx context.Context, workspace bot.Where, userID, locale string) error {
	key, field := st.s.workspaceKey(workspace), settingsUserLocaleField(userID)
	var err error
	if locale == "" {
		err = st.s.c.HDel(ctx, key, field).Err()
	} else {
		err = st.s.c.HSet(ctx, key, field, locale).Err()
	}
	if err != nil {
		return fmt.Errorf("set locale of %s in %s: %w", userID, workspace.Workspace().Key(), err)
	}
	return nil
}
