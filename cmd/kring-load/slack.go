package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
)

// slackTeam is the workspace the load plays in.
const slackTeam = "T1"

// slackPlay plays Slack towards kring: the Web API stand-in, the slash
// command and the clicks, signed as Slack signs them.
type slackPlay struct {
	api     *slackAPI
	secret  string
	run     string // makes ids unique across runs that share a store
	channel string

	ts      string        // the poll message's ts
	buttons []slackButton // its vote buttons, in option order
}

// slackButton is a button as the message's Block Kit holds it.
type slackButton struct {
	ActionID, BlockID, Text, Value string
}

var _ platform = (*slackPlay)(nil)

func newSlackPlay(addr, secret, run string) (*slackPlay, error) {
	api, err := startSlackAPI(addr)
	if err != nil {
		return nil, err
	}
	return &slackPlay{api: api, secret: secret, run: run, channel: "C" + strings.ToUpper(run)}, nil
}

func (p *slackPlay) Name() string { return bot.Slack }

func (p *slackPlay) Env(kringURL string) []string {
	return []string{
		"KRING_SLACK_SIGNING_SECRET=" + p.secret,
		"KRING_SLACK_BOT_TOKEN=" + slackBotToken,
		"KRING_SLACK_API_URL=" + p.api.APIURL(),
	}
}

func (p *slackPlay) Where() bot.Where {
	return bot.Where{Platform: bot.Slack, Team: slackTeam, Channel: p.channel}
}

func (p *slackPlay) User(i int) string { return fmt.Sprintf("U%s%07d", strings.ToUpper(p.run), i) }

// signed is a request to url with body, signed now as Slack signs.
func (p *slackPlay) signed(url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", slackSignature(p.secret, ts, body))
	return req, nil
}

func (p *slackPlay) CreatePoll(ctx context.Context, kringURL, text string, options int) error {
	form := url.Values{
		"token": {"legacy-verification-token"}, "team_id": {slackTeam}, "team_domain": {"kring-load"},
		"channel_id": {p.channel}, "channel_name": {"algemeen"},
		"user_id": {"UCREATOR" + strings.ToUpper(p.run)}, "user_name": {"maker"},
		"command": {"/poll"}, "text": {text}, "api_app_id": {"A1"},
		"is_enterprise_install": {"false"},
		"response_url":          {p.api.URL + "/respond/command-" + p.run},
		"trigger_id":            {"trig-cmd-" + p.run},
	}
	req, err := p.signed(kringURL+"/slack/commands", []byte(form.Encode()))
	if err != nil {
		return err
	}
	if err := expect200(ctx, req); err != nil {
		return fmt.Errorf("/poll: %w", err)
	}
	// The poll's message: the first post in the channel with vote buttons.
	err = waitUntil(ctx, time.Minute, p.api.wait, func() bool {
		for _, m := range p.api.posts(p.channel) {
			if bs := voteButtons(m.Blocks, options); bs != nil {
				p.ts, p.buttons = m.TS, bs
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("kring did not post the poll with %d vote buttons in %s: %w", options, p.channel, err)
	}
	return nil
}

// voteButtons finds in Block Kit the buttons "1. …" to "n. …", in that
// order, as kring labels a poll's vote buttons; nil when one is missing.
func voteButtons(raw json.RawMessage, n int) []slackButton {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			// A button's text is an object; a context element's, a string.
			Text json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	out := make([]slackButton, n)
	found := 0
	for _, b := range blocks {
		for _, e := range b.Elements {
			var text struct {
				Text string `json:"text"`
			}
			if e.Type != "button" || json.Unmarshal(e.Text, &text) != nil {
				continue
			}
			for i := range n {
				if strings.HasPrefix(text.Text, strconv.Itoa(i+1)+". ") && out[i].ActionID == "" {
					out[i] = slackButton{ActionID: e.ActionID, BlockID: b.BlockID, Text: text.Text, Value: e.Value}
					found++
				}
			}
		}
	}
	if found != n {
		return nil
	}
	return out
}

// clickPayload is a block_actions payload as Slack sends it for a click on
// a button of a message in a channel.
type clickPayload struct {
	Type                string          `json:"type"`
	User                clickUser       `json:"user"`
	APIAppID            string          `json:"api_app_id"`
	Token               string          `json:"token"`
	Container           clickContainer  `json:"container"`
	TriggerID           string          `json:"trigger_id"`
	Team                clickTeam       `json:"team"`
	Enterprise          *struct{}       `json:"enterprise"`
	IsEnterpriseInstall bool            `json:"is_enterprise_install"`
	Channel             clickChannel    `json:"channel"`
	Message             clickMessage    `json:"message"`
	State               clickState      `json:"state"`
	ResponseURL         string          `json:"response_url"`
	Actions             []clickedButton `json:"actions"`
}

type clickUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

type clickContainer struct {
	Type        string `json:"type"`
	MessageTS   string `json:"message_ts"`
	ChannelID   string `json:"channel_id"`
	IsEphemeral bool   `json:"is_ephemeral"`
}

type clickTeam struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

type clickChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type clickMessage struct {
	Type   string          `json:"type"`
	User   string          `json:"user"`
	BotID  string          `json:"bot_id"`
	AppID  string          `json:"app_id"`
	Text   string          `json:"text"`
	TS     string          `json:"ts"`
	Team   string          `json:"team"`
	Blocks json.RawMessage `json:"blocks"`
}

type clickState struct {
	Values map[string]any `json:"values"`
}

type clickedButton struct {
	ActionID string     `json:"action_id"`
	BlockID  string     `json:"block_id"`
	Text     buttonText `json:"text"`
	Value    string     `json:"value"`
	Type     string     `json:"type"`
	ActionTS string     `json:"action_ts"`
}

type buttonText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji"`
}

// click is click i on the poll's message as Slack sends it to url: by user
// i, on option i mod the options, with the message as Slack shows it now.
func (p *slackPlay) click(url string, i int) (*http.Request, error) {
	b := p.buttons[i%len(p.buttons)]
	m, _ := p.api.message(p.ts)
	user := p.User(i)
	now := time.Now()
	payload := clickPayload{
		Type:      "block_actions",
		User:      clickUser{ID: user, Username: strings.ToLower(user), Name: strings.ToLower(user), TeamID: slackTeam},
		APIAppID:  "A1",
		Token:     "legacy-verification-token",
		Container: clickContainer{Type: "message", MessageTS: p.ts, ChannelID: p.channel},
		TriggerID: fmt.Sprintf("%d.%s.%d", now.Unix(), p.run, i),
		Team:      clickTeam{ID: slackTeam, Domain: "kring-load"},
		Channel:   clickChannel{ID: p.channel, Name: "algemeen"},
		Message: clickMessage{Type: "message", User: "UBOT", BotID: "BBOT", AppID: "A1",
			Text: m.Text, TS: p.ts, Team: slackTeam, Blocks: m.Blocks},
		State:       clickState{Values: map[string]any{}},
		ResponseURL: fmt.Sprintf("%s/respond/click-%s-%d", p.api.URL, p.run, i),
		Actions: []clickedButton{{
			ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value, Type: "button",
			Text:     buttonText{Type: "plain_text", Text: b.Text, Emoji: true},
			ActionTS: fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
		}},
	}
	js, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return p.signed(url, []byte(payloadForm(js)))
}

// payloadForm is a payload form-encoded as Slack posts it: payload=<json>.
func payloadForm(js []byte) string { return url.Values{"payload": {string(js)}}.Encode() }

func (p *slackPlay) KringClick(kringURL string) func(i int) (*http.Request, error) {
	return func(i int) (*http.Request, error) { return p.click(kringURL+"/slack/interactions", i) }
}

// FloorHandler checks what kring checks: the Slack signing secret.
func (p *slackPlay) FloorHandler(f *floor) http.Handler { return f.slackHandler(p.secret) }

func (p *slackPlay) FloorSecret() string { return p.secret }

func (p *slackPlay) FloorClick(floorURL string) func(i int) (*http.Request, error) {
	return func(i int) (*http.Request, error) { return p.click(floorURL+"/slack/interactions", i) }
}

func (p *slackPlay) FloorValue(i int) string { return p.buttons[i%len(p.buttons)].Value }

func (p *slackPlay) AckOK(body []byte) error { return nil }

func (p *slackPlay) Message() (string, bool) {
	m, ok := p.api.message(p.ts)
	return m.readable(), ok
}

func (p *slackPlay) Updates() []time.Time { return p.api.updateTimes(p.ts) }

func (p *slackPlay) Wait() <-chan struct{} { return p.api.wait() }

func (p *slackPlay) Calls() map[string]int { return p.api.callCounts() }

func (p *slackPlay) Replies() map[string]int { return p.api.replyCounts() }

func (p *slackPlay) Close() { p.api.Close() }
