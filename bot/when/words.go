package when

import (
	"strings"
	"time"
	"unicode"
)

// tokens splits text into lower-case words: "vrijdag 17u30" → vrijdag 17
// u 30, "10am" → 10 am, "1h30m" → 1 h 30 m, "maandag, woensdag" →
// maandag , woensdag. Digits stay together with what joins them in a
// number, a date or a clock ("1,5", "2026-12-03", "17:00", "17.00").
func tokens(s string) []string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("’", "'", "‘", "'", "–", "-", "—", "-", "\u00a0", " ").Replace(s)
	var out []string
	rs := []rune(s)
	i := 0
	for i < len(rs) {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case unicode.IsDigit(r):
			j := i + 1
			for j < len(rs) && (unicode.IsDigit(rs[j]) || (strings.ContainsRune(":.,-/", rs[j]) && j+1 < len(rs) && unicode.IsDigit(rs[j+1]))) {
				j++
			}
			out = append(out, string(rs[i:j]))
			i = j
		case unicode.IsLetter(r) || r == '\'':
			j := i + 1
			for j < len(rs) && (unicode.IsLetter(rs[j]) || rs[j] == '\'' || (rs[j] == '/' && j+1 < len(rs) && unicode.IsLetter(rs[j+1])) || (rs[j] == '.' && j+1 < len(rs) && unicode.IsLetter(rs[j+1]))) {
				j++
			}
			w := strings.Trim(string(rs[i:j]), "'")
			if w == "s" && r == '\'' { // 's middags
				w = "'s"
			}
			if w != "" {
				out = append(out, w)
			}
			i = j
		case r == ',' || r == '&' || r == '+':
			out = append(out, ",")
			i++
		default:
			// A stray sign (a full stop at the end, a bracket) is kept, so
			// that it is refused rather than quietly dropped, except a
			// full stop after a word ("3 dec.", "17.00 u.").
			if r == '.' && i > 0 && !unicode.IsSpace(rs[i-1]) {
				i++
				continue
			}
			out = append(out, string(r))
			i++
		}
	}
	return out
}

var weekdays = map[string]time.Weekday{
	"maandag": time.Monday, "ma": time.Monday, "monday": time.Monday, "mon": time.Monday,
	"dinsdag": time.Tuesday, "di": time.Tuesday, "tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
	"woensdag": time.Wednesday, "wo": time.Wednesday, "wednesday": time.Wednesday, "wed": time.Wednesday,
	"donderdag": time.Thursday, "do": time.Thursday, "thursday": time.Thursday, "thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday,
	"vrijdag": time.Friday, "vr": time.Friday, "vrij": time.Friday, "friday": time.Friday, "fri": time.Friday,
	"zaterdag": time.Saturday, "za": time.Saturday, "saturday": time.Saturday, "sat": time.Saturday,
	"zondag": time.Sunday, "zo": time.Sunday, "sunday": time.Sunday, "sun": time.Sunday,
}

// weekdayWord reads a weekday, also in the plural ("maandagen", "mondays",
// "op dinsdagen").
func weekdayWord(w string) (time.Weekday, bool) {
	if d, ok := weekdays[w]; ok {
		return d, true
	}
	for _, suffix := range []string{"en", "s"} {
		if base, ok := strings.CutSuffix(w, suffix); ok && len(base) > 3 {
			if d, ok := weekdays[base]; ok {
				return d, true
			}
		}
	}
	return 0, false
}

var months = map[string]time.Month{
	"januari": time.January, "jan": time.January, "january": time.January,
	"februari": time.February, "feb": time.February, "february": time.February,
	"maart": time.March, "mrt": time.March, "mar": time.March, "march": time.March,
	"april": time.April, "apr": time.April,
	"mei": time.May, "may": time.May,
	"juni": time.June, "jun": time.June, "june": time.June,
	"juli": time.July, "jul": time.July, "july": time.July,
	"augustus": time.August, "aug": time.August, "august": time.August,
	"september": time.September, "sep": time.September, "sept": time.September,
	"oktober": time.October, "okt": time.October, "oct": time.October, "october": time.October,
	"november": time.November, "nov": time.November,
	"december": time.December, "dec": time.December,
}

// numberWords are the counts people write out. "een" and "a" are also
// articles; where that matters the grammar says so.
var numberWords = map[string]int{
	"een": 1, "één": 1, "eén": 1, "a": 1, "an": 1, "one": 1,
	"twee": 2, "two": 2, "drie": 3, "three": 3, "vier": 4, "four": 4,
	"vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7,
	"acht": 8, "eight": 8, "negen": 9, "nine": 9, "tien": 10, "ten": 10,
	"elf": 11, "eleven": 11, "twaalf": 12, "twelve": 12,
}

// ordinals are the nth weekday of a month in words: "derde donderdag",
// "third thursday", "laatste vrijdag". In digits ("3e", "3rd") they are two
// tokens, a number and one of ordinalSuffixes.
var ordinals = map[string]int{
	"eerste": 1, "first": 1,
	"tweede": 2, "second": 2,
	"derde": 3, "third": 3,
	"vierde": 4, "fourth": 4,
	"vijfde": 5, "fifth": 5,
	"laatste": -1, "last": -1,
	"voorlaatste": -2,
}

// ordinalSuffixes follow a day number: "15e", "3rd", "1ste".
var ordinalSuffixes = map[string]bool{"e": true, "ste": true, "de": true, "st": true, "nd": true, "rd": true, "th": true}

// spanUnit is a unit of a span.
type spanUnit int

const (
	unitSecond spanUnit = iota
	unitMinute
	unitHourNL // u, uur: also the mark of a time of day in Dutch
	unitHour   // h, hour: English, a span only
	unitQuarter
	unitDay
	unitWeek
	unitMonth
)

var spanUnits = map[string]spanUnit{
	"s": unitSecond, "sec": unitSecond, "secs": unitSecond, "seconde": unitSecond, "seconden": unitSecond, "second": unitSecond, "seconds": unitSecond,
	"m": unitMinute, "min": unitMinute, "mins": unitMinute, "minuut": unitMinute, "minuten": unitMinute, "minute": unitMinute, "minutes": unitMinute,
	"u": unitHourNL, "uur": unitHourNL, "uren": unitHourNL, "uurtje": unitHourNL, "uurtjes": unitHourNL,
	"h": unitHour, "hr": unitHour, "hrs": unitHour, "hour": unitHour, "hours": unitHour,
	"kwartier": unitQuarter,
	"d":        unitDay, "dag": unitDay, "dagen": unitDay, "day": unitDay, "days": unitDay,
	"w": unitWeek, "wk": unitWeek, "week": unitWeek, "weken": unitWeek, "weeks": unitWeek,
	"maand": unitMonth, "maanden": unitMonth, "month": unitMonth, "months": unitMonth,
}
