package meeting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/ical"
)

// feedURL is the address of the feed with token.
func (f *Feature) feedURL(token string) string {
	return f.c.PublicURL + "/ics/" + token + ".ics"
}

// channelFeed answers /meeting agenda-link [vernieuw]: the address of the
// channel's calendar feed, to the asker only.
func (f *Feature) channelFeed(ctx context.Context, req *bot.Request, args []word) (*bot.Message, error) {
	return f.feedReply(ctx, req, args, Feed{Where: req.Where}, "meeting.feed.channel", "meeting.sub.feed")
}

// personalFeed answers /meeting mijn-agenda [vernieuw]: the address of
// the asker's own feed, of every meeting they said yes or maybe to.
func (f *Feature) personalFeed(ctx context.Context, req *bot.Request, args []word) (*bot.Message, error) {
	return f.feedReply(ctx, req, args, Feed{Where: req.Where.Workspace(), User: req.User.ID}, "meeting.feed.personal", "meeting.sub.mine")
}

// feedReply gives the address of feed; key is the reply's message, subID
// the message of the subcommand's name in the user's language.
func (f *Feature) feedReply(ctx context.Context, req *bot.Request, args []word, feed Feed, key, subID string) (*bot.Message, error) {
	tr := bot.T(req.Locale)
	sub := tr.S(subID)
	rotate := false
	switch {
	case len(args) == 1 && rotateWord(args[0].Text):
		rotate = true
	case len(args) > 0:
		return nil, bot.Errorf("meeting.err.feed_args", "Sub", sub)
	}
	if f.c.PublicURL == "" {
		return nil, bot.Errorf("meeting.err.no_public_url")
	}
	token, err := f.c.Store.FeedToken(ctx, feed, rotate)
	if err != nil {
		return nil, fmt.Errorf("feed token: %w", err)
	}
	text := tr.S(key, "URL", link(f.feedURL(token)), "Sub", sub)
	if rotate {
		text = tr.S("meeting.feed.rotated", "URL", link(f.feedURL(token))) + "\n" + text
	}
	return bot.TextMessage(text), nil
}

// Routes serves the calendar feeds: GET /ics/{token}.ics.
func (f *Feature) Routes(web *http.ServeMux) {
	web.HandleFunc("GET /ics/{file}", f.serveFeed)
}

func (f *Feature) serveFeed(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || token == "" {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	feed, err := f.c.Store.FeedByToken(ctx, token)
	if errors.Is(err, ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		f.c.Log.Error("read calendar feed", "err", err)
		http.Error(w, "feed unavailable, try again later", http.StatusServiceUnavailable)
		return
	}
	body, err := f.feedBody(ctx, feed)
	if err != nil {
		f.c.Log.Error("write calendar feed", "err", err)
		http.Error(w, "feed unavailable, try again later", http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("ETag", etag)
	// The address is the secret: no shared cache may keep the feed.
	h.Set("Cache-Control", "private, max-age=300")
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body) //nolint:errcheck // a client that went away is no error of ours
}

// feedBody writes the feed's calendar: the channel's meetings, or the
// meetings the feed's user said yes or maybe to.
func (f *Feature) feedBody(ctx context.Context, feed Feed) ([]byte, error) {
	var (
		ms  []*Meeting
		err error
	)
	if feed.User != "" {
		ms, err = f.c.Store.Attending(ctx, feed.Where.Platform, feed.User)
	} else {
		ms, err = f.c.Store.List(ctx, feed.Where)
	}
	if err != nil {
		return nil, err
	}
	tr := bot.T(f.channelLocale(ctx, feed.Where, ""))
	name := tr.S("meeting.feed.name_channel")
	if feed.User != "" {
		name = tr.S("meeting.feed.name_personal")
	}
	cal := ical.Calendar{Name: name}
	for _, m := range ms {
		if m.Ref.IsZero() {
			continue // never posted
		}
		cal.Events = append(cal.Events, f.event(tr, m))
	}
	var buf bytes.Buffer
	if err := ical.Write(&buf, cal); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// event is m as a calendar event: its rule, its cancelled dates as
// EXDATEs and its moved ones as overrides, under a UID that stays.
func (f *Feature) event(tr bot.Tr, m *Meeting) ical.Event {
	loc := m.Location(f.c.Location)
	stamp := m.Changed
	if stamp.IsZero() {
		stamp = m.Created
	}
	ev := ical.Event{
		UID: "meeting-" + m.ID + "@" + f.uidHost(), Sequence: m.Sequence,
		Summary: m.Title, Location: m.Place, URL: m.Link, Description: f.description(tr, m),
		Start: m.Start.In(loc), Duration: m.Duration, RRule: m.RRule,
		Stamp: stamp.UTC(), Cancelled: m.Ended,
	}
	if m.RRule == "" {
		return ev
	}
	for _, c := range m.Cancelled {
		ev.ExDates = append(ev.ExDates, c.In(loc))
	}
	for _, mv := range m.Moves {
		if cancelled(m, mv.From) {
			continue
		}
		ev.Overrides = append(ev.Overrides, ical.Override{RecurrenceID: mv.From.In(loc), Start: mv.To.In(loc), Sequence: m.Sequence})
	}
	return ev
}

func cancelled(m *Meeting, original time.Time) bool {
	for _, c := range m.Cancelled {
		if c.Equal(original) {
			return true
		}
	}
	return false
}

// uidHost names this kring in event UIDs: the host of its public URL.
func (f *Feature) uidHost() string {
	if u, err := url.Parse(f.c.PublicURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "kring"
}

// description is the event's text: the agenda, and where to answer.
func (f *Feature) description(tr bot.Tr, m *Meeting) string {
	var lines []string
	if len(m.Agenda) > 0 {
		lines = append(lines, tr.S("meeting.feed.agenda"))
		for _, p := range m.Agenda {
			lines = append(lines, fmt.Sprintf("%d. %s", p.ID, p.Text))
		}
		lines = append(lines, "")
	}
	if m.Link != "" {
		lines = append(lines, m.Link, "")
	}
	lines = append(lines, tr.S("meeting.feed.answer", "ID", m.ID))
	return strings.Join(lines, "\n")
}
