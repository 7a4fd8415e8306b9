package bot

import (
	"fmt"
	"time"
)

// FormatTime writes t in loc the way people read dates in the locale:
// "do 16 jan 17:00" in Dutch, "Thu 16 Jan 17:00" in English. The year is
// added when it is not the year of now.
func (t Tr) FormatTime(at, now time.Time, loc *time.Location) string {
	at, now = at.In(loc), now.In(loc)
	s := fmt.Sprintf("%s %d %s", t.S(fmt.Sprintf("time.weekday.%d", at.Weekday())), at.Day(), t.S(fmt.Sprintf("time.month.%d", at.Month())))
	if at.Year() != now.Year() {
		s += fmt.Sprintf(" %d", at.Year())
	}
	return s + at.Format(" 15:04")
}
