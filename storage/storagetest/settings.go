package storagetest

import (
	"context"
	"testing"

	"github.com/kringbot/kring/bot"
)

// TestSettings checks a bot.SettingsStore. newStore returns an empty store
// and is called once per subtest.
func TestSettings(t *testing.T, newStore func(t *testing.T) bot.SettingsStore) {
	t.Run("UnsetIsEmpty", func(t *testing.T) {
		s := newStore(t)
		got, err := workspaceLocale(t.Context(), s, channelA.Workspace())
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
			if got, err := workspaceLocale(ctx, s, ws); err != nil || got != locale {
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
			if got, err := workspaceLocale(ctx, s, ws); err != nil || got != "" {
				t.Errorf("Locale(%s) = %q, %v; want \"\" (only %s chose a language)", ws.Key(), got, err, channelA.Workspace().Key())
			}
		}
	})
}

// TestUserLocales checks the languages users choose for themselves.
func TestUserLocales(t *testing.T, newStore func(t *testing.T) bot.SettingsStore) {
	t.Run("UnsetIsEmpty", func(t *testing.T) {
		s := newStore(t)
		l, err := s.Languages(t.Context(), channelA.Workspace())
		if err != nil || len(l.Users) != 0 || l.Workspace != "" {
			t.Fatalf("Languages of a new workspace = %+v, %v; want none", l, err)
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
			l, err := s.Languages(ctx, ws)
			if err != nil || l.Users[who] != wantUser || l.Workspace != wantWS {
				t.Errorf("Languages: %s's %q, workspace %q, %v; want %q, %q", who, l.Users[who], l.Workspace, err, wantUser, wantWS)
			}
		}
		check("anna", "en", "nl")
		check("bram", "", "nl")
		if got, err := workspaceLocale(ctx, s, ws); err != nil || got != "nl" {
			t.Errorf("workspace Locale after a user's choice = %q, %v; want nl", got, err)
		}
		// Another workspace does not share anna's choice.
		if l, err := s.Languages(ctx, channelA2.Workspace()); err != nil || l.Users["anna"] != "" {
			t.Errorf("anna's language leaked into %s: %+v, %v", channelA2.Workspace().Key(), l, err)
		}
		if err := s.SetUserLocale(ctx, ws, "anna", ""); err != nil {
			t.Fatal(err)
		}
		check("anna", "", "nl")
	})
}

// workspaceLocale is the workspace's language as Languages tells it.
func workspaceLocale(ctx context.Context, s bot.SettingsStore, ws bot.Where) (string, error) {
	l, err := s.Languages(ctx, ws)
	return l.Workspace, err
}
