package when

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Plan is a moment that may repeat. Start, RRule, Moved, Asked and DayOnly
// describe it fully: a feature stores those and rebuilds the Plan.
type Plan struct {
	Start time.Time // the first occurrence, in the plan's location
	// RRule is "" for a single moment; else an RFC 5545 RRULE value
	// without DTSTART, e.g. "FREQ=MONTHLY;BYDAY=+3TH". Its UNTIL is in
	// UTC, as RFC 5545 asks when DTSTART has a time zone.
	RRule   string
	Moved   bool   // as in Result, for the first occurrence
	Asked   string // as in Result: the wall time asked for, when Moved
	DayOnly bool   // no time of day was given: each occurrence is the start of its day
}

// Schedule reads a repeating schedule ("elke derde donderdag 10:00", "elke
// maand op de laatste vrijdag", "elke 2 weken op dinsdag 09:30", "elke
// werkdag 9:00", "elke maandag en woensdag 8:45", "every first monday
// 13:00", "every other week on tuesday", with "tot 1 juli" / "until July
// 1" and "5 keer" / "5 times", and "vanaf 1 februari" / "from February
// 1"), or a single moment (as Moment reads it), relative to now in loc.
// The first occurrence is the first at or after now (for a plan without a
// time of day: today or later).
func Schedule(s string, now time.Time, loc *time.Location) (Plan, error) {
	if loc == nil {
		loc = time.UTC
	}
	p := newParser(s, "schedule", now, loc)
	if !p.repeats() {
		r, err := Moment(s, now, loc)
		if err != nil {
			e := err.(*Error)
			e.Kind = "schedule"
			return Plan{}, e
		}
		return Plan{Start: r.At, Moved: r.Moved, Asked: r.Asked, DayOnly: r.DayOnly}, nil
	}
	return p.schedule()
}

// repeats says whether the text asks for a repeating schedule at all.
func (p *parser) repeats() bool {
	for i, w := range p.toks {
		switch w {
		case "elke", "elk", "iedere", "ieder", "every", "each", "dagelijks", "wekelijks", "tweewekelijks", "maandelijks", "jaarlijks",
			"daily", "weekly", "biweekly", "fortnightly", "monthly", "yearly", "annually":
			return true
		case "om":
			if i+1 < len(p.toks) && p.toks[i+1] == "de" {
				return true // om de week, om de 2 weken
			}
		}
	}
	return false
}

// rule is a recurrence as read, before it becomes an RRULE.
type rule struct {
	freq      rrule.Frequency
	freqSet   bool
	interval  int
	days      []rrule.Weekday
	monthDays []int
	months    []int // with monthDays: a date each year, "elk jaar op 3 december"
	count     int
	until     *date
	from      *date
	clk       *clock
}

var rruleDays = map[time.Weekday]rrule.Weekday{
	time.Monday: rrule.MO, time.Tuesday: rrule.TU, time.Wednesday: rrule.WE, time.Thursday: rrule.TH,
	time.Friday: rrule.FR, time.Saturday: rrule.SA, time.Sunday: rrule.SU,
}

var freqWords = map[string]rrule.Frequency{
	"dag": rrule.DAILY, "dagen": rrule.DAILY, "day": rrule.DAILY, "days": rrule.DAILY,
	"week": rrule.WEEKLY, "weken": rrule.WEEKLY, "weeks": rrule.WEEKLY,
	"maand": rrule.MONTHLY, "maanden": rrule.MONTHLY, "month": rrule.MONTHLY, "months": rrule.MONTHLY,
	"jaar": rrule.YEARLY, "jaren": rrule.YEARLY, "year": rrule.YEARLY, "years": rrule.YEARLY,
}

var adverbs = map[string]struct {
	freq     rrule.Frequency
	interval int
}{
	"dagelijks": {rrule.DAILY, 1}, "daily": {rrule.DAILY, 1},
	"wekelijks": {rrule.WEEKLY, 1}, "weekly": {rrule.WEEKLY, 1},
	"tweewekelijks": {rrule.WEEKLY, 2}, "biweekly": {rrule.WEEKLY, 2}, "fortnightly": {rrule.WEEKLY, 2},
	"maandelijks": {rrule.MONTHLY, 1}, "monthly": {rrule.MONTHLY, 1},
	"jaarlijks": {rrule.YEARLY, 1}, "yearly": {rrule.YEARLY, 1}, "annually": {rrule.YEARLY, 1},
}

func (p *parser) setFreq(r *rule, f rrule.Frequency, interval int) *Error {
	if r.freqSet && (r.freq != f || interval > 1 && r.interval > 1 && r.interval != interval) {
		return p.fail("twice")
	}
	r.freq, r.freqSet = f, true
	if interval > 1 {
		r.interval = interval
	}
	return nil
}

func (p *parser) schedule() (Plan, error) {
	r := rule{interval: 1}
	var ords []int // ordinals waiting for their weekday: "eerste en derde donderdag"
	for !p.done() {
		w := p.peek(0)
		if a, ok := adverbs[w]; ok {
			if err := p.setFreq(&r, a.freq, a.interval); err != nil {
				return Plan{}, err
			}
			p.i++
			continue
		}
		switch w {
		case "op", "on", "de", "het", "the", "van", "of", "in", ",", "en", "and", "a":
			p.i++
			continue
		case "elke", "elk", "iedere", "ieder", "every", "each":
			p.i++
			if n, ok := p.interval(); ok {
				f, isFreq := freqWords[p.peek(0)]
				if !isFreq {
					return Plan{}, p.fail("")
				}
				p.i++
				if err := p.setFreq(&r, f, n); err != nil {
					return Plan{}, err
				}
			}
			continue
		case "om":
			if p.peek(1) == "de" {
				p.i += 2
				n, ok := p.interval()
				f, isFreq := freqWords[p.peek(0)]
				if !isFreq {
					return Plan{}, p.fail("")
				}
				p.i++
				if !ok {
					n = 2 // om de week: every other week
				}
				if err := p.setFreq(&r, f, n); err != nil {
					return Plan{}, err
				}
				continue
			}
		case "werkdag", "werkdagen", "weekday", "weekdays", "doordeweeks":
			p.i++
			r.days = append(r.days, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR)
			if !r.freqSet {
				r.freq = rrule.WEEKLY
			}
			continue
		case "tot", "until", "till", "t/m", "through", "tm":
			p.i++
			if p.peek(0) == "en" && p.peek(1) == "met" {
				p.i += 2
			}
			if r.until != nil {
				return Plan{}, p.fail("twice")
			}
			d, err := p.scheduleDate()
			if err != nil {
				return Plan{}, err
			}
			r.until = &d
			continue
		case "vanaf", "from", "starting", "beginnend", "beginning", "start":
			p.i++
			if p.peek(0) == "on" || p.peek(0) == "op" {
				p.i++
			}
			if r.from != nil {
				return Plan{}, p.fail("twice")
			}
			d, err := p.scheduleDate()
			if err != nil {
				return Plan{}, err
			}
			r.from = &d
			continue
		case "laatste", "last":
			if d := p.peek(1); d == "dag" || d == "day" {
				p.i += 2
				r.monthDays = append(r.monthDays, -1)
				continue
			}
		}
		if f, ok := freqWords[w]; ok {
			p.i++
			if err := p.setFreq(&r, f, 1); err != nil {
				return Plan{}, err
			}
			continue
		}
		if n, ok := ordinals[w]; ok {
			p.i++
			ords = append(ords, n)
			continue
		}
		if wd, ok := weekdayWord(w); ok {
			p.i++
			day := rruleDays[wd]
			if len(ords) == 0 {
				r.days = append(r.days, day)
			}
			for _, n := range ords {
				r.days = append(r.days, day.Nth(n))
			}
			ords = nil
			continue
		}
		at := p.i
		// A date each year: "elk jaar op 3 december", "on the 3rd of December".
		if d, ok, err := p.calendarDate(); err != nil {
			return Plan{}, err
		} else if ok {
			if len(r.months) > 0 {
				p.i = at
				return Plan{}, p.fail("twice")
			}
			r.months, r.monthDays = []int{int(d.m)}, append(r.monthDays, d.d)
			if !r.freqSet {
				r.freq, r.freqSet = rrule.YEARLY, true
			}
			continue
		}
		if digits.MatchString(w) && len(w) <= 4 {
			n, _ := strconv.Atoi(w)
			switch next := p.peek(1); {
			case next == "keer" || next == "times" || next == "x" || next == "maal":
				if r.count != 0 {
					return Plan{}, p.fail("twice")
				}
				if n < 1 || n > 1000 {
					return Plan{}, p.fail("count")
				}
				p.i += 2
				r.count = n
				continue
			case ordinalSuffixes[next]:
				if _, isDay := weekdayWord(p.peek(2)); isDay && n >= 1 && n <= 5 {
					p.i += 2
					ords = append(ords, n)
					continue
				}
				if n < 1 || n > 31 {
					return Plan{}, p.fail("date")
				}
				p.i += 2
				r.monthDays = append(r.monthDays, n)
				continue
			case p.i > 0 && (p.toks[p.i-1] == "de" || p.toks[p.i-1] == "the") && !clockAfter(next):
				if n < 1 || n > 31 {
					return Plan{}, p.fail("date")
				}
				p.i++
				r.monthDays = append(r.monthDays, n)
				continue
			}
		}
		start := p.i
		c, ok, err := p.clock()
		if err != nil {
			return Plan{}, err
		}
		if ok {
			if r.clk != nil {
				p.i = start
				return Plan{}, p.fail("twice")
			}
			if c.h == 24 {
				// "elke maandag 24:00" would be Tuesdays: say 0:00 and the day.
				p.i = start
				return Plan{}, p.fail("clock")
			}
			r.clk = &c
			continue
		}
		return Plan{}, p.fail("")
	}
	if len(ords) > 0 {
		return Plan{}, p.fail("which_day")
	}
	return p.plan(r)
}

// interval reads the n of "elke 2 weken", "every other week", "elke
// twee weken".
func (p *parser) interval() (int, bool) {
	w := p.peek(0)
	if w == "other" || w == "andere" {
		p.i++
		return 2, true
	}
	if _, isFreq := freqWords[p.peek(1)]; !isFreq {
		return 0, false
	}
	if digits.MatchString(w) && len(w) <= 3 {
		n, _ := strconv.Atoi(w)
		if n >= 1 {
			p.i++
			return n, true
		}
	}
	if n, ok := numberWords[w]; ok && w != "a" && w != "an" && w != "een" {
		p.i++
		return n, true
	}
	return 0, false
}

// scheduleDate reads the date after tot/until/vanaf/from.
func (p *parser) scheduleDate() (date, *Error) {
	d, ok, err := p.day()
	if err != nil {
		return date{}, err
	}
	if !ok {
		return date{}, p.fail("")
	}
	return d.date, nil
}

// plan turns a rule into a Plan: the first occurrence from now, and the
// RRULE.
func (p *parser) plan(r rule) (Plan, error) {
	p.i = len(p.toks)
	if !r.freqSet {
		switch {
		case slices.ContainsFunc(r.days, func(d rrule.Weekday) bool { return d.N() != 0 }), len(r.monthDays) > 0:
			r.freq = rrule.MONTHLY
		case len(r.days) > 0:
			r.freq = rrule.WEEKLY
		default:
			return Plan{}, p.fail("which_day")
		}
	}
	nth := slices.ContainsFunc(r.days, func(d rrule.Weekday) bool { return d.N() != 0 })
	switch {
	case r.freq == rrule.WEEKLY && (nth || len(r.monthDays) > 0),
		r.freq == rrule.DAILY && (nth || len(r.monthDays) > 0):
		return Plan{}, p.fail("which_day")
	case r.freq == rrule.YEARLY && len(r.months) == 0 && (len(r.monthDays) > 0 || len(r.days) > 0 && !nth):
		return Plan{}, p.fail("which_day")
	case r.freq != rrule.YEARLY && len(r.months) > 0,
		len(r.months) > 0 && (nth || len(r.monthDays) != 1):
		return Plan{}, p.fail("twice")
	case r.freq == rrule.MONTHLY && nth && len(r.monthDays) > 0:
		return Plan{}, p.fail("twice")
	case r.freq != rrule.DAILY && len(r.days) == 0 && len(r.monthDays) == 0 && r.from == nil:
		return Plan{}, p.fail("which_day")
	case r.count > 0 && r.until != nil:
		return Plan{}, p.fail("count_until")
	}
	slices.SortFunc(r.days, func(a, b rrule.Weekday) int {
		if a.N() != b.N() {
			return a.N() - b.N()
		}
		return (a.Day()+7)%7 - (b.Day()+7)%7
	})
	r.days = slices.Compact(r.days)
	slices.Sort(r.monthDays)
	r.monthDays = slices.Compact(r.monthDays)

	clk := clock{}
	if r.clk != nil {
		clk = *r.clk
	}
	// The first occurrence is found with an interval of one, so that
	// "elke 2 weken op dinsdag" said on a Wednesday starts next Tuesday.
	base := dateOf(p.now)
	if r.from != nil && base.before(*r.from) {
		base = *r.from
	}
	probe := rrule.ROption{
		Freq: r.freq, Interval: 1, Byweekday: r.days, Bymonthday: r.monthDays, Bymonth: r.months,
		Dtstart: time.Date(base.y, base.m, base.d, clk.h, clk.m, 0, 0, time.UTC),
	}
	rr, err := rrule.NewRRule(probe)
	if err != nil {
		return Plan{}, p.fail("which_day")
	}
	var first time.Time
	var moved bool
	next := rr.Iterator()
	for range 400 {
		f, ok := next()
		if !ok {
			break
		}
		t, m := fromFloating(f, p.loc)
		if r.clk == nil || !t.Before(p.now) {
			first, moved = t, m
			break
		}
	}
	if first.IsZero() {
		return Plan{}, p.fail("never")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FREQ=%s", r.freq)
	if r.interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", r.interval)
	}
	if len(r.days) > 0 {
		names := make([]string, len(r.days))
		for i, d := range r.days {
			names[i] = d.String()
		}
		b.WriteString(";BYDAY=" + strings.Join(names, ","))
	}
	if len(r.months) > 0 {
		fmt.Fprintf(&b, ";BYMONTH=%d", r.months[0])
	}
	if len(r.monthDays) > 0 {
		nums := make([]string, len(r.monthDays))
		for i, d := range r.monthDays {
			nums[i] = strconv.Itoa(d)
		}
		b.WriteString(";BYMONTHDAY=" + strings.Join(nums, ","))
	}
	if r.count > 0 {
		fmt.Fprintf(&b, ";COUNT=%d", r.count)
	}
	if r.until != nil {
		end, _ := wall(r.until.y, r.until.m, r.until.d, 23, 59, 59, 0, p.loc)
		if end.Before(first) {
			return Plan{}, p.fail("until_before")
		}
		b.WriteString(";UNTIL=" + end.UTC().Format("20060102T150405Z"))
	}
	plan := Plan{Start: first, RRule: b.String(), Moved: moved, DayOnly: r.clk == nil}
	if moved {
		plan.Asked = clk.String()
	}
	if plan.DayOnly {
		plan.Moved = false
	}
	return plan, nil
}

// wallClock is the time of day every occurrence of the plan is at.
func (p Plan) wallClock() (h, m, s int) {
	switch {
	case p.DayOnly:
		return 0, 0, 0
	case p.Moved:
		if t, err := time.Parse("15:04", p.Asked); err == nil {
			return t.Hour(), t.Minute(), 0
		}
	}
	return p.Start.Hour(), p.Start.Minute(), p.Start.Second()
}

// each calls yield with the plan's occurrences in order, until it returns
// false or they run out. A plan whose RRule cannot be read has its Start
// only.
func (p Plan) each(yield func(time.Time) bool) {
	if p.RRule == "" {
		yield(p.Start)
		return
	}
	loc := p.Start.Location()
	opt, err := rrule.StrToROption(p.RRule)
	if err != nil {
		yield(p.Start)
		return
	}
	h, m, s := p.wallClock()
	on := dateOf(p.Start)
	if p.Moved && p.Start.Hour() < h {
		on = on.add(-1) // a gap at midnight moved the start into the next day
	}
	opt.Dtstart = time.Date(on.y, on.m, on.d, h, m, s, 0, time.UTC)
	if !opt.Until.IsZero() {
		opt.Until = floating(opt.Until.In(loc))
	}
	rr, err := rrule.NewRRule(*opt)
	if err != nil {
		yield(p.Start)
		return
	}
	next := rr.Iterator()
	for {
		f, ok := next()
		if !ok {
			return
		}
		t, _ := fromFloating(f, loc)
		if !yield(t) {
			return
		}
	}
}

// Occurrences returns the plan's occurrences in [from, to), each at its
// wall time in the plan's location (a 10:00 meeting stays at 10:00 across
// the clock changes; one in the hour the clocks skip is moved forward), at
// most max of them (max < 1: no limit but to).
func (p Plan) Occurrences(from, to time.Time, max int) []time.Time {
	var out []time.Time
	p.each(func(t time.Time) bool {
		if !t.Before(to) {
			return false
		}
		if !t.Before(from) {
			out = append(out, t)
		}
		return max < 1 || len(out) < max
	})
	return out
}

// Next returns the first occurrence at or after t, and false when there is
// none left.
func (p Plan) Next(t time.Time) (time.Time, bool) {
	var at time.Time
	p.each(func(o time.Time) bool {
		if o.Before(t) {
			return true
		}
		at = o
		return false
	})
	return at, !at.IsZero()
}
