package storagetest

import (
	"testing"

	"github.com/kringbot/kring/bot"
)

// TestSettings checks a bot.SettingsStore. newStore returns an empty store
// and is called once per subtest.
func TestSettings(t *testing.T, newStore func(t *testing.T) bot.SettingsStore) {
	t.Run("UnsetIsEmpty", func(t *testing.T) {
		s := newStore(t)
		got, err := s.Locale(t.Context(), channelA.Workspace())
		if err != nil || got != "" {
			t.Fatalf("Locale of a new workspace = %q, %v; want \"\", nil", got, err)
		}
	})
	t.Run("SetGetOverwrite", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		ws := channelA.Workspace()
		for _, locale := range []string{"en", "nl"} {
			if err := s.SetLocale(ctx, ws, locale); err != nil {
				t.Fatalf("SetLocale(%q): %v", locale, err)
			}
			if got, err := s.Locale(ctx, ws); err != nil || got != locale {
				t.Fatalf("Locale after SetLocale(%q) = %q, %v", locale, got, err)
			}
		}
	})
	t.Run("WorkspacesApart", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		if err := s.SetLocale(ctx, channelA.Workspace(), "en"); err != nil {
			t.Fatal(err)
		}
		others := []bot.Where{
			channelA2.Workspace(),
			{Platform: bot.Mattermost, Team: channelA.Team},
		}
		for _, ws := range others {
			if got, err := s.Locale(ctx, ws); err != nil || got != "" {
				t.Errorf("Locale(%s) = %q, %v; want \"\" (only %s chose a language)", ws.Key(), got, err, channelA.Workspace().Key())
			}
		}
	})
}
