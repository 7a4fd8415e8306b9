package poll

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/schedule"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Config is what the poll feature needs.
type Config struct {
	Store    Store
	Jobs     schedule.Store // closing times
	Poster   bot.Poster
	Clock    bot.Clock
	Admins   bot.Admins
	Secret   string         // keys the hashes that stand for voters in anonymous polls
	Location *time.Location // for closing times typed without a zone
	Log      *slog.Logger
	// NewID makes poll ids; nil means six random characters. Tests use a
	// counter so their transcripts are stable.
	NewID func() string
	// Locale tells a workspace's language, for work done without a request
	// (a poll closing on time); nil means Dutch. bot.Mux.Locale fits.
	Locale func(ctx context.Context, where bot.Where) string
	// Live keeps the poll messages up to date off the request path; nil
	// renders each change at once, in the request (tests, the shell).
	Live *live.Messages
}

// Feature is /poll.
type Feature struct {
	c    Config
	stop func()
	macs sync.Pool // of hmac hashers keyed with c.Secret, for anonKey
}

// New returns the poll feature.
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
	f := &Feature{c: c, stop: func() {}}
	f.macs.New = func() any { return hmac.New(sha256.New, []byte(f.c.Secret)) }
	if f.c.Live == nil {
		f.c.Live = live.New(live.Config{Poster: c.Poster, Inline: true, Log: c.Log})
		f.stop = f.c.Live.Close
	}
	return f
}

// Close stops what the feature started itself. Call it before the Poster
// is closed.
func (f *Feature) Close() { f.stop() }

// Job kinds.
const (
	jobClose  = "poll.close"
	jobNotice = "poll.notice" // a closing notice whose first post failed
)

// noticeRetry is how long a closing notice waits before another try.
const noticeRetry = time.Minute

// Register adds /poll, its buttons and its closing job.
func (f *Feature) Register(mux *bot.Mux, runner *schedule.Runner) {
	mux.Handle(bot.Command{Name: "/poll", Description: "poll.command.description", Hint: "poll.command.hint"}, bot.HandlerFunc(f.command))
	mux.HandleAction("poll.", actions{f})
	f.c.Live.Handle(liveKind, f.renderLive, runner)
	if runner != nil {
		runner.Handle(jobClose, f.closeJob)
		runner.Handle(jobNotice, f.noticeJob)
		runner.Handle(jobNudge, f.nudgeJob)
	}
}

func (f *Feature) view(locale string) view {
	return view{tr: bot.T(locale), loc: f.c.Location, now: f.c.Clock.Now()}
}

func (f *Feature) command(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	toks, err := tokenize(req.Text)
	if err != nil {
		return nil, usageError(err)
	}
	if len(toks) == 0 {
		return f.help(req.Locale), nil
	}
	sub, args := subcommand(toks)
	if sub == "" {
		return f.create(ctx, req, toks)
	}
	if sub == "help" {
		return f.help(req.Locale), nil
	}
	if sub == "list" {
		return f.list(ctx, req)
	}
	id, ok := idArg(args)
	if !ok && slices.ContainsFunc(args, func(t token) bool { return strings.Contains(t.Text, "?") }) {
		// "Sluiten we om vijf uur af? Ja Nee" is a question, not a command.
		return f.create(ctx, req, toks)
	}
	if !ok {
		said := toks[:len(toks)-len(args)] // "sluiten", "mijn stem"
		words := make([]string, len(said))
		for i, t := range said {
			words[i] = t.Text
		}
		return nil, bot.Errorf("poll.err.need_id", "Sub", bot.Escape(strings.Join(words, " ")))
	}
	switch sub {
	case "export":
		return f.export(ctx, req, id)
	case "result":
		return f.result(ctx, req, id)
	case "mine":
		return f.mine(ctx, req.Where, req.User, req.Locale, id)
	case "close":
		return f.setClosed(ctx, req.Where, req.User, req.Locale, req.WorkspaceLocale, id, true)
	case "reopen":
		return f.setClosed(ctx, req.Where, req.User, req.Locale, req.WorkspaceLocale, id, false)
	default: // "delete"
		return f.delete(ctx, req.Where, req.User, req.Locale, req.WorkspaceLocale, id)
	}
}

// subcommands are the words /poll takes before a poll's id, Dutch and
// English, and the words on the poll's buttons (Sluiten, Heropenen,
// Verwijderen), which people type as they read them.
var subcommands = map[string]string{
	"help": "help", "hulp": "help", "?": "help",
	"lijst": "list", "list": "list", "overzicht": "list",
	"export": "export", "exporteer": "export", "exporteren": "export", "csv": "export",
	"uitslag": "result", "resultaat": "result", "result": "result", "results": "result",
	"sluit": "close", "sluiten": "close", "close": "close",
	"heropen": "reopen", "heropenen": "reopen", "reopen": "reopen",
	"verwijder": "delete", "verwijderen": "delete", "delete": "delete",
	"mijnstem": "mine", "mine": "mine",
}

// subcommand reads which subcommand toks start with, and the words after
// it; "" when they are a new poll. "mijn stem ID" and "my vote ID" are the
// own-vote button's words.
func subcommand(toks []token) (string, []token) {
	if toks[0].Quoted {
		return "", nil
	}
	word := strings.ToLower(toks[0].Text)
	if sub, ok := subcommands[word]; ok {
		return sub, toks[1:]
	}
	if (word == "mijn" || word == "my") && len(toks) >= 2 && !toks[1].Quoted {
		switch strings.ToLower(toks[1].Text) {
		case "stem", "stemmen", "vote", "votes":
			return "mine", toks[2:]
		}
	}
	return "", nil
}

// usageError wraps a mistake in the command with how to write it, unless
// the answer says so itself.
func usageError(err error) error {
	if ue, ok := bot.AsUserError(err); ok && ue.ID != "poll.err.unsure" {
		return bot.Errorf("poll.err.usage", "Problem", ue)
	}
	return err
}

func (f *Feature) help(locale string) *bot.Message {
	return bot.TextMessage(bot.T(locale).S("poll.help"))
}

func (f *Feature) create(ctx context.Context, req *bot.Request, toks []token) (*bot.Message, error) {
	now := f.c.Clock.Now()
	sp, err := parseCreate(toks, now, req.User.Location(f.c.Location))
	if err != nil {
		return nil, usageError(err)
	}
	if err := checkRemind(sp.Remind, sp.Closes, now); err != nil {
		return nil, usageError(err)
	}
	p := &Poll{
		Where: req.Where, Creator: req.User, Question: sp.Question,
		Anonymous: sp.Anonymous, Hidden: sp.Hidden, AllowAdd: sp.AllowAdd,
		MaxVotes: sp.MaxVotes, Closes: sp.Closes, Created: now, Remind: sp.Remind,
		Kind: sp.Kind, Method: sp.Method, Points: sp.Points,
	}
	// Where the platform cannot say who is in the channel there is nobody
	// to nudge: the poll is made without its nudges, and the reply says so.
	noNudges := len(p.Remind) > 0 && !bot.ListsMembers(f.c.Poster, req.Where)
	if noNudges {
		p.Remind = nil
	}
	for _, o := range sp.Options {
		p.Options = append(p.Options, Option{Label: o})
	}
	_, err = bot.CreateUnderNewID(f.c.NewID, ErrExists, func(id string) error {
		p.ID = id
		return f.c.Store.Create(ctx, p)
	})
	if err != nil {
		return nil, fmt.Errorf("create poll: %w", err)
	}
	// Nobody can see or vote on a poll that was never posted.
	unpost := func() {
		if derr := f.c.Store.Delete(ctx, p.ID); derr != nil {
			f.c.Log.Error("remove unposted poll", "poll", p.ID, "err", derr)
		}
	}
	// The closing is scheduled before the poll is posted: a posted poll
	// that says when it closes must close then. A job whose poll is gone
	// does nothing.
	if !p.Closes.IsZero() && f.c.Jobs != nil {
		if err := f.c.Jobs.Put(ctx, closeJob(p)); err != nil {
			unpost()
			return nil, fmt.Errorf("schedule closing of poll %s: %w", p.ID, err)
		}
	}
	if err := f.scheduleNudges(ctx, p); err != nil {
		if cerr := f.c.Jobs.Cancel(ctx, jobClose+":"+p.ID); cerr != nil {
			f.c.Log.Error("take back the closing job of an unposted poll", "poll", p.ID, "err", cerr)
		}
		unpost()
		return nil, err
	}
	ref, err := f.c.Poster.Post(ctx, req.Where, f.view(f.channelLocale(ctx, req.Where, req.WorkspaceLocale)).message(p, NewTally(len(p.Options))))
	if err != nil {
		unpost()
		return nil, fmt.Errorf("post poll %s: %w", p.ID, err)
	}
	if err := f.c.Store.SetRef(ctx, p.ID, ref); err != nil {
		return nil, fmt.Errorf("record message of poll %s: %w", p.ID, err)
	}
	tr := bot.T(req.Locale)
	reply := tr.S("poll.created", "ID", p.ID)
	if sp.ClosesMoved {
		reply += "\n" + tr.S("poll.close_moved", "Time", p.Closes.In(req.User.Location(f.c.Location)).Format("15:04"))
	}
	switch {
	case noNudges:
		reply += "\n" + tr.S("poll.nudge.unsupported")
	case len(p.Remind) > 0:
		reply += "\n" + tr.S("poll.nudge.planned", "Before", remindTexts(tr, p.Remind))
	}
	return bot.TextMessage(reply), nil
}

func closeJob(p *Poll) schedule.Job {
	return schedule.Job{ID: jobClose + ":" + p.ID, Kind: jobClose, Due: p.Closes, Payload: []byte(p.ID)}
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

// get loads a poll for a user in where: a poll of another channel does not
// exist for them (bot.Where.Reaches). Ballots are read only when asked for.
func (f *Feature) get(ctx context.Context, where bot.Where, id string, withBallots bool) (*Poll, []Ballot, error) {
	var (
		p       *Poll
		ballots []Ballot
		err     error
	)
	if withBallots {
		p, ballots, err = f.c.Store.Get(ctx, id)
	} else {
		p, err = f.c.Store.Poll(ctx, id)
	}
	if errors.Is(err, ErrNotFound) || err == nil && !p.Where.Reaches(where) {
		return nil, nil, bot.Errorf("poll.err.not_found", "ID", bot.Escape(id))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get poll %s: %w", id, err)
	}
	return p, ballots, nil
}

func (f *Feature) mayManage(p *Poll, platform string, u bot.User) bool {
	return p.Creator.ID == u.ID || f.c.Admins.Is(platform, u.ID)
}

// liveKind names the poll's live messages.
const liveKind = "poll"

// changed says poll id changed: its message follows off the request path.
func (f *Feature) changed(ctx context.Context, id string) {
	f.c.Live.Changed(ctx, liveKind, id)
}

// renderLive renders a poll's message from its tally, in the language of
// its workspace, naming voters as their platform does.
func (f *Feature) renderLive(ctx context.Context, id string) (bot.Ref, bot.Message, error) {
	p, t, err := f.c.Store.Tally(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return bot.Ref{}, bot.Message{}, live.ErrGone
	}
	if err != nil {
		return bot.Ref{}, bot.Message{}, err // the store names the poll
	}
	if p.Ref.IsZero() {
		return bot.Ref{}, bot.Message{}, live.ErrGone
	}
	if p.Method == MethodIRV {
		// A runoff is counted from every ballot; it is no sum a tally keeps.
		var ballots []Ballot
		if p, ballots, err = f.c.Store.Get(ctx, id); errors.Is(err, ErrNotFound) {
			return bot.Ref{}, bot.Message{}, live.ErrGone
		} else if err != nil {
			return bot.Ref{}, bot.Message{}, err
		}
		t = Count(p, ballots)
	}
	f.displayNames(ctx, p, &t)
	return p.Ref, f.view(f.channelLocale(ctx, p.Where, "")).message(p, t), nil
}

// displayNames shows voters by the names their platform gives them, where
// it can tell; the names the clicks carried stand in for the rest.
func (f *Feature) displayNames(ctx context.Context, p *Poll, t *Tally) {
	namer, ok := f.c.Poster.(bot.Namer)
	if !ok || p.Anonymous {
		return
	}
	var ids []string
	for _, o := range t.IDs {
		ids = append(ids, o...)
	}
	if len(ids) == 0 {
		return
	}
	names := namer.Names(ctx, p.Where, ids)
	for o := range t.IDs {
		for i, id := range t.IDs[o] {
			if n := names[id]; n != "" {
				t.Names[o][i] = n
			}
		}
	}
	t.Sort()
}

// managed loads poll id for u to close, reopen or delete: it must be in
// where, and u its creator or an admin.
func (f *Feature) managed(ctx context.Context, where bot.Where, u bot.User, id string) (*Poll, error) {
	p, _, err := f.get(ctx, where, id, false)
	if err != nil {
		return nil, err
	}
	if !f.mayManage(p, where.Platform, u) {
		return nil, bot.Errorf("poll.err.not_yours", "Name", bot.Escape(p.Creator.Label()))
	}
	return p, nil
}

// alreadyErr refuses to close a closed poll or reopen an open one.
func alreadyErr(p *Poll, closed bool) error {
	switch {
	case p.Closed != closed:
		return nil
	case closed:
		return bot.Errorf("poll.err.already_closed", "ID", p.ID)
	default:
		return bot.Errorf("poll.err.already_open", "ID", p.ID)
	}
}

func (f *Feature) setClosed(ctx context.Context, where bot.Where, u bot.User, locale, wsLocale, id string, closed bool) (*bot.Message, error) {
	p, err := f.managed(ctx, where, u, id)
	if err != nil {
		return nil, err
	}
	if err := alreadyErr(p, closed); err != nil {
		return nil, err
	}
	if err := f.c.Store.SetClosed(ctx, p.ID, closed, f.c.Clock.Now()); err != nil {
		return nil, fmt.Errorf("set poll %s closed=%v: %w", p.ID, closed, err)
	}
	switch {
	case f.c.Jobs == nil:
	case closed:
		if err := f.c.Jobs.Cancel(ctx, jobClose+":"+p.ID); err != nil {
			f.c.Log.Error("cancel closing job", "poll", p.ID, "err", err)
		}
		f.cancelNudges(ctx, p)
	case p.Closes.After(f.c.Clock.Now()):
		// Reopened before its closing time: that time holds again, and
		// so do the nudges still to come.
		if err := f.c.Jobs.Put(ctx, closeJob(p)); err != nil {
			return nil, fmt.Errorf("schedule closing of reopened poll %s: %w", p.ID, err)
		}
		if err := f.scheduleNudges(ctx, p); err != nil {
			return nil, err
		}
	}
	wsLocale = f.channelLocale(ctx, p.Where, wsLocale)
	f.changed(ctx, p.ID)
	if closed {
		f.announceHandClose(ctx, p, wsLocale)
	}
	key := "poll.reopened"
	if closed {
		key = "poll.closed"
	}
	return bot.TextMessage(bot.T(locale).S(key, "Question", bot.Escape(p.Question))), nil
}

func (f *Feature) delete(ctx context.Context, where bot.Where, u bot.User, locale, wsLocale, id string) (*bot.Message, error) {
	p, err := f.managed(ctx, where, u, id)
	if err != nil {
		return nil, err
	}
	if err := f.c.Store.Delete(ctx, p.ID); err != nil {
		return nil, fmt.Errorf("delete poll %s: %w", p.ID, err)
	}
	if f.c.Jobs != nil {
		if err := f.c.Jobs.Cancel(ctx, jobClose+":"+p.ID); err != nil {
			f.c.Log.Error("cancel closing job", "poll", p.ID, "err", err)
		}
	}
	f.cancelNudges(ctx, p)
	if !p.Ref.IsZero() {
		if err := f.c.Poster.Update(ctx, p.Ref, f.view(f.channelLocale(ctx, p.Where, wsLocale)).deleted(p, u)); err != nil {
			return nil, fmt.Errorf("replace message of deleted poll %s: %w", p.ID, err)
		}
	}
	return bot.TextMessage(bot.T(locale).S("poll.deleted_reply", "Question", bot.Escape(p.Question))), nil
}

func (f *Feature) list(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	polls, err := f.c.Store.List(ctx, req.Where)
	if err != nil {
		return nil, fmt.Errorf("list polls of %s: %w", req.Where.Key(), err)
	}
	var open []*Poll
	counts := map[string]int{}
	for _, p := range polls {
		if p.Closed || p.Ref.IsZero() {
			continue // closed, or never posted (kring stopped between storing and posting it)
		}
		_, t, err := f.c.Store.Tally(ctx, p.ID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("count poll %s: %w", p.ID, err)
		}
		open = append(open, p)
		counts[p.ID] = t.Voters
	}
	m := f.view(req.Locale).list(open, counts)
	return &m, nil
}

// CSV writes a poll's result: option, votes, and the voters unless the
// poll is anonymous. It is written for the spreadsheet people open it in:
// Excel set to Dutch reads ';' between fields (',' is its decimal comma)
// and takes a file for UTF-8 only when it starts with a byte order mark,
// so the Dutch export has both; the English one is plain RFC 4180.
func CSV(tr bot.Tr, p *Poll, ballots []Ballot) []byte {
	if p.Kind != "" {
		return ballotsCSV(tr, p, ballots)
	}
	t := Count(p, ballots)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	names := "; "
	if sep := tr.S("poll.csv.separator"); sep == ";" {
		buf.WriteString("\uFEFF")
		w.Comma, names = ';', ", "
	}
	head := []string{tr.S("poll.csv.option"), tr.S("poll.csv.votes")}
	if !p.Anonymous {
		head = append(head, tr.S("poll.csv.voters"))
	}
	_ = w.Write(head) // writes to a bytes.Buffer do not fail
	for i, o := range p.Options {
		row := []string{csvSafe(o.Label), strconv.Itoa(t.Counts[i])}
		if !p.Anonymous {
			voters := make([]string, len(t.Names[i]))
			for j, n := range t.Names[i] {
				voters[j] = csvSafe(n)
			}
			row = append(row, strings.Join(voters, names))
		}
		_ = w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}

// csvSafe keeps a spreadsheet from running user text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (f *Feature) export(ctx context.Context, req *bot.Request, id string) (*bot.Message, error) {
	p, ballots, err := f.get(ctx, req.Where, id, true)
	if err != nil {
		return nil, err
	}
	if !p.ResultsVisible() {
		return nil, bot.Errorf("poll.err.export_hidden", "ID", p.ID)
	}
	tr := bot.T(req.Locale)
	file := bot.File{
		Name:    tr.S("poll.csv.filename", "ID", p.ID),
		Title:   tr.S("poll.csv.title", "Question", p.Question),
		Type:    "text/csv",
		Content: CSV(tr, p, ballots),
	}
	if err := f.c.Poster.Upload(ctx, req.Where, file); err != nil {
		return nil, fmt.Errorf("upload export of poll %s: %w", p.ID, err)
	}
	return bot.TextMessage(tr.S("poll.exported", "ID", p.ID)), nil
}

// result shows a poll's result to the one who asked: `/poll uitslag ID`.
// People who type "uitslag" want to read the result, so it comes as a
// message like the poll's own, without its buttons; the file is one
// `/poll export ID` away.
func (f *Feature) result(ctx context.Context, req *bot.Request, id string) (*bot.Message, error) {
	p, ballots, err := f.get(ctx, req.Where, id, true)
	if err != nil {
		return nil, err
	}
	if !p.ResultsVisible() {
		return nil, bot.Errorf("poll.err.result_hidden", "ID", p.ID)
	}
	v := f.view(req.Locale)
	m := v.message(p, Count(p, ballots))
	blocks := slices.DeleteFunc(m.Blocks, func(b bot.Block) bool { _, ok := b.(bot.Buttons); return ok })
	m.Blocks = append(blocks, bot.Context{Text: v.tr.S("poll.result_export", "ID", p.ID)})
	return &m, nil
}

// voterKey is how a voter is stored: their user id, or in an anonymous poll
// a keyed hash of it that only this kring can recompute.
func (f *Feature) voterKey(p *Poll, userID string) string {
	if !p.Anonymous {
		return userID
	}
	return f.anonKey(p.ID, p.Where.Platform, userID)
}

// anonKey stands for a voter in anonymous poll id. Every click computes
// it (the store decides whether the poll is anonymous), so the keyed
// hashers are kept for reuse.
func (f *Feature) anonKey(id, platform, userID string) string {
	mac := f.macs.Get().(hash.Hash)
	defer f.macs.Put(mac)
	mac.Reset()
	mac.Write([]byte(id + "\x00" + platform + "\x00" + userID))
	var sum [sha256.Size]byte
	return "anon:" + hex.EncodeToString(mac.Sum(sum[:0]))[:24]
}

// actions are the poll's buttons and forms. They can tell, before a
// confirmation is asked, whether closing, reopening or deleting would be
// refused (bot.ActionChecker).
type actions struct{ f *Feature }

var (
	_ bot.ActionChecker    = actions{}
	_ bot.DeliveryRecorder = actions{}
)

// RecordsDelivery says that a vote records its delivery itself, in the
// store step that applies it (Store.Click): a click is one round trip.
func (actions) RecordsDelivery(actionID string) bool { return actionID == "poll.vote" }

func (a actions) ServeAction(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	return a.f.action(ctx, act)
}

func (a actions) CheckAction(ctx context.Context, act *bot.Action) error {
	switch act.ID {
	case "poll.close", "poll.reopen":
		p, err := a.f.managed(ctx, act.Where, act.User, act.Value)
		if err != nil {
			return err
		}
		return alreadyErr(p, act.ID == "poll.close")
	case "poll.delete":
		_, err := a.f.managed(ctx, act.Where, act.User, act.Value)
		return err
	}
	return nil
}

func (f *Feature) action(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	switch act.ID {
	case "poll.vote":
		return f.vote(ctx, act)
	case "poll.mine":
		return f.mine(ctx, act.Where, act.User, act.Locale, act.Value)
	case "poll.add":
		return f.openAddForm(ctx, act)
	case "poll.add.submit":
		return f.addOption(ctx, act)
	case "poll.rank", "poll.points":
		return f.openBallotForm(ctx, act)
	case "poll.rank.submit":
		return f.submitRanking(ctx, act)
	case "poll.points.submit":
		return f.submitPoints(ctx, act)
	case "poll.close":
		return f.setClosed(ctx, act.Where, act.User, act.Locale, act.WorkspaceLocale, act.Value, true)
	case "poll.reopen":
		return f.setClosed(ctx, act.Where, act.User, act.Locale, act.WorkspaceLocale, act.Value, false)
	case "poll.delete":
		return f.delete(ctx, act.Where, act.User, act.Locale, act.WorkspaceLocale, act.Value)
	}
	return nil, bot.Errorf("kring.unknown_action")
}

// mine tells u their own vote in a poll.
func (f *Feature) mine(ctx context.Context, where bot.Where, u bot.User, locale, id string) (*bot.Message, error) {
	p, ballots, err := f.get(ctx, where, id, true)
	if err != nil {
		return nil, err
	}
	key := f.voterKey(p, u.ID)
	for _, b := range ballots {
		if b.Voter == key {
			return f.view(locale).ownVote(p, b), nil
		}
	}
	return f.view(locale).ownVote(p, Ballot{}), nil
}

// vote is a click on an option: one store step (Store.Click) and the
// answer. The message follows off the request path.
func (f *Feature) vote(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	id, idx, ok := strings.Cut(act.Value, ":")
	option, err := strconv.Atoi(idx)
	if !ok || err != nil {
		return nil, bot.Errorf("kring.unknown_action")
	}
	c, err := f.c.Store.Click(ctx, Click{
		Poll: id, Channel: act.Where, Voter: act.User.ID, AnonKey: f.anonKey(id, act.Platform, act.User.ID),
		Name: act.User.Label(), Option: option, Delivery: act.Delivery, Ref: act.Ref,
	})
	switch {
	case errors.Is(err, bot.ErrRepeated):
		return nil, err
	case errors.Is(err, ErrClosed):
		return nil, bot.Errorf("poll.err.closed")
	case errors.Is(err, ErrNoSuchOption), errors.Is(err, ErrWrongKind):
		return nil, bot.Errorf("kring.unknown_action")
	case errors.Is(err, ErrVoteLimit):
		return nil, bot.Errorf("poll.err.vote_limit", "Max", c.MaxVotes)
	case errors.Is(err, ErrNotFound):
		return nil, bot.Errorf("poll.err.not_found", "ID", bot.Escape(id))
	case err != nil:
		return nil, err
	}
	f.changed(ctx, id)
	if c.Poll != nil {
		// The message does not show this voter's choice, so tell them.
		return f.view(act.Locale).ownVote(c.Poll, c.Ballot), nil
	}
	return nil, nil
}

func (f *Feature) openAddForm(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	p, _, err := f.get(ctx, act.Where, act.Value, false)
	if err != nil {
		return nil, err
	}
	if !p.AllowAdd {
		return nil, bot.Errorf("poll.err.add_not_allowed")
	}
	if p.Closed {
		return nil, bot.Errorf("poll.err.closed")
	}
	tr := bot.T(act.Locale)
	form := bot.Form{
		ID: "poll.add.submit", Title: tr.S("poll.form.add_title"), Submit: tr.S("poll.form.add_submit"), State: p.ID,
		Inputs: []bot.Input{{
			Name: "option", Label: tr.S("poll.form.add_label"), Kind: bot.Text,
			Placeholder: tr.S("poll.form.add_placeholder"), Hint: tr.S("poll.form.add_hint", "Question", p.Question),
			MaxLength: MaxOptionLen,
		}},
	}
	if err := f.c.Poster.OpenForm(ctx, act.Where, act.TriggerID, form); err != nil {
		return nil, fmt.Errorf("open add-option form for poll %s: %w", p.ID, err)
	}
	return nil, nil
}

func (f *Feature) addOption(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	p, _, err := f.get(ctx, act.Where, act.Value, false)
	if err != nil {
		return nil, err
	}
	if !p.AllowAdd {
		return nil, bot.Errorf("poll.err.add_not_allowed")
	}
	label := strings.TrimSpace(act.Form.Get("option"))
	fieldErr := func(id string, kv ...any) error {
		return bot.FieldErrors{"option": bot.Errorf(id, kv...).(*bot.UserError)}
	}
	switch {
	case label == "":
		return nil, fieldErr("poll.err.empty_option")
	case len([]rune(label)) > MaxOptionLen:
		return nil, fieldErr("poll.err.option_too_long", "Max", MaxOptionLen, "Option", bot.Escape(bot.Truncate(label, 40)))
	}
	_, err = f.c.Store.AddOption(ctx, p.ID, Option{Label: label, AddedBy: act.User.ID})
	switch {
	case errors.Is(err, ErrDuplicate):
		return nil, fieldErr("poll.err.duplicate_option", "Option", bot.Escape(label))
	case errors.Is(err, ErrTooManyOption):
		return nil, fieldErr("poll.err.too_many_options", "Max", MaxOptions, "Got", MaxOptions+1)
	case errors.Is(err, ErrClosed):
		return nil, fieldErr("poll.err.closed")
	case errors.Is(err, ErrNotFound):
		return nil, bot.Errorf("poll.err.not_found", "ID", p.ID)
	case err != nil:
		return nil, fmt.Errorf("add option to poll %s: %w", p.ID, err)
	}
	f.changed(ctx, p.ID)
	return bot.TextMessage(bot.T(act.Locale).S("poll.option_added", "Option", bot.Escape(label))), nil
}

// closeJob closes a poll at its closing time and says so in its channel.
func (f *Feature) closeJob(ctx context.Context, j schedule.Job) error {
	id := string(j.Payload)
	p, err := f.c.Store.Poll(ctx, id) // its ballots are not needed: the notice counts from the tally
	if errors.Is(err, ErrNotFound) {
		return nil // deleted before it closed
	}
	if err != nil {
		return fmt.Errorf("closing job: %w", err) // the store names the poll
	}
	if !p.Closes.Equal(j.Due) || p.Closed && p.ClosedAt.Before(j.Due) {
		return nil // its closing time moved, or closed by hand before it
	}
	// A poll closed at or after its time may have been closed by an earlier
	// run of this job that failed before the message and the notice went
	// out; this run finishes them.
	if !p.Closed {
		if err := f.c.Store.SetClosed(ctx, id, true, f.c.Clock.Now()); err != nil {
			return fmt.Errorf("closing job: close poll %s: %w", id, err)
		}
		p.Closed, p.ClosedAt = true, f.c.Clock.Now()
	}
	locale := f.channelLocale(ctx, p.Where, "")
	f.changed(ctx, id)
	return f.announceClosed(ctx, p, locale, j.Key()+":notice")
}

// announceHandClose says in the channel that a poll closed by hand (by
// command or button) is closed, as its closing time would have. The
// notice is keyed by the closing moment the store kept, so two people
// closing the poll at once get one notice between them, and a poll
// reopened and closed again gets a new one. The poll is closed either way:
// a notice that fails is logged, not answered with an error.
func (f *Feature) announceHandClose(ctx context.Context, p *Poll, locale string) {
	now, err := f.c.Store.Poll(ctx, p.ID)
	if err == nil && now.Closed {
		err = f.announceClosed(ctx, now, locale, fmt.Sprintf("%s:%s:%d:notice", jobClose, p.ID, now.ClosedAt.UnixNano()))
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		f.c.Log.Error("announce closed poll", "poll", p.ID, "err", err)
	}
}

// announceClosed posts the closing notice of p in its channel in locale,
// once for key: a run that crashed between recording key and posting
// leaves the notice out rather than post it twice. A post the platform
// refuses is tried again by a notice job of its own, under a key of its
// own, a minute later, until it goes out.
func (f *Feature) announceClosed(ctx context.Context, p *Poll, locale, key string) error {
	if f.c.Jobs != nil {
		first, err := f.c.Jobs.Once(ctx, key, 7*24*time.Hour)
		if err != nil || !first {
			return err
		}
	}
	// Count after closing, so a vote that landed just before it is in.
	_, t, err := f.c.Store.Tally(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("count closed poll: %w", err)
	}
	tr := bot.T(locale)
	text := tr.S("poll.closed_notice", "Question", bot.Escape(p.Question), "Voters", votersText(tr, t.Voters, true))
	_, err = f.c.Poster.Post(ctx, p.Where, *bot.TextMessage(text))
	if err == nil {
		return nil
	}
	if f.c.Jobs == nil {
		return fmt.Errorf("announce closed poll %s: %w", p.ID, err)
	}
	f.c.Log.Warn("closing notice not posted; trying again in a minute", "poll", p.ID, "err", err)
	retry := schedule.Job{ID: jobNotice + ":" + p.ID, Kind: jobNotice, Due: f.c.Clock.Now().Add(noticeRetry), Payload: []byte(p.ID)}
	if perr := f.c.Jobs.Put(ctx, retry); perr != nil {
		return fmt.Errorf("announce closed poll %s: %w (and scheduling another try: %v)", p.ID, err, perr)
	}
	return nil
}

// noticeJob tries a closing notice again, unless the poll was reopened
// or deleted since.
func (f *Feature) noticeJob(ctx context.Context, j schedule.Job) error {
	id := string(j.Payload)
	p, err := f.c.Store.Poll(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notice job: %w", err)
	}
	if !p.Closed {
		return nil
	}
	return f.announceClosed(ctx, p, f.channelLocale(ctx, p.Where, ""), j.Key())
}

// channelLocale is the language of what everyone in where reads (a poll's
// message, its closing notice): the workspace's, not the language of
// whoever clicked last. known is the workspace's language when the request
// brought it (bot.Request.WorkspaceLocale); else it is looked up.
func (f *Feature) channelLocale(ctx context.Context, where bot.Where, known string) string {
	if known != "" {
		return known
	}
	if f.c.Locale != nil {
		return f.c.Locale(ctx, where)
	}
	return bot.DefaultLocale
}
