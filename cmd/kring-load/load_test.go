package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/mattermost/mattermost/server/public/model"
	goredis "github.com/redis/go-redis/v9"
)

// testRedis is the Redis the tests use; without one they skip loudly, and
// fail when CI=true.
func testRedis(t *testing.T) string {
	t.Helper()
	u := os.Getenv("KRING_TEST_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opts, err := goredis.ParseURL(u)
	if err != nil {
		t.Fatalf("KRING_TEST_REDIS=%q: %v", u, err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s: %v", u, err)
		}
		t.Skipf("SKIPPING: no Redis at %s (%v); set KRING_TEST_REDIS", u, err)
	}
	return u
}

// privateRedis starts a redis-server of the test's own on a free loopback
// port and stops it, by pid, when the test ends. kring serve's keys have
// the fixed prefix "kring:" and its job runner claims the due jobs of
// every kring on its database: on the shared test Redis it would run the
// render jobs of a measurement or another load going on at the same time,
// and they its own. Without redis-server it falls back to the shared
// Redis (testRedis).
func privateRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Logf("no redis-server (%v): using the shared test Redis", err)
		return testRedis(t)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	u := "redis://" + addr + "/0"
	opts, _ := goredis.ParseURL(u)
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	for c.Ping(ctx).Err() != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("redis-server on %s did not answer", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return u
}

// TestLoad runs the load tool small on both platforms and both stores: it
// must count every click's vote and see kring's message end on the final
// count. It asserts nothing about speed; BENCHMARKS.md has the figures.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts kring serve")
	}
	redisURL := privateRedis(t)
	ctx := context.Background()
	bin, err := buildKring(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ platform, store, floor string }{
		{"slack", "", "process"}, {"mattermost", "", "process"}, {"slack", "bolt", "inline"}, {"mattermost", "bolt", "inline"},
	} {
		name := tc.platform + "/" + map[string]string{"": "redis", "bolt": "bolt"}[tc.store] + "/floor-" + tc.floor
		t.Run(name, func(t *testing.T) {
			var out, progress bytes.Buffer
			args := []string{"--platform", tc.platform, "--n", "200", "--c", "10", "--kring", bin,
				"--redis", redisURL, "--final-wait", "1m", "--floor", tc.floor}
			if tc.store != "" {
				args = append(args, "--store", tc.store)
			}
			rep, err := run(ctx, args, &out, &progress)
			t.Logf("%s\n%s", progress.String(), out.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []Side{rep.Kring, rep.Floor} {
				if s.Acked != 200 || s.Lost != 0 || s.Errors != 0 {
					t.Errorf("%s: %d of 200 clicks acked, %d errors, %d votes lost", s.Name, s.Acked, s.Errors, s.Lost)
				}
			}
			if !rep.Kring.FinalOK {
				t.Errorf("kring's message does not end on the final count: %s", rep.Kring.FinalNote)
			}
			if rep.Kring.Updates < 1 {
				t.Errorf("kring's message was not updated during the burst (%d updates)", rep.Kring.Updates)
			}
		})
	}
}

// TestShowsCounts checks the final-count check against messages as kring
// renders them, in Dutch and English, on Slack and Mattermost.
func TestShowsCounts(t *testing.T) {
	labels := []string{"appel", "peer", "kers"}
	slack := `📊 Welke vrucht? — 1201 stemmers` + "\n" +
		`[{"type":"section","text":{"type":"mrkdwn","text":"*1. appel*\n█░ 401 stemmen (33%)\n\n*2. peer*\n█░ 1 stem (0%)\n\n*3. kers*\n█░ 799 stemmen (67%)"}},` +
		`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"1. appel"}}]}]`
	mattermost := "\n" + `[{"text":"**1. appel**\n█░ 2 votes (50%)\n\n**2. peer**\n░░ 0 votes (0%)\n\n**3. kers**\n█░ 2 votes (50%)","footer":"4 voters"}]`
	for _, tc := range []struct {
		name   string
		text   string
		counts []int
		want   bool
	}{
		{"slack nl", slack, []int{401, 1, 799}, true},
		{"slack nl, one count off", slack, []int{401, 1, 798}, false},
		{"slack nl, counts of other options", slack, []int{799, 1, 401}, false},
		{"a count that only ends the same", slack, []int{1, 1, 799}, false},
		{"mattermost en", mattermost, []int{2, 0, 2}, true},
		{"mattermost en, voters off", mattermost, []int{2, 1, 2}, false},
		{"no such label", slack, []int{401, 1, 799, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := labels
			if len(tc.counts) > len(ls) {
				ls = append(ls, "druif")
			}
			if got := showsCounts(tc.text, ls, tc.counts); got != tc.want {
				t.Errorf("showsCounts(%v) = %v, want %v", tc.counts, got, tc.want)
			}
		})
	}
}

func TestMaxPerSecond(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		from  time.Time
		want  int
	}{
		{"none", nil, t0, 0},
		{"a second apart", at(0, 1000, 2000, 3000), t0, 1},
		{"two within a second", at(0, 1000, 1999), t0, 2},
		{"three in a burst", at(0, 10, 20, 5000), t0, 3},
		{"before from not counted", at(0, 10, 20, 5000), t0.Add(time.Second), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := maxPerSecond(tc.times, tc.from); got != tc.want {
				t.Errorf("maxPerSecond = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

// TestFloorChecks: the floor refuses what kring refuses (a forged or
// stale Slack signature, a Mattermost context for another post) and
// stores what it accepts, so its figures are those of a real handler.
func TestFloorChecks(t *testing.T) {
	ctx := context.Background()
	fl, err := openFloor(ctx, testRedis(t), "kring-load-test:"+bot.NewID(4)+":")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fl.close(context.Background()) })

	sp, err := newSlackPlay("127.0.0.1:0", "s3cret", "t1")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	sp.ts, sp.buttons = "1.1", []slackButton{{ActionID: "poll.vote", Text: "1. appel", Value: "p:0"}}
	slackSrv := httptest.NewServer(sp.FloorHandler(fl))
	defer slackSrv.Close()
	send := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	req, _ := sp.click(slackSrv.URL, 0)
	if got := send(req); got != http.StatusOK {
		t.Errorf("signed click: status %d", got)
	}
	req, _ = sp.click(slackSrv.URL, 1)
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	if got := send(req); got != http.StatusUnauthorized {
		t.Errorf("forged click: status %d, want 401", got)
	}
	req, _ = sp.click(slackSrv.URL, 2)
	body, _ := req.GetBody()
	raw, _ := io.ReadAll(body)
	old := time.Now().Add(-6 * time.Minute).Unix()
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(old, 10))
	req.Header.Set("X-Slack-Signature", slackSignature(sp.secret, old, raw))
	if got := send(req); got != http.StatusUnauthorized {
		t.Errorf("click signed six minutes ago: status %d, want 401", got)
	}

	mp, err := newMattermostPlay("127.0.0.1:0", "token", "t1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	mp.actions = make([]*model.PostAction, 2)
	mmSrv := httptest.NewServer(mp.FloorHandler(fl))
	defer mmSrv.Close()
	req, _ = mp.FloorClick(mmSrv.URL)(3)
	if got := send(req); got != http.StatusOK {
		t.Errorf("mattermost click: status %d", got)
	}
	otherPost := mattermostID("p", "t1", 2)
	req, _ = mp.click(mmSrv.URL+"/mattermost/actions", otherPost, 4, floorContext(mp.floorSecret, mp.channel, mp.floorPost, "0"))
	if got := send(req); got != http.StatusForbidden {
		t.Errorf("mattermost click with another post's context: status %d, want 403", got)
	}

	got, err := fl.ballots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{sp.User(0): "p:0", mp.User(3): "1"}
	if len(got) != len(want) || got[sp.User(0)] != want[sp.User(0)] || got[mp.User(3)] != want[mp.User(3)] {
		t.Errorf("the floor stored %v, want %v", got, want)
	}
}

// TestRepliesRecorded: what kring shows a single user reaches the report,
// on both stand-ins.
func TestRepliesRecorded(t *testing.T) {
	sp, err := newSlackPlay("127.0.0.1:0", "s3cret", "t2")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	resp, err := http.Post(sp.api.URL+"/respond/click-1", "application/json", strings.NewReader(`{"text":"Probeer het zo opnieuw."}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := sp.Replies(); got["Probeer het zo opnieuw."] != 1 {
		t.Errorf("slack replies = %v", got)
	}

	mp, err := newMattermostPlay("127.0.0.1:0", "token", "t2", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	if err := mp.AckOK([]byte(`{"ephemeral_text":"Je stem telt."}`)); err != nil {
		t.Fatal(err)
	}
	if err := mp.AckOK([]byte(`not json`)); err == nil {
		t.Error("an answer that is not JSON is taken")
	}
	if got := mp.Replies(); got["Je stem telt."] != 1 || len(got) != 1 {
		t.Errorf("mattermost replies = %v", got)
	}
}

// TestMain makes this test binary a floor process when the load tool
// starts it as one, as the kring-load binary is.
func TestMain(m *testing.M) {
	if os.Getenv(envFloor) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := runFloorProcess(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
