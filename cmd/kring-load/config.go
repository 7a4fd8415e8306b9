package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// config is what one invocation does.
type config struct {
	Platform string // "slack" or "mattermost"
	N, C     int    // clicks, and how many are in flight at once
	Options  int    // the poll's options; click i votes for option i mod Options

	// Store is kring's store: a redis URL, "bolt" (a file in a temporary
	// directory) or bolt:/path. "" means Redis.
	Store string
	// Redis is the floor's Redis; the floor's keys live under a random
	// prefix there and are deleted at the end.
	Redis string

	// Target is a running kring serve's base URL; "" starts one.
	Target string
	// Kring is the kring binary to start; "" builds cmd/kring.
	Kring string
	// APIAddr is where the platform stand-in listens.
	APIAddr string

	// Secrets shared with kring. When kring is started here they are
	// random unless set; with Target they must be the target's.
	SigningSecret string // Slack
	CommandToken  string // Mattermost

	// FinalWait is how long kring's message may take, after the last
	// click's answer, to show the final count: a guard against waiting
	// for ever, not a bound on speed.
	FinalWait time.Duration
	// Floor is where the floor runs: "process" (its own, as kring's) or
	// "inline" (in this process, which flatters it).
	Floor string
	// KringLog is where kring's own log goes; "" means a temporary file,
	// kept and named when something fails.
	KringLog string
}

const usage = `Usage: kring-load [flags]

Drives kring serve over HTTP as Slack or Mattermost does during a busy poll:
N clicks by N users on one poll, C at a time, against a local stand-in of
the platform's API, and the same clicks against a floor handler that only
checks the request and does one HSET in Redis. Prints throughput, ack
latency (p50, p99, max), errors, votes lost, kring's message updates per
second and whether its message ends on the final count, with the ratio of
kring to the floor. Exit status 1 when a vote is lost, a click fails or the
message does not end on the final count.

kring serve keeps its data under the fixed key prefix "kring:" and its job
runner takes the due jobs of anything else using that prefix in the same
database: run one load at a time on a database, and no measurement beside it.

Examples:
  go run ./cmd/kring-load --platform slack --n 20000 --c 50
  go run ./cmd/kring-load --platform mattermost --n 2000 --c 50 --store bolt

With --target, kring serve runs elsewhere and must already point at the
stand-in (--api-addr), share its secrets and use a Redis --store:
  Slack:      KRING_SLACK_API_URL=http://API_ADDR/api/ KRING_SLACK_BOT_TOKEN=xoxb-load
              KRING_SLACK_SIGNING_SECRET=<--signing-secret>
  Mattermost: KRING_MATTERMOST_URL=http://API_ADDR KRING_MATTERMOST_BOT_TOKEN=bot-token-kring
              KRING_MATTERMOST_COMMAND_TOKEN=<--command-token> KRING_ACTION_SECRET=…
              KRING_PUBLIC_URL=<--target>

Flags:
`

func parseFlags(args []string, errw io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("kring-load", flag.ContinueOnError)
	fs.SetOutput(errw)
	fs.Usage = func() { fmt.Fprint(errw, usage); fs.PrintDefaults() }
	defRedis := os.Getenv("KRING_TEST_REDIS")
	if defRedis == "" {
		defRedis = "redis://127.0.0.1:6379/15"
	}
	fs.StringVar(&c.Platform, "platform", "slack", "the platform to play: slack or mattermost")
	fs.IntVar(&c.N, "n", 20000, "clicks, each by a different user")
	fs.IntVar(&c.C, "c", 50, "clicks in flight at once")
	fs.IntVar(&c.Options, "options", 4, "the poll's options (2 to 20)")
	fs.StringVar(&c.Store, "store", "", `kring's store: a redis:// URL, "bolt" (a temporary file) or bolt:/path; default the --redis URL`)
	fs.StringVar(&c.Redis, "redis", defRedis, "the floor's Redis ($KRING_TEST_REDIS); its keys get a random prefix and are deleted at the end")
	fs.StringVar(&c.Target, "target", "", "base URL of a running kring serve (default: start one)")
	fs.StringVar(&c.Kring, "kring", "", "kring binary to start (default: go build ./cmd/kring into a temporary directory)")
	fs.StringVar(&c.APIAddr, "api-addr", "127.0.0.1:0", "loopback address of the platform stand-in; fix it for --target")
	fs.StringVar(&c.SigningSecret, "signing-secret", os.Getenv("KRING_SLACK_SIGNING_SECRET"), "Slack signing secret kring checks ($KRING_SLACK_SIGNING_SECRET; random when kring is started here)")
	fs.StringVar(&c.CommandToken, "command-token", os.Getenv("KRING_MATTERMOST_COMMAND_TOKEN"), "Mattermost command token kring accepts ($KRING_MATTERMOST_COMMAND_TOKEN; random when kring is started here)")
	fs.DurationVar(&c.FinalWait, "final-wait", 30*time.Second, "how long kring's message may take after the last answer to show the final count")
	fs.StringVar(&c.Floor, "floor", "process", "where the floor runs: process (its own, as kring serve does) or inline (in this process, which flatters it on a small machine)")
	fs.StringVar(&c.KringLog, "kring-log", "", "file for kring serve's log (default: a temporary file, named when something fails)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; every setting is a flag, e.g. --n 2000", fs.Arg(0))
	}
	if c.Store == "" {
		c.Store = c.Redis
	}
	return c, c.check()
}

func (c config) check() error {
	var errs []error
	if c.Platform != "slack" && c.Platform != "mattermost" {
		errs = append(errs, fmt.Errorf("--platform %q: use slack or mattermost", c.Platform))
	}
	if c.N < 1 || c.C < 1 {
		errs = append(errs, fmt.Errorf("--n %d --c %d: both at least 1, e.g. --n 2000 --c 50", c.N, c.C))
	}
	if c.Floor != "process" && c.Floor != "inline" {
		errs = append(errs, fmt.Errorf("--floor %q: use process or inline", c.Floor))
	}
	if c.Options < 2 || c.Options > 20 {
		errs = append(errs, fmt.Errorf("--options %d: a poll has 2 to 20 options", c.Options))
	}
	if c.Target != "" {
		if u, err := url.Parse(c.Target); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("--target %q: give a base URL, e.g. http://127.0.0.1:8080", c.Target))
		}
		if strings.HasPrefix(c.Store, "bolt") {
			errs = append(errs, errors.New("--target with a bolt store: the running kring holds the file's lock, so the votes cannot be read; use a redis:// --store"))
		}
		if c.Platform == "slack" && c.SigningSecret == "" {
			errs = append(errs, errors.New("--target: give the target's --signing-secret"))
		}
		if c.Platform == "mattermost" && c.CommandToken == "" {
			errs = append(errs, errors.New("--target: give the target's --command-token"))
		}
		if strings.HasSuffix(c.APIAddr, ":0") {
			errs = append(errs, errors.New("--target: fix the stand-in's --api-addr (e.g. 127.0.0.1:18080) and point the target at it"))
		}
	}
	return errors.Join(errs...)
}
