package meeting

import (
	"slices"
	"sync"
	"time"

	"github.com/kringbot/kring/bot/when"
)

// Occurrence is one time a meeting takes place.
type Occurrence struct {
	// Original is the start the meeting's rule gives this occurrence: it
	// names the occurrence, also after a move (RECURRENCE-ID in a feed).
	Original time.Time
	Start    time.Time // where it takes place: Original, or where it moved to
	End      time.Time
	Moved    bool
}

// horizon bounds how far ahead kring looks for a meeting's occurrences:
// further than anyone plans a meeting in chat.
const horizon = 3 * 366 * 24 * time.Hour

// maxExpand bounds one expansion of a rule, so a rule of every minute for
// years cannot make kring spin.
const maxExpand = 2000

// Location is the meeting's time zone, or def when it has none kring can
// load.
func (m *Meeting) Location(def *time.Location) *time.Location {
	if loc := loadZone(m.Zone); loc != nil {
		return loc
	}
	return def
}

var zones sync.Map // name → *time.Location: LoadLocation reads a file each time

func loadZone(name string) *time.Location {
	if name == "" {
		return nil
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	zones.Store(name, loc)
	return loc
}

// plan is the meeting's rule as package when expands it, in the meeting's
// zone, so a 10:00 meeting stays at 10:00 across daylight-saving changes.
func (m *Meeting) plan() when.Plan {
	return when.Plan{Start: m.Start.In(m.Location(time.UTC)), RRule: m.RRule, Moved: m.Asked != "", Asked: m.Asked}
}

// Occurrences returns the meeting's occurrences that end after from and
// start before to, moved ones where they moved to and cancelled ones left
// out, in order of start; at most max of them. An ended meeting has none.
func (m *Meeting) Occurrences(from, to time.Time, max int) []Occurrence {
	if m.Ended || max <= 0 {
		return nil
	}
	loc := m.Location(time.UTC)
	moved := map[int64]time.Time{}
	for _, mv := range m.Moves {
		moved[mv.From.Unix()] = mv.To
	}
	cancelled := map[int64]bool{}
	for _, c := range m.Cancelled {
		cancelled[c.Unix()] = true
	}
	var out []Occurrence
	add := func(orig, start time.Time, isMoved bool) {
		if cancelled[orig.Unix()] {
			return
		}
		end := start.Add(m.Duration)
		if !end.After(from) || !start.Before(to) {
			return
		}
		out = append(out, Occurrence{Original: orig.In(loc), Start: start.In(loc), End: end.In(loc), Moved: isMoved})
	}
	// A rule's occurrence that starts up to a duration before from may
	// still be under way at from.
	for _, orig := range m.originals(from.Add(-m.Duration), to, max+len(m.Moves)+len(m.Cancelled)) {
		if _, ok := moved[orig.Unix()]; !ok {
			add(orig, orig, false)
		}
	}
	// A moved occurrence counts where it moved to, wherever its original
	// start lies.
	for _, mv := range m.Moves {
		add(mv.From, mv.To, true)
	}
	slices.SortFunc(out, func(a, b Occurrence) int { return a.Start.Compare(b.Start) })
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// originals are the starts the rule gives, from from up to to.
func (m *Meeting) originals(from, to time.Time, max int) []time.Time {
	if m.RRule == "" {
		if m.Start.Before(from) || !m.Start.Before(to) {
			return nil
		}
		return []time.Time{m.Start}
	}
	return m.plan().Occurrences(from, to, min(max, maxExpand))
}

// Next returns the first occurrence that has not begun at now.
func (m *Meeting) Next(now time.Time) (Occurrence, bool) {
	for _, o := range m.Occurrences(now, now.Add(horizon), 8) {
		if o.Start.After(now) {
			return o, true
		}
	}
	return Occurrence{}, false
}

// Coming returns up to n occurrences that have not ended at now: the one
// under way, if any, and those to come.
func (m *Meeting) Coming(now time.Time, n int) []Occurrence {
	return m.Occurrences(now, now.Add(horizon), n)
}

// occurrenceOn finds the occurrence a user names by its day (in the
// meeting's zone): the one that takes place that day, or, for a moved one,
// the one first planned that day. Cancelled occurrences are not found.
func (m *Meeting) occurrenceOn(day time.Time) (Occurrence, bool) {
	loc := m.Location(time.UTC)
	y, mo, d := day.In(loc).Date()
	start := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	end := time.Date(y, mo, d+1, 0, 0, 0, 0, loc)
	within := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	for _, o := range m.Occurrences(start, end, 10) {
		if within(o.Start) {
			return o, true
		}
	}
	for _, mv := range m.Moves {
		if within(mv.From) && !slices.ContainsFunc(m.Cancelled, mv.From.Equal) && !m.Ended {
			return Occurrence{Original: mv.From.In(loc), Start: mv.To.In(loc), End: mv.To.Add(m.Duration).In(loc), Moved: true}, true
		}
	}
	return Occurrence{}, false
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}
