package storagetest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
)

// TestMeetings checks a meeting.Store. newStore returns an empty store
// and is called once per subtest.
func TestMeetings(t *testing.T, newStore func(t *testing.T) meeting.Store) {
	t.Run("CreateGet", func(t *testing.T) { testMeetingCreateGet(t, newStore(t)) })
	t.Run("CreateTakenID", func(t *testing.T) { testMeetingCreateTakenID(t, newStore(t)) })
	t.Run("MissingMeeting", func(t *testing.T) { testMissingMeeting(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { testMeetingUpdate(t, newStore(t)) })
	t.Run("UpdateRefused", func(t *testing.T) { testMeetingUpdateRefused(t, newStore(t)) })
	t.Run("UpdateMoves", func(t *testing.T) { testMeetingUpdateMoves(t, newStore(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testMeetingConcurrentUpdates(t, newStore(t)) })
	t.Run("UpdateKeepsClickRef", func(t *testing.T) { testMeetingUpdateKeepsClickRef(t, newStore(t)) })
	t.Run("ClickChannel", func(t *testing.T) { testMeetingClickChannel(t, newStore(t)) })
	t.Run("ClickDelivery", func(t *testing.T) { testMeetingClickDelivery(t, newStore(t)) })
	t.Run("ClickEnded", func(t *testing.T) { testMeetingClickEnded(t, newStore(t)) })
	t.Run("AnswerReplaced", func(t *testing.T) { testMeetingAnswerReplaced(t, newStore(t)) })
	t.Run("ClickRef", func(t *testing.T) { testMeetingClickRef(t, newStore(t)) })
	t.Run("ConcurrentClicks", func(t *testing.T) { testMeetingConcurrentClicks(t, newStore(t)) })
	t.Run("Attending", func(t *testing.T) { testMeetingAttending(t, newStore(t)) })
	t.Run("FeedTokens", func(t *testing.T) { testFeedTokens(t, newStore(t)) })
	t.Run("FeedRotate", func(t *testing.T) { testFeedRotate(t, newStore(t)) })
	t.Run("ConcurrentFeedTokens", func(t *testing.T) { testConcurrentFeedTokens(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testMeetingList(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testMeetingDelete(t, newStore(t)) })
}

// cet is a zone with an offset, to see that times keep their instant.
var cet = time.FixedZone("CET", 3600)

// newMeeting returns a one-off meeting in channelA, not yet posted.
func newMeeting(id string, created time.Time) *meeting.Meeting {
	return &meeting.Meeting{
		ID:        id,
		Where:     channelA,
		Organiser: bot.User{ID: "U-org", Name: "Ineke", TZ: "Europe/Amsterdam"},
		Title:     "Maandoverleg projectleiders",
		Zone:      "Europe/Amsterdam",
		Start:     t0.Add(7 * 24 * time.Hour).In(cet),
		Duration:  90 * time.Minute,
		Created:   created,
		Changed:   created,
	}
}

// fullMeeting returns a meeting with every field set.
func fullMeeting(id string) *meeting.Meeting {
	m := newMeeting(id, t0)
	m.Ref = bot.Ref{Where: channelA, ID: "msg-1"}
	m.RRule = "FREQ=MONTHLY;BYDAY=+3TH"
	m.Asked = "02:30"
	m.Place = "Utrecht, Jaarbeurs"
	m.Link = "https://meet.example/maandoverleg"
	m.Remind = []time.Duration{24 * time.Hour, time.Hour}
	m.Everyone = true
	m.InChannel = true
	m.Agenda = []meeting.Point{
		{ID: 1, Text: "Kennistafel najaar", By: "U1", ByName: "Anne", Added: t0.Add(time.Minute).In(cet)},
		{ID: 3, Text: "Begroting", By: "U2", Added: t0.Add(2 * time.Minute)},
	}
	m.Points = 3
	m.Cancelled = []time.Time{t0.AddDate(0, 2, 0).In(cet)}
	m.Moves = []meeting.Move{{From: t0.AddDate(0, 1, 0), To: t0.AddDate(0, 1, 1).In(cet)}}
	m.Ended = true
	m.EndedAt = t0.AddDate(1, 0, 0).In(cet)
	m.Sequence = 4
	m.Changed = t0.Add(3 * time.Minute).In(cet)
	return m
}

// meetingJSON renders m with its times in UTC, so that meetings equal up
// to time zones render the same.
func meetingJSON(m *meeting.Meeting) string {
	if m == nil {
		return "null"
	}
	q := *m
	q.Start, q.EndedAt, q.Created, q.Changed = q.Start.UTC(), q.EndedAt.UTC(), q.Created.UTC(), q.Changed.UTC()
	q.Agenda = slices.Clone(q.Agenda)
	for i := range q.Agenda {
		q.Agenda[i].Added = q.Agenda[i].Added.UTC()
	}
	q.Cancelled = slices.Clone(q.Cancelled)
	for i := range q.Cancelled {
		q.Cancelled[i] = q.Cancelled[i].UTC()
	}
	q.Moves = slices.Clone(q.Moves)
	for i := range q.Moves {
		q.Moves[i] = meeting.Move{From: q.Moves[i].From.UTC(), To: q.Moves[i].To.UTC()}
	}
	return asJSON(q)
}

func checkMeeting(t *testing.T, what string, got, want *meeting.Meeting) {
	t.Helper()
	if g, w := meetingJSON(got), meetingJSON(want); g != w {
		t.Errorf("%s differs\n got: %s\nwant: %s", what, g, w)
	}
}

func mustCreateMeeting(t *testing.T, s meeting.Store, m *meeting.Meeting) {
	t.Helper()
	if err := s.Create(t.Context(), m); err != nil {
		t.Fatalf("Create(%s): %v", m.ID, err)
	}
}

func mustGetMeeting(t *testing.T, s meeting.Store, id string) *meeting.Meeting {
	t.Helper()
	m, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return m
}

// rsvp is a click by user on meeting id from channelA.
func rsvp(s meeting.Store, t *testing.T, id, user string, a meeting.Answer) (*meeting.Meeting, error) {
	return s.Click(t.Context(), meeting.Click{
		Meeting: id, Channel: channelA, User: user, Name: "Name of " + user, Answer: a, At: t0.Add(time.Hour),
	})
}

func mustRSVP(t *testing.T, s meeting.Store, id, user string, a meeting.Answer) {
	t.Helper()
	if _, err := rsvp(s, t, id, user, a); err != nil {
		t.Fatalf("%s answers %s to %s: %v", user, a, id, err)
	}
}

// answers returns the meeting's RSVPs as "user=answer", sorted.
func answers(t *testing.T, s meeting.Store, id string) []string {
	t.Helper()
	list, err := s.RSVPs(t.Context(), id)
	if err != nil {
		t.Fatalf("RSVPs(%s): %v", id, err)
	}
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.User + "=" + string(r.Answer)
	}
	slices.Sort(out)
	return out
}

func meetingIDs(list []*meeting.Meeting) []string {
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	return ids
}

func testMeetingCreateGet(t *testing.T, s meeting.Store) {
	full := fullMeeting("m1")
	// A field added to Meeting must be set in fullMeeting, so that this
	// test sees it kept.
	v := reflect.ValueOf(*full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullMeeting leaves Meeting.%s unset; set it, so the stores are seen to keep it", v.Type().Field(i).Name)
		}
	}
	mustCreateMeeting(t, s, full)
	checkMeeting(t, "meeting with every field", mustGetMeeting(t, s, "m1"), fullMeeting("m1"))
	plain := newMeeting("m2", t0.Add(time.Minute))
	mustCreateMeeting(t, s, plain)
	got := mustGetMeeting(t, s, "m2")
	checkMeeting(t, "plain meeting", got, newMeeting("m2", t0.Add(time.Minute)))
	if !got.Start.Equal(plain.Start) || got.Zone != "Europe/Amsterdam" || got.Duration != 90*time.Minute {
		t.Errorf("Start %v in %q for %v; want %v in Europe/Amsterdam for 1h30m", got.Start, got.Zone, got.Duration, plain.Start)
	}
	if rs := answers(t, s, "m2"); len(rs) != 0 {
		t.Errorf("a new meeting has answers %v", rs)
	}
}

func testMeetingCreateTakenID(t *testing.T, s meeting.Store) {
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	other := fullMeeting("m1")
	other.Where = channelB
	if err := s.Create(t.Context(), other); !errors.Is(err, meeting.ErrExists) {
		t.Fatalf("Create with a taken id: %v, want ErrExists", err)
	}
	checkMeeting(t, "the first meeting", mustGetMeeting(t, s, "m1"), newMeeting("m1", t0))
	if l, err := s.List(t.Context(), channelB); err != nil || len(l) != 0 {
		t.Errorf("a refused Create left an index entry: List = %v, %v", meetingIDs(l), err)
	}
}

func testMissingMeeting(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("other", t0))
	changed := false
	calls := map[string]func() error{
		"Get": func() error { _, err := s.Get(ctx, "nope"); return err },
		"Update": func() error {
			_, err := s.Update(ctx, "nope", func(m *meeting.Meeting) error { changed = true; return nil })
			return err
		},
		"Delete": func() error { return s.Delete(ctx, "nope") },
		"Click":  func() error { _, err := rsvp(s, t, "nope", "U1", meeting.Yes); return err },
		"InvitedClick": func() error {
			_, err := s.Click(ctx, meeting.Click{Meeting: "nope", Invited: true, User: "U1", Answer: meeting.Yes, At: t0})
			return err
		},
		"RSVPs": func() error { _, err := s.RSVPs(ctx, "nope"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, meeting.ErrNotFound) {
			t.Errorf("%s on a missing meeting: %v, want ErrNotFound", name, err)
		}
	}
	if changed {
		t.Errorf("Update called change on a missing meeting")
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("Get after calls on a missing meeting: %v, want ErrNotFound", err)
	}
	if l, err := s.Attending(ctx, bot.Slack, "U1"); err != nil || len(l) != 0 {
		t.Errorf("Attending after a click on a missing meeting = %v, %v", meetingIDs(l), err)
	}
}

func testMeetingUpdate(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	mustRSVP(t, s, "m1", "U1", meeting.Yes)
	want := fullMeeting("m1")
	got, err := s.Update(ctx, "m1", func(m *meeting.Meeting) error {
		if m.Title != "Maandoverleg projectleiders" {
			t.Errorf("change sees title %q, not the stored one", m.Title)
		}
		id := m.ID
		*m = *fullMeeting("ignored")
		m.ID = id
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkMeeting(t, "meeting Update returned", got, want)
	checkMeeting(t, "meeting after Update", mustGetMeeting(t, s, "m1"), want)
	if rs := answers(t, s, "m1"); !slices.Equal(rs, []string{"U1=yes"}) {
		t.Errorf("answers after Update: %v", rs)
	}
	// Changing back clears what the change clears, the Ref too.
	got, err = s.Update(ctx, "m1", func(m *meeting.Meeting) error {
		*m = *newMeeting("m1", t0)
		return nil
	})
	if err != nil {
		t.Fatalf("second Update: %v", err)
	}
	checkMeeting(t, "meeting after the second Update", mustGetMeeting(t, s, "m1"), newMeeting("m1", t0))
	checkMeeting(t, "meeting the second Update returned", got, newMeeting("m1", t0))
}

func testMeetingUpdateRefused(t *testing.T, s meeting.Store) {
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	refusal := errors.New("not the organiser")
	_, err := s.Update(t.Context(), "m1", func(m *meeting.Meeting) error {
		m.Title = "Changed"
		m.Ended = true
		return refusal
	})
	if !errors.Is(err, refusal) {
		t.Fatalf("Update whose change refuses: %v, want the change's error", err)
	}
	checkMeeting(t, "meeting after a refused Update", mustGetMeeting(t, s, "m1"), newMeeting("m1", t0))
	if _, err := rsvp(s, t, "m1", "U1", meeting.Yes); err != nil {
		t.Errorf("a refused Update ended the meeting: %v", err)
	}
}

// testMeetingUpdateMoves: an Update that changes the channel or the
// creation time moves the meeting in List with it.
func testMeetingUpdateMoves(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	for i, id := range []string{"m1", "m2", "m3"} {
		mustCreateMeeting(t, s, newMeeting(id, t0.Add(time.Duration(i)*time.Minute)))
	}
	if _, err := s.Update(ctx, "m1", func(m *meeting.Meeting) error { m.Created = t0.Add(time.Hour); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "m2", func(m *meeting.Meeting) error { m.Where = channelB; return nil }); err != nil {
		t.Fatal(err)
	}
	for where, want := range map[bot.Where][]string{channelA: {"m3", "m1"}, channelB: {"m2"}} {
		list, err := s.List(ctx, where)
		if ids := meetingIDs(list); err != nil || !slices.Equal(ids, want) {
			t.Errorf("List(%s) after the Updates = %v, %v; want %v", where.Key(), ids, err, want)
		}
	}
	if err := s.Delete(ctx, "m2"); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(ctx, channelB); err != nil || len(list) != 0 {
		t.Errorf("List(%s) after deleting the moved meeting = %v, %v", channelB.Key(), meetingIDs(list), err)
	}
}

// testMeetingConcurrentUpdates has 50 people add an agenda point at once:
// every point is kept, each with its own number.
func testMeetingConcurrentUpdates(t *testing.T, s meeting.Store) {
	const adders = 50
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	var wg sync.WaitGroup
	for i := range adders {
		wg.Go(func() {
			_, err := s.Update(t.Context(), "m1", func(m *meeting.Meeting) error {
				m.Points++
				m.Agenda = append(m.Agenda, meeting.Point{ID: m.Points, Text: fmt.Sprintf("punt %d", i), By: fmt.Sprintf("U%d", i), Added: t0})
				m.Sequence++
				return nil
			})
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	m := mustGetMeeting(t, s, "m1")
	texts := map[string]bool{}
	for i, p := range m.Agenda {
		texts[p.Text] = true
		if p.ID != i+1 {
			t.Errorf("point %d has number %d; two Updates saw the same agenda", i, p.ID)
		}
	}
	if len(texts) != adders || len(m.Agenda) != adders || m.Sequence != adders {
		t.Fatalf("after %d concurrent Updates: %d points (%d distinct), sequence %d", adders, len(m.Agenda), len(texts), m.Sequence)
	}
}

// testMeetingUpdateKeepsClickRef: a click that records the message while
// Updates run is not undone by them, nor are they by it.
func testMeetingUpdateKeepsClickRef(t *testing.T, s meeting.Store) {
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	ref := bot.Ref{Where: channelA, ID: "msg-9"}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := s.Update(t.Context(), "m1", func(m *meeting.Meeting) error {
				m.Sequence++
				return nil
			})
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		})
	}
	wg.Go(func() {
		if _, err := s.Click(t.Context(), meeting.Click{Meeting: "m1", Channel: channelA, User: "U1", Answer: meeting.Yes, At: t0, Ref: ref}); err != nil {
			t.Errorf("Click: %v", err)
		}
	})
	wg.Wait()
	m := mustGetMeeting(t, s, "m1")
	if m.Ref != ref || m.Sequence != 20 {
		t.Errorf("after 20 Updates and a click with the message: ref %+v, sequence %d; want %+v, 20", m.Ref, m.Sequence, ref)
	}
}

func testMeetingClickChannel(t *testing.T, s meeting.Store) {
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	click := func(where bot.Where, invited bool, user string) error {
		_, err := s.Click(t.Context(), meeting.Click{Meeting: "m1", Channel: where, Invited: invited, User: user, Answer: meeting.Yes, At: t0})
		return err
	}
	other := []bot.Where{channelB, {Platform: bot.Mattermost, Team: channelA.Team, Channel: channelA.Channel}, {}}
	for _, where := range other {
		if err := click(where, false, "U1"); !errors.Is(err, meeting.ErrNotFound) {
			t.Errorf("a click from %q: %v, want ErrNotFound", where.Key(), err)
		}
	}
	if rs := answers(t, s, "m1"); len(rs) != 0 {
		t.Fatalf("clicks from elsewhere stored %v", rs)
	}
	if l, err := s.Attending(t.Context(), bot.Slack, "U1"); err != nil || len(l) != 0 {
		t.Errorf("refused clicks show in Attending: %v, %v", meetingIDs(l), err)
	}
	// The channel is the same whatever team the platform sent with it.
	if err := click(channelA2, false, "U2"); err != nil {
		t.Errorf("a click from the meeting's channel with another team: %v", err)
	}
	if err := click(bot.Where{Platform: channelA.Platform, Channel: channelA.Channel}, false, "U3"); err != nil {
		t.Errorf("a click from the meeting's channel without a team: %v", err)
	}
	// A click in a reminder DM kring sent counts as one on the post.
	if err := click(bot.Where{Platform: bot.Slack, Team: "T1", Channel: "D-U4"}, true, "U4"); err != nil {
		t.Errorf("an invited click from a DM: %v", err)
	}
	if rs := answers(t, s, "m1"); !slices.Equal(rs, []string{"U2=yes", "U3=yes", "U4=yes"}) {
		t.Errorf("answers = %v, want U2, U3 and U4 yes", rs)
	}
}

func testMeetingClickDelivery(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	click := func(user string, a meeting.Answer, delivery string) error {
		_, err := s.Click(ctx, meeting.Click{Meeting: "m1", Channel: channelA, User: user, Answer: a, At: t0, Delivery: delivery})
		return err
	}
	if err := click("U1", meeting.Yes, "d1"); err != nil {
		t.Fatal(err)
	}
	if err := click("U1", meeting.No, "d1"); !errors.Is(err, bot.ErrRepeated) {
		t.Fatalf("the same delivery again: %v, want bot.ErrRepeated", err)
	}
	if rs := answers(t, s, "m1"); !slices.Equal(rs, []string{"U1=yes"}) {
		t.Fatalf("a repeated delivery changed the answers: %v", rs)
	}
	if err := click("U1", meeting.No, "d2"); err != nil {
		t.Fatal(err)
	}
	if rs := answers(t, s, "m1"); !slices.Equal(rs, []string{"U1=no"}) {
		t.Fatalf("another delivery did not count: %v", rs)
	}
	// A refused click does not use up its delivery.
	setEnded := func(ended bool) {
		t.Helper()
		if _, err := s.Update(ctx, "m1", func(m *meeting.Meeting) error { m.Ended = ended; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setEnded(true)
	if err := click("U2", meeting.Yes, "d3"); !errors.Is(err, meeting.ErrEnded) {
		t.Fatalf("click on an ended meeting: %v, want ErrEnded", err)
	}
	setEnded(false)
	if err := click("U2", meeting.Yes, "d3"); err != nil {
		t.Fatalf("a delivery refused before counts once the meeting is on again: %v", err)
	}
	if err := click("U2", meeting.Maybe, ""); err != nil {
		t.Fatalf("a click without a delivery: %v", err)
	}
	if err := click("U2", meeting.Yes, ""); err != nil {
		t.Fatalf("a second click without a delivery: %v", err)
	}
}

func testMeetingClickEnded(t *testing.T, s meeting.Store) {
	m := newMeeting("m1", t0)
	m.Ended, m.EndedAt = true, t0
	mustCreateMeeting(t, s, m)
	if _, err := rsvp(s, t, "m1", "U1", meeting.Yes); !errors.Is(err, meeting.ErrEnded) {
		t.Fatalf("click on an ended meeting: %v, want ErrEnded", err)
	}
	_, err := s.Click(t.Context(), meeting.Click{Meeting: "m1", Invited: true, User: "U1", Answer: meeting.Yes, At: t0})
	if !errors.Is(err, meeting.ErrEnded) {
		t.Fatalf("invited click on an ended meeting: %v, want ErrEnded", err)
	}
	// The channel is checked first: from elsewhere the meeting is not there.
	if _, err := s.Click(t.Context(), meeting.Click{Meeting: "m1", Channel: channelB, User: "U1", Answer: meeting.Yes, At: t0}); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("click from another channel on an ended meeting: %v, want ErrNotFound", err)
	}
	if rs := answers(t, s, "m1"); len(rs) != 0 {
		t.Errorf("clicks on an ended meeting stored %v", rs)
	}
	if l, err := s.Attending(t.Context(), bot.Slack, "U1"); err != nil || len(l) != 0 {
		t.Errorf("a refused click shows in Attending: %v, %v", meetingIDs(l), err)
	}
}

func testMeetingAnswerReplaced(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	clicks := []meeting.Click{
		{User: "U1", Name: "Anne", Answer: meeting.Yes, At: t0.Add(time.Minute)},
		{User: "U2", Name: "Bram", Answer: meeting.Maybe, At: t0.Add(2 * time.Minute)},
		{User: "U1", Name: "Anne de Vries", Answer: meeting.No, At: t0.Add(3 * time.Minute).In(cet)},
	}
	for _, c := range clicks {
		c.Meeting, c.Channel = "m1", channelA
		if _, err := s.Click(ctx, c); err != nil {
			t.Fatalf("click by %s: %v", c.User, err)
		}
	}
	got, err := s.RSVPs(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b meeting.RSVP) int { return strings.Compare(a.User, b.User) })
	for i := range got {
		got[i].At = got[i].At.UTC()
	}
	want := []meeting.RSVP{
		{User: "U1", Name: "Anne de Vries", Answer: meeting.No, At: t0.Add(3 * time.Minute)},
		{User: "U2", Name: "Bram", Answer: meeting.Maybe, At: t0.Add(2 * time.Minute)},
	}
	if asJSON(got) != asJSON(want) {
		t.Errorf("answers\n got: %s\nwant: %s", asJSON(got), asJSON(want))
	}
}

func testMeetingClickRef(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	first := bot.Ref{Where: channelA, ID: "msg-1"}
	m, err := s.Click(ctx, meeting.Click{Meeting: "m1", Channel: channelA, User: "U1", Answer: meeting.Yes, At: t0, Ref: first})
	if err != nil {
		t.Fatal(err)
	}
	want := newMeeting("m1", t0)
	want.Ref = first
	checkMeeting(t, "meeting the click returned", m, want)
	checkMeeting(t, "meeting after a click with its message", mustGetMeeting(t, s, "m1"), want)
	// A recorded message stays: a click from a reminder DM names the DM.
	dm := bot.Ref{Where: bot.Where{Platform: bot.Slack, Channel: "D1"}, ID: "dm-1"}
	m, err = s.Click(ctx, meeting.Click{Meeting: "m1", Invited: true, User: "U2", Answer: meeting.Maybe, At: t0, Ref: dm})
	if err != nil {
		t.Fatal(err)
	}
	checkMeeting(t, "meeting a later click returned", m, want)
	checkMeeting(t, "meeting after a later click", mustGetMeeting(t, s, "m1"), want)
}

// testMeetingConcurrentClicks has 200 people answer at once.
func testMeetingConcurrentClicks(t *testing.T, s meeting.Store) {
	const people = 200
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	all := []meeting.Answer{meeting.Yes, meeting.Maybe, meeting.No}
	var wg sync.WaitGroup
	for i := range people {
		wg.Go(func() {
			if _, err := rsvp(s, t, "m1", fmt.Sprintf("U%03d", i), all[i%3]); err != nil {
				t.Errorf("click %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	rs := answers(t, s, "m1")
	if len(rs) != people {
		t.Fatalf("%d answers after %d people clicked", len(rs), people)
	}
	for i, r := range rs {
		if want := fmt.Sprintf("U%03d=%s", i, all[i%3]); r != want {
			t.Errorf("answer %q, want %q", r, want)
		}
	}
}

func testMeetingAttending(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	add := func(id string, where bot.Where, created time.Time) {
		m := newMeeting(id, created)
		m.Where = where
		mustCreateMeeting(t, s, m)
	}
	mm := bot.Where{Platform: bot.Mattermost, Team: "team1", Channel: "C1"}
	add("yes", channelA, t0)
	add("maybe", channelB, t0.Add(time.Minute))
	add("no", channelA, t0.Add(2*time.Minute))
	add("changed", channelA, t0.Add(3*time.Minute))
	add("back", channelA2, t0.Add(4*time.Minute))
	add("deleted", channelA, t0.Add(5*time.Minute))
	add("ended", channelB, t0.Add(6*time.Minute))
	add("other-user", channelA, t0.Add(7*time.Minute))
	add("mattermost", mm, t0.Add(8*time.Minute))
	click := func(id string, where bot.Where, user string, a meeting.Answer) {
		t.Helper()
		if _, err := s.Click(ctx, meeting.Click{Meeting: id, Channel: where, User: user, Answer: a, At: t0}); err != nil {
			t.Fatalf("%s answers %s to %s: %v", user, a, id, err)
		}
	}
	click("yes", channelA, "U1", meeting.Yes)
	click("maybe", channelB, "U1", meeting.Maybe)
	click("no", channelA, "U1", meeting.No)
	click("changed", channelA, "U1", meeting.Yes)
	click("changed", channelA, "U1", meeting.No)
	click("back", channelA2, "U1", meeting.Yes)
	click("back", channelA2, "U1", meeting.No)
	click("back", channelA2, "U1", meeting.Maybe)
	click("deleted", channelA, "U1", meeting.Yes)
	click("ended", channelB, "U1", meeting.Yes)
	click("other-user", channelA, "U2", meeting.Yes)
	click("mattermost", mm, "U1", meeting.Yes)
	// An invited click counts on the meeting's platform, whatever the
	// click said of where it came from.
	if _, err := s.Click(ctx, meeting.Click{Meeting: "other-user", Invited: true, User: "U3", Answer: meeting.Maybe, At: t0}); err != nil {
		t.Fatalf("an invited click without a channel: %v", err)
	}
	if err := s.Delete(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	// An ended meeting is still attended: the feature decides how to show it.
	if _, err := s.Update(ctx, "ended", func(m *meeting.Meeting) error { m.Ended = true; return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Attending(ctx, bot.Slack, "U1")
	if err != nil {
		t.Fatalf("Attending: %v", err)
	}
	if ids, want := meetingIDs(got), []string{"yes", "maybe", "back", "ended"}; !slices.Equal(ids, want) {
		t.Errorf("Attending(slack, U1) = %v, want %v", ids, want)
	}
	for _, m := range got {
		if m.ID == "ended" && !m.Ended {
			t.Errorf("Attending returned the ended meeting as it was before it ended")
		}
	}
	got, err = s.Attending(ctx, bot.Mattermost, "U1")
	if ids := meetingIDs(got); err != nil || !slices.Equal(ids, []string{"mattermost"}) {
		t.Errorf("Attending(mattermost, U1) = %v, %v; want [mattermost]", ids, err)
	}
	got, err = s.Attending(ctx, bot.Slack, "U3")
	if ids := meetingIDs(got); err != nil || !slices.Equal(ids, []string{"other-user"}) {
		t.Errorf("Attending(slack, U3) after an invited click = %v, %v; want [other-user]", ids, err)
	}
	got, err = s.Attending(ctx, bot.Slack, "U9")
	if err != nil || len(got) != 0 {
		t.Errorf("Attending of someone who never answered = %v, %v", meetingIDs(got), err)
	}
}

// feedTokenOf returns f's token, failing t on an error.
func feedTokenOf(t *testing.T, s meeting.Store, f meeting.Feed, rotate bool) string {
	t.Helper()
	token, err := s.FeedToken(t.Context(), f, rotate)
	if err != nil {
		t.Fatalf("FeedToken(%+v, rotate %t): %v", f, rotate, err)
	}
	b, err := hex.DecodeString(token)
	if err != nil || len(b) < 32 {
		t.Errorf("token %q is not 32 or more random bytes in hex (%v)", token, err)
	}
	return token
}

func checkFeed(t *testing.T, s meeting.Store, token string, want meeting.Feed) {
	t.Helper()
	got, err := s.FeedByToken(t.Context(), token)
	if err != nil {
		t.Fatalf("FeedByToken: %v", err)
	}
	want.Token = token
	if got != want {
		t.Errorf("FeedByToken = %+v, want %+v", got, want)
	}
}

func testFeedTokens(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	channel := meeting.Feed{Where: channelA}
	personal := meeting.Feed{Where: channelA.Workspace(), User: "U1"}
	tokens := map[string]meeting.Feed{}
	for _, f := range []meeting.Feed{
		channel, personal,
		{Where: channelB},
		{Where: channelA2},
		{Where: channelA.Workspace(), User: "U2"},
		{Where: bot.Where{Platform: bot.Mattermost, Team: "T1"}, User: "U1"},
	} {
		token := feedTokenOf(t, s, f, false)
		if prev, ok := tokens[token]; ok {
			t.Errorf("feeds %+v and %+v share a token", prev, f)
		}
		tokens[token] = f
		if again := feedTokenOf(t, s, f, false); again != token {
			t.Errorf("FeedToken(%+v) a second time = %q, first %q; want the same", f, again, token)
		}
		// The token given is ignored: the feed is named by the rest.
		f.Token = "something"
		if again := feedTokenOf(t, s, f, false); again != token {
			t.Errorf("FeedToken(%+v) with a token set = %q, want %q", f, again, token)
		}
	}
	for token, f := range tokens {
		checkFeed(t, s, token, f)
	}
	for _, token := range []string{"", "nope", strings.Repeat("A", 43)} {
		if _, err := s.FeedByToken(ctx, token); !errors.Is(err, meeting.ErrNotFound) {
			t.Errorf("FeedByToken(%q): %v, want ErrNotFound", token, err)
		}
	}
}

func testFeedRotate(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	channel := meeting.Feed{Where: channelA}
	personal := meeting.Feed{Where: channelA.Workspace(), User: "U1"}
	old := feedTokenOf(t, s, channel, false)
	mine := feedTokenOf(t, s, personal, false)
	fresh := feedTokenOf(t, s, channel, true)
	if fresh == old {
		t.Fatalf("rotate kept the token %q", old)
	}
	if _, err := s.FeedByToken(ctx, old); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("FeedByToken(old token) after rotating: %v, want ErrNotFound", err)
	}
	checkFeed(t, s, fresh, channel)
	if again := feedTokenOf(t, s, channel, false); again != fresh {
		t.Errorf("FeedToken after rotating = %q, want the new %q", again, fresh)
	}
	// Rotating one feed leaves the others alone.
	checkFeed(t, s, mine, personal)
	// Rotating a feed that had no token yet makes its first.
	other := meeting.Feed{Where: channelB}
	first := feedTokenOf(t, s, other, true)
	checkFeed(t, s, first, other)
	if again := feedTokenOf(t, s, other, false); again != first {
		t.Errorf("FeedToken after a first rotate = %q, want %q", again, first)
	}
}

// testConcurrentFeedTokens asks for a new feed's token many times at
// once: everyone gets the same one.
func testConcurrentFeedTokens(t *testing.T, s meeting.Store) {
	f := meeting.Feed{Where: channelA}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens = map[string]bool{}
	)
	for range 20 {
		wg.Go(func() {
			token, err := s.FeedToken(t.Context(), f, false)
			if err != nil {
				t.Errorf("FeedToken: %v", err)
				return
			}
			mu.Lock()
			tokens[token] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(tokens) != 1 {
		t.Fatalf("20 concurrent FeedToken calls made %d tokens", len(tokens))
	}
	for token := range tokens {
		checkFeed(t, s, token, f)
	}
}

func testMeetingList(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	add := func(id string, where bot.Where, created time.Time) {
		m := newMeeting(id, created)
		m.Where = where
		mustCreateMeeting(t, s, m)
	}
	add("a3", channelA, t0.Add(2*time.Hour))
	add("a1", channelA, t0)
	add("a2b", channelA, t0.Add(time.Hour))
	add("a2a", channelA, t0.Add(time.Hour)) // the same instant: by id
	add("a0", channelA, t0.Add(time.Microsecond).In(cet))
	add("b1", channelB, t0.Add(3*time.Hour))
	add("x1", channelA2, t0.Add(4*time.Hour))
	if _, err := s.Update(ctx, "a3", func(m *meeting.Meeting) error { m.Ended = true; return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, channelA)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if ids, want := meetingIDs(list), []string{"a1", "a0", "a2a", "a2b", "a3"}; !slices.Equal(ids, want) {
		t.Errorf("List = %v, want %v (in order of creation, this channel only)", ids, want)
	}
	for _, m := range list {
		if m.Where != channelA {
			t.Errorf("List(%s) returned %s of %s", channelA.Key(), m.ID, m.Where.Key())
		}
		if m.ID == "a3" && !m.Ended {
			t.Errorf("List shows a3 as before its Update")
		}
	}
	if list, err := s.List(ctx, channelB); err != nil || !slices.Equal(meetingIDs(list), []string{"b1"}) {
		t.Errorf("List(%s) = %v, %v; want [b1]", channelB.Key(), meetingIDs(list), err)
	}
	if list, err := s.List(ctx, bot.Where{Platform: bot.Slack, Team: "T1", Channel: "empty"}); err != nil || len(list) != 0 {
		t.Errorf("List of a channel without meetings = %v, %v", meetingIDs(list), err)
	}
}

func testMeetingDelete(t *testing.T, s meeting.Store) {
	ctx := t.Context()
	mustCreateMeeting(t, s, newMeeting("m1", t0))
	mustCreateMeeting(t, s, newMeeting("m2", t0.Add(time.Minute)))
	mustRSVP(t, s, "m1", "U1", meeting.Yes)
	mustRSVP(t, s, "m1", "U2", meeting.No)
	mustRSVP(t, s, "m2", "U1", meeting.Maybe)
	if err := s.Delete(ctx, "m1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "m1"); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := s.RSVPs(ctx, "m1"); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("RSVPs after Delete: %v, want ErrNotFound", err)
	}
	if _, err := rsvp(s, t, "m1", "U3", meeting.Yes); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("Click after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "m1"); !errors.Is(err, meeting.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if list, err := s.List(ctx, channelA); err != nil || !slices.Equal(meetingIDs(list), []string{"m2"}) {
		t.Errorf("List after Delete = %v, %v; want [m2]", meetingIDs(list), err)
	}
	if list, err := s.Attending(ctx, bot.Slack, "U1"); err != nil || !slices.Equal(meetingIDs(list), []string{"m2"}) {
		t.Errorf("Attending after Delete = %v, %v; want [m2]", meetingIDs(list), err)
	}
	// A new meeting under the id starts without the old answers, and the
	// old answers do not make anyone attend it.
	mustCreateMeeting(t, s, newMeeting("m1", t0.Add(2*time.Minute)))
	if rs := answers(t, s, "m1"); len(rs) != 0 {
		t.Errorf("Delete left answers behind: %v", rs)
	}
	if list, err := s.Attending(ctx, bot.Slack, "U1"); err != nil || !slices.Equal(meetingIDs(list), []string{"m2"}) {
		t.Errorf("Attending after the id is used again = %v, %v; want [m2]", meetingIDs(list), err)
	}
	if rs := answers(t, s, "m2"); !slices.Equal(rs, []string{"U1=maybe"}) {
		t.Errorf("m2's answers after deleting m1: %v", rs)
	}
}
