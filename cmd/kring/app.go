package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage"
)

// app is kring wired together: the store, the features on a Mux, the job
// runner. Platforms add their Poster to posters before serving.
type app struct {
	log     *slog.Logger
	clock   bot.Clock
	loc     *time.Location
	stores  *storage.Stores
	posters bot.Posters
	mux     *bot.Mux
	runner  *schedule.Runner
}

func (m *Main) newApp(ctx context.Context, log *slog.Logger, clock bot.Clock) (*app, error) {
	locale, ok := bot.ParseLocale(m.Config.Locale)
	if !ok {
		return nil, fmt.Errorf("locale %q: kring speaks nl and en", m.Config.Locale)
	}
	loc, err := m.location()
	if err != nil {
		return nil, err
	}
	stores, err := storage.Open(ctx, m.Config.Store)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", m.Config.Store, err)
	}
	a := &app{
		log:     log,
		clock:   clock,
		loc:     loc,
		stores:  stores,
		posters: bot.Posters{},
		mux:     &bot.Mux{Settings: stores.Settings, DefaultLocale: locale, Log: log},
		runner:  &schedule.Runner{Store: stores.Jobs, Clock: clock, Log: log},
	}
	admins := bot.ParseAdmins(m.Config.Admins)
	polls := poll.New(poll.Config{
		Store:    stores.Polls,
		Jobs:     stores.Jobs,
		Poster:   a.posters,
		Clock:    clock,
		Admins:   admins,
		Secret:   m.Config.ActionSecret,
		Location: loc,
		Log:      log,
		Locale:   a.mux.Locale,
	})
	polls.Register(a.mux, a.runner)
	kring.New(stores.Settings, a.mux).Register(a.mux)
	return a, nil
}

func (a *app) close() {
	if err := a.stores.Close(); err != nil {
		a.log.Error("close store", "err", err)
	}
}
