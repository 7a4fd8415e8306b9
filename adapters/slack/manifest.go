package slack

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// Scopes are the bot token scopes kring asks for, and why; no more.
// chat:write.public is left out on purpose: kring posts only where it was
// invited, and says so (not_in_channel → "/invite @kring").
var Scopes = []struct{ Name, Why string }{
	{"commands", "slash commands such as /poll"},
	{"chat:write", "post and update kring's messages (polls, rounds) and ephemeral replies in channels kring is in"},
	{"im:write", "open a direct message with a user for reminders and personal confirmations (conversations.open)"},
	{"users:read", "a user's display name and time zone (users.info), to show who voted and times in their zone"},
	{"files:write", "upload exports such as a poll's CSV (files.getUploadURLExternal, files.completeUploadExternal)"},
}

// ManifestOptions says what app manifest to make.
type ManifestOptions struct {
	// URL is where Slack reaches kring serve, e.g. https://kring.example.org;
	// unused with SocketMode.
	URL        string
	SocketMode bool
	Commands   []bot.Command // as the Mux registered them
	Locale     string        // language of descriptions and hints; "" means Dutch
	Name       string        // the app's and bot user's name; "" means kring
}

// Manifest returns a Slack app manifest that installs kring: its slash
// commands with descriptions and usage hints, the interactivity endpoint,
// the bot user, the scopes, and Socket Mode on or off.
func Manifest(o ManifestOptions) (slack.Manifest, error) {
	name := o.Name
	if name == "" {
		name = "kring"
	}
	base := strings.TrimRight(o.URL, "/")
	if !o.SocketMode {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return slack.Manifest{}, fmt.Errorf("manifest: --url must be the public https:// address of kring serve, got %q", o.URL)
		}
	}
	tr := bot.T(o.Locale)
	var cmds []slack.ManifestSlashCommand
	for _, c := range o.Commands {
		mc := slack.ManifestSlashCommand{
			Command:      c.Name,
			Description:  bot.Truncate(bot.PlainText(tr.S(c.Description)), 100),
			ShouldEscape: false,
		}
		if c.Hint != "" {
			mc.UsageHint = bot.Truncate(bot.PlainText(tr.S(c.Hint)), 1000)
		}
		if !o.SocketMode {
			mc.Url = base + "/slack/commands"
		}
		cmds = append(cmds, mc)
	}
	scopes := make([]string, len(Scopes))
	for i, s := range Scopes {
		scopes[i] = s.Name
	}
	inter := &slack.Interactivity{IsEnabled: true}
	if !o.SocketMode {
		inter.RequestUrl = base + "/slack/interactions"
	}
	return slack.Manifest{
		Metadata: slack.ManifestMetadata{MajorVersion: 1, MinorVersion: 1},
		Display: slack.Display{
			Name:            name,
			Description:     bot.Truncate(tr.S("slack.manifest.description"), 140),
			LongDescription: tr.S("slack.manifest.long_description"),
			BackgroundColor: "#7a2e5b",
		},
		Settings: slack.Settings{
			Interactivity:     inter,
			SocketModeEnabled: o.SocketMode,
		},
		Features: slack.Features{
			AppHome:       slack.AppHome{MessagesTabEnabled: true},
			BotUser:       slack.BotUser{DisplayName: name, AlwaysOnline: true},
			SlashCommands: cmds,
		},
		OAuthConfig: slack.OAuthConfig{Scopes: slack.OAuthScopes{Bot: scopes}},
	}, nil
}
