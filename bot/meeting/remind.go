package meeting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

// Job kinds.
const (
	// jobRemind is a meeting's one job, "meeting.remind:ID", due at the
	// meeting's next reminder instant or the end of its next occurrence.
	// When it runs it sends the reminders due, moves the post on to the
	// next date, and puts itself again for the instant after.
	jobRemind = "meeting.remind"
	// jobNotice tells who said yes or maybe that a meeting moved or is
	// off, off the request path.
	jobNotice = "meeting.notice"
)

// lateAfter is how late a reminder may be before it says so: kring was
// down when it was due.
const lateAfter = time.Hour

// remindPayload is what a reminder job carries: the meeting, and the
// moment from which its instants count. An instant at or before Since
// passed before the job was put (the meeting was made or moved after it),
// so it is not sent late.
type remindPayload struct {
	Meeting string    `json:"meeting"`
	Since   time.Time `json:"since"`
}

func remindJobID(id string) string { return jobRemind + ":" + id }

// nextWake is when m's job is next due after after: the first reminder
// instant, or the end of an occurrence, whichever comes first. At the end
// of an occurrence the post moves on to the next date.
func nextWake(m *Meeting, after time.Time) (time.Time, bool) {
	if m.Ended {
		return time.Time{}, false
	}
	longest := slices.Max(append([]time.Duration{0}, m.Remind...))
	var best time.Time
	consider := func(at time.Time) {
		if at.After(after) && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	for _, o := range m.Occurrences(after, after.Add(horizon), 64) {
		if !best.IsZero() && o.Start.Add(-longest).After(best) {
			break // every later occurrence's instants come after best
		}
		for _, d := range m.Remind {
			consider(o.Start.Add(-d))
		}
		consider(o.End)
	}
	return best, !best.IsZero()
}

// scheduleReminders puts m's job at its next wake after since (nextWake),
// or removes it when there is none.
func (f *Feature) scheduleReminders(ctx context.Context, m *Meeting, since time.Time) error {
	if f.c.Jobs == nil {
		return nil
	}
	at, ok := nextWake(m, since)
	if !ok {
		f.cancelReminders(ctx, m.ID)
		return nil
	}
	payload, err := json.Marshal(remindPayload{Meeting: m.ID, Since: since})
	if err != nil {
		return fmt.Errorf("encode reminder of meeting %s: %w", m.ID, err)
	}
	if err := f.c.Jobs.Put(ctx, schedule.Job{ID: remindJobID(m.ID), Kind: jobRemind, Due: at, Payload: payload}); err != nil {
		return fmt.Errorf("schedule reminder of meeting %s: %w", m.ID, err)
	}
	return nil
}

// cancelReminders removes m's reminder job. A job left behind by a
// failure here finds the meeting ended or gone and does nothing.
func (f *Feature) cancelReminders(ctx context.Context, id string) {
	if f.c.Jobs == nil {
		return
	}
	if err := f.c.Jobs.Cancel(ctx, remindJobID(id)); err != nil {
		f.c.Log.Error("cancel reminder job", "meeting", id, "err", err)
	}
}

// remindJob sends the reminders due now and puts the job again for the
// next instant. Of the reminders of one occurrence only the last one due
// goes out: after kring was down, nobody gets "tomorrow" and "in an hour"
// at once. An occurrence that has begun gets none.
func (f *Feature) remindJob(ctx context.Context, j schedule.Job) error {
	var p remindPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("reminder job %s: %w", j.ID, err)
	}
	m, err := f.c.Store.Get(ctx, p.Meeting)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reminder job: %w", err)
	}
	if m.Ended {
		return nil
	}
	now := f.c.Clock.Now()
	longest := slices.Max(append([]time.Duration{0}, m.Remind...))
	for _, o := range m.Occurrences(now, now.Add(longest+time.Minute), 64) {
		if !o.Start.After(now) {
			continue // begun: too late to remind anyone
		}
		// The reminders are sorted longest first: the last one due is
		// the one with the shortest offset whose instant has come.
		var offset time.Duration
		var at time.Time
		for _, d := range m.Remind {
			if t := o.Start.Add(-d); t.After(p.Since) && !t.After(now) {
				offset, at = d, t
			}
		}
		if at.IsZero() {
			continue
		}
		if err := f.remind(ctx, m, o, offset, now.Sub(at) > lateAfter); err != nil {
			return err
		}
	}
	for _, o := range m.Occurrences(p.Since, now, 64) {
		if !o.End.After(now) {
			f.changed(ctx, m.ID) // an occurrence ended: the post shows the next
			break
		}
	}
	return f.scheduleReminders(ctx, m, now)
}

// remind sends the reminder of one occurrence at one offset to everyone
// it is for, and to the channel with --kanaal.
//
// Each DM is recorded (schedule.Store.Once, keyed by meeting, occurrence,
// offset and user) before it is sent, not after: a runner killed between
// a DM and its Done, or a job run twice, finds the record and sends
// nothing again. What remains is the window between the record and the
// DM leaving: a runner killed exactly there loses that one person's
// reminder rather than sending someone a second one.
func (f *Feature) remind(ctx context.Context, m *Meeting, o Occurrence, offset time.Duration, late bool) error {
	rsvps, err := f.c.Store.RSVPs(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("reminder of meeting %s: %w", m.ID, err)
	}
	users := f.recipients(ctx, m, rsvps)
	profiles := bot.UserProfiles(ctx, f.c.Poster, m.Where, users)
	now := f.c.Clock.Now()
	ttl := o.End.Sub(now) + 24*time.Hour
	key := fmt.Sprintf("%s:%s:%d:%d:", jobRemind, m.ID, o.Start.Unix(), int64(offset/time.Second))
	for _, u := range users {
		first, err := f.c.Jobs.Once(ctx, key+u, ttl)
		if err != nil {
			return fmt.Errorf("record reminder of meeting %s to %s: %w", m.ID, u, err)
		}
		if !first {
			continue
		}
		prof := profiles[u]
		v := f.view(f.userLocale(ctx, m.Where, u, prof), prof.Location(f.c.Location))
		if _, err := f.c.Poster.DM(ctx, m.Where, u, v.reminder(m, o, rsvps, u, late)); err != nil {
			f.c.Log.Error("send reminder DM", "meeting", m.ID, "user", u, "err", err)
		}
	}
	if !m.InChannel {
		return nil
	}
	first, err := f.c.Jobs.Once(ctx, key+"#channel", ttl)
	if err != nil || !first {
		return err
	}
	v := f.view(f.channelLocale(ctx, m.Where, ""), f.c.Location)
	if _, err := f.c.Poster.Post(ctx, m.Where, v.channelReminder(m, o, late)); err != nil {
		f.c.Log.Error("post reminder in channel", "meeting", m.ID, "err", err)
	}
	return nil
}

// recipients are who a reminder goes to, in a stable order: who said yes
// or maybe, and with --iedereen every member of the channel who did not
// say no. Where the platform cannot list members, only the first.
func (f *Feature) recipients(ctx context.Context, m *Meeting, rsvps []RSVP) []string {
	said := map[string]Answer{}
	var out []string
	for _, r := range rsvps {
		said[r.User] = r.Answer
		if r.Answer == Yes || r.Answer == Maybe {
			out = append(out, r.User)
		}
	}
	if m.Everyone {
		members, err := bot.ChannelMembers(ctx, f.c.Poster, m.Where)
		if err != nil {
			f.c.Log.Warn("list channel members for a reminder; reminding who said yes or maybe", "meeting", m.ID, "err", err)
		}
		for _, u := range members {
			if _, ok := said[u]; !ok {
				out = append(out, u)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// userLocale is the language to write to user in: their own choice, else
// their platform's language when it is not English (as the Mux reads
// it), else the workspace's.
func (f *Feature) userLocale(ctx context.Context, where bot.Where, user string, prof bot.User) string {
	if f.c.Settings != nil {
		langs, err := f.c.Settings.Languages(ctx, where.Workspace())
		if err != nil {
			f.c.Log.Warn("read languages for a DM", "user", user, "err", err)
		}
		if l, ok := bot.ParseLocale(langs.Users[user]); ok {
			return l
		}
	}
	if l, ok := bot.UserLocale(prof.Locale); ok && l != "en" {
		return l
	}
	return f.channelLocale(ctx, where, "")
}

// Kinds of notice.
const (
	noticeMoved       = "moved"
	noticeSeriesMoved = "series_moved"
	noticeCancelled   = "cancelled"
	noticeEnded       = "ended"
)

// notice is a change people who said yes or maybe are told of.
type notice struct {
	Meeting string    `json:"meeting"`
	Kind    string    `json:"kind"`
	From    time.Time `json:"from,omitzero"` // the occurrence as it was
	To      time.Time `json:"to,omitzero"`   // where it is now
	By      string    `json:"by"`            // who made the change: not told
	ByName  string    `json:"by_name,omitempty"`
}

// notify tells who said yes or maybe of a change, through a job that runs
// at once, so a meeting with many answers is not a slow command. Without
// a job store it tells them in the request.
func (f *Feature) notify(ctx context.Context, m *Meeting, n notice, by bot.User) error {
	n.Meeting, n.By, n.ByName = m.ID, by.ID, by.Label()
	if f.c.Jobs == nil {
		return f.tell(ctx, n, "")
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notice: %w", err)
	}
	now := f.c.Clock.Now()
	// Each change is a job of its own, told once per person (Job.Key).
	j := schedule.Job{ID: fmt.Sprintf("%s:%s:%s", jobNotice, m.ID, bot.NewID(8)), Kind: jobNotice, Due: now, Payload: payload}
	if err := f.c.Jobs.Put(ctx, j); err != nil {
		return fmt.Errorf("schedule notice of meeting %s: %w", m.ID, err)
	}
	return nil
}

func (f *Feature) noticeJob(ctx context.Context, j schedule.Job) error {
	var n notice
	if err := json.Unmarshal(j.Payload, &n); err != nil {
		return fmt.Errorf("notice job %s: %w", j.ID, err)
	}
	return f.tell(ctx, n, j.Key())
}

// tell sends notice n to each who said yes or maybe, but its maker. With
// a key each DM is recorded before it is sent, as reminders are.
func (f *Feature) tell(ctx context.Context, n notice, key string) error {
	m, err := f.c.Store.Get(ctx, n.Meeting)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notice: %w", err)
	}
	rsvps, err := f.c.Store.RSVPs(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("notice of meeting %s: %w", m.ID, err)
	}
	var users []string
	for _, r := range rsvps {
		if (r.Answer == Yes || r.Answer == Maybe) && r.User != n.By {
			users = append(users, r.User)
		}
	}
	slices.Sort(users)
	profiles := bot.UserProfiles(ctx, f.c.Poster, m.Where, users)
	for _, u := range users {
		if key != "" {
			first, err := f.c.Jobs.Once(ctx, key+":"+u, 30*24*time.Hour)
			if err != nil {
				return fmt.Errorf("record notice of meeting %s to %s: %w", m.ID, u, err)
			}
			if !first {
				continue
			}
		}
		prof := profiles[u]
		v := f.view(f.userLocale(ctx, m.Where, u, prof), prof.Location(f.c.Location))
		if _, err := f.c.Poster.DM(ctx, m.Where, u, v.notice(m, n, u)); err != nil {
			f.c.Log.Error("send meeting notice", "meeting", m.ID, "user", u, "err", err)
		}
	}
	return nil
}
