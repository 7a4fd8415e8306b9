package mattermost

import (
	"bytes"
	"encoding/json"
	"github.com/kringbot/kring/bot/bottest"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
)

const (
	anna = "anna0000000000000000000000"
	bram = "bram0000000000000000000000"
	cato = "cato0000000000000000000000"
)

func TestCommandPostsAsBotAndClicksUpdateThePost(t *testing.T) {
	h := newHarness(t)
	r := h.command(anna, "/tel")
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil || r.Status != http.StatusOK {
		t.Fatalf("command: %d %s %v", r.Status, r.Body, err)
	}
	// The first command of someone kring does not know yet carries the
	// username Mattermost sent, and no zone: nothing asks on its way.
	if resp.ResponseType != "ephemeral" || resp.Text != "Geplaatst voor anna ()" {
		t.Errorf("command response = %+v", resp)
	}
	posts := h.mm.Posts()
	if len(posts) != 1 || posts[0].UserId != h.mm.Bot.Id || posts[0].ChannelId != testChannel {
		t.Fatalf("posts = %+v", posts)
	}
	id := posts[0].Id
	for _, u := range []string{anna, bram, cato, bram} {
		r := h.click(id, 0, u)
		var ar actionResponse
		if err := r.JSON(&ar); err != nil || r.Status != http.StatusOK || !strings.HasPrefix(ar.EphemeralText, "Jij klikte ") {
			t.Fatalf("click by %s: %d %s", u, r.Status, r.Body)
		}
	}
	h.close()
	p := h.mm.Post(id)
	if !strings.Contains(p.Message, "**4** klikken") {
		t.Errorf("post after 4 clicks:\n%s", p.Message)
	}
	if got := h.feat.names[bram]; got != "bram" {
		t.Errorf("name of bram = %q, want the user_name the click carried", got)
	}
	// Buttons are bound to their post once it exists.
	for _, a := range mattermosttest.Actions(p) {
		if got, err := h.ad.render.sign.openContext(a.Integration.Context, testChannel, id); err != nil || got[keyPost] != id {
			t.Errorf("button %s is not bound to post %s: %v %v", a.Id, id, got, err)
		}
		if _, err := h.ad.render.sign.openContext(a.Integration.Context, testChannel, "post2"); err == nil {
			t.Errorf("button %s verifies on another post", a.Id)
		}
	}
	// A click asks Mattermost nothing about its user; the command's user
	// is looked up once, after the command was answered.
	for _, u := range []string{bram, cato} {
		if n := h.mm.Count("GET", "/api/v4/users/"+u); n != 0 {
			t.Errorf("%s looked up %d times for their clicks", u, n)
		}
	}
	if n := h.mm.Count("GET", "/api/v4/users/"+anna); n != 1 {
		t.Errorf("anna looked up %d times, want once after her command", n)
	}
	// Now kring knows her: her next requests carry her name and zone.
	if u := h.ad.users.User(anna, "anna"); u.Name != "Anna de Vries" || u.TZ != "Europe/Amsterdam" {
		t.Errorf("after her command, anna is %+v", u)
	}
}

func TestDMReachesTheUser(t *testing.T) {
	h := newHarness(t)
	id := h.post()
	if r := h.click(id, 3, bram); r.Status != http.StatusOK {
		t.Fatalf("click: %d %s", r.Status, r.Body)
	}
	var dm *model.Post
	for _, p := range h.mm.Posts() {
		if p.ChannelId == h.mm.DMChannel(bram) {
			dm = p
		}
	}
	if dm == nil || dm.Message != "Hallo **bram**" {
		t.Fatalf("no DM to bram: %+v", h.mm.Posts())
	}
}

func TestWrongCommandTokenIsRefused(t *testing.T) {
	h := newHarness(t)
	for _, tok := range []string{"", "wrong", testToken + "x", strings.ToUpper(testToken)} {
		r, err := h.mm.Command(h.kring.URL+"/mattermost/commands", tok, anna, testChannel, "/tel")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusUnauthorized {
			t.Errorf("token %q: status %d", tok, r.Status)
		}
	}
	if len(h.mm.Calls()) != 0 || len(h.mm.Posts()) != 0 {
		t.Errorf("a refused command reached Mattermost: %v", h.mm.Calls())
	}
}

// postAction sends a raw action request.
func postAction(t *testing.T, h *harness, req any) int {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(h.kring.URL+"/mattermost/actions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTamperedActionContextIsRefused(t *testing.T) {
	h := newHarness(t)
	id := h.post()
	p := h.mm.Post(id) // its buttons are bound to it already
	act := mattermosttest.Actions(p)[0]
	base := func() model.PostActionIntegrationRequest {
		ctx := map[string]any{}
		for k, v := range act.Integration.Context {
			ctx[k] = v
		}
		return model.PostActionIntegrationRequest{
			UserId: bram, ChannelId: testChannel, TeamId: h.mm.TeamID, PostId: id,
			TriggerId: "t1", Type: "button", Context: ctx,
		}
	}
	if s := postAction(t, h, base()); s != http.StatusOK {
		t.Fatalf("untouched context: status %d", s)
	}
	if h.feat.total() != 1 {
		t.Fatalf("untouched click not counted")
	}
	cases := map[string]func(*model.PostActionIntegrationRequest){
		"no signature":        func(r *model.PostActionIntegrationRequest) { delete(r.Context, keySig) },
		"signature changed":   func(r *model.PostActionIntegrationRequest) { r.Context[keySig] = flip(r.Context[keySig].(string)) },
		"signature of other":  func(r *model.PostActionIntegrationRequest) { r.Context[keySig] = "AAAA" },
		"no context":          func(r *model.PostActionIntegrationRequest) { r.Context = nil },
		"claims another user": func(r *model.PostActionIntegrationRequest) { r.Context["user_id"] = anna },
		"number value":        func(r *model.PostActionIntegrationRequest) { r.Context[keyValue] = 7 },
		"other channel":       func(r *model.PostActionIntegrationRequest) { r.ChannelId = "chan2" },
		"other post":          func(r *model.PostActionIntegrationRequest) { r.PostId = "post2" },
	}
	for k := range act.Integration.Context {
		if k == keySig {
			continue
		}
		cases["field "+k+" changed"] = func(r *model.PostActionIntegrationRequest) { r.Context[k] = r.Context[k].(string) + "x" }
		cases["field "+k+" removed"] = func(r *model.PostActionIntegrationRequest) { delete(r.Context, k) }
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			req := base()
			tamper(&req)
			if s := postAction(t, h, req); s != http.StatusForbidden {
				t.Errorf("status %d, want 403", s)
			}
		})
	}
	if h.feat.total() != 1 {
		t.Errorf("a tampered click was counted: total %d", h.feat.total())
	}
	h.close()
	if n := h.mm.Updates(id); n != 2 {
		t.Errorf("post updated %d times, want 2: binding its buttons, one good click", n)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestTamperedDialogStateIsRefused(t *testing.T) {
	h := newHarness(t)
	id := h.post()
	if r := h.click(id, 2, anna); r.Status != http.StatusOK {
		t.Fatalf("open form: %d %s", r.Status, r.Body)
	}
	ds := h.mm.Dialogs()
	if len(ds) != 1 {
		t.Fatalf("dialogs = %d", len(ds))
	}
	state := ds[0].Dialog.State
	body, sig, _ := strings.Cut(state, ".")
	otherCtx := h.ad.render.sign.context(map[string]string{keyAction: "tel.form", keyTeam: h.mm.TeamID}, testChannel, "")
	for name, st := range map[string]string{
		"empty":              "",
		"no signature":       body,
		"signature changed":  body + "." + flip(sig),
		"body changed":       flip(body) + "." + sig,
		"context signature":  body + "." + otherCtx[keySig].(string),
		"unsigned plaintext": `{"k":"form","f":"tel.form","c":"` + testChannel + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			req := model.SubmitDialogRequest{Type: "dialog_submission", CallbackId: "tel.form", State: st,
				UserId: bram, ChannelId: testChannel, Submission: map[string]any{"naam": "Bram"}}
			if s := postJSON(t, h.kring.URL+"/mattermost/dialogs", req); s != http.StatusForbidden {
				t.Errorf("status %d, want 403", s)
			}
		})
	}
	if len(h.feat.forms) != 0 {
		t.Errorf("a tampered submission reached the feature: %+v", h.feat.forms)
	}
	// Mattermost's web app sends the channel the user is looking at, which
	// need not be the dialog's: the signed state says where it belongs.
	t.Run("submitted while looking at another channel", func(t *testing.T) {
		req := model.SubmitDialogRequest{Type: "dialog_submission", CallbackId: "tel.form", State: state,
			UserId: bram, ChannelId: "chan2", TeamId: "team2", Submission: map[string]any{"naam": "Bram"}}
		if s := postJSON(t, h.kring.URL+"/mattermost/dialogs", req); s != http.StatusOK {
			t.Fatalf("status %d, want 200", s)
		}
		if len(h.feat.forms) != 1 || h.feat.forms[0].Where.Channel != testChannel || h.feat.forms[0].Where.Team != h.mm.TeamID {
			t.Errorf("forms = %+v, want one in %s", h.feat.forms, testChannel)
		}
	})
}

func TestFormValuesAsMattermostSendsThem(t *testing.T) {
	got := formValues(map[string]any{
		"text": "Anna", "empty": "", "none": nil, "nil": "<nil>",
		"bool": true, "number": float64(3), "big": float64(1234567), "half": 2.5,
		"multi": []any{"a", "b"}, "multi_empty": []any{},
		"option":  map[string]any{"label": "Rood", "value": "rood"},
		"options": []any{map[string]any{"label": "A", "value": "a"}, map[string]any{"label": "B", "value": "b"}},
	})
	want := bot.Values{
		"text": {"Anna"}, "bool": {"true"}, "number": {"3"}, "big": {"1234567"}, "half": {"2.5"},
		"multi": {"a", "b"}, "option": {"rood"}, "options": {"a", "b"},
	}
	if len(got) != len(want) {
		t.Errorf("values = %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func postJSON(t *testing.T, u string, v any) int {
	t.Helper()
	body, _ := json.Marshal(v)
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestOversizedAndMalformedBodies(t *testing.T) {
	h := newHarness(t)
	big := `{"user_id":"` + strings.Repeat("a", 1<<20) + `"}`
	bigForm := url.Values{"token": {testToken}, "text": {strings.Repeat("a", 1<<20)}}.Encode()
	for _, c := range []struct {
		path, ctype, body string
		want              int
	}{
		{"/mattermost/actions", "application/json", big, http.StatusRequestEntityTooLarge},
		{"/mattermost/dialogs", "application/json", big, http.StatusRequestEntityTooLarge},
		{"/mattermost/commands", "application/x-www-form-urlencoded", bigForm, http.StatusRequestEntityTooLarge},
		{"/mattermost/actions", "application/json", `{"user_id": "x", "context": `, http.StatusBadRequest},
		{"/mattermost/actions", "application/json", `[1,2]`, http.StatusBadRequest},
		{"/mattermost/dialogs", "application/json", `{"state": 5}`, http.StatusBadRequest},
		{"/mattermost/dialogs", "application/json", `not json`, http.StatusBadRequest},
		{"/mattermost/commands", "application/x-www-form-urlencoded", "token=" + testToken + "&user_id=%zz", http.StatusBadRequest},
	} {
		resp, err := http.Post(h.kring.URL+c.path, c.ctype, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %.30q: status %d, want %d", c.path, c.body, resp.StatusCode, c.want)
		}
	}
	if len(h.mm.Calls()) != 0 || h.feat.total() != 0 {
		t.Errorf("bad input reached Mattermost or the feature: %v", h.mm.Calls())
	}
}

func TestConfirmOpensADialogFirst(t *testing.T) {
	h := newHarness(t)
	id := h.post()
	h.click(id, 0, anna)
	r := h.click(id, 1, bram) // "Op nul", with a confirm
	if r.Status != http.StatusOK {
		t.Fatalf("click: %d %s", r.Status, r.Body)
	}
	if h.feat.resets != 0 {
		t.Fatal("the action ran before it was confirmed")
	}
	ds := h.mm.Dialogs()
	if len(ds) != 1 || ds[0].Dialog.Title != "Op nul?" || ds[0].Dialog.SubmitLabel != "Ja, op nul" || ds[0].Dialog.IntroductionText != "Alles **weg**?" {
		t.Fatalf("confirmation dialog = %+v", ds)
	}
	r, err := h.mm.Submit(0, bram, testChannel, map[string]any{})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("confirm: %v %d %s", err, r.Status, r.Body)
	}
	if h.feat.resets != 1 || h.feat.total() != 0 {
		t.Errorf("resets = %d, total = %d after confirming", h.feat.resets, h.feat.total())
	}
}

func TestFormFieldErrorsAndSubmission(t *testing.T) {
	h := newHarness(t)
	h.mm.ForbidEphemeral()
	id := h.post()
	h.click(id, 2, anna)
	r, _ := h.mm.Submit(0, anna, testChannel, map[string]any{"naam": "", "kleur": "rood"})
	var dr dialogResponse
	if err := r.JSON(&dr); err != nil || r.Status != http.StatusOK || dr.Errors["naam"] == "" {
		t.Fatalf("empty name: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(dr.Errors["naam"], "verlopen") {
		t.Errorf("field error not in Dutch: %q", dr.Errors["naam"])
	}
	r, _ = h.mm.Submit(0, anna, testChannel, map[string]any{"naam": "Anna", "kleur": "blauw"})
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), "errors") {
		t.Fatalf("submission: %d %s", r.Status, r.Body)
	}
	h.close()
	if len(h.feat.forms) != 1 {
		t.Fatalf("forms = %+v", h.feat.forms)
	}
	f := h.feat.forms[0]
	if f.ID != "tel.form" || f.Value != "k1" || f.Form.Get("kleur") != "blauw" || f.User.ID != anna || f.Channel != testChannel {
		t.Errorf("submitted action = %+v", f)
	}
	// Without the right to post ephemerally, the answer came as a DM.
	var dm *model.Post
	for _, p := range h.mm.Posts() {
		if p.ChannelId == h.mm.DMChannel(anna) {
			dm = p
		}
	}
	if dm == nil || dm.Message != "Bewaard: Anna" {
		t.Errorf("answer to the form: %+v", h.mm.Posts())
	}
}

func TestSlowCommandIsAnsweredLater(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AckWithin = 1 })
	r := h.command(anna, "/traag")
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil || r.Status != http.StatusOK || resp.Text != "" {
		t.Fatalf("slow command: %d %s", r.Status, r.Body)
	}
	close(h.feat.release)
	h.close()
	hooks := h.mm.HookReplies()
	if len(hooks) != 1 || hooks[0].Response.Text != "Eindelijk **klaar**" || hooks[0].Response.ResponseType != "ephemeral" {
		t.Fatalf("late replies = %+v", hooks)
	}
}

func TestBotNotInChannelGetsADutchHowTo(t *testing.T) {
	h := newHarness(t)
	h.mm.Outsider(testChannel)
	r := h.command(anna, "/tel")
	var resp model.CommandResponse
	if err := r.JSON(&resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Text, "/invite @kring") || !strings.Contains(resp.Text, "Voeg mij toe") {
		t.Errorf("reply = %q", resp.Text)
	}
}

func TestRateLimitsAndServerErrorsAreRetried(t *testing.T) {
	h := newHarness(t)
	h.mm.FailNext("POST /api/v4/posts", 502, 503)
	id := h.post()
	h.mm.FailNext("PUT /api/v4/posts/", 429, 500, 429)
	h.click(id, 0, anna)
	h.close()
	if p := h.mm.Post(id); !strings.Contains(p.Message, "**1** klikken") {
		t.Errorf("post after retries:\n%s", p.Message)
	}
	if n := len(h.mm.Posts()); n != 1 {
		t.Errorf("%d posts after retried create", n)
	}
}

func TestUploadAndItsFallback(t *testing.T) {
	h := newHarness(t)
	h.command(anna, "/bestand")
	fs := h.mm.Files()
	posts := h.mm.Posts()
	if len(fs) != 1 || string(fs[0].Content) != "naam,klikken\nAnna,3\n" || len(posts) != 1 || len(posts[0].FileIds) != 1 || posts[0].FileIds[0] != fs[0].ID {
		t.Fatalf("files = %+v, posts = %+v", fs, posts)
	}
	h.mm.UploadsOff()
	h.command(anna, "/bestand")
	posts = h.mm.Posts()
	if len(posts) != 2 || posts[1].Message != "**Telling**\n```\nnaam,klikken\nAnna,3\n```" {
		t.Fatalf("fallback post = %q", posts[len(posts)-1].Message)
	}
}

func TestReady(t *testing.T) {
	h := newHarness(t)
	if err := h.ad.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	bad, err := New(Config{URL: h.mm.URL, BotToken: "wrong", CommandTokens: []string{"x"}, Secret: testSecret, PublicURL: h.kring.URL, Handler: h.ad.cfg.Handler})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(t.Context())
	if err := bad.Ready(t.Context()); err == nil {
		t.Error("a wrong bot token is ready")
	}
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	_, err := New(Config{})
	if err == nil || !strings.Contains(err.Error(), "KRING_ACTION_SECRET, KRING_MATTERMOST_BOT_TOKEN, KRING_MATTERMOST_COMMAND_TOKEN, KRING_MATTERMOST_URL, KRING_PUBLIC_URL") {
		t.Errorf("err = %v", err)
	}
}

// An update patches message and props only: a pinned post with reactions
// stays pinned (PUT /posts/{id} would unpin it), and buttons the new
// message does not have are gone.
func TestUpdateKeepsPinAndDropsOldButtons(t *testing.T) {
	h := newHarness(t)
	id := h.post()
	h.mm.Pin(id)
	h.click(id, 0, bram)
	h.close()
	p := h.mm.Post(id)
	if !p.IsPinned || !p.HasReactions {
		t.Errorf("after an update: pinned %v, reactions %v", p.IsPinned, p.HasReactions)
	}
	if h.mm.Count(http.MethodPut, "/api/v4/posts/"+id+"/patch") == 0 || h.mm.Count(http.MethodPut, "/api/v4/posts/"+id) != h.mm.Count(http.MethodPut, "/api/v4/posts/"+id+"/patch") {
		t.Errorf("posts are not updated by patch: %v", h.mm.Calls())
	}
	ref := bot.Ref{Where: bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: testChannel}, ID: id}
	if err := h.ad.rest.Update(t.Context(), ref, *bot.TextMessage("Weg")); err != nil {
		t.Fatal(err)
	}
	p = h.mm.Post(id)
	if p.Message != "Weg" || len(mattermosttest.Actions(p)) != 0 || !p.IsPinned {
		t.Errorf("after replacing with text: %q, %d buttons, pinned %v", p.Message, len(mattermosttest.Actions(p)), p.IsPinned)
	}
}

// TestSlowClickAnsweredAtTheDeadline: a click whose work outlasts the
// deadline gets its whole answer then, over real HTTP, while the work goes
// on; the connection is not kept for another request, and the work's
// reply reaches the user as an ephemeral post when it comes.
func TestSlowClickAnsweredAtTheDeadline(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AckWithin = 1 })
	ref, err := h.feat.poster.Post(t.Context(), bot.Where{Platform: bot.Mattermost, Channel: testChannel}, h.feat.message())
	if err != nil {
		t.Fatal(err)
	}
	id := ref.ID
	ctx := h.ad.render.sign.context(map[string]string{keyAction: "tel.traag", keyValue: "k1"}, testChannel, id)
	body, err := json.Marshal(model.PostActionIntegrationRequest{
		UserId: anna, ChannelId: testChannel, PostId: id, TeamId: h.mm.TeamID, TriggerId: h.mm.IssueTrigger(anna), Context: ctx,
	})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   string
		close  bool
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Post(h.kring.URL+"/mattermost/actions", "application/json", bytes.NewReader(body))
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body) // returns only once the answer is whole
		got <- answer{resp.StatusCode, string(b), resp.Close, err}
	}()
	// The action waits for release, which comes only after the answer.
	a := bottest.Receive(t, got, "answer to the slow click")
	if a.err != nil || a.status != http.StatusOK || a.body != "{}" || !a.close {
		t.Fatalf("answer %d %q (connection closed: %v), %v; want a whole 200 {} that closes the connection", a.status, a.body, a.close, a.err)
	}
	close(h.feat.release)
	h.close()
	eph := h.mm.Ephemerals()
	if len(eph) != 1 || eph[0].UserID != anna || eph[0].Post.Message != "Eindelijk **klaar**" {
		t.Fatalf("late replies = %+v", eph)
	}
}
