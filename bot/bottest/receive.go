package bottest

import (
	"testing"
	"time"
)

// Receive receives from c, or fails t after a minute (of the bubble's time
// inside testing/synctest): a hang guard, not a bound on speed.
func Receive[T any](t testing.TB, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("no %s within a minute", what)
		var zero T
		return zero
	}
}
