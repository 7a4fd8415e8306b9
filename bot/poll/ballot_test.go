package poll_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kringbot/kring/bot/bottest"
)

// TestBallotSessions: ranked polls (Borda count and instant runoff) and
// dot votes in the shell, forms and refusals included, in Dutch and in
// English (golden files; go test -update rewrites them).
func TestBallotSessions(t *testing.T) {
	for _, kind := range []string{"rank", "points"} {
		for _, lang := range []string{"nl", "en"} {
			t.Run(kind+"."+lang, func(t *testing.T) {
				script, err := os.ReadFile(filepath.Join("testdata", kind+"."+lang+".script"))
				if err != nil {
					t.Fatal(err)
				}
				bottest.Golden(t, filepath.Join("testdata", kind+"."+lang+".golden"), []byte(nudgeSession(t, string(script))))
			})
		}
	}
}
