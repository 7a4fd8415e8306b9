package slack

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

const (
	// dedupeTTL outlives Slack's five-minute signature window and its
	// retries, so a delivery seen twice within it is recognised.
	dedupeTTL = 10 * time.Minute
	// handlerTimeout bounds a command's or click's work, replies included.
	handlerTimeout = 30 * time.Second
)

// errMalformed marks a payload kring cannot read; HTTP answers 400.
var errMalformed = errors.New("malformed Slack payload")

// commandReply is a slash command's immediate reply, as the HTTP response
// body or the Socket Mode acknowledgement.
type commandReply struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func ephemeralReply(m bot.Message) commandReply {
	r := render(m)
	return commandReply{ResponseType: slack.ResponseTypeEphemeral, Text: r.Text, Blocks: r.Blocks}
}

// firstDelivery reports whether key is new, so a request Slack delivers
// twice takes effect once. It waits for the store until by at most: the
// check is part of the reply's budget. A store that fails outright lets
// the request go ahead (a rare double beats a lost command); one that
// does not answer by then, or times out, makes firstDelivery return
// errStoreSlow, since the request's own store calls would hang the same
// way.
func (a *Adapter) firstDelivery(ctx context.Context, by time.Time, key string) (bool, error) {
	ctx, cancel := context.WithDeadline(ctx, by)
	defer cancel()
	// The check runs apart and is given up on at by even when the store
	// does not give up itself: go-redis sets up a new connection on its
	// own timers, whatever the context says.
	type result struct {
		ok  bool
		err error
	}
	res := make(chan result, 1)
	a.spawn(func(context.Context) {
		ok, err := a.seen.Once(ctx, "slack:delivery:"+key, dedupeTTL)
		res <- result{ok, err}
	})
	var ok bool
	var err error
	select {
	case r := <-res:
		ok, err = r.ok, r.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	switch {
	case err != nil && (ctx.Err() != nil || isTimeout(err)):
		a.log.Warn("the store did not answer the check for a repeated delivery in time; asking the user to try again", "key", key, "err", err)
		return false, errStoreSlow
	case err != nil:
		a.log.Warn("cannot check for a repeated delivery; handling it", "key", key, "err", err)
		return true, nil
	case !ok:
		a.log.Info("repeated delivery ignored", "key", key)
	}
	return ok, nil
}

// isTimeout reports whether err is a store that timed out rather than one
// that refused at once: go-redis's own read timeout on a frozen Redis
// comes before the context's deadline.
func isTimeout(err error) bool {
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// errStoreSlow marks a request the store could not take in time.
var errStoreSlow = errors.New("the store did not answer within the reply budget")

// checkBy is how long a request's delivery check may wait for the store:
// until a fifth of AckWithin is left, so that the "try again" reply still
// goes out in the acknowledgement, but at least minDeliveryCheck, lest a
// short AckWithin turn a store that is merely busy into a refusal.
func (a *Adapter) checkBy(arrived time.Time) time.Time {
	by := arrived.Add(a.cfg.AckWithin - a.cfg.AckWithin/5)
	return later(by, arrived.Add(minDeliveryCheck))
}

// minDeliveryCheck is the least time a delivery check is given: one small
// write that takes longer than this means a store that hangs.
const minDeliveryCheck = time.Second

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tryAgain is the reply to a request the store could not take in time. Its
// language comes from the Mux, asked with by (which has passed) as its
// deadline, and waited for a tenth of AckWithin at most: a store that
// hangs may take longer than its context allows (go-redis sets up a new
// connection on a timer of its own), and the reply must not wait for it.
func (a *Adapter) tryAgain(ctx context.Context, by time.Time, where bot.Where) bot.Reply {
	got := make(chan string, 1)
	a.spawn(func(context.Context) {
		lctx, cancel := context.WithDeadline(ctx, by)
		defer cancel()
		got <- a.cfg.Mux.Locale(lctx, where)
	})
	locale := bot.DefaultLocale
	t := time.NewTimer(a.cfg.AckWithin / 10)
	defer t.Stop()
	select {
	case locale = <-got:
	case <-t.C:
	}
	return bot.Reply{Message: bot.TextMessage(bot.T(locale).S("slack.try_again"))}
}

// spawn runs f in the background, owned by the Adapter (Close waits).
func (a *Adapter) spawn(f func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(a.ctx, handlerTimeout)
		defer cancel()
		f(ctx)
	}()
}

// handleInTime runs handle and returns what finish makes of its reply when
// it comes within AckWithin of arrived, the moment the request arrived.
// Otherwise it returns nil (an empty ack) and finish runs later with late
// set, to deliver the reply another way. handle gets by, the time until
// which its delivery check may wait for the store.
func (a *Adapter) handleInTime(arrived time.Time, handle func(ctx context.Context, by time.Time) bot.Reply, finish func(ctx context.Context, r bot.Reply, late bool) any) any {
	var (
		mu     sync.Mutex
		gaveUp bool
		done   = make(chan bot.Reply, 1)
		ackBy  = arrived.Add(a.cfg.AckWithin)
	)
	a.spawn(func(ctx context.Context) {
		r := handle(ctx, a.checkBy(arrived))
		mu.Lock()
		if gaveUp {
			mu.Unlock()
			finish(ctx, r, true)
			return
		}
		done <- r
		mu.Unlock()
	})
	t := time.NewTimer(time.Until(ackBy))
	defer t.Stop()
	select {
	case r := <-done:
		return finish(a.ctx, r, false)
	case <-t.C:
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case r := <-done:
		return finish(a.ctx, r, false)
	default:
		gaveUp = true
		return nil
	}
}

// command handles a slash command and returns the acknowledgement.
// fallbackKey identifies the delivery when Slack sent no trigger id.
func (a *Adapter) command(sc slack.SlashCommand, fallbackKey string) (any, error) {
	arrived := time.Now()
	if sc.Command == "" || sc.UserID == "" || sc.ChannelID == "" {
		return nil, errMalformed
	}
	key := "cmd:" + sc.TeamID + ":" + sc.TriggerID
	if sc.TriggerID == "" {
		key = "cmd:" + fallbackKey
	}
	where := bot.Where{Platform: bot.Slack, Team: sc.TeamID, Channel: sc.ChannelID}
	a.replies.rememberUser(where, sc.UserID, sc.ResponseURL)
	return a.handleInTime(arrived, func(ctx context.Context, by time.Time) bot.Reply {
		if fresh, err := a.firstDelivery(ctx, by, key); err != nil {
			return a.tryAgain(ctx, by, where)
		} else if !fresh {
			return bot.Reply{}
		}
		req := &bot.Request{
			Where:     where,
			User:      a.users.lookup(ctx, sc.TeamID, sc.UserID, sc.UserName),
			Command:   sc.Command,
			Text:      sc.Text,
			TriggerID: sc.TriggerID,
		}
		return a.cfg.Mux.ServeCommand(ctx, req)
	}, func(ctx context.Context, r bot.Reply, late bool) any {
		if r.Message == nil {
			return nil
		}
		if !late {
			return ephemeralReply(*r.Message)
		}
		a.tell(ctx, where, sc.UserID, sc.ResponseURL, *r.Message)
		return nil
	}), nil
}

// tell shows m to one user: through the response_url when there is one
// (it works in every conversation), else chat.postEphemeral.
func (a *Adapter) tell(ctx context.Context, where bot.Where, user, responseURL string, m bot.Message) {
	var err error
	if responseURL != "" {
		err = a.raw.respond(ctx, responseURL, m, false)
	} else {
		err = a.raw.Ephemeral(ctx, where, user, m)
	}
	if err != nil {
		a.log.Error("reply to user", "channel", where.Channel, "user", user, "err", err)
	}
}

// interaction handles a block action or view submission and returns the
// acknowledgement.
func (a *Adapter) interaction(cb *slack.InteractionCallback, fallbackKey string) (any, error) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return a.blockActions(cb, fallbackKey)
	case slack.InteractionTypeViewSubmission:
		return a.viewSubmission(cb, fallbackKey)
	case "":
		return nil, errMalformed
	}
	return nil, nil // view_closed, shortcuts: kring registers none
}

func (a *Adapter) blockActions(cb *slack.InteractionCallback, fallbackKey string) (any, error) {
	arrived := time.Now()
	actions := cb.ActionCallback.BlockActions
	if len(actions) == 0 || cb.User.ID == "" {
		return nil, errMalformed
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	where := bot.Where{Platform: bot.Slack, Team: cb.Team.ID, Channel: channel}
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	ref := bot.Ref{Where: where, ID: ts}
	if cb.Container.IsEphemeral && ts != "" {
		a.replies.rememberEphemeral(ref, cb.ResponseURL)
	}
	a.replies.rememberUser(where, cb.User.ID, cb.ResponseURL)
	return a.handleInTime(arrived, func(ctx context.Context, by time.Time) bot.Reply {
		var fresh []*slack.BlockAction
		for i, ba := range actions {
			key := "act:" + cb.Team.ID + ":" + cb.TriggerID + ":" + ba.ActionTs
			if cb.TriggerID == "" && ba.ActionTs == "" {
				key = "act:" + fallbackKey + ":" + strconv.Itoa(i)
			}
			ok, err := a.firstDelivery(ctx, by, key)
			if err != nil {
				return a.tryAgain(ctx, by, where)
			}
			if ok {
				fresh = append(fresh, ba)
			}
		}
		if len(fresh) == 0 {
			return bot.Reply{}
		}
		user := a.users.lookup(ctx, cb.Team.ID, cb.User.ID, cb.User.Name)
		var last bot.Reply
		for _, ba := range fresh {
			act := &bot.Action{
				Where:     where,
				User:      user,
				ID:        actionID(ba.ActionID),
				Value:     ba.Value,
				Ref:       ref,
				TriggerID: cb.TriggerID,
			}
			if r := a.cfg.Mux.ServeAction(ctx, act); r.Message != nil {
				last = r
			}
		}
		return last
	}, func(_ context.Context, r bot.Reply, _ bool) any {
		// Slack ignores a body in answer to a click; the reply goes
		// through the response_url, after the acknowledgement.
		if r.Message != nil {
			m := *r.Message
			a.spawn(func(ctx context.Context) { a.tell(ctx, where, cb.User.ID, cb.ResponseURL, m) })
		}
		return nil
	}), nil
}

func (a *Adapter) viewSubmission(cb *slack.InteractionCallback, fallbackKey string) (any, error) {
	arrived := time.Now()
	if cb.User.ID == "" {
		return nil, errMalformed
	}
	fs, err := decodeFormState(cb.View.PrivateMetadata)
	if err != nil {
		return nil, errors.Join(errMalformed, err)
	}
	key := "view:" + cb.Team.ID + ":" + cb.TriggerID
	if cb.TriggerID == "" {
		key = "view:" + cb.View.ID + ":" + cb.View.Hash + ":" + fallbackKey
	}
	where := fs.Where
	return a.handleInTime(arrived, func(ctx context.Context, by time.Time) bot.Reply {
		if fresh, err := a.firstDelivery(ctx, by, key); err != nil {
			return a.tryAgain(ctx, by, where)
		} else if !fresh {
			return bot.Reply{}
		}
		act := &bot.Action{
			Where:     where,
			User:      a.users.lookup(ctx, cb.Team.ID, cb.User.ID, cb.User.Name),
			ID:        cb.View.CallbackID,
			Value:     fs.State,
			TriggerID: cb.TriggerID,
			Form:      formValues(cb.View.State),
		}
		return a.cfg.Mux.ServeAction(ctx, act)
	}, func(ctx context.Context, r bot.Reply, late bool) any {
		if len(r.FieldErrors) > 0 && !late {
			return slack.NewErrorsViewSubmissionResponse(r.FieldErrors)
		}
		m := r.Message
		if len(r.FieldErrors) > 0 {
			m = fieldErrorsMessage(a.cfg.Mux.Locale(ctx, where), r.FieldErrors)
		}
		if m != nil {
			msg := *m
			a.spawn(func(ctx context.Context) { a.tell(ctx, where, cb.User.ID, "", msg) })
		}
		return nil
	}), nil
}

// fieldErrorsMessage lists a form's errors for when the modal has closed
// already (the handler took longer than Slack waits).
func fieldErrorsMessage(locale string, errs map[string]string) *bot.Message {
	var b strings.Builder
	b.WriteString(bot.T(locale).S("slack.form.late_errors"))
	for _, name := range sortedKeys(errs) {
		b.WriteString("\n- " + errs[name])
	}
	return bot.TextMessage(b.String())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
