package main

import (
	"context"
	"errors"
)

// slackPlatform returns the Slack adapter, or nil when Slack is not
// configured.
func (m *Main) slackPlatform(a *app) (platform, error) {
	if m.Config.SlackSigningSecret == "" && m.Config.SlackBotToken == "" && m.Config.SlackAppToken == "" {
		return nil, nil
	}
	return nil, errors.New("the Slack adapter is not built yet")
}

func (m *Main) runSlack(ctx context.Context, args []string) error {
	return errors.New("the Slack adapter is not built yet")
}
