package bot

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMarkup(t *testing.T) {
	tests := []struct {
		in   string
		want []Span
	}{
		{"plain", []Span{{Text: "plain"}}},
		{"a *b* _c_ `d`", []Span{{Text: "a "}, {Text: "b", Bold: true}, {Text: " "}, {Text: "c", Italic: true}, {Text: " "}, {Text: "d", Code: true}}},
		{"see [the site](https://x.nl/a_b) now", []Span{{Text: "see "}, {Text: "the site", URL: "https://x.nl/a_b"}, {Text: " now"}}},
		{"snake_case_name", []Span{{Text: "snake_case_name"}}},
		{"[not a link] (x)", []Span{{Text: "[not a link] (x)"}}},
		{`\*not bold\*`, []Span{{Text: "*not bold*"}}},
		{"*open bold", []Span{{Text: "open bold", Bold: true}}},
	}
	for _, tt := range tests {
		if got := ParseMarkup(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMarkup(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestEscapeRoundTrips(t *testing.T) {
	for _, s := range []string{"*gratis* [taart](x) _nu_ `code` \\ ~", "a_b", "(haakjes)", "gewoon"} {
		if got := PlainText(Escape(s)); got != s {
			t.Errorf("PlainText(Escape(%q)) = %q", s, got)
		}
	}
}

func TestEscapeNeutralisesMassMentions(t *testing.T) {
	for _, s := range []string{"@channel", "hoi @here!", "@ALL", "@everyone", "<!channel>"} {
		got := Escape(s)
		for _, m := range []string{"@channel", "@here", "@all", "@everyone", "!channel"} {
			if strings.Contains(strings.ToLower(got), m) {
				t.Errorf("Escape(%q) = %q still holds %s", s, got, m)
			}
		}
	}
	if got := Escape("@anna"); got != "@anna" {
		t.Errorf("a personal mention was changed: %q", got)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"*a*", "[x](y)", "\\", "_b_", "`c`", "@here"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := ParseMarkup(Escape(s))
		for _, sp := range spans {
			if sp.Bold || sp.Italic || sp.Code || sp.URL != "" {
				t.Fatalf("escaped %q still formats: %+v", s, spans)
			}
		}
	})
}

func TestTruncate(t *testing.T) {
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("ab", 4); got != "ab" {
		t.Errorf("Truncate = %q", got)
	}
}

func TestFileTextDropsBOMAndBadBytes(t *testing.T) {
	f := File{Content: []byte("\ufeffoptie;stemmen\n\xffJa;2\n")}
	if got, want := f.Text(), "optie;stemmen\n\uFFFDJa;2\n"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}
