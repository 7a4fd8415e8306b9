package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	a, err := m.newApp(ctx, log, bot.SystemClock{})
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

// TestMattermost200Clicks: 200 people vote on one post within a second.
// Every click is counted and answered within Mattermost's 3 s, and the
// post ends with the right count. BENCHMARKS.md quotes its log line.
func TestMattermost200Clicks(t *testing.T) {
	mm := mattermosttest.New(t)
	mmUsers(mm)
	const n = 200
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%022d", i)
		mm.AddUser(users[i], fmt.Sprintf("u%d", i), "Lid", fmt.Sprint(i), "")
	}
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")
	id := pollID(t, s.command(anna, `/poll "Lunch?" Pizza Soep Salade`).Text)
	post := mm.Posts()[0].Id
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		took  []time.Duration
		fails []string
	)
	start := time.Now()
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := mm.Click(client, post, i%3, u)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			took = append(took, d)
			if err != nil || r.Status != http.StatusOK {
				fails = append(fails, fmt.Sprintf("%s: %v %d %s", u, err, r.Status, r.Body))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	for _, f := range fails {
		t.Error(f)
	}
	slices.Sort(took)
	p50, p95, worst := took[n/2], took[n*95/100], took[n-1]
	if worst >= 3*time.Second {
		t.Errorf("slowest click answered after %s", worst)
	}
	_, ballots, err := s.app.stores.Polls.Get(t.Context(), id)
	if err != nil || len(ballots) != n {
		t.Fatalf("%d ballots, want %d (%v)", len(ballots), n, err)
	}
	updatesDuring := mm.Updates(post)
	// Connections dialled but never used would hold up the graceful
	// shutdown for five seconds.
	client.CloseIdleConnections()
	s.stop()
	final := mm.Post(post).Message
	for _, want := range []string{"200 stemmers", "67 stemmen (34%)", "66 stemmen (33%)"} {
		if !strings.Contains(final, want) {
			t.Errorf("final post lacks %q:\n%s", want, final)
		}
	}
	t.Logf("mattermost: %d clicks on one post in %s; answered p50 %s, p95 %s, max %s; post updated %d times while clicking, %d in all",
		n, wall.Round(time.Millisecond), p50.Round(time.Millisecond), p95.Round(time.Millisecond), worst.Round(time.Millisecond), updatesDuring, mm.Updates(post))
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
