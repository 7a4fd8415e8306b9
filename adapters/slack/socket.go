package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Run keeps a Socket Mode connection when an app token is configured,
// reconnecting whenever it drops, until ctx ends. Without an app token it
// returns nil at once.
func (a *Adapter) Run(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return nil
	}
	var opts []socketmode.Option
	if a.cfg.SocketPingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(a.cfg.SocketPingInterval))
	}
	sm := socketmode.New(a.client, opts...)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.socketEvents(ctx, sm)
	}()
	err := a.runSocket(ctx, sm)
	cancel()
	wg.Wait()
	return err
}

// runSocket runs slack-go's connection loop, which reconnects on drops by
// itself, and starts it again should it give up on anything but a rejected
// token.
func (a *Adapter) runSocket(ctx context.Context, sm *socketmode.Client) error {
	wait := time.Second
	for {
		err := sm.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch msg := fmt.Sprint(err); msg {
		case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
			return fmt.Errorf("slack rejects the app token (%s): check KRING_SLACK_APP_TOKEN, an xapp-… token with connections:write", msg)
		}
		a.log.Warn("Socket Mode stopped; starting again", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

// socketEvents handles what arrives over Socket Mode; each request is
// handled on its own and acknowledged within AckWithin, as over HTTP.
func (a *Adapter) socketEvents(ctx context.Context, sm *socketmode.Client) {
	for {
		var evt socketmode.Event
		select {
		case <-ctx.Done():
			return
		case evt = <-sm.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnecting:
			a.log.Debug("Socket Mode connecting")
		case socketmode.EventTypeConnected:
			a.log.Info("Socket Mode connected")
		case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
			a.log.Warn("Socket Mode trouble", "event", evt.Type, "detail", fmt.Sprint(evt.Data))
		case socketmode.EventTypeInvalidAuth:
			a.log.Error("Socket Mode: Slack rejects the app token; check KRING_SLACK_APP_TOKEN")
		case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
			if evt.Request == nil {
				continue
			}
			req := *evt.Request
			a.runner.Go(func(ctx context.Context) { a.socketRequest(ctx, sm, evt, req) })
		case socketmode.EventTypeEventsAPI:
			if evt.Request != nil {
				a.socketAck(ctx, sm, evt.Request.EnvelopeID, nil)
			}
		}
	}
}

func (a *Adapter) socketRequest(ctx context.Context, sm *socketmode.Client, evt socketmode.Event, req socketmode.Request) {
	var (
		ack any
		err error
	)
	key := "env:" + req.EnvelopeID
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		ack, err = a.command(ctx, data, key)
	case slack.InteractionCallback:
		// slack-go decoded the payload into its full type already; kring
		// reads its own few fields from the raw JSON, as over HTTP.
		ack, err = a.interaction(ctx, req.Payload, key, func() { a.socketAck(ctx, sm, req.EnvelopeID, nil) })
	default:
		err = errMalformed
	}
	if _, ok := ack.(ackedEarly); ok {
		return
	}
	if err != nil {
		a.log.Warn("malformed Socket Mode request", "envelope", req.EnvelopeID, "err", err)
		ack = nil
	}
	a.socketAck(ctx, sm, req.EnvelopeID, ack)
}

func (a *Adapter) socketAck(ctx context.Context, sm *socketmode.Client, envelope string, payload any) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := sm.AckCtx(ctx, envelope, payload)
	if err != nil && payload != nil {
		// Too large for an ack (20 KB): acknowledge, and let the user
		// retry; large replies are rare for ephemeral answers.
		a.log.Warn("Socket Mode acknowledgement with reply failed; acknowledging without", "err", err)
		err = sm.AckCtx(ctx, envelope, nil)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		a.log.Error("Socket Mode acknowledgement", "envelope", envelope, "err", err)
	}
}
