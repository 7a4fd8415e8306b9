package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsStandin is Slack's Socket Mode end: it says hello, sends envelopes
// and collects acknowledgements; drop closes the connection, as Slack
// does now and then.
type wsStandin struct {
	t     *testing.T
	conns chan *websocket.Conn
	acks  chan map[string]any
}

func newWSStandin(t *testing.T, api *standin) *wsStandin {
	ws := &wsStandin{t: t, conns: make(chan *websocket.Conn, 4), acks: make(chan map[string]any, 16)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // slack-go sends Origin: https://api.slack.com
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if err := c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}); err != nil {
			return
		}
		ws.conns <- c
		for {
			var ack map[string]any
			if err := c.ReadJSON(&ack); err != nil {
				return
			}
			ws.acks <- ack
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	api.mu.Lock()
	api.wsURL = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	api.mu.Unlock()
	return ws
}

func (ws *wsStandin) conn() *websocket.Conn {
	ws.t.Helper()
	select {
	case c := <-ws.conns:
		return c
	case <-time.After(time.Minute): // a hang, not a speed limit
		ws.t.Fatal("kring never connected over Socket Mode")
		return nil
	}
}

func (ws *wsStandin) ack() map[string]any {
	ws.t.Helper()
	select {
	case a := <-ws.acks:
		return a
	case <-time.After(time.Minute): // a hang, not a speed limit
		ws.t.Fatal("no acknowledgement")
		return nil
	}
}

// TestSocketMode: a slash command and a click arrive over Socket Mode,
// each envelope is acknowledged (the command's with its reply), and after
// the connection drops kring connects again and keeps working.
func TestSocketMode(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SigningSecret = ""; c.AppToken = "xapp-test" })
	ws := newWSStandin(t, h.api)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := h.a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	conn := ws.conn()
	cmd := map[string]any{
		"type": "slash_commands", "envelope_id": "env-1", "accepts_response_payload": true,
		"payload": map[string]any{
			"team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "u1", "command": "/poll",
			"text": `"Lunch?" Pizza Soep`, "trigger_id": "sock-trig-1", "response_url": h.api.URL + "/respond/s1",
		},
	}
	if err := conn.WriteJSON(cmd); err != nil {
		t.Fatal(err)
	}
	ack := ws.ack()
	if ack["envelope_id"] != "env-1" {
		t.Fatalf("ack = %v", ack)
	}
	if p, _ := json.Marshal(ack["payload"]); !strings.Contains(string(p), `"response_type":"ephemeral"`) {
		t.Errorf("command ack carries no reply: %s", p)
	}
	post, ts := h.createPollFromLast()
	votes := buttons(t, post, "poll.vote")

	// Slack drops the connection; kring must come back on its own.
	conn.Close()
	conn = ws.conn()
	click := map[string]any{
		"type": "interactive", "envelope_id": "env-2", "accepts_response_payload": false,
		"payload": json.RawMessage(h.clickPayload("U2", "C1", ts, votes[1])),
	}
	if err := conn.WriteJSON(click); err != nil {
		t.Fatal(err)
	}
	if ack := ws.ack(); ack["envelope_id"] != "env-2" {
		t.Fatalf("ack = %v", ack)
	}
	// The same envelope again (Slack retries unacknowledged ones): acked, not counted twice.
	if err := conn.WriteJSON(click); err != nil {
		t.Fatal(err)
	}
	ws.ack()
	if _, ballots := h.pollState(); len(ballots) != 1 || ballots[0].Options[0] != 1 {
		t.Errorf("ballots = %+v, want one vote for option 1", ballots)
	}
	if n := len(h.api.recorded("apps.connections.open")); n < 2 {
		t.Errorf("apps.connections.open called %d times, want a reconnect", n)
	}
}
