package poll

import (
	"slices"
	"testing"

	"github.com/kringbot/kring/bot"
)

// The answers below are worked out by hand, as in the comments.
func TestBorda(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		rankings [][]int
		want     []int
	}{
		{"nobody", 3, nil, []int{0, 0, 0}},
		{
			// 3 options: places give 2, 1, 0.
			// A>B>C: A2 B1 C0; B>C>A: B2 C1 A0; B>A>C: B2 A1 C0.
			// A 2+0+1=3, B 1+2+2=5, C 0+1+0=1.
			"full rankings", 3,
			[][]int{{0, 1, 2}, {1, 2, 0}, {1, 0, 2}},
			[]int{3, 5, 1},
		},
		{
			// 4 options: places give 3, 2, 1, 0; unranked 0.
			// D only: D3. C>A: C3 A2. A>B>C>D: A3 B2 C1 D0.
			// A 2+3=5, B 2, C 3+1=4, D 3+0=3.
			"partial rankings", 4,
			[][]int{{3}, {2, 0}, {0, 1, 2, 3}},
			[]int{5, 2, 4, 3},
		},
		{
			// A>B: A1 B0; B>A: B1 A0. A 1, B 1: a tie.
			"tie", 2,
			[][]int{{0, 1}, {1, 0}},
			[]int{1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Borda(tc.n, tc.rankings); !slices.Equal(got, tc.want) {
				t.Fatalf("Borda = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestPlaces(t *testing.T) {
	order, place := Places([]int{5, 2, 5, 3, 2})
	// 5 and 5 share 1st, 3 is 3rd, 2 and 2 share 4th; equal scores keep
	// the options' own order.
	if want := []int{0, 2, 3, 1, 4}; !slices.Equal(order, want) {
		t.Fatalf("order %v; want %v", order, want)
	}
	if want := []int{1, 1, 3, 4, 4}; !slices.Equal(place, want) {
		t.Fatalf("places %v; want %v", place, want)
	}
}

func TestIRV(t *testing.T) {
	const out = -1
	tests := []struct {
		name     string
		n        int
		rankings [][]int
		rounds   [][]int
		winners  []int
	}{
		{"nobody", 3, nil, nil, nil},
		{
			// A has 3 of 5 first choices: more than half at once.
			"majority in round 1", 3,
			[][]int{{0}, {0, 1}, {0, 2}, {1}, {2, 1}},
			[][]int{{3, 1, 1}},
			[]int{0},
		},
		{
			// Round 1: A 2, B 2, C 1 of 5; none has more than 2.5.
			// C drops out; its voter's next choice is B.
			// Round 2: A 2, B 3 of 5: B wins.
			"transfer", 3,
			[][]int{{0, 1}, {0, 2}, {1, 0}, {1}, {2, 1}},
			[][]int{{2, 2, 1}, {2, 3, out}},
			[]int{1},
		},
		{
			// Round 1: A 2, B 1, C 1, D 0 of 4. D has the fewest, alone,
			// and drops out.
			// Round 2: A 2, B 1, C 1 of 4; B and C drop out together.
			// B's voter ranked only B: that ballot counts no more. C's
			// voter goes on to A.
			// Round 3: A 3 of 3: A wins.
			"partial rankings and a shared last place", 4,
			[][]int{{0}, {0, 1}, {1}, {2, 0}},
			[][]int{{2, 1, 1, 0}, {2, 1, 1, out}, {3, out, out, out}},
			[]int{0},
		},
		{
			// Round 1: A 2, B 2 of 4, no majority, and both have the
			// fewest: dropping them would leave nobody, so they tie.
			"tie", 2,
			[][]int{{0, 1}, {0}, {1, 0}, {1}},
			[][]int{{2, 2}},
			[]int{0, 1},
		},
		{
			// Round 1: A 1, B 1, C 0 of 2: C drops out.
			// Round 2: A 1, B 1 of 2: a tie.
			"tie after a round", 3,
			[][]int{{0, 2}, {1, 2}},
			[][]int{{1, 1, 0}, {1, 1, out}},
			[]int{0, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := IRV(tc.n, tc.rankings)
			if !slices.Equal(got.Winners, tc.winners) {
				t.Fatalf("winners %v; want %v (rounds %v)", got.Winners, tc.winners, got.Rounds)
			}
			if len(got.Rounds) != len(tc.rounds) {
				t.Fatalf("rounds %v; want %v", got.Rounds, tc.rounds)
			}
			for i := range got.Rounds {
				if !slices.Equal(got.Rounds[i], tc.rounds[i]) {
					t.Fatalf("round %d: %v; want %v", i+1, got.Rounds[i], tc.rounds[i])
				}
			}
		})
	}
}

func TestBordaPointsPartial(t *testing.T) {
	// 5 options, a voter ranks 2: 4 and 3, as the first two places of a
	// full ranking get.
	if got := BordaPoints(5, []int{3, 1}); !slices.Equal(got, []int{4, 3}) {
		t.Fatalf("BordaPoints = %v; want [4 3]", got)
	}
}

// FuzzReadForms: whatever a form brings, a ranking names each option once
// and in range, and points add up to the poll's points, or the form is
// refused with a message on a field the form has.
func FuzzReadForms(f *testing.F) {
	for _, s := range [][3]string{{"1", "2", "3"}, {"2", "2", ""}, {"", "", ""}, {"x", "-1", "99"}, {" 3 ", "1", "+2"}, {"10", "0", "0"}} {
		f.Add(s[0], s[1], s[2])
	}
	p := &Poll{Options: []Option{{Label: "A"}, {Label: "B"}, {Label: "C"}}, Points: 10}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		form := bot.Values{"1": {a}, "2": {b}, "3": {c}}
		order, fe := readRanking(p, form)
		checkRefusal(t, fe)
		if fe == nil {
			seen := map[int]bool{}
			for _, o := range order {
				if o < 0 || o >= len(p.Options) || seen[o] {
					t.Fatalf("ranking %v from %q", order, form)
				}
				seen[o] = true
			}
		}
		options, points, fe := readPoints(p, form)
		checkRefusal(t, fe)
		if fe == nil {
			total := 0
			for i, o := range options {
				if o < 0 || o >= len(p.Options) || points[i] <= 0 {
					t.Fatalf("points %v %v from %q", options, points, form)
				}
				total += points[i]
			}
			if total != 0 && total != p.Points {
				t.Fatalf("%d points from %q", total, form)
			}
		}
	})
}

func checkRefusal(t *testing.T, fe bot.FieldErrors) {
	t.Helper()
	for name, ue := range fe {
		if name != "1" && name != "2" && name != "3" || ue == nil || bot.T("nl").S(ue.ID) == "" {
			t.Fatalf("refusal %q: %v", name, ue)
		}
	}
}
