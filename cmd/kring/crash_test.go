package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/storage/bolt"
)

// TestKillMidBurst kills kring serve (SIGKILL, in a child process) while
// people click a poll on Mattermost. Restarted, it brings the post to the
// final count by itself: the durable render left in the store runs, and
// nobody has to click again. Every click kring acknowledged is counted.
func TestKillMidBurst(t *testing.T) {
	if os.Getenv("KRING_MAIN_CHILD") == "serve" {
		os.Args = []string{"kring", "serve"}
		main()
		return
	}
	if testing.Short() {
		t.Skip("starts kring serve twice in child processes")
	}
	mm := mattermosttest.New(t)
	mmUsers(mm)
	const clicks = 300
	users := make([]string, clicks)
	for i := range users {
		users[i] = fmt.Sprintf("user%022d", i)
		mm.AddUser(users[i], fmt.Sprintf("u%d", i), "Deelnemer", fmt.Sprint(i), "")
	}
	store := filepath.Join(t.TempDir(), "kring.db")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidBurst$")
		cmd.Env = append(os.Environ(), "KRING_MAIN_CHILD=serve",
			"KRING_STORE=bolt:"+store, "KRING_ADDR="+addr, "KRING_PUBLIC_URL=http://"+addr,
			"KRING_MATTERMOST_URL="+mm.URL, "KRING_MATTERMOST_BOT_TOKEN="+mm.BotToken,
			"KRING_MATTERMOST_COMMAND_TOKEN="+mmToken, "KRING_ACTION_SECRET="+mmSecret, "KRING_LOCALE=nl")
		var logs strings.Builder
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("kring serve said:\n%s", logs.String())
			}
		})
		waitHealthy(t, "http://"+addr+"/healthz")
		return cmd
	}

	first := start()
	r, err := mm.Command("http://"+addr+"/mattermost/commands", mmToken, anna, mmChannel, `/poll "Kennistafel in maart?" Ja Nee Misschien`)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("/poll: %v %+v", err, r)
	}
	post := mm.Posts()[0].Id

	// People click, ten at a time; kring is killed after the 120th answer.
	var acked atomic.Int64
	var kill sync.Once
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 10 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= clicks {
					return
				}
				r, err := mm.Click(client, post, i%3, users[i])
				if err != nil || r.Status != http.StatusOK {
					return // kring is gone
				}
				if acked.Add(1) == 120 {
					kill.Do(func() { first.Process.Kill() })
				}
			}
		})
	}
	wg.Wait()
	first.Wait()
	if acked.Load() < 120 {
		t.Fatalf("only %d clicks answered before kring was killed", acked.Load())
	}

	// What the store holds now is the final count.
	db, err := bolt.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	_, tally, err := db.Polls().Tally(context.Background(), pollIDOf(t, mm.Post(post).Message))
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if int64(tally.Voters) < acked.Load() {
		t.Fatalf("%d voters in the store, but kring acknowledged %d clicks", tally.Voters, acked.Load())
	}
	want := fmt.Sprintf("%d stemmers", tally.Voters)
	if strings.Contains(mm.Post(post).Message, want) {
		t.Logf("the post showed the final count before the kill already")
	}

	restarted := time.Now()
	start()
	mm.WaitFor(t, time.Minute, "the post to show "+want+" without a new click", func() bool {
		return strings.Contains(mm.Post(post).Message, want)
	})
	t.Logf("%d clicks acknowledged before the kill, %d voters stored; the post showed them %v after the restart",
		acked.Load(), tally.Voters, time.Since(restarted).Round(10*time.Millisecond))
}

// waitHealthy waits, a minute at the most, for url to answer 200.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	guard := time.After(time.Minute)
	for {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-tick.C:
		case <-guard:
			t.Fatalf("%s did not answer within a minute", url)
		}
	}
}

// pollIDOf reads the poll id from its post (its last `code`).
func pollIDOf(t *testing.T, message string) string {
	t.Helper()
	parts := strings.Split(message, "`")
	if len(parts) < 3 {
		t.Fatalf("no poll id in %q", message)
	}
	return parts[len(parts)-2]
}
