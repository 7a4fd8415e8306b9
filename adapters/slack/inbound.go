package slack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
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

// interaction is what kring reads of an interaction payload, and nothing
// more: a click's payload echoes the whole message it came from (every
// block of a poll), which slack.InteractionCallback would decode into
// blocks on every click. BenchmarkDecodeClick measures the difference.
type interaction struct {
	Type slack.InteractionType `json:"type"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID   string `json:"channel_id"`
		MessageTs   string `json:"message_ts"`
		IsEphemeral bool   `json:"is_ephemeral"`
	} `json:"container"`
	Message struct {
		Ts string `json:"ts"`
	} `json:"message"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTs string `json:"action_ts"`
	} `json:"actions"`
	// View is decoded only for a view submission.
	View json.RawMessage `json:"view"`
}

// submittedView is what kring reads of a submitted modal.
type submittedView struct {
	ID              string           `json:"id"`
	Hash            string           `json:"hash"`
	CallbackID      string           `json:"callback_id"`
	PrivateMetadata string           `json:"private_metadata"`
	State           *slack.ViewState `json:"state"`
}

// userName is the name a payload carries for its user: the handle, as
// Slack sends no display name with an interaction.
func (in *interaction) userName() string {
	if in.User.Username != "" {
		return in.User.Username
	}
	return in.User.Name
}

// delivery names one delivery of a request, for the Mux to let a repeat
// take effect once. It is made from what Slack puts in the payload, not
// from the HTTP request around it: Slack signs every attempt anew with
// the time of sending, so a retry of a request has a new signature but
// the same payload, and Socket Mode resends an envelope as it was. Two
// real clicks never share one: each interaction gets its own trigger_id
// and action_ts. The parts are hashed, to keep the store's records small.
func delivery(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "slack:" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// user is who made a request: as the users cache knows them, else the id
// and the handle the payload carries. Nothing here asks Slack.
func (a *Adapter) user(id, name string) bot.User { return a.users.User(id, name) }

// learn fills the users cache with someone who typed a command, off the
// request's path, so their next requests carry their time zone and
// language. Clicks do not: a burst of new voters would be a burst of
// users.info calls, which Slack limits.
func (a *Adapter) learn(id string) {
	if a.users.Known(id) {
		return
	}
	a.runner.Go(func(ctx context.Context) { a.users.Get(ctx, id) })
}

// command handles a slash command and returns the acknowledgement.
// fallbackKey identifies the delivery when Slack sent no trigger id.
func (a *Adapter) command(reqCtx context.Context, sc slack.SlashCommand, fallbackKey string) (any, error) {
	arrived := time.Now()
	if sc.Command == "" || sc.UserID == "" || sc.ChannelID == "" {
		return nil, errMalformed
	}
	key := delivery("cmd", sc.TeamID, sc.UserID, sc.TriggerID)
	if sc.TriggerID == "" {
		key = delivery("cmd", fallbackKey)
	}
	where := bot.Where{Platform: bot.Slack, Team: sc.TeamID, Channel: sc.ChannelID}
	a.replies.rememberUser(where, sc.UserID, sc.ResponseURL)
	req := &bot.Request{
		Where:     where,
		User:      a.user(sc.UserID, sc.UserName),
		Command:   sc.Command,
		Text:      sc.Text,
		TriggerID: sc.TriggerID,
		Delivery:  key,
	}
	a.learn(sc.UserID)
	r, inTime := a.runner.Answer(reqCtx, arrived, func(ctx context.Context) bot.Reply {
		return a.cfg.Mux.ServeCommand(ctx, req)
	}, func(ctx context.Context, r bot.Reply) {
		if r.Message != nil {
			a.tell(ctx, where, sc.UserID, sc.ResponseURL, *r.Message)
		}
	})
	if !inTime || r.Message == nil {
		return nil, nil
	}
	return ephemeralReply(*r.Message), nil
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

// ackedEarly is the acknowledgement of a request that was acknowledged
// already, by the early function its handler was given: nothing more is
// sent for it.
type ackedEarly struct{}

// interaction handles a block action or view submission payload and
// returns the acknowledgement. A click whose work outlasts Slack's three
// seconds is acknowledged empty by early, from another goroutine, while
// interaction goes on; it then returns ackedEarly{}.
func (a *Adapter) interaction(reqCtx context.Context, payload []byte, fallbackKey string, early func()) (any, error) {
	var in interaction
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, errors.Join(errMalformed, err)
	}
	switch in.Type {
	case slack.InteractionTypeBlockActions:
		return a.blockActions(reqCtx, &in, fallbackKey, early)
	case slack.InteractionTypeViewSubmission:
		return a.viewSubmission(reqCtx, &in, fallbackKey)
	case "":
		return nil, errMalformed
	}
	return nil, nil // view_closed, shortcuts: kring registers none
}

func (a *Adapter) blockActions(reqCtx context.Context, in *interaction, fallbackKey string, early func()) (any, error) {
	arrived := time.Now()
	if len(in.Actions) == 0 || in.User.ID == "" {
		return nil, errMalformed
	}
	channel := in.Channel.ID
	if channel == "" {
		channel = in.Container.ChannelID
	}
	where := bot.Where{Platform: bot.Slack, Team: in.Team.ID, Channel: channel}
	ts := in.Container.MessageTs
	if ts == "" {
		ts = in.Message.Ts
	}
	ref := bot.Ref{Where: where, ID: ts}
	if in.Container.IsEphemeral && ts != "" {
		a.replies.rememberEphemeral(ref, in.ResponseURL)
	}
	a.replies.rememberUser(where, in.User.ID, in.ResponseURL)
	user := a.user(in.User.ID, in.userName())
	acts := make([]*bot.Action, len(in.Actions))
	for i, ba := range in.Actions {
		key := delivery("act", in.Team.ID, in.User.ID, in.TriggerID, ba.ActionTs, ba.ActionID)
		if in.TriggerID == "" && ba.ActionTs == "" {
			key = delivery("act", fallbackKey, ba.ActionID)
		}
		acts[i] = &bot.Action{
			Where:     where,
			User:      user,
			ID:        actionID(ba.ActionID),
			Value:     ba.Value,
			Ref:       ref,
			TriggerID: in.TriggerID,
			Delivery:  key,
		}
	}
	responseURL := in.ResponseURL
	// A click is served in this goroutine; only one that outlasts the
	// deadline is acknowledged from another (see reply.Runner.Inline).
	r, inTime := a.runner.Inline(reqCtx, arrived, func(ctx context.Context) bot.Reply {
		var last bot.Reply
		for _, act := range acts {
			if r := a.cfg.Mux.ServeAction(ctx, act); r.Message != nil {
				last = r
			}
		}
		return last
	}, early, func(ctx context.Context, r bot.Reply) {
		if r.Message != nil {
			a.tell(ctx, where, user.ID, responseURL, *r.Message)
		}
	})
	if !inTime {
		return ackedEarly{}, nil
	}
	// Slack ignores a body in answer to a click; the reply goes through
	// the response_url, after the acknowledgement.
	if r.Message != nil {
		m := *r.Message
		a.runner.Go(func(ctx context.Context) { a.tell(ctx, where, user.ID, responseURL, m) })
	}
	return nil, nil
}

func (a *Adapter) viewSubmission(reqCtx context.Context, in *interaction, fallbackKey string) (any, error) {
	arrived := time.Now()
	if in.User.ID == "" {
		return nil, errMalformed
	}
	var view submittedView
	if err := json.Unmarshal(in.View, &view); err != nil {
		return nil, errors.Join(errMalformed, err)
	}
	fs, err := decodeFormState(view.PrivateMetadata)
	if err != nil {
		return nil, errors.Join(errMalformed, err)
	}
	key := delivery("view", in.Team.ID, in.User.ID, in.TriggerID)
	if in.TriggerID == "" {
		key = delivery("view", view.ID, view.Hash, fallbackKey)
	}
	where := fs.Where
	userID := in.User.ID
	act := &bot.Action{
		Where:     where,
		User:      a.user(userID, in.userName()),
		ID:        view.CallbackID,
		Value:     fs.State,
		TriggerID: in.TriggerID,
		Form:      formValues(view.State),
		Delivery:  key,
	}
	late := func(ctx context.Context, r bot.Reply) {
		m := r.Message
		if len(r.FieldErrors) > 0 {
			m = fieldErrorsMessage(a.cfg.Mux.Locale(ctx, where), r.FieldErrors)
		}
		if m != nil {
			a.tell(ctx, where, userID, "", *m)
		}
	}
	r, inTime := a.runner.Answer(reqCtx, arrived, func(ctx context.Context) bot.Reply {
		return a.cfg.Mux.ServeAction(ctx, act)
	}, late)
	switch {
	case !inTime:
	case len(r.FieldErrors) > 0:
		return slack.NewErrorsViewSubmissionResponse(r.FieldErrors), nil
	case r.Message != nil:
		a.runner.Go(func(ctx context.Context) { late(ctx, r) })
	}
	return nil, nil
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
