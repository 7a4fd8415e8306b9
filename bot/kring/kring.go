// Package kring is the /kring command: help on every command, and the
// languages kring speaks: each user's own (/kring taal en) and, set by
// admins, the workspace's (/kring taal en --werkruimte).
package kring

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Feature is /kring.
type Feature struct {
	settings bot.SettingsStore
	commands func() []bot.Command
	admins   bot.Admins
}

// New returns /kring; mux lists what help shows, admins may set the
// workspace's language.
func New(settings bot.SettingsStore, mux *bot.Mux, admins bot.Admins) *Feature {
	return &Feature{settings: settings, commands: mux.Commands, admins: admins}
}

// Close implements the feature contract; /kring runs nothing in the
// background.
func (f *Feature) Close() {}

// Register adds /kring to mux, and /help and /hulp as hidden aliases of
// /kring help for whoever types them where the platform lets them through
// (the shell; a Slack or Mattermost admin may register them too). /kring
// has no jobs: the runner is taken for the feature contract only.
func (f *Feature) Register(mux *bot.Mux, _ *schedule.Runner) {
	mux.Handle(bot.Command{Name: "/kring", Description: "kring.command.description", Hint: "kring.command.hint"}, bot.HandlerFunc(f.command))
	help := bot.HandlerFunc(func(_ context.Context, req *bot.Request) (*bot.Message, error) { return f.help(req.Locale), nil })
	mux.Handle(bot.Command{Name: "/help", Hidden: true}, help)
	mux.Handle(bot.Command{Name: "/hulp", Hidden: true}, help)
}

func (f *Feature) command(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(req.Text, "`", "")))
	if len(words) == 0 {
		return f.help(req.Locale), nil
	}
	switch words[0] {
	case "help", "hulp", "?":
		return f.help(req.Locale), nil
	case "taal", "language", "lang":
		return f.language(ctx, req, words[1:])
	}
	return nil, bot.Errorf("kring.unknown_sub", "Value", bot.Escape(words[0]))
}

// language shows or sets a language. Anyone sets their own; the
// workspace's (--werkruimte, or the word werkruimte) is for admins.
func (f *Feature) language(ctx context.Context, req *bot.Request, words []string) (*bot.Message, error) {
	workspace := false
	var value string
	for _, w := range words {
		switch strings.TrimLeft(w, "-—") {
		case "werkruimte", "workspace", "iedereen", "everyone", "team":
			workspace = true
		default:
			if value != "" {
				return nil, bot.Errorf("kring.language.usage")
			}
			value = w
		}
	}
	ws := req.Where.Workspace()
	if value == "" {
		return bot.TextMessage(bot.T(req.Locale).S("kring.language.current",
			"Own", bot.T(req.Locale).S("kring.language.name."+req.Locale),
			"Workspace", bot.T(req.Locale).S("kring.language.name."+req.WorkspaceLocale))), nil
	}
	reset := value == "standaard" || value == "default" || value == "reset"
	locale, ok := bot.ParseLocale(value)
	if !ok && !(reset && !workspace) {
		return nil, bot.Errorf("kring.language.unknown", "Value", bot.Escape(value))
	}
	if workspace {
		if !f.admins.Is(req.Platform, req.User.ID) {
			return nil, bot.Errorf("kring.language.admins_only", "Locale", locale)
		}
		if err := f.settings.SetLocale(ctx, ws, locale); err != nil {
			return nil, fmt.Errorf("set language of %s: %w", ws.Key(), err)
		}
		return bot.TextMessage(bot.T(locale).S("kring.language.set_workspace")), nil
	}
	if err := f.settings.SetUserLocale(ctx, ws, req.User.ID, locale); err != nil {
		return nil, fmt.Errorf("set language of %s in %s: %w", req.User.ID, ws.Key(), err)
	}
	if reset {
		return bot.TextMessage(bot.T(req.WorkspaceLocale).S("kring.language.reset")), nil
	}
	return bot.TextMessage(bot.T(locale).S("kring.language.set_own")), nil
}

func (f *Feature) help(locale string) *bot.Message {
	tr := bot.T(locale)
	var b strings.Builder
	b.WriteString(tr.S("kring.help.title"))
	for _, c := range f.commands() {
		fmt.Fprintf(&b, "\n- `%s` — %s", c.Name, tr.S(c.Description))
	}
	b.WriteString("\n" + tr.S("kring.help.soon"))
	b.WriteString("\n" + tr.S("kring.help.footer"))
	return bot.TextMessage(b.String())
}
