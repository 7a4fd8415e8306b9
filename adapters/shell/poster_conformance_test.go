package shell_test

import (
	"bufio"
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/shell"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/postertest"
)

// TestPosterConformance runs the bot.Poster suite against the shell. What
// the shell shows is its transcript, read back as a person reads the
// terminal.
func TestPosterConformance(t *testing.T) {
	postertest.Test(t, func(t *testing.T) postertest.Fixture {
		out := &syncBuffer{}
		sh := shell.New(&bot.Mux{}, nil, &shell.Clock{Base: bottest.NewClock(time.Now())}, out)
		ctx := context.Background()
		// Whoever types in a channel is a member of it.
		for _, u := range []string{"anna America/Curacao", "bram"} {
			sh.Line(ctx, ":user "+u)
			sh.Line(ctx, "/hallo")
		}
		sh.Line(ctx, ":channel elders")
		sh.Line(ctx, ":user cato")
		sh.Line(ctx, "/hallo")
		sh.Line(ctx, ":channel algemeen")
		return postertest.Fixture{
			Poster:   sh,
			Platform: &transcript{out: out},
			Channel:  bot.Where{Platform: bot.Shell, Team: "kring", Channel: "algemeen"},
			Members:  []string{"anna", "bram"},
			Zones:    map[string]string{"anna": "America/Curacao"},
			Missing:  "m0",
			// A form opens for whoever acts, so the trigger's user acts.
			Trigger: func(user string) string {
				sh.Line(ctx, ":user "+user)
				return "trigger-" + user
			},
		}
	})
}

// syncBuffer is a bytes.Buffer the shell may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// heading matches a line the shell prints above a message, made from the
// Dutch text of key with a capture group for each field: one word for an
// id, a channel or a user, the rest of the line for a title or a name.
func heading(key string, fields ...string) *regexp.Regexp {
	kv := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		kv = append(kv, f, "\x01"+f+"\x01")
	}
	pattern := regexp.QuoteMeta(bot.T("nl").S(key, kv...))
	for _, f := range fields {
		group := `[^\s,()\[\]]+` // an id, a channel, a user
		if f == "Title" || f == "Name" {
			group = `.*`
		}
		pattern = strings.Replace(pattern, "\x01"+f+"\x01", `(?P<`+f+`>`+group+`)`, 1)
	}
	return regexp.MustCompile(`^\s*` + pattern + `$`)
}

var headings = map[string]*regexp.Regexp{
	"posted":        heading("shell.posted", "Channel", "ID"),
	"updated":       heading("shell.updated", "Channel", "ID"),
	"reply":         heading("shell.reply", "Channel", "ID", "Root"),
	"reply_updated": heading("shell.reply_updated", "Channel", "ID", "Root"),
	"deleted":       heading("shell.deleted", "Channel", "ID"),
	"only_you":      heading("shell.only_you", "User"),
	"dm":            heading("shell.dm", "User", "ID"),
	"file":          heading("shell.file", "Channel", "Name"),
	"form":          heading("shell.form", "Title", "User"),
}

// block is one thing the transcript shows: a heading and the lines under
// it.
type block struct {
	kind   string
	fields map[string]string
	lines  []string
}

// transcript reads the shell's output back.
type transcript struct{ out *syncBuffer }

func (tr *transcript) blocks() []block {
	var (
		out []block
		cur *block
	)
	sc := bufio.NewScanner(strings.NewReader(tr.out.String()))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "│ "); ok && cur != nil {
			cur.lines = append(cur.lines, rest)
			continue
		}
		cur = nil
		for kind, re := range headings {
			m := re.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			b := block{kind: kind, fields: map[string]string{}}
			for i, name := range re.SubexpNames() {
				if name != "" {
					b.fields[name] = m[i]
				}
			}
			out = append(out, b)
			cur = &out[len(out)-1]
			break
		}
	}
	return out
}

// message is a message's latest state in the transcript.
type message struct {
	id, channel, root, text string
	gone                    bool
}

// messages replays the transcript: posts, DMs and replies, their updates
// and deletions, in the order they first showed.
func (tr *transcript) messages() []*message {
	var (
		order []*message
		byID  = map[string]*message{}
	)
	for _, b := range tr.blocks() {
		id := b.fields["ID"]
		m := byID[id]
		switch b.kind {
		case "posted", "reply", "dm":
			m = &message{id: id, channel: b.fields["Channel"], root: b.fields["Root"]}
			if b.kind == "dm" {
				m.channel = "@" + b.fields["User"]
			}
			byID[id] = m
			order = append(order, m)
		case "updated", "reply_updated", "deleted":
			if m == nil {
				continue
			}
		default:
			continue
		}
		if b.kind == "deleted" {
			m.gone = true
			continue
		}
		m.text = strings.Join(b.lines, "\n")
	}
	return order
}

func (tr *transcript) inChannel(channel string) []postertest.Shown {
	var out []postertest.Shown
	for _, m := range tr.messages() {
		if m.channel == channel && !m.gone {
			out = append(out, shown(m.id, m.root, m.text))
		}
	}
	return out
}

func (tr *transcript) Messages(where bot.Where) []postertest.Shown {
	return tr.inChannel(where.Channel)
}

func (tr *transcript) DMs(user string) []postertest.Shown { return tr.inChannel("@" + user) }

// Ephemerals are the messages shown to user alone; the shell shows them
// in the terminal of the session, whatever the channel.
func (tr *transcript) Ephemerals(_ bot.Where, user string) []postertest.Shown {
	var out []postertest.Shown
	for _, b := range tr.blocks() {
		if b.kind == "only_you" && b.fields["User"] == user {
			out = append(out, shown("", "", strings.Join(b.lines, "\n")))
		}
	}
	return out
}

func (tr *transcript) Files(where bot.Where) []bot.File {
	var out []bot.File
	for _, b := range tr.blocks() {
		if b.kind == "file" && b.fields["Channel"] == where.Channel {
			out = append(out, bot.File{Name: b.fields["Name"], Content: []byte(strings.Join(b.lines, "\n") + "\n")})
		}
	}
	return out
}

func (tr *transcript) Forms(user string) []string {
	var out []string
	for _, b := range tr.blocks() {
		if b.kind == "form" && b.fields["User"] == user {
			out = append(out, b.fields["Title"])
		}
	}
	return out
}

// mention is an @ before a name; a word joiner after the @ breaks it.
var mention = regexp.MustCompile(`(?:^|[^\w])@([\w.-]+)`)

func shown(id, root, text string) postertest.Shown {
	var notifies []string
	for _, m := range mention.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(notifies, m[1]) {
			notifies = append(notifies, m[1])
		}
	}
	return postertest.Shown{ID: id, Thread: root, Text: text, Notifies: notifies}
}
