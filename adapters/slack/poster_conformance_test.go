package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/postertest"
	"github.com/slack-go/slack"
)

// TestPosterConformance runs the bot.Poster suite against the Web API
// Poster on the stand-in.
func TestPosterConformance(t *testing.T) {
	postertest.Test(t, func(t *testing.T) postertest.Fixture {
		api := newStandinOn(t, nil)
		api.addChannel("C1", false, standinBot, "U1", "UROBOT", "U2", "UGONE")
		api.addUser("U1", "America/Curacao", false, false)
		api.addUser("UROBOT", "America/Los_Angeles", true, false)
		api.addUser("UGONE", "Europe/Amsterdam", false, true)
		api.addChannel("C2", false, standinBot, "U3")
		a, err := New(Config{
			SigningSecret: testSecret, BotToken: "xoxb-test", APIURL: api.apiURL(),
			Mux: &bot.Mux{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = a.Close(ctx)
		})
		shows := &slackShows{api: api, triggers: map[string]string{}}
		return postertest.Fixture{
			Poster:    a.raw,
			Platform:  shows,
			Channel:   bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"},
			Members:   []string{"U1", "U2"},
			NotPeople: []string{"UROBOT", "UGONE"},
			Zones:     map[string]string{"U1": "America/Curacao", "U2": "Europe/Amsterdam"},
			Missing:   "1699999999.000001",
			Trigger:   shows.trigger,
		}
	})
}

// slackShows reads back from the stand-in what Slack shows.
type slackShows struct {
	api *standin

	mu       sync.Mutex
	triggers map[string]string // trigger id → the user it was given to
}

func (s *slackShows) trigger(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := "trig-" + user + "-" + bot.NewID(4)
	s.triggers[id] = user
	return id
}

func (s *slackShows) Messages(where bot.Where) []postertest.Shown {
	return shownAll(s.api.held(where.Channel))
}

func (s *slackShows) Ephemerals(where bot.Where, user string) []postertest.Shown {
	return shownAll(s.api.shownTo(where.Channel, user))
}

func (s *slackShows) DMs(user string) []postertest.Shown {
	return shownAll(s.api.held("D" + user))
}

// Files pairs each files.completeUploadExternal with the upload before it:
// slack-go asks for an upload URL, sends the file there as multipart form
// data, then shares it.
func (s *slackShows) Files(where bot.Where) []bot.File {
	var (
		out  []bot.File
		name string
		body []byte
	)
	for _, c := range s.api.recorded("files.getUploadURLExternal", "upload", "files.completeUploadExternal") {
		switch c.Method {
		case "files.getUploadURLExternal":
			name = c.Form.Get("filename")
		case "upload":
			body = c.Body
		case "files.completeUploadExternal":
			if c.Form.Get("channel_id") == where.Channel {
				out = append(out, bot.File{Name: name, Content: multipartFile(body)})
			}
		}
	}
	return out
}

// multipartFile is the content of the "file" part of a multipart body.
func multipartFile(body []byte) []byte {
	boundary, _, _ := bytes.Cut(bytes.TrimPrefix(body, []byte("--")), []byte("\r\n"))
	r := multipart.NewReader(bytes.NewReader(body), string(boundary))
	for {
		part, err := r.NextPart()
		if err != nil {
			return nil
		}
		if part.FormName() == "file" {
			b, _ := io.ReadAll(part)
			return b
		}
	}
}

func (s *slackShows) Forms(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.api.recorded("views.open") {
		var req struct {
			TriggerID string                 `json:"trigger_id"`
			View      slack.ModalViewRequest `json:"view"`
		}
		if json.Unmarshal(c.Body, &req) == nil && s.triggers[req.TriggerID] == user && req.View.Title != nil {
			out = append(out, req.View.Title.Text)
		}
	}
	return out
}

func shownAll(ms []standinMessage) []postertest.Shown {
	out := make([]postertest.Shown, len(ms))
	for i, m := range ms {
		out[i] = shown(m)
	}
	return out
}

// shown is a message as Slack shows it: its blocks, and its text (the
// notification, and what shows where blocks cannot), mrkdwn decoded.
func shown(m standinMessage) postertest.Shown {
	var (
		parts    []string
		notifies []string
	)
	add := func(t *slack.TextBlockObject) {
		if t == nil {
			return
		}
		if t.Type == slack.PlainTextType {
			parts = append(parts, t.Text)
			return
		}
		text, who := readMrkdwn(t.Text)
		parts = append(parts, text)
		notifies = append(notifies, who...)
	}
	add(&slack.TextBlockObject{Type: slack.MarkdownType, Text: m.Text})
	var blocks slack.Blocks
	if m.Blocks != "" {
		_ = json.Unmarshal([]byte(m.Blocks), &blocks)
	}
	for _, b := range blocks.BlockSet {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			add(b.Text)
		case *slack.SectionBlock:
			add(b.Text)
			for _, f := range b.Fields {
				add(f)
			}
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					add(t)
				}
			}
		case *slack.ActionBlock:
			for _, el := range b.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					add(btn.Text)
				}
			}
		}
	}
	return postertest.Shown{ID: m.TS, Thread: m.Thread, Text: strings.Join(parts, "\n"), Notifies: notifies}
}

var (
	slackSpecial = regexp.MustCompile(`<([^<>]*)>`)
	// bareMention is the mass mention Slack finds in mrkdwn without
	// angle brackets; a word joiner after the '@' breaks it.
	bareMention = regexp.MustCompile(`(?i)(^|[^\w])@(channel|here|everyone)\b`)
)

// readMrkdwn decodes mrkdwn as Slack shows it: <@U1> as @U1, <!here> as
// @here, <url|label> as label, &lt; &gt; &amp; as < > &, and the zero-width
// spaces kring puts around literal formatting characters dropped. It
// returns whom the text notifies.
func readMrkdwn(s string) (string, []string) {
	var notifies []string
	for _, m := range bareMention.FindAllStringSubmatch(s, -1) {
		notifies = append(notifies, everyone(m[2]))
	}
	s = slackSpecial.ReplaceAllStringFunc(s, func(tok string) string {
		inner := tok[1 : len(tok)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			notifies = append(notifies, target[1:])
			return target
		case strings.HasPrefix(target, "!"):
			notifies = append(notifies, everyone(target[1:]))
			return "@" + target[1:]
		case hasLabel:
			return label
		}
		return target
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "").Replace(s)
	return s, notifies
}

func everyone(word string) string {
	if w := strings.ToLower(word); w != "everyone" {
		return w
	}
	return "all"
}
