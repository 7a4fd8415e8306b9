package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
)

func (m *Main) runShell(ctx context.Context, args []string) error {
	fs := m.flags("shell", "store", "locale", "timezone", "admins")
	if err := fs.Parse(args); err != nil {
		return err
	}
	clock := &shell.Clock{Base: bot.SystemClock{}}
	log := m.logger(slog.LevelWarn)
	a, err := m.newApp(ctx, log, clock, false)
	if err != nil {
		return err
	}
	defer a.close()
	sh := shell.New(a.mux, a.runner, clock, m.Out)
	a.posters[bot.Shell] = sh
	interactive := isTerminal(m.In)
	sh.Prompt = interactive
	sh.Echo = !interactive
	return sh.Run(ctx, m.In)
}

// isTerminal reports whether r is a terminal a person types into.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
