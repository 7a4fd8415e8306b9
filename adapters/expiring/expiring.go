// Package expiring is a map whose entries are forgotten after a life given
// when each is put, with a bound on its size, at a constant cost per call.
// The adapters keep what a platform told them for a while in it (Slack's
// response_urls, users' names): a busy poll puts an entry on every click,
// so no call may scan the whole map, and none may grow it without bound.
package expiring

import (
	"sync"
	"time"
)

// Map maps keys to values that expire. Its zero value is not usable; call
// New. It is safe for concurrent use.
type Map[K comparable, V any] struct {
	max int

	mu sync.Mutex
	m  map[K]entry[V]
	// order holds every put in the order it came, oldest at head: the
	// entries to forget first, when they have expired or the map is full.
	// A key put again has a newer record further back; its older record
	// is skipped, as seq tells them apart.
	order []record[K]
	head  int
	seq   uint64
}

type entry[V any] struct {
	v   V
	exp time.Time
	seq uint64
}

type record[K comparable] struct {
	key K
	exp time.Time
	seq uint64
}

// New returns a Map that holds at most size entries (at least 1): past
// it, the oldest put is forgotten first.
func New[K comparable, V any](size int) *Map[K, V] {
	return &Map[K, V]{max: max(size, 1), m: map[K]entry[V]{}}
}

// Put sets key to v until now+life, replacing what key held. It forgets
// the expired entries put before it, and the oldest while the map is full:
// every entry is forgotten once, so a Put costs O(1) amortised.
func (m *Map[K, V]) Put(now time.Time, key K, v V, life time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget(now)
	if _, ok := m.m[key]; !ok {
		for len(m.m) >= m.max {
			m.drop()
		}
	}
	m.seq++
	exp := now.Add(life)
	m.m[key] = entry[V]{v: v, exp: exp, seq: m.seq}
	m.order = append(m.order, record[K]{key: key, exp: exp, seq: m.seq})
	if n := len(m.order) - m.head; n > 2*len(m.m)+1024 {
		m.compact()
	}
}

// compact drops the records of keys put again since, which a key put on
// every click (a user's latest response_url) leaves behind by the
// thousand; it runs once the records outnumber the entries twice over, so
// its cost is O(1) per Put amortised.
func (m *Map[K, V]) compact() {
	kept := m.order[:0]
	for _, r := range m.order[m.head:] {
		if e, ok := m.m[r.key]; ok && e.seq == r.seq {
			kept = append(kept, r)
		}
	}
	clear(m.order[len(kept):])
	m.order = kept
	m.head = 0
}

// Get returns key's value when it has not expired at now.
func (m *Map[K, V]) Get(now time.Time, key K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Len is the number of entries held, expired ones not yet forgotten
// included.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// forget drops the records at the head that have expired at now, with
// their entries. Entries of different lives are put in one order, so a
// short-lived one behind a long-lived one waits for its turn (or for the
// bound): Get never returns it meanwhile.
func (m *Map[K, V]) forget(now time.Time) {
	for m.head < len(m.order) {
		r := m.order[m.head]
		if e, ok := m.m[r.key]; ok && e.seq == r.seq && now.Before(r.exp) {
			return
		}
		m.pop()
	}
}

// drop forgets the oldest live entry.
func (m *Map[K, V]) drop() {
	for m.head < len(m.order) {
		e, ok := m.m[m.order[m.head].key]
		live := ok && e.seq == m.order[m.head].seq
		m.pop()
		if live {
			return
		}
	}
}

// pop removes the head record, and its entry when the record is the
// entry's latest put; it compacts order once half of it is spent.
func (m *Map[K, V]) pop() {
	r := m.order[m.head]
	if e, ok := m.m[r.key]; ok && e.seq == r.seq {
		delete(m.m, r.key)
	}
	m.order[m.head] = record[K]{}
	m.head++
	if m.head >= 1024 && m.head*2 >= len(m.order) {
		n := copy(m.order, m.order[m.head:])
		clear(m.order[n:])
		m.order = m.order[:n]
		m.head = 0
	}
}
