package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/storage"
	"github.com/slack-go/slack"
)

// redisURL is the Redis the benchmark runs on; db 15 is the tests'.
func redisURL() string {
	if u := os.Getenv("KRING_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// BenchmarkClickRedis measures clicks on one poll through the signed
// endpoint, as kring serve takes them, with the polls, the dedupe records
// and the settings on Redis: click→ack latency (p50, p99) and clicks per
// second. Every click is a new voter; none costs a users.info: a click
// carries its user's handle, and names are looked up when the message is
// rendered.
//
//	go test -run '^$' -bench BenchmarkClickRedis -benchtime 2000x ./adapters/slack/
func BenchmarkClickRedis(b *testing.B) {
	ctx := context.Background()
	stores, err := storage.Open(ctx, redisURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("Redis at %s: %v", redisURL(), err)
		}
		b.Skipf("SKIPPING: no Redis at %s (%v); set KRING_TEST_REDIS", redisURL(), err)
	}
	b.Cleanup(func() { stores.Close() })
	if err := stores.Ping(ctx); err != nil {
		b.Skipf("SKIPPING: Redis at %s does not answer: %v", redisURL(), err)
	}
	benchClicks(b, newHarnessOn(b, nil, stores.Polls, stores.Jobs, stores.Settings, nil))
}

// BenchmarkClickBolt is BenchmarkClickRedis on the embedded bbolt store,
// kring's default: what TestBusyPoll once measured against a wall clock.
//
//	go test -run '^$' -bench BenchmarkClickBolt -benchtime 2000x ./adapters/slack/
func BenchmarkClickBolt(b *testing.B) {
	benchClicks(b, newHarness(b, nil))
}

// benchClicks sends b.N clicks by as many voters on one poll from 64
// clickers at once, and reports ack latency and throughput.
func benchClicks(b *testing.B, h *harness) {
	post, ts := h.createPoll(`"Benchmark?" A B C D`)
	votes := buttons(b, post, "poll.vote")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = h.clickBody("B"+run+"-"+strconv.Itoa(i), "C1", ts, votes[i%len(votes)])
	}
	var (
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, b.N)
		next = make(chan int, b.N)
		wg   sync.WaitGroup
	)
	for i := range b.N {
		next <- i
	}
	close(next)
	b.ResetTimer()
	start := time.Now()
	for range 64 { // concurrent clickers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, _, took := h.send(request{path: "/slack/interactions", body: bodies[i]})
				if resp.StatusCode != http.StatusOK {
					b.Errorf("click %d: status %d", i, resp.StatusCode)
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "clicks/s")
	if _, ballots := h.pollState(); len(ballots) != b.N {
		b.Errorf("%d ballots for %d clicks", len(ballots), b.N)
	}
}

// clickPayloadJSON is a block_actions payload as Slack sends it for a
// click on a poll of five options with a few names each: the message it
// came from is echoed whole.
func clickPayloadJSON(b *testing.B) []byte {
	b.Helper()
	m := bot.Message{Text: "Lunch?", Blocks: []bot.Block{bot.Header{Text: "📊 Lunch?"}}}
	var btns []bot.Button
	for i := range 5 {
		m.Blocks = append(m.Blocks, bot.Section{Text: fmt.Sprintf("*%d. Optie %d*\n█████░░░░░ 12 stemmen (20%%)\n_Anna, Bram, Cato, Daan, Eva, Fenna, Gert en 5 anderen_", i+1, i+1)})
		btns = append(btns, bot.Button{ID: "poll.vote", Label: fmt.Sprintf("%d. Optie %d", i+1, i+1), Value: fmt.Sprintf("p1:%d", i)})
	}
	m.Blocks = append(m.Blocks, bot.Buttons{Buttons: btns}, bot.Context{Text: "60 stemmers · door Anna · ID `p1`"})
	r := render(m)
	blocks, err := json.Marshal(r.Blocks)
	if err != nil {
		b.Fatal(err)
	}
	payload, err := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T1", "domain": "kring-test"},
		"user":         map[string]any{"id": "U2", "username": "bram", "name": "bram", "team_id": "T1"},
		"api_app_id":   "A1",
		"token":        "legacy-token",
		"container":    map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1", "is_ephemeral": false},
		"trigger_id":   "13345224609.738474920.8088930838d88f008e0",
		"channel":      map[string]any{"id": "C1", "name": "algemeen"},
		"message":      map[string]any{"type": "message", "ts": "1700000000.000001", "user": "UBOT", "bot_id": "B1", "text": r.Text, "blocks": json.RawMessage(blocks)},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/T1/1/abc",
		"actions": []map[string]any{{
			"type": "button", "action_id": "poll.vote#1", "block_id": "b1", "value": "p1:1", "action_ts": "1700000100.000001",
			"text": map[string]any{"type": "plain_text", "text": "2. Optie 2"},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return payload
}

// BenchmarkDecodeClick compares decoding a click's payload into the few
// fields kring reads (what a click does now) with decoding it into
// slack.InteractionCallback (what it did): the echoed message's blocks
// are what the full type spends its time on.
//
//	go test -run '^$' -bench BenchmarkDecodeClick -benchmem ./adapters/slack/
func BenchmarkDecodeClick(b *testing.B) {
	payload := clickPayloadJSON(b)
	b.Run("interaction", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			var in interaction
			if err := json.Unmarshal(payload, &in); err != nil || len(in.Actions) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("InteractionCallback", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			var cb slack.InteractionCallback
			if err := json.Unmarshal(payload, &cb); err != nil || len(cb.ActionCallback.BlockActions) != 1 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResponseURLs puts a click's response_url into a map that holds
// n already: the cost per click must not grow with n.
//
//	go test -run '^$' -bench BenchmarkResponseURLs -benchmem ./adapters/slack/
func BenchmarkResponseURLs(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 90_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			now := time.Now()
			r := newResponseURLs(func() time.Time { return now })
			where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
			for i := range n {
				r.rememberUser(where, "U"+strconv.Itoa(i), "https://hooks.slack.com/actions/x")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				now = now.Add(time.Millisecond)
				r.rememberUser(where, "V"+strconv.Itoa(i%n), "https://hooks.slack.com/actions/y")
				i++
			}
		})
	}
}
