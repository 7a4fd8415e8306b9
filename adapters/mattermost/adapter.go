package mattermost

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/reply"
	"github.com/kringbot/kring/adapters/users"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/pace"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Handler is what the adapter hands commands and clicks to; *bot.Mux is one.
type Handler interface {
	ServeCommand(ctx context.Context, req *bot.Request) bot.Reply
	ServeAction(ctx context.Context, act *bot.Action) bot.Reply
	Locale(ctx context.Context, where bot.Where) string
}

var _ Handler = (*bot.Mux)(nil)

// Config configures the adapter. URL, BotToken, CommandTokens, Secret,
// PublicURL and Handler are required.
type Config struct {
	URL           string   // the Mattermost server, https://chat.example.org
	BotToken      string   // the bot account's access token
	CommandTokens []string // the tokens of kring's slash commands
	Secret        string   // HMAC key for button contexts and dialog states
	PublicURL     string   // where Mattermost reaches kring
	Handler       Handler
	Log           *slog.Logger // nil: slog.Default()
	HTTPClient    *http.Client // nil: a client with a 15 s timeout

	// Every is the least time between two posts in one channel and two
	// updates of one post (default a second).
	Every time.Duration
	// AckWithin is how long a command or click may take before the
	// answer is sent later instead (default 2.5 s; Mattermost waits 3 s).
	AckWithin time.Duration
	// RetryBackoff is the first wait before retrying a 5xx (default 250 ms).
	RetryBackoff time.Duration
	// Users tunes the cache of users' names, time zones and languages;
	// its Lookup is set here (GET /users/{id}). Zero values are the
	// cache's defaults, as on Slack.
	Users users.Config
}

// Adapter is kring on Mattermost.
type Adapter struct {
	cfg    Config
	log    *slog.Logger
	tokens [][]byte
	render renderer
	client *client
	rest   *restPoster
	paced  *pace.Poster
	users  *users.Cache
	runner *reply.Runner // work answered in time or later
}

// New checks cfg and returns the adapter.
func New(cfg Config) (*Adapter, error) {
	var missing []string
	for name, v := range map[string]string{
		"KRING_MATTERMOST_URL": cfg.URL, "KRING_MATTERMOST_BOT_TOKEN": cfg.BotToken,
		"KRING_ACTION_SECRET": cfg.Secret, "KRING_PUBLIC_URL": cfg.PublicURL,
	} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	var tokens [][]byte
	for _, t := range cfg.CommandTokens {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, []byte(t))
		}
	}
	if len(tokens) == 0 {
		missing = append(missing, "KRING_MATTERMOST_COMMAND_TOKEN")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("mattermost: set %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("mattermost: KRING_ACTION_SECRET must be at least 16 characters")
	}
	for _, u := range []string{cfg.URL, cfg.PublicURL} {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("mattermost: %q is not an http(s) URL", u)
		}
	}
	if cfg.Handler == nil {
		return nil, errors.New("mattermost: no handler")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = reply.DefaultWithin
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 250 * time.Millisecond
	}
	public := strings.TrimRight(cfg.PublicURL, "/")
	a := &Adapter{
		cfg:    cfg,
		log:    cfg.Log.With("platform", bot.Mattermost),
		tokens: tokens,
		render: renderer{
			sign:      signer{key: []byte(cfg.Secret)},
			actionURL: public + "/mattermost/actions",
			dialogURL: public + "/mattermost/dialogs",
		},
		client: newClient(cfg.URL, cfg.BotToken, cfg.HTTPClient, cfg.RetryBackoff),
	}
	ucfg := cfg.Users
	ucfg.Lookup = lookup(a.client)
	ucfg.Many = lookupMany(a.client)
	if ucfg.Log == nil {
		ucfg.Log = a.log
	}
	a.users = users.New(ucfg)
	a.runner = reply.New(cfg.AckWithin, 0)
	a.rest = &restPoster{c: a.client, render: a.render, log: a.log, dms: map[string]string{}, users: a.users}
	a.paced = pace.New(a.rest, cfg.Every, a.log)
	return a, nil
}

// Name is bot.Mattermost.
func (a *Adapter) Name() string { return bot.Mattermost }

// Poster is the paced Poster features post through.
func (a *Adapter) Poster() bot.Poster { return a.paced }

// Mount adds the adapter's endpoints to mux.
func (a *Adapter) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /mattermost/commands", a.serveCommand)
	mux.HandleFunc("POST /mattermost/actions", a.serveAction)
	mux.HandleFunc("POST /mattermost/dialogs", a.serveDialog)
}

// Run checks the bot token once, logging in one line when Mattermost
// refuses it or cannot be reached, and returns nil: Mattermost calls kring,
// kring has nothing else to run. Without it a wrong token would show only
// on /readyz and as failed posts.
func (a *Adapter) Run(ctx context.Context) error {
	err := a.Ready(ctx)
	switch s := statusOf(err); {
	case err == nil || ctx.Err() != nil:
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		a.log.Error("Mattermost refuses the bot token: set KRING_MATTERMOST_BOT_TOKEN to the access token of kring's bot account (System Console > Integrations > Bot Accounts)", "url", a.cfg.URL, "status", s)
	default:
		a.log.Error("Mattermost cannot be reached to check the bot token; check KRING_MATTERMOST_URL", "url", a.cfg.URL, "err", err)
	}
	return nil
}

// Ready checks that the bot token works.
func (a *Adapter) Ready(ctx context.Context) error {
	err := a.client.do(ctx, "get bot user", func() (*model.Response, error) {
		_, resp, err := a.client.api.GetMe(ctx, "")
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("mattermost bot token: %w", err)
	}
	return nil
}

// Close waits for answers still being worked on, sends pending updates and
// stops.
func (a *Adapter) Close(ctx context.Context) error {
	var err error
	if rerr := a.runner.Close(ctx); rerr != nil {
		err = fmt.Errorf("mattermost: %w", rerr)
	}
	if perr := a.paced.Close(ctx); perr != nil {
		err = errors.Join(err, fmt.Errorf("mattermost: flush updates: %w", perr))
	}
	return err
}

// tokenOK compares a command's token with every configured one in
// constant time.
func (a *Adapter) tokenOK(token string) bool {
	ok := 0
	for _, t := range a.tokens {
		ok |= subtle.ConstantTimeCompare([]byte(token), t)
	}
	return ok == 1 && token != ""
}
