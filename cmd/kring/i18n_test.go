package main

import (
	"slices"
	"testing"

	"github.com/kringbot/kring/bot"
)

// Every message exists in every locale: the binary links every catalogue,
// so this test sees them all.
func TestEveryMessageInEveryLocale(t *testing.T) {
	nl := bot.MessageIDs("nl")
	if len(nl) < 50 {
		t.Fatalf("only %d Dutch messages loaded", len(nl))
	}
	for _, locale := range bot.Locales {
		ids := bot.MessageIDs(locale)
		for _, other := range bot.Locales {
			for _, id := range bot.MessageIDs(other) {
				if !slices.Contains(ids, id) {
					t.Errorf("message %s is in %s but not in %s", id, other, locale)
				}
			}
		}
	}
}
