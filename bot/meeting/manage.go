package meeting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/when"
)

// agenda shows, adds to or takes from a meeting's agenda: anyone in the
// channel adds a point; its adder, the organiser or an admin removes it.
func (f *Feature) agenda(ctx context.Context, req *bot.Request, id string, rest []word) (*bot.Message, error) {
	m, err := f.get(ctx, req.Where, id)
	if err != nil {
		return nil, err
	}
	v := f.view(req.Locale, req.User.Location(f.c.Location))
	if len(rest) == 0 {
		if len(m.Agenda) == 0 {
			return bot.TextMessage(v.tr.S("meeting.agenda_empty", "Title", bot.Escape(m.Title), "ID", m.ID)), nil
		}
		return bot.TextMessage(v.tr.S("meeting.agenda_of", "Title", bot.Escape(m.Title)) + "\n" + v.agenda(m)), nil
	}
	if m.Ended {
		return nil, bot.Errorf("meeting.err.ended", "Title", bot.Escape(m.Title))
	}
	now := f.c.Clock.Now()
	if len(rest) == 2 && !rest[0].Quoted && removeWord(rest[0].Text) {
		n, err := strconv.Atoi(strings.Trim(rest[1].Text, "#.`"))
		if err != nil {
			return nil, bot.Errorf("meeting.err.point_number", "ID", m.ID)
		}
		return f.removePoint(ctx, req, m, n, now)
	}
	text := strings.TrimSpace(joinText(rest))
	switch {
	case text == "":
		return nil, bot.Errorf("meeting.err.point_empty", "ID", m.ID)
	case len([]rune(text)) > MaxPointLen:
		return nil, bot.Errorf("meeting.err.point_too_long", "Max", MaxPointLen, "ID", m.ID)
	}
	var added int
	m, err = f.c.Store.Update(ctx, m.ID, func(s *Meeting) error {
		if s.Ended {
			return ErrEnded
		}
		if len(s.Agenda) >= MaxPoints {
			return bot.Errorf("meeting.err.too_many_points", "Max", MaxPoints)
		}
		s.Points = max(s.Points, maxPointID(s.Agenda)) + 1
		added = s.Points
		s.Agenda = append(s.Agenda, Point{ID: s.Points, Text: text, By: req.User.ID, ByName: req.User.Label(), Added: now})
		s.Sequence++
		s.Changed = now
		return nil
	})
	if err := f.updateErr(err, id); err != nil {
		return nil, err
	}
	f.changed(ctx, m.ID)
	return bot.TextMessage(v.tr.S("meeting.point_added", "N", added, "Title", bot.Escape(m.Title), "ID", m.ID)), nil
}

func maxPointID(ps []Point) int {
	n := 0
	for _, p := range ps {
		n = max(n, p.ID)
	}
	return n
}

// updateErr turns what Store.Update refused into a reply.
func (f *Feature) updateErr(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return bot.Errorf("meeting.err.not_found", "ID", bot.Escape(id))
	case errors.Is(err, ErrEnded):
		return bot.Errorf("meeting.err.ended_id", "ID", bot.Escape(id))
	}
	if _, ok := bot.AsUserError(err); ok {
		return err
	}
	return fmt.Errorf("update meeting %s: %w", id, err)
}

func (f *Feature) removePoint(ctx context.Context, req *bot.Request, m *Meeting, n int, now time.Time) (*bot.Message, error) {
	var removed Point
	id := m.ID
	m, err := f.c.Store.Update(ctx, id, func(s *Meeting) error {
		i := slices.IndexFunc(s.Agenda, func(p Point) bool { return p.ID == n })
		if i < 0 {
			return bot.Errorf("meeting.err.no_point", "N", n, "ID", s.ID)
		}
		if p := s.Agenda[i]; p.By != req.User.ID && !f.mayManage(s, req.Platform, req.User) {
			return bot.Errorf("meeting.err.point_not_yours", "Name", bot.Escape(pointBy(p)), "Organiser", bot.Escape(s.Organiser.Label()))
		}
		removed = s.Agenda[i]
		s.Agenda = slices.Delete(s.Agenda, i, i+1)
		s.Points = max(s.Points, maxPointID(s.Agenda), removed.ID)
		s.Sequence++
		s.Changed = now
		return nil
	})
	if err := f.updateErr(err, id); err != nil {
		return nil, err
	}
	f.changed(ctx, m.ID)
	return bot.TextMessage(bot.T(req.Locale).S("meeting.point_removed", "N", n, "Text", bot.Escape(removed.Text))), nil
}

// dayAndRest reads a day at the start of words that names one of m's
// occurrences ("15 januari", "do 19 feb", "2026-02-19"): the occurrence,
// the words that named it and the words after them.
func (f *Feature) dayAndRest(m *Meeting, words []word, now time.Time) (Occurrence, string, []word, bool) {
	loc := m.Location(f.c.Location)
	for i := min(len(words), 5); i >= 1; i-- {
		text := joinText(words[:i])
		r, err := when.Moment(text, now, loc)
		if err != nil || !r.DayOnly {
			continue
		}
		if o, ok := m.occurrenceOn(r.At); ok {
			return o, text, words[i:], true
		}
	}
	return Occurrence{}, "", words, false
}

// move moves one occurrence (a day of one is named first) or the whole
// series to a new time; a one-off given a recurrence becomes a series.
// Answers are kept; who said yes or maybe is told.
func (f *Feature) move(ctx context.Context, req *bot.Request, id string, rest []word) (*bot.Message, error) {
	m, err := f.managed(ctx, req.Where, req.User, id)
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return nil, bot.Errorf("meeting.err.move_what", "ID", m.ID)
	}
	now := f.c.Clock.Now()
	loc := m.Location(f.c.Location)
	v := f.view(req.Locale, loc)
	if o, dayText, after, ok := f.dayAndRest(m, rest, now); ok && len(after) > 0 {
		to, moved, err := f.newMoment(dayText, joinText(after), now, loc)
		if err != nil {
			return nil, usageError(err)
		}
		return f.moveOne(ctx, req, m, o, to, moved, v)
	}
	plan, err := when.Schedule(joinText(rest), now, loc)
	if err != nil {
		return nil, whenError(err)
	}
	if plan.RRule == "" && m.RRule == "" {
		// A one-off moves to the one new moment.
		to, moved, err := f.newMoment("", joinText(rest), now, loc)
		if err != nil {
			return nil, usageError(err)
		}
		return f.moveOne(ctx, req, m, firstOf(m, now), to, moved, v)
	}
	if plan.RRule == "" {
		// A single new moment for a series: which date was meant is a
		// guess kring does not make.
		next, _ := m.Next(now)
		return nil, bot.Errorf("meeting.err.move_series_one", "ID", m.ID, "Day", v.dayText(next.Start))
	}
	if err := future(plan, now); err != nil {
		return nil, err
	}
	m, err = f.c.Store.Update(ctx, m.ID, func(s *Meeting) error {
		if s.Ended {
			return ErrEnded
		}
		s.Start, s.RRule, s.Asked = plan.Start, plan.RRule, asked(plan)
		// The old rule's exceptions name dates of the old rule.
		s.Moves, s.Cancelled = nil, nil
		s.Sequence++
		s.Changed = now
		return nil
	})
	if err := f.updateErr(err, id); err != nil {
		return nil, err
	}
	if err := f.scheduleReminders(ctx, m, now); err != nil {
		return nil, err
	}
	f.changed(ctx, m.ID)
	first := firstOf(m, now)
	if err := f.notify(ctx, m, notice{Kind: noticeSeriesMoved, To: first.Start}, req.User); err != nil {
		return nil, err
	}
	text := v.tr.S("meeting.moved_series", "Title", bot.Escape(m.Title), "Rule", describeRule(v.tr, m, loc), "When", v.occurrence(m, first))
	if plan.Moved {
		text += "\n" + v.tr.S("meeting.dst_moved", "Time", plan.Start.In(loc).Format("15:04"))
	}
	return bot.TextMessage(text), nil
}

// dayText writes a day as the examples in replies do: "15 januari".
func (v view) dayText(t time.Time) string {
	t = t.In(v.loc)
	return v.tr.S("meeting.date_no_weekday", "Day", t.Day(), "Month", v.tr.S(fmt.Sprintf("meeting.month.%d", t.Month())))
}

// newMoment reads where one occurrence moves to: a time on the day named
// before it ("15 januari 14:00"), or a moment of its own ("16 januari
// 14:00", "morgen 10:00").
func (f *Feature) newMoment(dayText, text string, now time.Time, loc *time.Location) (time.Time, bool, error) {
	if dayText != "" {
		if r, err := when.Moment(dayText+" "+text, now, loc); err == nil && !r.DayOnly {
			return r.At, r.Moved, checkFuture(r.At, now)
		}
	}
	r, err := when.Moment(text, now, loc)
	if err != nil {
		return time.Time{}, false, whenError(err)
	}
	if r.DayOnly {
		return time.Time{}, false, bot.Errorf("meeting.err.move_time", "Text", bot.Escape(text))
	}
	return r.At, r.Moved, checkFuture(r.At, now)
}

func checkFuture(t, now time.Time) error {
	if !t.After(now) {
		return bot.Errorf("meeting.err.past")
	}
	return nil
}

func (f *Feature) moveOne(ctx context.Context, req *bot.Request, m *Meeting, o Occurrence, to time.Time, dst bool, v view) (*bot.Message, error) {
	now := f.c.Clock.Now()
	id := m.ID
	m, err := f.c.Store.Update(ctx, id, func(s *Meeting) error {
		if s.Ended {
			return ErrEnded
		}
		if s.RRule == "" {
			s.Start, s.Asked = to, ""
		} else {
			s.Moves = slices.DeleteFunc(s.Moves, func(mv Move) bool { return mv.From.Equal(o.Original) })
			if !to.Equal(o.Original) { // moved back to where the rule has it: no move at all
				s.Moves = append(s.Moves, Move{From: o.Original, To: to})
			}
		}
		s.Sequence++
		s.Changed = now
		return nil
	})
	if err := f.updateErr(err, id); err != nil {
		return nil, err
	}
	if err := f.scheduleReminders(ctx, m, now); err != nil {
		return nil, err
	}
	f.changed(ctx, m.ID)
	if err := f.notify(ctx, m, notice{Kind: noticeMoved, From: o.Start, To: to}, req.User); err != nil {
		return nil, err
	}
	text := v.tr.S("meeting.moved_one", "Title", bot.Escape(m.Title), "From", v.short(o.Start), "When", v.span(to, to.Add(m.Duration)))
	if dst {
		text += "\n" + v.tr.S("meeting.dst_moved", "Time", to.In(v.loc).Format("15:04"))
	}
	return bot.TextMessage(text), nil
}

// cancel cancels one occurrence (its day named) or the whole meeting.
// Who said yes or maybe is told.
func (f *Feature) cancel(ctx context.Context, req *bot.Request, id string, rest []word) (*bot.Message, error) {
	m, err := f.managed(ctx, req.Where, req.User, id)
	if err != nil {
		return nil, err
	}
	now := f.c.Clock.Now()
	loc := m.Location(f.c.Location)
	v := f.view(req.Locale, loc)
	if len(rest) > 0 && m.RRule != "" {
		o, _, after, ok := f.dayAndRest(m, rest, now)
		if !ok && f.cancelledOn(m, joinText(rest), now) {
			return nil, bot.Errorf("meeting.err.already_cancelled", "Text", bot.Escape(joinText(rest)))
		}
		if !ok || len(after) > 0 {
			next, _ := m.Next(now)
			return nil, bot.Errorf("meeting.err.no_such_date", "Text", bot.Escape(joinText(rest)), "ID", m.ID, "Day", v.dayText(next.Start))
		}
		if !o.End.After(now) {
			return nil, bot.Errorf("meeting.err.date_past")
		}
		m, err = f.c.Store.Update(ctx, m.ID, func(s *Meeting) error {
			if s.Ended {
				return ErrEnded
			}
			if !slices.ContainsFunc(s.Cancelled, o.Original.Equal) {
				s.Cancelled = append(s.Cancelled, o.Original)
			}
			s.Sequence++
			s.Changed = now
			return nil
		})
		if err := f.updateErr(err, id); err != nil {
			return nil, err
		}
		if _, ok := m.Next(now); !ok {
			return f.end(ctx, req, m, v, now) // that was the last one
		}
		if err := f.scheduleReminders(ctx, m, now); err != nil {
			return nil, err
		}
		f.changed(ctx, m.ID)
		if err := f.notify(ctx, m, notice{Kind: noticeCancelled, From: o.Start}, req.User); err != nil {
			return nil, err
		}
		return bot.TextMessage(v.tr.S("meeting.cancelled_one", "Title", bot.Escape(m.Title), "When", v.short(o.Start))), nil
	}
	if len(rest) > 0 {
		// A one-off: the day named must be its day.
		o, _, after, ok := f.dayAndRest(m, rest, now)
		if !ok || len(after) > 0 || !o.Original.Equal(firstOf(m, now).Original) {
			return nil, bot.Errorf("meeting.err.no_such_date", "Text", bot.Escape(joinText(rest)), "ID", m.ID, "Day", v.dayText(m.Start))
		}
	}
	return f.end(ctx, req, m, v, now)
}

// cancelledOn reports whether text names a day on which an occurrence of
// m was cancelled.
func (f *Feature) cancelledOn(m *Meeting, text string, now time.Time) bool {
	loc := m.Location(f.c.Location)
	r, err := when.Moment(text, now, loc)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(m.Cancelled, func(c time.Time) bool { return sameDay(c, r.At, loc) })
}

// end cancels the whole meeting: the post says so, the reminders stop.
func (f *Feature) end(ctx context.Context, req *bot.Request, m *Meeting, v view, now time.Time) (*bot.Message, error) {
	id := m.ID
	m, err := f.c.Store.Update(ctx, id, func(s *Meeting) error {
		if s.Ended {
			return ErrEnded
		}
		s.Ended, s.EndedAt = true, now
		s.Sequence++
		s.Changed = now
		return nil
	})
	if err := f.updateErr(err, id); err != nil {
		return nil, err
	}
	f.cancelReminders(ctx, m.ID)
	f.changed(ctx, m.ID)
	if err := f.notify(ctx, m, notice{Kind: noticeEnded}, req.User); err != nil {
		return nil, err
	}
	return bot.TextMessage(v.tr.S("meeting.cancelled_all", "Title", bot.Escape(m.Title))), nil
}
