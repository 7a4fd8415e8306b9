package poll_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/live"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/bot/schedule"
	"github.com/kringbot/kring/storage/bolt"
)

type fixture struct {
	mux    *bot.Mux
	poster *bottest.Poster
	clock  *bottest.Clock
	store  poll.Store
	jobs   schedule.Store
	runner *schedule.Runner
	where  bot.Where
}

func setup(t *testing.T) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	fx := &fixture{
		mux:    &bot.Mux{Settings: db.Settings()},
		poster: bottest.NewPoster(),
		clock:  bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams)),
		store:  db.Polls(),
		jobs:   db.Jobs(),
		where:  bot.Where{Platform: bot.Shell, Team: "t", Channel: "limburg"},
	}
	fx.runner = &schedule.Runner{Store: fx.jobs, Clock: fx.clock}
	// Live renders each change in the request (Inline), and puts the
	// durable render a runner does later, as kring serve does.
	lv := live.New(live.Config{Poster: fx.poster, Jobs: fx.jobs, Clock: fx.clock, Inline: true})
	t.Cleanup(lv.Close)
	poll.New(poll.Config{
		Store: fx.store, Jobs: fx.jobs, Poster: fx.poster, Clock: fx.clock,
		Admins: bot.ParseAdmins("shell:beheer"), Secret: "s3cret", Location: ams, Locale: fx.mux.Locale, Live: lv,
	}).Register(fx.mux, fx.runner)
	return fx
}

func (fx *fixture) command(user, text string) bot.Reply {
	return fx.mux.ServeCommand(context.Background(), &bot.Request{
		Where: fx.where, User: bot.User{ID: user, Name: strings.ToUpper(user[:1]) + user[1:]}, Command: "/poll", Text: text, TriggerID: "t1",
	})
}

func (fx *fixture) click(user string, b bot.Button, ref bot.Ref) bot.Reply {
	return fx.mux.ServeAction(context.Background(), &bot.Action{
		Where: fx.where, User: bot.User{ID: user, Name: strings.ToUpper(user[:1]) + user[1:]}, ID: b.ID, Value: b.Value, Ref: ref, TriggerID: "t2",
	})
}

// posted returns the latest state of the last poll posted (a message
// with buttons: not a closing notice).
func (fx *fixture) posted(t *testing.T) (bot.Ref, bot.Message) {
	t.Helper()
	var ref bot.Ref
	for _, c := range fx.poster.Calls() {
		if c.Method == "Post" && len(c.Message.Buttons()) > 0 {
			ref = c.Ref
		}
	}
	if ref.IsZero() {
		t.Fatal("nothing posted")
	}
	m, _ := fx.poster.Message(ref)
	return ref, m
}

// lastPost is the text of the last message posted, such as a closing
// notice.
func (fx *fixture) lastPost(t *testing.T) string {
	t.Helper()
	calls := fx.poster.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Method == "Post" {
			return bot.PlainText(calls[i].Message.Text)
		}
	}
	t.Fatal("nothing posted")
	return ""
}

func text(m bot.Message) string {
	var b strings.Builder
	for _, blk := range m.Blocks {
		switch blk := blk.(type) {
		case bot.Header:
			b.WriteString(blk.Text + "\n")
		case bot.Section:
			b.WriteString(blk.Text + "\n")
		case bot.Context:
			b.WriteString(blk.Text + "\n")
		}
	}
	return bot.PlainText(b.String())
}

func button(t *testing.T, m bot.Message, id, labelPrefix string) bot.Button {
	t.Helper()
	for _, b := range m.Buttons() {
		if b.ID == id && strings.HasPrefix(b.Label, labelPrefix) {
			return b
		}
	}
	t.Fatalf("no button %s %q in %+v", id, labelPrefix, m.Buttons())
	return bot.Button{}
}

func replyText(r bot.Reply) string {
	if r.Message == nil {
		return ""
	}
	return bot.PlainText(r.Message.Text)
}

func pollID(t *testing.T, m bot.Message) string {
	t.Helper()
	bs := m.Buttons()
	if len(bs) == 0 {
		t.Fatal("message has no buttons")
	}
	return strings.SplitN(bs[len(bs)-1].Value, ":", 2)[0]
}

func TestVotesShowNamesCountsAndTotals(t *testing.T) {
	fx := setup(t)
	if r := fx.command("anna", `"Wanneer de kick-off?" "di 14 jan" "do 16 jan" "vr 17 jan" --stemmen=2`); !strings.Contains(replyText(r), "ID") {
		t.Fatalf("creator's reply: %q", replyText(r))
	}
	ref, m := fx.posted(t)
	fx.click("anna", button(t, m, "poll.vote", "1."), ref)
	fx.click("anna", button(t, m, "poll.vote", "2."), ref)
	if r := fx.click("anna", button(t, m, "poll.vote", "3."), ref); !strings.Contains(replyText(r), "al 2 stemmen") {
		t.Fatalf("third vote of two: %q", replyText(r))
	}
	fx.click("bert", button(t, m, "poll.vote", "2."), ref)
	fx.click("cor", button(t, m, "poll.vote", "2."), ref)
	fx.click("cor", button(t, m, "poll.vote", "2."), ref) // takes it back
	fx.click("cor", button(t, m, "poll.vote", "3."), ref)

	_, m = fx.posted(t)
	got := text(m)
	for _, want := range []string{
		"1. di 14 jan\n███░░░░░░░ 1 stem (33%)\nAnna",
		"2. do 16 jan\n███████░░░ 2 stemmen (67%)\nAnna, Bert",
		"3. vr 17 jan\n███░░░░░░░ 1 stem (33%)\nCor",
		"3 stemmers · hooguit 2 stemmen per persoon",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("poll message lacks %q:\n%s", want, got)
		}
	}
}

func TestAnonymousPollStoresNoVoterAndShowsOwnVote(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --anoniem`)
	ref, m := fx.posted(t)
	r := fx.click("bert", button(t, m, "poll.vote", "2."), ref)
	if !strings.Contains(replyText(r), "Soep") {
		t.Fatalf("an anonymous voter is told their vote: %q", replyText(r))
	}
	_, m = fx.posted(t)
	if got := text(m); strings.Contains(got, "Bert") || !strings.Contains(got, "1 stem (100%)") {
		t.Fatalf("anonymous poll shows a name or lacks the count:\n%s", got)
	}
	_, ballots, err := fx.store.Get(context.Background(), pollID(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if len(ballots) != 1 || strings.Contains(ballots[0].Voter, "bert") || ballots[0].Name != "" {
		t.Fatalf("the store knows who voted: %+v", ballots)
	}
	if r := fx.click("bert", button(t, m, "poll.mine", ""), ref); !strings.Contains(replyText(r), "Soep") {
		t.Fatalf("my vote: %q", replyText(r))
	}
	if r := fx.click("anna", button(t, m, "poll.mine", ""), ref); !strings.Contains(replyText(r), "niet gestemd") {
		t.Fatalf("the creator sees someone else's vote: %q", replyText(r))
	}
}

func TestHiddenResultsUntilClosed(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --verborgen`)
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	_, m = fx.posted(t)
	if got := text(m); strings.Contains(got, "stem (") || strings.Contains(got, "Bert") || !strings.Contains(got, "1 stemmer") {
		t.Fatalf("hidden poll shows results:\n%s", got)
	}
	if r := fx.command("bert", "export "+pollID(t, m)); !strings.Contains(replyText(r), "verborgen") {
		t.Fatalf("export of a hidden open poll: %q", replyText(r))
	}
	fx.click("anna", button(t, m, "poll.close", ""), ref)
	_, m = fx.posted(t)
	if got := text(m); !strings.Contains(got, "🏆 1. Pizza") || !strings.Contains(got, "Bert") {
		t.Fatalf("closed hidden poll does not show its result:\n%s", got)
	}
}

func TestCloseReopenDeletePermissions(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	if r := fx.click("bert", button(t, m, "poll.close", ""), ref); !strings.Contains(replyText(r), "Alleen de maker") {
		t.Fatalf("bert closed anna's poll: %q", replyText(r))
	}
	if r := fx.command("beheer", "sluit "+id); !strings.Contains(replyText(r), "gesloten") {
		t.Fatalf("admin close: %q", replyText(r))
	}
	_, m = fx.posted(t)
	if r := fx.click("bert", bot.Button{ID: "poll.vote", Value: id + ":0"}, ref); !strings.Contains(replyText(r), "gesloten") {
		t.Fatalf("vote on a closed poll: %q", replyText(r))
	}
	fx.click("anna", button(t, m, "poll.reopen", ""), ref)
	if r := fx.click("bert", bot.Button{ID: "poll.vote", Value: id + ":0"}, ref); r.Message != nil {
		t.Fatalf("vote after reopening: %q", replyText(r))
	}
	if r := fx.command("anna", "verwijder "+id); !strings.Contains(replyText(r), "verwijderd") {
		t.Fatalf("delete: %q", replyText(r))
	}
	if _, m := fx.posted(t); !strings.Contains(text(m), "verwijderd door Anna") {
		t.Fatalf("message of a deleted poll: %s", text(m))
	}
	if r := fx.command("anna", "export "+id); !strings.Contains(replyText(r), "geen peiling") {
		t.Fatalf("export of a deleted poll: %q", replyText(r))
	}
}

func TestAddOptionThroughForm(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --toevoegen`)
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.add", ""), ref)
	calls := fx.poster.Calls()
	form := calls[len(calls)-1].Form
	if form.ID != "poll.add.submit" || len(form.Inputs) != 1 {
		t.Fatalf("form: %+v", form)
	}
	submit := func(v string) bot.Reply {
		return fx.mux.ServeAction(context.Background(), &bot.Action{
			Where: fx.where, User: bot.User{ID: "bert", Name: "Bert"}, ID: form.ID, Value: form.State,
			Form: bot.Values{"option": {v}},
		})
	}
	if r := submit("  soep "); !strings.Contains(r.FieldErrors["option"], "staat er al") {
		t.Fatalf("duplicate option: %+v", r)
	}
	if r := submit(""); r.FieldErrors["option"] == "" {
		t.Fatalf("empty option accepted: %+v", r)
	}
	if r := submit("Salade"); len(r.FieldErrors) > 0 {
		t.Fatalf("add: %+v", r)
	}
	_, m = fx.posted(t)
	button(t, m, "poll.vote", "3. Salade")
}

func TestExportCSV(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? "=Pizza" Soep`)
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	fx.click("cor", button(t, m, "poll.vote", "1."), ref)
	fx.command("anna", "export "+pollID(t, m))
	calls := fx.poster.Calls()
	f := calls[len(calls)-1].File
	// Dutch Excel: ';' between fields and a byte order mark for UTF-8.
	want := "\uFEFFoptie;stemmen;stemmers\n'=Pizza;2;Bert, Cor\nSoep;0;\n"
	if string(f.Content) != want || !strings.HasSuffix(f.Name, ".csv") {
		t.Fatalf("export %s:\n%q\nwant:\n%q", f.Name, f.Content, want)
	}
}

// TestCSVPerLocale: the Dutch export opens in Excel set to Dutch (';', a
// UTF-8 byte order mark, so "Zoë" stays Zoë); the English one is RFC 4180
// as before.
func TestCSVPerLocale(t *testing.T) {
	p := &poll.Poll{ID: "p1", Question: "Lunch?", Options: []poll.Option{{Label: "Soep; met brood"}, {Label: "=1+1"}}, MaxVotes: 2}
	ballots := []poll.Ballot{{Voter: "u1", Name: "Zoë", Options: []int{0, 1}}, {Voter: "u2", Name: "Bram", Options: []int{0}}}
	anon := *p
	anon.Anonymous = true
	tests := []struct {
		locale string
		p      *poll.Poll
		want   string
	}{
		{"nl", p, "\uFEFFoptie;stemmen;stemmers\n\"Soep; met brood\";2;Bram, Zoë\n'=1+1;1;Zoë\n"},
		{"en", p, "option,votes,voters\nSoep; met brood,2,Bram; Zoë\n'=1+1,1,Zoë\n"},
		{"nl", &anon, "\uFEFFoptie;stemmen\n\"Soep; met brood\";2\n'=1+1;1\n"},
		{"en", &anon, "option,votes\nSoep; met brood,2\n'=1+1,1\n"},
	}
	for _, tt := range tests {
		if got := string(poll.CSV(bot.T(tt.locale), tt.p, ballots)); got != tt.want {
			t.Errorf("%s, anonymous %v:\n%q\nwant\n%q", tt.locale, tt.p.Anonymous, got, tt.want)
		}
	}
}

func TestClosingTimeRunsOnce(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --sluit=2h`)
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	fx.settleLive(t)
	fx.clock.Advance(time.Hour)
	if n, err := fx.runner.RunDue(context.Background()); n != 0 || err != nil {
		t.Fatalf("ran %d jobs an hour early (%v)", n, err)
	}
	fx.clock.Advance(time.Hour)
	if n, err := fx.runner.RunDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("ran %d jobs at closing time (%v)", n, err)
	}
	if got := fx.lastPost(t); !strings.Contains(got, "is gesloten (1 stemmer)") {
		t.Fatalf("closing notice: %s", got)
	}
	p, _, _ := fx.store.Get(context.Background(), pollID(t, mustMessage(t, fx, ref)))
	if !p.Closed {
		t.Fatal("poll still open after its closing time")
	}
	if n, _ := fx.runner.RunDue(context.Background()); n != 0 {
		t.Fatalf("closing job ran again")
	}
}

// settleLive runs the durable renders the changes so far left due, as a
// runner does a few seconds after them.
func (fx *fixture) settleLive(t *testing.T) {
	t.Helper()
	fx.clock.Advance(5 * time.Second)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mustMessage(t *testing.T, fx *fixture, ref bot.Ref) bot.Message {
	m, ok := fx.poster.Message(ref)
	if !ok {
		t.Fatal("no message")
	}
	return m
}

func TestPostFailureLeavesNoPoll(t *testing.T) {
	fx := setup(t)
	fx.poster.Err = bot.Errorf("kring.unknown_action")
	r := fx.command("anna", `Lunch? Pizza Soep`)
	if r.Message == nil {
		t.Fatal("no reply when posting failed")
	}
	fx.poster.Err = nil
	if r := fx.command("anna", "lijst"); !strings.Contains(replyText(r), "geen open peilingen") {
		t.Fatalf("a poll nobody saw is listed: %q", replyText(r))
	}
}

func TestListAndUsage(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	fx.command("anna", `"Kennistafel?" Ja Nee`)
	if r := fx.command("bert", "lijst"); !strings.Contains(replyText(r), "2 open peilingen") || !strings.Contains(replyText(r), "Kennistafel?") {
		t.Fatalf("list: %q", replyText(r))
	}
	if r := fx.command("bert", `"Alleen een optie?" Ja`); !strings.Contains(replyText(r), "minstens 2 opties") || !strings.Contains(replyText(r), "Zo maak je een peiling") {
		t.Fatalf("usage reply: %q", replyText(r))
	}
	if r := fx.command("bert", `sluit`); !strings.Contains(replyText(r), "/poll sluit ID") {
		t.Fatalf("missing id: %q", replyText(r))
	}
}

func TestUserTextIsEscaped(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `"*Gratis* taart voor @channel?" "[klik](http://x)" Nee`)
	_, m := fx.posted(t)
	h := m.Blocks[0].(bot.Header).Text
	if spans := bot.ParseMarkup(h); len(spans) != 1 || spans[0].Bold || strings.Contains(spans[0].Text, "@channel") {
		t.Fatalf("question markup was not escaped: %q → %+v", h, spans)
	}
}

func TestConcurrentClicksEndWithTheRightMessage(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	ref, m := fx.posted(t)
	pizza := button(t, m, "poll.vote", "1.")
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			if r := fx.click(fmt.Sprintf("user%03d", i), pizza, ref); r.Message != nil {
				t.Errorf("click %d: %s", i, replyText(r))
			}
		})
	}
	wg.Wait()
	if _, m := fx.posted(t); !strings.Contains(text(m), "300 stemmen (100%)") || !strings.Contains(text(m), "300 stemmers") {
		t.Fatalf("after 300 concurrent clicks the message says:\n%s", text(m))
	}
	if n := len(fx.poster.Calls()); n > 301 {
		t.Errorf("%d poster calls for 300 clicks", n)
	}
}

func TestClosingJobRetriedAfterFailureStillAnnounces(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --sluit=2h`)
	ref, m := fx.posted(t)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	fx.settleLive(t)
	fx.clock.Advance(2 * time.Hour)
	// The platform fails while the poll closes: the store has it closed,
	// but neither the message nor the notice went out.
	fx.poster.Err = fmt.Errorf("platform down")
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := fx.store.Get(context.Background(), pollID(t, m)); !p.Closed {
		t.Fatal("not closed at its time")
	}
	fx.poster.Err = nil
	// A minute on, the notice is tried again, and the durable render
	// brings the message up to date.
	fx.clock.Advance(2 * time.Minute)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text(mustMessage(t, fx, ref)), "gesloten") {
		t.Fatalf("poll message not updated after the retry: %s", text(mustMessage(t, fx, ref)))
	}
	if last := fx.lastPost(t); !strings.Contains(last, "is gesloten (1 stemmer)") {
		t.Fatalf("closing notice lost after the retry; last post: %s", last)
	}
	// Once out, it is not posted again.
	posts := len(fx.poster.Calls())
	fx.clock.Advance(time.Hour)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range fx.poster.Calls()[posts:] {
		if c.Method == "Post" {
			t.Fatalf("posted again: %s", text(c.Message))
		}
	}
}

func TestReopenedPollStillClosesAtItsTime(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --sluit=2h`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	if r := fx.command("anna", "sluit "+id); !strings.Contains(replyText(r), "Lunch?") {
		t.Fatalf("close: %q", replyText(r))
	}
	if r := fx.command("anna", "heropen "+id); !strings.Contains(replyText(r), "Lunch?") {
		t.Fatalf("reopen: %q", replyText(r))
	}
	if !strings.Contains(text(mustMessage(t, fx, ref)), "sluit") {
		t.Fatalf("reopened poll does not show its closing time: %s", text(mustMessage(t, fx, ref)))
	}
	fx.clock.Advance(2 * time.Hour)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, _, _ := fx.store.Get(context.Background(), id)
	if !p.Closed {
		t.Fatal("a reopened poll shows its closing time but stays open after it")
	}
}

func TestReopenedAfterClosingTimeDoesNotPromiseIt(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --sluit=2h`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	fx.clock.Advance(2 * time.Hour)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := fx.command("anna", "heropen "+id); !strings.Contains(replyText(r), "Lunch?") {
		t.Fatalf("reopen: %q", replyText(r))
	}
	if got := text(mustMessage(t, fx, ref)); strings.Contains(got, "sluit ") {
		t.Fatalf("reopened poll promises a closing time that has passed: %s", got)
	}
	if got := replyText(fx.command("anna", "lijst")); strings.Contains(got, "sluit ") {
		t.Fatalf("list promises a closing time that has passed: %s", got)
	}
}

// failingJobs is a schedule.Store whose Put fails, as when Redis goes away.
type failingJobs struct{ schedule.Store }

func (failingJobs) Put(context.Context, schedule.Job) error { return fmt.Errorf("store unreachable") }

func TestPollWithClosingTimeIsNotPostedWhenItsClosingCannotBeScheduled(t *testing.T) {
	fx := setup(t)
	mux := &bot.Mux{}
	poll.New(poll.Config{Store: fx.store, Jobs: failingJobs{fx.jobs}, Poster: fx.poster, Clock: fx.clock}).Register(mux, nil)
	r := mux.ServeCommand(context.Background(), &bot.Request{
		Where: fx.where, User: bot.User{ID: "anna", Name: "Anna"}, Command: "/poll", Text: `Lunch? Pizza Soep --sluit=2h`,
	})
	if r.Message == nil {
		t.Fatal("no reply when scheduling the closing failed")
	}
	for _, c := range fx.poster.Calls() {
		if c.Method == "Post" {
			t.Fatalf("a poll that will never close was posted: %s", text(c.Message))
		}
	}
	if polls, _ := fx.store.List(context.Background(), fx.where); len(polls) != 0 {
		t.Fatalf("%d polls left in the store", len(polls))
	}
}

// heldPoster holds back its first Update until released, as a slow
// network between one kring process and Slack would.
type heldPoster struct {
	*bottest.Poster
	once    sync.Once
	held    chan struct{}
	release chan struct{}
	landed  chan struct{}
}

func (p *heldPoster) Update(ctx context.Context, ref bot.Ref, m bot.Message) error {
	first := false
	p.once.Do(func() { first = true })
	if !first {
		return p.Poster.Update(ctx, ref, m)
	}
	close(p.held)
	<-p.release
	defer close(p.landed)
	return p.Poster.Update(ctx, ref, m)
}

// Two kring processes share a store and update one message; the update of
// an older state lands last. The durable render, due after the burst, puts
// the final state back.
func TestDurableRenderFixesOutOfOrderUpdates(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	ref, m := fx.posted(t)
	pizza := button(t, m, "poll.vote", "1.")

	held := &heldPoster{Poster: fx.poster, held: make(chan struct{}), release: make(chan struct{}), landed: make(chan struct{})}
	other := &bot.Mux{}
	lv := live.New(live.Config{Poster: held, Jobs: fx.jobs, Clock: fx.clock, Inline: true})
	second := poll.New(poll.Config{Store: fx.store, Jobs: fx.jobs, Poster: held, Clock: fx.clock, Live: lv})
	second.Register(other, nil)
	defer second.Close()

	// Bert votes through the second process; its update stalls.
	done := make(chan struct{})
	go func() {
		defer close(done)
		other.ServeAction(context.Background(), &bot.Action{Where: fx.where, User: bot.User{ID: "bert", Name: "Bert"}, ID: pizza.ID, Value: pizza.Value, Ref: ref})
	}()
	<-held.held
	// Cor votes through the first process, which updates at once.
	fx.click("cor", pizza, ref)
	if m, _ := fx.poster.Message(ref); !strings.Contains(text(m), "2 stemmers") {
		t.Fatalf("first process's update:\n%s", text(m))
	}
	close(held.release)
	<-held.landed
	<-done
	if m, _ := fx.poster.Message(ref); !strings.Contains(text(m), "1 stemmer") {
		t.Fatalf("the stale update did not land last:\n%s", text(m))
	}

	// The durable renders both processes put are due a few seconds after
	// their changes; the runner renders the final state.
	lv.Close()
	fx.clock.Advance(5 * time.Second)
	if _, err := fx.runner.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, _ := fx.poster.Message(ref); !strings.Contains(text(m), "2 stemmers") || !strings.Contains(text(m), "Bert, Cor") {
		t.Fatalf("the durable render did not put the final state last:\n%s", text(m))
	}
}

// refFailing fails SetRef, as a store that goes away right after the poll
// was posted does.
type refFailing struct {
	poll.Store
	fail bool
}

func (s *refFailing) SetRef(ctx context.Context, id string, ref bot.Ref) error {
	if s.fail {
		return errors.New("store went away")
	}
	return s.Store.SetRef(ctx, id, ref)
}

func TestFirstClickRecordsAMessageTheStoreMissed(t *testing.T) {
	fx := setup(t)
	store := &refFailing{Store: fx.store, fail: true}
	mux := &bot.Mux{}
	poll.New(poll.Config{Store: store, Poster: fx.poster, Clock: fx.clock}).Register(mux, nil)
	r := mux.ServeCommand(context.Background(), &bot.Request{Where: fx.where, User: bot.User{ID: "anna"}, Command: "/poll", Text: "Lunch? Pizza Soep"})
	if !strings.Contains(replyText(r), "foutcode") {
		t.Fatalf("creator's reply when the store failed: %q", replyText(r))
	}
	store.fail = false
	ref, m := fx.posted(t)
	b := button(t, m, "poll.vote", "1.")
	mux.ServeAction(context.Background(), &bot.Action{Where: fx.where, User: bot.User{ID: "bert", Name: "Bert"}, ID: b.ID, Value: b.Value, Ref: ref})
	if m, _ := fx.poster.Message(ref); !strings.Contains(text(m), "1 stemmer") {
		t.Fatalf("the poll's message did not follow the vote:\n%s", text(m))
	}
}

func TestListLeavesOutPollsNeverPosted(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Zichtbaar? Ja Nee`)
	// A poll stored but never posted: kring stopped in between.
	if err := fx.store.Create(context.Background(), &poll.Poll{ID: "ghost", Where: fx.where, Question: "Onzichtbaar?", Options: []poll.Option{{Label: "a"}, {Label: "b"}}, MaxVotes: 1, Created: fx.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	r := replyText(fx.command("bert", "lijst"))
	if !strings.Contains(r, "Zichtbaar?") || strings.Contains(r, "Onzichtbaar?") {
		t.Fatalf("list: %q", r)
	}
}

// TestButtonWordsAsSubcommands: what the buttons say (Sluiten, Heropenen,
// Verwijderen), exporteren and uitslag work as subcommands, an id copied
// with its backticks is read, and help answers in both languages' words.
func TestButtonWordsAsSubcommands(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	uploads := func() int {
		n := 0
		for _, c := range fx.poster.Calls() {
			if c.Method == "Upload" {
				n++
			}
		}
		return n
	}
	tests := []struct {
		text, want string
		upload     bool
	}{
		{"help", "Peilingen met /poll", false},
		{"hulp", "Peilingen met /poll", false},
		{"uitslag `" + id + "`", "1. Pizza\n██████████ 1 stem (100%)", false},
		{"exporteren " + id, "De export van peiling", true},
		{"export ID " + id, "De export van peiling", true},
		{"mijn stem " + id, "nog niet gestemd", false},
		{"sluiten `" + id + "`", "is gesloten", false},
		{"heropenen " + id, "weer open", false},
		{"sluiten " + strings.ToUpper(id), "is gesloten", false},
		{"verwijderen " + id, "is verwijderd", false},
		{"uitslag", "/poll uitslag ID", false},
		{"mijn stem", "/poll mijn stem ID, bijvoorbeeld /poll mijn stem abc234", false},
		{"sluiten", "Geef aan om welke peiling het gaat: /poll sluiten ID, bijvoorbeeld /poll sluiten abc234", false},
	}
	for _, tt := range tests {
		before := uploads()
		got := replyText(fx.command("anna", tt.text))
		if r := fx.command("anna", tt.text); tt.text == "uitslag `"+id+"`" {
			got = text(*r.Message) // the result is a message like the poll's
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("/poll %s: %q, want %q", tt.text, got, tt.want)
		}
		if uploaded := uploads() > before; uploaded != tt.upload {
			t.Errorf("/poll %s: uploaded %v, want %v", tt.text, uploaded, tt.upload)
		}
	}
	// A question that starts with such a word is still a question.
	fx.command("anna", `Sluiten we om vijf uur af? Ja Nee`)
	if _, m := fx.posted(t); !strings.Contains(text(m), "Sluiten we om vijf uur af?") {
		t.Fatalf("a question starting with sluiten: %s", text(m))
	}
}

// TestResultOfHiddenPoll: /poll uitslag keeps a hidden poll's result
// hidden until it closes, and shows no buttons.
func TestResultOfHiddenPoll(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --verborgen`)
	ref, m := fx.posted(t)
	id := pollID(t, m)
	fx.click("bert", button(t, m, "poll.vote", "1."), ref)
	if r := replyText(fx.command("anna", "uitslag "+id)); !strings.Contains(r, "blijft verborgen tot de peiling sluit") || strings.Contains(r, "Pizza") {
		t.Fatalf("result of an open hidden poll: %q", r)
	}
	fx.command("anna", "sluit "+id)
	r := fx.command("anna", "uitslag "+id)
	if got := text(*r.Message); !strings.Contains(got, "🏆 1. Pizza") || !strings.Contains(got, "Bert") || !strings.Contains(got, "/poll export "+id) {
		t.Fatalf("result of the closed poll:\n%s", got)
	}
	if len(r.Message.Buttons()) != 0 {
		t.Fatalf("the result has buttons: %+v", r.Message.Buttons())
	}
}

// TestCloseByHandAnnouncesOnce: closing by command or button posts the
// same notice in the channel as a closing time does, once per close.
func TestCloseByHandAnnouncesOnce(t *testing.T) {
	notices := func(fx *fixture) []string {
		var out []string
		for _, c := range fx.poster.Calls() {
			if c.Method == "Post" && len(c.Message.Buttons()) == 0 {
				if c.Where != fx.where {
					t.Errorf("notice posted in %+v", c.Where)
				}
				out = append(out, bot.PlainText(c.Message.Text))
			}
		}
		return out
	}
	for _, how := range []string{"command", "button"} {
		t.Run(how, func(t *testing.T) {
			fx := setup(t)
			fx.command("anna", `Lunch? Pizza Soep --sluit=2h`)
			ref, m := fx.posted(t)
			id := pollID(t, m)
			fx.click("bert", button(t, m, "poll.vote", "1."), ref)
			closeBtn := button(t, m, "poll.close", "") // a stale one closes too
			closeIt := func() bot.Reply {
				if how == "command" {
					return fx.command("anna", "sluit "+id)
				}
				return fx.click("anna", closeBtn, ref)
			}
			if r := replyText(closeIt()); !strings.Contains(r, "is gesloten") {
				t.Fatalf("close: %q", r)
			}
			got := notices(fx)
			if len(got) != 1 || got[0] != "📊 De peiling „Lunch?” is gesloten (1 stemmer). De uitslag staat bij de peiling." {
				t.Fatalf("notices after closing by %s: %q", how, got)
			}
			closeIt() // already closed: no second notice
			fx.clock.Advance(2 * time.Hour)
			if _, err := fx.runner.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := notices(fx); len(got) != 1 {
				t.Fatalf("notices after closing twice and the closing time: %q", got)
			}
			fx.command("anna", "heropen "+id)
			fx.clock.Advance(time.Minute)
			fx.command("anna", "sluit "+id)
			if got := notices(fx); len(got) != 2 {
				t.Fatalf("a poll reopened and closed again: %d notices, want 2: %q", len(got), got)
			}
		})
	}
}

// TestPollFactsWording: the small print of an open and a closed hidden
// poll, with no votes yet.
func TestPollFactsWording(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep --verborgen --sluit=17:00`)
	ref, m := fx.posted(t)
	if got := text(m); !strings.Contains(got, "nog geen stemmen · uitslag pas zichtbaar na sluiting · sluit di 13 jan om 17:00") {
		t.Errorf("open hidden poll:\n%s", got)
	}
	fx.command("anna", "sluit "+pollID(t, m))
	got := text(mustMessage(t, fx, ref))
	if strings.Contains(got, "verborgen") || strings.Contains(got, "zichtbaar na") || !strings.Contains(got, "geen stemmen · gesloten di 13 jan om 14:30") {
		t.Errorf("closed hidden poll:\n%s", got)
	}
	if n := fx.lastPost(t); !strings.Contains(n, "is gesloten (geen stemmen)") {
		t.Errorf("notice of a poll without votes: %s", n)
	}
}

// TestPollSpeaksTheWorkspaceLanguage: a user who chose English gets their
// own replies in English, but the poll everyone reads, its closing notice
// and its updates stay in the workspace's language.
func TestPollSpeaksTheWorkspaceLanguage(t *testing.T) {
	fx := setup(t)
	if err := fx.mux.Settings.SetUserLocale(context.Background(), fx.where.Workspace(), "bert", "en"); err != nil {
		t.Fatal(err)
	}
	if r := replyText(fx.command("bert", `Lunch? Pizza Soep --anoniem`)); !strings.Contains(r, "Your poll is in the channel") {
		t.Fatalf("bert's reply: %q", r)
	}
	ref, m := fx.posted(t)
	if got := text(m); !strings.Contains(got, "nog geen stemmen") {
		t.Fatalf("poll posted by an English-speaking user:\n%s", got)
	}
	if r := replyText(fx.click("bert", button(t, m, "poll.vote", "1."), ref)); !strings.Contains(r, "Your vote") {
		t.Fatalf("bert's own vote: %q", r)
	}
	if got := text(mustMessage(t, fx, ref)); !strings.Contains(got, "1 stemmer") {
		t.Fatalf("poll after an English-speaking user's vote:\n%s", got)
	}
	fx.command("bert", "close "+pollID(t, m))
	if got := fx.lastPost(t); !strings.Contains(got, "is gesloten (1 stemmer)") {
		t.Fatalf("closing notice after an English-speaking user closed it: %s", got)
	}
}

// TestUnsurePollIsNotPosted: `/poll Wie komt er naar de regiodag Ja Nee`
// used to post a poll "Wie" with the options komt, er, naar, …; now kring
// says how it reads it and how to write it, and posts nothing.
func TestUnsurePollIsNotPosted(t *testing.T) {
	fx := setup(t)
	r := replyText(fx.command("anna", "Wie komt er naar de regiodag Ja Nee Misschien"))
	for _, want := range []string{"Ik weet niet zeker waar je vraag ophoudt", "vraag: Wie\n", "- komt\n", "/poll Wie komt er naar de regiodag? Ja Nee Misschien"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "Zo maak je een peiling") {
		t.Errorf("the reply says how to write a poll twice:\n%s", r)
	}
	if calls := fx.poster.Calls(); len(calls) != 0 {
		t.Fatalf("posted %d messages, first %s", len(calls), text(calls[0].Message))
	}
	fx.command("anna", "Wie komt er naar de regiodag? Ja Nee Misschien")
	if _, m := fx.posted(t); !strings.HasPrefix(text(m), "📊 Wie komt er naar de regiodag?\n1. Ja") {
		t.Fatalf("with its question mark:\n%s", text(m))
	}
}

// TestCheckBeforeConfirm: an adapter asks before it shows "Peiling
// sluiten?"; someone who may not close, reopen or delete hears so then, and
// a poll of another channel is not found. Votes need no check.
func TestCheckBeforeConfirm(t *testing.T) {
	fx := setup(t)
	fx.command("anna", `Lunch? Pizza Soep`)
	_, m := fx.posted(t)
	id := pollID(t, m)
	check := func(where bot.Where, user, actionID, value string) string {
		r := fx.mux.CheckAction(context.Background(), &bot.Action{Where: where, User: bot.User{ID: user, Name: user}, ID: actionID, Value: value})
		return replyText(r)
	}
	elsewhere := fx.where
	elsewhere.Channel = "friesland"
	tests := []struct {
		where          bot.Where
		user, id, want string
	}{
		{fx.where, "anna", "poll.close", ""},
		{fx.where, "beheer", "poll.delete", ""},
		{fx.where, "bert", "poll.close", "Alleen de maker (Anna)"},
		{fx.where, "bert", "poll.reopen", "Alleen de maker (Anna)"},
		{fx.where, "bert", "poll.delete", "Alleen de maker (Anna)"},
		{fx.where, "bert", "poll.vote", ""},
		{elsewhere, "anna", "poll.close", "Ik vind geen peiling met ID " + id},
		{elsewhere, "beheer", "poll.delete", "Ik vind geen peiling met ID " + id},
	}
	for _, tt := range tests {
		value := id
		if tt.id == "poll.vote" {
			value += ":0"
		}
		got := check(tt.where, tt.user, tt.id, value)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("check %s by %s in #%s: %q, want %q", tt.id, tt.user, tt.where.Channel, got, tt.want)
		}
	}
	if p, _, _ := fx.store.Get(context.Background(), id); p.Closed {
		t.Fatal("a check closed the poll")
	}
}

// TestClosingTimeTheClocksSkip: a closing time that does not exist (the
// clocks go forward over it) closes an hour later, and the reply says so.
func TestClosingTimeTheClocksSkip(t *testing.T) {
	fx := setup(t)
	r := fx.command("anna", `Lunch? Pizza Soep --sluit=2026-03-29 02:30`)
	if got := replyText(r); !strings.Contains(got, "de klok vooruit") || !strings.Contains(got, "03:30") {
		t.Errorf("reply %q; want it to say the poll closes at 03:30, as the clocks skip 02:30", got)
	}
}
