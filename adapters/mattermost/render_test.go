package mattermost

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// golden compares v, as indented JSON, with testdata/name.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	bottest.Golden(t, filepath.Join("testdata", name+".golden"), got)
}

var testRenderer = renderer{
	sign:      signer{key: []byte(testSecret)},
	actionURL: "https://kring.example.org/mattermost/actions",
	dialogURL: "https://kring.example.org/mattermost/dialogs",
}

var testWhere = bot.Where{Platform: bot.Mattermost, Team: "team1", Channel: "chan1"}

func TestRenderGolden(t *testing.T) {
	userText := bot.Escape("*Gratis* [taart](x) voor @channel, @all en @here_ok #1 <b> a|b ~weg~ `code`")
	messages := map[string]bot.Message{
		"text_only": {Text: "Alleen *platte* tekst: @all (zonder opmaak)"},
		"layout": {Text: "Kennistafel", Blocks: []bot.Block{
			bot.Header{Text: "Kennistafel *Kraamzorg*"},
			bot.Section{Text: "Wanneer komen we *samen*?\n- dinsdag\n- _donderdag_ middag\n\nZie [de agenda](https://example.org/agenda (2024)) of `/kring help`."},
			bot.Divider{},
			bot.Context{Text: "Gemaakt door Anna · sluit _do 16 jan_ 17:00"},
		}},
		"fields": {Text: "Besluit", Blocks: []bot.Block{
			bot.Section{Text: "Besluit genomen", Fields: []bot.Field{{Label: "Voorstel", Value: "*Nieuwe* werkwijze"}, {Label: "Evaluatie", Value: "1 juni"}}},
		}},
		"buttons": {Text: "Peiling", Blocks: []bot.Block{
			bot.Section{Text: "Lunch?"},
			bot.Buttons{Buttons: []bot.Button{
				{ID: "poll.vote", Label: "1. Pizza", Value: "ab12:0", Style: bot.Primary},
				{ID: "poll.vote", Label: "2. Soep @channel", Value: "ab12:1"},
			}},
			bot.Buttons{Buttons: []bot.Button{
				{ID: "poll.close", Label: "Sluiten", Value: "ab12", Style: bot.Danger, Confirm: &bot.Confirm{Title: "Peiling sluiten?", Text: "Niemand kan dan nog stemmen.", Yes: "Sluiten", No: "Annuleren"}},
			}},
		}},
		"user_text": {Text: bot.PlainText(userText), Blocks: []bot.Block{bot.Header{Text: userText}, bot.Section{Text: userText}}},
	}
	for name, m := range messages {
		t.Run(name, func(t *testing.T) {
			golden(t, "post_"+name, testRenderer.message(m, testWhere, "post1"))
		})
	}
	t.Run("ephemeral_text", func(t *testing.T) {
		golden(t, "ephemeral_text", testRenderer.text(messages["fields"])+"\n---\n"+testRenderer.text(messages["buttons"]))
	})
	t.Run("command_response", func(t *testing.T) {
		m := messages["buttons"]
		golden(t, "command_response", testRenderer.commandResponse(&m, testWhere))
	})
	t.Run("dialog", func(t *testing.T) {
		golden(t, "dialog", testRenderer.dialog(testWhere, bot.Form{
			ID: "praktijk.share", Title: "Deel een praktijkvoorbeeld uit de regio", Submit: "Delen", State: "draft-7",
			Inputs: []bot.Input{
				{Name: "title", Label: "Titel", Kind: bot.Text, Placeholder: "Kort en duidelijk", MaxLength: 80},
				{Name: "story", Label: "Wat hebben jullie gedaan en wat leverde het op?", Kind: bot.LongText, Hint: "Een paar alinea's", Optional: true},
				{Name: "region", Label: "Regio", Kind: bot.Select, Value: "zuid", Options: []bot.Option{{Value: "noord", Label: "Noord"}, {Value: "zuid", Label: "Zuid"}}},
				{Name: "themes", Label: "Thema's", Kind: bot.MultiSelect, Options: []bot.Option{{Value: "kraam", Label: "Kraamzorg"}, {Value: "jgz", Label: "JGZ"}}},
				{Name: "contact", Label: "Contactpersoon", Kind: bot.UserPicker},
				{Name: "date", Label: "Datum", Kind: bot.Date},
			},
		}))
	})
	t.Run("confirm_dialog", func(t *testing.T) {
		golden(t, "confirm_dialog", testRenderer.confirmDialog(map[string]string{
			keyAction: "poll.close", keyValue: "ab12", keyTeam: "team1", keyChannel: "chan1",
			keyConfirmT: "Peiling sluiten? Echt waar, helemaal?", keyConfirmX: "Niemand kan dan nog *stemmen*.", keyConfirmY: "Sluiten",
		}, "post1"))
	})
	t.Run("file_as_code_block", func(t *testing.T) {
		golden(t, "file_as_code_block", codeBlock("**Peiling ab12**", bot.File{Name: "p.csv", Content: []byte("optie,stemmen\n\"```\",1\n")}))
	})
}

func TestMarkdown(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"*vet* en _schuin_", "**vet** en _schuin_"},
		{"* vet met spatie *", " **vet met spatie** "},
		{"*twee\nregels*", "**twee**\n**regels**"},
		{"[label *x*](https://e.org/a b)", "[label \\*x\\*](https://e.org/a%20b)"},
		{"`a`b``", "`a`b"},
		{"`co`de`", "`co`de\\`"},
		{"\\*niet vet\\*", "\\*niet vet\\*"},
		{"@channel @here @all @anna", "@\u2060channel @\u2060here @\u2060all @anna"},
		{"# geen kop", "\\# geen kop"},
		{"zes # blijft", "zes # blijft"},
		{"- een\n- twee", "- een\n- twee"},
	} {
		if got := markdown(c.in); got != c.want {
			t.Errorf("markdown(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

var massMentionRe = regexp.MustCompile(`(?i)@(channel|here|all)\b`)

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"*a* _b_ [c](d) `e`", "@channel", "@@here", "*@all*", "[x](@here)", "#\n#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, out := range []string{markdown(s), smallMarkdown(s), escapeMarkdown(s), plain(s)} {
			if massMentionRe.MatchString(out) {
				t.Errorf("mass mention survives in %q → %q", s, out)
			}
		}
	})
}

func TestLongMessagesFitInAPost(t *testing.T) {
	long := strings.Repeat("Een lange regel tekst met *opmaak* en [links](https://example.org). ", 600)
	p := testRenderer.message(bot.Message{Text: "lang", Blocks: []bot.Block{bot.Section{Text: long}, bot.Section{Text: long}}}, testWhere, "")
	if n := utf8.RuneCountInString(p.Message); n > maxPostRunes {
		t.Errorf("message has %d runes", n)
	}
	if !strings.HasSuffix(p.Message, "…") {
		t.Error("a cut message does not say so")
	}
	if n := utf8.RuneCountInString(codeBlock("**t**", bot.File{Content: []byte(long + long + long)})); n > maxPostRunes {
		t.Errorf("code block has %d runes", n)
	}
}

func TestActionIDsAreAlphanumericAndUnique(t *testing.T) {
	m := bot.Message{Blocks: []bot.Block{bot.Buttons{Buttons: []bot.Button{{ID: "poll.vote"}, {ID: "poll.vote"}, {ID: "poll.add-option_x"}, {ID: "..."}}}}}
	seen := map[string]bool{}
	for _, a := range testRenderer.message(m, testWhere, "").Attachments[0].Actions {
		if !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(a.Id) || seen[a.Id] {
			t.Errorf("action id %q", a.Id)
		}
		seen[a.Id] = true
	}
}

func TestSignedContextRoundTrip(t *testing.T) {
	s := signer{key: []byte(testSecret)}
	ctx := s.context(map[string]string{keyAction: "poll.vote", keyValue: "ab:1", keyTeam: ""}, "c", "p")
	// Mattermost hands the context back as JSON.
	raw, _ := json.Marshal(ctx)
	var back map[string]any
	_ = json.Unmarshal(raw, &back)
	got, err := s.openContext(back, "c", "p")
	if err != nil || got[keyAction] != "poll.vote" || got[keyValue] != "ab:1" || got[keyChannel] != "c" || got[keyPost] != "p" {
		t.Fatalf("openContext = %v, %v", got, err)
	}
	if _, err := (signer{key: []byte("another-secret-0123456789")}).openContext(back, "c", "p"); err == nil {
		t.Error("a context verifies under another secret")
	}
	for _, w := range [][2]string{{"c2", "p"}, {"c", "p2"}, {"c", ""}, {"", "p"}} {
		if _, err := s.openContext(back, w[0], w[1]); err == nil {
			t.Errorf("a context of post p in c verifies in %q on post %q", w[0], w[1])
		}
	}
	// One made before its post existed verifies on any post of its channel.
	unbound := s.context(map[string]string{keyAction: "poll.vote"}, "c", "")
	if got, err := s.openContext(unbound, "c", "p9"); err != nil || got[keyPost] != "" {
		t.Errorf("unbound context: %v %v", got, err)
	}
	if _, err := s.openContext(unbound, "c2", "p9"); err == nil {
		t.Error("an unbound context verifies in another channel")
	}
}
