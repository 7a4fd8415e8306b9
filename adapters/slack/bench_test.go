package slack

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/storage"
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
// second. Every click is a new voter, so each also costs a users.info at
// the stand-in, as a burst of new voters does at Slack.
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
