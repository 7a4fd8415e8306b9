package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage/bolt"
	"github.com/slack-go/slack"
)

// golden compares v, as indented JSON, with testdata/name.golden.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	bottest.Golden(t, filepath.Join("testdata", name+".golden.json"), buf.Bytes())
}

type renderedJSON struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

func sampleMessages() map[string]bot.Message {
	user := bot.Escape(`<script>&"*gratis* [taart](javascript:x) _ook_ @channel <!here> ~weg~ ` + "`code`")
	long := strings.Repeat("Een regel over de kennistafel van de regio, met *nadruk* en een [link](https://example.org/a?b=1&c=2).\n", 80)
	var many []bot.Button
	for i := range 30 {
		many = append(many, bot.Button{ID: "poll.vote", Label: fmt.Sprintf("Optie %d met een naam die veel langer is dan vijfenzeventig tekens, zodat Slack hem zou weigeren", i+1), Value: fmt.Sprintf("abc:%d", i)})
	}
	var blocks []bot.Block
	for i := range 70 {
		blocks = append(blocks, bot.Section{Text: fmt.Sprintf("Alinea %d", i+1)}, bot.Divider{})
	}
	blocks = append(blocks, bot.Buttons{Buttons: many[:3]})
	return map[string]bot.Message{
		"every_block": {
			Text: "Alle blokken & <meer>",
			Blocks: []bot.Block{
				bot.Header{Text: "📊 *Kop* met " + user},
				bot.Section{Text: "*vet* _schuin_ `code` [kring](https://kring.example.org/p?a=1&b=<2>) *_beide_*\n- eerste\n- tweede\nGebruiker: " + user},
				bot.Section{Text: "Velden", Fields: []bot.Field{{Label: "Wanneer", Value: "do 16 jan 10:00"}, {Label: "Waar", Value: user}}},
				bot.Context{Text: "door Anna · ID `ab12cd` · " + user},
				bot.Divider{},
				bot.Buttons{Buttons: []bot.Button{
					{ID: "poll.vote", Label: "Pizza", Value: "ab12cd:0", Style: bot.Primary},
					{ID: "poll.add", Label: "Optie toevoegen", Value: "ab12cd"},
					{ID: "poll.close", Label: "Sluiten", Value: "ab12cd", Style: bot.Danger, Confirm: &bot.Confirm{Title: "Peiling sluiten?", Text: "Niemand kan daarna nog *stemmen*.", Yes: "Sluiten", No: "Annuleren"}},
				}},
			},
		},
		"long_text":       {Text: "Lang", Blocks: []bot.Block{bot.Section{Text: long}, bot.Section{Text: strings.Repeat("x", 4000)}}},
		"many_buttons":    {Text: "Veel knoppen", Blocks: []bot.Block{bot.Buttons{Buttons: many}}},
		"too_many_blocks": {Text: "Te veel blokken", Blocks: blocks},
		"many_fields": {Text: "Velden", Blocks: []bot.Block{bot.Section{Fields: func() (fs []bot.Field) {
			for i := range 13 {
				fs = append(fs, bot.Field{Label: fmt.Sprintf("Veld %d", i), Value: "waarde"})
			}
			return fs
		}()}}},
		"no_text": {Blocks: []bot.Block{bot.Section{Text: "Alleen een *alinea*"}}},
	}
}

func TestRenderGolden(t *testing.T) {
	for name, m := range sampleMessages() {
		t.Run(name, func(t *testing.T) {
			r := render(m)
			checkLimits(t, r)
			golden(t, "message_"+name, renderedJSON(r))
		})
	}
}

// TestRenderPolls renders the messages the real poll feature posts.
func TestRenderPolls(t *testing.T) {
	long := strings.Repeat("heel lang ", 14)
	cases := map[string][]string{
		"poll_open":       {`/poll "Wanneer houden we de kick-off?" "di 14 jan" "do 16 jan"`, "vote:U2:0", "vote:U3:1", "vote:U4:0"},
		"poll_anonymous":  {`/poll --anoniem --verborgen --stemmen=2 --toevoegen "Welke <thema's> & @channel?" Zorgpad Kraamzorg`, "vote:U2:0", "vote:U2:1"},
		"poll_closed":     {`/poll "Lunch?" Pizza Soep`, "vote:U2:1", "close:U1"},
		"poll_20_options": append([]string{`/poll "Twintig opties met lange namen?" ` + strings.Repeat(`"Optie `+long+`" `, 0) + twenty(long)}, "vote:U2:19"),
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			m, id := runPoll(t, steps)
			r := render(m)
			checkLimits(t, r)
			js, err := json.Marshal(renderedJSON(r))
			if err != nil {
				t.Fatal(err)
			}
			// Poll ids are random; the golden file says POLLID.
			golden(t, name, json.RawMessage(strings.ReplaceAll(string(js), id, "POLLID")))
		})
	}
}

func twenty(long string) string {
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, `"%d %s" `, i+1, long)
	}
	return b.String()
}

// runPoll runs a poll command and clicks on it with the real feature and
// returns the poll message's last state.
func runPoll(t *testing.T, steps []string) (bot.Message, string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := bottest.NewClock(time.Date(2025, 1, 9, 10, 0, 0, 0, time.UTC))
	p := bottest.NewPoster()
	mux := &bot.Mux{}
	poll.New(poll.Config{Store: db.Polls(), Poster: p, Clock: clock, Secret: "s"}).Register(mux, nil)
	ctx := context.Background()
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	cmd, text, _ := strings.Cut(steps[0], " ")
	r := mux.ServeCommand(ctx, &bot.Request{Where: where, User: bot.User{ID: "U1", Name: "Anna"}, Command: cmd, Text: text})
	calls := p.Calls()
	if len(calls) == 0 || calls[0].Method != "Post" {
		t.Fatalf("no poll posted: %+v", r.Message)
	}
	ref := calls[0].Ref
	for _, s := range steps[1:] {
		parts := strings.Split(s, ":")
		msg, _ := p.Message(ref)
		var b bot.Button
		for _, btn := range msg.Buttons() {
			if btn.ID == "poll."+parts[0] && (parts[0] != "vote" || strings.HasSuffix(btn.Value, ":"+parts[2])) {
				b = btn
			}
		}
		mux.ServeAction(ctx, &bot.Action{Where: where, User: bot.User{ID: parts[1], Name: "Naam " + parts[1]}, ID: b.ID, Value: b.Value, Ref: ref})
	}
	m, _ := p.Message(ref)
	ps, err := db.Polls().List(ctx, where)
	if err != nil || len(ps) != 1 {
		t.Fatalf("polls: %v %v", ps, err)
	}
	return m, ps[0].ID
}

// checkLimits fails t where r breaks one of Slack's limits.
func checkLimits(t *testing.T, r rendered) {
	t.Helper()
	if len(r.Blocks) > maxBlocks {
		t.Errorf("%d blocks, Slack takes %d", len(r.Blocks), maxBlocks)
	}
	if n := utf8.RuneCountInString(r.Text); n > maxFallbackText || n == 0 {
		t.Errorf("text of %d characters", n)
	}
	ids := map[string]bool{}
	for _, b := range r.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > maxHeader || n == 0 {
				t.Errorf("header of %d characters", n)
			}
		case *slack.SectionBlock:
			if b.Text != nil && utf8.RuneCountInString(b.Text.Text) > maxText {
				t.Errorf("section text of %d characters", utf8.RuneCountInString(b.Text.Text))
			}
			if len(b.Fields) > maxFields {
				t.Errorf("%d fields", len(b.Fields))
			}
			if b.Text == nil && len(b.Fields) == 0 {
				t.Error("empty section")
			}
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if tx, ok := el.(*slack.TextBlockObject); ok && utf8.RuneCountInString(tx.Text) > maxText {
					t.Errorf("context of %d characters", utf8.RuneCountInString(tx.Text))
				}
			}
		case *slack.ActionBlock:
			if len(b.Elements.ElementSet) > maxButtonsPerBlock {
				t.Errorf("%d buttons in one block", len(b.Elements.ElementSet))
			}
			for _, el := range b.Elements.ElementSet {
				btn := el.(*slack.ButtonBlockElement)
				if n := utf8.RuneCountInString(btn.Text.Text); n > maxButtonText || n == 0 {
					t.Errorf("button text of %d characters", n)
				}
				if len(btn.Value) > maxButtonValue || len(btn.ActionID) > maxActionID {
					t.Errorf("button value %d / action_id %d bytes", len(btn.Value), len(btn.ActionID))
				}
				if ids[btn.ActionID] {
					t.Errorf("action_id %q twice in one message", btn.ActionID)
				}
				ids[btn.ActionID] = true
			}
		}
	}
}

func TestFormGolden(t *testing.T) {
	f := bot.Form{
		ID: "praktijk.submit", Title: "Praktijkvoorbeeld delen met de regio", Submit: "Delen", State: "draft-ab12",
		Inputs: []bot.Input{
			{Name: "title", Label: "Titel", Kind: bot.Text, Placeholder: "Waar gaat het over?", MaxLength: 120, Value: "Kraamzorg & <wijk>"},
			{Name: "body", Label: "Beschrijving", Kind: bot.LongText, Hint: "Wat werkte, wat niet?"},
			{Name: "region", Label: "Regio", Kind: bot.Select, Value: "zh", Options: []bot.Option{{Value: "nh", Label: "Noord-Holland"}, {Value: "zh", Label: "Zuid-Holland"}}},
			{Name: "themes", Label: "Thema's", Kind: bot.MultiSelect, Value: "a,c", Options: []bot.Option{{Value: "a", Label: "Zorgpad"}, {Value: "b", Label: "Kraamzorg"}, {Value: "c", Label: "Preconceptie"}}},
			{Name: "contact", Label: "Contactpersoon", Kind: bot.UserPicker, Optional: true, Value: "U2"},
			{Name: "date", Label: "Datum", Kind: bot.Date, Value: "2025-01-16", Optional: true},
		},
	}
	where := bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	for _, locale := range []string{"nl", "en"} {
		v, err := renderModal(f, where, locale)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(v.Title.Text); n > maxModalTitle {
			t.Errorf("title of %d characters", n)
		}
		golden(t, "form_every_input_"+locale, v)
	}
	f.State = strings.Repeat("x", 4000)
	if _, err := renderModal(f, where, "nl"); err == nil {
		t.Error("a state too large for private_metadata was accepted")
	}
}

func TestFormValues(t *testing.T) {
	var state slack.ViewState
	js := `{"values":{
		"title":{"value":{"type":"plain_text_input","value":"Kraamzorg"}},
		"empty":{"value":{"type":"plain_text_input","value":null}},
		"region":{"value":{"type":"static_select","selected_option":{"value":"zh","text":{"type":"plain_text","text":"Zuid-Holland"}}}},
		"themes":{"value":{"type":"multi_static_select","selected_options":[{"value":"a"},{"value":"c"}]}},
		"nothemes":{"value":{"type":"multi_static_select","selected_options":[]}},
		"contact":{"value":{"type":"users_select","selected_user":"U2"}},
		"date":{"value":{"type":"datepicker","selected_date":"2025-01-16"}}}}`
	if err := json.Unmarshal([]byte(js), &state); err != nil {
		t.Fatal(err)
	}
	got := formValues(&state)
	want := bot.Values{"title": {"Kraamzorg"}, "region": {"zh"}, "themes": {"a", "c"}, "contact": {"U2"}, "date": {"2025-01-16"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("formValues = %v, want %v", got, want)
	}
}

func TestMrkdwn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*vet*", "*vet*"},
		{"_schuin_", "_schuin_"},
		{"* vet *", " *vet* "},
		{"*a\nb*", "*a*\n*b*"},
		{"a & b <c>", "a &amp; b &lt;c&gt;"},
		{bot.Escape("*niet vet*"), "\u200b*\u200bniet vet\u200b*\u200b"},
		{"[kring](https://k.org/?a=1&b=2)", "<https://k.org/?a=1&amp;b=2|kring>"},
		{"[klik](javascript:alert(1))", "klik (javascript:alert(1))"},
		{"[x|y](https://k.org/a|b)", "<https://k.org/a%7Cb|x¦y>"},
		{"- een\n- twee", "• een\n• twee"},
		{"@channel en @here", "@\u2060channel en @\u2060here"},
		{"`a<b`", "`a&lt;b`"},
	}
	for _, tt := range tests {
		if got := mrkdwn(tt.in); got != tt.want {
			t.Errorf("mrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := actionID("poll.vote#12"); got != "poll.vote" {
		t.Errorf("actionID = %q", got)
	}
	if got := actionID("a#b"); got != "a#b" {
		t.Errorf("actionID(a#b) = %q", got)
	}
}

// FuzzMrkdwn: escaped user text never turns into a Slack link, mention or
// special command, whatever it holds.
func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{"<!channel>", "<@U123>", "@here", "[a](https://x)", "&lt;", "*_~`", "<https://evil|ok>",
		"!here0", "@channel_x", "@ALL!", "!everyone\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := mrkdwn(bot.Escape(s))
		if strings.ContainsAny(out, "<>") {
			t.Errorf("mrkdwn(Escape(%q)) = %q holds < or >", s, out)
		}
		if m := massMention(out); m != "" {
			t.Errorf("mrkdwn(Escape(%q)) = %q holds %s", s, out, m)
		}
	})
}

// massMention returns the first mass mention in s that would notify a
// channel: @ or ! and channel, here, all or everyone (any case) as a whole
// word, ended by the text's end or a rune that is no ASCII letter, digit
// or underscore. "@here0" or "@allison" notify nobody, and bot.Escape
// rightly leaves them alone.
func massMention(s string) string {
	lower := strings.ToLower(s)
	for i := 0; i < len(lower); i++ {
		if lower[i] != '@' && lower[i] != '!' {
			continue
		}
		for _, word := range []string{"channel", "here", "all", "everyone"} {
			rest, ok := strings.CutPrefix(lower[i+1:], word)
			if !ok {
				continue
			}
			if rest == "" || !isWordByte(rest[0]) {
				return s[i : i+1+len(word)]
			}
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
