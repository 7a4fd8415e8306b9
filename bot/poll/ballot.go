package poll

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kringbot/kring/bot"
)

// openBallotForm opens the form of a ranked poll (one select per place)
// or a dot vote (a number per option), filled in with the voter's ballot
// so far, so changing it starts from what they gave.
func (f *Feature) openBallotForm(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	p, ballots, err := f.get(ctx, act.Where, act.Value, true)
	if err != nil {
		return nil, err
	}
	if p.Closed {
		return nil, bot.Errorf("poll.err.closed")
	}
	var own Ballot
	key := f.voterKey(p, act.User.ID)
	for _, b := range ballots {
		if b.Voter == key {
			own = b
		}
	}
	tr := bot.T(act.Locale)
	var form bot.Form
	switch p.Kind {
	case KindRank:
		form = bot.Form{ID: "poll.rank.submit", Title: tr.S("poll.form.rank_title"), Submit: tr.S("poll.form.rank_submit"), State: p.ID}
		choices := make([]bot.Option, len(p.Options))
		for i, o := range p.Options {
			choices[i] = bot.Option{Value: strconv.Itoa(i + 1), Label: bot.Truncate(o.Label, 75)}
		}
		for place := range p.Options {
			in := bot.Input{
				Name: strconv.Itoa(place + 1), Label: tr.N("poll.form.rank_place", place+1),
				Kind: bot.Select, Options: choices, Optional: true, // all empty takes the ballot back
			}
			if place < len(own.Options) {
				in.Value = strconv.Itoa(own.Options[place] + 1)
			}
			if place == 0 {
				in.Hint = tr.S("poll.form.rank_hint", "Question", p.Question)
			}
			form.Inputs = append(form.Inputs, in)
		}
	case KindPoints:
		form = bot.Form{ID: "poll.points.submit", Title: tr.N("poll.form.points_title", p.Points), Submit: tr.S("poll.form.points_submit"), State: p.ID}
		for i, o := range p.Options {
			in := bot.Input{
				Name: strconv.Itoa(i + 1), Label: bot.Truncate(fmt.Sprintf("%d. %s", i+1, o.Label), 48),
				Kind: bot.Text, Optional: true, Placeholder: "0", MaxLength: 3,
			}
			if k := slices.Index(own.Options, i); k >= 0 && k < len(own.Points) {
				in.Value = strconv.Itoa(own.Points[k])
			}
			if i == 0 {
				in.Hint = tr.N("poll.form.points_hint", p.Points, "Question", p.Question)
			}
			form.Inputs = append(form.Inputs, in)
		}
	default:
		return nil, bot.Errorf("kring.unknown_action")
	}
	if err := f.c.Poster.OpenForm(ctx, act.Where, act.TriggerID, form); err != nil {
		return nil, fmt.Errorf("open ballot form for poll %s: %w", p.ID, err)
	}
	return nil, nil
}

// submitRanking hands in a ranking from its form (readRanking), with the
// Borda points of its places.
func (f *Feature) submitRanking(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	p, _, err := f.get(ctx, act.Where, act.Value, false)
	if err != nil {
		return nil, err
	}
	if p.Kind != KindRank {
		return nil, bot.Errorf("kring.unknown_action")
	}
	order, fe := readRanking(p, act.Form)
	if fe != nil {
		return nil, fe
	}
	return f.cast(ctx, act, p, order, BordaPoints(len(p.Options), order))
}

// submitPoints hands in a dot vote from its form (readPoints). Exactly
// the poll's points, so that everyone weighs the same.
func (f *Feature) submitPoints(ctx context.Context, act *bot.Action) (*bot.Message, error) {
	p, _, err := f.get(ctx, act.Where, act.Value, false)
	if err != nil {
		return nil, err
	}
	if p.Kind != KindPoints {
		return nil, bot.Errorf("kring.unknown_action")
	}
	options, points, fe := readPoints(p, act.Form)
	if fe != nil {
		return nil, fe
	}
	return f.cast(ctx, act, p, options, points)
}

// readRanking reads a ranking form: the places filled in, top down,
// as option indexes; a place left empty is skipped, an option given twice
// refused on its later place.
func readRanking(p *Poll, form bot.Values) ([]int, bot.FieldErrors) {
	var order []int
	placeOf := map[int]int{}
	fe := bot.FieldErrors{}
	for place := 1; place <= len(p.Options); place++ {
		name := strconv.Itoa(place)
		v := strings.TrimSpace(form.Get(name))
		if v == "" {
			continue
		}
		o, err := strconv.Atoi(v)
		if err != nil || o < 1 || o > len(p.Options) {
			fe[name] = bot.Errorf("poll.err.rank_option", "Max", len(p.Options)).(*bot.UserError)
			continue
		}
		if first, ok := placeOf[o-1]; ok {
			fe[name] = bot.Errorf("poll.err.rank_twice", "Option", bot.Escape(p.Options[o-1].Label), "Place", first).(*bot.UserError)
			continue
		}
		placeOf[o-1] = place
		order = append(order, o-1)
	}
	if len(fe) > 0 {
		return nil, fe
	}
	return order, nil
}

// readPoints reads a dot-vote form: the options given points and their
// points. The points must add up to exactly p.Points, or to none, which
// takes the ballot back; a wrong total is refused with what is left.
func readPoints(p *Poll, form bot.Values) (options, points []int, _ bot.FieldErrors) {
	total := 0
	fe := bot.FieldErrors{}
	for i := range p.Options {
		name := strconv.Itoa(i + 1)
		v := strings.TrimSpace(form.Get(name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > p.Points {
			fe[name] = bot.Errorf("poll.err.points_value", "Value", bot.Escape(v), "Max", p.Points).(*bot.UserError)
			continue
		}
		total += n
		if n > 0 {
			options, points = append(options, i), append(points, n)
		}
	}
	if len(fe) == 0 && total != 0 && total != p.Points {
		id := "poll.err.points_left"
		if total > p.Points {
			id = "poll.err.points_over"
		}
		fe["1"] = bot.Errorf(id, "Total", total, "Points", p.Points, "Left", p.Points-total, "Over", total-p.Points).(*bot.UserError)
	}
	if len(fe) > 0 {
		return nil, nil, fe
	}
	return options, points, nil
}

// cast stores a ballot handed in through a form and tells the voter what
// it now is.
func (f *Feature) cast(ctx context.Context, act *bot.Action, p *Poll, options, points []int) (*bot.Message, error) {
	c, err := f.c.Store.SetBallot(ctx, Cast{
		Poll: p.ID, Channel: act.Where, Voter: act.User.ID, AnonKey: f.voterKey(&Poll{ID: p.ID, Where: p.Where, Anonymous: true}, act.User.ID),
		Name: act.User.Label(), Options: options, Points: points,
	})
	switch {
	case errors.Is(err, ErrClosed):
		return nil, bot.Errorf("poll.err.closed")
	case errors.Is(err, ErrNotFound):
		return nil, bot.Errorf("poll.err.not_found", "ID", bot.Escape(p.ID))
	case errors.Is(err, ErrNoSuchOption), errors.Is(err, ErrWrongKind):
		return nil, bot.Errorf("kring.unknown_action")
	case err != nil:
		return nil, err
	}
	f.changed(ctx, p.ID)
	return f.view(act.Locale).ownVote(p, c.Ballot), nil
}

// ownBallot tells a voter their ranking or their points.
func (v view) ownBallot(p *Poll, b Ballot) *bot.Message {
	q := bot.Escape(p.Question)
	if len(b.Options) == 0 {
		return bot.TextMessage(v.tr.S("poll.mine.none_"+p.Kind, "Question", q))
	}
	var parts []string
	for i, o := range b.Options {
		if o < 0 || o >= len(p.Options) {
			continue
		}
		label := "*" + bot.Escape(p.Options[o].Label) + "*"
		if p.Kind == KindRank {
			parts = append(parts, fmt.Sprintf("%d. %s", i+1, label))
		} else {
			parts = append(parts, label+" "+strconv.Itoa(b.weight(i)))
		}
	}
	return bot.TextMessage(v.tr.S("poll.mine."+p.Kind, "Question", q, "Options", strings.Join(parts, ", ")))
}

// ballotsCSV writes every ballot of a ranked poll (its order: a column per
// place) or a dot vote (its points: a column per option), a row each, with
// the voter's name unless the poll is anonymous.
func ballotsCSV(tr bot.Tr, p *Poll, ballots []Ballot) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if tr.S("poll.csv.separator") == ";" {
		buf.WriteString("\uFEFF")
		w.Comma = ';'
	}
	var head []string
	if !p.Anonymous {
		head = append(head, tr.S("poll.csv.voter"))
	}
	for i, o := range p.Options {
		if p.Kind == KindRank {
			head = append(head, tr.N("poll.form.rank_place", i+1))
		} else {
			head = append(head, csvSafe(o.Label))
		}
	}
	_ = w.Write(head) // writes to a bytes.Buffer do not fail
	var rows [][]string
	for _, b := range ballots {
		if len(b.Options) == 0 {
			continue
		}
		cells := make([]string, len(p.Options))
		for i, o := range b.Options {
			if o < 0 || o >= len(p.Options) {
				continue
			}
			if p.Kind == KindRank {
				if i < len(cells) {
					cells[i] = csvSafe(p.Options[o].Label)
				}
			} else {
				cells[o] = strconv.Itoa(b.weight(i))
			}
		}
		if p.Kind == KindPoints {
			for i := range cells {
				if cells[i] == "" {
					cells[i] = "0"
				}
			}
		}
		if !p.Anonymous {
			name := b.Name
			if name == "" {
				name = b.Voter
			}
			cells = append([]string{csvSafe(name)}, cells...)
		}
		rows = append(rows, cells)
	}
	// The store keeps ballots in no order: by name, or in an anonymous
	// poll by what they say, so nothing in the file tells who came when.
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
	for _, r := range rows {
		_ = w.Write(r)
	}
	w.Flush()
	return buf.Bytes()
}

// ballotMessage renders a ranked poll or a dot vote as it appears in the
// channel: by Borda count the options in their current order with their
// points, by instant runoff the winner and each option's votes in the last
// round, in a dot vote the points of each option.
func (v view) ballotMessage(p *Poll, t Tally, head string) bot.Message {
	tr := v.tr
	blocks := []bot.Block{bot.Header{Text: head}}
	var lines []string
	switch {
	case !p.ResultsVisible():
		for i, o := range p.Options {
			lines = append(lines, fmt.Sprintf("*%d. %s*", i+1, bot.Escape(o.Label)))
		}
	case p.Method == MethodIRV:
		lines = v.runoffLines(p, t)
	case p.Kind == KindRank:
		total := sum(t.Counts)
		order, place := Places(t.Counts)
		if total == 0 { // nobody ranked yet: the options as given, not all tied first
			for k := range order {
				order[k], place[k] = k, k+1
			}
		}
		for k, o := range order {
			tied := k > 0 && place[k] == place[k-1] || k+1 < len(order) && place[k+1] == place[k]
			line := fmt.Sprintf("*%d. %s*", place[k], bot.Escape(p.Options[o].Label))
			if tied && total > 0 {
				line += " " + tr.S("poll.tied")
			}
			if p.Closed && place[k] == 1 && t.Counts[o] > 0 {
				line = "🏆 " + line
			}
			pct := share(t.Counts[o], total)
			line += "\n" + tr.N("poll.points_result", t.Counts[o], "Bar", bar(pct), "Percent", pct)
			lines = append(lines, line)
		}
	default: // KindPoints
		total := sum(t.Counts)
		best := slices.Max(t.Counts)
		for i, o := range p.Options {
			line := fmt.Sprintf("*%d. %s*", i+1, bot.Escape(o.Label))
			if p.Closed && best > 0 && t.Counts[i] == best {
				line = "🏆 " + line
			}
			pct := share(t.Counts[i], total)
			line += "\n" + tr.N("poll.points_result", t.Counts[i], "Bar", bar(pct), "Percent", pct)
			lines = append(lines, line)
		}
	}
	blocks = append(blocks, bot.Section{Text: strings.Join(lines, "\n\n")})
	if !p.ResultsVisible() {
		blocks = append(blocks, bot.Section{Text: tr.S("poll.hidden_until_closed")})
	}
	blocks = append(blocks, bot.Context{Text: strings.Join(v.facts(p, t), " · ")})
	var row []bot.Button
	if !p.Closed {
		if p.Kind == KindRank {
			row = append(row, bot.Button{ID: "poll.rank", Label: tr.S("poll.button.rank"), Value: p.ID, Style: bot.Primary})
		} else {
			row = append(row, bot.Button{ID: "poll.points", Label: tr.N("poll.button.points", p.Points), Value: p.ID, Style: bot.Primary})
		}
	}
	blocks = append(blocks, v.controls(p, row))
	return bot.Message{Text: bot.PlainText(head) + " — " + votersText(tr, t.Voters, p.Closed), Blocks: blocks}
}

// runoffLines are an instant-runoff count: the winner (or the tie) and
// each option's votes in the last round, or the round it dropped out in.
func (v view) runoffLines(p *Poll, t Tally) []string {
	tr := v.tr
	r := t.Runoff
	if r == nil || len(r.Rounds) == 0 {
		var lines []string
		for i, o := range p.Options {
			lines = append(lines, fmt.Sprintf("*%d. %s*", i+1, bot.Escape(o.Label)))
		}
		return lines
	}
	var names []string
	for _, o := range r.Winners {
		names = append(names, "*"+bot.Escape(p.Options[o].Label)+"*")
	}
	rounds := len(r.Rounds)
	key := "poll.irv.leads"
	switch {
	case len(r.Winners) > 1 && p.Closed:
		key = "poll.irv.tie_closed"
	case len(r.Winners) > 1:
		key = "poll.irv.tie"
	case p.Closed:
		key = "poll.irv.winner"
	}
	lines := []string{tr.N(key, rounds, "Names", joinAnd(tr, names))}
	last := r.Rounds[rounds-1]
	total := 0
	for _, n := range last {
		total += max(n, 0)
	}
	for i, o := range p.Options {
		line := fmt.Sprintf("*%d. %s*", i+1, bot.Escape(o.Label))
		if last[i] < 0 {
			out := 1
			for out < rounds && r.Rounds[out][i] >= 0 {
				out++
			}
			line += "\n" + tr.S("poll.irv.out", "Round", out)
		} else {
			pct := share(last[i], total)
			line += "\n" + tr.N("poll.option_result", last[i], "Bar", bar(pct), "Percent", pct)
		}
		lines = append(lines, line)
	}
	return lines
}

// joinAnd lists names as a sentence does: "A, B en C".
func joinAnd(tr bot.Tr, names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + tr.S("poll.span.and") + names[len(names)-1]
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// share is part's share of total in percent, rounded.
func share(part, total int) int {
	if total <= 0 {
		return 0
	}
	return (part*100 + total/2) / total
}
