package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/server"
)

// platform is a chat adapter as kring serve runs it.
type platform interface {
	// Name is the platform's name: bot.Slack, bot.Mattermost.
	Name() string
	// Poster posts on the platform, paced (package bot/pace).
	Poster() bot.Poster
	// Mount adds the platform's HTTP endpoints.
	Mount(mux *http.ServeMux)
	// Run does the platform's background work (Socket Mode, say) until ctx
	// ends; it returns nil at once when there is none.
	Run(ctx context.Context) error
	// Ready reports whether the platform can be reached with the
	// configured credentials; /readyz shows it.
	Ready(ctx context.Context) error
	// Close sends what is pending (coalesced updates) and stops.
	Close(ctx context.Context) error
}

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.flags("serve", "store", "addr", "public-url", "locale", "timezone", "admins", "action-secret",
		"slack-signing-secret", "slack-bot-token", "slack-app-token", "slack-api-url",
		"mattermost-url", "mattermost-bot-token", "mattermost-command-token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := m.logger(slog.LevelInfo)
	a, err := m.newApp(ctx, log, bot.SystemClock{}, true)
	if err != nil {
		return err
	}
	defer a.close()

	if m.Config.ActionSecret == "" {
		log.Warn("KRING_ACTION_SECRET is not set: anonymous polls keep their ballots under a hash with an empty key, " +
			"which anyone who can read the store can recompute from user ids. Set it to a long random value " +
			"(openssl rand -hex 32) before the first anonymous poll, and keep it: changing it loses track of who voted")
	}
	srv := server.New(log)
	a.mux.Observe = srv.Metrics.Observe
	srv.AddCheck(server.Check{Name: "store (" + a.stores.Backend() + ")", Func: a.stores.Ping})

	var platforms []platform
	for _, make := range []func(*app) (platform, error){m.slackPlatform, m.mattermostPlatform} {
		p, err := make(a)
		if err != nil {
			return err
		}
		if p != nil {
			platforms = append(platforms, p)
		}
	}
	if len(platforms) == 0 {
		log.Warn("no chat platform configured: serving the web endpoints only. " +
			"For Slack set KRING_SLACK_SIGNING_SECRET and KRING_SLACK_BOT_TOKEN (and KRING_SLACK_APP_TOKEN for Socket Mode); " +
			"for Mattermost set KRING_MATTERMOST_URL, KRING_MATTERMOST_BOT_TOKEN, KRING_MATTERMOST_COMMAND_TOKEN and KRING_ACTION_SECRET. " +
			"Or try kring without a server: kring shell")
	}
	for _, p := range platforms {
		a.posters[p.Name()] = p.Poster()
		p.Mount(srv.Mux)
		srv.AddCheck(server.Check{Name: p.Name(), Func: p.Ready})
	}
	a.routes(srv.Mux)

	l, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	log.Info("kring serving", "addr", l.Addr().String(), "store", a.stores.Backend(), "platforms", len(platforms))
	return serve(ctx, log, srv, l, a, platforms)
}

// serve runs the HTTP server, the platforms' background work and the job
// runner until ctx ends, then stops them in order: first no new requests
// and no new jobs, then the jobs in flight ended, then pending updates
// sent, then the store closed (by the caller).
func serve(ctx context.Context, log *slog.Logger, srv *server.Server, l net.Listener, a *app, platforms []platform) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(platforms)+1)
	for _, p := range platforms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", p.Name(), err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.runner.Run(ctx, time.Second)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ctx, l, 20*time.Second); err != nil {
			errc <- err
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		cancel()
	}
	wg.Wait()
	// Jobs still running may post: they end, or are cancelled, first.
	jctx, jcancel := context.WithTimeout(context.Background(), 10*time.Second)
	if jerr := a.runner.Close(jctx); jerr != nil {
		log.Error("stop the job runner", "err", jerr)
	}
	jcancel()
	a.stop() // the features' last renders go to the platforms' posters before these close
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	for _, p := range platforms {
		if cerr := p.Close(cctx); cerr != nil {
			log.Error("close platform", "platform", p.Name(), "err", cerr)
		}
	}
	return err
}
