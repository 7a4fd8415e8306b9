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
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
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
	// Settle, when above zero, renders a poll's message once more this long
	// after its last change in this process. Several kring processes on one
	// store each update the message, and their updates can land out of
	// order; the settling render comes after the burst, so the state that
	// lands last is the final one. Zero (one process) leaves it out.
	Settle time.Duration
}

// Feature is /poll.
type Feature struct {
	c Config

	mu        sync.Mutex
	rendering map[string]bool        // poll ids whose message a caller is rendering
	dirty     map[string]bool        // changed again while rendering
	settling  map[string]*time.Timer // pending settling renders, by poll id
	stopped   bool
	wg        sync.WaitGroup // settling renders under way
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
	return &Feature{c: c, rendering: map[string]bool{}, dirty: map[string]bool{}, settling: map[string]*time.Timer{}}
}

// Close stops the settling renders still pending and waits for those
// under way. Call it before the Poster is closed.
func (f *Feature) Close() {
	f.mu.Lock()
	f.stopped = true
	for id, t := range f.settling {
		t.Stop()
		delete(f.settling, id)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// Job kinds.
const jobClose = "poll.close"

// Register adds /poll, its buttons and its closing job.
func (f *Feature) Register(mux *bot.Mux, runner *schedule.Runner) {
	mux.Handle(bot.Command{Name: "/poll", Description: "poll.command.description", Hint: "poll.command.hint"}, bot.HandlerFunc(f.command))
	mux.HandleAction("poll.", actions{f})
	if runner != nil {
		runner.Handle(jobClose, f.closeJob)
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
	if !ok && slices.ContainsFunc(args, func(t token) bool { return strings.Contains(t.text, "?") }) {
		// "Sluiten we om vijf uur af? Ja Nee" is a question, not a command.
		return f.create(ctx, req, toks)
	}
	if !ok {
		said := toks[:len(toks)-len(args)] // "sluiten", "mijn stem"
		words := make([]string, len(said))
		for i, t := range said {
			words[i] = t.text
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
	if toks[0].quoted {
		return "", nil
	}
	word := strings.ToLower(toks[0].text)
	if sub, ok := subcommands[word]; ok {
		return sub, toks[1:]
	}
	if (word == "mijn" || word == "my") && len(toks) >= 2 && !toks[1].quoted {
		switch strings.ToLower(toks[1].text) {
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
	p := &Poll{
		Where: req.Where, Creator: req.User, Question: sp.Question,
		Anonymous: sp.Anonymous, Hidden: sp.Hidden, AllowAdd: sp.AllowAdd,
		MaxVotes: sp.MaxVotes, Closes: sp.Closes, Created: now,
	}
	for _, o := range sp.Options {
		p.Options = append(p.Options, Option{Label: o})
	}
	for attempt := 0; ; attempt++ {
		p.ID = f.c.NewID()
		err = f.c.Store.Create(ctx, p)
		if !errors.Is(err, ErrExists) || attempt == 5 {
			break
		}
	}
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
	ref, err := f.c.Poster.Post(ctx, req.Where, f.view(f.channelLocale(ctx, req.Where, req.WorkspaceLocale)).message(p, nil))
	if err != nil {
		unpost()
		return nil, fmt.Errorf("post poll %s: %w", p.ID, err)
	}
	if err := f.c.Store.SetRef(ctx, p.ID, ref); err != nil {
		return nil, fmt.Errorf("record message of poll %s: %w", p.ID, err)
	}
	return bot.TextMessage(bot.T(req.Locale).S("poll.created", "ID", p.ID)), nil
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

// refresh brings the poll's message up to date with the store. Concurrent
// calls for one poll are folded: while one caller renders, the others only
// mark the poll dirty and return, and the rendering caller goes round once
// more. So the last render always starts after the last change, and its
// state is the one that lands, whatever order the clicks finished in.
func (f *Feature) refresh(ctx context.Context, id, locale string) error {
	err := f.renderFolded(ctx, id, locale)
	if err == nil {
		f.settle(id, locale)
	}
	return err
}

func (f *Feature) renderFolded(ctx context.Context, id, locale string) error {
	f.mu.Lock()
	if f.rendering[id] {
		f.dirty[id] = true
		f.mu.Unlock()
		return nil
	}
	f.rendering[id] = true
	f.mu.Unlock()
	for {
		err := f.render(ctx, id, locale)
		f.mu.Lock()
		if err != nil || !f.dirty[id] {
			delete(f.rendering, id)
			delete(f.dirty, id)
			f.mu.Unlock()
			return err
		}
		f.dirty[id] = false
		f.mu.Unlock()
	}
}

// settle (re)arms the poll's settling render; see Config.Settle.
func (f *Feature) settle(id, locale string) {
	if f.c.Settle <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if t, ok := f.settling[id]; ok && t.Stop() {
		t.Reset(f.c.Settle)
		return
	}
	f.settling[id] = time.AfterFunc(f.c.Settle, func() {
		f.mu.Lock()
		if f.stopped {
			f.mu.Unlock()
			return
		}
		delete(f.settling, id)
		f.wg.Add(1)
		f.mu.Unlock()
		defer f.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.renderFolded(ctx, id, locale); err != nil && !errors.Is(err, ErrNotFound) {
			f.c.Log.Error("settling render", "poll", id, "err", err)
		}
	})
}

func (f *Feature) render(ctx context.Context, id, locale string) error {
	p, ballots, err := f.c.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("reload poll %s: %w", id, err)
	}
	if p.Ref.IsZero() {
		return nil
	}
	if err := f.c.Poster.Update(ctx, p.Ref, f.view(locale).message(p, ballots)); err != nil {
		return fmt.Errorf("update poll %s: %w", id, err)
	}
	return nil
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
	case p.Closes.After(f.c.Clock.Now()):
		// Reopened before its closing time: that time holds again.
		if err := f.c.Jobs.Put(ctx, closeJob(p)); err != nil {
			return nil, fmt.Errorf("schedule closing of reopened poll %s: %w", p.ID, err)
		}
	}
	wsLocale = f.channelLocale(ctx, p.Where, wsLocale)
	if err := f.refresh(ctx, p.ID, wsLocale); err != nil {
		return nil, err
	}
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
		_, ballots, err := f.c.Store.Get(ctx, p.ID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("count poll %s: %w", p.ID, err)
		}
		open = append(open, p)
		counts[p.ID] = Count(p, ballots).Voters
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
	m := v.message(p, ballots)
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
	mac := hmac.New(sha256.New, []byte(f.c.Secret))
	fmt.Fprintf(mac, "%s\x00%s\x00%s", p.ID, p.Where.Platform, userID)
	return "anon:" + hex.EncodeToString(mac.Sum(nil))[:24]
}

// actions are the poll's buttons and forms. They can tell, before a
// confirmation is asked, whether closing, reopening or deleting would be
// refused (bot.ActionChecker).
type actions struct{ f *Feature }

var _ bot.ActionChecker = actions{}

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

func (f *Feature) vote(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	id, idx, ok := strings.Cut(act.Value, ":")
	option, err := strconv.Atoi(idx)
	if !ok || err != nil {
		return nil, bot.Errorf("kring.unknown_action")
	}
	p, _, err := f.get(ctx, act.Where, id, false)
	if err != nil {
		return nil, err
	}
	if p.Ref.IsZero() && !act.Ref.IsZero() {
		// Posted, but its message id was never recorded (the store failed
		// right after posting): the click tells where it is.
		if err := f.c.Store.SetRef(ctx, p.ID, act.Ref); err != nil {
			return nil, fmt.Errorf("record message of poll %s: %w", p.ID, err)
		}
	}
	name := act.User.Label()
	if p.Anonymous {
		name = ""
	}
	b, err := f.c.Store.Vote(ctx, p.ID, f.voterKey(p, act.User.ID), name, option)
	switch {
	case errors.Is(err, ErrClosed):
		return nil, bot.Errorf("poll.err.closed")
	case errors.Is(err, ErrNoSuchOption):
		return nil, bot.Errorf("kring.unknown_action")
	case errors.Is(err, ErrVoteLimit):
		return nil, bot.Errorf("poll.err.vote_limit", "Max", p.MaxVotes)
	case errors.Is(err, ErrNotFound):
		return nil, bot.Errorf("poll.err.not_found", "ID", p.ID)
	case err != nil:
		return nil, fmt.Errorf("vote on poll %s: %w", p.ID, err)
	}
	if err := f.refresh(ctx, p.ID, f.channelLocale(ctx, p.Where, act.WorkspaceLocale)); err != nil {
		return nil, err
	}
	if p.Anonymous || p.Hidden {
		// The message does not show this voter's choice, so tell them.
		return f.view(act.Locale).ownVote(p, b), nil
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
	if err := f.refresh(ctx, p.ID, f.channelLocale(ctx, p.Where, act.WorkspaceLocale)); err != nil {
		return nil, err
	}
	return bot.TextMessage(bot.T(act.Locale).S("poll.option_added", "Option", bot.Escape(label))), nil
}

// closeJob closes a poll at its closing time and says so in its channel.
func (f *Feature) closeJob(ctx context.Context, j schedule.Job) error {
	id := string(j.Payload)
	p, _, err := f.c.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted before it closed
	}
	if err != nil {
		return fmt.Errorf("closing job: get poll %s: %w", id, err)
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
	if err := f.refresh(ctx, id, locale); err != nil {
		return err
	}
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
// once for key.
func (f *Feature) announceClosed(ctx context.Context, p *Poll, locale, key string) error {
	if f.c.Jobs != nil {
		first, err := f.c.Jobs.Once(ctx, key, 7*24*time.Hour)
		if err != nil || !first {
			return err
		}
	}
	// Count after closing, so a vote that landed just before it is in.
	_, ballots, err := f.c.Store.Get(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("count closed poll %s: %w", p.ID, err)
	}
	t := Count(p, ballots)
	tr := bot.T(locale)
	text := tr.S("poll.closed_notice", "Question", bot.Escape(p.Question), "Voters", votersText(tr, t.Voters, true))
	if _, err := f.c.Poster.Post(ctx, p.Where, *bot.TextMessage(text)); err != nil {
		return fmt.Errorf("announce closed poll %s: %w", p.ID, err)
	}
	return nil
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
