package mattermost

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kringbot/kring/adapters/reply"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// maxBody is the largest request kring reads; Mattermost's are a few KiB.
const maxBody = 1 << 20

// delivery names one delivery of a command or click, for the Mux to let a
// repeat take effect once: Mattermost mints a trigger id for every
// command and click (signed, with the user and the time in it), so a
// request sent again as it was (by a proxy retrying, or replayed) carries
// the same one, and two real clicks never do. Mattermost itself sends
// each request once. A request without a trigger id (servers before 5.6)
// and a dialog submission (which carries none) get "": nothing in them
// tells a repeat from a second submission. The parts are hashed, to keep
// the store's records small.
func delivery(kind, userID, triggerID string) string {
	if triggerID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(kind + "\x00" + userID + "\x00" + triggerID))
	return "mattermost:" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// learn fills the users cache with someone who typed a command, off the
// request's path, so their next requests carry their time zone and
// language. Clicks do not: a burst of new voters would be a burst of
// users API calls.
func (a *Adapter) learn(id string) {
	if a.users.Known(id) {
		return
	}
	a.runner.Go(func(ctx context.Context) { a.users.Get(ctx, id) })
}

// serveCommand answers Mattermost's form-encoded slash command request.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		a.badBody(w, err)
		return
	}
	f := r.PostForm
	if !a.tokenOK(f.Get("token")) {
		a.log.Warn("command with a wrong token refused", "remote", r.RemoteAddr)
		http.Error(w, "wrong command token", http.StatusUnauthorized)
		return
	}
	userID, channelID, command := f.Get("user_id"), f.Get("channel_id"), f.Get("command")
	if userID == "" || channelID == "" || command == "" {
		http.Error(w, "user_id, channel_id and command are required", http.StatusBadRequest)
		return
	}
	where := bot.Where{Platform: bot.Mattermost, Team: f.Get("team_id"), Channel: channelID}
	a.rest.noteChannel(channelID, f.Get("channel_name"))
	hook := a.hookURL(f.Get("response_url"))
	req := &bot.Request{
		Where:     where,
		User:      a.users.User(userID, f.Get("user_name")),
		Command:   command,
		Text:      f.Get("text"),
		TriggerID: f.Get("trigger_id"),
		Delivery:  delivery("cmd", userID, f.Get("trigger_id")),
	}
	a.learn(userID)
	reply, ok := a.runner.Answer(r.Context(), arrived, func(ctx context.Context) bot.Reply {
		return a.cfg.Handler.ServeCommand(ctx, req)
	}, func(ctx context.Context, reply bot.Reply) {
		if reply.Message == nil {
			return
		}
		if err := a.respondLater(ctx, hook, where, userID, reply.Message); err != nil {
			a.log.Error("late command reply", "command", command, "user", userID, "err", err)
		}
	})
	resp := commandResponse{ResponseType: "ephemeral", SkipSlackParsing: true}
	if ok {
		resp = a.render.commandResponse(reply.Message, where)
	}
	writeJSON(w, resp)
}

// hookURL is where a late command reply goes: the command's response_url,
// with its hook id kept but sent to the configured Mattermost address, so a
// forged response_url cannot make kring call anywhere else.
func (a *Adapter) hookURL(responseURL string) string {
	u, err := url.Parse(responseURL)
	if err != nil {
		return ""
	}
	_, id, ok := strings.Cut(u.Path, "/hooks/commands/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return ""
	}
	return strings.TrimRight(a.cfg.URL, "/") + "/hooks/commands/" + url.PathEscape(id)
}

// respondLater sends a reply that missed the three seconds: to the
// command's response URL when there is one (no permission needed, buttons
// work), else as an ephemeral post.
func (a *Adapter) respondLater(ctx context.Context, hook string, where bot.Where, userID string, m *bot.Message) error {
	if hook == "" {
		return a.paced.Ephemeral(ctx, where, userID, *m)
	}
	body, err := json.Marshal(a.render.commandResponse(m, where))
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	return a.client.do(ctx, "command response", func() (*model.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, strings.NewReader(string(body)))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		r := model.BuildResponse(resp)
		if resp.StatusCode >= 300 {
			return r, model.AppErrorFromJSON(resp.Body)
		}
		return r, nil
	})
}

// actionResponse answers a click: text shown to the clicking user only.
type actionResponse struct {
	EphemeralText    string `json:"ephemeral_text,omitempty"`
	SkipSlackParsing bool   `json:"skip_slack_parsing,omitempty"`
}

// serveAction answers a button click. The context must verify before
// anything else is looked at; the clicking user is the request's user_id.
func (a *Adapter) serveAction(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	var in model.PostActionIntegrationRequest
	if !a.decode(w, r, &in) {
		return
	}
	ctx, err := a.render.sign.openContext(in.Context, in.ChannelId, in.PostId)
	if err != nil {
		a.log.Warn("action with a bad context refused", "user", in.UserId, "channel", in.ChannelId, "post", in.PostId, "err", err)
		http.Error(w, "context does not verify", http.StatusForbidden)
		return
	}
	if in.UserId == "" {
		http.Error(w, "action does not belong here", http.StatusForbidden)
		return
	}
	ctx[keyTeam] = in.TeamId // the team of the post's channel, as Mattermost knows it
	where := bot.Where{Platform: bot.Mattermost, Team: ctx[keyTeam], Channel: ctx[keyChannel]}
	if ctx[keyConfirmT] != "" || ctx[keyConfirmX] != "" || ctx[keyConfirmY] != "" {
		// Someone who may not do this hears so now, not after confirming.
		if refusal := a.check(r.Context(), ctx, in); refusal != nil {
			writeJSON(w, actionResponse{EphemeralText: a.render.text(*refusal), SkipSlackParsing: true})
			return
		}
		// First ask; the dialog's submission runs the action.
		if err := a.rest.openDialog(r.Context(), in.TriggerId, a.render.confirmDialog(ctx, in.PostId)); err != nil {
			a.log.Error("open confirmation", "action", ctx[keyAction], "err", err)
			writeJSON(w, actionResponse{EphemeralText: bot.T(a.cfg.Handler.Locale(r.Context(), where)).S("mattermost.confirm_failed")})
			return
		}
		writeJSON(w, actionResponse{})
		return
	}
	userID := in.UserId
	act := &bot.Action{
		Where: where,
		// The user as the click carries them (user_name on servers since
		// 5.x's later releases), or as kring knows them: a click asks
		// Mattermost nothing.
		User:      a.users.User(userID, in.UserName),
		ID:        ctx[keyAction],
		Value:     ctx[keyValue],
		Ref:       bot.Ref{Where: where, ID: in.PostId},
		TriggerID: in.TriggerId,
		Delivery:  delivery("act", userID, in.TriggerId),
	}
	// A click is answered from this goroutine; only one that outlasts
	// the deadline is acknowledged from another (see reply.Runner.Inline).
	reply, ok := a.runner.Inline(r.Context(), arrived, func(c context.Context) bot.Reply {
		return a.cfg.Handler.ServeAction(c, act)
	}, func() { reply.WriteEarly(w, "application/json", []byte("{}")) }, func(c context.Context, reply bot.Reply) {
		a.sendEphemeral(c, where, userID, reply.Message)
	})
	if !ok {
		return // acknowledged already
	}
	var resp actionResponse
	if reply.Message != nil {
		if hasButtons(*reply.Message) {
			// An action's answer is text only; one with buttons is posted.
			a.runner.Go(func(c context.Context) { a.sendEphemeral(c, where, userID, reply.Message) })
		} else {
			resp = actionResponse{EphemeralText: a.render.text(*reply.Message), SkipSlackParsing: true}
		}
	}
	writeJSON(w, resp)
}

// ActionChecker is a Handler that can tell, without doing anything,
// whether an action would be refused. The adapter asks it before it opens
// a confirmation dialog, so that "Peiling sluiten?" is only asked of
// someone who may close the poll. The submission is checked again by
// ServeAction itself; this is only about what is asked first.
type ActionChecker interface {
	// CheckAction returns the refusal to show when act would be refused,
	// a zero Reply when it would be served.
	CheckAction(ctx context.Context, act *bot.Action) bot.Reply
}

// check asks the handler, when it can tell, whether the clicking user may
// run a button's action; nil when they may or when it cannot tell in
// time (the trigger id of the click expires within seconds).
func (a *Adapter) check(reqCtx context.Context, ctx map[string]string, in model.PostActionIntegrationRequest) *bot.Message {
	ch, ok := a.cfg.Handler.(ActionChecker)
	if !ok {
		return nil
	}
	c, cancel := context.WithTimeout(reqCtx, a.cfg.AckWithin/2)
	defer cancel()
	where := bot.Where{Platform: bot.Mattermost, Team: ctx[keyTeam], Channel: ctx[keyChannel]}
	act := &bot.Action{
		Where: where, User: a.users.User(in.UserId, in.UserName),
		ID: ctx[keyAction], Value: ctx[keyValue], Ref: bot.Ref{Where: where, ID: in.PostId},
	}
	return ch.CheckAction(c, act).Message
}

// dialogResponse answers a dialog submission; errors keep it open.
type dialogResponse struct {
	Error  string            `json:"error,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

// serveDialog answers an interactive dialog submission: a form, or the
// confirmation of a button. Field errors go back so Mattermost shows them
// next to the inputs; anything else the user should read arrives as an
// ephemeral message.
func (a *Adapter) serveDialog(w http.ResponseWriter, r *http.Request) {
	var in model.SubmitDialogRequest
	if !a.decode(w, r, &in) {
		return
	}
	st, err := a.render.sign.openState(in.State)
	if err != nil {
		a.log.Warn("dialog with a bad state refused", "user", in.UserId, "err", err)
		http.Error(w, "state does not verify", http.StatusForbidden)
		return
	}
	// The channel_id of a submission is the channel the user is looking at
	// when they submit (the web app fills in its current channel), not
	// necessarily the one the dialog was opened from: a poll closed from
	// the pinned messages or a search result while another channel is open.
	// Where the dialog belongs comes from its signed state only.
	if in.UserId == "" {
		http.Error(w, "dialog does not belong here", http.StatusForbidden)
		return
	}
	if in.Cancelled {
		w.WriteHeader(http.StatusOK)
		return
	}
	where := bot.Where{Platform: bot.Mattermost, Team: st[keyTeam], Channel: st[keyChannel]}
	act := &bot.Action{Where: where}
	switch st[keyKind] {
	case "form":
		if in.CallbackId != "" && in.CallbackId != st[keyForm] {
			http.Error(w, "dialog does not belong here", http.StatusForbidden)
			return
		}
		act.ID, act.Value, act.Form = st[keyForm], st[keyState], formValues(in.Submission)
		if act.ID == "" {
			http.Error(w, "state names no form", http.StatusForbidden)
			return
		}
	case "confirm":
		act.ID, act.Value = st[keyAction], st[keyValue]
		act.Ref = bot.Ref{Where: where, ID: st[keyPost]}
		if act.ID == "" {
			http.Error(w, "state names no action", http.StatusForbidden)
			return
		}
	default:
		http.Error(w, "unknown dialog", http.StatusForbidden)
		return
	}
	userID := in.UserId
	// A submission carries no user name; the cache may know one.
	act.User = a.users.User(userID, "")
	// A refused form must be answered, not sent later: wait for the
	// handler for as long as Mattermost waits for a dialog.
	reply := a.runner.Serve(func(c context.Context) bot.Reply { return a.cfg.Handler.ServeAction(c, act) })
	if len(reply.FieldErrors) > 0 {
		writeJSON(w, dialogResponse{Errors: reply.FieldErrors})
		return
	}
	if reply.Message != nil {
		a.runner.Go(func(c context.Context) { a.sendEphemeral(c, where, userID, reply.Message) })
	}
	writeJSON(w, dialogResponse{})
}

// formValues turns a dialog submission into form values. Mattermost sends
// text as strings, a bool as true/false, a number (subtype number) as a
// number, and a multi-select as a list of values; an empty field comes as
// null, "" or [], and some web app versions pass a select's option on as
// {"label": …, "value": …}. "<nil>" is how a cleared select reaches some
// versions; it means no value.
func formValues(sub map[string]any) bot.Values {
	out := bot.Values{}
	keys := make([]string, 0, len(sub))
	for k := range sub {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var vals []any
		if list, ok := sub[k].([]any); ok {
			vals = list
		} else {
			vals = []any{sub[k]}
		}
		for _, v := range vals {
			if s, ok := formValue(v); ok {
				out[k] = append(out[k], s)
			}
		}
	}
	return out
}

// formValue is one submitted value as text; false when it stands for none.
func formValue(v any) (string, bool) {
	if opt, ok := v.(map[string]any); ok {
		v = opt["value"]
	}
	var s string
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		s = v
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		s = fmt.Sprint(v)
	}
	return s, s != "" && s != "<nil>"
}

// sendEphemeral shows m to one user, logging what fails: the click it
// answers has long been acknowledged.
func (a *Adapter) sendEphemeral(ctx context.Context, where bot.Where, userID string, m *bot.Message) {
	if m == nil {
		return
	}
	if err := a.paced.Ephemeral(ctx, where, userID, *m); err != nil {
		a.log.Error("ephemeral reply", "user", userID, "channel", where.Channel, "err", err)
	}
}

// decode reads a JSON body of at most maxBody bytes into v, answering 413
// or 400 itself when it cannot.
func (a *Adapter) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		a.badBody(w, err)
		return false
	}
	return true
}

func (a *Adapter) badBody(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, "malformed request: "+err.Error(), http.StatusBadRequest)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if r, ok := v.(actionResponse); ok && r == (actionResponse{}) {
		// Most clicks are answered with nothing to show: no encoder for it.
		_, _ = io.WriteString(w, "{}\n")
		return
	}
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
