//go:build linux

package redis_test

// Redis topologies of a test's own: a Sentinel group (master, replica,
// three sentinels) and a Cluster (three masters, each with a replica),
// started from Debian's redis-server on free loopback ports in the test's
// temporary directory and stopped, by pid, when the test ends. They are
// separate processes so a test can stop a master as a crash or a hang
// would, which the shared test Redis must never see.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Failure detection is set as short as loopback allows, so a failover
// takes seconds, not the production defaults' half minute: a node is
// suspected after a second without an answer.
const (
	downAfter       = 1000 // ms: sentinel down-after-milliseconds, cluster-node-timeout
	failoverTimeout = 3000 // ms: sentinel failover-timeout (a failed attempt waits twice this)
)

// hangGuard bounds every wait on another process. It is not a bound on
// speed: a topology that needs this long is broken.
const hangGuard = time.Minute

// redisServer returns the path of redis-server, or skips t loudly when it
// is missing or older than 7.0 (the Cluster needs cluster-port and
// ADDSLOTSRANGE); with CI=true that fails t instead.
func redisServer(t *testing.T) string {
	t.Helper()
	bin, why := findRedisServer()
	if why == "" {
		return bin
	}
	msg := "\n\n*** " + why + ": the Sentinel and Cluster tests are NOT run. " +
		"Install Debian's redis-server (apt-get install redis-server), or run .ci/run. ***\n\n"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// findRedisServer looks for redis-server 7 or later, once; why says what
// is wrong when it is not there.
var findRedisServer = sync.OnceValues(func() (bin, why string) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", "NO redis-server"
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "", fmt.Sprintf("redis-server --version failed (%v)", err)
	}
	// "Redis server v=7.0.15 sha=..."
	_, v, _ := strings.Cut(string(out), "v=")
	major, _, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 7 {
		return "", fmt.Sprintf("redis-server is %q, older than 7.0", strings.TrimSpace(string(out)))
	}
	return bin, ""
})

// node is one redis-server process (a data node or a sentinel).
type node struct {
	name   string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	out    *lockedBuffer
	c      *goredis.Client // a direct client, for setting up and looking
}

func (n *node) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNode writes a config file for a redis-server on a free port, with
// the lines conf returns added, and starts it (with --sentinel when
// sentinel is set). It returns once the server answers PING. The process
// is killed when t ends, and also if the test binary dies first
// (Pdeathsig). A port taken between choosing it and binding it is chosen
// again, with conf asked again.
func startNode(t *testing.T, name string, sentinel bool, conf func() []string) *node {
	t.Helper()
	bin := redisServer(t)
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		n, err := launch(t, bin, dir, name, sentinel, conf)
		if err == nil {
			return n
		}
		if attempt == 3 || !strings.Contains(n.out.String(), "Address already in use") {
			t.Fatalf("%s: %v:\n%s", name, err, n.out.String())
		}
	}
}

// launch is one try of startNode.
func launch(t *testing.T, bin, dir, name string, sentinel bool, conf func() []string) (*node, error) {
	t.Helper()
	port := freePort(t)
	lines := []string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(port),
		"dir " + dir,
		`logfile ""`,
		"daemonize no",
	}
	if conf != nil {
		lines = append(lines, conf()...)
	}
	if !sentinel {
		// No files, and a replica's first sync starts at once rather
		// than after the default five seconds' wait for more replicas.
		lines = append(lines, `save ""`, "appendonly no", "repl-diskless-sync-delay 0")
	}
	file := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{file}
	if sentinel {
		args = append(args, "--sentinel")
	}
	n := &node{name: name, port: port, exited: make(chan struct{}), out: &lockedBuffer{}}
	n.cmd = exec.Command(bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	n.c = goredis.NewClient(&goredis.Options{Addr: n.addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	stop := func() {
		n.c.Close()
		n.cmd.Process.Kill() // also ends a stopped process
		<-n.exited
	}
	limit := time.NewTimer(hangGuard)
	defer limit.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.c.Ping(context.Background()).Err() != nil {
		select {
		case <-tick.C:
		case <-n.exited:
			stop()
			return n, errors.New("stopped at start")
		case <-limit.C:
			stop()
			return n, fmt.Errorf("no answer to PING within %v", hangGuard)
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s (port %d) said:\n%s", name, port, n.out.tail(40))
		}
	})
	return n, nil
}

// pause stops the process as a hung server: its connections stay open
// and unanswered (SIGSTOP). The cleanup's kill ends it.
func (n *node) pause(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("stop %s: %v", n.name, err)
	}
}

// info returns the fields of INFO section as a map.
func (n *node) info(ctx context.Context, section string) map[string]string {
	raw, err := n.c.Info(ctx, section).Result()
	out := map[string]string{}
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// waitFor asks cond again until it holds, failing t after hangGuard. It is
// for what other processes do in their own time (a sentinel electing a
// leader), never a bound on how fast kring is.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.NewTimer(hangGuard)
	defer limit.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-limit.C:
			t.Fatalf("%s: not within %v", what, hangGuard)
		}
	}
}

// caughtUp waits until replica has applied everything master had
// written when it was called: the replication offset the replica reports
// reaches the master's. Every write acknowledged before the call is then
// on the replica.
func caughtUp(t *testing.T, master, replica *node) int64 {
	t.Helper()
	ctx := context.Background()
	off, err := strconv.ParseInt(master.info(ctx, "replication")["master_repl_offset"], 10, 64)
	if err != nil {
		t.Fatalf("master %s has no replication offset: %v", master.name, err)
	}
	waitFor(t, replica.name+" reaches offset "+strconv.FormatInt(off, 10), func() bool {
		got, err := strconv.ParseInt(replica.info(ctx, "replication")["slave_repl_offset"], 10, 64)
		return err == nil && got >= off
	})
	return off
}

// sentinelGroup is a master, its replica and three sentinels watching it.
//
// A failover needs a leader elected by a majority of all sentinels. One
// sentinel decides alone, on its own view, and when it is gone nothing
// fails over; two need each other, so one gone stops every failover.
// Three with a quorum of two is the smallest group that fails over with a
// sentinel gone and never on one sentinel's view, which is how kring is
// meant to be deployed. On one loopback nothing is ever cut off and a
// single sentinel would fail over just as reliably; three make the test
// go through the election (and its timing) a deployment goes through.
type sentinelGroup struct {
	name      string
	master    *node
	replica   *node
	sentinels []*node
}

func startSentinelGroup(t *testing.T) *sentinelGroup {
	t.Helper()
	g := &sentinelGroup{name: "kring"}
	g.master = startNode(t, "master", false, nil)
	g.replica = startNode(t, "replica", false, func() []string { return []string{"replicaof 127.0.0.1 " + strconv.Itoa(g.master.port)} })
	ctx := context.Background()
	waitFor(t, "replica in sync", func() bool { return g.replica.info(ctx, "replication")["master_link_status"] == "up" })
	for i := range 3 {
		g.sentinels = append(g.sentinels, startNode(t, fmt.Sprintf("sentinel%d", i+1), true, func() []string {
			return []string{
				fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", g.name, g.master.port),
				fmt.Sprintf("sentinel down-after-milliseconds %s %d", g.name, downAfter),
				fmt.Sprintf("sentinel failover-timeout %s %d", g.name, failoverTimeout),
				fmt.Sprintf("sentinel parallel-syncs %s 1", g.name),
			}
		}))
	}
	// A sentinel can vote in a failover only once it knows the replica and
	// the other sentinels (they introduce themselves every two seconds).
	for _, s := range g.sentinels {
		waitFor(t, s.name+" knows the replica and the other sentinels", func() bool {
			m, err := s.c.Do(ctx, "SENTINEL", "MASTER", g.name).Result()
			if err != nil {
				return false
			}
			f := fields(m)
			return f["num-slaves"] == "1" && f["num-other-sentinels"] == "2" && f["flags"] == "master"
		})
	}
	return g
}

// addr is the group's address in kring's Sentinel form.
func (g *sentinelGroup) addr() string {
	var hosts []string
	for _, s := range g.sentinels {
		hosts = append(hosts, s.addr())
	}
	return "redis-sentinel://" + strings.Join(hosts, ",") + "/" + g.name
}

// masterPort is the master's port as sentinel s names it.
func (g *sentinelGroup) masterPort(ctx context.Context, s *node) string {
	a, err := s.c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", g.name).StringSlice()
	if err != nil || len(a) != 2 {
		return ""
	}
	return a[1]
}

// fields reads a reply that is a flat list or a map of names and values.
func fields(v any) map[string]string {
	out := map[string]string{}
	switch v := v.(type) {
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			out[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
		}
	case map[any]any:
		for k, val := range v {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return out
}

// cluster is three masters, each with one replica.
type cluster struct {
	masters  []*node
	replicas []*node // replicas[i] replicates masters[i]
	ids      map[*node]string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	c := &cluster{ids: map[*node]string{}}
	bus := map[*node]int{}
	start := func(name string) *node {
		var b int
		n := startNode(t, name, false, func() []string {
			// The bus port is chosen, not port+10000, which can pass 65535.
			b = freePort(t)
			return []string{
				"cluster-enabled yes",
				"cluster-config-file nodes.conf",
				"cluster-node-timeout " + strconv.Itoa(downAfter),
				"cluster-port " + strconv.Itoa(b),
			}
		})
		bus[n] = b
		return n
	}
	for i := range 3 {
		c.masters = append(c.masters, start(fmt.Sprintf("master%d", i+1)))
	}
	for i := range 3 {
		c.replicas = append(c.replicas, start(fmt.Sprintf("replica%d", i+1)))
	}
	all := append(append([]*node(nil), c.masters...), c.replicas...)
	for i, n := range all {
		id, err := n.c.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatalf("%s: CLUSTER MYID: %v", n.name, err)
		}
		c.ids[n] = id
		// Distinct epochs up front, as redis-cli --cluster create sets
		// them, so the nodes need not settle collisions first.
		if err := n.c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			t.Fatalf("%s: SET-CONFIG-EPOCH: %v", n.name, err)
		}
	}
	for i, m := range c.masters {
		from, to := slotRange(i)
		if err := m.c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", from, to).Err(); err != nil {
			t.Fatalf("%s: ADDSLOTSRANGE %d %d: %v", m.name, from, to, err)
		}
	}
	for _, n := range all[1:] {
		if err := all[0].c.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, bus[n]).Err(); err != nil {
			t.Fatalf("MEET %s: %v", n.name, err)
		}
	}
	for _, n := range all {
		waitFor(t, n.name+" knows all six nodes", func() bool {
			raw, err := n.c.Do(ctx, "CLUSTER", "NODES").Text()
			return err == nil && strings.Count(raw, "\n") == len(all) && !strings.Contains(raw, "handshake")
		})
	}
	for i, r := range c.replicas {
		if err := r.c.Do(ctx, "CLUSTER", "REPLICATE", c.ids[c.masters[i]]).Err(); err != nil {
			t.Fatalf("%s: REPLICATE: %v", r.name, err)
		}
	}
	for i, r := range c.replicas {
		waitFor(t, r.name+" in sync", func() bool { return r.info(ctx, "replication")["master_link_status"] == "up" })
		// A replica can be elected only by masters that know it as the
		// replica of the failed master.
		for _, n := range all {
			waitFor(t, n.name+" sees "+r.name+" as a replica of "+c.masters[i].name, func() bool {
				raw, err := n.c.Do(ctx, "CLUSTER", "NODES").Text()
				return err == nil && strings.Contains(raw, c.ids[c.masters[i]]) && nodeLine(raw, c.ids[r], "slave "+c.ids[c.masters[i]])
			})
		}
	}
	for _, n := range all {
		waitFor(t, n.name+" says the cluster is ok", func() bool { return clusterOK(ctx, n) })
	}
	return c
}

// nodeLine reports whether CLUSTER NODES output has a line for id that
// contains want.
func nodeLine(raw, id, want string) bool {
	for line := range strings.SplitSeq(raw, "\n") {
		if strings.HasPrefix(line, id+" ") && strings.Contains(line, want) && !strings.Contains(line, "fail") {
			return true
		}
	}
	return false
}

func clusterOK(ctx context.Context, n *node) bool {
	raw, err := n.c.ClusterInfo(ctx).Result()
	return err == nil && strings.Contains(raw, "cluster_state:ok")
}

// addr is the cluster's address in kring's form: its nodes, comma-separated.
func (c *cluster) addr() string {
	var hosts []string
	for _, n := range append(append([]*node(nil), c.masters...), c.replicas...) {
		hosts = append(hosts, n.addr())
	}
	return strings.Join(hosts, ",")
}

// slot asks the cluster which slot key hashes to.
func (c *cluster) slot(ctx context.Context, t *testing.T, key string) int {
	t.Helper()
	s, err := c.masters[0].c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
	}
	return int(s)
}

// slotRange is the slots master i serves at the start.
func slotRange(i int) (from, to int) { return i * 16384 / 3, (i+1)*16384/3 - 1 }

// masterOf is the index of the master that serves slot at the start.
func masterOf(slot int) int {
	for i := range 3 {
		if _, to := slotRange(i); slot <= to {
			return i
		}
	}
	return -1
}

// lockedBuffer is a buffer a process writes to while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail is the last n lines.
func (b *lockedBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
