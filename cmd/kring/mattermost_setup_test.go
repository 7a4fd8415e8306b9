package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
)

// Setup needs a token that may manage slash commands, and says how to make
// one when it has none or the one it has is refused.
func TestMattermostSetupNeedsASetupToken(t *testing.T) {
	mm := mattermosttest.New(t)
	run := func(env map[string]string) (string, error) {
		var out, errw bytes.Buffer
		m := NewMain(strings.NewReader(""), &out, &errw)
		m.Getenv = func(k string) string { return env[k] }
		err := m.Run(t.Context(), []string{"mattermost", "setup", "--team", "geboortezorg"})
		return errw.String(), err
	}
	base := map[string]string{"KRING_MATTERMOST_URL": mm.URL, "KRING_PUBLIC_URL": "https://kring.example.org"}

	// No token at all.
	_, err := run(base)
	if err == nil || !strings.Contains(err.Error(), "KRING_MATTERMOST_SETUP_TOKEN") || !strings.Contains(err.Error(), "Personal Access Tokens > Create Token") {
		t.Errorf("without any token: %v", err)
	}

	// Only the bot token, which may not manage slash commands.
	mm.ForbidCommands()
	withBot := map[string]string{"KRING_MATTERMOST_BOT_TOKEN": mm.BotToken}
	for k, v := range base {
		withBot[k] = v
	}
	stderr, err := run(withBot)
	if err == nil || !strings.Contains(err.Error(), "refuses the bot token") || !strings.Contains(err.Error(), "Set KRING_MATTERMOST_SETUP_TOKEN to a personal access token") {
		t.Errorf("with a bot token that is refused: %v", err)
	}
	if !strings.Contains(stderr, "KRING_MATTERMOST_SETUP_TOKEN is not set") {
		t.Errorf("stderr = %q", stderr)
	}
	if len(mm.Commands()) != 0 {
		t.Errorf("commands made: %v", mm.Commands())
	}
}
