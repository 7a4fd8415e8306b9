package bot

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"sluit", "sluit", 0}, {"slut", "sluit", 1}, {"sluiten", "sluit", 2},
		{"anoneim", "anoniem", 1}, {"stemen", "stemmen", 1}, {"abc", "", 3}, {"ë", "e", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	fs := Flags{{"sluit", "sluit"}, {"close", "sluit"}, {"anoniem", "anoniem"}}
	tests := []struct {
		w            Word
		name, value  string
		hasValue, ok bool
	}{
		{Word{Text: "--sluit=17u"}, "sluit", "17u", true, true},
		{Word{Text: "—Anoniem"}, "anoniem", "", false, true},
		{Word{Text: "-close=2h"}, "close", "2h", true, true},
		{Word{Text: "--onbekend"}, "onbekend", "", false, true},
		{Word{Text: "-5"}, "", "", false, false},
		{Word{Text: "-"}, "", "", false, false},
		{Word{Text: "--sluit", Quoted: true}, "", "", false, false},
		{Word{Text: "sluit"}, "", "", false, false},
	}
	for _, tt := range tests {
		name, value, hasValue, ok := fs.Parse(tt.w)
		if name != tt.name || value != tt.value || hasValue != tt.hasValue || ok != tt.ok {
			t.Errorf("Parse(%+v) = %q, %q, %v, %v; want %q, %q, %v, %v", tt.w, name, value, hasValue, ok, tt.name, tt.value, tt.hasValue, tt.ok)
		}
	}
	if s, ok := fs.Suggest("sluiten"); !ok || s != "sluit" {
		t.Errorf("Suggest(sluiten) = %q, %v", s, ok)
	}
	if s, ok := fs.Suggest("anon"); !ok || s != "anoniem" {
		t.Errorf("Suggest(anon) = %q, %v", s, ok)
	}
	if s, ok := fs.Suggest("xyz"); ok {
		t.Errorf("Suggest(xyz) = %q", s)
	}
}
