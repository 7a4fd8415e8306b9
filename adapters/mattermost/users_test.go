package mattermost

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
)

// sendClick posts a click on button i of post as Mattermost does, with
// the trigger id and user name given ("" for none, as 5.x servers send).
func (h *harness) sendClick(post string, i int, user, username, trigger string) int {
	h.t.Helper()
	a := mattermosttest.Actions(h.mm.Post(post))[i]
	body, _ := json.Marshal(model.PostActionIntegrationRequest{
		UserId: user, UserName: username, ChannelId: testChannel, TeamId: h.mm.TeamID,
		PostId: post, TriggerId: trigger, Type: model.PostActionTypeButton, Context: a.Integration.Context,
	})
	resp, err := http.Post(a.Integration.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestClickCarriesItsUser: a click reaches the feature with the user id
// and the user_name the request carries, or the id alone where the server
// sends no name, and Mattermost is not asked about the user.
func TestClickCarriesItsUser(t *testing.T) {
	h := newHarness(t)
	post := h.post()
	if s := h.sendClick(post, 0, bram, "bram", "trigger-b"); s != http.StatusOK {
		t.Fatalf("click: %d", s)
	}
	if s := h.sendClick(post, 0, cato, "", "trigger-c"); s != http.StatusOK {
		t.Fatalf("click without user_name: %d", s)
	}
	h.close()
	if got := h.feat.names; got[bram] != "bram" || got[cato] != "" {
		t.Errorf("names the feature got = %v, want bram's user_name and none for cato", got)
	}
	if n := h.mm.Count(http.MethodGet, "/api/v4/users/"+bram) + h.mm.Count(http.MethodGet, "/api/v4/users/"+cato); n != 0 {
		t.Errorf("%d user lookups for two clicks, want none", n)
	}
}

// TestRepeatedDeliveryCountsOnce: the same click or command sent again as
// it was (same trigger id) takes effect once, through the endpoints and
// the Mux's delivery log; a second real click (a new trigger id) counts.
func TestRepeatedDeliveryCountsOnce(t *testing.T) {
	h := newHarness(t)
	post := h.post()
	for range 3 {
		if s := h.sendClick(post, 0, bram, "bram", "trigger-once"); s != http.StatusOK {
			t.Fatalf("click: %d", s)
		}
	}
	if n := h.feat.total(); n != 1 {
		t.Errorf("%d clicks counted for one click delivered three times, want 1", n)
	}
	h.sendClick(post, 0, bram, "bram", "trigger-twice")
	if n := h.feat.total(); n != 2 {
		t.Errorf("%d clicks counted after a second real click, want 2", n)
	}

	form := url.Values{
		"token": {testToken}, "team_id": {h.mm.TeamID}, "channel_id": {testChannel}, "channel_name": {"town-square"},
		"user_id": {anna}, "user_name": {"anna"}, "command": {"/tel"}, "trigger_id": {"trigger-cmd"},
	}
	before := len(h.mm.Posts())
	for range 2 {
		resp, err := http.PostForm(h.kring.URL+"/mattermost/commands", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := len(h.mm.Posts()) - before; n != 1 {
		t.Errorf("%d posts for one command delivered twice, want 1", n)
	}
}

// TestNames: Names through the Poster features get (paced) names the
// users kring knows from its cache, asks POST /users/ids about the others
// in one call, and leaves out whom Mattermost cannot name, without asking
// again soon: a user it does not know, and one it fails on.
func TestNames(t *testing.T) {
	h := newHarness(t)
	namer, ok := h.ad.Poster().(bot.Namer)
	if !ok {
		t.Fatal("the Mattermost Poster cannot name users")
	}
	where := bot.Where{Platform: bot.Mattermost, Team: h.mm.TeamID, Channel: testChannel}
	const ghost = "ghost000000000000000000000"
	got := namer.Names(t.Context(), where, []string{anna, cato, ghost, anna})
	want := map[string]string{anna: "Anna de Vries", cato: "cato"}
	if !maps.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if n := h.mm.Count(http.MethodPost, "/api/v4/users/ids"); n != 1 {
		t.Errorf("%d user lookups, want one for anna, cato and the unknown id", n)
	}
	if got := namer.Names(t.Context(), where, []string{cato, ghost, anna}); !maps.Equal(got, want) {
		t.Errorf("Names again = %v, want %v", got, want)
	}
	if n := h.mm.Count(http.MethodPost, "/api/v4/users/ids"); n != 1 {
		t.Errorf("%d user lookups after a second Names, want still 1", n)
	}

	// A server that fails (after the client's retries) names nobody new,
	// and is not asked about the same user on the next render.
	h.mm.FailNext("POST /api/v4/users/ids", 500, 500, 500)
	if got := namer.Names(t.Context(), where, []string{bram, anna}); !maps.Equal(got, map[string]string{anna: "Anna de Vries"}) {
		t.Errorf("Names with a failing server = %v, want anna only", got)
	}
	calls := h.mm.Count(http.MethodPost, "/api/v4/users/ids")
	namer.Names(t.Context(), where, []string{bram})
	if n := h.mm.Count(http.MethodPost, "/api/v4/users/ids"); n != calls {
		t.Errorf("bram asked about again right after a failure: %d calls, then %d", calls, n)
	}
}
