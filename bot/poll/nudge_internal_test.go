package poll

import (
	"slices"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/when"
)

// TestParseRemind: --herinner as people type it, and what is refused.
func TestParseRemind(t *testing.T) {
	tests := []struct {
		in   string
		want []time.Duration
		err  string
	}{
		{"1u", []time.Duration{time.Hour}, ""},
		{"1h", []time.Duration{time.Hour}, ""},
		{"1d,1u", []time.Duration{24 * time.Hour, time.Hour}, ""},
		{"1u, 1d", []time.Duration{24 * time.Hour, time.Hour}, ""},
		{"1 dag, 2 uur", []time.Duration{24 * time.Hour, 2 * time.Hour}, ""},
		{"30m,een half uur", []time.Duration{30 * time.Minute}, ""},
		{"1u,,", []time.Duration{time.Hour}, ""},
		{"1d,1u,15m", []time.Duration{24 * time.Hour, time.Hour, 15 * time.Minute}, ""},
		{"4m", nil, "poll.err.remind_value"},
		{"soms", nil, "poll.err.remind_value"},
		{"", nil, "poll.err.remind_value"},
		{",", nil, "poll.err.remind_value"},
		{"1d,1u,15m,5m", nil, "poll.err.remind_many"},
	}
	for _, tc := range tests {
		got, err := parseRemind(tc.in, when.Span)
		if tc.err != "" {
			if ue, ok := bot.AsUserError(err); !ok || ue.ID != tc.err {
				t.Errorf("parseRemind(%q) = %v, %v; want %s", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseRemind(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestSpanText: offsets as people say them.
func TestSpanText(t *testing.T) {
	tests := []struct {
		d      time.Duration
		nl, en string
	}{
		{time.Hour, "1 uur", "1 hour"},
		{24 * time.Hour, "1 dag", "1 day"},
		{26*time.Hour + 30*time.Minute, "1 dag, 2 uur en 30 minuten", "1 day, 2 hours and 30 minutes"},
		{5 * time.Minute, "5 minuten", "5 minutes"},
		{48 * time.Hour, "2 dagen", "2 days"},
	}
	for _, tc := range tests {
		if got := spanText(bot.T("nl"), tc.d); got != tc.nl {
			t.Errorf("nl %v = %q, want %q", tc.d, got, tc.nl)
		}
		if got := spanText(bot.T("en"), tc.d); got != tc.en {
			t.Errorf("en %v = %q, want %q", tc.d, got, tc.en)
		}
	}
}

// FuzzParseRemind: any text is read or refused with a user error, never
// a panic; what is read is at least minReminder, longest first, at most
// MaxReminders offsets, each once.
func FuzzParseRemind(f *testing.F) {
	for _, s := range []string{"1u", "1d,1u", "1 dag, 2 uur", "een half uur", "30m,30m", "-1u", "1u,", "99999999d", "1h30m,1w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseRemind(s, when.Span)
		if err != nil {
			if _, ok := bot.AsUserError(err); !ok {
				t.Fatalf("parseRemind(%q): %v is no user error", s, err)
			}
			return
		}
		if len(got) == 0 || len(got) > MaxReminders {
			t.Fatalf("parseRemind(%q) = %v", s, got)
		}
		for i, d := range got {
			if d < minReminder || i > 0 && d >= got[i-1] {
				t.Fatalf("parseRemind(%q) = %v: not each once, longest first, at least %v", s, got, minReminder)
			}
		}
	})
}
