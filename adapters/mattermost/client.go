package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// apiError is a REST call Mattermost answered with an error status.
type apiError struct {
	Op     string
	Status int
	Err    error
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: status %d: %v", e.Op, e.Status, e.Err) }
func (e *apiError) Unwrap() error { return e.Err }

// statusOf is the HTTP status of a failed call, 0 when it never got one.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// client calls the REST API with the bot token. A 429 becomes a
// *bot.RateLimited (the pace wrapper waits and retries); 5xx answers and
// failed connections are retried here with a bounded back-off.
type client struct {
	api     *model.Client4
	tries   int
	backoff time.Duration
}

func newClient(url, token string, hc *http.Client, backoff time.Duration) *client {
	api := model.NewAPIv4Client(url)
	api.SetToken(token)
	api.HTTPClient = hc
	return &client{api: api, tries: 3, backoff: backoff}
}

// do runs call, retrying what is worth retrying.
func (c *client) do(ctx context.Context, op string, call func() (*model.Response, error)) error {
	wait := c.backoff
	for attempt := 1; ; attempt++ {
		resp, err := call()
		if err == nil {
			return nil
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if status == http.StatusTooManyRequests {
			return fmt.Errorf("%s: %w", op, &bot.RateLimited{After: retryAfter(resp.Header)})
		}
		retry := status >= 500 || (status == 0 && ctx.Err() == nil)
		if !retry || attempt >= c.tries {
			return &apiError{Op: op, Status: status, Err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &apiError{Op: op, Status: status, Err: errors.Join(err, ctx.Err())}
		case <-t.C:
		}
		wait *= 2
	}
}

// retryAfter reads how long Mattermost asks to wait: Retry-After, else
// X-Ratelimit-Reset (seconds), else a second.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"Retry-After", "X-Ratelimit-Reset"} {
		if s, err := strconv.Atoi(h.Get(k)); err == nil && s >= 0 {
			return max(time.Duration(s)*time.Second, 100*time.Millisecond)
		}
	}
	return time.Second
}
