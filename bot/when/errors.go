package when

import (
	"embed"
	"fmt"

	"github.com/kringbot/kring/bot"
)

//go:embed locales/*.toml
var locales embed.FS

func init() { bot.LoadMessages(locales, "locales") }

// Error is what could not be read: it says what was understood and gives
// examples.
type Error struct {
	Input      string // the text as typed
	Understood string // the words read before the trouble began, "" if none
	Kind       string // "moment", "span", "schedule": what was asked for
	// Reason names the trouble when kring knows it, as a message of this
	// package ("when.why."+Reason): "clock" (25:00), "date" (31 februari),
	// "weekday" (a weekday that is not that date's), "hours" (twee uur:
	// a time or a span?), "which_day", "count_until", "until_before",
	// "never", "too_long", "zero", "month_span", "slash", "twice",
	// "count" (0 keer), "which_weekday" (volgende week, but which day?),
	// "incomplete" (morgen om). "" when
	// a word was simply not known.
	Reason string
	// Word is the first word kring could not place, "" at the end.
	Word string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("when: cannot read %q as a %s", e.Input, e.Kind)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Understood != "" {
		s += fmt.Sprintf("; understood %q", e.Understood)
	}
	if e.Word != "" {
		s += fmt.Sprintf("; stuck at %q", e.Word)
	}
	return s
}

// UserError is e as a user error, to be shown as it is or inside a
// feature's own message ("Die sluitingstijd begrijp ik niet. {{.Problem}}"):
// the Mux translates it into the user's language.
func (e *Error) UserError() *bot.UserError {
	var reason, understood, word any = "", "", ""
	if e.Reason != "" {
		reason = &bot.UserError{ID: "when.why." + e.Reason}
	}
	if e.Understood != "" {
		understood = &bot.UserError{ID: "when.understood", Data: []any{"Text", bot.Escape(e.Understood)}}
	}
	if e.Word != "" && e.Reason == "" {
		word = &bot.UserError{ID: "when.unknown_word", Data: []any{"Word", bot.Escape(e.Word)}}
	}
	return &bot.UserError{ID: "when.err." + e.Kind, Data: []any{
		"Input", bot.Escape(e.Input), "Reason", reason, "Understood", understood, "Word", word,
	}}
}

// Explain renders e for a user in their language, with examples.
func (e *Error) Explain(tr bot.Tr) string { return e.UserError().Translate(tr) }
