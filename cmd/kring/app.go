package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/kring"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage"
)

// app is kring wired together: the store, the features on a Mux, the job
// runner. Platforms add their Poster to posters before serving.
type app struct {
	log      *slog.Logger
	clock    bot.Clock
	loc      *time.Location
	stores   *storage.Stores
	posters  bot.Posters
	mux      *bot.Mux
	runner   *schedule.Runner
	features []feature
	stop     func() // stops the features' background work
}

// newApp opens the store and wires the features. serving is true for
// kring serve, which may run beside other kring serve processes.
func (m *Main) newApp(ctx context.Context, log *slog.Logger, clock bot.Clock, serving bool) (*app, error) {
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
	// A click reads the languages from this cache, not from the store;
	// /kring taal changes them through it.
	settings := &bot.CachedSettings{Store: stores.Settings}
	a := &app{
		log:     log,
		clock:   clock,
		loc:     loc,
		stores:  stores,
		posters: bot.Posters{},
		mux:     &bot.Mux{Settings: settings, DefaultLocale: locale, Log: log, Deliveries: stores.Jobs},
		runner:  &schedule.Runner{Store: stores.Jobs, Clock: clock, Log: log},
	}
	if !serving {
		// The shell runs what falls due one job at a time, in due order,
		// so its transcript reads the same every time.
		a.runner.Max = 1
	}
	// kring serve renders live messages off the request path, durably; the
	// shell renders each change at once, so its transcript reads in order.
	lv := live.New(live.Config{Poster: a.posters, Jobs: stores.Jobs, Inline: !serving, Clock: clock, Log: log})
	a.features = registerFeatures(a.mux, a.runner, features{
		polls: stores.Polls, meetings: stores.Meetings, jobs: stores.Jobs, settings: settings,
		poster: a.posters, clock: clock, loc: loc, log: log,
		admins: bot.ParseAdmins(m.Config.Admins), secret: m.Config.ActionSecret, live: lv,
		publicURL: m.Config.PublicURL,
	})
	a.stop = func() {
		for _, f := range a.features {
			f.Close()
		}
		lv.Close() // the final renders go out before the platforms close
	}
	return a, nil
}

// features is what kring's features are built from.
type features struct {
	polls    poll.Store
	meetings meeting.Store
	jobs     schedule.Store
	settings bot.SettingsStore
	poster   bot.Poster
	clock    bot.Clock
	loc      *time.Location
	log      *slog.Logger
	admins   bot.Admins
	secret   string
	live     *live.Messages // nil: each feature renders in the request
	// publicURL is where kring serve is reached (KRING_PUBLIC_URL): the
	// meetings' calendar feeds are served under it.
	publicURL string
}

// feature is one of kring's features, whole: it registers its commands,
// actions and jobs, and stops when kring does.
type feature interface {
	Register(mux *bot.Mux, runner *schedule.Runner)
	Close()
}

// router is a feature with web pages of its own (a calendar feed, a
// public page), mounted on kring serve's HTTP server.
type router interface {
	Routes(web *http.ServeMux)
}

// kringFeatures is the one list of kring's features. A new feature is
// added here, once, and so reaches the shell, serve, the Slack manifest
// and Mattermost's setup.
func kringFeatures(mux *bot.Mux, f features) []feature {
	return []feature{
		poll.New(poll.Config{
			Store: f.polls, Jobs: f.jobs, Poster: f.poster, Clock: f.clock, Admins: f.admins,
			Secret: f.secret, Location: f.loc, Log: f.log, Locale: mux.Locale, Live: f.live,
		}),
		meeting.New(meeting.Config{
			Store: f.meetings, Jobs: f.jobs, Poster: f.poster, Clock: f.clock, Admins: f.admins,
			Location: f.loc, Log: f.log, Locale: mux.Locale, Settings: f.settings, Live: f.live,
			PublicURL: f.publicURL,
		}),
		kring.New(f.settings, mux, f.admins),
	}
}

// registerFeatures puts every feature's commands and actions on mux and
// its jobs on runner (nil: none), and returns the features.
func registerFeatures(mux *bot.Mux, runner *schedule.Runner, f features) []feature {
	list := kringFeatures(mux, f)
	for _, ft := range list {
		ft.Register(mux, runner)
	}
	return list
}

// routes mounts the features' web pages on web.
func (a *app) routes(web *http.ServeMux) {
	for _, f := range a.features {
		if r, ok := f.(router); ok {
			r.Routes(web)
		}
	}
}

// commands lists every slash command kring registers. Registering touches
// no store, so this needs none.
func commands() []bot.Command {
	mux := &bot.Mux{}
	registerFeatures(mux, nil, features{})
	return mux.Commands()
}

func (a *app) close() {
	a.stop()
	if err := a.stores.Close(); err != nil {
		a.log.Error("close store", "err", err)
	}
}
