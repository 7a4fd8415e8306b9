package poll

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

// A nudge is a direct message to a member of a poll's channel who has not
// voted, some time before the poll closes (--herinner=1u). Each offset is
// a durable job of its own, put when the poll is created or reopened and
// cancelled when it is closed or deleted; the job finds the members who
// have not voted when it runs, not when the poll was made.

// jobNudge is the kind of a nudge job.
const jobNudge = "poll.nudge"

// Bounds of --herinner.
const (
	// MaxReminders is how many offsets one poll may have.
	MaxReminders = 3
	// minReminder is the shortest offset: a nudge a minute before the
	// close leaves no time to vote.
	minReminder = 5 * time.Minute
)

// nudgeOnceTTL is how long a sent nudge is remembered: longer than a poll
// may stay open (close_far: a year), so a poll reopened to its old
// closing time never nudges anyone twice for one offset.
const nudgeOnceTTL = 400 * 24 * time.Hour

// nudge is a nudge job's payload: the poll, and how long before its
// closing time the job is due. The job's due time is the closing time the
// nudge was put for, less Before: a job whose poll closes at another time
// since is stale.
type nudge struct {
	Poll   string        `json:"poll"`
	Before time.Duration `json:"before"`
}

func nudgeJobID(id string, before time.Duration) string {
	return fmt.Sprintf("%s:%s:%d", jobNudge, id, int64(before/time.Second))
}

// nudgeJobs are p's nudge jobs, one per offset.
func nudgeJobs(p *Poll) []schedule.Job {
	var jobs []schedule.Job
	for _, before := range p.Remind {
		payload, _ := json.Marshal(nudge{Poll: p.ID, Before: before}) // a struct of a string and an int encodes
		jobs = append(jobs, schedule.Job{ID: nudgeJobID(p.ID, before), Kind: jobNudge, Due: p.Closes.Add(-before), Payload: payload})
	}
	return jobs
}

// scheduleNudges puts p's nudge jobs that are still to come: a poll
// reopened an hour before it closes gets its one-hour nudge, not the one
// a day before.
func (f *Feature) scheduleNudges(ctx context.Context, p *Poll) error {
	if f.c.Jobs == nil || p.Closes.IsZero() {
		return nil
	}
	now := f.c.Clock.Now()
	for _, j := range nudgeJobs(p) {
		if !j.Due.After(now) {
			continue
		}
		if err := f.c.Jobs.Put(ctx, j); err != nil {
			return fmt.Errorf("schedule nudge of poll %s: %w", p.ID, err)
		}
	}
	return nil
}

// cancelNudges takes p's nudge jobs back. A job that stays by a failure
// finds the poll closed or gone when it runs, and sends nothing.
func (f *Feature) cancelNudges(ctx context.Context, p *Poll) {
	if f.c.Jobs == nil {
		return
	}
	for _, j := range nudgeJobs(p) {
		if err := f.c.Jobs.Cancel(ctx, j.ID); err != nil {
			f.c.Log.Error("cancel nudge job", "poll", p.ID, "job", j.ID, "err", err)
		}
	}
}

// checkRemind refuses offsets that cannot be kept: without a closing time
// there is nothing to count back from, and a nudge due before now would
// go out at once.
func checkRemind(remind []time.Duration, closes, now time.Time) error {
	if len(remind) == 0 {
		return nil
	}
	if closes.IsZero() {
		return bot.Errorf("poll.err.remind_needs_close")
	}
	for _, before := range remind {
		if !closes.Add(-before).After(now) {
			return bot.Errorf("poll.err.remind_too_early")
		}
	}
	return nil
}

// parseRemind reads --herinner: one or more spans separated by commas
// ("1d,1u", "1 dag, 2 uur"), longest first, each once, at least
// minReminder and at most MaxReminders of them. span reads one span
// (when.Span).
func parseRemind(v string, span func(string) (time.Duration, error)) ([]time.Duration, error) {
	var out []time.Duration
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := span(part)
		if err != nil || d < minReminder {
			return nil, bot.Errorf("poll.err.remind_value", "Value", bot.Escape(part))
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, bot.Errorf("poll.err.remind_value", "Value", bot.Escape(v))
	}
	if len(out) > MaxReminders {
		return nil, bot.Errorf("poll.err.remind_many", "Max", MaxReminders)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out, nil
}

// spanText writes an offset as people say it: "1 dag en 2 uur", "30
// minuten".
func spanText(tr bot.Tr, d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, tr.N("poll.span.days", days))
	}
	if hours > 0 {
		parts = append(parts, tr.N("poll.span.hours", hours))
	}
	if minutes > 0 || len(parts) == 0 {
		parts = append(parts, tr.N("poll.span.minutes", minutes))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + tr.S("poll.span.and") + parts[len(parts)-1]
}

// remindTexts writes p's offsets for the creator's reply: "1 dag voor de
// sluiting en 1 uur voor de sluiting".
func remindTexts(tr bot.Tr, remind []time.Duration) string {
	var parts []string
	for _, d := range remind {
		parts = append(parts, tr.S("poll.nudge.before", "Span", spanText(tr, d)))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + tr.S("poll.span.and") + parts[len(parts)-1]
}

// nudgeJob sends a nudge: a direct message to each member of the poll's
// channel who has not voted. In an anonymous poll a member's keyed hash
// is compared with the stored ballots, so the store still never holds
// who voted what.
//
// Each message is sent once in effect: Store.Once records the key (poll,
// closing time, offset, user) before the message is sent. A run that
// dies between the record and the send leaves that member without their
// nudge; the other order would send it twice on a retry, and a reminder
// twice is the worse of the two for people who asked kring to bother
// them once. A message the platform refuses is logged and not tried
// again, for the same reason.
func (f *Feature) nudgeJob(ctx context.Context, j schedule.Job) error {
	var n nudge
	if err := json.Unmarshal(j.Payload, &n); err != nil {
		return fmt.Errorf("nudge job %s: bad payload: %w", j.ID, err)
	}
	p, ballots, err := f.c.Store.Get(ctx, n.Poll)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted
	}
	if err != nil {
		return fmt.Errorf("nudge job: %w", err) // the store names the poll
	}
	now := f.c.Clock.Now()
	switch {
	case p.Closed, !p.Closes.After(now):
		return nil // closed, or too late to vote
	case !slices.Contains(p.Remind, n.Before), !p.Closes.Add(-n.Before).Equal(j.Due):
		return nil // a nudge for another closing time
	}
	members, err := bot.ChannelMembers(ctx, f.c.Poster, p.Where)
	if errors.Is(err, errors.ErrUnsupported) {
		f.c.Log.Info("no nudge: the platform cannot list the channel's members", "poll", p.ID, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("nudge of poll %s: list members: %w", p.ID, err)
	}
	voted := make(map[string]bool, len(ballots))
	for _, b := range ballots {
		if len(b.Options) > 0 {
			voted[b.Voter] = true
		}
	}
	var todo []string
	for _, m := range members {
		if !voted[f.voterKey(p, m)] {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	profiles := bot.UserProfiles(ctx, f.c.Poster, p.Where, todo)
	wsLocale := f.channelLocale(ctx, p.Where, "")
	failed := 0
	for _, id := range todo {
		key := fmt.Sprintf("%s:%s:%d:%d:%s", jobNudge, p.ID, p.Closes.Unix(), int64(n.Before/time.Second), id)
		first, err := f.c.Jobs.Once(ctx, key, nudgeOnceTTL)
		if err != nil {
			return fmt.Errorf("nudge of poll %s: %w", p.ID, err) // the job runs again; those done are skipped
		}
		if !first {
			continue
		}
		u := profiles[id]
		u.ID = id
		if _, err := f.c.Poster.DM(ctx, p.Where, id, f.nudgeMessage(p, u, wsLocale, now)); err != nil {
			failed++
			f.c.Log.Warn("nudge not sent", "poll", p.ID, "user", id, "err", err)
		}
	}
	if failed > 0 {
		f.c.Log.Warn("some nudges were not sent", "poll", p.ID, "failed", failed, "of", len(todo))
	}
	return nil
}

// nudgeMessage is the direct message to u: the question, when the poll
// closes in u's own time zone (else the workspace's), and where to vote.
// It has no buttons: a click in a direct message is no click in the
// poll's channel, which is the only place a vote counts (bot.Where.Reaches),
// so it says where the poll is instead.
func (f *Feature) nudgeMessage(p *Poll, u bot.User, wsLocale string, now time.Time) bot.Message {
	locale := wsLocale
	if l, ok := bot.UserLocale(u.Locale); ok {
		locale = l
	}
	loc := u.Location(f.c.Location)
	v := view{tr: bot.T(locale), loc: loc, now: now}
	closes := v.at("poll.nudge.closes", p.Closes)
	if loc.String() != f.c.Location.String() {
		closes += " " + v.tr.S("poll.nudge.zone", "Zone", loc.String())
	}
	text := v.tr.S("poll.nudge.text", "Creator", bot.Escape(p.Creator.Label()), "Question", bot.Escape(p.Question), "Closes", closes)
	where := v.tr.S("poll.nudge.where", "ID", p.ID)
	if p.Anonymous {
		where += " " + v.tr.S("poll.nudge.anonymous")
	}
	return bot.Message{
		Text:   bot.PlainText(text),
		Blocks: []bot.Block{bot.Section{Text: text}, bot.Context{Text: where}},
	}
}
