package bot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// UserError is a mistake or a refusal the user caused: bad arguments, a
// closed poll, no permission. The Mux translates it and shows it to that
// user only. ID is a message id; Data its template values.
type UserError struct {
	ID   string
	Data []any // name, value pairs, as Tr.S takes them
}

// Error returns the message id, for logs and tests.
func (e *UserError) Error() string { return fmt.Sprintf("user error %s %v", e.ID, e.Data) }

// Errorf makes a UserError for message id with template data as name,
// value pairs.
func Errorf(id string, kv ...any) error { return &UserError{ID: id, Data: kv} }

// Translate renders e in a locale. A data value that is itself a
// *UserError is translated first, so an error can wrap a more specific one
// ("Dat lukt niet: {{.Problem}}").
func (e *UserError) Translate(tr Tr) string {
	data := make([]any, len(e.Data))
	for i, v := range e.Data {
		if inner, ok := v.(*UserError); ok {
			v = inner.Translate(tr)
		}
		data[i] = v
	}
	return tr.S(e.ID, data...)
}

// FieldErrors refuses a submitted form: a message per input name, shown
// next to the input so the user can fix it and submit again.
type FieldErrors map[string]*UserError

// Error lists the fields, for logs and tests.
func (fe FieldErrors) Error() string { return fmt.Sprintf("form has %d invalid fields", len(fe)) }

// AsUserError reports whether err is (or wraps) a UserError.
func AsUserError(err error) (*UserError, bool) {
	var ue *UserError
	ok := errors.As(err, &ue)
	return ue, ok
}

// NewID returns n random bytes as lower-case hex: error ids, tokens.
func NewID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// RateLimited is returned by a Poster whose platform said "too many
// requests, try again after After". pace.Poster waits and retries.
type RateLimited struct {
	After time.Duration
}

func (e *RateLimited) Error() string { return fmt.Sprintf("rate limited: retry after %s", e.After) }
