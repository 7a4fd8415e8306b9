package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// Installer creates or updates kring's slash commands in a Mattermost team.
type Installer struct {
	URL        string // the Mattermost server
	Token      string // a token that may manage the team's slash commands
	PublicURL  string // where Mattermost reaches kring
	Locale     string // language of descriptions and hints; "" is Dutch
	HTTPClient *http.Client
}

// Installed is one slash command after setup.
type Installed struct {
	Trigger string // "poll", without the slash
	ID      string
	Token   string // goes into KRING_MATTERMOST_COMMAND_TOKEN
	Created bool   // false: an existing kring command was updated
}

// Install makes every command in cmds a slash command of team (its name,
// as in the team's URL) that posts to PublicURL + /mattermost/commands with
// autocomplete. A command whose trigger another integration holds is left
// alone and reported as an error.
func (in Installer) Install(ctx context.Context, team string, cmds []bot.Command) ([]Installed, error) {
	hc := in.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	c := newClient(in.URL, in.Token, hc, 250*time.Millisecond)
	tr := bot.T(in.Locale)
	var t *model.Team
	err := c.do(ctx, "get team "+team, func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		t, resp, err = c.api.GetTeamByName(ctx, team, "")
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("find team %q (its name as in its URL): %w", team, err)
	}
	var existing []*model.Command
	err = c.do(ctx, "list commands", func() (*model.Response, error) {
		var (
			resp *model.Response
			err  error
		)
		existing, resp, err = c.api.ListCommands(ctx, t.Id, true)
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the slash commands of team %q: %w", team, err)
	}
	byTrigger := map[string]*model.Command{}
	for _, e := range existing {
		byTrigger[e.Trigger] = e
	}
	target := strings.TrimRight(in.PublicURL, "/") + "/mattermost/commands"
	var out []Installed
	for _, bc := range cmds {
		trigger := strings.TrimPrefix(bc.Name, "/")
		cmd := &model.Command{
			TeamId:           t.Id,
			Trigger:          trigger,
			Method:           model.CommandMethodPost,
			URL:              target,
			AutoComplete:     true,
			AutoCompleteDesc: truncateBytes(translate(tr, bc.Description), 1024),
			AutoCompleteHint: truncateBytes(translate(tr, bc.Hint), 1024),
			DisplayName:      truncateBytes("kring "+bc.Name, 64),
			Description:      truncateBytes(translate(tr, bc.Description), 128),
		}
		old := byTrigger[trigger]
		if old != nil && !strings.HasSuffix(strings.TrimRight(old.URL, "/"), "/mattermost/commands") {
			return out, fmt.Errorf("/%s is taken in team %q by another integration (%s); remove it or rename it first", trigger, team, old.URL)
		}
		var saved *model.Command
		op := "create"
		if old != nil {
			op = "update"
			cmd.Id, cmd.Token, cmd.CreatorId = old.Id, old.Token, old.CreatorId
		}
		err := c.do(ctx, op+" command /"+trigger, func() (*model.Response, error) {
			var (
				resp *model.Response
				err  error
			)
			if old != nil {
				saved, resp, err = c.api.UpdateCommand(ctx, cmd)
			} else {
				saved, resp, err = c.api.CreateCommand(ctx, cmd)
			}
			return resp, err
		})
		if err != nil {
			return out, fmt.Errorf("%s /%s in team %q: %w", op, trigger, team, err)
		}
		token := saved.Token
		if token == "" && old != nil {
			token = old.Token
		}
		out = append(out, Installed{Trigger: trigger, ID: saved.Id, Token: token, Created: old == nil})
	}
	return out, nil
}

// Refused reports whether err is Mattermost refusing the token (401) or
// what it may do (403).
func Refused(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

func translate(tr bot.Tr, id string) string {
	if id == "" {
		return ""
	}
	return tr.S(id)
}
