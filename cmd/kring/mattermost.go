package main

import (
	"context"
	"errors"
)

// mattermostPlatform returns the Mattermost adapter, or nil when Mattermost is not
// configured.
func (m *Main) mattermostPlatform(a *app) (platform, error) {
	if m.Config.MattermostURL == "" && m.Config.MattermostBotToken == "" {
		return nil, nil
	}
	return nil, errors.New("the Mattermost adapter is not built yet")
}

func (m *Main) runMattermost(ctx context.Context, args []string) error {
	return errors.New("the Mattermost adapter is not built yet")
}
