package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

// TestPolls checks a poll.Store. newStore returns an empty store and is
// called once per subtest.
func TestPolls(t *testing.T, newStore func(t *testing.T) poll.Store) {
	t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, newStore(t)) })
	t.Run("CreateTakenID", func(t *testing.T) { testCreateTakenID(t, newStore(t)) })
	t.Run("MissingPoll", func(t *testing.T) { testMissingPoll(t, newStore(t)) })
	t.Run("BallotsRoundTrip", func(t *testing.T) { testBallotsRoundTrip(t, newStore(t)) })
	t.Run("Toggle", func(t *testing.T) { testToggle(t, newStore) })
	t.Run("TakeBackRemovesBallot", func(t *testing.T) { testTakeBack(t, newStore(t)) })
	t.Run("CloseReopen", func(t *testing.T) { testCloseReopen(t, newStore(t)) })
	t.Run("AddOption", func(t *testing.T) { testAddOption(t, newStore(t)) })
	t.Run("AddOptionLimit", func(t *testing.T) { testAddOptionLimit(t, newStore(t)) })
	t.Run("SetRef", func(t *testing.T) { testSetRef(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("ConcurrentVotes", func(t *testing.T) { testConcurrentVotes(t, newStore(t)) })
	t.Run("ConcurrentAddOption", func(t *testing.T) { testConcurrentAddOption(t, newStore(t)) })
	t.Run("ConcurrentCloseKeepsChanges", func(t *testing.T) { testConcurrentClose(t, newStore(t)) })
}

// newPoll returns an open poll in channelA with one vote per person.
func newPoll(id string, created time.Time, labels ...string) *poll.Poll {
	if len(labels) == 0 {
		labels = []string{"Pizza", "Soep", "Salade", "Broodjes"}
	}
	p := &poll.Poll{
		ID:       id,
		Where:    channelA,
		Creator:  bot.User{ID: "U-creator", Name: "Ineke"},
		Question: "Lunch?",
		MaxVotes: 1,
		Created:  created,
	}
	for _, l := range labels {
		p.Options = append(p.Options, poll.Option{Label: l})
	}
	return p
}

func mustCreate(t *testing.T, s poll.Store, p *poll.Poll) {
	t.Helper()
	if err := s.Create(t.Context(), p); err != nil {
		t.Fatalf("Create(%s): %v", p.ID, err)
	}
}

func mustGet(t *testing.T, s poll.Store, id string) (*poll.Poll, []poll.Ballot) {
	t.Helper()
	p, ballots, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	slices.SortFunc(ballots, func(a, b poll.Ballot) int { return strings.Compare(a.Voter, b.Voter) })
	return p, ballots
}

func mustVote(t *testing.T, s poll.Store, id, voter string, option int) poll.Ballot {
	t.Helper()
	b, err := Vote(t.Context(), s, id, voter, "Name of "+voter, option)
	if err != nil {
		t.Fatalf("Vote(%s, %s, %d): %v", id, voter, option, err)
	}
	return b
}

// pollJSON renders p with its times in UTC, so that polls equal up to
// time zones render the same.
func pollJSON(p *poll.Poll) string {
	if p == nil {
		return "null"
	}
	q := *p
	q.Closes, q.ClosedAt, q.Created = q.Closes.UTC(), q.ClosedAt.UTC(), q.Created.UTC()
	return asJSON(q)
}

func checkPoll(t *testing.T, got, want *poll.Poll) {
	t.Helper()
	if g, w := pollJSON(got), pollJSON(want); g != w {
		t.Errorf("stored poll differs\n got: %s\nwant: %s", g, w)
	}
}

// ballotOf returns voter's choices among ballots, nil when they have none.
func ballotOf(ballots []poll.Ballot, voter string) []int {
	for _, b := range ballots {
		if b.Voter == voter {
			return b.Options
		}
	}
	return nil
}

func testCreateGet(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0)
	p.Anonymous, p.Hidden, p.AllowAdd = true, true, true
	p.MaxVotes = 2
	p.Closes = t0.Add(48 * time.Hour).In(time.FixedZone("CET", 3600))
	p.Options[1].AddedBy = "U-other"
	mustCreate(t, s, p)
	got, ballots := mustGet(t, s, "p1")
	checkPoll(t, got, p)
	if len(ballots) != 0 {
		t.Errorf("new poll has ballots %v", ballots)
	}
	if _, err := Vote(t.Context(), s, "p1", "U1", "An", 0); err != nil {
		t.Fatal(err)
	}
	alone, err := s.Poll(t.Context(), "p1")
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	checkPoll(t, alone, p)
}

func testCreateTakenID(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	other := newPoll("p1", t0.Add(time.Hour), "Ja", "Nee")
	other.Where = channelB
	err := s.Create(t.Context(), other)
	if !errors.Is(err, poll.ErrExists) {
		t.Fatalf("Create with a taken id: %v, want ErrExists", err)
	}
	got, _ := mustGet(t, s, "p1")
	checkPoll(t, got, newPoll("p1", t0))
	if l, err := s.List(t.Context(), channelB); err != nil || len(l) != 0 {
		t.Errorf("refused Create left an index entry: List = %d polls, %v", len(l), err)
	}
}

func testMissingPoll(t *testing.T, s poll.Store) {
	ctx := t.Context()
	mustCreate(t, s, newPoll("other", t0))
	calls := map[string]func() error{
		"Get":       func() error { _, _, err := s.Get(ctx, "nope"); return err },
		"Poll":      func() error { _, err := s.Poll(ctx, "nope"); return err },
		"Vote":      func() error { _, err := Vote(ctx, s, "nope", "U1", "An", 0); return err },
		"AddOption": func() error { _, err := s.AddOption(ctx, "nope", poll.Option{Label: "X"}); return err },
		"SetRef": func() error {
			return s.SetRef(ctx, "nope", bot.Ref{Where: channelA, ID: "m1"})
		},
		"SetClosed": func() error { return s.SetClosed(ctx, "nope", true, t0) },
		"Delete":    func() error { return s.Delete(ctx, "nope") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, poll.ErrNotFound) {
			t.Errorf("%s on a missing poll: %v, want ErrNotFound", name, err)
		}
	}
	// None of them may have brought the poll into being.
	if _, _, err := s.Get(ctx, "nope"); !errors.Is(err, poll.ErrNotFound) {
		t.Errorf("Get after calls on a missing poll: %v, want ErrNotFound", err)
	}
}

func testBallotsRoundTrip(t *testing.T, s poll.Store) {
	ctx := t.Context()
	p := newPoll("p1", t0)
	p.MaxVotes = 3
	mustCreate(t, s, p)
	votes := []struct {
		voter, name string
		option      int
	}{
		{"U1", "Anne", 2}, {"U1", "Anne", 0}, {"U2", "Bram", 3},
		{"U3", "", 1}, {"U1", "Anne de Vries", 3}, // the latest name is kept
	}
	for _, v := range votes {
		if _, err := Vote(ctx, s, "p1", v.voter, v.name, v.option); err != nil {
			t.Fatalf("Vote(%s, %d): %v", v.voter, v.option, err)
		}
	}
	_, got := mustGet(t, s, "p1")
	want := []poll.Ballot{
		{Voter: "U1", Name: "Anne de Vries", Options: []int{2, 0, 3}},
		{Voter: "U2", Name: "Bram", Options: []int{3}},
		{Voter: "U3", Options: []int{1}},
	}
	if asJSON(got) != asJSON(want) {
		t.Errorf("ballots\n got: %s\nwant: %s", asJSON(got), asJSON(want))
	}
}

// click is one vote in a toggle case and what must come of it.
type click struct {
	option int
	want   []int // the voter's choices after the click
	err    error // a refusal; the choices stay as they were
}

func testToggle(t *testing.T, newStore func(t *testing.T) poll.Store) {
	cases := []struct {
		name     string
		maxVotes int
		clicks   []click
	}{
		{"one vote: vote, move, take back", 1, []click{
			{option: 0, want: []int{0}},
			{option: 2, want: []int{2}},
			{option: 2, want: []int{}},
			{option: 1, want: []int{1}},
		}},
		{"max 0 counts as one", 0, []click{
			{option: 3, want: []int{3}},
			{option: 1, want: []int{1}},
		}},
		{"no such option", 1, []click{
			{option: 0, want: []int{0}},
			{option: 4, want: []int{0}, err: poll.ErrNoSuchOption},
			{option: -1, want: []int{0}, err: poll.ErrNoSuchOption},
		}},
		{"two votes: add, limit, take back, add", 2, []click{
			{option: 0, want: []int{0}},
			{option: 2, want: []int{0, 2}},
			{option: 3, want: []int{0, 2}, err: poll.ErrVoteLimit},
			{option: 0, want: []int{2}},
			{option: 3, want: []int{2, 3}},
			{option: 2, want: []int{3}},
			{option: 3, want: []int{}},
		}},
		{"all options: order kept", 4, []click{
			{option: 3, want: []int{3}},
			{option: 1, want: []int{3, 1}},
			{option: 0, want: []int{3, 1, 0}},
			{option: 2, want: []int{3, 1, 0, 2}},
			{option: 1, want: []int{3, 0, 2}},
			{option: 1, want: []int{3, 0, 2, 1}},
		}},
		{"first click out of range leaves no ballot", 3, []click{
			{option: 9, want: []int{}, err: poll.ErrNoSuchOption},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			p := newPoll("p1", t0)
			p.MaxVotes = c.maxVotes
			mustCreate(t, s, p)
			// The store must agree with poll.Toggle, the rule itself.
			var rule []int
			for i, k := range c.clicks {
				ruleNext, ruleErr := p.Toggle(rule, k.option)
				if !errors.Is(ruleErr, k.err) || !slices.Equal(ruleNext, k.want) {
					t.Fatalf("click %d: the case disagrees with poll.Toggle (%v, %v)", i, ruleNext, ruleErr)
				}
				rule = ruleNext
				b, err := Vote(t.Context(), s, "p1", "U1", "Anne", k.option)
				if !errors.Is(err, k.err) {
					t.Fatalf("click %d on option %d: error %v, want %v", i, k.option, err, k.err)
				}
				if err == nil && (!slices.Equal(b.Options, k.want) || b.Voter != "U1" || b.Name != "Anne") {
					t.Fatalf("click %d on option %d: ballot %s, want options %v", i, k.option, asJSON(b), k.want)
				}
				_, ballots := mustGet(t, s, "p1")
				if got := ballotOf(ballots, "U1"); !slices.Equal(got, k.want) {
					t.Fatalf("click %d on option %d: stored choices %v, want %v", i, k.option, got, k.want)
				}
			}
		})
	}
}

func testTakeBack(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	mustVote(t, s, "p1", "U1", 1)
	mustVote(t, s, "p1", "U2", 1)
	b := mustVote(t, s, "p1", "U1", 1)
	if len(b.Options) != 0 {
		t.Errorf("ballot after taking back the only vote: %v, want no options", b.Options)
	}
	_, ballots := mustGet(t, s, "p1")
	if len(ballots) != 1 || ballots[0].Voter != "U2" {
		t.Errorf("ballots after U1 took back their vote: %s, want only U2's", asJSON(ballots))
	}
}

func testCloseReopen(t *testing.T, s poll.Store) {
	ctx := t.Context()
	p := newPoll("p1", t0)
	p.MaxVotes = 2
	mustCreate(t, s, p)
	mustVote(t, s, "p1", "U1", 0)
	mustVote(t, s, "p1", "U1", 1)
	mustVote(t, s, "p1", "U2", 2)

	at := t0.Add(time.Hour)
	if err := s.SetClosed(ctx, "p1", true, at); err != nil {
		t.Fatalf("SetClosed(true): %v", err)
	}
	got, ballots := mustGet(t, s, "p1")
	if !got.Closed || !got.ClosedAt.Equal(at) {
		t.Errorf("after closing: Closed %t at %v, want true at %v", got.Closed, got.ClosedAt, at)
	}
	if len(ballots) != 2 {
		t.Errorf("closing dropped ballots: %s", asJSON(ballots))
	}
	if _, err := Vote(ctx, s, "p1", "U3", "Cor", 0); !errors.Is(err, poll.ErrClosed) {
		t.Errorf("new vote on a closed poll: %v, want ErrClosed", err)
	}
	if _, err := Vote(ctx, s, "p1", "U1", "Anne", 0); !errors.Is(err, poll.ErrClosed) {
		t.Errorf("take-back on a closed poll: %v, want ErrClosed", err)
	}
	if _, err := s.AddOption(ctx, "p1", poll.Option{Label: "Pannenkoeken"}); !errors.Is(err, poll.ErrClosed) {
		t.Errorf("AddOption on a closed poll: %v, want ErrClosed", err)
	}
	// Closing twice is no error and moves the closing time.
	if err := s.SetClosed(ctx, "p1", true, at.Add(time.Minute)); err != nil {
		t.Errorf("closing a closed poll: %v", err)
	}

	if err := s.SetClosed(ctx, "p1", false, at.Add(2*time.Hour)); err != nil {
		t.Fatalf("SetClosed(false): %v", err)
	}
	got, ballots = mustGet(t, s, "p1")
	if got.Closed || !got.ClosedAt.IsZero() {
		t.Errorf("after reopening: Closed %t at %v, want open with no closing time", got.Closed, got.ClosedAt)
	}
	want := []poll.Ballot{
		{Voter: "U1", Name: "Name of U1", Options: []int{0, 1}},
		{Voter: "U2", Name: "Name of U2", Options: []int{2}},
	}
	if asJSON(ballots) != asJSON(want) {
		t.Errorf("ballots across close and reopen\n got: %s\nwant: %s", asJSON(ballots), asJSON(want))
	}
	mustVote(t, s, "p1", "U3", 3)
	if _, err := s.AddOption(ctx, "p1", poll.Option{Label: "Pannenkoeken"}); err != nil {
		t.Errorf("AddOption after reopening: %v", err)
	}
	checkPoll(t, mustGetPoll(t, s, "p1"), func() *poll.Poll {
		q := newPoll("p1", t0)
		q.MaxVotes = 2
		q.Options = append(q.Options, poll.Option{Label: "Pannenkoeken"})
		return q
	}())
}

func mustGetPoll(t *testing.T, s poll.Store, id string) *poll.Poll {
	t.Helper()
	p, _ := mustGet(t, s, id)
	return p
}

func testAddOption(t *testing.T, s poll.Store) {
	ctx := t.Context()
	p := newPoll("p1", t0, "Pizza", "Soep", "Één pan")
	p.AllowAdd = true
	mustCreate(t, s, p)
	mustVote(t, s, "p1", "U1", 0)

	i, err := s.AddOption(ctx, "p1", poll.Option{Label: "Pannenkoeken", AddedBy: "U2"})
	if err != nil || i != 3 {
		t.Fatalf("AddOption = %d, %v; want 3, nil", i, err)
	}
	for _, dup := range []string{"Pannenkoeken", "  pizza ", "SOEP", "één PAN", "pannenKOEKEN\t"} {
		if _, err := s.AddOption(ctx, "p1", poll.Option{Label: dup, AddedBy: "U3"}); !errors.Is(err, poll.ErrDuplicate) {
			t.Errorf("AddOption(%q): %v, want ErrDuplicate", dup, err)
		}
	}
	i, err = s.AddOption(ctx, "p1", poll.Option{Label: "Pizza margherita", AddedBy: "U3"})
	if err != nil || i != 4 {
		t.Fatalf("AddOption = %d, %v; want 4, nil", i, err)
	}
	got, ballots := mustGet(t, s, "p1")
	p.Options = append(p.Options, poll.Option{Label: "Pannenkoeken", AddedBy: "U2"}, poll.Option{Label: "Pizza margherita", AddedBy: "U3"})
	checkPoll(t, got, p)
	if len(ballots) != 1 {
		t.Errorf("AddOption changed ballots: %s", asJSON(ballots))
	}
	// The new options take votes.
	if b := mustVote(t, s, "p1", "U2", 4); !slices.Equal(b.Options, []int{4}) {
		t.Errorf("vote on an added option: %v", b.Options)
	}
}

func testAddOptionLimit(t *testing.T, s poll.Store) {
	ctx := t.Context()
	mustCreate(t, s, newPoll("p1", t0, "A", "B"))
	for n := 2; n < poll.MaxOptions; n++ {
		i, err := s.AddOption(ctx, "p1", poll.Option{Label: fmt.Sprintf("Option %d", n)})
		if err != nil || i != n {
			t.Fatalf("AddOption #%d = %d, %v", n, i, err)
		}
	}
	if _, err := s.AddOption(ctx, "p1", poll.Option{Label: "One too many"}); !errors.Is(err, poll.ErrTooManyOption) {
		t.Errorf("AddOption at MaxOptions: %v, want ErrTooManyOption", err)
	}
	if got := mustGetPoll(t, s, "p1"); len(got.Options) != poll.MaxOptions {
		t.Errorf("poll has %d options, want %d", len(got.Options), poll.MaxOptions)
	}
}

func testSetRef(t *testing.T, s poll.Store) {
	ctx := t.Context()
	p := newPoll("p1", t0)
	mustCreate(t, s, p)
	mustVote(t, s, "p1", "U1", 2)
	ref := bot.Ref{Where: channelA, ID: "1742378400.000100"}
	if err := s.SetRef(ctx, "p1", ref); err != nil {
		t.Fatalf("SetRef: %v", err)
	}
	got, ballots := mustGet(t, s, "p1")
	p.Ref = ref
	checkPoll(t, got, p)
	if len(ballots) != 1 {
		t.Errorf("SetRef changed ballots: %s", asJSON(ballots))
	}
}

func testDelete(t *testing.T, s poll.Store) {
	ctx := t.Context()
	mustCreate(t, s, newPoll("p1", t0))
	mustCreate(t, s, newPoll("p2", t0.Add(time.Minute)))
	mustVote(t, s, "p1", "U1", 0)
	if err := s.Delete(ctx, "p1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := s.Get(ctx, "p1"); !errors.Is(err, poll.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := Vote(ctx, s, "p1", "U2", "Bram", 0); !errors.Is(err, poll.ErrNotFound) {
		t.Errorf("Vote after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "p1"); !errors.Is(err, poll.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx, channelA)
	if err != nil || len(list) != 1 || list[0].ID != "p2" {
		t.Errorf("List after Delete = %s, %v; want only p2", asJSON(list), err)
	}
	// A new poll under the id starts without the old ballots.
	mustCreate(t, s, newPoll("p1", t0.Add(2*time.Minute)))
	if _, ballots := mustGet(t, s, "p1"); len(ballots) != 0 {
		t.Errorf("Delete left ballots behind: %s", asJSON(ballots))
	}
	if _, ballots := mustGet(t, s, "p2"); len(ballots) != 0 {
		t.Errorf("p2 has ballots it never got: %s", asJSON(ballots))
	}
}

func testList(t *testing.T, s poll.Store) {
	ctx := t.Context()
	add := func(id string, where bot.Where, created time.Time) {
		p := newPoll(id, created)
		p.Where = where
		mustCreate(t, s, p)
	}
	add("a1", channelA, t0)
	add("a3", channelA, t0.Add(2*time.Hour))
	add("a2", channelA, t0.Add(time.Hour))
	add("b1", channelB, t0.Add(3*time.Hour))
	add("x1", channelA2, t0.Add(4*time.Hour))
	mustVote(t, s, "a2", "U1", 1)
	if err := s.SetClosed(ctx, "a2", true, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}

	list, err := s.List(ctx, channelA)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, p := range list {
		ids = append(ids, p.ID)
		if p.ID == "a2" && !p.Closed {
			t.Errorf("List shows a2 open; it was closed")
		}
		if p.Where != channelA {
			t.Errorf("List(%s) returned %s of %s", channelA.Key(), p.ID, p.Where.Key())
		}
	}
	if want := []string{"a3", "a2", "a1"}; !slices.Equal(ids, want) {
		t.Errorf("List = %v, want %v (newest first, this channel only)", ids, want)
	}
	if list, err := s.List(ctx, bot.Where{Platform: bot.Slack, Team: "T1", Channel: "empty"}); err != nil || len(list) != 0 {
		t.Errorf("List of a channel without polls = %d polls, %v", len(list), err)
	}
}

// testConcurrentVotes has a thousand voters vote at once on one poll,
// with some clicking twice and some adding options meanwhile, and checks
// that every vote counts exactly.
func testConcurrentVotes(t *testing.T, s poll.Store) {
	const (
		voters  = 1000
		options = 5
		doubles = 20 // voters who click the same option twice at once
		movers  = 20 // voters who click two options at once
		adders  = 10 // people adding a distinct option meanwhile
		dupers  = 5  // people adding the same option meanwhile
	)
	ctx := t.Context()
	mustCreate(t, s, newPoll("p1", t0, "A", "B", "C", "D", "E"))

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		dups int
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	vote := func(voter string, option int) {
		defer wg.Done()
		if _, err := Vote(ctx, s, "p1", voter, voter, option); err != nil {
			fail(fmt.Errorf("vote of %s on %d: %w", voter, option, err))
		}
	}
	for i := range voters {
		wg.Add(1)
		go vote(fmt.Sprintf("U%04d", i), i%options)
	}
	for i := range doubles {
		wg.Add(2)
		go vote(fmt.Sprintf("D%02d", i), 1)
		go vote(fmt.Sprintf("D%02d", i), 1)
	}
	for i := range movers {
		wg.Add(2)
		go vote(fmt.Sprintf("M%02d", i), 2)
		go vote(fmt.Sprintf("M%02d", i), 3)
	}
	for i := range adders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AddOption(ctx, "p1", poll.Option{Label: fmt.Sprintf("Extra %d", i)}); err != nil {
				fail(fmt.Errorf("add option %d: %w", i, err))
			}
		}()
	}
	for range dupers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AddOption(ctx, "p1", poll.Option{Label: "Same"})
			if errors.Is(err, poll.ErrDuplicate) {
				mu.Lock()
				dups++
				mu.Unlock()
			} else if err != nil {
				fail(fmt.Errorf("add option Same: %w", err))
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d calls failed, the first: %v", len(errs), errs[0])
	}
	if dups != dupers-1 {
		t.Errorf("%d of %d identical AddOptions refused as duplicates, want %d", dups, dupers, dupers-1)
	}

	p, ballots := mustGet(t, s, "p1")
	if want := options + adders + 1; len(p.Options) != want {
		t.Errorf("poll has %d options, want %d", len(p.Options), want)
	}
	labels := map[string]bool{}
	for _, o := range p.Options {
		if labels[o.Label] {
			t.Errorf("option %q twice", o.Label)
		}
		labels[o.Label] = true
	}
	if want := voters + movers; len(ballots) != want {
		t.Errorf("%d ballots, want %d", len(ballots), want)
	}
	counts := make([]int, options)
	for _, b := range ballots {
		switch {
		case len(b.Options) != 1:
			t.Errorf("ballot of %s has %v; one vote per person", b.Voter, b.Options)
		case strings.HasPrefix(b.Voter, "D"):
			t.Errorf("%s clicked one option twice but kept %v", b.Voter, b.Options)
		case strings.HasPrefix(b.Voter, "M"):
			if o := b.Options[0]; o != 2 && o != 3 {
				t.Errorf("%s clicked 2 and 3 but holds %d", b.Voter, o)
			}
		default:
			counts[b.Options[0]]++
		}
	}
	for o, n := range counts {
		if n != voters/options {
			t.Errorf("option %d has %d votes, want %d", o, n, voters/options)
		}
	}
}

func testConcurrentAddOption(t *testing.T, s poll.Store) {
	const tries = 30
	ctx := t.Context()
	mustCreate(t, s, newPoll("p1", t0, "A", "B"))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		indexes []int
		refused int
	)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, err := s.AddOption(ctx, "p1", poll.Option{Label: fmt.Sprintf("Option %d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				indexes = append(indexes, idx)
			case errors.Is(err, poll.ErrTooManyOption):
				refused++
			default:
				t.Errorf("AddOption %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	slices.Sort(indexes)
	want := make([]int, 0, poll.MaxOptions-2)
	for i := 2; i < poll.MaxOptions; i++ {
		want = append(want, i)
	}
	if !slices.Equal(indexes, want) || refused != tries-len(want) {
		t.Errorf("indexes given %v and %d refused; want %v and %d", indexes, refused, want, tries-len(want))
	}
	if p := mustGetPoll(t, s, "p1"); len(p.Options) != poll.MaxOptions {
		t.Errorf("poll has %d options, want %d", len(p.Options), poll.MaxOptions)
	}
}

// testConcurrentClose closes polls while options are added and the
// message is recorded, and checks that closing loses neither.
func testConcurrentClose(t *testing.T, s poll.Store) {
	const polls = 20
	ctx := t.Context()
	for n := range polls {
		id := fmt.Sprintf("p%02d", n)
		mustCreate(t, s, newPoll(id, t0))
		ref := bot.Ref{Where: channelA, ID: "m-" + id}
		var (
			wg     sync.WaitGroup
			addErr error
		)
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, addErr = s.AddOption(ctx, id, poll.Option{Label: "Late"})
		}()
		go func() {
			defer wg.Done()
			if err := s.SetRef(ctx, id, ref); err != nil {
				t.Errorf("SetRef(%s): %v", id, err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.SetClosed(ctx, id, true, t0.Add(time.Hour)); err != nil {
				t.Errorf("SetClosed(%s): %v", id, err)
			}
		}()
		wg.Wait()
		p := mustGetPoll(t, s, id)
		if !p.Closed || p.Ref != ref {
			t.Errorf("%s: Closed %t, Ref %+v; want closed with ref %+v", id, p.Closed, p.Ref, ref)
		}
		switch {
		case addErr == nil && len(p.Options) != 5:
			t.Errorf("%s: AddOption succeeded but the poll has %d options", id, len(p.Options))
		case errors.Is(addErr, poll.ErrClosed) && len(p.Options) != 4:
			t.Errorf("%s: AddOption was refused but the poll has %d options", id, len(p.Options))
		case addErr != nil && !errors.Is(addErr, poll.ErrClosed):
			t.Errorf("%s: AddOption: %v", id, addErr)
		}
	}
}

// TestClicks checks Store.Click and Store.Tally: the whole of a click in one
// step, and a tally that agrees with the ballots.
func TestClicks(t *testing.T, newStore func(t *testing.T) poll.Store) {
	t.Run("TallyAgreesWithBallots", func(t *testing.T) { testTallyAgrees(t, newStore(t)) })
	t.Run("OnlyInItsChannel", func(t *testing.T) { testClickChannel(t, newStore(t)) })
	t.Run("DeliveryCountsOnce", func(t *testing.T) { testClickDelivery(t, newStore(t)) })
	t.Run("AnonymousAndHidden", func(t *testing.T) { testClickAnonymous(t, newStore(t)) })
	t.Run("RecordsMissingRef", func(t *testing.T) { testClickRef(t, newStore(t)) })
	t.Run("VoteLimitSaysMax", func(t *testing.T) { testClickLimit(t, newStore(t)) })
	t.Run("ConcurrentClicksTally", func(t *testing.T) { testConcurrentClickTally(t, newStore(t)) })
	t.Run("NamesRefilled", func(t *testing.T) { testNamesRefilled(t, newStore(t)) })
	t.Run("SetBallotReplaces", func(t *testing.T) { testSetBallot(t, newStore(t)) })
	t.Run("SetBallotRefusals", func(t *testing.T) { testSetBallotRefusals(t, newStore(t)) })
	t.Run("SetBallotAnonymous", func(t *testing.T) { testSetBallotAnonymous(t, newStore(t)) })
	t.Run("ConcurrentSetBallotTally", func(t *testing.T) { testConcurrentSetBallot(t, newStore(t)) })
}

// cast hands voter's whole ballot to poll id in channelA.
func cast(t *testing.T, s poll.Store, id, voter string, options, points []int) (poll.Clicked, error) {
	t.Helper()
	return s.SetBallot(t.Context(), poll.Cast{
		Poll: id, Channel: channelA, Voter: voter, AnonKey: "anon-" + voter, Name: "Name of " + voter,
		Options: options, Points: points,
	})
}

// testSetBallot: a ballot handed in whole replaces the voter's last one,
// and the tally moves by the difference: the old points off, the new on.
func testSetBallot(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0, "A", "B", "C")
	p.Kind = poll.KindRank
	mustCreate(t, s, p)
	must := func(voter string, options, points []int) {
		t.Helper()
		c, err := cast(t, s, "p1", voter, options, points)
		if err != nil {
			t.Fatalf("%s hands in %v: %v", voter, options, err)
		}
		if !slices.Equal(c.Ballot.Options, options) && !(len(options) == 0 && len(c.Ballot.Options) == 0) {
			t.Fatalf("%s's ballot after handing in %v: %v", voter, options, c.Ballot.Options)
		}
	}
	must("anna", []int{2, 0}, []int{2, 1})
	must("bert", []int{0, 1, 2}, []int{2, 1, 0})
	tl := checkTally(t, s, "p1")
	if want := []int{3, 1, 2}; tl.Voters != 2 || !slices.Equal(tl.Counts, want) {
		t.Fatalf("tally %d voters %v; want 2 voters %v", tl.Voters, tl.Counts, want)
	}
	must("anna", []int{1}, []int{2}) // anna changes her mind
	tl = checkTally(t, s, "p1")
	if want := []int{2, 3, 0}; tl.Voters != 2 || !slices.Equal(tl.Counts, want) {
		t.Fatalf("after anna's change: %d voters %v; want 2 voters %v", tl.Voters, tl.Counts, want)
	}
	_, ballots, err := s.Get(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range ballots {
		if b.Voter == "anna" && (!slices.Equal(b.Options, []int{1}) || !slices.Equal(b.Points, []int{2}) || b.Name != "Name of anna") {
			t.Fatalf("anna's stored ballot: %+v", b)
		}
	}
	must("anna", nil, nil) // takes it back
	tl = checkTally(t, s, "p1")
	if want := []int{2, 1, 0}; tl.Voters != 1 || !slices.Equal(tl.Counts, want) {
		t.Fatalf("after anna took hers back: %d voters %v; want 1 voter %v", tl.Voters, tl.Counts, want)
	}
}

func testSetBallotRefusals(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("plain", t0, "A", "B"))
	p := newPoll("dots", t0, "A", "B")
	p.Kind, p.Points = poll.KindPoints, 10
	mustCreate(t, s, p)
	if _, err := cast(t, s, "plain", "anna", []int{0}, []int{1}); !errors.Is(err, poll.ErrWrongKind) {
		t.Fatalf("a ballot for a poll with buttons: %v; want ErrWrongKind", err)
	}
	if _, err := Vote(t.Context(), s, "dots", "anna", "Anna", 0); !errors.Is(err, poll.ErrWrongKind) {
		t.Fatalf("a click in a dot vote: %v; want ErrWrongKind", err)
	}
	if _, err := cast(t, s, "dots", "anna", []int{0, 2}, []int{5, 5}); !errors.Is(err, poll.ErrNoSuchOption) {
		t.Fatalf("points for an option that is not there: %v; want ErrNoSuchOption", err)
	}
	if _, err := s.SetBallot(t.Context(), poll.Cast{Poll: "dots", Channel: channelB, Voter: "anna", Options: []int{0}, Points: []int{10}}); !errors.Is(err, poll.ErrNotFound) {
		t.Fatalf("a ballot from another channel: %v; want ErrNotFound", err)
	}
	if _, err := cast(t, s, "nope", "anna", []int{0}, []int{10}); !errors.Is(err, poll.ErrNotFound) {
		t.Fatalf("a ballot for no poll: %v; want ErrNotFound", err)
	}
	if err := s.SetClosed(t.Context(), "dots", true, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := cast(t, s, "dots", "anna", []int{0}, []int{10}); !errors.Is(err, poll.ErrClosed) {
		t.Fatalf("a ballot for a closed poll: %v; want ErrClosed", err)
	}
	if tl := checkTally(t, s, "dots"); tl.Voters != 0 {
		t.Fatalf("refused ballots counted: %+v", tl)
	}
}

func testSetBallotAnonymous(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0, "A", "B", "C")
	p.Kind, p.Points, p.Anonymous = poll.KindPoints, 5, true
	mustCreate(t, s, p)
	c, err := cast(t, s, "p1", "anna", []int{0, 2}, []int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Ballot.Voter != "anon-anna" || c.Ballot.Name != "" || c.Poll == nil || !c.Poll.Anonymous {
		t.Fatalf("anonymous ballot: %+v, poll %v", c.Ballot, c.Poll)
	}
	_, ballots, err := s.Get(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ballots) != 1 || ballots[0].Voter != "anon-anna" || ballots[0].Name != "" || !slices.Equal(ballots[0].Points, []int{3, 2}) {
		t.Fatalf("stored: %+v", ballots)
	}
	if tl := checkTally(t, s, "p1"); !slices.Equal(tl.Counts, []int{3, 0, 2}) {
		t.Fatalf("tally %v; want [3 0 2]", tl.Counts)
	}
}

// testConcurrentSetBallot: voters who hand in and change their ballots at
// the same time leave a tally that agrees with the ballots.
func testConcurrentSetBallot(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0, "A", "B", "C", "D")
	p.Kind, p.Points = poll.KindPoints, 4
	mustCreate(t, s, p)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for v := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			voter := fmt.Sprintf("U%02d", v)
			for k := range 2 {
				o := (v + k) % 4
				_, err := s.SetBallot(t.Context(), poll.Cast{
					Poll: "p1", Channel: channelA, Voter: voter, Name: "Name of " + voter,
					Options: []int{o, (o + 1) % 4}, Points: []int{3, 1},
				})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tl := checkTally(t, s, "p1")
	if tl.Voters != 20 || tl.Counts[0]+tl.Counts[1]+tl.Counts[2]+tl.Counts[3] != 80 {
		t.Fatalf("20 voters with 4 points each: %d voters %v", tl.Voters, tl.Counts)
	}
}

// testNamesRefilled: an option names its first poll.NamesKept voters; when
// a named voter takes their vote back, the next voter takes the free place,
// also once the option has more votes than it names.
func testNamesRefilled(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0, "A", "B"))
	vote := func(voter string) {
		t.Helper()
		if _, err := Vote(t.Context(), s, "p1", voter, "Name of "+voter, 0); err != nil {
			t.Fatalf("%s votes: %v", voter, err)
		}
	}
	for i := range poll.NamesKept + 2 {
		vote(fmt.Sprintf("U%02d", i))
	}
	if tl := checkTally(t, s, "p1"); len(tl.Names[0]) != poll.NamesKept {
		t.Fatalf("%d votes name %v; want the first %d", tl.Counts[0], tl.IDs[0], poll.NamesKept)
	}
	vote("U03") // takes the vote back: a named voter leaves the list
	if tl := checkTally(t, s, "p1"); len(tl.Names[0]) != poll.NamesKept-1 || slices.Contains(tl.IDs[0], "U03") {
		t.Fatalf("after U03 took their vote back: names %v", tl.IDs[0])
	}
	vote("U99")
	tl := checkTally(t, s, "p1")
	if len(tl.Names[0]) != poll.NamesKept || !slices.Contains(tl.IDs[0], "U99") {
		t.Fatalf("%d votes name %v; want %d names, U99 in U03's place", tl.Counts[0], tl.IDs[0], poll.NamesKept)
	}
}

// checkTally compares the store's tally with one counted from its ballots.
func checkTally(t *testing.T, s poll.Store, id string) poll.Tally {
	t.Helper()
	p, ballots, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := s.Tally(t.Context(), id)
	if err != nil {
		t.Fatalf("Tally(%s): %v", id, err)
	}
	want := poll.Count(p, ballots)
	if got.Voters != want.Voters || !slices.Equal(got.Counts, want.Counts) {
		t.Fatalf("tally: %d voters %v; the ballots say %d voters %v", got.Voters, got.Counts, want.Voters, want.Counts)
	}
	chose := map[string][]int{}
	holders := make([]int, len(got.Counts)) // ballots with the option on: a ranked last place counts 0 but is named
	for _, b := range ballots {
		chose[b.Voter] = b.Options
		for _, o := range b.Options {
			if o < len(holders) {
				holders[o]++
			}
		}
	}
	for o := range got.Counts {
		if len(got.Names[o]) > min(holders[o], poll.NamesKept) || len(got.Names[o]) != len(got.IDs[o]) {
			t.Fatalf("option %d: %d names, %d ids for %d votes", o, len(got.Names[o]), len(got.IDs[o]), got.Counts[o])
		}
		for i, id := range got.IDs[o] {
			if !slices.Contains(chose[id], o) {
				t.Fatalf("option %d names %s, who did not choose it", o, id)
			}
			if p.Anonymous {
				t.Fatalf("an anonymous poll names %s", id)
			}
			if got.Names[o][i] != "Name of "+id {
				t.Fatalf("option %d shows %s as %q", o, id, got.Names[o][i])
			}
		}
	}
	return got
}

func testTallyAgrees(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0, "A", "B", "C", "D")
	p.MaxVotes = 2
	mustCreate(t, s, p)
	if _, tl, err := s.Tally(t.Context(), "p1"); err != nil || tl.Voters != 0 || len(tl.Counts) != 4 {
		t.Fatalf("tally of a new poll: %+v, %v", tl, err)
	}
	// A fixed pseudo-random story of votes, changes of mind and
	// take-backs by 30 voters.
	x := uint32(7)
	for i := range 400 {
		x = x*1103515245 + 12345
		voter := fmt.Sprintf("U%02d", (x>>8)%30)
		option := int((x >> 16) % 4)
		_, err := Vote(t.Context(), s, "p1", voter, "Name of "+voter, option)
		if err != nil && !errors.Is(err, poll.ErrVoteLimit) {
			t.Fatalf("click %d: %v", i, err)
		}
		if i%50 == 49 {
			checkTally(t, s, "p1")
		}
	}
	// Everyone takes every vote back: the tally is empty again.
	_, ballots, _ := s.Get(t.Context(), "p1")
	for _, b := range ballots {
		for _, o := range b.Options {
			if _, err := Vote(t.Context(), s, "p1", b.Voter, "Name of "+b.Voter, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	if tl := checkTally(t, s, "p1"); tl.Voters != 0 || slices.Max(tl.Counts) != 0 {
		t.Fatalf("after every vote was taken back: %+v", tl)
	}
	if _, _, err := s.Tally(t.Context(), "nope"); !errors.Is(err, poll.ErrNotFound) {
		t.Fatalf("Tally of a missing poll: %v", err)
	}
}

func testClickChannel(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	click := func(where bot.Where) error {
		_, err := s.Click(t.Context(), poll.Click{Poll: "p1", Channel: where, Voter: "U1", AnonKey: "U1", Name: "An", Option: 0})
		return err
	}
	other := []bot.Where{channelB, {Platform: bot.Mattermost, Team: channelA.Team, Channel: channelA.Channel}, {}}
	for _, where := range other {
		if err := click(where); !errors.Is(err, poll.ErrNotFound) {
			t.Errorf("a click from %q: %v, want ErrNotFound", where.Key(), err)
		}
	}
	if _, ballots, _ := s.Get(t.Context(), "p1"); len(ballots) != 0 {
		t.Fatalf("clicks from elsewhere stored %+v", ballots)
	}
	// The channel is the same whatever team the platform sent with the
	// click (a Mattermost direct channel belongs to none).
	if err := click(channelA2); err != nil {
		t.Errorf("a click from the poll's channel with another team: %v", err)
	}
	if err := click(bot.Where{Platform: channelA.Platform, Channel: channelA.Channel}); err != nil {
		t.Errorf("a click from the poll's channel without a team: %v", err)
	}
}

func testClickDelivery(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	click := func(voter, delivery string) error {
		_, err := s.Click(t.Context(), poll.Click{Poll: "p1", Channel: channelA, Voter: voter, AnonKey: voter, Name: "Name of " + voter, Option: 1, Delivery: delivery})
		return err
	}
	if err := click("U1", "d1"); err != nil {
		t.Fatal(err)
	}
	if err := click("U1", "d1"); !errors.Is(err, bot.ErrRepeated) {
		t.Fatalf("the same delivery again: %v, want bot.ErrRepeated", err)
	}
	if tl := checkTally(t, s, "p1"); tl.Counts[1] != 1 {
		t.Fatalf("a repeated delivery changed the count: %v", tl.Counts)
	}
	// Another delivery is another click (it takes the vote back), and a
	// refused click does not use up its delivery.
	if err := click("U1", "d2"); err != nil {
		t.Fatal(err)
	}
	if tl := checkTally(t, s, "p1"); tl.Counts[1] != 0 {
		t.Fatalf("the second click did not take the vote back: %v", tl.Counts)
	}
	if err := s.SetClosed(t.Context(), "p1", true, t0); err != nil {
		t.Fatal(err)
	}
	if err := click("U2", "d3"); !errors.Is(err, poll.ErrClosed) {
		t.Fatalf("click on a closed poll: %v", err)
	}
	if err := s.SetClosed(t.Context(), "p1", false, t0); err != nil {
		t.Fatal(err)
	}
	if err := click("U2", "d3"); err != nil {
		t.Fatalf("a delivery refused before counts when the poll reopens: %v", err)
	}
}

func testClickAnonymous(t *testing.T, s poll.Store) {
	anon := newPoll("anon", t0)
	anon.Anonymous = true
	hidden := newPoll("hidden", t0)
	hidden.Hidden = true
	mustCreate(t, s, anon)
	mustCreate(t, s, hidden)
	mustCreate(t, s, newPoll("named", t0))
	for _, id := range []string{"anon", "hidden", "named"} {
		c, err := s.Click(t.Context(), poll.Click{Poll: id, Channel: channelA, Voter: "U1", AnonKey: "anon:k1", Name: "Anne", Option: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Ballot.Options, []int{2}) {
			t.Errorf("%s: ballot %+v", id, c.Ballot)
		}
		if (c.Poll != nil) != (id != "named") {
			t.Errorf("%s: Clicked.Poll = %v; a poll is returned exactly when the message hides the voter's choice", id, c.Poll)
		}
		if c.Poll != nil && (c.Poll.ID != id || len(c.Poll.Options) != 4) {
			t.Errorf("%s: returned poll %+v", id, c.Poll)
		}
		_, ballots, _ := s.Get(t.Context(), id)
		if len(ballots) != 1 {
			t.Fatalf("%s: %d ballots", id, len(ballots))
		}
		b := ballots[0]
		switch {
		case id == "anon" && (b.Voter != "anon:k1" || b.Name != ""):
			t.Errorf("anonymous poll stored %+v; want the anonymous key and no name", b)
		case id != "anon" && (b.Voter != "U1" || b.Name != "Anne"):
			t.Errorf("%s stored %+v; want U1 named Anne", id, b)
		}
		_, tl, _ := s.Tally(t.Context(), id)
		if id == "anon" && len(tl.Names[2]) != 0 {
			t.Errorf("the tally of an anonymous poll names %v", tl.Names[2])
		}
		if id != "anon" && !slices.Equal(tl.Names[2], []string{"Anne"}) {
			t.Errorf("%s: tally names %v", id, tl.Names[2])
		}
	}
}

func testClickRef(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	ref := bot.Ref{Where: channelA, ID: "m1"}
	if _, err := s.Click(t.Context(), poll.Click{Poll: "p1", Channel: channelA, Voter: "U1", AnonKey: "U1", Option: 0, Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Poll(t.Context(), "p1"); p.Ref != ref {
		t.Fatalf("a click did not record the message of a poll without one: %+v", p.Ref)
	}
	// A recorded message stays.
	other := bot.Ref{Where: channelA, ID: "m2"}
	if _, err := s.Click(t.Context(), poll.Click{Poll: "p1", Channel: channelA, Voter: "U2", AnonKey: "U2", Option: 0, Ref: other}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Poll(t.Context(), "p1"); p.Ref != ref {
		t.Fatalf("a click replaced the recorded message: %+v", p.Ref)
	}
}

func testClickLimit(t *testing.T, s poll.Store) {
	p := newPoll("p1", t0)
	p.MaxVotes = 2
	mustCreate(t, s, p)
	mustVote(t, s, "p1", "U1", 0)
	mustVote(t, s, "p1", "U1", 1)
	c, err := s.Click(t.Context(), poll.Click{Poll: "p1", Channel: channelA, Voter: "U1", AnonKey: "U1", Option: 2})
	if !errors.Is(err, poll.ErrVoteLimit) || c.MaxVotes != 2 {
		t.Fatalf("a third vote of two: %+v, %v; want ErrVoteLimit with MaxVotes 2", c, err)
	}
}

func testConcurrentClickTally(t *testing.T, s poll.Store) {
	mustCreate(t, s, newPoll("p1", t0))
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			voter := fmt.Sprintf("U%03d", i%120) // some click twice: a move
			if _, err := Vote(t.Context(), s, "p1", voter, "Name of "+voter, (i+i/120)%4); err != nil {
				t.Errorf("click %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if tl := checkTally(t, s, "p1"); tl.Voters != 120 {
		t.Fatalf("%d voters after 120 people clicked", tl.Voters)
	}
}
