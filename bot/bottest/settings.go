package bottest

import (
	"context"
	"strings"
	"sync"

	"github.com/kringbot/kring/bot"
)

// Settings is an in-memory bot.SettingsStore. Err, when set, fails every
// call, as a store that went away would.
type Settings struct {
	mu  sync.Mutex
	m   map[string]string
	Err error
}

var _ bot.SettingsStore = (*Settings)(nil)

func (s *Settings) set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	if value == "" {
		delete(s.m, key)
	} else {
		s.m[key] = value
	}
	return nil
}

// SetLocale implements bot.SettingsStore.
func (s *Settings) SetLocale(_ context.Context, w bot.Where, l string) error {
	return s.set(w.Workspace().Key(), l)
}

// Languages implements bot.SettingsStore.
func (s *Settings) Languages(_ context.Context, w bot.Where) (bot.Languages, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return bot.Languages{}, s.Err
	}
	prefix := w.Workspace().Key() + "\x00"
	langs := bot.Languages{Workspace: s.m[w.Workspace().Key()], Users: map[string]string{}}
	for k, v := range s.m {
		if user, ok := strings.CutPrefix(k, prefix); ok {
			langs.Users[user] = v
		}
	}
	return langs, nil
}

// SetUserLocale implements bot.SettingsStore.
func (s *Settings) SetUserLocale(_ context.Context, w bot.Where, userID, l string) error {
	return s.set(w.Workspace().Key()+"\x00"+userID, l)
}
