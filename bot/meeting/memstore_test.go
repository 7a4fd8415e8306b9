package meeting_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/meeting"
)

// memStore is a meeting.Store in memory, for the tests until the real
// stores land.
type memStore struct {
	mu         sync.Mutex
	meetings   map[string][]byte
	order      []string
	rsvps      map[string]map[string]meeting.RSVP
	deliveries map[string]bool
	feeds      map[string]meeting.Feed // token → feed
	tokens     map[string]string       // feed key → token
	n          int
}

func newMemStore() *memStore {
	return &memStore{
		meetings: map[string][]byte{}, rsvps: map[string]map[string]meeting.RSVP{},
		deliveries: map[string]bool{}, feeds: map[string]meeting.Feed{}, tokens: map[string]string{},
	}
}

var _ meeting.Store = (*memStore)(nil)

func (s *memStore) load(id string) (*meeting.Meeting, error) {
	b, ok := s.meetings[id]
	if !ok {
		return nil, meeting.ErrNotFound
	}
	m := &meeting.Meeting{}
	return m, json.Unmarshal(b, m)
}

func (s *memStore) save(m *meeting.Meeting) {
	b, _ := json.Marshal(m)
	s.meetings[m.ID] = b
}

func (s *memStore) Create(_ context.Context, m *meeting.Meeting) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.meetings[m.ID]; ok {
		return meeting.ErrExists
	}
	s.save(m)
	s.order = append(s.order, m.ID)
	return nil
}

func (s *memStore) Get(_ context.Context, id string) (*meeting.Meeting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(id)
}

func (s *memStore) Update(_ context.Context, id string, change func(*meeting.Meeting) error) (*meeting.Meeting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load(id)
	if err != nil {
		return nil, err
	}
	if err := change(m); err != nil {
		return nil, err
	}
	s.save(m)
	return m, nil
}

func (s *memStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.meetings[id]; !ok {
		return meeting.ErrNotFound
	}
	delete(s.meetings, id)
	delete(s.rsvps, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	return nil
}

func (s *memStore) List(_ context.Context, where bot.Where) ([]*meeting.Meeting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*meeting.Meeting
	for _, id := range s.order {
		m, _ := s.load(id)
		if m.Where == where {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *memStore) Click(_ context.Context, c meeting.Click) (*meeting.Meeting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load(c.Meeting)
	if err != nil {
		return nil, err
	}
	if !c.Invited && !m.Where.Reaches(c.Channel) {
		return nil, meeting.ErrNotFound
	}
	if c.Delivery != "" {
		if s.deliveries[c.Delivery] {
			return nil, bot.ErrRepeated
		}
		s.deliveries[c.Delivery] = true
	}
	if m.Ended {
		return nil, meeting.ErrEnded
	}
	if s.rsvps[m.ID] == nil {
		s.rsvps[m.ID] = map[string]meeting.RSVP{}
	}
	s.rsvps[m.ID][c.User] = meeting.RSVP{User: c.User, Name: c.Name, Answer: c.Answer, At: c.At}
	if m.Ref.IsZero() && !c.Ref.IsZero() {
		m.Ref = c.Ref
		s.save(m)
	}
	return m, nil
}

func (s *memStore) RSVPs(_ context.Context, id string) ([]meeting.RSVP, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []meeting.RSVP
	for _, r := range s.rsvps[id] {
		out = append(out, r)
	}
	return out, nil
}

func (s *memStore) Attending(_ context.Context, platform, user string) ([]*meeting.Meeting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*meeting.Meeting
	for _, id := range s.order {
		m, _ := s.load(id)
		if r, ok := s.rsvps[id][user]; ok && m.Where.Platform == platform && (r.Answer == meeting.Yes || r.Answer == meeting.Maybe) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *memStore) FeedToken(_ context.Context, f meeting.Feed, rotate bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := f.Where.Key() + "|" + f.User
	if t, ok := s.tokens[key]; ok && !rotate {
		return t, nil
	}
	if old, ok := s.tokens[key]; ok {
		delete(s.feeds, old)
	}
	s.n++
	t := bot.NewID(16)
	s.tokens[key] = t
	s.feeds[t] = f
	return t, nil
}

func (s *memStore) FeedByToken(_ context.Context, token string) (meeting.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.feeds[token]
	if !ok {
		return meeting.Feed{}, meeting.ErrNotFound
	}
	f.Token = token
	return f, nil
}
