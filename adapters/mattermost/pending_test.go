package mattermost

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
)

// pollLike is a message shaped like a poll: a header, a section and a row
// of buttons whose values name it.
func pollLike(name string) bot.Message {
	return bot.Message{
		Text: name,
		Blocks: []bot.Block{
			bot.Header{Text: name},
			bot.Section{Text: "Wat kiest " + name + "?"},
			bot.Buttons{Buttons: []bot.Button{
				{ID: "tel.klik", Label: "Ja", Value: name + ":0"},
				{ID: "tel.klik", Label: "Nee", Value: name + ":1"},
			}},
		},
	}
}

// Mattermost deduplicates creates by pending_post_id alone, across
// channels: posts made in the same millisecond must not share one.
func TestHundredPostsInTenChannelsAtOnce(t *testing.T) {
	h := newHarness(t)
	type result struct {
		ref  bot.Ref
		name string
		err  error
	}
	results := make([]result, 100)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			where := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: fmt.Sprintf("chan%02d000000000000000000000", i%10)}
			name := fmt.Sprintf("peiling%03d", i)
			<-start
			ref, err := h.ad.rest.Post(t.Context(), where, pollLike(name))
			results[i] = result{ref, name, err}
		}()
	}
	close(start)
	wg.Wait()
	seen := map[string]string{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("post %d: %v", i, r.err)
		}
		if other, dup := seen[r.ref.ID]; dup {
			t.Errorf("%s and %s got the same post %s", other, r.name, r.ref.ID)
		}
		seen[r.ref.ID] = r.name
		p := h.mm.Post(r.ref.ID)
		if p == nil || p.ChannelId != r.ref.Channel || !strings.Contains(p.Message, r.name) {
			t.Errorf("%s: post %s is %+v, want one in %s", r.name, r.ref.ID, p, r.ref.Channel)
			continue
		}
		for _, a := range mattermosttest.Actions(p) {
			if _, err := h.ad.render.sign.openContext(a.Integration.Context, p.ChannelId, p.Id); err != nil {
				t.Errorf("%s: a button does not belong to its post: %v", r.name, err)
			}
		}
	}
	if n := len(h.mm.Posts()); n != 100 {
		t.Errorf("%d posts, want 100", n)
	}
	ids := map[string]bool{}
	for _, id := range h.mm.PendingPostIDs() {
		if id == "" || ids[id] {
			t.Errorf("pending post id %q empty or used twice", id)
		}
		ids[id] = true
	}
}

// A create whose answer is lost is retried with the same pending id, and
// Mattermost answers the retry with the post it made: one post, not two.
func TestRetriedCreateReusesItsPendingID(t *testing.T) {
	h := newHarness(t)
	h.mm.FailAfter("POST /api/v4/posts", http.StatusBadGateway)
	id := h.post()
	if n := len(h.mm.Posts()); n != 1 {
		t.Fatalf("%d posts after a lost answer, want 1", n)
	}
	pending := h.mm.PendingPostIDs()
	if len(pending) != 2 || pending[0] != pending[1] {
		t.Errorf("pending ids of the create and its retry: %q", pending)
	}
	if got := h.mm.Posts()[0].Id; got != id {
		t.Errorf("kring knows post %s, Mattermost made %s", id, got)
	}
	// The next post is a new one with its own pending id.
	h.post()
	if p := h.mm.PendingPostIDs(); len(p) != 3 || p[2] == p[0] {
		t.Errorf("pending ids: %q", p)
	}
}

// Text that JSON escapes (<, > and & weigh six runes each) cannot push a
// post over 5.x's props limit: labels are cut until the props fit.
func TestPropsFit5xWhateverTheLabels(t *testing.T) {
	h := newHarness(t)
	h.mm.PlayPropsLimit(mattermosttest.PropsMaxRunes5x)
	var row []bot.Button
	for i := range 22 {
		row = append(row, bot.Button{ID: "tel.klik", Label: strings.Repeat("<&>", 50), Value: fmt.Sprintf("abcdefgh:%d", i)})
	}
	m := bot.Message{Text: strings.Repeat("&", 300), Blocks: []bot.Block{bot.Section{Text: "Vraag"}, bot.Buttons{Buttons: row}}}
	where := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: testChannel}
	ref, err := h.ad.rest.Post(t.Context(), where, m)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if err := h.ad.rest.Update(t.Context(), ref, m); err != nil {
		t.Fatalf("update: %v", err)
	}
	p := h.mm.Post(ref.ID)
	if got := len(mattermosttest.Actions(p)); got != 22 {
		t.Errorf("%d buttons", got)
	}
	if n := mattermosttest.PropsRunes(p); n > maxPropsRunes {
		t.Errorf("props of %d runes, kring keeps them within %d", n, maxPropsRunes)
	}
	// Unless it is cut, a label is whole.
	p2 := testRenderer.message(pollLike("klein"), testWhere, "p")
	if a := p2.Attachments[0].Actions[0]; a.Name != "Ja" {
		t.Errorf("short label = %q", a.Name)
	}
}
