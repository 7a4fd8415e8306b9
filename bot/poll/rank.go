package poll

import "slices"

// The kinds of poll besides the plain one (Poll.Kind "").
const (
	KindRank   = "rank"   // voters put the options in order (--rangschik)
	KindPoints = "points" // voters spread Poll.Points points (--punten=N)
)

// MethodIRV counts a ranked poll by instant runoff (--methode=irv);
// Poll.Method "" counts it by Borda count.
const MethodIRV = "irv"

// MaxPoints is the most points a dot-vote poll may hand each voter.
const MaxPoints = 100

// BordaPoints are the points of each place of a ranking among n options:
// the first place n-1, the next n-2, and so on; an option a voter left
// unranked gets 0. A partial ranking thus gives its places the same points
// a full one would (the "optional preferential" variant of Borda), so
// ranking only your top 3 does not weigh less or more per place.
func BordaPoints(n int, ranking []int) []int {
	pts := make([]int, len(ranking))
	for i := range ranking {
		pts[i] = max(n-1-i, 0)
	}
	return pts
}

// Borda counts rankings of n options: the points of each option, summed
// over every ranking (BordaPoints).
func Borda(n int, rankings [][]int) []int {
	score := make([]int, n)
	for _, r := range rankings {
		for i, p := range BordaPoints(n, r) {
			if o := r[i]; o >= 0 && o < n {
				score[o] += p
			}
		}
	}
	return score
}

// Places orders options by score, highest first, and gives each its
// place: options with the same score share a place, and the next place
// skips as many ("1, 1, 3"). It returns the options in order and their
// places.
func Places(score []int) (order, place []int) {
	order = make([]int, len(score))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return score[b] - score[a] })
	place = make([]int, len(order))
	for i, o := range order {
		place[i] = i + 1
		if i > 0 && score[o] == score[order[i-1]] {
			place[i] = place[i-1]
		}
	}
	return order, place
}

// Runoff is the outcome of an instant-runoff count.
type Runoff struct {
	// Rounds are the first-choice votes of each option in each round; an
	// option out of the race has -1.
	Rounds [][]int
	// Winners is the winner, or the options tied for the win; empty when
	// nobody ranked anything.
	Winners []int
}

// IRV counts rankings of n options by instant runoff. Each round every
// ranking counts for its highest option still in the race (a ranking with
// none left counts no more). An option with more than half of the counted
// votes wins. Otherwise every option with the fewest votes drops out
// together; when that would be every option left, those options tie.
func IRV(n int, rankings [][]int) Runoff {
	var out Runoff
	in := make([]bool, n)
	left := n
	for i := range in {
		in[i] = true
	}
	for left > 0 {
		votes, total := make([]int, n), 0
		for _, r := range rankings {
			for _, o := range r {
				if o >= 0 && o < n && in[o] {
					votes[o]++
					total++
					break
				}
			}
		}
		if total == 0 {
			return out
		}
		for o := range votes {
			if !in[o] {
				votes[o] = -1
			}
		}
		out.Rounds = append(out.Rounds, votes)
		least := total
		for o, v := range votes {
			if in[o] {
				if 2*v > total {
					out.Winners = []int{o}
					return out
				}
				least = min(least, v)
			}
		}
		var lowest []int
		for o, v := range votes {
			if in[o] && v == least {
				lowest = append(lowest, o)
			}
		}
		if len(lowest) == left {
			out.Winners = lowest
			return out
		}
		for _, o := range lowest {
			in[o] = false
			left--
		}
	}
	return out
}
