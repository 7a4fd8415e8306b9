package bot

import "strings"

// Flags are a command's settings (instellingen) by every name they answer
// to, each as {name, setting}: {"anonymous", "anoniem"} makes "--anonymous"
// set "anoniem". Names are lower case, without dashes; Dutch first, the
// first name of each setting being the one help shows. Every feature reads
// its flags through them, so "--sluiten" meets the same "did you mean
// --sluit?" in /poll as "--herinering" does in /meeting.
type Flags [][2]string

// Setting returns the setting a flag name stands for.
func (fs Flags) Setting(name string) (string, bool) {
	for _, f := range fs {
		if f[0] == name {
			return f[1], true
		}
	}
	return "", false
}

// Parse reads a flag word: "--anoniem", "—anoniem" (a phone turned the two
// dashes into one long one), "--stemmen=2", and "-anoniem" for a name fs
// knows ("-5" and "-" are no flags: an answer may start with a dash). It
// returns the lower-case name, the value after '=', and whether the word
// is a flag at all. A quoted word never is.
func (fs Flags) Parse(w Word) (name, value string, hasValue, ok bool) {
	if w.Quoted {
		return "", "", false, false
	}
	s, single := w.Text, false
	switch {
	case strings.HasPrefix(s, "--"):
		s = s[2:]
	case strings.HasPrefix(s, "—"), strings.HasPrefix(s, "–"):
		s = strings.TrimLeft(s, "—–")
	case strings.HasPrefix(s, "-"):
		s, single = s[1:], true
	default:
		return "", "", false, false
	}
	if s == "" {
		return "", "", false, false
	}
	name, value, hasValue = strings.Cut(s, "=")
	name = strings.ToLower(name)
	if _, known := fs.Setting(name); single && !known {
		return "", "", false, false
	}
	return name, value, hasValue, true
}

// Suggest returns the flag name nearest to one fs does not know, when one
// is near enough to be a slip: "sluiten" → "sluit", "verb" → "verborgen".
func (fs Flags) Suggest(name string) (string, bool) {
	best, bestDist := "", 0
	for _, f := range fs {
		d := editDistance(name, f[0])
		limit := 2
		if len([]rune(f[0])) <= 4 {
			limit = 1
		}
		if len([]rune(name)) >= 3 && strings.HasPrefix(f[0], name) {
			d = 1 // the start of a name
		}
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = f[0], d
		}
	}
	return best, best != ""
}

// editDistance is the number of single-letter insertions, deletions,
// substitutions and swaps of neighbours that turn a into b.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
