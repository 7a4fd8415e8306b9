package when

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxSpan is the longest span kring reads: anything longer is a typing
// slip, and a bound keeps every sum far from overflow.
const maxSpan = 10 * 365 * 24 * time.Hour

// span is a length of time as typed: months and whole days and weeks are
// counted on the calendar in a moment ("over 3 dagen" keeps the time of
// day across a clock change), the rest in hours.
type span struct {
	months int
	days   int
	dur    time.Duration
	// ambiguous: a whole number of hours in Dutch, written in words
	// ("twee uur"), with nothing saying it counts from now.
	ambiguous bool
}

func (s span) total() time.Duration {
	return time.Duration(s.days)*24*time.Hour + s.dur
}

// Span reads a length of time: "2u", "90m", "1d", "1 minuut", "een half
// uur", "over 1 minuut", "2 hours", "1w", "1h30m", "1 uur en 20 minuten".
// A month is refused: it has no fixed length.
func Span(s string) (time.Duration, error) {
	p := newParser(s, "span", time.Time{}, time.UTC)
	if len(p.toks) == 0 {
		return 0, p.fail("")
	}
	if p.peek(0) == "over" || p.peek(0) == "in" {
		p.i++
	}
	sp, err := p.span()
	if err != nil {
		return 0, err
	}
	p.i += fromNow(p)
	if !p.done() {
		return 0, p.fail("")
	}
	if sp.months != 0 {
		p.i = 0
		return 0, p.fail("month_span")
	}
	return sp.total(), nil
}

var decimal = regexp.MustCompile(`^\d{1,7}([.,]\d{1,6})?$`)

// span reads one or more terms ("1 uur en 20 minuten", "1h30m") from the
// parser's position, and stops before the first word that is not part of
// one.
func (p *parser) span() (span, *Error) {
	start := p.i
	var (
		sp    span
		secs  float64 // what is not whole days, weeks or months
		terms int
		hours struct {
			only, words bool
		}
	)
	hours.only = true
	for !p.done() {
		at := p.i
		n, written, ok := p.count()
		if !ok {
			break
		}
		u, isUnit := spanUnits[p.peek(0)]
		switch {
		case !isUnit && p.peek(0) == "halfuur":
			u, isUnit, n = unitMinute, true, n*30
		case !isUnit && terms > 0 && written == "digits" && p.done() && n == math.Trunc(n) && n < 60:
			// "1u30": the minutes after an hour need no unit.
			if last := p.toks[at-1]; last == "u" || last == "h" {
				secs += n * 60
				terms++
				continue
			}
		}
		if !isUnit {
			p.i = at
			break
		}
		p.i++
		terms++
		if n > 1e6 {
			p.i = start
			return span{}, p.fail("too_long")
		}
		whole := n == math.Trunc(n)
		if u != unitHourNL || !whole {
			hours.only = false
		}
		if written == "words" {
			hours.words = true
		}
		switch u {
		case unitSecond:
			secs += n
		case unitMinute:
			secs += n * 60
		case unitHourNL, unitHour:
			secs += n * 3600
		case unitQuarter:
			secs += n * 900
		case unitDay:
			if whole {
				sp.days += int(n)
			} else {
				secs += n * 86400
			}
		case unitWeek:
			if whole {
				sp.days += 7 * int(n)
			} else {
				secs += n * 7 * 86400
			}
		case unitMonth:
			if !whole {
				p.i = at
				return span{}, p.fail("month_span")
			}
			sp.months += int(n)
		}
		if w := p.peek(0); (w == "en" || w == "and" || w == ",") && p.peek(1) != "" {
			p.i++
		}
	}
	if terms == 0 {
		p.i = start
		return span{}, p.fail("")
	}
	if w := p.toks[p.i-1]; w == "en" || w == "and" || w == "," {
		p.i--
	}
	if sp.months > 120 || float64(sp.days)*86400+secs > maxSpan.Seconds() {
		p.i = start
		return span{}, p.fail("too_long")
	}
	sp.dur = time.Duration(math.Round(secs)) * time.Second
	if sp.months == 0 && sp.total() <= 0 {
		p.i = start
		return span{}, p.fail("zero")
	}
	sp.ambiguous = terms == 1 && hours.only && hours.words
	return sp, nil
}

// count reads the number before a unit: digits ("2", "1,5"), a number in
// words ("twee", "a"), "half", "een half", "half an", "anderhalf". A unit
// with no number before it ("kwartier", "uur") counts one. written says
// how: "digits", "words" or "" for none.
func (p *parser) count() (n float64, written string, ok bool) {
	w := p.peek(0)
	if decimal.MatchString(w) {
		n, err := strconv.ParseFloat(strings.Replace(w, ",", ".", 1), 64)
		if err != nil {
			return 0, "", false
		}
		p.i++
		return n, "digits", true
	}
	switch w {
	case "anderhalf", "anderhalve":
		p.i++
		return 1.5, "words", true
	case "half", "halve":
		p.i++
		if a := p.peek(0); a == "a" || a == "an" {
			p.i++
		}
		return 0.5, "words", true
	case "een", "a", "an":
		if h := p.peek(1); h == "half" || h == "halve" {
			p.i += 2
			return 0.5, "words", true
		}
	}
	if n, ok := numberWords[w]; ok {
		if _, unit := spanUnits[p.peek(1)]; unit || p.peek(1) == "halfuur" {
			p.i++
			return float64(n), "words", true
		}
		return 0, "", false
	}
	if _, unit := spanUnits[w]; (unit && len(w) > 1) || w == "halfuur" {
		// "kwartier", "uur": one of them. A one-letter unit alone ("m")
		// is no span.
		if w == "kwartier" || w == "halfuur" {
			return 1, "", true
		}
	}
	return 0, "", false
}
