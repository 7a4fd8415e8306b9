// Package kring is the /kring command: help on every command, and the
// workspace's language (/kring taal en).
package kring

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/kringbot/kring/bot"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Feature is /kring.
type Feature struct {
	settings bot.SettingsStore
	commands func() []bot.Command
}

// New returns /kring; commands lists what help shows (bot.Mux.Commands).
func New(settings bot.SettingsStore, mux *bot.Mux) *Feature {
	return &Feature{settings: settings, commands: mux.Commands}
}

// Register adds /kring to mux.
func (f *Feature) Register(mux *bot.Mux) {
	mux.Handle(bot.Command{Name: "/kring", Description: "kring.command.description", Hint: "kring.command.hint"}, bot.HandlerFunc(f.command))
}

func (f *Feature) command(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	words := strings.Fields(strings.ToLower(req.Text))
	if len(words) == 0 {
		return f.help(req.Locale), nil
	}
	switch words[0] {
	case "help", "hulp", "?":
		return f.help(req.Locale), nil
	case "taal", "language", "lang":
		if len(words) == 1 {
			return bot.TextMessage(bot.T(req.Locale).S("kring.language.current")), nil
		}
		locale, ok := bot.ParseLocale(words[1])
		if !ok {
			return nil, bot.Errorf("kring.language.unknown", "Value", bot.Escape(words[1]))
		}
		if err := f.settings.SetLocale(ctx, req.Where.Workspace(), locale); err != nil {
			return nil, fmt.Errorf("set language of %s: %w", req.Where.Workspace().Key(), err)
		}
		return bot.TextMessage(bot.T(locale).S("kring.language.set")), nil
	}
	return nil, bot.Errorf("kring.unknown_sub", "Value", bot.Escape(words[0]))
}

func (f *Feature) help(locale string) *bot.Message {
	tr := bot.T(locale)
	var b strings.Builder
	b.WriteString(tr.S("kring.help.title"))
	for _, c := range f.commands() {
		fmt.Fprintf(&b, "\n- `%s` — %s", c.Name, tr.S(c.Description))
	}
	b.WriteString("\n" + tr.S("kring.help.footer"))
	return bot.TextMessage(b.String())
}
