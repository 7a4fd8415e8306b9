package meeting

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
)

// rule is the part of an RRULE kring says in words.
type rule struct {
	freq     string
	interval int
	days     []byDay
	monthDay int
	until    time.Time
	count    int
}

// byDay is one BYDAY entry: a weekday, with its place in the month (3 for
// the third, -1 for the last; 0 for every such weekday).
type byDay struct {
	n   int
	day time.Weekday
}

var rruleDays = map[string]time.Weekday{
	"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday,
}

// parseRule reads the RRULE parts kring can put into words; ok is false
// for any part it cannot, so that nothing half true is said.
func parseRule(s string) (rule, bool) {
	r := rule{interval: 1}
	for part := range strings.SplitSeq(s, ";") {
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return r, false
		}
		switch strings.ToUpper(k) {
		case "FREQ":
			r.freq = strings.ToUpper(val)
		case "INTERVAL":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return r, false
			}
			r.interval = n
		case "BYDAY":
			for d := range strings.SplitSeq(strings.ToUpper(val), ",") {
				if len(d) < 2 {
					return r, false
				}
				wd, ok := rruleDays[d[len(d)-2:]]
				if !ok {
					return r, false
				}
				n := 0
				if num := d[:len(d)-2]; num != "" {
					var err error
					if n, err = strconv.Atoi(strings.TrimPrefix(num, "+")); err != nil || n == 0 {
						return r, false
					}
				}
				r.days = append(r.days, byDay{n, wd})
			}
		case "BYMONTHDAY":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 31 {
				return r, false
			}
			r.monthDay = n
		case "UNTIL":
			t, err := parseRuleTime(val)
			if err != nil {
				return r, false
			}
			r.until = t
		case "COUNT":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return r, false
			}
			r.count = n
		case "WKST":
		default:
			return r, false
		}
	}
	return r, r.freq != ""
}

func parseRuleTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102T150405Z", "20060102T150405", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("rrule time %q", s)
}

// describeRule says how a meeting repeats, in words: "elke derde
// donderdag van de maand", "om de week op dinsdag", "elke werkdag, tot en
// met 1 juli". "" for a one-off, and for a rule kring cannot put in
// words (the post then shows the dates alone).
func describeRule(tr bot.Tr, m *Meeting, loc *time.Location) string {
	if m.RRule == "" {
		return ""
	}
	r, ok := parseRule(m.RRule)
	if !ok {
		return ""
	}
	start := m.Start.In(m.Location(loc))
	s := r.base(tr, start)
	if s == "" {
		return ""
	}
	switch {
	case !r.until.IsZero():
		u := r.until.In(m.Location(loc))
		date := tr.S("meeting.date_no_weekday", "Day", u.Day(), "Month", tr.S(fmt.Sprintf("meeting.month.%d", u.Month()))) + " " + strconv.Itoa(u.Year())
		s = tr.S("meeting.rule.until", "Rule", s, "Date", date)
	case r.count > 0:
		s = tr.N("meeting.rule.count", r.count, "Rule", s)
	}
	return s
}

var workdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

func (r rule) base(tr bot.Tr, start time.Time) string {
	weekday := func(d time.Weekday) string { return tr.S(fmt.Sprintf("meeting.weekday.%d", d)) }
	plain := func() ([]time.Weekday, bool) {
		var ds []time.Weekday
		for _, d := range r.days {
			if d.n != 0 {
				return nil, false
			}
			ds = append(ds, d.day)
		}
		return ds, true
	}
	names := func(ds []time.Weekday) string {
		parts := make([]string, len(ds))
		for i, d := range ds {
			parts[i] = weekday(d)
		}
		return joinAnd(tr, parts)
	}
	switch r.freq {
	case "DAILY":
		ds, ok := plain()
		switch {
		case !ok:
			return ""
		case r.interval == 1 && len(ds) == 0:
			return tr.S("meeting.rule.daily")
		case r.interval == 1 && slices.Equal(sortedDays(ds), workdays):
			return tr.S("meeting.rule.workdays")
		case r.interval == 1:
			return tr.S("meeting.rule.weekly", "Days", names(sortedDays(ds)))
		case len(ds) == 0:
			return tr.N("meeting.rule.days", r.interval)
		}
	case "WEEKLY":
		ds, ok := plain()
		if !ok {
			return ""
		}
		if len(ds) == 0 {
			ds = []time.Weekday{start.Weekday()}
		}
		ds = sortedDays(ds)
		switch {
		case r.interval == 1 && slices.Equal(ds, workdays):
			return tr.S("meeting.rule.workdays")
		case r.interval == 1:
			return tr.S("meeting.rule.weekly", "Days", names(ds))
		case r.interval == 2:
			return tr.S("meeting.rule.other_week", "Days", names(ds))
		default:
			return tr.N("meeting.rule.weeks", r.interval, "Days", names(ds))
		}
	case "MONTHLY":
		switch {
		case len(r.days) == 1 && r.days[0].n != 0 && r.monthDay == 0:
			ord, ok := ordinal(tr, r.days[0].n)
			if !ok {
				return ""
			}
			if r.interval == 1 {
				return tr.S("meeting.rule.monthly_weekday", "Ord", ord, "Day", weekday(r.days[0].day))
			}
			return tr.N("meeting.rule.months_weekday", r.interval, "Ord", ord, "Day", weekday(r.days[0].day))
		case len(r.days) == 0:
			day := r.monthDay
			if day == 0 {
				day = start.Day()
			}
			if r.interval == 1 {
				return tr.S("meeting.rule.monthly_date", "Date", day)
			}
			return tr.N("meeting.rule.months_date", r.interval, "Date", day)
		}
	case "YEARLY":
		if len(r.days) == 0 && r.interval == 1 {
			return tr.S("meeting.rule.yearly", "Date", tr.S("meeting.date_no_weekday", "Day", start.Day(), "Month", tr.S(fmt.Sprintf("meeting.month.%d", start.Month()))))
		}
	}
	return ""
}

// sortedDays orders weekdays from Monday, as a Dutch week runs.
func sortedDays(ds []time.Weekday) []time.Weekday {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })
	return slices.Compact(out)
}

// ordinal names a weekday's place in the month: "derde", "laatste".
func ordinal(tr bot.Tr, n int) (string, bool) {
	if n < -2 || n > 5 || n == 0 {
		return "", false
	}
	return tr.S(fmt.Sprintf("meeting.ord.%d", n)), true
}
