package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is what one invocation measured.
type Report struct {
	Platform string
	N, C     int
	Options  int
	Store    string // kring's
	Redis    string // the floor's
	Version  string // of kring
	Kring    Side
	Floor    Side
	Calls    map[string]int // API calls kring made to the stand-in
	Replies  map[string]int // texts kring showed to one user, by text
}

// Side is what one handler, kring or the floor, did with the clicks.
type Side struct {
	Name                string
	Clicks, Acked       int
	Errors              int
	ErrorKinds          map[string]int
	Elapsed             time.Duration // first send to last answer
	P50, P99, Max       time.Duration
	Over200ms           int
	Lost                int // acked clicks whose vote is not in the store
	Updates             int // of the poll's message from the first click on
	MaxUpdatesPerSecond int // the most in any one second
	FinalOK             bool
	FinalAfter          time.Duration // from the last answer until the message showed the final count
	FinalNote           string
	CPU                 *cpuUse // nil: not measured
}

func sideOf(name string, b burstResult) Side {
	s := Side{Name: name, Clicks: len(b.Acked), Errors: b.Errors, ErrorKinds: b.ErrorKinds, Elapsed: b.End.Sub(b.Start)}
	for _, ok := range b.Acked {
		if ok {
			s.Acked++
		}
	}
	s.P50, s.P99 = percentile(b.Latency, 0.50), percentile(b.Latency, 0.99)
	if n := len(b.Latency); n > 0 {
		s.Max = b.Latency[n-1]
	}
	for _, d := range b.Latency {
		if d > 200*time.Millisecond {
			s.Over200ms++
		}
	}
	return s
}

// Throughput is acked clicks per second.
func (s Side) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Acked) / s.Elapsed.Seconds()
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// countSince counts the times at or after from.
func countSince(times []time.Time, from time.Time) int {
	n := 0
	for _, t := range times {
		if !t.Before(from) {
			n++
		}
	}
	return n
}

// maxPerSecond is the most times at or after from that fall in any one
// second, (t-1s, t].
func maxPerSecond(times []time.Time, from time.Time) int {
	var ts []time.Time
	for _, t := range times {
		if !t.Before(from) {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi, t := range ts {
		for !ts[lo].After(t.Add(-time.Second)) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// showsCounts reports whether a poll message shows counts per option: for
// each option, after its label "N. label" and before the next option's,
// its count as kring words it ("12 stemmen (", "1 stem ("; in English
// "12 votes (", "1 vote ("), and the number of voters (the sum, every
// click being one voter's one vote) as "12 stemmers" or "12 voters".
func showsCounts(text string, labels []string, counts []int) bool {
	pos := 0
	voters := 0
	for i, c := range counts {
		voters += c
		label := strconv.Itoa(i+1) + ". " + labels[i]
		at := strings.Index(text[pos:], label)
		if at < 0 {
			return false
		}
		start := pos + at + len(label)
		end := len(text)
		if i+1 < len(counts) {
			next := strconv.Itoa(i+2) + ". " + labels[i+1]
			if j := strings.Index(text[start:], next); j >= 0 {
				end = start + j
			}
		}
		seg := text[start:end]
		if !hasCount(seg, c, " stemmen (", " stem (") && !hasCount(seg, c, " votes (", " vote (") {
			return false
		}
		pos = end
	}
	return hasCount(text, voters, " stemmers", " stemmer") || hasCount(text, voters, " voters", " voter")
}

// hasCount reports whether text holds n followed by many (or by one when
// n is 1), not preceded by another digit.
func hasCount(text string, n int, many, one string) bool {
	word := many
	if n == 1 {
		word = one
	}
	needle := strconv.Itoa(n) + word
	for from := 0; ; {
		i := strings.Index(text[from:], needle)
		if i < 0 {
			return false
		}
		at := from + i
		if at == 0 || text[at-1] < '0' || text[at-1] > '9' {
			return true
		}
		from = at + 1
	}
}

// Problems lists what makes the run fail: lost votes, failed clicks, a
// message that does not show the final count within --final-wait of the
// last answer.
func (r *Report) Problems() []string {
	var out []string
	for _, s := range []Side{r.Kring, r.Floor} {
		if s.Lost > 0 {
			out = append(out, fmt.Sprintf("%s lost %d votes", s.Name, s.Lost))
		}
		if s.Errors > 0 {
			out = append(out, fmt.Sprintf("%s: %d clicks not acked", s.Name, s.Errors))
		}
	}
	switch {
	case !r.Kring.FinalOK:
		out = append(out, "kring's message does not end on the final count: "+r.Kring.FinalNote)
	case r.Kring.FinalNote != "":
		out = append(out, "kring's message showed the final count "+r.Kring.FinalNote)
	}
	return out
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "kring-load: %s, %d clicks by %d users on one poll of %d options, %d at a time\n", r.Platform, r.N, r.N, r.Options, r.C)
	fmt.Fprintf(w, "kring:      %s; store %s\n", r.Version, r.Store)
	fmt.Fprintf(w, "floor:      verify + one HSET on %s\n\n", r.Redis)
	k, f := r.Kring, r.Floor
	row := func(name, kv, fv, ratio string) { fmt.Fprintf(w, "%-30s %11s %11s %12s\n", name, kv, fv, ratio) }
	row("", "kring", "floor", "kring/floor")
	row("throughput (clicks/s)", fmt.Sprintf("%.0f", k.Throughput()), fmt.Sprintf("%.0f", f.Throughput()), ratio(k.Throughput(), f.Throughput()))
	row("ack p50", ms(k.P50), ms(f.P50), "")
	row("ack p99", ms(k.P99), ms(f.P99), ratio(k.P99.Seconds(), f.P99.Seconds()))
	row("ack max", ms(k.Max), ms(f.Max), "")
	if k.CPU != nil && f.CPU != nil {
		kp, fp := perClick(k.CPU.process, k.CPU.processKnown, k.Acked), perClick(f.CPU.process, f.CPU.processKnown, f.Acked)
		if kp != "" || fp != "" {
			row("CPU per click, process (µs)", kp, fp, "")
		}
		kr, fr := perClick(k.CPU.redis, k.CPU.redisKnown, k.Acked), perClick(f.CPU.redis, f.CPU.redisKnown, f.Acked)
		if kr != "" || fr != "" {
			row("CPU per click, Redis (µs)", kr, fr, "")
		}
	}
	row("acks over 200 ms", strconv.Itoa(k.Over200ms), strconv.Itoa(f.Over200ms), "")
	row("errors", strconv.Itoa(k.Errors), strconv.Itoa(f.Errors), "")
	row("votes lost", strconv.Itoa(k.Lost), strconv.Itoa(f.Lost), "")
	row("message updates", strconv.Itoa(k.Updates), "-", "")
	row("message updates in 1 s (max)", strconv.Itoa(k.MaxUpdatesPerSecond), "-", "")
	fmt.Fprintf(w, "\nkring's message shows the final count: %s\n", final(k))
	for _, s := range []Side{k, f} {
		for _, why := range slices.Sorted(maps.Keys(s.ErrorKinds)) {
			fmt.Fprintf(w, "%s errors: %d × %s\n", s.Name, s.ErrorKinds[why], why)
		}
	}
	if len(r.Calls) > 0 {
		var calls []string
		for _, c := range slices.Sorted(maps.Keys(r.Calls)) {
			calls = append(calls, fmt.Sprintf("%s %d", c, r.Calls[c]))
		}
		fmt.Fprintf(w, "\nAPI calls kring made to the stand-in: %s\n", strings.Join(calls, ", "))
	}
	for _, text := range slices.Sorted(maps.Keys(r.Replies)) {
		short := []rune(strings.Join(strings.Fields(text), " "))
		if len(short) > 100 {
			short = append(short[:100], '…')
		}
		fmt.Fprintf(w, "kring told %d user(s): %q\n", r.Replies[text], string(short))
	}
}

func final(s Side) string {
	switch {
	case !s.FinalOK:
		return "NO"
	case s.FinalNote != "":
		return "yes, " + s.FinalNote
	}
	return fmt.Sprintf("yes, %s after the last ack", ms(s.FinalAfter))
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
