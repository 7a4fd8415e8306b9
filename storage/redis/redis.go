// Package redis keeps every kring Store in Redis (go-redis v9), for kring
// processes that share one store or want Redis's replication.
//
// # Addresses
//
// Open takes one of:
//
//	redis://[[user]:password@]host[:port][/db][?option=value...]
//	rediss://...             the same over TLS
//	redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/mastername[/db][?sentinel_password=...&sentinel_username=...]
//	host:port[,host:port...] Redis Cluster, these being seed nodes
//
// The redis:// and rediss:// forms are go-redis's own (redis.ParseURL),
// query options included. In the Sentinel form the hosts are the sentinels
// (port 26379 when left out), the user and password are the master's, and
// the sentinels' own credentials, when they need any, go in the query. The
// Cluster form carries no credentials.
//
// # Keys
//
// Every key starts with the prefix ("kring:" from Open) and carries a hash
// tag, so that the keys one atomic step touches share a Cluster slot:
//
//	kring:poll:{ID}                              HASH    the poll, a field per part that changes alone
//	kring:poll:{ID}:votes                        HASH    voter → ballot JSON
//	kring:channel:{platform:team:channel}:polls  ZSET    poll ids by creation time (ms)
//	kring:meeting:{ID}                           HASH    the meeting (see Meetings)
//	kring:meeting:{ID}:rsvps                     HASH    user → RSVP JSON
//	kring:meeting:{ID}:delivery:KEY              STRING  a click's delivery, with a TTL
//	kring:channel:{platform:team:channel}:meetings ZSET  meeting ids by creation time (ms)
//	kring:attending:{platform:user}              SET     meeting ids answered Yes or Maybe (and maybe more)
//	kring:{feeds}:token, kring:{feeds}:of        HASH    calendar feed token → feed, feed → token
//	kring:{jobs}:due:KIND                        ZSET    job ids of KIND by when claimable (µs): due time, or lease end while leased
//	kring:{jobs}:kinds                           SET     the kinds that have a due:KIND set
//	kring:{jobs}:job                             HASH    job id → job JSON
//	kring:{jobs}:at                              HASH    job id → due time (µs)
//	kring:{jobs}:kind                            HASH    job id → kind
//	kring:{jobs}:lease                           HASH    job id → "untilµs owner"
//	kring:{jobs}:due                             ZSET    an older kring's job ids by due time, moved to the above by the first claim
//	kring:once:{KEY}                             STRING  with a TTL, for schedule.Store.Once
//	kring:workspace:{platform:team:}             HASH    setting name → value
//
// Poll and meeting ids are kring's own (hex), so they hold no braces
// that would move the hash tag.
//
// Every read-modify-write is a single command, a MULTI, or a Lua script;
// none reads a value into Go, changes it and writes it back, which would
// lose concurrent changes.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key Open's store writes.
const DefaultPrefix = "kring:"

// pingTimeout bounds Open's first ping when ctx has no deadline.
const pingTimeout = 5 * time.Second

// Timeouts of the client, unless the address sets its own. A chat platform
// wants an answer within 3 s, and a click makes a few store calls before
// it is answered; go-redis's defaults (5 s reads, three retries) let one
// call on a hung Redis outlast that several times over. A kring command
// is small and answers in milliseconds, so a second is ample.
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	poolTimeout = time.Second
	// maxRetries allows one retry, for a pooled connection the server has
	// closed meanwhile; a second is rarely worth its wait.
	maxRetries = 1
	// dialerRetries makes a refused dial an error at once: the caller's
	// budget, not the dialer, decides how long to keep trying.
	dialerRetries = 1
	// maxRedirects plays maxRetries' part for Redis Cluster: go-redis's
	// cluster client counts a retry after a timeout against the redirects
	// it may follow, and its default of three lets one call on a hung
	// master wait out four timeouts. One redirect still follows the MOVED
	// a node answers after a failover.
	maxRedirects = 1
)

// Store is kring's data in one Redis (or Sentinel group, or Cluster).
type Store struct {
	c      goredis.UniversalClient
	prefix string
}

// New returns a store on client c whose keys start with prefix. Close
// closes c.
func New(c goredis.UniversalClient, prefix string) *Store {
	return &Store{c: c, prefix: prefix}
}

// Open connects to the Redis that addr names (see the package doc for the
// forms) and pings it. A malformed addr or an unreachable Redis is an
// error here rather than on first use.
func Open(ctx context.Context, addr string) (*Store, error) {
	opts, err := parse(addr)
	if err != nil {
		return nil, err
	}
	c := opts.client()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		hint := ""
		if opts.cluster != nil {
			hint = " (an address list means Redis Cluster; for a single server use redis://host:port/db)"
		}
		return nil, fmt.Errorf("redis at %s is unreachable%s: %w", opts.where(), hint, err)
	}
	return New(c, DefaultPrefix), nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *Store) Close() error {
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("close redis client: %w", err)
	}
	return nil
}

// Polls returns the poll store.
func (s *Store) Polls() poll.Store { return &Polls{s: s} }

// Jobs returns the schedule store.
func (s *Store) Jobs() schedule.Store { return &Jobs{s: s} }

// Settings returns the workspace settings store.
func (s *Store) Settings() bot.SettingsStore { return &Settings{s: s} }

// options is a parsed address: exactly one field is set.
type options struct {
	simple   *goredis.Options
	failover *goredis.FailoverOptions
	cluster  *goredis.ClusterOptions
}

func (o options) client() goredis.UniversalClient {
	o.bound()
	switch {
	case o.failover != nil:
		return goredis.NewFailoverClient(o.failover)
	case o.cluster != nil:
		c := goredis.NewClusterClient(o.cluster)
		c.AddHook(followFailover{c})
		return c
	default:
		return goredis.NewClient(o.simple)
	}
}

// followFailover makes a Cluster client ask again which node serves which
// slots as soon as a node fails to answer. go-redis asks on a MOVED or
// ASK reply and otherwise once a minute, but a master that hangs or dies
// sends no reply at all: without this, kring would go on asking it for
// up to a minute after its replica had taken over its slots, and every
// click and job in those slots would fail meanwhile.
type followFailover struct{ c *goredis.ClusterClient }

func (f followFailover) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (f followFailover) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if unanswered(err) {
			f.c.ReloadState(ctx)
		}
		return err
	}
}

func (f followFailover) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if unanswered(err) {
			f.c.ReloadState(ctx)
		}
		return err
	}
}

// unanswered reports whether err says a node gave no answer (a timeout, a
// refused or broken connection) or the cluster is down, rather than a
// reply to the command. ReloadState only schedules a reload, at most one
// at a time, so a burst of failures costs one CLUSTER SLOTS.
func unanswered(err error) bool {
	if err == nil || errors.Is(err, goredis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		return strings.HasPrefix(reply.Error(), "CLUSTERDOWN ")
	}
	return true
}

// bound sets the timeouts that let a request on a hung Redis give up in
// time: the constants above where the address left a value unset, and
// always ContextTimeoutEnabled, without which go-redis ignores a context's
// deadline once a command is on the wire.
func (o options) bound() {
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	type knobs struct {
		dial, read, write, pool *time.Duration
		retries, dialRetries    *int
		ctxTimeout              *bool
	}
	var k knobs
	switch {
	case o.failover != nil:
		f := o.failover
		k = knobs{&f.DialTimeout, &f.ReadTimeout, &f.WriteTimeout, &f.PoolTimeout, &f.MaxRetries, &f.DialerRetries, &f.ContextTimeoutEnabled}
	case o.cluster != nil:
		c := o.cluster
		k = knobs{&c.DialTimeout, &c.ReadTimeout, &c.WriteTimeout, &c.PoolTimeout, &c.MaxRetries, &c.DialerRetries, &c.ContextTimeoutEnabled}
	default:
		s := o.simple
		k = knobs{&s.DialTimeout, &s.ReadTimeout, &s.WriteTimeout, &s.PoolTimeout, &s.MaxRetries, &s.DialerRetries, &s.ContextTimeoutEnabled}
	}
	set(k.dial, dialTimeout)
	set(k.read, ioTimeout)
	set(k.write, ioTimeout)
	set(k.pool, poolTimeout)
	if *k.retries == 0 {
		*k.retries = maxRetries
	}
	if *k.dialRetries == 0 {
		*k.dialRetries = dialerRetries
	}
	*k.ctxTimeout = true
	if o.cluster != nil && o.cluster.MaxRedirects == 0 {
		o.cluster.MaxRedirects = maxRedirects
	}
}

// where names the servers for messages, without credentials.
func (o options) where() string {
	switch {
	case o.failover != nil:
		return fmt.Sprintf("master %q of sentinels %s", o.failover.MasterName, strings.Join(o.failover.SentinelAddrs, ","))
	case o.cluster != nil:
		return "cluster " + strings.Join(o.cluster.Addrs, ",")
	default:
		return o.simple.Addr
	}
}

// Forms lists the address forms Open takes, for error messages.
const Forms = "redis://host:port/db, rediss://host:port/db, redis-sentinel://host:port[,host:port]/mastername[/db], or host:port,host:port for Redis Cluster"

// parse reads an address in one of the forms of the package doc.
func parse(addr string) (options, error) {
	bad := func(format string, a ...any) (options, error) {
		return options{}, fmt.Errorf("redis address %q: %s (want %s)", redact(addr), fmt.Sprintf(format, a...), Forms)
	}
	scheme, rest, hasScheme := strings.Cut(addr, "://")
	switch {
	case addr == "":
		return bad("empty")
	case !hasScheme:
		addrs, err := hostPorts(addr, "")
		if err != nil {
			return bad("%v", err)
		}
		return options{cluster: &goredis.ClusterOptions{Addrs: addrs}}, nil
	case scheme == "redis" || scheme == "rediss":
		o, err := goredis.ParseURL(addr)
		if err != nil {
			msg := strings.ReplaceAll(err.Error(), addr, redact(addr))
			return bad("%s", strings.TrimPrefix(msg, "redis: "))
		}
		return options{simple: o}, nil
	case scheme == "redis-sentinel":
		return parseSentinel(rest, bad)
	default:
		return bad("unknown scheme %q", scheme)
	}
}

func parseSentinel(rest string, bad func(string, ...any) (options, error)) (options, error) {
	o := &goredis.FailoverOptions{}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		user, pass, _ := strings.Cut(hosts[:at], ":")
		var err error
		if o.Username, err = url.PathUnescape(user); err != nil {
			return bad("user name: %v", err)
		}
		if o.Password, err = url.PathUnescape(pass); err != nil {
			return bad("password: %v", err)
		}
		hosts = hosts[at+1:]
	}
	addrs, err := hostPorts(hosts, "26379")
	if err != nil {
		return bad("sentinels: %v", err)
	}
	o.SentinelAddrs = addrs
	parts := strings.Split(path, "/")
	if parts[0] == "" {
		return bad("no master name after the sentinels")
	}
	if o.MasterName, err = url.PathUnescape(parts[0]); err != nil {
		return bad("master name: %v", err)
	}
	switch len(parts) {
	case 1:
	case 2:
		if o.DB, err = strconv.Atoi(parts[1]); err != nil || o.DB < 0 {
			return bad("database %q is not a number", parts[1])
		}
	default:
		return bad("path %q has more than mastername/db", path)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("query: %v", err)
	}
	for name, values := range q {
		switch name {
		case "sentinel_password":
			o.SentinelPassword = values[len(values)-1]
		case "sentinel_username":
			o.SentinelUsername = values[len(values)-1]
		default:
			return bad("unknown option %q (the Sentinel form takes sentinel_password and sentinel_username)", name)
		}
	}
	return options{failover: o}, nil
}

// hostPorts splits a comma-separated list of host:port; defPort, when not
// "", stands in for a missing port.
func hostPorts(list, defPort string) ([]string, error) {
	var out []string
	for a := range strings.SplitSeq(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, errors.New("empty address in the list")
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil && defPort != "" {
			if h, p, err2 := net.SplitHostPort(a + ":" + defPort); err2 == nil {
				host, port, err = h, p, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not host:port", a)
		}
		if host == "" {
			return nil, fmt.Errorf("%q has no host", a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q has no valid port", a)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

// redact hides a password in addr.
func redact(addr string) string {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return addr
	}
	hosts, path, hasPath := strings.Cut(rest, "/")
	at := strings.LastIndex(hosts, "@")
	if at < 0 {
		return addr
	}
	user, _, hasPass := strings.Cut(hosts[:at], ":")
	if hasPass {
		user += ":xxxxx"
	}
	out := scheme + "://" + user + "@" + hosts[at+1:]
	if hasPath {
		out += "/" + path
	}
	return out
}
