package poll

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
)

// Tally is a poll's count: per option its votes and the names of (some
// of) its voters, and how many people voted in all. A store keeps one in
// step with the ballots (Store.Tally), so a message is rendered without
// reading every ballot; Count computes one from the ballots.
type Tally struct {
	Counts []int
	Names  [][]string // per option, the voters shown by name; empty in an anonymous poll
	IDs    [][]string // the user ids behind Names, for the platform's display names
	Voters int
	// Runoff is the instant-runoff count of a poll counted so (MethodIRV),
	// which Count fills in: it needs every ballot, which no store tally
	// keeps. Nil otherwise.
	Runoff *Runoff
}

// NewTally returns an empty tally of n options.
func NewTally(n int) Tally {
	return Tally{Counts: make([]int, n), Names: make([][]string, n), IDs: make([][]string, n)}
}

// Named adds voters ids of option o, by the names the store kept for them
// (an id without a name is shown as the id).
func (t *Tally) Named(o int, ids []string, names map[string]string) {
	for _, id := range ids {
		name := names[id]
		if name == "" {
			name = id
		}
		t.Names[o] = append(t.Names[o], name)
		t.IDs[o] = append(t.IDs[o], id)
	}
}

// Sort orders each option's names alphabetically, ignoring case.
func (t *Tally) Sort() {
	for o := range t.Names {
		idx := make([]int, len(t.Names[o]))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			return strings.Compare(strings.ToLower(t.Names[o][a]), strings.ToLower(t.Names[o][b]))
		})
		names, ids := make([]string, len(idx)), make([]string, len(idx))
		for i, j := range idx {
			names[i], ids[i] = t.Names[o][j], t.IDs[o][j]
		}
		t.Names[o], t.IDs[o] = names, ids
	}
}

// Count tallies ballots for p, naming every voter.
func Count(p *Poll, ballots []Ballot) Tally {
	t := NewTally(len(p.Options))
	for _, b := range ballots {
		if len(b.Options) == 0 {
			continue
		}
		t.Voters++
		for i, o := range b.Options {
			if o < 0 || o >= len(p.Options) {
				continue // an option index from a newer poll state; never shown
			}
			t.Counts[o] += b.weight(i)
			if !p.Anonymous {
				t.Named(o, []string{b.Voter}, map[string]string{b.Voter: b.Name})
			}
		}
	}
	t.Sort()
	if p.Kind == KindRank && p.Method == MethodIRV {
		var rankings [][]int
		for _, b := range ballots {
			rankings = append(rankings, b.Options)
		}
		r := IRV(len(p.Options), rankings)
		t.Runoff = &r
	}
	return t
}

// weight is what option i of b adds to its count: 1 for a click, else
// its points.
func (b Ballot) weight(i int) int {
	switch {
	case b.Points == nil:
		return 1
	case i < len(b.Points):
		return b.Points[i]
	}
	return 0
}

// Percent is option o's share of the voters, rounded.
func (t Tally) Percent(o int) int {
	if t.Voters == 0 {
		return 0
	}
	return (t.Counts[o]*100 + t.Voters/2) / t.Voters
}

// ResultsVisible reports whether counts may be shown: always, except for a
// hidden poll that is still open.
func (p *Poll) ResultsVisible() bool { return !p.Hidden || p.Closed }

const (
	barWidth      = 10
	namesShown    = 10
	buttonsPerRow = 5
)

func bar(pct int) string {
	full := (pct*barWidth + 50) / 100
	return strings.Repeat("█", full) + strings.Repeat("░", barWidth-full)
}

// view renders polls in one locale, time zone and moment.
type view struct {
	tr  bot.Tr
	loc *time.Location
	now time.Time
}

// message renders the poll as it appears in the channel, with its tally.
func (v view) message(p *Poll, t Tally) bot.Message {
	tr := v.tr
	q := bot.Escape(p.Question)
	head := tr.S("poll.header", "Question", q)
	if p.Closed {
		head = tr.S("poll.header_closed", "Question", q)
	}
	blocks := []bot.Block{bot.Header{Text: head}}

	if p.Kind != "" {
		return v.ballotMessage(p, t, head)
	}
	best := 0
	if p.Closed {
		best = slices.Max(append([]int{0}, t.Counts...))
	}
	var lines []string
	for i, o := range p.Options {
		line := fmt.Sprintf("*%d. %s*", i+1, bot.Escape(o.Label))
		if p.ResultsVisible() {
			if best > 0 && t.Counts[i] == best {
				line = "🏆 " + line
			}
			line += "\n" + tr.N("poll.option_result", t.Counts[i], "Bar", bar(t.Percent(i)), "Percent", t.Percent(i))
			if names := t.Names[i]; len(names) > 0 {
				line += "\n" + v.names(names, t.Counts[i])
			}
		}
		lines = append(lines, line)
	}
	blocks = append(blocks, bot.Section{Text: strings.Join(lines, "\n\n")})
	if !p.ResultsVisible() {
		blocks = append(blocks, bot.Section{Text: tr.S("poll.hidden_until_closed")})
	}
	blocks = append(blocks, bot.Context{Text: strings.Join(v.facts(p, t), " · ")})

	if !p.Closed {
		var row []bot.Button
		for i, o := range p.Options {
			row = append(row, bot.Button{ID: "poll.vote", Label: fmt.Sprintf("%d. %s", i+1, o.Label), Value: p.ID + ":" + strconv.Itoa(i)})
			if len(row) == buttonsPerRow || i == len(p.Options)-1 {
				blocks = append(blocks, bot.Buttons{Buttons: row})
				row = nil
			}
		}
	}
	blocks = append(blocks, v.controls(p, nil))
	return bot.Message{Text: bot.PlainText(head) + " — " + votersText(tr, t.Voters, p.Closed), Blocks: blocks}
}

// controls are the buttons under a poll: lead first (a ranked poll's
// "Rangschik"), then adding an option, the own vote and closing; a closed
// poll has reopening and deleting.
func (v view) controls(p *Poll, lead []bot.Button) bot.Block {
	tr := v.tr
	if p.Closed {
		return bot.Buttons{Buttons: []bot.Button{
			{ID: "poll.reopen", Label: tr.S("poll.button.reopen"), Value: p.ID},
			{ID: "poll.delete", Label: tr.S("poll.button.delete"), Value: p.ID, Style: bot.Danger, Confirm: &bot.Confirm{
				Title: tr.S("poll.confirm.delete_title"), Text: tr.S("poll.confirm.delete_text"),
				Yes: tr.S("poll.confirm.delete_yes"), No: tr.S("poll.confirm.no"),
			}},
		}}
	}
	controls := lead
	if p.AllowAdd && len(p.Options) < MaxOptions {
		controls = append(controls, bot.Button{ID: "poll.add", Label: tr.S("poll.button.add"), Value: p.ID})
	}
	if p.Anonymous || p.Hidden {
		controls = append(controls, bot.Button{ID: "poll.mine", Label: tr.S("poll.button.mine"), Value: p.ID})
	}
	controls = append(controls, bot.Button{ID: "poll.close", Label: tr.S("poll.button.close"), Value: p.ID, Style: bot.Danger, Confirm: &bot.Confirm{
		Title: tr.S("poll.confirm.close_title"), Text: tr.S("poll.confirm.close_text"),
		Yes: tr.S("poll.confirm.close_yes"), No: tr.S("poll.confirm.no"),
	}})
	return bot.Buttons{Buttons: controls}
}

// names lists an option's voters, the first few by name and the rest (of
// votes in all) as a number.
func (v view) names(names []string, votes int) string {
	shown := names
	if len(shown) > namesShown {
		shown = shown[:namesShown]
	}
	esc := make([]string, len(shown))
	for i, n := range shown {
		esc[i] = bot.Escape(n)
	}
	s := "_" + strings.Join(esc, ", ") + "_"
	if rest := max(votes, len(names)) - len(shown); rest > 0 {
		s += " " + v.tr.N("poll.names_more", rest)
	}
	return s
}

// facts are the small print under a poll.
func (v view) facts(p *Poll, t Tally) []string {
	tr := v.tr
	facts := []string{votersText(tr, t.Voters, p.Closed)}
	switch {
	case p.Kind == KindRank && p.Method == MethodIRV:
		facts = append(facts, tr.S("poll.fact.irv"))
	case p.Kind == KindRank:
		facts = append(facts, tr.S("poll.fact.borda"))
	case p.Kind == KindPoints:
		facts = append(facts, tr.N("poll.fact.points", p.Points))
	case p.MaxVotes > 1:
		facts = append(facts, tr.N("poll.fact.max_votes", p.MaxVotes))
	}
	if p.Anonymous {
		facts = append(facts, tr.S("poll.fact.anonymous"))
	}
	if p.Hidden && !p.Closed { // once closed, the result shows
		facts = append(facts, tr.S("poll.fact.hidden"))
	}
	if p.AllowAdd && !p.Closed {
		facts = append(facts, tr.S("poll.fact.add_options"))
	}
	switch {
	case p.Closed && !p.ClosedAt.IsZero():
		facts = append(facts, v.at("poll.fact.closed_at", p.ClosedAt))
	case !p.Closed && p.Closes.After(v.now): // a poll reopened after it is open for good
		facts = append(facts, v.at("poll.fact.closes", p.Closes))
	}
	facts = append(facts, tr.S("poll.fact.by", "Name", bot.Escape(p.Creator.Label())), tr.S("poll.fact.id", "ID", p.ID))
	return facts
}

// votersText says how many people voted: "3 stemmers", or for none "nog
// geen stemmen" in an open poll and "geen stemmen" in a closed one.
func votersText(tr bot.Tr, n int, closed bool) string {
	switch {
	case n > 0:
		return tr.N("poll.voters", n)
	case closed:
		return tr.S("poll.voters.none_closed")
	default:
		return tr.S("poll.voters.none")
	}
}

// at renders a fact about a moment (id takes .Day and .Time): "sluit wo 2
// dec om 17:00".
func (v view) at(id string, t time.Time) string {
	full := v.tr.FormatTime(t, v.now, v.loc)
	i := strings.LastIndexByte(full, ' ') // FormatTime ends in " 15:04"
	return v.tr.S(id, "Day", full[:i], "Time", full[i+1:])
}

// list renders the open polls of a channel.
func (v view) list(polls []*Poll, counts map[string]int) bot.Message {
	tr := v.tr
	if len(polls) == 0 {
		return *bot.TextMessage(tr.S("poll.list.none"))
	}
	var lines []string
	for _, p := range polls {
		line := tr.S("poll.list.item", "Question", bot.Escape(p.Question), "ID", p.ID, "Voters", votersText(tr, counts[p.ID], false))
		if p.Closes.After(v.now) {
			line += " · " + v.at("poll.fact.closes", p.Closes)
		}
		lines = append(lines, line)
	}
	text := tr.N("poll.list.title", len(polls)) + "\n" + strings.Join(lines, "\n")
	return *bot.TextMessage(text)
}

// deleted is what a deleted poll's message becomes.
func (v view) deleted(p *Poll, by bot.User) bot.Message {
	return *bot.TextMessage(v.tr.S("poll.deleted", "Question", bot.Escape(p.Question), "Name", bot.Escape(by.Label())))
}

// ownVote tells a voter what they chose.
func (v view) ownVote(p *Poll, b Ballot) *bot.Message {
	if p.Kind != "" {
		return v.ownBallot(p, b)
	}
	if len(b.Options) == 0 {
		return bot.TextMessage(v.tr.S("poll.mine.none", "Question", bot.Escape(p.Question)))
	}
	var labels []string
	for _, o := range b.Options {
		if o >= 0 && o < len(p.Options) {
			labels = append(labels, "*"+bot.Escape(p.Options[o].Label)+"*")
		}
	}
	return bot.TextMessage(v.tr.N("poll.mine.some", len(labels), "Question", bot.Escape(p.Question), "Options", strings.Join(labels, ", ")))
}
