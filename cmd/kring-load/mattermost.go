package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/mattermost/mattermost/server/public/model"
)

// mattermostPlay plays Mattermost towards kring: the REST API stand-in of
// package mattermosttest behind a front that times every post update, the
// slash command, and the clicks as Mattermost's server sends them.
type mattermostPlay struct {
	mm    *mattermosttest.Server
	t     *standinT
	front *served
	token string // the command token
	run   string

	channel     string
	floorSecret string
	floorPost   string

	mu      sync.Mutex
	updates map[string][]time.Time // post updates by post id
	changed chan struct{}
	replies map[string]int // ephemeral_text of click answers

	post    string              // the poll's post
	actions []*model.PostAction // its vote buttons, in option order
}

var _ platform = (*mattermostPlay)(nil)

// standinT is the testing.TB that mattermosttest.New asks for, outside a
// test: New only registers its Close with Cleanup, which close runs. Any
// other method would panic on the nil TB, and the load calls none
// (mattermosttest.Server.WaitFor, which fails a test, is not used).
type standinT struct {
	testing.TB
	cleanups []func()
}

func (t *standinT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *standinT) Helper()          {}

func (t *standinT) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// newMattermostPlay starts the stand-in with the users 0 to n-1 (kring
// looks each clicking user up) and its front on addr.
func newMattermostPlay(addr, token, run string, n int) (*mattermostPlay, error) {
	t := &standinT{}
	p := &mattermostPlay{
		mm: mattermosttest.New(t), t: t, token: token, run: run,
		channel:     mattermostID("c", run, 1),
		floorSecret: bot.NewID(16),
		floorPost:   mattermostID("p", run, 1),
		updates:     map[string][]time.Time{},
		changed:     make(chan struct{}),
		replies:     map[string]int{},
	}
	for i := range n {
		p.mm.AddUser(p.User(i), "stemmer"+strconv.Itoa(i), "Stemmer", strconv.Itoa(i), "Europe/Amsterdam")
	}
	p.mm.AddUser(p.creator(), "maker", "Maker", "Peiling", "Europe/Amsterdam")
	front, err := serve(addr, p.timeUpdates(p.mm.Config.Handler))
	if err != nil {
		t.close()
		return nil, fmt.Errorf("mattermost stand-in: %w", err)
	}
	p.front = front
	return p, nil
}

// mattermostID is a 26-character id as Mattermost makes them, unique per
// run: a letter, the run and a number.
func mattermostID(kind, run string, i int) string {
	return fmt.Sprintf("%s%s%0*d", kind, run, 25-len(run), i)
}

func (p *mattermostPlay) creator() string { return mattermostID("m", p.run, 0) }

func (p *mattermostPlay) Name() string { return bot.Mattermost }

func (p *mattermostPlay) Env(kringURL string) []string {
	return []string{
		"KRING_MATTERMOST_URL=" + p.front.URL,
		"KRING_MATTERMOST_BOT_TOKEN=" + p.mm.BotToken,
		"KRING_MATTERMOST_COMMAND_TOKEN=" + p.token,
	}
}

func (p *mattermostPlay) Where() bot.Where {
	return bot.Where{Platform: bot.Mattermost, Team: p.mm.TeamID, Channel: p.channel}
}

func (p *mattermostPlay) User(i int) string { return mattermostID("u", p.run, i) }

// timeUpdates serves the stand-in and notes when a post was updated.
func (p *mattermostPlay) timeUpdates(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		id, isPost := strings.CutPrefix(r.URL.Path, "/api/v4/posts/")
		if r.Method != http.MethodPut || !isPost || rec.status != http.StatusOK {
			return
		}
		id = strings.TrimSuffix(id, "/patch")
		p.mu.Lock()
		p.updates[id] = append(p.updates[id], time.Now())
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (p *mattermostPlay) Wait() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *mattermostPlay) CreatePoll(ctx context.Context, kringURL, text string, options int) error {
	r, err := p.mm.Command(kringURL+"/mattermost/commands", p.token, p.creator(), p.channel, "/poll "+text)
	if err != nil {
		return fmt.Errorf("/poll: %w", err)
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("/poll: status %d: %s", r.Status, bytes.TrimSpace(r.Body))
	}
	// The poll's post, once kring has bound its buttons to it: kring
	// updates a post with buttons right after creating it, so that every
	// button's signed context names the post (adapters/mattermost).
	err = waitUntil(ctx, time.Minute, p.Wait, func() bool {
		for _, post := range p.mm.Posts() {
			if post.ChannelId != p.channel {
				continue
			}
			if as := mattermostVoteButtons(post, options); as != nil && len(p.updateTimes(post.Id)) > 0 {
				p.post, p.actions = post.Id, as
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("kring did not post the poll with %d vote buttons in %s and update it once to bind them: %w", options, p.channel, err)
	}
	return nil
}

// mattermostVoteButtons finds a post's buttons "1. …" to "n. …", in that
// order, as kring labels a poll's vote buttons; nil when one is missing.
func mattermostVoteButtons(post *model.Post, n int) []*model.PostAction {
	out := make([]*model.PostAction, n)
	found := 0
	for _, a := range mattermosttest.Actions(post) {
		for i := range n {
			if strings.HasPrefix(a.Name, strconv.Itoa(i+1)+". ") && out[i] == nil && a.Integration != nil {
				out[i] = a
				found++
			}
		}
	}
	if found != n {
		return nil
	}
	return out
}

// click is click i as Mattermost's server sends it to an integration
// (mattermosttest.Server.Click sends the same): user i on post in the
// channel, with the button's context and a fresh trigger id. Click itself
// is not used: it reads and decodes the post under the stand-in's lock
// for every click, which would measure the stand-in, and its trigger ids
// repeat from one run to the next.
func (p *mattermostPlay) click(url, post string, i int, context map[string]any) (*http.Request, error) {
	user := p.User(i)
	in := model.PostActionIntegrationRequest{
		UserId: user, UserName: "stemmer" + strconv.Itoa(i),
		ChannelId: p.channel, ChannelName: "town-square", TeamId: p.mm.TeamID, TeamName: "geboortezorg",
		PostId: post, TriggerId: fmt.Sprintf("trigger:%s:%d:%s", p.run, i, user),
		Type: model.PostActionTypeButton, Context: context,
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (p *mattermostPlay) KringClick(kringURL string) func(i int) (*http.Request, error) {
	return func(i int) (*http.Request, error) {
		a := p.actions[i%len(p.actions)]
		return p.click(a.Integration.URL, p.post, i, a.Integration.Context)
	}
}

func (p *mattermostPlay) FloorHandler(f *floor) http.Handler {
	return f.mattermostHandler(p.floorSecret)
}

func (p *mattermostPlay) FloorSecret() string { return p.floorSecret }

func (p *mattermostPlay) FloorClick(floorURL string) func(i int) (*http.Request, error) {
	return func(i int) (*http.Request, error) {
		ctx := floorContext(p.floorSecret, p.channel, p.floorPost, p.FloorValue(i))
		return p.click(floorURL+"/mattermost/actions", p.floorPost, i, ctx)
	}
}

func (p *mattermostPlay) FloorValue(i int) string { return strconv.Itoa(i % len(p.actions)) }

// AckOK takes an answer as Mattermost does: a non-empty body must be JSON,
// and its ephemeral_text is shown to the clicking user.
func (p *mattermostPlay) AckOK(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var resp struct {
		EphemeralText string `json:"ephemeral_text"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return errors.New("answer is not JSON: Mattermost would refuse it")
	}
	if resp.EphemeralText != "" {
		p.mu.Lock()
		p.replies[resp.EphemeralText]++
		p.mu.Unlock()
	}
	return nil
}

func (p *mattermostPlay) Message() (string, bool) {
	post := p.mm.Post(p.post)
	if post == nil {
		return "", false
	}
	atts, _ := json.Marshal(mattermosttest.Attachments(post))
	return post.Message + "\n" + string(atts), true
}

func (p *mattermostPlay) updateTimes(id string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.updates[id]...)
}

func (p *mattermostPlay) Updates() []time.Time { return p.updateTimes(p.post) }

// Calls counts the REST calls kring made, by method and route.
func (p *mattermostPlay) Calls() map[string]int {
	out := map[string]int{}
	for _, c := range p.mm.Calls() {
		var parts []string
		for _, seg := range strings.Split(strings.TrimPrefix(c.Path, "/api/v4/"), "/") {
			if len(seg) >= 20 {
				seg = "{id}"
			}
			parts = append(parts, seg)
		}
		out[c.Method+" "+strings.Join(parts, "/")]++
	}
	return out
}

// Replies counts what kring showed to one user: in a click's answer, as an
// ephemeral post, or as a late answer to the slash command.
func (p *mattermostPlay) Replies() map[string]int {
	p.mu.Lock()
	out := make(map[string]int, len(p.replies))
	for k, v := range p.replies {
		out[k] = v
	}
	p.mu.Unlock()
	for _, e := range p.mm.Ephemerals() {
		out[e.Post.Message]++
	}
	for _, h := range p.mm.HookReplies() {
		out[h.Response.Text]++
	}
	return out
}

func (p *mattermostPlay) Close() {
	p.front.Close()
	p.t.close()
}
