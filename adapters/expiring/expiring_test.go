package expiring

import (
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestExpiry(t *testing.T) {
	m := New[string, int](10)
	m.Put(t0, "a", 1, time.Minute)
	m.Put(t0.Add(30*time.Second), "b", 2, time.Minute)
	if v, ok := m.Get(t0.Add(59*time.Second), "a"); !ok || v != 1 {
		t.Errorf("a within its life = %v, %v", v, ok)
	}
	if _, ok := m.Get(t0.Add(time.Minute), "a"); ok {
		t.Error("a kept past its life")
	}
	// A key put again lives from its latest put.
	m.Put(t0.Add(50*time.Second), "a", 3, time.Minute)
	if v, ok := m.Get(t0.Add(100*time.Second), "a"); !ok || v != 3 {
		t.Errorf("a put again = %v, %v; want 3 until 110s", v, ok)
	}
	// A put forgets what expired before it, and only that.
	m.Put(t0.Add(95*time.Second), "c", 4, time.Minute)
	if n := m.Len(); n != 2 {
		t.Errorf("%d entries after b expired, want a and c", n)
	}
	if _, ok := m.Get(t0.Add(95*time.Second), "b"); ok {
		t.Error("b kept past its life")
	}
}

func TestBound(t *testing.T) {
	m := New[string, int](3)
	for i := range 5 {
		m.Put(t0, strconv.Itoa(i), i, time.Hour)
	}
	if n := m.Len(); n != 3 {
		t.Errorf("%d entries, want the bound, 3", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := m.Get(t0, strconv.Itoa(i)); ok != want {
			t.Errorf("entry %d held: %v, want %v (the oldest go first)", i, ok, want)
		}
	}
	// Putting a held key again makes it the newest, and drops nothing.
	m.Put(t0, "2", 20, time.Hour)
	m.Put(t0, "5", 5, time.Hour)
	if _, ok := m.Get(t0, "2"); !ok {
		t.Error("the key put again was dropped as the oldest")
	}
	if _, ok := m.Get(t0, "3"); ok {
		t.Error("3, now the oldest, was kept past the bound")
	}
}

// TestRecordsStayBounded: a key put on every click (a user's latest
// response_url) leaves no trail of records: the bookkeeping stays within
// a small multiple of the entries, however often keys are put again.
func TestRecordsStayBounded(t *testing.T) {
	m := New[string, int](1000)
	now := t0
	for i := range 100_000 {
		now = now.Add(time.Millisecond)
		m.Put(now, "u"+strconv.Itoa(i%10), i, time.Hour)
	}
	if n := m.Len(); n != 10 {
		t.Errorf("%d entries, want 10", n)
	}
	if n := len(m.order) - m.head; n > 2*10+1024+1 {
		t.Errorf("%d records kept for 10 entries", n)
	}
	if v, ok := m.Get(now, "u9"); !ok || v != 99_999 {
		t.Errorf("u9 = %v, %v; want its latest value", v, ok)
	}
}
