package meeting

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/bot/when"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Config is what the meeting feature needs.
type Config struct {
	Store  Store
	Jobs   schedule.Store // reminders; nil: none (and no durable renders)
	Poster bot.Poster
	Clock  bot.Clock
	Admins bot.Admins
	// Location is the workspace's time zone: a meeting's zone when its
	// organiser's is unknown, and a reminder's for someone whose zone
	// the platform does not tell.
	Location *time.Location
	Log      *slog.Logger
	// NewID makes meeting ids; nil means six random characters. Tests use
	// a counter so their transcripts are stable.
	NewID func() string
	// Locale tells a workspace's language, for work done without a
	// request (a reminder); nil means Dutch. bot.Mux.Locale fits.
	Locale func(ctx context.Context, where bot.Where) string
	// Settings tells the language each user chose for themselves, so a
	// reminder DM is in their language; nil: the workspace's.
	Settings bot.SettingsStore
	// Live keeps the meeting posts up to date off the request path; nil
	// renders each change at once, in the request.
	Live *live.Messages
	// PublicURL is where kring serve is reached from outside
	// (KRING_PUBLIC_URL): the calendar feeds' addresses start with it.
	PublicURL string
}

// Feature is /meeting.
type Feature struct {
	c    Config
	stop func()
}

// New returns the meeting feature.
func New(c Config) *Feature {
	if c.Clock == nil {
		c.Clock = bot.SystemClock{}
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.NewID == nil {
		c.NewID = newID
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	f := &Feature{c: c, stop: func() {}}
	if f.c.Live == nil {
		f.c.Live = live.New(live.Config{Poster: c.Poster, Inline: true, Log: c.Log})
		f.stop = f.c.Live.Close
	}
	return f
}

// Close stops what the feature started itself. Call it before the Poster
// is closed.
func (f *Feature) Close() { f.stop() }

// liveKind names the meeting posts among the live messages.
const liveKind = "meeting"

// Register adds /meeting, its RSVP buttons, its live post and its
// reminder job.
func (f *Feature) Register(mux *bot.Mux, runner *schedule.Runner) {
	mux.Handle(bot.Command{Name: "/meeting", Description: "meeting.command.description", Hint: "meeting.command.hint"}, bot.HandlerFunc(f.command))
	mux.HandleAction("meeting.", actions{f})
	f.c.Live.Handle(liveKind, f.renderLive, runner)
	if runner != nil {
		runner.Handle(jobRemind, f.remindJob)
		runner.Handle(jobNotice, f.noticeJob)
	}
}

func (f *Feature) command(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	toks, err := bot.Words(req.Text)
	if err != nil {
		return nil, usageError(err)
	}
	if len(toks) == 0 {
		return f.help(req.Locale), nil
	}
	sub, args := subcommand(toks)
	switch sub {
	case "":
		return f.create(ctx, req, toks)
	case "help":
		return f.help(req.Locale), nil
	case "list":
		return f.list(ctx, req)
	case "feed":
		return f.channelFeed(ctx, req, args)
	case "mine":
		return f.personalFeed(ctx, req, args)
	}
	if len(args) == 0 {
		return nil, bot.Errorf("meeting.err.need_id", "Sub", bot.Escape(strings.ToLower(toks[0].Text)))
	}
	id, rest := idWord(args[0]), args[1:]
	switch sub {
	case "agenda":
		return f.agenda(ctx, req, id, rest)
	case "move":
		return f.move(ctx, req, id, rest)
	default: // "cancel"
		return f.cancel(ctx, req, id, rest)
	}
}

// usageError wraps a mistake in the command with how to write it, unless
// it gives examples itself.
func usageError(err error) error {
	ue, ok := bot.AsUserError(err)
	if !ok || strings.HasPrefix(ue.ID, "when.") || ue.ID == "meeting.err.unsure" {
		return err
	}
	return bot.Errorf("meeting.err.usage", "Problem", ue)
}

func (f *Feature) help(locale string) *bot.Message {
	return bot.TextMessage(bot.T(locale).S("meeting.help"))
}

// view renders in the language and zone of whoever reads it.
func (f *Feature) view(locale string, loc *time.Location) view {
	return view{tr: bot.T(locale), loc: loc, ws: f.c.Location, now: f.c.Clock.Now()}
}

func (f *Feature) create(ctx context.Context, req *bot.Request, toks []word) (*bot.Message, error) {
	now := f.c.Clock.Now()
	loc := req.User.Location(f.c.Location)
	sp, err := parseCreate(toks, now, loc)
	if err != nil {
		return nil, usageError(err)
	}
	m := &Meeting{
		Where: req.Where, Organiser: req.User, Title: sp.Title, Zone: loc.String(),
		Start: sp.Plan.Start, RRule: sp.Plan.RRule, Asked: asked(sp.Plan), Duration: sp.Duration,
		Place: sp.Place, Link: sp.Link, Remind: sp.Remind, Everyone: sp.Everyone, InChannel: sp.InChannel,
		Created: now, Changed: now,
	}
	_, err = bot.CreateUnderNewID(f.c.NewID, ErrExists, func(id string) error {
		m.ID = id
		return f.c.Store.Create(ctx, m)
	})
	if err != nil {
		return nil, fmt.Errorf("create meeting: %w", err)
	}
	// Nobody can see or answer a meeting that was never posted.
	unpost := func() {
		if derr := f.c.Store.Delete(ctx, m.ID); derr != nil {
			f.c.Log.Error("remove unposted meeting", "meeting", m.ID, "err", derr)
		}
		f.cancelReminders(ctx, m.ID)
	}
	// The reminders are scheduled before the meeting is posted: a posted
	// meeting that promises reminders must send them.
	if err := f.scheduleReminders(ctx, m, now); err != nil {
		unpost()
		return nil, err
	}
	wsLocale := f.channelLocale(ctx, req.Where, req.WorkspaceLocale)
	ref, err := f.c.Poster.Post(ctx, req.Where, f.view(wsLocale, f.c.Location).message(m, nil))
	if err != nil {
		unpost()
		return nil, fmt.Errorf("post meeting %s: %w", m.ID, err)
	}
	if _, err := f.c.Store.Update(ctx, m.ID, func(s *Meeting) error {
		if s.Ref.IsZero() { // a click on the post may have recorded it already
			s.Ref = ref
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("record message of meeting %s: %w", m.ID, err)
	}
	v := f.view(req.Locale, loc)
	text := v.tr.S("meeting.created", "ID", m.ID, "When", v.occurrence(m, firstOf(m, now)))
	if sp.Plan.Moved {
		text += "\n" + v.tr.S("meeting.dst_moved", "Time", sp.Plan.Start.In(loc).Format("15:04"))
	}
	return bot.TextMessage(text), nil
}

// asked is the wall time to keep for a plan whose first occurrence a
// clock change moved (Meeting.Asked).
func asked(p when.Plan) string {
	if p.Moved && p.RRule != "" {
		return p.Asked
	}
	return ""
}

// firstOf is the first occurrence of m that has not ended at now.
func firstOf(m *Meeting, now time.Time) Occurrence {
	if c := m.Coming(now, 1); len(c) > 0 {
		return c[0]
	}
	return Occurrence{Original: m.Start, Start: m.Start, End: m.Start.Add(m.Duration)}
}

// idAlphabet leaves out look-alikes (0/o, 1/l/i) so an id can be typed
// from a screen.
const idAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// get loads a meeting for a user in where: a meeting of another channel
// does not exist for them (bot.Where.Reaches).
func (f *Feature) get(ctx context.Context, where bot.Where, id string) (*Meeting, error) {
	m, err := f.c.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !m.Where.Reaches(where) {
		return nil, bot.Errorf("meeting.err.not_found", "ID", bot.Escape(id))
	}
	if err != nil {
		return nil, fmt.Errorf("get meeting %s: %w", id, err)
	}
	return m, nil
}

// mayManage reports whether u may move or cancel m: its organiser or an
// admin.
func (f *Feature) mayManage(m *Meeting, platform string, u bot.User) bool {
	return m.Organiser.ID == u.ID || f.c.Admins.Is(platform, u.ID)
}

// managed loads meeting id for u to move or cancel.
func (f *Feature) managed(ctx context.Context, where bot.Where, u bot.User, id string) (*Meeting, error) {
	m, err := f.get(ctx, where, id)
	if err != nil {
		return nil, err
	}
	if !f.mayManage(m, where.Platform, u) {
		return nil, bot.Errorf("meeting.err.not_yours", "Name", bot.Escape(m.Organiser.Label()))
	}
	if m.Ended {
		return nil, bot.Errorf("meeting.err.ended", "Title", bot.Escape(m.Title))
	}
	return m, nil
}

// changed says meeting id changed: its post follows off the request path.
func (f *Feature) changed(ctx context.Context, id string) {
	f.c.Live.Changed(ctx, liveKind, id)
}

// renderLive renders a meeting's post as the store holds it, in the
// language of its workspace, naming people as their platform does.
func (f *Feature) renderLive(ctx context.Context, id string) (bot.Ref, bot.Message, error) {
	m, err := f.c.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return bot.Ref{}, bot.Message{}, live.ErrGone
	}
	if err != nil {
		return bot.Ref{}, bot.Message{}, err
	}
	if m.Ref.IsZero() {
		return bot.Ref{}, bot.Message{}, live.ErrGone
	}
	rsvps, err := f.c.Store.RSVPs(ctx, id)
	if err != nil {
		return bot.Ref{}, bot.Message{}, err
	}
	f.displayNames(ctx, m.Where, rsvps)
	return m.Ref, f.view(f.channelLocale(ctx, m.Where, ""), f.c.Location).message(m, rsvps), nil
}

// displayNames shows people by the names their platform gives them, where
// it can tell; the names the clicks carried stand in for the rest.
func (f *Feature) displayNames(ctx context.Context, where bot.Where, rsvps []RSVP) {
	namer, ok := f.c.Poster.(bot.Namer)
	if !ok || len(rsvps) == 0 {
		return
	}
	ids := make([]string, len(rsvps))
	for i, r := range rsvps {
		ids[i] = r.User
	}
	names := namer.Names(ctx, where, ids)
	for i, r := range rsvps {
		if n := names[r.User]; n != "" {
			rsvps[i].Name = n
		}
	}
}

func (f *Feature) list(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	ms, err := f.c.Store.List(ctx, req.Where)
	if err != nil {
		return nil, fmt.Errorf("list meetings of %s: %w", req.Where.Key(), err)
	}
	now := f.c.Clock.Now()
	type item struct {
		m    *Meeting
		next Occurrence
	}
	var coming []item
	for _, m := range ms {
		if m.Ended || m.Ref.IsZero() {
			continue // cancelled, or never posted
		}
		if c := m.Coming(now, 1); len(c) > 0 {
			coming = append(coming, item{m, c[0]})
		}
	}
	slices.SortStableFunc(coming, func(a, b item) int { return a.next.Start.Compare(b.next.Start) })
	v := f.view(req.Locale, req.User.Location(f.c.Location))
	if len(coming) == 0 {
		return bot.TextMessage(v.tr.S("meeting.list.none")), nil
	}
	lines := []string{v.tr.N("meeting.list.title", len(coming))}
	for _, it := range coming {
		lines = append(lines, v.listItem(it.m, it.next))
	}
	return bot.TextMessage(strings.Join(lines, "\n")), nil
}

// actions are the meeting's buttons: the RSVPs, on the post and in the
// reminder DMs.
type actions struct{ f *Feature }

var _ bot.DeliveryRecorder = actions{}

// RecordsDelivery says that an RSVP records its delivery itself, in the
// store step that applies it (Store.Click): a click is one round trip.
func (actions) RecordsDelivery(actionID string) bool { return actionID == actionRSVP }

func (a actions) ServeAction(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	if act.ID == actionRSVP {
		return a.f.rsvp(ctx, act)
	}
	return nil, bot.Errorf("kring.unknown_action")
}

// actionRSVP is the id of the RSVP buttons. Their value is
// "meeting:answer" on the post and "meeting:answer:user" in a reminder
// DM sent to user.
const actionRSVP = "meeting.rsvp"

func rsvpValue(id string, a Answer, invited string) string {
	v := id + ":" + string(a)
	if invited != "" {
		v += ":" + invited
	}
	return v
}

// rsvp is a click on Ja, Misschien or Nee: one store step (Store.Click).
// The post follows off the request path.
func (f *Feature) rsvp(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	parts := strings.SplitN(act.Value, ":", 3)
	if len(parts) < 2 || !Answer(parts[1]).Valid() {
		return nil, bot.Errorf("kring.unknown_action")
	}
	id, answer := parts[0], Answer(parts[1])
	// A button in a reminder DM counts on the post, but only for the
	// person the reminder was sent to.
	invited := len(parts) == 3 && parts[2] == act.User.ID
	c := Click{
		Meeting: id, Channel: act.Where, Invited: invited, User: act.User.ID, Name: act.User.Label(),
		Answer: answer, At: f.c.Clock.Now(), Delivery: act.Delivery,
	}
	if !invited {
		c.Ref = act.Ref // a DM is not the meeting's post
	}
	m, err := f.c.Store.Click(ctx, c)
	switch {
	case errors.Is(err, bot.ErrRepeated):
		return nil, err
	case errors.Is(err, ErrEnded):
		return nil, bot.Errorf("meeting.err.rsvp_ended")
	case errors.Is(err, ErrNotFound):
		return nil, bot.Errorf("meeting.err.not_found", "ID", bot.Escape(id))
	case err != nil:
		return nil, fmt.Errorf("rsvp to meeting %s: %w", id, err)
	}
	f.changed(ctx, id)
	if invited {
		// The DM does not change with the click, so say it counted.
		tr := bot.T(act.Locale)
		return bot.TextMessage(tr.S("meeting.rsvp_noted", "Title", bot.Escape(m.Title), "Answer", tr.S("meeting.answer."+string(answer)))), nil
	}
	return nil, nil
}

// channelLocale is the language of what everyone in where reads (the
// post): the workspace's. known is that language when the request brought
// it; else it is looked up.
func (f *Feature) channelLocale(ctx context.Context, where bot.Where, known string) string {
	if known != "" {
		return known
	}
	if f.c.Locale != nil {
		return f.c.Locale(ctx, where)
	}
	return bot.DefaultLocale
}
