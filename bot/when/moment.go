package when

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Result is a moment read from text.
type Result struct {
	At time.Time // in the location asked for
	// Moved: the wall time asked for did not exist (the clocks went
	// forward over it) and was moved forward; At is the moved time.
	Moved bool
	Asked string // the wall time asked for, "02:30", when Moved
	// DayOnly: no time of day was given; At is the start of that day. A
	// feature decides what a day alone means (a poll closes at its end).
	DayOnly bool
}

// Moment reads a point in time typed by a user ("morgen 10:00", "vrijdag
// 17u", "over 2 uur", "3 december 14:30", "2026-12-03 14:30", "3-12-2026",
// "tomorrow 10am", "friday 5pm", "in 3 days", "next monday 13:00", and the
// forms --sluit read before: 30m, 3d, 17:00, 2026-12-01 17:00) relative to
// now, in loc. Dutch and English are both read always. See the package
// documentation for "17u" (a time) against "over 2 uur" (a span).
func Moment(s string, now time.Time, loc *time.Location) (Result, error) {
	if loc == nil {
		loc = time.UTC
	}
	p := newParser(s, "moment", now, loc)
	r, err := p.moment()
	if err != nil {
		return Result{}, err
	}
	return r, nil
}

type parser struct {
	in   string
	toks []string
	i    int
	kind string
	now  time.Time // in loc
	loc  *time.Location
}

func newParser(s, kind string, now time.Time, loc *time.Location) *parser {
	return &parser{in: strings.TrimSpace(s), toks: tokens(s), kind: kind, now: now.In(loc), loc: loc}
}

func (p *parser) peek(k int) string {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return ""
}

func (p *parser) done() bool { return p.i >= len(p.toks) }

// fail is an Error at the parser's position.
func (p *parser) fail(reason string) *Error {
	e := &Error{Input: p.in, Kind: p.kind, Reason: reason, Understood: strings.Join(p.toks[:min(p.i, len(p.toks))], " ")}
	switch {
	case p.i < len(p.toks):
		e.Word = p.toks[p.i]
	case len(p.toks) == 0:
	case reason == "":
		e.Reason = "incomplete" // "morgen om"
	default:
		// Every word was read, and the reason says what is wrong with
		// them together: repeating them all helps nobody.
		e.Understood = ""
	}
	return e
}

// further returns the more telling of two errors: one with a reason, else
// the one that read further.
func further(a, b *Error) *Error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case (a.Reason != "") != (b.Reason != ""):
		if a.Reason != "" {
			return a
		}
		return b
	case len(b.Understood) > len(a.Understood):
		return b
	}
	return a
}

// date is a day on the calendar, without a time or a zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) add(days int) date {
	return dateOf(time.Date(d.y, d.m, d.d+days, 12, 0, 0, 0, time.UTC))
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d date) before(e date) bool {
	return d.y < e.y || d.y == e.y && (d.m < e.m || d.m == e.m && d.d < e.d)
}

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day() }

func validDate(y int, m time.Month, d int) bool {
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// day is what a moment says of its day.
type day struct {
	date date
	// fromToday: a bare weekday, which is today only while the time asked
	// for is still to come.
	fromToday bool
	// pm: the day named its afternoon or evening ("vanavond 8 uur"), so
	// an hour before 12 is after noon.
	pm bool
}

// clock is a time of day; hour 24 is the end of the day.
type clock struct{ h, m int }

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c.h, c.m) }

func (p *parser) moment() (Result, error) {
	if len(p.toks) == 0 {
		return Result{}, p.fail("")
	}
	if t, err := time.Parse(time.RFC3339, strings.ToUpper(p.in)); err == nil {
		return Result{At: t.In(p.loc)}, nil
	}
	if len(p.toks) == 1 && (p.toks[0] == "nu" || p.toks[0] == "now") {
		return Result{At: p.now}, nil
	}
	if p.peek(0) == "over" || p.peek(0) == "in" {
		p.i++
		sp, err := p.span()
		if err != nil {
			return Result{}, err
		}
		if !p.done() {
			return Result{}, p.fail("")
		}
		return p.after(sp), nil
	}
	// A day and a time, in either order.
	r, dayErr := p.dayAndTime()
	if dayErr == nil {
		return r, nil
	}
	// A span counted from now: "30m", "3d", "een half uur", "2 uur later".
	p.i = 0
	sp, err := p.span()
	if err == nil {
		if n := fromNow(p); n > 0 {
			p.i += n
			sp.ambiguous = false
		}
		if p.done() {
			if sp.ambiguous {
				p.i = 0
				return Result{}, p.fail("hours")
			}
			return p.after(sp), nil
		}
		err = p.fail("")
	}
	return Result{}, further(dayErr, err)
}

// after is now plus a span: months and days on the calendar, at the same
// wall time, then the hours.
func (p *parser) after(sp span) Result {
	t := p.now
	var r Result
	if sp.months != 0 || sp.days != 0 {
		y, m, d := t.Date()
		m += time.Month(sp.months)
		y += int(m-1) / 12
		m = (m-1)%12 + 1
		d = min(d, daysIn(y, m))
		on := date{y, m, d}.add(sp.days)
		var moved bool
		t, moved = wall(on.y, on.m, on.d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), p.loc)
		if moved {
			r.Moved, r.Asked = true, clock{p.now.Hour(), p.now.Minute()}.String()
		}
	}
	r.At = t.Add(sp.dur)
	return r
}

// dayAndTime reads a day, a time or both, in either order, with the
// small words between them ("morgen om 10", "on friday at 5pm").
func (p *parser) dayAndTime() (Result, *Error) {
	var (
		dy   *day
		clk  *clock
		read bool
	)
	for !p.done() {
		switch p.peek(0) {
		case "op", "on", ",", "de", "the", "t":
			p.i++
			continue
		}
		start := p.i
		d, ok, err := p.day()
		if err != nil {
			return Result{}, err
		}
		if ok {
			if dy != nil {
				p.i = start
				return Result{}, p.fail("twice")
			}
			dy, read = &d, true
			continue
		}
		c, ok, err := p.clock()
		if err != nil {
			return Result{}, err
		}
		if ok {
			if clk != nil {
				p.i = start
				return Result{}, p.fail("twice")
			}
			clk, read = &c, true
			continue
		}
		return Result{}, p.fail("")
	}
	if !read {
		return Result{}, p.fail("")
	}
	today := dateOf(p.now)
	if clk == nil {
		at, _ := wall(dy.date.y, dy.date.m, dy.date.d, 0, 0, 0, 0, p.loc)
		return Result{At: at, DayOnly: true}, nil
	}
	on, roll := today, true
	if dy != nil {
		on, roll = dy.date, dy.fromToday && dy.date == today
		if dy.pm && clk.h >= 1 && clk.h < 12 {
			clk.h += 12
		}
	}
	r := p.at(on, *clk)
	if roll && !r.At.After(p.now) {
		step := 1
		if dy != nil {
			step = 7
		}
		r = p.at(on.add(step), *clk)
	}
	return r, nil
}

// at is a day at a time of day in the parser's location.
func (p *parser) at(on date, c clock) Result {
	if c.h == 24 { // the end of the day is the start of the next
		on, c = on.add(1), clock{}
	}
	t, moved := wall(on.y, on.m, on.d, c.h, c.m, 0, 0, p.loc)
	r := Result{At: t, Moved: moved}
	if moved {
		r.Asked = c.String()
	}
	return r
}

var (
	isoDate   = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dmyDate   = regexp.MustCompile(`^(\d{1,2})-(\d{1,2})(?:-(\d{4}))?$`)
	clockForm = regexp.MustCompile(`^(\d{1,2})[:.](\d{2})$`)
	digits    = regexp.MustCompile(`^\d+$`)
)

// day reads a day at the parser's position: ok is false, with nothing
// read, when there is none.
func (p *parser) day() (day, bool, *Error) {
	today := dateOf(p.now)
	w := p.peek(0)
	switch w {
	case "vandaag", "today":
		p.i++
		return day{date: today}, true, nil
	case "morgen", "tomorrow":
		p.i++
		return day{date: today.add(1)}, true, nil
	case "overmorgen":
		p.i++
		return day{date: today.add(2)}, true, nil
	case "vanochtend", "vanmorgen":
		p.i++
		return day{date: today}, true, nil
	case "vanmiddag", "vanavond", "tonight":
		p.i++
		return day{date: today, pm: true}, true, nil
	case "morgenochtend", "morgenvroeg":
		p.i++
		return day{date: today.add(1)}, true, nil
	case "morgenmiddag", "morgenavond":
		p.i++
		return day{date: today.add(1), pm: true}, true, nil
	case "day":
		if p.peek(1) == "after" && p.peek(2) == "tomorrow" {
			p.i += 3
			return day{date: today.add(2)}, true, nil
		}
	case "volgende", "komende", "aanstaande", "next", "coming", "deze", "this":
		this := w == "deze" || w == "this"
		if p.peek(1) == "week" {
			wd, ok := weekdayWord(p.peek(2))
			if !ok {
				p.i += 2
				return day{}, false, p.fail("which_weekday")
			}
			p.i += 3
			monday := nextMonday(today)
			if this {
				monday = monday.add(-7)
			}
			return day{date: monday.add((int(wd) + 6) % 7)}, true, nil
		}
		if wd, ok := weekdayWord(p.peek(1)); ok {
			p.i += 2
			if this {
				return day{date: nextWeekday(today, wd, 0), fromToday: true}, true, nil
			}
			return day{date: nextWeekday(today, wd, 1)}, true, nil
		}
		return day{}, false, nil
	}
	if wd, ok := weekdayWord(w); ok {
		p.i++
		if n := p.peek(0); (n == "volgende" || n == "next") && p.peek(1) == "week" {
			p.i += 2 // dinsdag volgende week
			return day{date: nextMonday(today).add((int(wd) + 6) % 7)}, true, nil
		}
		start := p.i
		if p.peek(0) == "," {
			p.i++
		}
		d, ok, err := p.calendarDate()
		if err != nil {
			return day{}, false, err
		}
		if !ok {
			p.i = start
			return day{date: nextWeekday(today, wd, 0), fromToday: true}, true, nil
		}
		if d.weekday() != wd {
			p.i = start - 1
			return day{}, false, p.fail("weekday")
		}
		return day{date: d}, true, nil
	}
	d, ok, err := p.calendarDate()
	if err != nil || !ok {
		return day{}, false, err
	}
	return day{date: d}, true, nil
}

// nextMonday is the Monday of next week: weeks start on Monday.
func nextMonday(today date) date { return today.add(7 - (int(today.weekday())+6)%7) }

// nextWeekday is the first wd on or after today+skip days.
func nextWeekday(today date, wd time.Weekday, skip int) date {
	d := today.add(skip)
	return d.add((int(wd) - int(d.weekday()) + 7) % 7)
}

// calendarDate reads a date: 2026-12-03, 3-12-2026, 3-12, 3 december
// [2026], december 3[rd][,] [2026]. One without a year is the first such
// date from today.
func (p *parser) calendarDate() (date, bool, *Error) {
	today := dateOf(p.now)
	w := p.peek(0)
	if strings.Contains(w, "/") && w != "t/m" {
		return date{}, false, p.fail("slash")
	}
	var (
		y, d    int
		m       time.Month
		hasYear bool
		n       int // tokens read
	)
	if g := isoDate.FindStringSubmatch(w); g != nil {
		y, _ = strconv.Atoi(g[1])
		mo, _ := strconv.Atoi(g[2])
		d, _ = strconv.Atoi(g[3])
		m, hasYear, n = time.Month(mo), true, 1
	} else if g := dmyDate.FindStringSubmatch(w); g != nil {
		d, _ = strconv.Atoi(g[1])
		mo, _ := strconv.Atoi(g[2])
		m, n = time.Month(mo), 1
		if g[3] != "" {
			y, _ = strconv.Atoi(g[3])
			hasYear = true
		}
	} else if digits.MatchString(w) && len(w) <= 2 {
		k := 1
		if ordinalSuffixes[p.peek(k)] {
			k++
		}
		if p.peek(k) == "of" || p.peek(k) == "van" {
			k++
		}
		mo, ok := months[p.peek(k)]
		if !ok {
			return date{}, false, nil
		}
		d, _ = strconv.Atoi(w)
		m, n = mo, k+1
	} else if mo, ok := months[w]; ok {
		k := 1
		if p.peek(k) == "the" {
			k++
		}
		nw := p.peek(k)
		if !digits.MatchString(nw) || len(nw) > 2 || clockAfter(p.peek(k+1)) {
			return date{}, false, nil
		}
		k++
		if ordinalSuffixes[p.peek(k)] {
			k++
		}
		d, _ = strconv.Atoi(nw)
		m, n = mo, k
	} else {
		return date{}, false, nil
	}
	if !hasYear {
		k := n
		if p.peek(k) == "," {
			k++
		}
		if yw := p.peek(k); len(yw) == 4 && digits.MatchString(yw) {
			y, _ = strconv.Atoi(yw)
			hasYear, n = true, k+1
		}
	}
	if !hasYear {
		y = today.y
		if validDate(y, m, d) && (date{y, m, d}).before(today) {
			y++
		}
		if !validDate(y, m, d) && m == time.February && d == 29 {
			for !validDate(y, m, d) && y < today.y+8 {
				y++
			}
		}
	}
	if !validDate(y, m, d) {
		return date{}, false, p.fail("date")
	}
	p.i += n
	return date{y, m, d}, true, nil
}

// clockAfter says whether a word after a number makes it a time of day
// ("dec 3 am" is not a date).
func clockAfter(w string) bool {
	switch w {
	case "u", "uur", "am", "pm", "a.m", "p.m", "h":
		return true
	}
	return false
}

// clock reads a time of day at the parser's position: 17:00, 17.00, 17u,
// 17u30, 17 uur, 5pm, 5:30 pm, om 10, at 10, half 3, kwart over 3,
// quarter to 5, noon, with 's ochtends / 's middags / 's avonds / 's
// nachts after it.
func (p *parser) clock() (clock, bool, *Error) {
	start := p.i
	marked := false
	if w := p.peek(0); w == "om" || w == "at" || w == "rond" || w == "around" || w == "tegen" {
		p.i++
		marked = true
	}
	c, ok, twelve, err := p.clockBody(marked)
	if err != nil {
		return clock{}, false, err
	}
	if !ok {
		p.i = start
		if marked {
			p.i++
			return clock{}, false, p.fail("")
		}
		return clock{}, false, nil
	}
	// An hour of the day part.
	if w := p.peek(0); w == "'s" || w == "s" {
		part := p.peek(1)
		switch part {
		case "ochtends", "morgens":
			if c.h == 12 {
				c.h = 0
			}
		case "middags", "avonds":
			if c.h < 12 {
				c.h += 12
			}
		case "nachts":
			if c.h == 12 {
				c.h = 0
			}
		default:
			return c, true, nil
		}
		if c.h > 23 || twelve {
			p.i++
			return clock{}, false, p.fail("clock")
		}
		p.i += 2
	}
	return c, true, nil
}

// clockBody reads the time itself; twelve says it was already read on a
// twelve-hour clock (am/pm).
func (p *parser) clockBody(marked bool) (c clock, ok, twelve bool, err *Error) {
	w, start := p.peek(0), p.i
	bad := func() (clock, bool, bool, *Error) {
		p.i = start
		return clock{}, false, false, p.fail("clock")
	}
	switch w {
	case "noon", "middag":
		if w == "middag" && !marked {
			return clock{}, false, false, nil
		}
		p.i++
		return clock{12, 0}, true, false, nil
	case "half":
		n, ok := hourNumber(p.peek(1))
		if !ok {
			return clock{}, false, false, nil
		}
		p.i += 2
		if n < 1 || n > 24 {
			return bad()
		}
		return clock{n - 1, 30}, true, false, nil
	case "kwart", "quarter":
		n, ok := hourNumber(p.peek(2))
		rel := p.peek(1)
		if !ok || !(rel == "over" || rel == "voor" || rel == "past" || rel == "to") {
			return clock{}, false, false, nil
		}
		p.i += 3
		if n < 0 || n > 24 || (n == 0 && (rel == "voor" || rel == "to")) {
			return bad()
		}
		if rel == "over" || rel == "past" {
			return clock{n, 15}, true, false, nil
		}
		return clock{n - 1, 45}, true, false, nil
	}
	var h, m int
	if g := clockForm.FindStringSubmatch(w); g != nil {
		h, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi(g[2])
		p.i++
		if u := p.peek(0); u == "u" || u == "uur" || u == "h" {
			p.i++
		}
	} else if digits.MatchString(w) && len(w) <= 2 {
		h, _ = strconv.Atoi(w)
		switch u := p.peek(1); {
		case u == "u" || u == "uur":
			k := 2
			if mw := p.peek(2); digits.MatchString(mw) && len(mw) == 2 {
				if _, unit := spanUnits[p.peek(3)]; unit {
					return clock{}, false, false, nil // 2u30m: a span
				}
				m, _ = strconv.Atoi(mw)
				k = 3
			}
			if _, unit := spanUnits[p.peek(k)]; unit || p.peek(k) == "later" {
				return clock{}, false, false, nil // 1 uur 30 minuten, 2 uur later: a span
			}
			p.i += k
		case isMeridiem(u):
			p.i++
		case marked:
			p.i++
		default:
			return clock{}, false, false, nil
		}
	} else {
		return clock{}, false, false, nil
	}
	if mer := p.peek(0); isMeridiem(mer) {
		if h < 1 || h > 12 || m > 59 {
			return bad()
		}
		p.i++
		switch {
		case strings.HasPrefix(mer, "a") && h == 12:
			h = 0
		case strings.HasPrefix(mer, "p") && h < 12:
			h += 12
		}
		return clock{h, m}, true, true, nil
	}
	if h > 24 || m > 59 || h == 24 && m > 0 {
		return bad()
	}
	return clock{h, m}, true, false, nil
}

func isMeridiem(w string) bool { return w == "am" || w == "pm" || w == "a.m" || w == "p.m" }

// hourNumber reads the hour in "half 3", "half drie", "quarter to five".
func hourNumber(w string) (int, bool) {
	if digits.MatchString(w) && len(w) <= 2 {
		n, _ := strconv.Atoi(w)
		return n, true
	}
	n, ok := numberWords[w]
	if w == "a" || w == "an" || w == "een" {
		return 0, false
	}
	return n, ok
}

// fromNow reads the words after a span that count it from now: "2 uur
// later", "2 hours from now", "2 uur vanaf nu". It returns how many.
func fromNow(p *parser) int {
	switch {
	case p.peek(0) == "later":
		return 1
	case p.peek(0) == "from" && p.peek(1) == "now", p.peek(0) == "vanaf" && p.peek(1) == "nu":
		return 2
	}
	return 0
}
