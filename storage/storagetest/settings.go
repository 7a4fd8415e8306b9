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

// TestUserLocales checks the languages users choose for themselves.
func TestUserLocales(t *testing.T, newStore func(t *testing.T) bot.SettingsStore) {
	t.Run("UnsetIsEmpty", func(t *testing.T) {
		s := newStore(t)
		user, ws, err := s.Locales(t.Context(), channelA.Workspace(), "anna")
		if err != nil || user != "" || ws != "" {
			t.Fatalf("Locales in a new workspace = %q, %q, %v; want empty", user, ws, err)
		}
	})
	t.Run("OwnAndWorkspaceApart", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		ws := channelA.Workspace()
		if err := s.SetLocale(ctx, ws, "nl"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserLocale(ctx, ws, "anna", "en"); err != nil {
			t.Fatal(err)
		}
		check := func(who, wantUser, wantWS string) {
			t.Helper()
			user, got, err := s.Locales(ctx, ws, who)
			if err != nil || user != wantUser || got != wantWS {
				t.Errorf("Locales(%s) = %q, %q, %v; want %q, %q", who, user, got, err, wantUser, wantWS)
			}
		}
		check("anna", "en", "nl")
		check("bram", "", "nl")
		if got, err := s.Locale(ctx, ws); err != nil || got != "nl" {
			t.Errorf("workspace Locale after a user's choice = %q, %v; want nl", got, err)
		}
		// Another workspace does not share anna's choice.
		if user, _, err := s.Locales(ctx, channelA2.Workspace(), "anna"); err != nil || user != "" {
			t.Errorf("anna's language leaked into %s: %q, %v", channelA2.Workspace().Key(), user, err)
		}
		if err := s.SetUserLocale(ctx, ws, "anna", ""); err != nil {
			t.Fatal(err)
		}
		check("anna", "", "nl")
	})
}
