package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot/poll"
)

// longText is n runes of Dutch text starting with prefix.
func longText(prefix string, n int) string {
	words := "kraamzorg verloskundige échoscopie consultatiebureau regio overleg "
	s := prefix
	for utf8.RuneCountInString(s) < n {
		s += words
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "."
}

// The largest poll kring allows, anonymous (one button more), posts and
// updates on a Mattermost 5.x server, which refuses props over 8,000 runes.
func TestMattermostLargestPollFits5x(t *testing.T) {
	mm := mattermosttest.New(t)
	mm.PlayPropsLimit(mattermosttest.PropsMaxRunes5x)
	mmUsers(mm)
	s := startMattermostServe(t, mm, "bolt:"+t.TempDir()+"/kring.db")

	question := longText("Welke datum en welk onderwerp kiezen we? ", poll.MaxQuestionLen)
	line := fmt.Sprintf("/poll --anoniem %q", question)
	for i := range poll.MaxOptions {
		line += fmt.Sprintf(" %q", longText(fmt.Sprintf("Optie %d: ", i+1), poll.MaxOptionLen))
	}
	resp := s.command(anna, line)
	pollID(t, resp.Text)
	posts := mm.Posts()
	if len(posts) != 1 {
		t.Fatalf("the largest poll was not posted: %q", resp.Text)
	}
	post := posts[0].Id
	if n := s.button(post, "pollvote"); n != 0 || len(mattermosttest.Actions(mm.Post(post))) != poll.MaxOptions+2 {
		t.Fatalf("buttons: %d", len(mattermosttest.Actions(mm.Post(post))))
	}
	updates := mm.Updates(post)
	s.click(post, poll.MaxOptions-1, bram)
	mm.WaitFor(t, time.Minute, "the vote on the post", func() bool { return mm.Updates(post) > updates })
	s.waitPost(post, "1 stem")

	// What is left of 5.x's 8,000 runes, measured as the server measures
	// on create (with its "from_bot").
	p := mm.Post(post)
	p.AddProp("from_bot", "true")
	used := mattermosttest.PropsRunes(p)
	room := mattermosttest.PropsMaxRunes5x - used
	t.Logf("the largest poll's props: %d runes; %d left of Mattermost 5.x's %d", used, room, mattermosttest.PropsMaxRunes5x)
	if room < 2000 {
		t.Errorf("the largest poll leaves %d runes of 5.x's props limit; want at least 2,000 to spare", room)
	}
	// The labels keep their usual 40 runes: no shortening to fit was
	// needed.
	for i, a := range mattermosttest.Actions(p)[:poll.MaxOptions] {
		if n := utf8.RuneCountInString(a.Name); n != 40 {
			t.Errorf("label %d shortened to %q", i, a.Name)
		}
	}
}
