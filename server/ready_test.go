package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kringbot/kring/server"
)

// TestReadyzChecksApart: with the store hanging, /readyz answers after one
// CheckTimeout (the bubble's fake clock makes that exact), names the store
// as the cause, and the other checks get a context of their own that has
// not run out, so Slack is not blamed for Redis.
func TestReadyzChecksApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := server.New(slog.New(slog.DiscardHandler))
		hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		s.AddCheck(server.Check{Name: "store (redis)", Func: hang})
		s.AddCheck(server.Check{Name: "mattermost", Func: hang})
		var slackCtxErr error
		var slackDeadline time.Time
		s.AddCheck(server.Check{Name: "slack", Func: func(ctx context.Context) error {
			time.Sleep(200 * time.Millisecond) // auth.test takes a while (fake time)
			slackCtxErr = ctx.Err()
			slackDeadline, _ = ctx.Deadline()
			return slackCtxErr
		}})

		start := time.Now()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		took := time.Since(start)

		if took != server.DefaultCheckTimeout {
			t.Errorf("/readyz took %v with two hanging checks, want one CheckTimeout (%v): the checks run at once", took, server.DefaultCheckTimeout)
		}
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d, want 503", rec.Code)
		}
		for _, want := range []string{
			"store (redis): no answer within 1s",
			"mattermost: no answer within 1s",
			"slack: ok\n",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/readyz body %q lacks %q", body, want)
			}
		}
		if slackCtxErr != nil || !slackDeadline.Equal(start.Add(server.DefaultCheckTimeout)) {
			t.Errorf("slack's check had ctx error %v and deadline %v after the start; want its own full CheckTimeout", slackCtxErr, slackDeadline.Sub(start))
		}
	})
}

// TestReadyzCheckIgnoringContext: a check that ignores its context cannot
// hold /readyz beyond CheckTimeout.
func TestReadyzCheckIgnoringContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := server.New(slog.New(slog.DiscardHandler))
		s.CheckTimeout = 300 * time.Millisecond
		release := make(chan struct{})
		s.AddCheck(server.Check{Name: "store (bolt)", Func: func(context.Context) error { <-release; return nil }})
		start := time.Now()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if took := time.Since(start); took != s.CheckTimeout {
			t.Errorf("/readyz took %v, want %v", took, s.CheckTimeout)
		}
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "store (bolt): no answer within 300ms") {
			t.Errorf("/readyz = %d %q", rec.Code, rec.Body)
		}
		close(release)
	})
}
