package shell_test

import (
	"strings"
	"testing"
)

// TestShellPollReachableOnlyFromItsChannel: typed in another channel, a
// poll's id finds nothing: no file, no post, no update, no counts; back in
// its own channel the same commands work.
func TestShellPollReachableOnlyFromItsChannel(t *testing.T) {
	const marker = "/onbekend einde-van-elders"
	elsewhere := []string{
		"/poll export p1", "/poll exporteren `p1`", "/poll uitslag p1", "/poll mijn stem p1",
		"/poll sluit p1", "/poll sluiten p1", "/poll heropen p1", "/poll verwijder p1", "/poll verwijderen p1",
	}
	script := append([]string{
		`/poll Geheime begroting? Ja Nee --anoniem`,
		":user bert", ":click 1",
		":channel friesland", ":user anna",
	}, elsewhere...)
	script = append(script, ":user beheer", "/poll sluit p1", "/poll verwijder p1", "/poll lijst", marker,
		":channel algemeen", ":user anna", "/poll export p1", "/poll sluit p1")
	out := session(t, strings.Join(script, "\n"))
	start := strings.Index(out, "anna> "+elsewhere[0])
	end := strings.Index(out, marker)
	if start < 0 || end < start {
		t.Fatalf("transcript lacks the tries from #friesland:\n%s", out)
	}
	there := out[start:end]
	if n := strings.Count(there, "Ik vind geen peiling met ID p1 in dit kanaal"); n != len(elsewhere)+2 {
		t.Errorf("%d not-found answers in #friesland, want %d:\n%s", n, len(elsewhere)+2, there)
	}
	for _, leak := range []string{"kring deelt het bestand", "(bericht", "Geheime begroting", "stem (", "stemmen"} {
		if strings.Contains(there, leak) {
			t.Errorf("from #friesland the shell shows %q:\n%s", leak, there)
		}
	}
	back := out[end:]
	for _, want := range []string{"[#algemeen] kring deelt het bestand peiling-p1.csv", "Ja;1", "Peiling „Geheime begroting?” is gesloten."} {
		if !strings.Contains(back, want) {
			t.Errorf("back in #algemeen the transcript lacks %q:\n%s", want, back)
		}
	}
}
