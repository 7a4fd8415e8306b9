package mattermost

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/postertest"
)

// TestPosterConformance runs the bot.Poster suite against the REST API
// Poster on the stand-in.
func TestPosterConformance(t *testing.T) {
	postertest.Test(t, func(t *testing.T) postertest.Fixture {
		mm := mattermosttest.New(t)
		users := map[string]string{ // username → id
			"anna_de_vries": "anna0000000000000000000000",
			"bram.b":        "bram0000000000000000000000",
			"cato":          "cato0000000000000000000000",
		}
		for name, id := range users {
			mm.AddUser(id, name, "", "", "")
		}
		mm.SetTimezone(users["anna_de_vries"], true, "America/Curacao")
		mm.SetTimezone(users["bram.b"], false, "Europe/Amsterdam")
		const robot, gone = "robo0000000000000000000000", "gone0000000000000000000000"
		mm.AddBot(robot, "robo")
		mm.AddUser(gone, "oud", "", "", "Europe/Amsterdam")
		mm.Deactivate(gone)
		mm.AddMembers(testChannel, users["anna_de_vries"], robot, users["bram.b"], gone)
		mm.AddMembers("chan20000000000000000000000", users["cato"])
		ad, err := New(Config{
			URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{testToken},
			Secret: testSecret, PublicURL: "http://kring.test", Handler: &bot.Mux{},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBackoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = ad.Close(ctx)
		})
		return postertest.Fixture{
			Poster:    ad.rest,
			Platform:  mattermostShows{mm: mm, users: users},
			Channel:   bot.Where{Platform: bot.Mattermost, Team: mm.TeamID, Channel: testChannel},
			Members:   []string{users["anna_de_vries"], users["bram.b"]},
			NotPeople: []string{robot, gone},
			Zones:     map[string]string{users["anna_de_vries"]: "America/Curacao", users["bram.b"]: "Europe/Amsterdam"},
			Missing:   model.NewId(),
			Trigger:   mm.IssueTrigger,
		}
	})
}

// mattermostShows reads back from the stand-in what Mattermost shows.
type mattermostShows struct {
	mm    *mattermosttest.Server
	users map[string]string // username → id
}

func (s mattermostShows) Messages(where bot.Where) []postertest.Shown {
	return s.shownAll(s.mm.ChannelPosts(where.Channel))
}

func (s mattermostShows) Ephemerals(where bot.Where, user string) []postertest.Shown {
	var posts []*model.Post
	for _, e := range s.mm.Ephemerals() {
		if e.UserID == user && e.Post.ChannelId == where.Channel {
			posts = append(posts, e.Post)
		}
	}
	return s.shownAll(posts)
}

func (s mattermostShows) DMs(user string) []postertest.Shown {
	return s.shownAll(s.mm.ChannelPosts(s.mm.DMChannel(user)))
}

func (s mattermostShows) Files(where bot.Where) []bot.File {
	var out []bot.File
	for _, f := range s.mm.Files() {
		if f.Channel == where.Channel {
			out = append(out, bot.File{Name: f.Name, Content: f.Content})
		}
	}
	return out
}

func (s mattermostShows) Forms(user string) []string {
	var out []string
	for _, d := range s.mm.DialogsFor(user) {
		out = append(out, d.Dialog.Title)
	}
	return out
}

func (s mattermostShows) shownAll(posts []*model.Post) []postertest.Shown {
	out := make([]postertest.Shown, len(posts))
	for i, p := range posts {
		out[i] = s.shown(p)
	}
	return out
}

// shown is a post as Mattermost shows it: its message and attachments,
// markdown escapes resolved. It notifies as the server's mention parser
// finds mentions: in the message, the attachments' pretext and text and
// their fields' values.
func (s mattermostShows) shown(p *model.Post) postertest.Shown {
	parts := []string{unescapeMarkdown(p.Message)}
	mentionable := []string{parts[0]}
	for _, a := range mattermosttest.Attachments(p) {
		parts = append(parts, a.Pretext, a.Title, unescapeMarkdown(a.Text))
		mentionable = append(mentionable, unescapeMarkdown(a.Pretext), unescapeMarkdown(a.Text))
		for _, f := range a.Fields {
			v, _ := f.Value.(string)
			parts = append(parts, f.Title, unescapeMarkdown(v))
			mentionable = append(mentionable, unescapeMarkdown(v))
		}
		for _, act := range a.Actions {
			parts = append(parts, act.Name)
		}
	}
	var notifies []string
	for _, text := range mentionable {
		notifies = append(notifies, s.mentions(text)...)
	}
	return postertest.Shown{ID: p.Id, Thread: p.RootId, Text: strings.Join(parts, "\n"), Notifies: notifies}
}

var markdownEscape = regexp.MustCompile(`\\([\\` + "`" + `*_{}\[\]()#+\-.!<>|~])`)

// unescapeMarkdown resolves backslash escapes, as the markdown's text
// nodes hold the text.
func unescapeMarkdown(s string) string { return markdownEscape.ReplaceAllString(s, "$1") }

// mentions finds what the server's mention parser (StandardMentionParser)
// finds in text: words split at anything but letters, digits and
// ":.-_@", then @channel, @all, @here and "@username", also with a
// trailing '.', '-', ':' or '_' dropped.
func (s mattermostShows) mentions(text string) []string {
	var out []string
	words := strings.FieldsFunc(text, func(c rune) bool {
		return !(c == ':' || c == '.' || c == '-' || c == '_' || c == '@' || unicode.IsLetter(c) || unicode.IsNumber(c))
	})
	for _, w := range words {
		w = strings.ToLower(strings.TrimLeft(w, ":.-_"))
		for w != "" {
			if who, ok := s.mentioned(w); ok {
				out = append(out, who)
				break
			}
			if !strings.ContainsAny(w[len(w)-1:], ".-:_") {
				break
			}
			w = w[:len(w)-1]
		}
	}
	return out
}

func (s mattermostShows) mentioned(word string) (string, bool) {
	switch word {
	case "@channel", "@all", "@here":
		return word[1:], true
	}
	if name, ok := strings.CutPrefix(word, "@"); ok {
		id, ok := s.users[name]
		return id, ok
	}
	return "", false
}
