package redis

import (
	"slices"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/storage/storagetest"
)

func TestMeetings(t *testing.T) {
	requireRedis(t)
	storagetest.TestMeetings(t, func(t *testing.T) meeting.Store { return newStore(t).Meetings() })
}

var (
	meetingsWhere = bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	meetingsT0    = time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
)

func createMeeting(t *testing.T, ms meeting.Store, id string) {
	t.Helper()
	m := &meeting.Meeting{ID: id, Where: meetingsWhere, Title: "Kennistafel", Zone: "Europe/Amsterdam", Start: meetingsT0.Add(24 * time.Hour), Created: meetingsT0}
	if err := ms.Create(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

// TestMeetingUpdateRetries makes the interleavings the concurrent suite
// can only hope for: another Update, and a click that records the
// message, land between an Update's read and its write. The Update
// then applies its change again, to what is stored now.
func TestMeetingUpdateRetries(t *testing.T) {
	requireRedis(t)
	ctx := t.Context()
	ms := newStore(t).Meetings()
	createMeeting(t, ms, "m1")
	ref := bot.Ref{Where: meetingsWhere, ID: "msg-1"}
	calls := 0
	got, err := ms.Update(ctx, "m1", func(m *meeting.Meeting) error {
		calls++
		if calls == 1 {
			if _, err := ms.Update(ctx, "m1", func(m *meeting.Meeting) error { m.Place = "Utrecht"; return nil }); err != nil {
				t.Fatalf("inner Update: %v", err)
			}
		}
		if calls == 2 {
			c := meeting.Click{Meeting: "m1", Channel: meetingsWhere, User: "U1", Answer: meeting.Yes, At: meetingsT0, Ref: ref}
			if _, err := ms.Click(ctx, c); err != nil {
				t.Fatalf("click: %v", err)
			}
		}
		m.Sequence++
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 3 {
		t.Errorf("change ran %d times; want 3 (twice overtaken)", calls)
	}
	stored, err := ms.Get(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	for what, m := range map[string]*meeting.Meeting{"returned": got, "stored": stored} {
		if m.Place != "Utrecht" || m.Ref != ref || m.Sequence != 1 {
			t.Errorf("%s: place %q, ref %+v, sequence %d; want Utrecht, %+v, 1", what, m.Place, m.Ref, m.Sequence, ref)
		}
	}
}

// TestMeetingAttendingLeftovers: the attending set may hold more than the
// meetings someone attends (an answer changed to No, a click refused
// after its set was written, a Delete cut short); Attending reads the
// answers and shows only what they say.
func TestMeetingAttendingLeftovers(t *testing.T) {
	requireRedis(t)
	ctx := t.Context()
	s := newStore(t)
	ms := s.Meetings()
	for _, id := range []string{"yes", "no", "unanswered", "ended"} {
		createMeeting(t, ms, id)
	}
	click := func(id string, a meeting.Answer) error {
		_, err := ms.Click(ctx, meeting.Click{Meeting: id, Channel: meetingsWhere, User: "U1", Answer: a, At: meetingsT0})
		return err
	}
	for id, a := range map[string]meeting.Answer{"yes": meeting.Yes, "no": meeting.Yes} {
		if err := click(id, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := click("no", meeting.No); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Update(ctx, "ended", func(m *meeting.Meeting) error { m.Ended = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := click("ended", meeting.Maybe); err == nil {
		t.Fatal("a click on an ended meeting was taken")
	}
	// A Delete cut short before the index step, and a click that stopped
	// between writing the set and its script.
	if err := s.c.SAdd(ctx, s.attendingKey(bot.Slack, "U1"), "gone", "unanswered").Err(); err != nil {
		t.Fatal(err)
	}
	members, err := s.c.SMembers(ctx, s.attendingKey(bot.Slack, "U1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(members)
	if want := []string{"ended", "gone", "no", "unanswered", "yes"}; !slices.Equal(members, want) {
		t.Fatalf("attending set %v, want %v", members, want)
	}
	list, err := ms.Attending(ctx, bot.Slack, "U1")
	if err != nil || len(list) != 1 || list[0].ID != "yes" {
		var ids []string
		for _, m := range list {
			ids = append(ids, m.ID)
		}
		t.Errorf("Attending = %v, %v; want [yes]", ids, err)
	}
}
