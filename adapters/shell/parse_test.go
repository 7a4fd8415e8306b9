package shell

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitWords(t *testing.T) {
	got, err := splitWords(`option="Samen beslissen" x=1  y=""`)
	if err != nil || !slices.Equal(got, []string{"option=Samen beslissen", "x=1", "y="}) {
		t.Fatalf("splitWords = %q, %v", got, err)
	}
	if _, err := splitWords(`option="open`); err == nil {
		t.Fatal("an unbalanced quote is no error")
	}
}

func TestParseSpan(t *testing.T) {
	// :advance reads only spans: a bare Dutch hour is hours here, not a time of day.
	for in, want := range map[string]time.Duration{
		"2h": 2 * time.Hour, "2u": 2 * time.Hour, "17u": 17 * time.Hour, "30m": 30 * time.Minute, "3d": 72 * time.Hour,
		"1w": 168 * time.Hour, "1h30m": 90 * time.Minute, "over 1 minuut": time.Minute, "een half uur": 30 * time.Minute,
	} {
		if got, err := parseSpan(in); err != nil || got != want {
			t.Errorf("parseSpan(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "soon", "d", "2x", "0m", "-5m", "morgen"} {
		if _, err := parseSpan(in); err == nil {
			t.Errorf("parseSpan(%q) accepted", in)
		}
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`a="b c" d=e`, `"`, `x=`, `  `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err != nil {
			return
		}
		for _, w := range words {
			if strings.Contains(w, `"`) {
				t.Fatalf("splitWords(%q) kept a quote in %q", s, w)
			}
		}
	})
}

func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"2h", "3d", "1w", "-5m", "9999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseSpan(s) // must not panic
	})
}
