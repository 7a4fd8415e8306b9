package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	goredis "github.com/redis/go-redis/v9"
)

// floor is the least a click handler can do: check that the request is
// the platform's, decode the click and write the vote with one HSET. What
// kring does more than this is what its ratio to the floor measures.
type floor struct {
	rdb *goredis.Client
	url string // the Redis, for a floor process
	key string // the HASH of voter → option, under a random prefix
}

func openFloor(ctx context.Context, redisURL, prefix string) (*floor, error) {
	return openFloorKey(ctx, redisURL, prefix+"floor:votes")
}

// openFloorKey opens the floor that keeps its votes in key on redisURL.
func openFloorKey(ctx context.Context, redisURL, key string) (*floor, error) {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("floor's Redis %q: %w; give e.g. --redis redis://127.0.0.1:6379/15", redisURL, err)
	}
	rdb := goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("floor's Redis at %s does not answer: %w; start one or give --redis", opts.Addr, err)
	}
	return &floor{rdb: rdb, url: redisURL, key: key}, nil
}

// vote is the floor's one store call.
func (f *floor) vote(ctx context.Context, voter, option string) error {
	return f.rdb.HSet(ctx, f.key, voter, option).Err()
}

// ballots reads back every vote the floor stored.
func (f *floor) ballots(ctx context.Context) (map[string]string, error) {
	return f.rdb.HGetAll(ctx, f.key).Result()
}

// close deletes the floor's keys and disconnects.
func (f *floor) close(ctx context.Context) error {
	err := f.rdb.Del(ctx, f.key).Err()
	return errors.Join(err, f.rdb.Close())
}

// maxClickBody bounds what the floor reads, as kring does.
const maxClickBody = 1 << 20

// slackHandler takes Slack's block_actions as kring's /slack/interactions
// does: a v0 signature over the body (five-minute window), the payload
// decoded for the user and the button's value, the vote written.
func (f *floor) slackHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxClickBody))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := verifySlack(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		var cb struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Actions []struct {
				Value string `json:"value"`
			} `json:"actions"`
		}
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil || cb.User.ID == "" || len(cb.Actions) == 0 {
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return
		}
		if err := f.vote(r.Context(), cb.User.ID, cb.Actions[0].Value); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// slackSignature is Slack's v0 request signature of body sent at ts.
func slackSignature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// verifySlack checks a request's v0 signature as Slack documents it.
func verifySlack(secret string, h http.Header, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return errors.New("no request timestamp")
	}
	if d := now.Unix() - ts; d > 300 || d < -300 {
		return errors.New("request timestamp outside five minutes")
	}
	if !hmac.Equal([]byte(h.Get("X-Slack-Signature")), []byte(slackSignature(secret, ts, body))) {
		return errors.New("signature does not verify")
	}
	return nil
}

// floorContext is the integration context of the floor's button for
// option on post in channel: the value and a MAC that binds it to the
// post and channel, as kring's contexts do.
func floorContext(secret, channel, post, option string) map[string]any {
	return map[string]any{"v": option, "m": floorMAC(secret, channel, post, option)}
}

func floorMAC(secret, channel, post, option string) string {
	fields, _ := json.Marshal(map[string]string{"c": channel, "p": post, "v": option})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(fields)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// mattermostHandler takes Mattermost's post actions as kring's
// /mattermost/actions does: the request decoded, the context's MAC checked
// against the channel and post Mattermost names, the vote written.
func (f *floor) mattermostHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in model.PostActionIntegrationRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxClickBody)).Decode(&in); err != nil {
			http.Error(w, "malformed request", http.StatusBadRequest)
			return
		}
		option, _ := in.Context["v"].(string)
		sig, _ := in.Context["m"].(string)
		want := floorMAC(secret, in.ChannelId, in.PostId, option)
		if in.UserId == "" || !hmac.Equal([]byte(sig), []byte(want)) {
			http.Error(w, "context does not verify", http.StatusForbidden)
			return
		}
		if err := f.vote(r.Context(), in.UserId, option); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
}
