package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kringbot/kring/adapters/mattermost"
	"github.com/kringbot/kring/bot"
)

// mattermostPlatform returns the Mattermost adapter, or nil when Mattermost
// is not configured.
func (m *Main) mattermostPlatform(a *app) (platform, error) {
	c := m.Config
	if c.MattermostURL == "" && c.MattermostBotToken == "" && c.MattermostCommandToken == "" {
		return nil, nil
	}
	ad, err := mattermost.New(mattermost.Config{
		URL:           c.MattermostURL,
		BotToken:      c.MattermostBotToken,
		CommandTokens: strings.Split(c.MattermostCommandToken, ","),
		Secret:        c.ActionSecret,
		PublicURL:     c.PublicURL,
		Handler:       a.mux,
		Log:           a.log,
	})
	if err != nil {
		return nil, err
	}
	return ad, nil
}

const mattermostUsage = `Usage: kring mattermost setup --team NAME [--token TOKEN]

Creates kring's slash commands in a Mattermost team (or updates them), with
autocomplete, posting to $KRING_PUBLIC_URL/mattermost/commands, and prints
the KRING_MATTERMOST_COMMAND_TOKEN to configure. It needs a token that may
manage the team's slash commands in KRING_MATTERMOST_SETUP_TOKEN (or
--token): ` + setupTokenHowTo + `
`

// setupTokenHowTo says how to make a setup token.
const setupTokenHowTo = `a personal access token of a system admin. Make one in
Mattermost: turn on personal access tokens (System Console > Integrations >
Integration Management), then as the admin open Profile (Account Settings
on 5.x) > Security > Personal Access Tokens > Create Token. Use it once for
setup; kring serve does not need it.`

// runMattermost runs "kring mattermost setup".
func (m *Main) runMattermost(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "setup" {
		fmt.Fprint(m.Err, mattermostUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errors.New("mattermost: the one subcommand is setup")
	}
	fs := m.flags("mattermost setup", "public-url", "locale", "mattermost-url", "mattermost-bot-token")
	team := fs.String("team", "", "the team's name, as in its URL (required)")
	token := fs.String("token", m.Getenv("KRING_MATTERMOST_SETUP_TOKEN"),
		"a token that may manage slash commands ($KRING_MATTERMOST_SETUP_TOKEN)")
	fs.Usage = func() { fmt.Fprint(m.Err, mattermostUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	// Without a setup token the bot token is tried: it works when an admin
	// gave the bot the right to manage slash commands, and most bots lack
	// it, so a refusal says what is needed.
	botToken := false
	if *token == "" && m.Config.MattermostBotToken != "" {
		*token, botToken = m.Config.MattermostBotToken, true
		fmt.Fprintln(m.Err, "KRING_MATTERMOST_SETUP_TOKEN is not set; trying the bot token (KRING_MATTERMOST_BOT_TOKEN).")
	}
	var missing []string
	for _, s := range []struct{ name, v string }{
		{"--team", *team}, {"--mattermost-url ($KRING_MATTERMOST_URL)", m.Config.MattermostURL},
		{"--public-url ($KRING_PUBLIC_URL)", m.Config.PublicURL},
		{"KRING_MATTERMOST_SETUP_TOKEN (or --token)", *token},
	} {
		if s.v == "" {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		err := fmt.Errorf("mattermost setup: set %s", strings.Join(missing, ", "))
		if *token == "" {
			err = fmt.Errorf("%w\n\nKRING_MATTERMOST_SETUP_TOKEN is %s", err, setupTokenHowTo)
		}
		return err
	}
	locale, ok := bot.ParseLocale(m.Config.Locale)
	if !ok {
		return fmt.Errorf("locale %q: kring speaks nl and en", m.Config.Locale)
	}
	cmds := commands()
	installed, err := mattermost.Installer{
		URL: m.Config.MattermostURL, Token: *token, PublicURL: m.Config.PublicURL, Locale: locale,
	}.Install(ctx, *team, cmds)
	for _, c := range installed {
		what := "updated"
		if c.Created {
			what = "created"
		}
		fmt.Fprintf(m.Out, "/%s: %s\n", c.Trigger, what)
	}
	if err != nil {
		if mattermost.Refused(err) {
			who := "the token in KRING_MATTERMOST_SETUP_TOKEN"
			if botToken {
				who = "the bot token"
			}
			return fmt.Errorf("mattermost setup: Mattermost refuses %s here: %w\n\nSet KRING_MATTERMOST_SETUP_TOKEN to %s", who, err, setupTokenHowTo)
		}
		return fmt.Errorf("mattermost setup: %w", err)
	}
	tokens := make([]string, len(installed))
	for i, c := range installed {
		tokens[i] = c.Token
	}
	fmt.Fprintf(m.Out, "\nSet this in kring's environment (then restart kring serve):\n\nKRING_MATTERMOST_COMMAND_TOKEN=%s\n", strings.Join(tokens, ","))
	return nil
}
