// Package when reads time as people type it in Dutch and in English:
// moments ("morgen 10:00", "vrijdag 17u", "over 2 uur", "tomorrow 10am"),
// spans ("2u", "90m", "een half uur", "2 hours") and repeating schedules
// ("elke derde donderdag 10:00", "every other week on tuesday"), which
// become RFC 5545 RRULEs. Both languages are read always, mixed too: a
// Dutch workspace has English speakers and the other way round.
//
// # Hours: a time of day or a span
//
// In Dutch "17u" and "17 uur" name a time of day (17:00), while "2u" in a
// span means two hours. The rule, one for every feature:
//
//   - In a moment (Moment, Schedule), a whole number of hours written in
//     digits with Dutch u/uur and without over/in is a time of day:
//     "17u", "17 uur", "17u30", "om 9 uur", "2u" (02:00).
//   - Every other span form in a moment counts from now: "over 2 uur",
//     "in 2 hours", "over 2u", "2h", "2 hours", "30m", "1 minuut",
//     "een half uur", "1,5 uur", "3d", "1w", "2u30m".
//   - A whole number of hours in words without over/in ("twee uur",
//     "een uur") could be either, so a moment refuses it with examples.
//   - Span reads spans only, so there "2u" and "17u" are hours.
//
// # Days, dates and times
//
// A time without a day is today, or tomorrow once it has passed. A weekday
// is the first such day from today (today too while the time is still to
// come); "volgende vrijdag" / "next friday" is the first after today, and
// "volgende week dinsdag" the Tuesday of next week (weeks start on
// Monday). A date without a year is the first such date from today. A day
// without a time gives Result.DayOnly, with At at the start of that day;
// a feature decides what a day alone means (a poll closes at its end).
// Dates are day first: 3-12-2026 is 3 December; a slash is refused, since
// 3/12 reads the other way round in American English. "vanavond 8 uur" and
// "morgenmiddag 3 uur" are after noon; "half 3" is 2:30, as in Dutch.
//
// # Repeating schedules
//
// A schedule says "elke", "elk", "iedere", "every", "om de" or an adverb
// ("wekelijks", "monthly"), then in any order: an interval ("elke 2 weken",
// "every other week", "om de week" is every other week), weekdays with or
// without an ordinal ("derde donderdag", "maandag en woensdag",
// "werkdagen"), a day of the month ("op de 15e", "laatste dag"), a date
// each year ("elk jaar op 3 december"), a time, and an end: "tot 1 juli" /
// "until July 1" (that day included) or "5 keer" / "5 times", and a start:
// "vanaf 1 februari". The first occurrence is the first from now; an
// interval counts from there.
//
// # Daylight saving
//
// Every moment is a wall time in the location given. A wall time that does
// not exist, in the hour the clocks go forward, is moved forward by the
// length of the gap (02:30 becomes 03:30 in Europe/Amsterdam), as RFC 5545
// reads such a time, and Result.Moved says so. A wall time that happens
// twice, when the clocks go back, is the first of the two. A schedule is
// expanded in wall time: a 10:00 meeting stays at 10:00 across the changes.
//
// What cannot be read is an *Error that says what was understood; its
// Explain gives examples in the user's language. Nothing is guessed.
package when
