package poll

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
)

// The key that stands for a voter in an anonymous poll must not change
// between kring versions: a voter who comes back to a poll that stayed
// open across an upgrade must find their own ballot.
func TestAnonKeyIsStable(t *testing.T) {
	f := New(Config{Secret: "s3cret"})
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("ab12cd\x00slack\x00U1"))
	want := "anon:" + hex.EncodeToString(mac.Sum(nil))[:24]
	var wg sync.WaitGroup
	for range 20 { // the hashers are shared: each answer is whole
		wg.Go(func() {
			if got := f.anonKey("ab12cd", "slack", "U1"); got != want {
				t.Errorf("anonKey = %s, want %s", got, want)
			}
		})
	}
	wg.Wait()
}
