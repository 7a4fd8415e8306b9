package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kringbot/kring/adapters/slack"
	"github.com/kringbot/kring/bot"
)

var _ platform = (*slack.Adapter)(nil)

// slackPlatform returns the Slack adapter, or nil when Slack is not
// configured. A token Slack rejects does not stop kring serve: it logs a
// clear line now and /readyz stays red until it is fixed.
func (m *Main) slackPlatform(a *app) (platform, error) {
	c := m.Config
	if c.SlackSigningSecret == "" && c.SlackBotToken == "" && c.SlackAppToken == "" {
		return nil, nil
	}
	ad, err := slack.New(slack.Config{
		SigningSecret: c.SlackSigningSecret,
		BotToken:      c.SlackBotToken,
		AppToken:      c.SlackAppToken,
		APIURL:        c.SlackAPIURL,
		Mux:           a.mux, // checks deliveries in the jobs store
		Log:           a.log,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ad.Check(ctx) // logged; /readyz repeats it
	return ad, nil
}

const slackUsage = `Usage:
  kring slack manifest --url https://kring.example.org [--socket-mode] [--locale nl|en]

Prints a Slack app manifest (JSON, which Slack's "From an app manifest"
dialog takes as it is, and which is valid YAML too) with every slash
command kring has, the interactivity URL, the bot user and the scopes it
needs. With --socket-mode no public URL is needed: Slack connects through
KRING_SLACK_APP_TOKEN instead.
`

func (m *Main) runSlack(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "manifest" {
		fmt.Fprint(m.Err, slackUsage)
		return errors.New("kring slack: name a subcommand: manifest")
	}
	fs := m.flags("slack manifest", "public-url", "locale")
	url := fs.String("url", "", "the public https:// URL of kring serve (defaults to --public-url)")
	socket := fs.Bool("socket-mode", false, "use Socket Mode (KRING_SLACK_APP_TOKEN) instead of public HTTP endpoints")
	name := fs.String("name", "kring", "the app's and bot user's name")
	fs.Usage = func() { fmt.Fprint(m.Err, slackUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *url == "" {
		*url = m.Config.PublicURL
	}
	if *url == "" && !*socket {
		fmt.Fprint(m.Err, slackUsage)
		return errors.New("kring slack manifest: give --url (the address Slack can reach kring serve at) or --socket-mode")
	}
	locale, ok := bot.ParseLocale(m.Config.Locale)
	if !ok {
		return fmt.Errorf("locale %q: kring speaks nl and en", m.Config.Locale)
	}
	cmds := commands()
	man, err := slack.Manifest(slack.ManifestOptions{URL: *url, SocketMode: *socket, Commands: cmds, Locale: locale, Name: *name})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(m.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(man); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
