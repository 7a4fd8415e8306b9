package when

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// TestExplainGolden shows how each kind of trouble is explained, in both
// languages, so a change in wording is read in review.
func TestExplainGolden(t *testing.T) {
	cases := []struct {
		kind, in string
	}{
		{"moment", "vrijdag 25:00"},
		{"moment", "twee uur"},
		{"moment", "31 februari"},
		{"moment", "vrijdag 3 december"},
		{"moment", "3/12"},
		{"moment", "morgen overmorgen"},
		{"moment", "volgende week"},
		{"moment", "morgen 10:00 of zo"},
		{"moment", ""},
		{"moment", "morgen om"},
		{"span", "soon"},
		{"span", "0m"},
		{"span", "1 maand"},
		{"span", "100000 weken"},
		{"schedule", "elke week"},
		{"schedule", "elke maandag 10:00 5 keer tot 1 juli"},
		{"schedule", "elke maandag 10:00 tot 1-11-2026"},
		{"schedule", "elke maandag 10:00 0 keer"},
		{"schedule", "elke blauwe maandag"},
		{"schedule", "every monday <@here> 10:00"},
	}
	var b strings.Builder
	for _, c := range cases {
		var err error
		switch c.kind {
		case "moment":
			_, err = Moment(c.in, now, ams)
		case "span":
			_, err = Span(c.in)
		case "schedule":
			_, err = Schedule(c.in, now, ams)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s %q: %v", c.kind, c.in, err)
		}
		fmt.Fprintf(&b, "%s %q\n", c.kind, c.in)
		for _, l := range bot.Locales {
			fmt.Fprintf(&b, "  %s: %s\n", l, e.Explain(bot.T(l)))
		}
	}
	bottest.Golden(t, filepath.Join("testdata", "explain.golden"), []byte(b.String()))
}
