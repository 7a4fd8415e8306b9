package meeting

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
)

// view renders meetings in one language, for readers in one zone.
type view struct {
	tr  bot.Tr
	loc *time.Location // the reader's zone
	ws  *time.Location // the workspace's zone
	now time.Time
}

// Limits of what a post shows.
const (
	namesShown  = 15
	datesShown  = 3                   // the next occurrence and the two after it
	cancelAhead = 92 * 24 * time.Hour // cancelled dates shown that far ahead
)

// day writes a day in full: "donderdag 15 januari", the year added when
// it is not this year.
func (v view) day(t time.Time) string {
	t = t.In(v.loc)
	s := v.tr.S("meeting.date", "Weekday", v.tr.S(fmt.Sprintf("meeting.weekday.%d", t.Weekday())),
		"Day", t.Day(), "Month", v.tr.S(fmt.Sprintf("meeting.month.%d", t.Month())))
	if t.Year() != v.now.In(v.loc).Year() {
		s += " " + strconv.Itoa(t.Year())
	}
	return s
}

// span writes when an occurrence is: "donderdag 15 januari 10:00–11:30",
// or with both days when it ends on another day.
func (v view) span(start, end time.Time) string {
	start, end = start.In(v.loc), end.In(v.loc)
	if sameDay(start, end, v.loc) || end.Equal(start) {
		return v.day(start) + " " + start.Format("15:04") + "–" + end.Format("15:04")
	}
	return v.day(start) + " " + start.Format("15:04") + " – " + v.day(end) + " " + end.Format("15:04")
}

// occurrence writes when o is, in the reader's zone.
func (v view) occurrence(m *Meeting, o Occurrence) string {
	return v.span(o.Start, o.End)
}

// short writes a moment briefly: "do 19 feb 10:00".
func (v view) short(t time.Time) string { return v.tr.FormatTime(t, v.now, v.loc) }

// message renders the meeting's post. Everyone reads the same post, so
// its times are in the meeting's zone, named when it is not the
// workspace's.
func (v view) message(m *Meeting, rsvps []RSVP) bot.Message {
	v.loc = m.Location(v.ws)
	tr := v.tr
	title := bot.Escape(m.Title)
	coming := m.Coming(v.now, datesShown)
	head := tr.S("meeting.header", "Title", title)
	switch {
	case m.Ended:
		head = tr.S("meeting.header_cancelled", "Title", title)
	case len(coming) == 0:
		head = tr.S("meeting.header_over", "Title", title)
	}
	blocks := []bot.Block{bot.Header{Text: head}}
	blocks = append(blocks, bot.Section{Text: strings.Join(v.facts(m, coming), "\n")})
	if len(m.Agenda) > 0 {
		blocks = append(blocks, bot.Section{Text: v.agenda(m)})
	}
	blocks = append(blocks, bot.Section{Text: v.answers(rsvps)})
	blocks = append(blocks, bot.Context{Text: strings.Join(v.smallPrint(m), " · ")})
	if !m.Ended && len(coming) > 0 {
		blocks = append(blocks, v.buttons(m.ID, rsvps, ""))
	}
	text := bot.PlainText(head)
	if len(coming) > 0 && !m.Ended {
		text += " — " + v.occurrence(m, coming[0])
	}
	return bot.Message{Text: text, Blocks: blocks}
}

// facts are the lines under the title: when, how often, where.
func (v view) facts(m *Meeting, coming []Occurrence) []string {
	tr := v.tr
	var lines []string
	switch {
	case m.Ended:
		lines = append(lines, tr.S("meeting.cancelled_line"))
	case len(coming) == 0:
		lines = append(lines, tr.S("meeting.over_line"))
	default:
		first := coming[0]
		line := tr.S("meeting.when_line", "When", v.occurrence(m, first))
		if first.Moved {
			line += " " + tr.S("meeting.moved_from", "From", v.short(first.Original))
		}
		if !first.Start.After(v.now) {
			line += " " + tr.S("meeting.under_way")
		}
		lines = append(lines, line)
	}
	if rule := describeRule(v.tr, m, v.loc); rule != "" && !m.Ended {
		line := tr.S("meeting.rule_line", "Rule", rule)
		if len(coming) > 1 {
			var next []string
			for _, o := range coming[1:] {
				s := v.short(o.Start)
				if o.Moved {
					s += " " + tr.S("meeting.moved_mark")
				}
				next = append(next, s)
			}
			line += " · " + tr.S("meeting.then", "Dates", strings.Join(next, ", "))
		}
		lines = append(lines, line)
	}
	if !m.Ended {
		var off []string
		for _, c := range m.Cancelled {
			if c.After(v.now) && c.Before(v.now.Add(cancelAhead)) {
				off = append(off, v.short(c))
			}
		}
		if len(off) > 0 {
			slices.Sort(off)
			lines = append(lines, tr.S("meeting.cancelled_dates", "Dates", strings.Join(off, ", ")))
		}
	}
	if m.Place != "" {
		lines = append(lines, tr.S("meeting.place_line", "Place", bot.Escape(m.Place)))
	}
	if m.Link != "" {
		lines = append(lines, tr.S("meeting.link_line", "Link", link(m.Link)))
	}
	if m.Zone != "" && m.Zone != v.ws.String() {
		lines = append(lines, tr.S("meeting.zone_line", "Zone", bot.Escape(m.Zone)))
	}
	return lines
}

// link writes a web address as a link that shows the address itself.
func link(u string) string { return "[" + bot.Escape(u) + "](" + u + ")" }

// agenda lists the meeting's agenda points by their ids.
func (v view) agenda(m *Meeting) string {
	lines := []string{v.tr.S("meeting.agenda_title")}
	for _, p := range m.Agenda {
		lines = append(lines, v.tr.S("meeting.agenda_item", "N", p.ID, "Text", bot.Escape(p.Text), "Name", bot.Escape(pointBy(p))))
	}
	return strings.Join(lines, "\n")
}

func pointBy(p Point) string {
	if p.ByName != "" {
		return p.ByName
	}
	return p.By
}

// answers shows per answer how many gave it and who.
func (v view) answers(rsvps []RSVP) string {
	var lines []string
	for _, a := range []Answer{Yes, Maybe, No} {
		names := namesOf(rsvps, a)
		line := v.tr.N("meeting.answers."+string(a), len(names))
		if len(names) > 0 {
			shown := names[:min(len(names), namesShown)]
			esc := make([]string, len(shown))
			for i, n := range shown {
				esc[i] = bot.Escape(n)
			}
			line += ": " + strings.Join(esc, ", ")
			if rest := len(names) - len(shown); rest > 0 {
				line += " " + v.tr.N("meeting.names_more", rest)
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// namesOf lists, alphabetically, who gave answer a.
func namesOf(rsvps []RSVP, a Answer) []string {
	var names []string
	for _, r := range rsvps {
		if r.Answer == a {
			n := r.Name
			if n == "" {
				n = r.User
			}
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) })
	return names
}

// smallPrint is the line of small print under a post.
func (v view) smallPrint(m *Meeting) []string {
	tr := v.tr
	out := []string{tr.S("meeting.fact.by", "Name", bot.Escape(m.Organiser.Label()))}
	if len(m.Remind) > 0 && !m.Ended {
		who := tr.S("meeting.fact.remind_yes")
		if m.Everyone {
			who = tr.S("meeting.fact.remind_everyone")
		}
		out = append(out, tr.S("meeting.fact.remind", "Before", v.spans(m.Remind), "Who", who))
	}
	out = append(out, tr.S("meeting.fact.id", "ID", m.ID))
	if !m.Ended {
		out = append(out, tr.S("meeting.fact.add_point", "ID", m.ID))
	}
	return out
}

// buttons are the RSVP buttons with their counts; invited names the
// user a reminder DM goes to ("" on the post).
func (v view) buttons(id string, rsvps []RSVP, invited string) bot.Buttons {
	var row []bot.Button
	for _, a := range []Answer{Yes, Maybe, No} {
		label := v.tr.S("meeting.button." + string(a))
		if invited == "" {
			label += fmt.Sprintf(" (%d)", len(namesOf(rsvps, a)))
		}
		b := bot.Button{ID: actionRSVP, Label: label, Value: rsvpValue(id, a, invited)}
		if a == Yes {
			b.Style = bot.Primary
		}
		row = append(row, b)
	}
	return bot.Buttons{Buttons: row}
}

// spans writes durations as people say them: "1 dag en 1 uur".
func (v view) spans(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = spanText(v.tr, d)
	}
	return joinAnd(v.tr, parts)
}

// spanText writes one duration: "1 dag", "2 uur", "1 uur en 30 minuten".
func spanText(tr bot.Tr, d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, tr.N("meeting.span.days", days))
	}
	if hours > 0 {
		parts = append(parts, tr.N("meeting.span.hours", hours))
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, tr.N("meeting.span.minutes", mins))
	}
	return joinAnd(tr, parts)
}

// joinAnd joins "a", "b" and "c" as "a, b en c".
func joinAnd(tr bot.Tr, parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + tr.S("meeting.and") + " " + parts[len(parts)-1]
}

// listItem is one meeting in /meeting lijst.
func (v view) listItem(m *Meeting, next Occurrence) string {
	s := v.tr.S("meeting.list.item", "Title", bot.Escape(m.Title), "When", v.occurrence(m, next), "ID", m.ID)
	if rule := describeRule(v.tr, m, v.loc); rule != "" {
		s += " · " + rule
	}
	return s
}

// whereAt are the lines that say where a meeting is: place and link.
func (v view) whereAt(m *Meeting) []string {
	var lines []string
	if m.Place != "" {
		lines = append(lines, v.tr.S("meeting.place_line", "Place", bot.Escape(m.Place)))
	}
	if m.Link != "" {
		lines = append(lines, v.tr.S("meeting.link_line", "Link", link(m.Link)))
	}
	return lines
}

// zoneNote names the reader's zone when it is not the meeting's, so that
// someone abroad knows the times are theirs.
func (v view) zoneNote(m *Meeting) string {
	if m.Zone == "" || m.Zone == v.loc.String() {
		return ""
	}
	return " " + v.tr.S("meeting.your_zone", "Zone", bot.Escape(v.loc.String()))
}

// reminder is the DM before an occurrence, to user: when in their zone,
// where, the agenda and the buttons.
func (v view) reminder(m *Meeting, o Occurrence, rsvps []RSVP, user string, late bool) bot.Message {
	tr := v.tr
	title := bot.Escape(m.Title)
	head := tr.S("meeting.reminder.header", "Title", title)
	lines := []string{tr.S("meeting.when_line", "When", v.occurrence(m, o)) + v.zoneNote(m)}
	if o.Moved {
		lines[0] += " " + tr.S("meeting.moved_from", "From", v.short(o.Original))
	}
	lines[0] += " " + tr.S("meeting.reminder.in", "In", spanText(tr, o.Start.Sub(v.now)))
	lines = append(lines, v.whereAt(m)...)
	blocks := []bot.Block{bot.Header{Text: head}, bot.Section{Text: strings.Join(lines, "\n")}}
	if late {
		blocks = append(blocks, bot.Context{Text: tr.S("meeting.reminder.late")})
	}
	if len(m.Agenda) > 0 {
		blocks = append(blocks, bot.Section{Text: v.agenda(m)})
	}
	answer := tr.S("meeting.reminder.no_answer")
	for _, r := range rsvps {
		if r.User == user {
			answer = tr.S("meeting.reminder.answer", "Answer", tr.S("meeting.answer."+string(r.Answer)))
		}
	}
	blocks = append(blocks, bot.Context{Text: answer}, v.buttons(m.ID, nil, user))
	return bot.Message{Text: bot.PlainText(head) + " — " + v.occurrence(m, o), Blocks: blocks}
}

// channelReminder is the reminder posted in the channel (--kanaal).
func (v view) channelReminder(m *Meeting, o Occurrence, late bool) bot.Message {
	v.loc = m.Location(v.ws)
	tr := v.tr
	head := tr.S("meeting.reminder.header", "Title", bot.Escape(m.Title))
	lines := []string{tr.S("meeting.when_line", "When", v.occurrence(m, o)) + " " + tr.S("meeting.reminder.in", "In", spanText(tr, o.Start.Sub(v.now)))}
	lines = append(lines, v.whereAt(m)...)
	if m.Zone != "" && m.Zone != v.ws.String() {
		lines = append(lines, tr.S("meeting.zone_line", "Zone", bot.Escape(m.Zone)))
	}
	blocks := []bot.Block{bot.Header{Text: head}, bot.Section{Text: strings.Join(lines, "\n")}}
	if late {
		blocks = append(blocks, bot.Context{Text: tr.S("meeting.reminder.late")})
	}
	if len(m.Agenda) > 0 {
		blocks = append(blocks, bot.Section{Text: v.agenda(m)})
	}
	blocks = append(blocks, bot.Context{Text: tr.S("meeting.reminder.channel_hint", "ID", m.ID)})
	return bot.Message{Text: bot.PlainText(head) + " — " + v.occurrence(m, o), Blocks: blocks}
}

// notice is the DM that tells user of a change to a meeting they said
// yes or maybe to.
func (v view) notice(m *Meeting, n notice, user string) bot.Message {
	tr := v.tr
	title, by := bot.Escape(m.Title), bot.Escape(n.ByName)
	var text string
	switch n.Kind {
	case noticeMoved:
		text = tr.S("meeting.notice.moved", "Title", title, "From", v.short(n.From), "When", v.span(n.To, n.To.Add(m.Duration)), "Name", by)
	case noticeSeriesMoved:
		text = tr.S("meeting.notice.series_moved", "Title", title, "Rule", describeRule(tr, m, v.loc), "When", v.span(n.To, n.To.Add(m.Duration)), "Name", by)
	case noticeCancelled:
		text = tr.S("meeting.notice.cancelled", "Title", title, "When", v.short(n.From), "Name", by)
	default: // noticeEnded
		text = tr.S("meeting.notice.ended", "Title", title, "Name", by)
	}
	text += v.zoneNote(m)
	blocks := []bot.Block{bot.Section{Text: text}}
	if n.Kind != noticeEnded && !m.Ended {
		still := "meeting.notice.still"
		switch {
		case m.RRule == "":
			still = "meeting.notice.still_once"
		case n.Kind == noticeCancelled:
			still = "meeting.notice.still_other"
		}
		blocks = append(blocks, bot.Context{Text: tr.S(still)}, v.buttons(m.ID, nil, user))
	}
	return bot.Message{Text: bot.PlainText(text), Blocks: blocks}
}
