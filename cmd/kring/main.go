// Command kring runs the kring chat bot: `kring shell` for a terminal chat
// on the embedded store, `kring serve` for Slack and Mattermost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kring:", err)
		os.Exit(1)
	}
}

// Config is kring's configuration, from flags and KRING_* variables.
type Config struct {
	Store        string
	Addr         string
	PublicURL    string
	Locale       string
	Timezone     string
	Admins       string
	ActionSecret string

	SlackSigningSecret string
	SlackBotToken      string
	SlackAppToken      string
	SlackAPIURL        string

	MattermostURL          string
	MattermostBotToken     string
	MattermostCommandToken string
}

// Main is the program, testable: it reads from In and writes to Out and Err.
type Main struct {
	Config Config
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
}

// NewMain returns a Main on the given streams and the process environment.
func NewMain(in io.Reader, out, errw io.Writer) *Main {
	return &Main{In: in, Out: out, Err: errw, Getenv: os.Getenv}
}

const usage = `kring — een chatbot voor regionale samenwerking in de geboortezorg
(a chat bot for regional partnerships in Dutch birth care)

Usage:
  kring shell       chat with kring in this terminal (embedded store, no server, no tokens)
  kring serve       run the server for Slack and Mattermost, with /healthz, /readyz, /metrics
  kring slack manifest --url https://kring.example.org
                    print a Slack app manifest to install kring with
  kring mattermost setup --team NAME
                    create or update kring's slash commands in a Mattermost team
  kring store salvage --from damaged.db --to new.db
                    copy what is readable of a damaged bolt file into a new one
  kring version     print the version
  kring healthcheck ask a running kring serve for /healthz (for container health checks)

Run "kring <command> -h" for the settings of a command. Every setting is a
flag and an environment variable (KRING_STORE for --store, and so on).

Try it:
  go run ./cmd/kring shell
  > /poll "Wanneer houden we de kick-off?" "di 14 jan" "do 16 jan"
`

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Err, usage)
		return errors.New("name a command: shell, serve, version, slack or mattermost")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "shell":
		return m.runShell(ctx, rest)
	case "serve":
		return m.runServe(ctx, rest)
	case "slack":
		return m.runSlack(ctx, rest)
	case "mattermost":
		return m.runMattermost(ctx, rest)
	case "healthcheck":
		return m.runHealthcheck(ctx, rest)
	case "store":
		return m.runStore(ctx, rest)
	case "version", "--version", "-v":
		fmt.Fprintln(m.Out, "kring", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Out, usage)
		return nil
	}
	fmt.Fprint(m.Err, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// summaries say in a sentence what each subcommand does, for its -h.
var summaries = map[string]string{
	"shell":            "Chat with kring in this terminal: type /poll … as in Slack or Mattermost; :help lists the shell's own\ncommands. Reads a script from standard input as well. Uses the embedded store unless --store says otherwise.",
	"serve":            "Serve Slack and Mattermost over HTTP (and Slack Socket Mode), with /healthz, /readyz and /metrics.\nA platform is on when its settings are set; see README.md.",
	"slack manifest":   "Print a Slack app manifest (JSON, which Slack's YAML tab takes too) with every command kring has.",
	"mattermost setup": "Create or update kring's slash commands in a Mattermost team and print the tokens to configure.",
	"store salvage":    "Copy what is still readable of a damaged bolt file into a new file.",
	"healthcheck":      "Ask a kring serve on this host for /healthz; exit status 0 when it answers ok.",
}

// flags returns a flag set for a subcommand with the settings it uses,
// defaulting each to its KRING_* variable.
func (m *Main) flags(name string, settings ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("kring "+name, flag.ContinueOnError)
	fs.SetOutput(m.Err)
	fs.Usage = func() {
		fmt.Fprintf(m.Err, "Usage: kring %s [flags]\n\n%s\n\nFlags (each also an environment variable, shown in brackets):\n", name, summaries[name])
		fs.PrintDefaults()
	}
	c := &m.Config
	all := map[string]struct {
		p    *string
		def  string
		help string
	}{
		"store":                    {&c.Store, "bolt:kring.db", "where kring keeps its data: bolt:/path/kring.db (embedded file), redis://host:6379/0, rediss://…, redis-sentinel://…, or host:port,host:port for Redis Cluster"},
		"addr":                     {&c.Addr, ":8080", "address to listen on"},
		"public-url":               {&c.PublicURL, "", "the URL at which Slack/Mattermost reach this server, e.g. https://kring.example.org"},
		"locale":                   {&c.Locale, "nl", "default language of a workspace: nl or en (a workspace changes its own with /kring taal)"},
		"timezone":                 {&c.Timezone, "Europe/Amsterdam", "default time zone for dates and times"},
		"admins":                   {&c.Admins, "", "comma-separated user ids allowed to manage every poll (optionally platform:id)"},
		"action-secret":            {&c.ActionSecret, "", "HMAC key that signs Mattermost button and dialog context"},
		"slack-signing-secret":     {&c.SlackSigningSecret, "", "Slack app signing secret (turns on the Slack HTTP endpoints)"},
		"slack-bot-token":          {&c.SlackBotToken, "", "Slack bot token, xoxb-…"},
		"slack-app-token":          {&c.SlackAppToken, "", "Slack app-level token, xapp-… (turns on Socket Mode)"},
		"slack-api-url":            {&c.SlackAPIURL, "https://slack.com/api/", "Slack Web API base URL (point it at a stand-in for tests)"},
		"mattermost-url":           {&c.MattermostURL, "", "Mattermost server URL, e.g. https://chat.example.org"},
		"mattermost-bot-token":     {&c.MattermostBotToken, "", "Mattermost bot account access token"},
		"mattermost-command-token": {&c.MattermostCommandToken, "", "Mattermost slash command token(s), comma-separated"},
	}
	for _, s := range settings {
		v, ok := all[s]
		if !ok {
			panic("unknown setting " + s)
		}
		env := "KRING_" + strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
		def := v.def
		if e := m.Getenv(env); e != "" {
			def = e
		}
		fs.StringVar(v.p, s, def, v.help+" ($"+env+")")
	}
	return fs
}

// logger writes structured logs to Err.
func (m *Main) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(m.Err, &slog.HandlerOptions{Level: level}))
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// location loads the configured time zone.
func (m *Main) location() (*time.Location, error) {
	loc, err := time.LoadLocation(m.Config.Timezone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", m.Config.Timezone, err)
	}
	return loc, nil
}

// runHealthcheck asks a kring serve on this host whether it is alive, so a
// container without curl can be health-checked.
func (m *Main) runHealthcheck(ctx context.Context, args []string) error {
	fs := m.flags("healthcheck", "addr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr := m.Config.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	fmt.Fprintln(m.Out, "ok")
	return nil
}
