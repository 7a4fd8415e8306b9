// Package slack connects kring to Slack: slash commands, buttons and modals
// arrive over HTTP (signed requests) or Socket Mode and go to a bot.Mux;
// kring's messages go out through the Web API as Block Kit. Nothing here
// knows what a poll is: every feature that registers on the Mux works in
// Slack as it is.
package slack

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kringbot/kring/adapters/reply"
	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/pace"
	"github.com/slack-go/slack"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Dispatcher answers commands and actions; *bot.Mux is one.
type Dispatcher interface {
	ServeCommand(ctx context.Context, req *bot.Request) bot.Reply
	ServeAction(ctx context.Context, act *bot.Action) bot.Reply
	Locale(ctx context.Context, where bot.Where) string
}

var _ Dispatcher = (*bot.Mux)(nil)

// Config configures an Adapter.
type Config struct {
	SigningSecret string // verifies HTTP requests; "" turns the HTTP endpoints off
	BotToken      string // xoxb-…, for the Web API
	AppToken      string // xapp-…, turns Socket Mode on
	APIURL        string // "" means DefaultAPIURL

	Mux Dispatcher
	Log *slog.Logger // nil means slog.Default()

	// HTTPClient calls the Web API and response_urls; nil means a client
	// with a 20-second timeout.
	HTTPClient *http.Client
	// AckWithin is how long a request may run before Slack gets an empty
	// acknowledgement and the reply follows through the response_url;
	// 0 means reply.DefaultWithin, 2.5 s, within Slack's 3 s.
	AckWithin time.Duration
	// Users tunes the cache of users' names, time zones and languages;
	// its Lookup is set here (users.info). Zero values are the cache's
	// defaults.
	Users users.Config
	// PaceEvery spaces posts per channel and updates per message; 0 means
	// one second, Slack's rate.
	PaceEvery time.Duration
	// SocketPingInterval is how long Socket Mode waits for Slack's ping
	// before it reconnects; 0 means slack-go's 30 s.
	SocketPingInterval time.Duration
}

// Adapter is kring on Slack: the HTTP endpoints, Socket Mode and the
// paced Web API poster.
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	client  *slack.Client
	raw     *webPoster
	poster  *pace.Poster
	users   *users.Cache
	replies *responseURLs
	runner  *reply.Runner // handlers and late replies in flight

	readyMu sync.Mutex
	readyAt time.Time
}

// New returns an Adapter. It needs a bot token and at least a signing
// secret or an app token.
func New(cfg Config) (*Adapter, error) {
	if cfg.BotToken == "" {
		return nil, errors.New("slack: KRING_SLACK_BOT_TOKEN (xoxb-…) is not set")
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		return nil, errors.New("slack: set KRING_SLACK_SIGNING_SECRET for the HTTP endpoints, or KRING_SLACK_APP_TOKEN (xapp-…) for Socket Mode")
	}
	if cfg.Mux == nil {
		return nil, errors.New("slack: no Mux")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if cfg.AckWithin == 0 {
		cfg.AckWithin = reply.DefaultWithin
	}
	if cfg.PaceEvery == 0 {
		cfg.PaceEvery = time.Second
	}
	log := cfg.Log.With("platform", bot.Slack)
	opts := []slack.Option{slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	client := slack.New(cfg.BotToken, opts...)
	a := &Adapter{
		cfg:     cfg,
		log:     log,
		client:  client,
		replies: newResponseURLs(time.Now),
		runner:  reply.New(cfg.AckWithin, 0),
	}
	ucfg := cfg.Users
	ucfg.Lookup = lookup(client)
	if ucfg.Log == nil {
		ucfg.Log = log
	}
	a.users = users.New(ucfg)
	a.raw = &webPoster{api: client, http: cfg.HTTPClient, log: log, locale: cfg.Mux.Locale, replies: a.replies, users: a.users}
	a.poster = pace.New(a.raw, cfg.PaceEvery, log)
	return a, nil
}

// Name implements kring's platform: "slack".
func (a *Adapter) Name() string { return bot.Slack }

// Poster returns the paced Poster features post through.
func (a *Adapter) Poster() bot.Poster { return a.poster }

// Mount adds POST /slack/commands and POST /slack/interactions, when a
// signing secret is configured.
func (a *Adapter) Mount(mux *http.ServeMux) {
	if a.cfg.SigningSecret == "" {
		return
	}
	mux.Handle("POST /slack/commands", http.HandlerFunc(a.serveCommands))
	mux.Handle("POST /slack/interactions", http.HandlerFunc(a.serveInteractions))
}

// readyFor is how long a good Ready answer is reused: /readyz may be
// polled every few seconds, auth.test need not be. A failure is never
// reused, so /readyz turns green as soon as Slack answers again.
const readyFor = 30 * time.Second

// Ready checks the bot token with auth.test.
func (a *Adapter) Ready(ctx context.Context) error {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	if !a.readyAt.IsZero() && time.Since(a.readyAt) < readyFor {
		return nil
	}
	if err := a.authTest(ctx); err != nil {
		a.readyAt = time.Time{}
		return err
	}
	a.readyAt = time.Now()
	return nil
}

func (a *Adapter) authTest(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := a.client.AuthTestContext(ctx)
	if err != nil {
		if ue, ok := bot.AsUserError(apiError("auth.test", "", err)); ok && ue.ID == "slack.invalid_auth" {
			return fmt.Errorf("slack rejects the bot token (%v): check KRING_SLACK_BOT_TOKEN, it should be the xoxb-… Bot User OAuth Token of the installed app", err)
		}
		return fmt.Errorf("slack auth.test at %s: %w", a.cfg.APIURL, err)
	}
	a.log.Debug("slack auth ok", "team", res.Team, "bot_user", res.User)
	return nil
}

// Check runs auth.test once and logs the outcome, so a wrong token is
// plain at start.
func (a *Adapter) Check(ctx context.Context) error {
	err := a.Ready(ctx)
	if err != nil {
		a.log.Error("Slack is not usable: " + err.Error())
		return err
	}
	a.log.Info("Slack connected", "api", a.cfg.APIURL, "http", a.cfg.SigningSecret != "", "socket_mode", a.cfg.AppToken != "")
	return nil
}

// Close waits for requests in flight, sends pending updates and stops.
func (a *Adapter) Close(ctx context.Context) error {
	var err error
	if rerr := a.runner.Close(ctx); rerr != nil {
		err = fmt.Errorf("slack: %w", rerr)
	}
	if perr := a.poster.Close(ctx); perr != nil && err == nil {
		err = fmt.Errorf("slack: flush pending updates: %w", perr)
	}
	return err
}
