package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kringbot/kring/adapters/mattermost/mattermosttest"
	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/storage/bolt"
)

const (
	testSecret  = "test-secret-0123456789abcdef"
	testToken   = "cmdtoken-poll"
	testChannel = "chan10000000000000000000000"
)

// counter is a tiny feature that exercises every Poster call: /tel posts a
// message with buttons, "tel.klik" counts clicks per user and updates the
// post, "tel.reset" (with a confirm) resets, "tel.form" opens a form whose
// submission is checked, "tel.dm" sends a DM, /traag answers after a
// release, /bestand uploads a CSV.
type counter struct {
	poster bot.Poster

	mu      sync.Mutex
	clicks  map[string]int // user → clicks
	names   map[string]string
	ref     bot.Ref
	resets  int
	forms   []bot.Action
	release chan struct{}
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.clicks {
		n += v
	}
	return n
}

func (c *counter) message() bot.Message {
	c.mu.Lock()
	n := 0
	for _, v := range c.clicks {
		n += v
	}
	c.mu.Unlock()
	return bot.Message{
		Text: fmt.Sprintf("Teller: %d", n),
		Blocks: []bot.Block{
			bot.Header{Text: "Teller"},
			bot.Section{Text: fmt.Sprintf("*%d* klikken", n)},
			bot.Buttons{Buttons: []bot.Button{
				{ID: "tel.klik", Label: "Klik", Value: "k1", Style: bot.Primary},
				{ID: "tel.reset", Label: "Op nul", Value: "k1", Style: bot.Danger, Confirm: &bot.Confirm{Title: "Op nul?", Text: "Alles *weg*?", Yes: "Ja, op nul", No: "Nee"}},
				{ID: "tel.form", Label: "Formulier", Value: "k1"},
				{ID: "tel.dm", Label: "Stuur DM", Value: "k1"},
			}},
		},
	}
}

func (c *counter) register(m *bot.Mux) {
	m.Handle(bot.Command{Name: "/tel"}, bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		ref, err := c.poster.Post(ctx, req.Where, c.message())
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.ref = ref
		c.mu.Unlock()
		return bot.TextMessage("Geplaatst voor " + bot.Escape(req.User.Label()) + " (" + req.User.TZ + ")"), nil
	}))
	m.Handle(bot.Command{Name: "/traag"}, bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		<-c.release
		return bot.TextMessage("Eindelijk *klaar*"), nil
	}))
	m.Handle(bot.Command{Name: "/bestand"}, bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		err := c.poster.Upload(ctx, req.Where, bot.File{Name: "tel.csv", Title: "Telling", Type: "text/csv", Content: []byte("naam,klikken\nAnna,3\n")})
		return nil, err
	}))
	m.HandleAction("tel.", bot.ActionHandlerFunc(func(ctx context.Context, act *bot.Action) (*bot.Message, error) {
		switch act.ID {
		case "tel.klik":
			c.mu.Lock()
			c.clicks[act.User.ID]++
			c.names[act.User.ID] = act.User.Name
			n, ref := c.clicks[act.User.ID], c.ref
			c.mu.Unlock()
			if err := c.poster.Update(ctx, ref, c.message()); err != nil {
				return nil, err
			}
			return bot.TextMessage("Jij klikte " + strconv.Itoa(n) + " keer"), nil
		case "tel.reset":
			c.mu.Lock()
			c.clicks = map[string]int{}
			c.resets++
			ref := c.ref
			c.mu.Unlock()
			return nil, c.poster.Update(ctx, ref, c.message())
		case "tel.form":
			if act.Form == nil {
				return nil, c.poster.OpenForm(ctx, act.Where, act.TriggerID, bot.Form{
					ID: "tel.form", Title: "Een formulier met een lange titel", Submit: "Bewaar", State: act.Value,
					Inputs: []bot.Input{
						{Name: "naam", Label: "Naam", Kind: bot.Text, MaxLength: 40},
						{Name: "kleur", Label: "Kleur", Kind: bot.Select, Options: []bot.Option{{Value: "rood", Label: "Rood"}, {Value: "blauw", Label: "Blauw"}}},
					},
				})
			}
			if act.Form.Get("naam") == "" {
				return nil, bot.FieldErrors{"naam": &bot.UserError{ID: "mattermost.form_expired"}}
			}
			c.mu.Lock()
			c.forms = append(c.forms, *act)
			c.mu.Unlock()
			return bot.TextMessage("Bewaard: " + bot.Escape(act.Form.Get("naam"))), nil
		case "tel.traag":
			<-c.release
			return bot.TextMessage("Eindelijk *klaar*"), nil
		case "tel.dm":
			_, err := c.poster.DM(ctx, act.Where, act.User.ID, *bot.TextMessage("Hallo *" + bot.Escape(act.User.Label()) + "*"))
			return nil, err
		}
		return nil, fmt.Errorf("unknown action %s", act.ID)
	}))
}

type harness struct {
	t     *testing.T
	mm    *mattermosttest.Server
	kring *httptest.Server
	ad    *Adapter
	feat  *counter
}

func newHarness(t *testing.T, tweak ...func(*Config)) *harness {
	t.Helper()
	mm := mattermosttest.New(t)
	mm.AddUser("anna0000000000000000000000", "anna", "Anna", "de Vries", "Europe/Amsterdam")
	mm.AddUser("bram0000000000000000000000", "bram", "Bram", "", "")
	mm.AddUser("cato0000000000000000000000", "cato", "", "", "")
	mux := http.NewServeMux()
	kring := httptest.NewServer(mux)
	t.Cleanup(kring.Close)
	feat := &counter{clicks: map[string]int{}, names: map[string]string{}, release: make(chan struct{})}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kring.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bm := &bot.Mux{Deliveries: db.Jobs()}
	cfg := Config{
		URL: mm.URL, BotToken: mm.BotToken, CommandTokens: []string{"other-token", testToken},
		Secret: testSecret, PublicURL: kring.URL, Handler: bm,
		RetryBackoff: time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	ad, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feat.poster = ad.Poster()
	feat.register(bm)
	ad.Mount(mux)
	h := &harness{t: t, mm: mm, kring: kring, ad: ad, feat: feat}
	t.Cleanup(func() {
		select {
		case <-feat.release:
		default:
			close(feat.release)
		}
		h.close()
	})
	return h
}

// close waits for late answers and flushes pending updates.
func (h *harness) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.ad.Close(ctx); err != nil {
		h.t.Errorf("close: %v", err)
	}
}

func (h *harness) command(user, line string) mattermosttest.Reply {
	h.t.Helper()
	r, err := h.mm.Command(h.kring.URL+"/mattermost/commands", testToken, user, testChannel, line)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// poll posts the counter and returns its post id.
func (h *harness) post() string {
	h.t.Helper()
	r := h.command("anna0000000000000000000000", "/tel")
	if r.Status != http.StatusOK {
		h.t.Fatalf("/tel: %d %s", r.Status, r.Body)
	}
	posts := h.mm.Posts()
	if len(posts) == 0 {
		h.t.Fatal("/tel posted nothing")
	}
	return posts[len(posts)-1].Id
}

func (h *harness) click(post string, i int, user string) mattermosttest.Reply {
	h.t.Helper()
	r, err := h.mm.Click(nil, post, i, user)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}
