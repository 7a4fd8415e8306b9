package bot

import (
	"strings"
	"testing"
	"unicode"
)

func FuzzWords(f *testing.F) {
	for _, s := range []string{`'Wie?' Ja`, `zo'n 's 't`, `"a", b`, `‘x’ ‚y’`, `'`, `a'b'c 'd`, `--sluit="1 2"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := Words(s)
		if err != nil && !strings.ContainsAny(s, openQuotes) {
			t.Fatalf("Words(%q): %v, but only a double quote can be left open", s, err)
		}
		for _, tk := range toks {
			if !tk.Quoted && strings.ContainsFunc(tk.Text, unicode.IsSpace) && !strings.ContainsAny(tk.Raw, openQuotes+openSingles) {
				t.Fatalf("Words(%q): unquoted token %q holds a space", s, tk.Text)
			}
			if !strings.Contains(s, tk.Raw) {
				t.Fatalf("Words(%q): token raw %q is not in the input", s, tk.Raw)
			}
		}
	})
}
