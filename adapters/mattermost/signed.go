package mattermost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Keys of a signed button context or dialog state. Short, because
// Mattermost stores a context with every button of every post, and 5.x
// refuses a post whose props pass 8,000 runes.
const (
	keyKind     = "k"  // dialog state: "form" or "confirm"
	keyAction   = "a"  // kring's action id, "poll.vote"
	keyValue    = "v"  // the button's value
	keyTeam     = "t"  // team id
	keyChannel  = "c"  // channel id
	keyPost     = "p"  // post id, once known
	keyForm     = "f"  // form id
	keyState    = "s"  // form state
	keyConfirmT = "ct" // confirm title, text, yes
	keyConfirmX = "cx"
	keyConfirmY = "cy"
	keySig      = "m" // a context's MAC
)

// contextKeys are what a button's context carries. Its channel and post are
// not among them: Mattermost sends both with every click (from the post it
// stores, not from the context), and the MAC covers them, so a context
// verifies only on its own post in its own channel. Nor is the team:
// Mattermost sends the team of the post's channel too ("" in a direct or
// group message, which belongs to no team), and channel ids are unique
// across teams, so the channel says all the MAC needs.
var contextKeys = map[string]bool{
	keyAction: true, keyValue: true,
	keyConfirmT: true, keyConfirmX: true, keyConfirmY: true,
}

// contextMACSize is how much of a context's HMAC-SHA256 is kept: 128 bits,
// 22 characters, a forgery chance of 2⁻¹²⁸ per try.
const contextMACSize = 16

var stateKeys = map[string]bool{
	keyKind: true, keyAction: true, keyValue: true, keyTeam: true, keyChannel: true, keyPost: true,
	keyForm: true, keyState: true,
}

// errBadSignature is any context or state that kring did not make.
var errBadSignature = errors.New("signature does not verify")

// signer signs what kring hands Mattermost to hand back.
type signer struct{ key []byte }

// mac is the HMAC of fields for one purpose, so a button context can never
// pass as a dialog state or the other way round. Marshalling a map sorts its
// keys, which makes the encoding canonical.
func (s signer) mac(purpose string, fields map[string]string) []byte {
	data, err := json.Marshal(fields)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	pool := s.pool()
	h := pool.Get().(hash.Hash)
	defer pool.Put(h)
	h.Reset()
	h.Write([]byte("kring/mattermost/" + purpose + "\x00"))
	h.Write(data)
	return h.Sum(nil)
}

// macPools holds a pool of HMAC hashers per key: every click is checked
// with one, and a hasher that is reset keeps its key's padded state
// instead of hashing the key anew.
var macPools sync.Map // string(key) → *sync.Pool of hash.Hash

func (s signer) pool() *sync.Pool {
	if p, ok := macPools.Load(string(s.key)); ok {
		return p.(*sync.Pool)
	}
	key := s.key
	p, _ := macPools.LoadOrStore(string(key), &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	return p.(*sync.Pool)
}

// context returns a button's integration context for a post in channel
// (post "" until the post exists): fields plus a MAC over them, the channel
// and the post.
func (s signer) context(fields map[string]string, channel, post string) map[string]any {
	out := make(map[string]any, len(fields)+1)
	clean := map[string]string{}
	for k, v := range fields {
		if v != "" && contextKeys[k] {
			out[k] = v
			clean[k] = v
		}
	}
	out[keySig] = base64.RawURLEncoding.EncodeToString(s.contextMAC(clean, channel, post))
	return out
}

func (s signer) contextMAC(fields map[string]string, channel, post string) []byte {
	all := make(map[string]string, len(fields)+2)
	for k, v := range fields {
		all[k] = v
	}
	all[keyChannel], all[keyPost] = channel, post
	return s.mac("context", all)[:contextMACSize]
}

// openContext verifies a context as Mattermost sent it back with a click
// on post in channel, and returns its fields with the channel and post.
// Any key kring does not write, any value that is not a string, or a MAC
// that does not match refuses the whole context. A context made before
// its post existed (post "") verifies in its channel only; kring binds
// every button to its post right after posting.
func (s signer) openContext(ctx map[string]any, channel, post string) (map[string]string, error) {
	if len(ctx) == 0 {
		return nil, errors.New("no context")
	}
	fields := make(map[string]string, len(ctx))
	var sig string
	for k, v := range ctx {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("context field %q is not a string", k)
		}
		switch {
		case k == keySig:
			sig = str
		case contextKeys[k]:
			if str == "" {
				return nil, fmt.Errorf("context field %q is empty", k)
			}
			fields[k] = str
		default:
			return nil, fmt.Errorf("unknown context field %q", k)
		}
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != contextMACSize || channel == "" {
		return nil, errBadSignature
	}
	switch {
	case hmac.Equal(got, s.contextMAC(fields, channel, post)):
	case post != "" && hmac.Equal(got, s.contextMAC(fields, channel, "")):
		post = ""
	default:
		return nil, errBadSignature
	}
	if fields[keyAction] == "" {
		return nil, errors.New("context lacks an action")
	}
	fields[keyChannel], fields[keyPost] = channel, post
	return fields, nil
}

// state encodes a dialog state: the fields and their MAC.
func (s signer) state(fields map[string]string) string {
	clean := map[string]string{}
	for k, v := range fields {
		if v != "" {
			clean[k] = v
		}
	}
	data, _ := json.Marshal(clean)
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(s.mac("state", clean))
}

// openState verifies a dialog state and returns its fields.
func (s signer) openState(state string) (map[string]string, error) {
	body, sig, ok := strings.Cut(state, ".")
	if !ok {
		return nil, errBadSignature
	}
	data, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, errBadSignature
	}
	var fields map[string]string
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, errBadSignature
	}
	for k, v := range fields {
		if !stateKeys[k] || v == "" {
			return nil, fmt.Errorf("state field %q: %w", k, errBadSignature)
		}
	}
	if err := s.verify("state", fields, sig); err != nil {
		return nil, err
	}
	if fields[keyKind] == "" || fields[keyChannel] == "" {
		return nil, errors.New("state lacks kind or channel")
	}
	return fields, nil
}

func (s signer) verify(purpose string, fields map[string]string, sig string) error {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	if !hmac.Equal(got, s.mac(purpose, fields)) {
		return errBadSignature
	}
	return nil
}
