package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

// Handler answers a slash command. The returned message is the immediate
// reply, shown to the user who typed the command only; nil shows nothing.
// Public messages go through the Poster. A handler must return within the
// platform's three seconds, so it does nothing slow before it answers.
type Handler interface {
	ServeCommand(ctx context.Context, req *Request) (*Message, error)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Message, error)

// ServeCommand calls f.
func (f HandlerFunc) ServeCommand(ctx context.Context, req *Request) (*Message, error) {
	return f(ctx, req)
}

// ActionHandler answers a button click or a form submission; the returned
// message is shown to the acting user only. A form submission it refuses
// returns FieldErrors.
type ActionHandler interface {
	ServeAction(ctx context.Context, act *Action) (*Message, error)
}

// ActionHandlerFunc adapts a function to an ActionHandler.
type ActionHandlerFunc func(ctx context.Context, act *Action) (*Message, error)

// ServeAction calls f.
func (f ActionHandlerFunc) ServeAction(ctx context.Context, act *Action) (*Message, error) {
	return f(ctx, act)
}

// Command describes a slash command for help texts, the Slack manifest and
// Mattermost's autocomplete. Description and Hint are message ids.
type Command struct {
	Name        string // "/poll"
	Description string
	Hint        string
	// Hidden keeps the command out of Commands: it answers when typed but
	// is not listed in help, the Slack manifest or Mattermost's setup
	// (an alias such as /hulp, or a name a platform keeps for itself).
	Hidden bool
}

// Reply is what an adapter shows the user right away.
type Reply struct {
	Message     *Message          // shown to the acting user only; nil for nothing
	FieldErrors map[string]string // a refused form: translated errors by input name
	Repeated    bool              // a delivery seen before: acknowledge it and do nothing
}

// Event is one handled request, for metrics.
type Event struct {
	Kind    string // "command" or "action"
	Name    string // the command, or the action prefix that matched
	Outcome string // "ok", "user_error", "error"
	Took    time.Duration
}

// Languages are a workspace's language and the languages its users chose
// for themselves ("" and absent for none).
type Languages struct {
	Workspace string
	Users     map[string]string // user id → language
}

// SettingsStore keeps per-workspace settings and each user's own language.
type SettingsStore interface {
	// SetLocale stores the workspace's language.
	SetLocale(ctx context.Context, workspace Where, locale string) error
	// Languages returns, in one read, the workspace's language and the
	// languages its users chose for themselves.
	Languages(ctx context.Context, workspace Where) (Languages, error)
	// SetUserLocale stores the language userID chose for themselves in
	// workspace; "" forgets the choice.
	SetUserLocale(ctx context.Context, workspace Where, userID, locale string) error
}

// DeliveryLog remembers deliveries across processes (schedule.Store has
// it): Once records key and reports whether it was new.
type DeliveryLog interface {
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// DeliveryRecorder is an ActionHandler that records an action's Delivery
// itself, atomically with the action's effect (a vote and its delivery in
// one store step), so the Mux does not spend a store round trip on it.
type DeliveryRecorder interface {
	RecordsDelivery(actionID string) bool
}

// ErrRepeated is what a handler returns for an action whose Delivery it
// has seen before: the Mux answers it with nothing, as it does a repeat it
// catches itself.
var ErrRepeated = errors.New("delivery seen before")

// deliveryTTL outlives Slack's five-minute signature window and its
// retries, so a delivery seen twice within it is recognised.
const deliveryTTL = 10 * time.Minute

// Mux routes commands by name and actions by the longest registered prefix
// of their id, as http.ServeMux routes paths. It sets the request's locale,
// turns user errors into translated replies and every other error into a
// logged apology with an error id.
type Mux struct {
	Settings      SettingsStore // nil: every workspace speaks DefaultLocale
	DefaultLocale string        // "" means DefaultLocale
	Log           *slog.Logger  // nil means slog.Default()
	Observe       func(Event)   // optional, called after each request
	// Deliveries, when set, lets a request or action delivered twice (a
	// platform's retry, a replayed request) take effect once.
	Deliveries DeliveryLog

	mu       sync.RWMutex
	commands map[string]commandEntry
	actions  map[string]ActionHandler
}

type commandEntry struct {
	Command
	h Handler
}

// Handle registers h for command c.Name. It panics if the name is taken.
func (m *Mux) Handle(c Command, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Name = commandName(c.Name)
	if m.commands == nil {
		m.commands = map[string]commandEntry{}
	}
	if _, dup := m.commands[c.Name]; dup {
		panic("bot: command registered twice: " + c.Name)
	}
	m.commands[c.Name] = commandEntry{Command: c, h: h}
}

// HandleAction registers h for every action id that starts with prefix.
func (m *Mux) HandleAction(prefix string, h ActionHandler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.actions == nil {
		m.actions = map[string]ActionHandler{}
	}
	if _, dup := m.actions[prefix]; dup {
		panic("bot: action prefix registered twice: " + prefix)
	}
	m.actions[prefix] = h
}

// ActionChecker is an ActionHandler that can tell, without changing
// anything, whether it would refuse an action: an adapter asks before it
// shows "are you sure?", so nobody confirms what they may not do.
type ActionChecker interface {
	// CheckAction returns the error ServeAction would refuse act with,
	// or nil when it might go ahead.
	CheckAction(ctx context.Context, act *Action) error
}

// Commands lists the registered commands by name.
func (m *Mux) Commands() []Command {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Command, 0, len(m.commands))
	for _, e := range m.commands {
		if !e.Hidden {
			out = append(out, e.Command)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ServeCommand runs the handler of req.Command.
func (m *Mux) ServeCommand(ctx context.Context, req *Request) Reply {
	start := time.Now()
	req.Command = commandName(req.Command)
	req.Locale, req.WorkspaceLocale = m.locales(ctx, req.Where, req.User)
	m.mu.RLock()
	e, ok := m.commands[req.Command]
	m.mu.RUnlock()
	var (
		msg *Message
		err error
	)
	switch {
	case ok && m.seen(ctx, req.Delivery, &err):
	case ok:
		err = m.protect(func() error {
			var herr error
			msg, herr = e.h.ServeCommand(ctx, req)
			return herr
		})
	default:
		err = Errorf("kring.unknown_command", "Command", req.Command)
	}
	reply := m.reply(T(req.Locale), msg, err, "command", req.Command, req.User.ID)
	m.observe("command", req.Command, err, start)
	return reply
}

// ServeAction runs the handler whose prefix matches act.ID.
func (m *Mux) ServeAction(ctx context.Context, act *Action) Reply {
	start := time.Now()
	act.Locale, act.WorkspaceLocale = m.locales(ctx, act.Where, act.User)
	prefix, h := m.actionHandler(act.ID)
	var (
		msg *Message
		err error
	)
	recorder, records := h.(DeliveryRecorder)
	switch {
	case h != nil && !(records && recorder.RecordsDelivery(act.ID)) && m.seen(ctx, act.Delivery, &err):
	case h != nil:
		err = m.protect(func() error {
			var herr error
			msg, herr = h.ServeAction(ctx, act)
			return herr
		})
	default:
		prefix = "unknown"
		err = Errorf("kring.unknown_action")
	}
	reply := m.reply(T(act.Locale), msg, err, "action", act.ID, act.User.ID)
	m.observe("action", prefix, err, start)
	return reply
}

// CheckAction asks the handler of act.ID whether it would refuse act,
// without running it. A refusal comes back as the reply ServeAction would
// give; a handler that cannot tell, or allows it, gives the zero Reply.
func (m *Mux) CheckAction(ctx context.Context, act *Action) Reply {
	_, h := m.actionHandler(act.ID)
	ch, ok := h.(ActionChecker)
	if !ok {
		return Reply{}
	}
	act.Locale, act.WorkspaceLocale = m.locales(ctx, act.Where, act.User)
	var err error
	if perr := m.protect(func() error { err = ch.CheckAction(ctx, act); return nil }); perr != nil {
		err = perr
	}
	if err == nil {
		return Reply{}
	}
	return m.reply(T(act.Locale), nil, err, "check", act.ID, act.User.ID)
}

// seen checks delivery against the log and reports whether the request
// ends here, with *err set: ErrRepeated for a delivery seen before, or the
// log's timeout (answered "probeer het zo opnieuw" in time: the handler's
// own store calls would hang the same way). A log that fails outright
// lets the request go ahead: a rare double beats a lost click.
func (m *Mux) seen(ctx context.Context, delivery string, err *error) bool {
	if delivery == "" || m.Deliveries == nil {
		return false
	}
	fresh, lerr := m.Deliveries.Once(ctx, "delivery:"+delivery, deliveryTTL)
	switch {
	case lerr != nil && timedOut(lerr):
		*err = fmt.Errorf("check delivery %s: %w", delivery, lerr)
		return true
	case lerr != nil:
		m.log().Warn("cannot check for a repeated delivery; handling it", "delivery", delivery, "err", lerr)
		return false
	case !fresh:
		m.log().Info("repeated delivery ignored", "delivery", delivery)
		*err = ErrRepeated
		return true
	}
	return false
}

func (m *Mux) actionHandler(id string) (string, ActionHandler) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	best := ""
	var h ActionHandler
	for p, ph := range m.actions {
		if strings.HasPrefix(id, p) && len(p) > len(best) {
			best, h = p, ph
		}
	}
	return best, h
}

// locales says the language to answer u in and the language of their
// workspace, for messages everyone sees. A user's own is, in order: what
// they chose with /kring taal, their platform's interface language when it
// is not English (Slack and Mattermost show English to everyone who never
// chose, so English says nothing; a Dutch interface is a choice), and
// else the workspace's.
func (m *Mux) locales(ctx context.Context, where Where, u User) (user, ws string) {
	def := m.DefaultLocale
	if def == "" {
		def = DefaultLocale
	}
	var own, chosen string
	if m.Settings != nil {
		langs, err := m.Settings.Languages(ctx, where.Workspace())
		own, chosen = langs.Users[u.ID], langs.Workspace
		if err != nil {
			m.log().Warn("read locales", "workspace", where.Workspace().Key(), "user", u.ID, "err", err)
		}
	}
	ws = def
	if l, ok := ParseLocale(chosen); ok {
		ws = l
	}
	if l, ok := ParseLocale(own); ok {
		return l, ws
	}
	if l, ok := UserLocale(u.Locale); ok && l != "en" {
		return l, ws
	}
	return ws, ws
}

// Locale returns the language of the workspace where is in, for work done
// without a request (a poll closing on time, a live message's render):
// the same languages, through the same cache, as a request's.
func (m *Mux) Locale(ctx context.Context, where Where) string {
	_, ws := m.locales(ctx, where, User{})
	return ws
}

// protect runs f, turning a panic into an error so one bad request cannot
// take the process down.
func (m *Mux) protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return f()
}

func (m *Mux) reply(tr Tr, msg *Message, err error, kind, name, user string) Reply {
	if err == nil {
		return Reply{Message: msg}
	}
	if errors.Is(err, ErrRepeated) {
		return Reply{Repeated: true}
	}
	var fe FieldErrors
	if errors.As(err, &fe) {
		out := make(map[string]string, len(fe))
		for field, ue := range fe {
			out[field] = ue.Translate(tr)
		}
		return Reply{FieldErrors: out}
	}
	if ue, ok := AsUserError(err); ok {
		text := ue.Translate(tr)
		return Reply{Message: &Message{Text: text, Blocks: []Block{Section{Text: text}}}}
	}
	id := NewID(4)
	key := "kring.internal_error"
	if timedOut(err) {
		// The store or the platform did not answer in time (Redis frozen,
		// a network hiccup): nothing is wrong with what the user did, and
		// trying again in a moment is the right advice.
		key = "kring.try_again"
		m.log().Warn("request timed out", "kind", kind, "name", name, "user", user, "error_id", id, "err", err)
	} else {
		m.log().Error("request failed", "kind", kind, "name", name, "user", user, "error_id", id, "err", err)
	}
	text := tr.S(key, "ID", id)
	return Reply{Message: &Message{Text: text, Blocks: []Block{Section{Text: text}}}}
}

// timedOut reports whether err is something that did not answer in time.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (m *Mux) observe(kind, name string, err error, start time.Time) {
	if m.Observe == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
		var fe FieldErrors
		if _, ok := AsUserError(err); ok || errors.As(err, &fe) {
			outcome = "user_error"
		}
		if errors.Is(err, ErrRepeated) {
			outcome = "repeated"
		}
	}
	m.Observe(Event{Kind: kind, Name: name, Outcome: outcome, Took: time.Since(start)})
}

func (m *Mux) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.Default()
}

// TextMessage is a message of one paragraph.
func TextMessage(text string) *Message {
	return &Message{Text: PlainText(text), Blocks: []Block{Section{Text: text}}}
}
