package when

import "time"

// wall returns the instant at which the clocks in loc show the given date
// and time, and whether that wall time did not exist (the hour the clocks
// go forward) so that the instant was moved forward by the length of the
// gap, as RFC 5545 reads such a time: with the offset in effect before
// the gap. A wall time that happens twice is the first of the two.
// time.Date leaves both cases unspecified, hence this.
func wall(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	floating := time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	// Offsets change at most a few times a year: the ones a day before and
	// a day after are the candidates.
	_, before := floating.Add(-24 * time.Hour).In(loc).Zone()
	_, after := floating.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		t := floating.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(t, floating) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if !best.IsZero() {
		return best, false
	}
	return floating.Add(-time.Duration(before) * time.Second).In(loc), true
}

func sameWall(t, floating time.Time) bool {
	y, mo, d := t.Date()
	fy, fmo, fd := floating.Date()
	return y == fy && mo == fmo && d == fd && t.Hour() == floating.Hour() && t.Minute() == floating.Minute() && t.Second() == floating.Second()
}

// floating is t's wall time in its own location, written as UTC: the form
// in which recurrences are expanded, so that they keep their wall time.
func floating(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// fromFloating is the instant of a floating wall time in loc.
func fromFloating(f time.Time, loc *time.Location) (time.Time, bool) {
	y, mo, d := f.Date()
	return wall(y, mo, d, f.Hour(), f.Minute(), f.Second(), f.Nanosecond(), loc)
}
