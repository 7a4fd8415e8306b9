// Package shell is a terminal chat with kring: lines are commands as a
// user types them in Slack or Mattermost, plus a few of the shell's own
// (:user, :channel, :click, :submit, :advance, :help). It reads a script
// from a pipe as well as from a person, so tests and the README use it.
package shell

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/bot/when"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Clock is the shell's clock: a base clock moved on by :advance.
type Clock struct {
	Base bot.Clock
	mu   sync.Mutex
	off  time.Duration
}

// Now returns the base time plus every advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Base.Now().Add(c.off)
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// Shell is a terminal chat session. It is also the bot.Poster of the
// "shell" platform: what features post is printed.
type Shell struct {
	Mux    *bot.Mux
	Runner *schedule.Runner // runs due jobs on :advance; nil: none
	Clock  *Clock
	Out    io.Writer
	Echo   bool // print each input line, for transcripts of scripts
	Prompt bool // print a prompt before each line, for people

	mu      sync.Mutex
	user    string
	channel string
	msgs    int
	buttons []bot.Button // of the last message printed with buttons
	ref     bot.Ref      // that message
	form    *openForm
	trigger int
	posted  map[string]*posted  // by message id: what kring may still change
	spoke   map[string][]string // by conversation key: who typed there
	zones   map[string]string   // by user: the time zone :user gave them
}

type openForm struct {
	bot.Form
	where bot.Where
	user  string
}

var _ bot.Poster = (*Shell)(nil)

// New returns a shell talking to mux as user "anna" in channel "algemeen".
func New(mux *bot.Mux, runner *schedule.Runner, clock *Clock, out io.Writer) *Shell {
	return &Shell{Mux: mux, Runner: runner, Clock: clock, Out: out, user: "anna", channel: "algemeen"}
}

func (s *Shell) where() bot.Where {
	return bot.Where{Platform: bot.Shell, Team: "kring", Channel: s.channel}
}

func (s *Shell) tr(ctx context.Context) bot.Tr { return bot.T(s.Mux.Locale(ctx, s.where())) }

// Run reads lines from in until it ends or ctx does.
func (s *Shell) Run(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	if s.Prompt {
		fmt.Fprintln(s.Out, s.tr(ctx).S("shell.welcome"))
	}
	for {
		if s.Prompt {
			fmt.Fprintf(s.Out, "%s@#%s> ", s.user, s.channel)
		}
		if !sc.Scan() {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s.Echo {
			fmt.Fprintf(s.Out, "%s> %s\n", s.user, line)
		}
		if line == ":quit" || line == ":q" {
			return nil
		}
		s.Line(ctx, line)
		// Time passes for people at the keyboard too: run what fell due.
		s.runDue(ctx)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	return nil
}

// Line handles one input line.
func (s *Shell) Line(ctx context.Context, line string) {
	tr := s.tr(ctx)
	if !strings.HasPrefix(line, ":") {
		if !strings.HasPrefix(line, "/") {
			s.say(tr.S("shell.not_a_command"))
			return
		}
		name, text, _ := strings.Cut(line, " ")
		req := &bot.Request{
			Where: s.where(), User: s.person(), Command: name, Text: strings.TrimSpace(text),
			TriggerID: s.nextTrigger(),
		}
		s.noteSpoke(req.Where, s.user)
		s.showReply(ctx, s.Mux.ServeCommand(ctx, req))
		return
	}
	cmd, arg, _ := strings.Cut(line[1:], " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "user", "gebruiker":
		name, zone, _ := strings.Cut(arg, " ")
		if name == "" {
			s.say(tr.S("shell.need_name"))
			return
		}
		if zone = strings.TrimSpace(zone); zone != "" && !s.setZone(name, zone) {
			s.say(tr.S("shell.bad_zone", "Zone", zone))
			return
		}
		s.user = name
	case "channel", "kanaal":
		arg = strings.TrimPrefix(arg, "#")
		if arg == "" {
			s.say(tr.S("shell.need_name"))
			return
		}
		s.channel = arg
	case "click", "klik":
		s.click(ctx, arg)
	case "submit", "verstuur":
		s.submit(ctx, arg)
	case "advance", "verder":
		s.advance(ctx, arg)
	case "help", "hulp":
		s.say(tr.S("shell.help"))
	default:
		s.say(tr.S("shell.unknown", "Command", ":"+cmd))
	}
}

func (s *Shell) person() bot.User { return s.known(s.user) }

func (s *Shell) nextTrigger() string {
	s.trigger++
	return "trigger-" + strconv.Itoa(s.trigger)
}

func (s *Shell) click(ctx context.Context, arg string) {
	tr := s.tr(ctx)
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(s.buttons) {
		if len(s.buttons) == 0 {
			s.say(tr.S("shell.no_buttons"))
			return
		}
		s.say(tr.S("shell.bad_click", "Max", len(s.buttons)))
		return
	}
	b := s.buttons[n-1]
	act := &bot.Action{
		Where: s.ref.Where, User: s.person(), ID: b.ID, Value: b.Value, Ref: s.ref,
		TriggerID: s.nextTrigger(),
	}
	s.noteSpoke(act.Where, s.user)
	s.showReply(ctx, s.Mux.ServeAction(ctx, act))
}

func (s *Shell) submit(ctx context.Context, arg string) {
	tr := s.tr(ctx)
	if s.form == nil {
		s.say(tr.S("shell.no_form"))
		return
	}
	words, err := splitWords(arg)
	if err != nil {
		s.say(tr.S("shell.bad_submit"))
		return
	}
	values := bot.Values{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			s.say(tr.S("shell.bad_submit"))
			return
		}
		values[k] = append(values[k], v)
	}
	f := s.form
	// A form belongs to whoever opened it, as on Slack and Mattermost.
	act := &bot.Action{Where: f.where, User: bot.User{ID: f.user, Name: f.user}, ID: f.ID, Value: f.State, Form: values}
	s.noteSpoke(f.where, f.user)
	reply := s.Mux.ServeAction(ctx, act)
	if len(reply.FieldErrors) == 0 {
		s.form = nil
	}
	s.showReply(ctx, reply)
}

func (s *Shell) advance(ctx context.Context, arg string) {
	tr := s.tr(ctx)
	d, err := parseSpan(arg)
	if err != nil || d <= 0 {
		s.say(tr.S("shell.bad_advance"))
		return
	}
	s.Clock.Advance(d)
	s.say(tr.S("shell.advanced", "Time", s.Clock.Now().Format("2006-01-02 15:04 MST")))
	s.runDue(ctx)
}

func (s *Shell) runDue(ctx context.Context) {
	if s.Runner == nil {
		return
	}
	if _, err := s.Runner.RunDue(ctx); err != nil {
		s.say(s.tr(ctx).S("shell.jobs_failed", "Error", err.Error()))
	}
}

// parseSpan reads how far :advance moves the clock, as every feature
// reads a span (bot/when): "2u", "2h", "30m", "3d", "1w", "een half uur".
// :advance takes only spans, so a bare "2u" is two hours here.
func parseSpan(s string) (time.Duration, error) { return when.Span(s) }

// splitWords splits on spaces, keeping quoted phrases together, as every
// command's text is split (bot.Words).
func splitWords(s string) ([]string, error) {
	words, err := bot.Words(s)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.Text
	}
	return out, nil
}

func (s *Shell) showReply(ctx context.Context, r bot.Reply) {
	tr := s.tr(ctx)
	if len(r.FieldErrors) > 0 {
		var b strings.Builder
		b.WriteString(tr.S("shell.form_errors"))
		for _, in := range s.form.Inputs {
			if e, ok := r.FieldErrors[in.Name]; ok {
				fmt.Fprintf(&b, "\n  %s: %s", in.Name, bot.PlainText(e))
			}
		}
		s.say(b.String())
		return
	}
	if r.Message != nil {
		s.print(tr.S("shell.only_you", "User", s.user), *r.Message, bot.Ref{})
	}
}

// say prints a line of the shell's own.
func (s *Shell) say(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.Out, "  "+strings.ReplaceAll(bot.PlainText(text), "\n", "\n  "))
}

// print writes a message under a heading; a message with buttons becomes
// the one :click refers to when it is a posted message (ref set).
func (s *Shell) print(heading string, m bot.Message, ref bot.Ref) { s.printAt("", heading, m, ref) }

// printAt is print with every line indented, as a reply under its root.
func (s *Shell) printAt(indent, heading string, m bot.Message, ref bot.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString(indent + heading + "\n")
	write := func(text string) {
		for _, l := range strings.Split(bot.PlainText(text), "\n") {
			b.WriteString(indent + "│ " + l + "\n")
		}
	}
	n := 0
	var buttons []bot.Button
	for _, blk := range m.Blocks {
		switch blk := blk.(type) {
		case bot.Header:
			write(blk.Text)
		case bot.Section:
			write(blk.Text)
			for _, f := range blk.Fields {
				write(f.Label + ": " + f.Value)
			}
		case bot.Context:
			write(blk.Text)
		case bot.Divider:
			b.WriteString(indent + "│ ───\n")
		case bot.Buttons:
			var row []string
			for _, btn := range blk.Buttons {
				n++
				label := btn.Label
				if btn.Style == bot.Danger {
					label += " (!)"
				}
				row = append(row, fmt.Sprintf("[%d] %s", n, label))
				buttons = append(buttons, btn)
			}
			b.WriteString(indent + "│ " + strings.Join(row, "  ") + "\n")
		}
	}
	if len(m.Blocks) == 0 {
		write(m.Text)
	}
	fmt.Fprint(s.Out, b.String())
	if len(buttons) > 0 && !ref.IsZero() {
		s.buttons, s.ref = buttons, ref
	}
}

// newRef names a new message of kring's in where, in the thread of root
// ("" for none), and remembers it so that it can be changed later.
func (s *Shell) newRef(where bot.Where, root string) bot.Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs++
	ref := bot.Ref{Where: where, ID: "m" + strconv.Itoa(s.msgs)}
	if s.posted == nil {
		s.posted = map[string]*posted{}
	}
	s.posted[ref.ID] = &posted{where: where, root: root}
	return ref
}

// Post implements bot.Poster.
func (s *Shell) Post(ctx context.Context, where bot.Where, m bot.Message) (bot.Ref, error) {
	ref := s.newRef(where, "")
	s.print(s.tr(ctx).S("shell.posted", "Channel", where.Channel, "ID", ref.ID), m, ref)
	return ref, nil
}

// Update implements bot.Poster: the message is printed again, a reply
// indented under its root. A message this session did not post, or
// deleted, cannot be updated.
func (s *Shell) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	p, err := s.find(ref)
	if err != nil {
		return err
	}
	tr := s.tr(ctx)
	if p.root != "" {
		s.printAt(replyIndent, tr.S("shell.reply_updated", "Channel", ref.Channel, "ID", ref.ID, "Root", p.root), m, ref)
		return nil
	}
	s.print(tr.S("shell.updated", "Channel", ref.Channel, "ID", ref.ID), m, ref)
	return nil
}

// Ephemeral implements bot.Poster.
func (s *Shell) Ephemeral(ctx context.Context, where bot.Where, user string, m bot.Message) error {
	s.print(s.tr(ctx).S("shell.only_you", "User", user), m, bot.Ref{})
	return nil
}

// DM implements bot.Poster.
func (s *Shell) DM(ctx context.Context, where bot.Where, user string, m bot.Message) (bot.Ref, error) {
	ref := s.newRef(bot.Where{Platform: where.Platform, Team: where.Team, Channel: "@" + user}, "")
	s.print(s.tr(ctx).S("shell.dm", "User", user, "ID", ref.ID), m, ref)
	return ref, nil
}

// OpenForm implements bot.Poster: it shows the form, which :submit fills.
func (s *Shell) OpenForm(ctx context.Context, where bot.Where, _ string, f bot.Form) error {
	tr := s.tr(ctx)
	s.mu.Lock()
	s.form = &openForm{Form: f, where: where, user: s.user}
	var b strings.Builder
	b.WriteString(tr.S("shell.form", "Title", f.Title, "User", s.user) + "\n")
	for _, in := range f.Inputs {
		fmt.Fprintf(&b, "│ %s — %s (%s)", in.Name, in.Label, tr.S("shell.kind."+string(in.Kind)))
		if in.Optional {
			b.WriteString(" " + tr.S("shell.optional"))
		}
		for _, o := range in.Options {
			fmt.Fprintf(&b, "\n│     %s = %s", o.Value, o.Label)
		}
		if in.Hint != "" {
			b.WriteString("\n│     " + bot.PlainText(in.Hint))
		}
		b.WriteString("\n")
	}
	b.WriteString("│ " + tr.S("shell.form_submit", "Example", exampleSubmit(f)) + "\n")
	fmt.Fprint(s.Out, b.String())
	s.mu.Unlock()
	return nil
}

func exampleSubmit(f bot.Form) string {
	var parts []string
	for _, in := range f.Inputs {
		parts = append(parts, in.Name+"=\"…\"")
	}
	return ":submit " + strings.Join(parts, " ")
}

// Upload implements bot.Poster: the file is printed.
func (s *Shell) Upload(ctx context.Context, where bot.Where, f bot.File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.Out, s.tr(ctx).S("shell.file", "Channel", where.Channel, "Name", f.Name))
	for _, l := range strings.Split(strings.TrimRight(f.Text(), "\n"), "\n") {
		fmt.Fprintln(s.Out, "│ "+l)
	}
	return nil
}
