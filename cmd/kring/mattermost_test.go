package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/server"
)

const (
	mmSecret  = "e2e-action-secret-0123456789"
	mmToken   = "poll-command-token"
	mmChannel = "town0000000000000000000000"
)

// mmServe is `kring serve` with Mattermost on, wired as runServe wires it,
// on a loopback listener whose address is known before the adapter is made
// (KRING_PUBLIC_URL must name it).
type mmServe struct {
	t    *testing.T
	mm   *mattermosttest.Server
	app  *app
	url  string
	stop func()
}

func startMattermostServe(t *testing.T, mm *mattermosttest.Server, store string, tweak ...func(*Config)) *mmServe {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + l.Addr().String()
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	m.Config = Config{
		Store: store, Locale: "nl", Timezone: "Europe/Amsterdam", PublicURL: public,
		ActionSecret: mmSecret, MattermostURL: mm.URL, MattermostBotToken: mm.BotToken,
		MattermostCommandToken: "another-token," + mmToken,
	}
	for _, f := range tweak {
		f(&m.Config)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := m.newApp(ctx, log, bot.SystemClock{}, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(log)
	a.mux.Observe = srv.Metrics.Observe
	var platforms []platform
	for _, make := range []func(*app) (platform, error){m.slackPlatform, m.mattermostPlatform} {
		p, err := make(a)
		if err != nil {
			t.Fatalf("platform: %v", err)
		}
		if p != nil {
			platforms = append(platforms, p)
			a.posters[p.Name()] = p.Poster()
			p.Mount(srv.Mux)
			srv.AddCheck(server.Check{Name: p.Name(), Func: p.Ready})
		}
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, log, srv, l, a, platforms) }()
	var once sync.Once
	s := &mmServe{t: t, mm: mm, app: a, url: public}
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			a.close()
		})
	}
	t.Cleanup(s.stop)
	return s
}

func (s *mmServe) command(user, line string) model.CommandResponse {
	s.t.Helper()
	r, err := s.mm.Command(s.url+"/mattermost/commands", mmToken, user, mmChannel, line)
	if err != nil || r.Status != http.StatusOK {
		s.t.Fatalf("%s: %v %d %s", line, err, r.Status, r.Body)
	}
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil {
		s.t.Fatal(err)
	}
	return resp
}

func (s *mmServe) click(post string, i int, user string) string {
	s.t.Helper()
	r, err := s.mm.Click(nil, post, i, user)
	if err != nil || r.Status != http.StatusOK {
		s.t.Fatalf("click %d by %s: %v %d %s", i, user, err, r.Status, r.Body)
	}
	var resp struct {
		EphemeralText string `json:"ephemeral_text"`
	}
	_ = r.JSON(&resp)
	return resp.EphemeralText
}

// pollID finds the poll id in a "poll.created" reply, with or without
// its code formatting.
func pollID(t *testing.T, text string) string {
	t.Helper()
	m := regexp.MustCompile("ID `?([a-z0-9]+)").FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no poll id in %q", text)
	}
	return m[1]
}

func mmUsers(mm *mattermosttest.Server) {
	mm.AddUser("anna0000000000000000000000", "anna", "Anna", "de Vries", "Europe/Amsterdam")
	mm.AddUser("bram0000000000000000000000", "bram", "Bram", "Jansen", "")
	mm.AddUser("cato0000000000000000000000", "cato", "Cato", "", "America/Curacao")
}

const (
	anna = "anna0000000000000000000000"
	bram = "bram0000000000000000000000"
	cato = "cato0000000000000000000000"
)

func TestMattermostPollEndToEnd(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")

	resp := s.command(anna, `/poll "Wanneer houden we de kick-off?" "di 14 jan" "do 16 jan" --toevoegen`)
	id := pollID(t, resp.Text)
	posts := mm.Posts()
	if len(posts) != 1 || posts[0].UserId != mm.Bot.Id || posts[0].ChannelId != mmChannel {
		t.Fatalf("the poll was not posted by the bot: %+v", posts)
	}
	post := posts[0].Id
	if !strings.Contains(posts[0].Message, "Wanneer houden we de kick-off?") {
		t.Errorf("poll post:\n%s", posts[0].Message)
	}

	// Three people vote: two for the first option, one for the second.
	for _, v := range []struct {
		user   string
		option int
	}{{anna, 0}, {bram, 1}, {cato, 0}} {
		if text := s.click(post, v.option, v.user); text != "" {
			t.Errorf("vote answer = %q; the post shows the vote", text)
		}
	}
	_, ballots, err := s.app.stores.Polls.Get(t.Context(), id)
	if err != nil || len(ballots) != 3 {
		t.Fatalf("ballots = %+v, %v", ballots, err)
	}

	// A tampered click changes nothing.
	act := mattermosttest.Actions(mm.Post(post))[1]
	ctx := map[string]any{}
	for k, v := range act.Integration.Context {
		ctx[k] = v
	}
	ctx["v"] = id + ":0"
	body, _ := json.Marshal(model.PostActionIntegrationRequest{UserId: bram, ChannelId: mmChannel, PostId: post, Context: ctx})
	r, err := http.Post(s.url+"/mattermost/actions", "application/json", bytes.NewReader(body))
	if err != nil || r.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered vote: %v %v", err, r.Status)
	}
	r.Body.Close()
	if _, again, _ := s.app.stores.Polls.Get(t.Context(), id); !slices.EqualFunc(again, ballots, func(a, b poll.Ballot) bool { return a.Voter == b.Voter && slices.Equal(a.Options, b.Options) }) {
		t.Errorf("a tampered click changed the ballots: %+v", again)
	}

	// Adding an option goes through a dialog.
	buttons := mattermosttest.Actions(mm.Post(post))
	add := slices.IndexFunc(buttons, func(a *model.PostAction) bool { return strings.HasPrefix(a.Id, "polladd") })
	if add < 0 {
		t.Fatalf("no add button among %d", len(buttons))
	}
	s.click(post, add, bram)
	if ds := mm.Dialogs(); len(ds) != 1 || ds[0].Dialog.Elements[0].Name != "option" {
		t.Fatalf("add dialog = %+v", ds)
	}
	dr, err := mm.Submit(0, bram, mmChannel, map[string]any{"option": "vr 17 jan"})
	if err != nil || dr.Status != http.StatusOK || strings.Contains(string(dr.Body), "errors") {
		t.Fatalf("add option: %v %d %s", err, dr.Status, dr.Body)
	}
	dr, _ = mm.Submit(0, bram, mmChannel, map[string]any{"option": "VR 17 JAN"})
	if !strings.Contains(string(dr.Body), `"errors":{"option"`) {
		t.Errorf("a duplicate option was not refused in the dialog: %s", dr.Body)
	}
	if p, _, _ := s.app.stores.Polls.Get(t.Context(), id); len(p.Options) != 3 {
		t.Errorf("options after adding = %+v", p.Options)
	}

	// Closing asks for confirmation first.
	buttons = mattermosttest.Actions(mm.Post(post))
	closeBtn := slices.IndexFunc(buttons, func(a *model.PostAction) bool { return strings.HasPrefix(a.Id, "pollclose") })
	s.click(post, closeBtn, anna)
	if p, _, _ := s.app.stores.Polls.Get(t.Context(), id); p.Closed {
		t.Fatal("closed before confirming")
	}
	if dr, _ := mm.Submit(1, anna, mmChannel, map[string]any{}); dr.Status != http.StatusOK {
		t.Fatalf("confirm close: %d %s", dr.Status, dr.Body)
	}
	if p, _, _ := s.app.stores.Polls.Get(t.Context(), id); !p.Closed {
		t.Fatal("not closed after confirming")
	}

	// Export attaches a CSV file to a post by the bot.
	s.command(anna, "/poll export "+id)
	if fs := mm.Files(); len(fs) != 1 || !strings.Contains(string(fs[0].Content), "di 14 jan") {
		t.Errorf("export files = %+v", fs)
	}

	// In an anonymous poll the voter is told their vote ephemerally.
	s.command(bram, `/poll "Geheim?" Ja Nee --anoniem`)
	secret := mm.Posts()[len(mm.Posts())-1].Id
	if text := s.click(secret, 1, bram); !strings.Contains(text, "Nee") {
		t.Errorf("own vote in an anonymous poll = %q", text)
	}

	// A DM reaches a user through the Posters features get.
	if _, err := s.app.posters.DM(t.Context(), bot.Where{Platform: bot.Mattermost, Team: mm.TeamID}, cato, *bot.TextMessage("Herinnering: *kick-off*")); err != nil {
		t.Fatal(err)
	}

	s.stop() // sends the coalesced updates
	final := mm.Post(post).Message
	for _, want := range []string{"2 stemmen (67%)", "1 stem (33%)", "3 stemmers", "Anna de Vries", "Cato", "Bram Jansen"} {
		if !strings.Contains(final, want) {
			t.Errorf("final poll post lacks %q:\n%s", want, final)
		}
	}
	var dm *model.Post
	for _, p := range mm.Posts() {
		if p.ChannelId == mm.DMChannel(cato) {
			dm = p
		}
	}
	if dm == nil || dm.Message != "Herinnering: **kick-off**" {
		t.Errorf("DM to cato = %+v", dm)
	}
}

func TestMattermostSetup(t *testing.T) {
	mm := mattermosttest.New(t)
	env := map[string]string{
		"KRING_MATTERMOST_URL":       mm.URL,
		"KRING_MATTERMOST_BOT_TOKEN": mm.BotToken,
		"KRING_PUBLIC_URL":           "https://kring.example.org/",
	}
	run := func() string {
		var out, errw bytes.Buffer
		m := NewMain(strings.NewReader(""), &out, &errw)
		m.Getenv = func(k string) string { return env[k] }
		if err := m.Run(t.Context(), []string{"mattermost", "setup", "--team", "geboortezorg"}); err != nil {
			t.Fatalf("setup: %v\n%s", err, errw.String())
		}
		return out.String()
	}
	first := run()
	cmds := mm.Commands()
	poll := cmds["poll"]
	if poll == nil || poll.URL != "https://kring.example.org/mattermost/commands" || !poll.AutoComplete || poll.Method != "P" || poll.TeamId != mm.TeamID {
		t.Fatalf("commands = %+v", cmds)
	}
	if !strings.Contains(poll.AutoCompleteDesc, "peiling") && !strings.Contains(poll.AutoCompleteDesc, "Peiling") {
		t.Errorf("autocomplete description not Dutch: %q", poll.AutoCompleteDesc)
	}
	if strings.Contains(poll.AutoCompleteHint, "⟦") || poll.AutoCompleteHint == "" {
		t.Errorf("autocomplete hint = %q", poll.AutoCompleteHint)
	}
	var tokens []string
	for _, c := range cmds {
		tokens = append(tokens, c.Token)
	}
	if !strings.Contains(first, "/poll: created") || !strings.Contains(first, "KRING_MATTERMOST_COMMAND_TOKEN=") {
		t.Errorf("output:\n%s", first)
	}
	for _, tok := range tokens {
		if !strings.Contains(first, tok) {
			t.Errorf("token %s not printed:\n%s", tok, first)
		}
	}
	second := run()
	if !strings.Contains(second, "/poll: updated") || len(mm.Commands()) != len(cmds) {
		t.Errorf("second run:\n%s\ncommands %d → %d", second, len(cmds), len(mm.Commands()))
	}
	if strings.Split(first, "KRING_MATTERMOST_COMMAND_TOKEN=")[1] != strings.Split(second, "KRING_MATTERMOST_COMMAND_TOKEN=")[1] {
		t.Error("tokens changed on update")
	}

	// Missing settings are named.
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	m.Getenv = func(string) string { return "" }
	err := m.Run(t.Context(), []string{"mattermost", "setup"})
	if err == nil || !strings.Contains(err.Error(), "--team") || !strings.Contains(err.Error(), "KRING_MATTERMOST_URL") {
		t.Errorf("setup without settings: %v", err)
	}
}

// TestSlackAndMattermostOnOneStore: one kring serve answers Slack and
// Mattermost at once on one store, and a poll lives in one channel of one
// platform: the other platform neither lists it nor reaches it.
func TestSlackAndMattermostOnOneStore(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	api := newSlackAPI(t)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db", func(c *Config) {
		c.SlackSigningSecret, c.SlackBotToken, c.SlackAPIURL = signingSecret, "xoxb-test", api.URL+"/api/"
	})
	if len(s.app.posters) != 2 {
		t.Fatalf("posters for %d platforms, want 2", len(s.app.posters))
	}
	cmd := url.Values{
		"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"anna"},
		"command": {"/poll"}, "text": {`"Slack-vraag?" Ja Nee`}, "trigger_id": {"trig-1"},
		"response_url": {api.URL + "/respond/1"},
	}.Encode()
	code, body := postSigned(t, s.url+"/slack/commands", cmd)
	if code != http.StatusOK {
		t.Fatalf("slack /poll: %d %s", code, body)
	}
	var slackReply struct{ Text string }
	if err := json.Unmarshal([]byte(body), &slackReply); err != nil {
		t.Fatal(err)
	}
	slackPoll := pollID(t, slackReply.Text)

	mmPoll := pollID(t, s.command(anna, `/poll "Mattermost-vraag?" Ja Nee`).Text)
	post := mm.Posts()[0].Id
	s.click(post, 0, bram)

	if n := len(api.recorded("chat.postMessage")); n != 1 {
		t.Errorf("%d Slack posts, want 1", n)
	}
	if n := len(mm.Posts()); n != 1 {
		t.Errorf("%d Mattermost posts, want 1", n)
	}
	list := s.command(anna, "/poll lijst").Text
	if !strings.Contains(list, "Mattermost-vraag?") || strings.Contains(list, "Slack-vraag?") {
		t.Errorf("Mattermost lists:\n%s", list)
	}
	if reply := s.command(anna, "/poll sluit "+slackPoll).Text; !strings.Contains(reply, "Ik vind geen peiling") {
		t.Errorf("closing the Slack poll from Mattermost: %q", reply)
	}
	sp, _, err := s.app.stores.Polls.Get(t.Context(), slackPoll)
	if err != nil || sp.Closed || sp.Where.Platform != bot.Slack {
		t.Errorf("Slack poll = %+v, %v", sp, err)
	}
	mp, ballots, err := s.app.stores.Polls.Get(t.Context(), mmPoll)
	if err != nil || mp.Where.Platform != bot.Mattermost || len(ballots) != 1 {
		t.Errorf("Mattermost poll = %+v, %d ballots, %v", mp, len(ballots), err)
	}
	s.stop()
	if !strings.Contains(mm.Post(post).Message, "1 stemmer") {
		t.Errorf("Mattermost poll post:\n%s", mm.Post(post).Message)
	}
	for _, u := range api.recorded("chat.update") {
		if strings.Contains(u.Get("blocks"), "Mattermost-vraag") {
			t.Error("a Mattermost poll update went to Slack")
		}
	}
}

// commandIn sends a slash command in channel and returns kring's answer.
func (s *mmServe) commandIn(channel, user, line string) model.CommandResponse {
	s.t.Helper()
	r, err := s.mm.Command(s.url+"/mattermost/commands", mmToken, user, channel, line)
	if err != nil || r.Status != http.StatusOK {
		s.t.Fatalf("%s: %v %d %s", line, err, r.Status, r.Body)
	}
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// button is the index of the first button of post whose action id starts
// with prefix ("pollvote", "pollclose"), -1 when there is none.
func (s *mmServe) button(post, prefix string) int {
	return slices.IndexFunc(mattermosttest.Actions(s.mm.Post(post)), func(a *model.PostAction) bool { return strings.HasPrefix(a.Id, prefix) })
}

// waitButton waits until the coalesced updates have given post a button
// whose action id starts with prefix, and returns its index.
func (s *mmServe) waitButton(post, prefix string) int {
	s.t.Helper()
	s.mm.WaitFor(s.t, time.Minute, "a "+prefix+" button on "+post, func() bool { return s.button(post, prefix) >= 0 })
	return s.button(post, prefix)
}

// waitPost waits until post's message contains want.
func (s *mmServe) waitPost(post, want string) {
	s.t.Helper()
	s.mm.WaitFor(s.t, time.Minute, "post to show "+want, func() bool { return strings.Contains(s.mm.Post(post).Message, want) })
}

// refusedWithoutConfirm clicks a button that asks first, as a user who may
// not do what it does: the click is answered with the refusal and no
// confirmation dialog opens.
func (s *mmServe) refusedWithoutConfirm(post string, i int, user, want string) {
	s.t.Helper()
	n := len(s.mm.Dialogs())
	if text := s.click(post, i, user); !strings.Contains(text, want) {
		s.t.Errorf("refused click answered %q, want %q", text, want)
	}
	if ds := s.mm.Dialogs(); len(ds) != n {
		s.t.Errorf("a confirmation dialog opened for a click that is refused: %+v", ds[n:])
	}
}

// confirm clicks a button that asks first, as user, and submits the
// confirmation dialog it opens.
func (s *mmServe) confirm(post string, i int, user string) {
	s.t.Helper()
	n := len(s.mm.Dialogs())
	if text := s.click(post, i, user); text != "" {
		s.t.Fatalf("a button with a confirmation answered %q", text)
	}
	ds := s.mm.Dialogs()
	if len(ds) != n+1 || ds[n].Dialog.CallbackId != "confirm" {
		s.t.Fatalf("no confirmation dialog opened: %+v", ds[n:])
	}
	// The user confirms while looking at another channel: Mattermost then
	// sends that channel, not the poll's.
	r, err := s.mm.Submit(n, user, "elsewhere00000000000000000", map[string]any{})
	if err != nil || r.Status != http.StatusOK || strings.Contains(string(r.Body), "error") {
		s.t.Fatalf("confirm: %v %d %s", err, r.Status, r.Body)
	}
}

// waitEphemeral waits for an ephemeral message to user containing want.
func (s *mmServe) waitEphemeral(user, want string) {
	s.t.Helper()
	s.mm.WaitFor(s.t, time.Minute, "an ephemeral "+want+" for "+user, func() bool {
		for _, e := range s.mm.Ephemerals() {
			if e.UserID == user && strings.Contains(e.Post.Message, want) {
				return true
			}
		}
		return false
	})
}

func (s *mmServe) poll(id string) (*poll.Poll, []poll.Ballot) {
	s.t.Helper()
	p, ballots, err := s.app.stores.Polls.Get(s.t.Context(), id)
	if err != nil {
		s.t.Fatalf("poll %s: %v", id, err)
	}
	return p, ballots
}

func ballotOf(ballots []poll.Ballot, voter string) []int {
	for _, b := range ballots {
		if b.Voter == voter {
			return b.Options
		}
	}
	return nil
}

// TestMattermostMultiVote: with --stemmen=2 a third vote is refused in
// Dutch, and clicking a chosen option again takes that vote back.
func TestMattermostMultiVote(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")
	id := pollID(t, s.command(anna, `/poll "Welke dagen?" ma di wo --stemmen=2`).Text)
	post := mm.Posts()[0].Id
	for _, i := range []int{0, 1} {
		if text := s.click(post, i, anna); text != "" {
			t.Errorf("vote %d answered %q", i, text)
		}
	}
	if text := s.click(post, 2, anna); !strings.Contains(text, "Je hebt al 2 stemmen uitgebracht") {
		t.Errorf("third vote answered %q", text)
	}
	if _, b := s.poll(id); !slices.Equal(ballotOf(b, anna), []int{0, 1}) {
		t.Fatalf("after a refused third vote: %v", ballotOf(b, anna))
	}
	s.click(post, 0, anna) // takes "ma" back
	if _, b := s.poll(id); !slices.Equal(ballotOf(b, anna), []int{1}) {
		t.Fatalf("after clicking ma again: %v", ballotOf(b, anna))
	}
	if text := s.click(post, 2, anna); text != "" {
		t.Errorf("vote after taking one back answered %q", text)
	}
	s.click(post, 2, bram)
	if _, b := s.poll(id); !slices.Equal(ballotOf(b, anna), []int{1, 2}) || !slices.Equal(ballotOf(b, bram), []int{2}) {
		t.Fatalf("ballots = %+v", b)
	}
	s.waitPost(post, "2 stemmers")
	final := mm.Post(post).Message
	for _, want := range []string{"hooguit 2 stemmen per persoon", "1 stem (50%)", "2 stemmen (100%)", "0 stemmen (0%)"} {
		if !strings.Contains(final, want) {
			t.Errorf("poll post lacks %q:\n%s", want, final)
		}
	}
}

// TestMattermostHiddenResults: no counts until the poll closes; a voter is
// told their own vote; closing shows the counts.
func TestMattermostHiddenResults(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")
	id := pollID(t, s.command(anna, `/poll "Nieuwe voorzitter?" Anna Bram --verborgen`).Text)
	post := mm.Posts()[0].Id
	if text := s.click(post, 1, bram); !strings.Contains(text, "Je stem bij „Nieuwe voorzitter?”: **Bram**") {
		t.Errorf("own vote in a hidden poll = %q", text)
	}
	s.click(post, 1, cato)
	s.click(post, 0, anna)
	s.waitPost(post, "3 stemmers")
	open := mm.Post(post).Message
	if strings.Contains(open, "stem (") || strings.Contains(open, "stemmen (") || strings.Contains(open, "Bram Jansen") {
		t.Errorf("an open hidden poll shows results:\n%s", open)
	}
	if !strings.Contains(open, "verborgen tot de peiling sluit") {
		t.Errorf("an open hidden poll does not say its results are hidden:\n%s", open)
	}
	if r := s.command(anna, "/poll export "+id).Text; !strings.Contains(r, "verborgen") {
		t.Errorf("export of an open hidden poll: %q", r)
	}
	mine := s.button(post, "pollmine")
	if text := s.click(post, mine, cato); !strings.Contains(text, "**Bram**") {
		t.Errorf("Mijn stem = %q", text)
	}
	if r := s.command(anna, "/poll sluit "+id).Text; !strings.Contains(r, "is gesloten") {
		t.Fatalf("close: %q", r)
	}
	s.waitPost(post, "(gesloten)")
	closed := mm.Post(post).Message
	for _, want := range []string{"2 stemmen (67%)", "1 stem (33%)", "Bram Jansen", "Cato"} {
		if !strings.Contains(closed, want) {
			t.Errorf("closed hidden poll lacks %q:\n%s", want, closed)
		}
	}
}

// TestMattermostReopenDeleteAndWhoMay: reopen and delete through the
// buttons of a closed poll (delete asks first), another user refused, an
// admin from KRING_ADMINS allowed.
func TestMattermostReopenDeleteAndWhoMay(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db", func(c *Config) { c.Admins = "slack:U1,mattermost:" + cato })
	id := pollID(t, s.command(anna, `/poll "Kennistafel in maart?" Ja Nee`).Text)
	post := mm.Posts()[0].Id
	s.click(post, 0, bram)

	// Bram may not close Anna's poll, by button or by command. The button
	// says so at once instead of asking "Peiling sluiten?" first. Her
	// poll names her as her first command did: by her username, as
	// nothing asks Mattermost about a user on a request's way.
	s.refusedWithoutConfirm(post, s.button(post, "pollclose"), bram, "Alleen de maker (anna) of een beheerder kan dat doen.")
	if r := s.command(bram, "/poll sluit "+id).Text; !strings.Contains(r, "Alleen de maker") {
		t.Errorf("bram closing by command: %q", r)
	}
	if p, _ := s.poll(id); p.Closed {
		t.Fatal("another user closed the poll")
	}

	// Anna closes it with the button, after confirming.
	s.confirm(post, s.button(post, "pollclose"), anna)
	if p, _ := s.poll(id); !p.Closed {
		t.Fatal("not closed after confirming")
	}
	s.waitEphemeral(anna, "is gesloten")

	// A closed poll has Heropenen and Verwijderen; Bram may do neither.
	reopen := s.waitButton(post, "pollreopen")
	if text := s.click(post, reopen, bram); !strings.Contains(text, "Alleen de maker") {
		t.Errorf("bram reopening: %q", text)
	}
	if p, _ := s.poll(id); !p.Closed {
		t.Fatal("another user reopened the poll")
	}
	// Cato is an admin: she reopens it, and it takes votes again.
	if text := s.click(post, reopen, cato); !strings.Contains(text, "is weer open") {
		t.Errorf("admin reopening: %q", text)
	}
	if p, _ := s.poll(id); p.Closed {
		t.Fatal("not reopened")
	}
	s.waitButton(post, "pollvote")
	s.click(post, 1, cato)
	if _, b := s.poll(id); len(b) != 2 {
		t.Errorf("ballots after reopening = %+v", b)
	}

	// Cato closes it again by command, then deletes it with the button.
	if r := s.command(cato, "/poll sluit "+id).Text; !strings.Contains(r, "is gesloten") {
		t.Fatalf("admin closing: %q", r)
	}
	del := s.waitButton(post, "polldelete")
	s.refusedWithoutConfirm(post, del, bram, "Alleen de maker")
	if _, _, err := s.app.stores.Polls.Get(t.Context(), id); err != nil {
		t.Fatalf("another user deleted the poll: %v", err)
	}
	s.confirm(post, del, cato)
	if _, _, err := s.app.stores.Polls.Get(t.Context(), id); err == nil {
		t.Fatal("still there after the admin confirmed deleting it")
	}
	s.waitPost(post, "is verwijderd door Cato")
	if n := len(mattermosttest.Actions(mm.Post(post))); n != 0 {
		t.Errorf("a deleted poll's post still has %d buttons", n)
	}
	if r := s.command(anna, "/poll heropen "+id).Text; !strings.Contains(r, "Ik vind geen peiling") {
		t.Errorf("reopening a deleted poll: %q", r)
	}
}

// TestMattermostPollList: /poll lijst lists the open polls of the channel
// with their voters, not closed ones nor another channel's.
func TestMattermostPollList(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")
	if r := s.command(anna, "/poll lijst").Text; !strings.Contains(r, "Er zijn geen open peilingen") {
		t.Errorf("empty list: %q", r)
	}
	lunch := pollID(t, s.command(anna, `/poll "Lunch?" Pizza Soep`).Text)
	s.click(mm.Posts()[0].Id, 0, bram)
	s.click(mm.Posts()[0].Id, 1, cato)
	pollID(t, s.command(bram, `/poll "Datum?" ma di`).Text)
	closed := pollID(t, s.command(bram, `/poll "Oud?" ja nee`).Text)
	s.command(bram, "/poll sluit "+closed)
	other := "other000000000000000000000"
	pollID(t, s.commandIn(other, anna, `/poll "Elders?" ja nee`).Text)

	list := s.command(cato, "/poll lijst").Text
	for _, want := range []string{"2 open peilingen in dit kanaal", "Lunch?", "2 stemmers", "ID `" + lunch + "`", "Datum?", "nog geen stemmen"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	for _, not := range []string{"Oud?", "Elders?"} {
		if strings.Contains(list, not) {
			t.Errorf("list shows %q:\n%s", not, list)
		}
	}
	if r := s.command(cato, "/poll list").Text; r != list {
		t.Errorf("/poll list = %q, /poll lijst = %q", r, list)
	}
}

// TestMattermostPollInEnglish: after /kring taal en the team's polls,
// replies and dialogs are in English.
func TestMattermostPollInEnglish(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db", func(c *Config) { c.Admins = "mattermost:" + anna })
	if r := s.command(bram, "/kring taal en --werkruimte").Text; !strings.Contains(r, "Alleen beheerders") {
		t.Fatalf("/kring taal en --werkruimte by a member: %q", r)
	}
	if r := s.command(anna, "/kring taal en --werkruimte").Text; !strings.Contains(r, "in this workspace are in English") {
		t.Fatalf("/kring taal en --werkruimte by an admin: %q", r)
	}
	r := s.command(anna, `/poll "Lunch?" Pizza Soup --votes=2`).Text
	if !strings.Contains(r, "Your poll is in the channel") {
		t.Errorf("poll reply: %q", r)
	}
	id := pollID(t, r)
	post := mm.Posts()[0].Id
	if labels := actionNames(mm.Post(post)); !slices.Contains(labels, "Close") {
		t.Errorf("buttons = %q", labels)
	}
	s.click(post, 0, bram)
	s.click(post, 1, bram)
	if text := s.click(post, 0, bram); text != "" {
		t.Errorf("taking a vote back answered %q", text)
	}
	s.click(post, 0, anna)
	s.waitPost(post, "2 voters")
	// Anna is named as kring knew her when she made the poll: by her
	// username, or, once the lookup after her first command is done, by
	// her full name.
	byAnna := "by Anna de Vries"
	if strings.Contains(mm.Post(post).Message, "by anna") {
		byAnna = "by anna"
	}
	for _, want := range []string{"1 vote (50%)", "up to 2 votes per person", byAnna} {
		if !strings.Contains(mm.Post(post).Message, want) {
			t.Errorf("English poll post lacks %q:\n%s", want, mm.Post(post).Message)
		}
	}
	n := len(mm.Dialogs())
	s.click(post, s.button(post, "pollclose"), anna)
	if ds := mm.Dialogs(); len(ds) != n+1 || ds[n].Dialog.Title != "Close the poll?" || ds[n].Dialog.SubmitLabel != "Close" {
		t.Errorf("confirmation dialog = %+v", ds[n:])
	}
	if r := s.command(bram, "/poll sluit "+id).Text; !strings.Contains(r, "Only its creator ("+strings.TrimPrefix(byAnna, "by ")+")") {
		t.Errorf("another user closing: %q", r)
	}
}

func actionNames(p *model.Post) []string {
	var out []string
	for _, a := range mattermosttest.Actions(p) {
		out = append(out, a.Name)
	}
	return out
}

// TestMattermostBotNotInChannel: a poll in a channel the bot is not a
// member of (Mattermost answers 403) gets a Dutch reply saying how to add
// the bot, and leaves no poll behind.
func TestMattermostBotNotInChannel(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	private := "private0000000000000000000"
	mm.Outsider(private)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")
	r := s.commandIn(private, anna, `/poll "Geheim overleg?" ja nee`).Text
	for _, want := range []string{"Ik mag in dit kanaal (nog) niet posten", "/invite @kring"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q: %q", want, r)
		}
	}
	if n := mm.Count(http.MethodPost, "/api/v4/posts"); n != 1 {
		t.Errorf("%d post attempts, want 1", n)
	}
	polls, err := s.app.stores.Polls.List(t.Context(), bot.Where{Platform: bot.Mattermost, Team: mm.TeamID, Channel: private})
	if err != nil || len(polls) != 0 {
		t.Errorf("polls left in the channel: %+v, %v", polls, err)
	}
	if r := s.commandIn(private, anna, "/poll lijst").Text; !strings.Contains(r, "Er zijn geen open peilingen") {
		t.Errorf("list: %q", r)
	}
}
