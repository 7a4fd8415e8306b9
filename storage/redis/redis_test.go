package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/storagetest"
	goredis "github.com/redis/go-redis/v9"
)

// testAddr is the Redis the tests use; they touch only keys under a
// random prefix of their own.
func testAddr() string {
	if a := os.Getenv("KRING_TEST_REDIS"); a != "" {
		return a
	}
	return "redis://127.0.0.1:6379/15"
}

// requireRedis skips t, loudly, when the test Redis does not answer; on CI
// (CI=true) that fails t instead.
func requireRedis(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := Open(ctx, testAddr())
	if err == nil {
		s.Close()
		return
	}
	msg := fmt.Sprintf("\n\n*** NO REDIS: the Redis store is NOT tested. Start Redis or set KRING_TEST_REDIS. ***\n*** %v ***\n\n", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// newStore returns a store on the test Redis under a fresh key prefix,
// whose keys are removed when t ends.
func newStore(t testing.TB) *Store {
	t.Helper()
	opts, err := parse(testAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := opts.client()
	prefix := "kringtest:" + bot.NewID(6) + ":"
	t.Cleanup(func() {
		removeKeys(t, c, prefix)
		c.Close()
	})
	return New(c, prefix)
}

func removeKeys(t testing.TB, c goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			if err := c.Unlink(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *goredis.Client:
		err = del(ctx, c)
	default:
		err = fmt.Errorf("cannot scan a %T", c)
	}
	if err != nil {
		t.Errorf("remove test keys %s*: %v", prefix, err)
	}
}

func TestPolls(t *testing.T) {
	requireRedis(t)
	storagetest.TestPolls(t, func(t *testing.T) poll.Store { return newStore(t).Polls() })
	storagetest.TestClicks(t, func(t *testing.T) poll.Store { return newStore(t).Polls() })
}

func TestJobs(t *testing.T) {
	requireRedis(t)
	storagetest.TestJobs(t, func(t *testing.T) schedule.Store { return newStore(t).Jobs() })
}

func TestSettings(t *testing.T) {
	requireRedis(t)
	storagetest.TestSettings(t, func(t *testing.T) bot.SettingsStore { return newStore(t).Settings() })
	storagetest.TestUserLocales(t, func(t *testing.T) bot.SettingsStore { return newStore(t).Settings() })
}

func TestParse(t *testing.T) {
	good := []struct {
		addr   string
		kind   string // simple, failover, cluster
		addrs  string
		db     int
		master string
	}{
		{"redis://127.0.0.1:6379/0", "simple", "127.0.0.1:6379", 0, ""},
		{"redis://:secret@redis.example:6380/3", "simple", "redis.example:6380", 3, ""},
		{"rediss://user:secret@redis.example/2?dial_timeout=3s", "simple", "redis.example:6379", 2, ""},
		{"redis-sentinel://s1:26379,s2:26380/mymaster", "failover", "s1:26379,s2:26380", 0, "mymaster"},
		{"redis-sentinel://:secret@s1,s2:5000/mymaster/4", "failover", "s1:26379,s2:5000", 4, "mymaster"},
		{"redis-sentinel://s1/mymaster?sentinel_password=x", "failover", "s1:26379", 0, "mymaster"},
		{"redis-sentinel://[::1]/m", "failover", "[::1]:26379", 0, "m"},
		{"10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000", "cluster", "10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000", 0, ""},
		{"node-a:6379", "cluster", "node-a:6379", 0, ""},
	}
	for _, c := range good {
		o, err := parse(c.addr)
		if err != nil {
			t.Errorf("parse(%q): %v", c.addr, err)
			continue
		}
		var kind, addrs, master string
		var db int
		switch {
		case o.simple != nil:
			kind, addrs, db = "simple", o.simple.Addr, o.simple.DB
		case o.failover != nil:
			kind, addrs, db, master = "failover", strings.Join(o.failover.SentinelAddrs, ","), o.failover.DB, o.failover.MasterName
		case o.cluster != nil:
			kind, addrs = "cluster", strings.Join(o.cluster.Addrs, ",")
		}
		if kind != c.kind || addrs != c.addrs || db != c.db || master != c.master {
			t.Errorf("parse(%q) = %s %s db %d master %q; want %s %s db %d master %q",
				c.addr, kind, addrs, db, master, c.kind, c.addrs, c.db, c.master)
		}
	}
	if o, _ := parse("rediss://h:1/0"); o.simple == nil || o.simple.TLSConfig == nil {
		t.Errorf("rediss:// without TLS")
	}
	if o, _ := parse("redis-sentinel://:pw@s1/m?sentinel_password=spw"); o.failover == nil || o.failover.Password != "pw" || o.failover.SentinelPassword != "spw" {
		t.Errorf("sentinel passwords not taken")
	}
}

func TestOpenMalformed(t *testing.T) {
	bad := []string{
		"",
		"http://127.0.0.1:6379",
		"mysql://kring@db/kring",
		"redis://127.0.0.1:notaport/0",
		"redis://127.0.0.1:6379/notadb",
		"redis://127.0.0.1:6379/0/1",
		"redis://:hunter2@127.0.0.1:6379/x",
		"redis://127.0.0.1:6379/0?no_such_option=1",
		"redis-sentinel://s1:26379",
		"redis-sentinel://s1:26379/",
		"redis-sentinel:///mymaster",
		"redis-sentinel://s1:26379/mymaster/notadb",
		"redis-sentinel://s1:26379/mymaster/0/9",
		"redis-sentinel://s1:x/mymaster",
		"redis-sentinel://s1,,s2/mymaster",
		"redis-sentinel://s1/mymaster?password=x",
		"127.0.0.1",
		"127.0.0.1:6379,",
		"127.0.0.1:6379,,127.0.0.1:6380",
		"h1:6379,h2",
		":6379",
		"h1:99999",
		"h1:0",
		"kring.db",
	}
	for _, addr := range bad {
		start := time.Now()
		s, err := Open(t.Context(), addr)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", addr)
			continue
		}
		// A malformed address is refused without dialling anything; a
		// minute means it waited on a network (a hang guard, not a bound
		// on speed).
		if time.Since(start) > time.Minute {
			t.Errorf("Open(%q) took %v to refuse a malformed address", addr, time.Since(start))
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error shows the password: %v", addr, err)
		}
		if !strings.Contains(err.Error(), "redis-sentinel://") {
			t.Errorf("Open(%q) error does not say which forms it takes: %v", addr, err)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	s, err := Open(t.Context(), "redis://127.0.0.1:1/0")
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error does not say what is unreachable: %v", err)
	}
	if took > time.Minute { // a hang guard: a refused port must not be retried for ever
		t.Errorf("Open took %v to give up on a closed port", took)
	}
	t.Logf("Open of a closed port: %v after %v", err, took.Round(time.Millisecond))
}

func TestOpenPingClose(t *testing.T) {
	requireRedis(t)
	s, err := Open(t.Context(), testAddr())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Errorf("Ping after Close succeeded")
	}
}

// proxy forwards loopback connections to Redis until it is closed, to
// take Redis away from a client mid-use.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(up, c); up.Close() })
		p.wg.Go(func() { io.Copy(c, up); c.Close() })
	}
}

// Close stops accepting and cuts every forwarded connection.
func (p *proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// storeErrors calls every store method and returns what each returned.
func storeErrors(ctx context.Context, s *Store) map[string]error {
	polls, jobs, settings := s.Polls(), s.Jobs(), s.Settings()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	errs := map[string]error{}
	errs["Ping"] = s.Ping(ctx)
	errs["Create"] = polls.Create(ctx, &poll.Poll{ID: "p2", Where: where, MaxVotes: 1, Created: now, Options: []poll.Option{{Label: "A"}, {Label: "B"}}})
	_, _, errs["Get"] = polls.Get(ctx, "p1")
	_, errs["Vote"] = storagetest.Vote(ctx, polls, "p1", "U9", "Cor", 0)
	_, errs["AddOption"] = polls.AddOption(ctx, "p1", poll.Option{Label: "C"})
	errs["SetRef"] = polls.SetRef(ctx, "p1", bot.Ref{Where: where, ID: "m"})
	errs["SetClosed"] = polls.SetClosed(ctx, "p1", true, now)
	errs["Delete"] = polls.Delete(ctx, "p1")
	_, errs["List"] = polls.List(ctx, where)
	errs["Put"] = jobs.Put(ctx, schedule.Job{ID: "j2", Kind: "k", Due: now})
	errs["Cancel"] = jobs.Cancel(ctx, "j1")
	_, errs["Claim"] = jobs.Claim(ctx, now, "A", time.Minute, 5)
	errs["Done"] = jobs.Done(ctx, schedule.Job{ID: "j1", Due: now})
	_, errs["Once"] = jobs.Once(ctx, "j1:1", time.Hour)
	_, errs["Languages"] = settings.Languages(ctx, where.Workspace())
	errs["SetLocale"] = settings.SetLocale(ctx, where.Workspace(), "en")
	return errs
}

var sentinels = []error{poll.ErrNotFound, poll.ErrExists, poll.ErrClosed, poll.ErrNoSuchOption, poll.ErrVoteLimit, poll.ErrTooManyOption, poll.ErrDuplicate}

// checkAllFail wants every method to fail with an error that is none of
// the user-facing ones: a lost Redis is not "poll not found".
func checkAllFail(t *testing.T, errs map[string]error) {
	t.Helper()
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s succeeded without Redis", name)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("%s without Redis: %v, which reads as a refusal (%v)", name, err, s)
			}
		}
	}
}

// quickClient gives up on a lost server at once, so the tests need not
// wait out retries.
func quickClient(addr string, db int) *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr: addr, DB: db,
		MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second,
	})
}

func TestClosedPort(t *testing.T) {
	s := New(quickClient("127.0.0.1:1", 0), "kringtest:closed:")
	defer s.Close()
	checkAllFail(t, storeErrors(t.Context(), s))
}

func TestRedisGoesAway(t *testing.T) {
	requireRedis(t)
	ctx := t.Context()
	direct := newStore(t)
	opts, err := parse(testAddr())
	if err != nil || opts.simple == nil {
		t.Skipf("KRING_TEST_REDIS %q is not a single server; this test proxies one", testAddr())
	}
	p := newProxy(t, opts.simple.Addr)
	s := New(quickClient(p.ln.Addr().String(), opts.simple.DB), direct.prefix)
	defer s.Close()

	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	now := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	pl := &poll.Poll{ID: "p1", Where: where, MaxVotes: 1, Created: now, Options: []poll.Option{{Label: "A"}, {Label: "B"}}}
	if err := s.Polls().Create(ctx, pl); err != nil {
		t.Fatal(err)
	}
	for _, voter := range []string{"U1", "U2", "U3"} {
		if _, err := storagetest.Vote(ctx, s.Polls(), "p1", voter, voter, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Jobs().Put(ctx, schedule.Job{ID: "j1", Kind: "poll.close", Due: now}); err != nil {
		t.Fatal(err)
	}

	p.Close() // Redis goes away
	checkAllFail(t, storeErrors(ctx, s))

	// What was stored before is intact, and nothing half-done arrived.
	got, ballots, err := direct.Polls().Get(ctx, "p1")
	if err != nil {
		t.Fatalf("Get through a working client: %v", err)
	}
	if got.Closed || len(got.Options) != 2 || !got.Ref.IsZero() || len(ballots) != 3 {
		t.Errorf("after the outage: poll %+v with %d ballots; want it as it was, with 3", got, len(ballots))
	}
	jobs, err := direct.Jobs().Claim(ctx, now, "B", time.Minute, 10)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "j1" {
		t.Errorf("after the outage: Claim = %v, %v; want j1", jobs, err)
	}
}
