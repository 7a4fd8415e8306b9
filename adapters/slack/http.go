package slack

import (
	"encoding/json"
	"errors"
	"github.com/kringbot/kring/adapters/reply"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
)

// maxBody is the largest request kring reads; Slack's are far smaller.
const maxBody = 1 << 20

// readSigned reads a request's body and checks Slack's v0 signature over
// it (HMAC-SHA256 with the signing secret, timestamp within five minutes,
// constant-time compare). On failure it has answered and returns false.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return nil, false
	}
	sv, err := slack.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body) // an HMAC's Write never fails
		err = sv.Ensure()
	}
	if err != nil {
		a.log.Warn("rejected a request without a valid Slack signature", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
		return nil, false
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.log.Info("Slack retries a request", "path", r.URL.Path, "attempt", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	return body, true
}

// readSignedForm is readSigned for Slack's form-encoded requests: it also
// parses the body, answering 400 when it is no form.
func (a *Adapter) readSignedForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed form body", http.StatusBadRequest)
		return nil, false
	}
	return form, true
}

// serveCommands answers POST /slack/commands.
func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	form, ok := a.readSignedForm(w, r)
	if !ok {
		return
	}
	if form.Get("ssl_check") == "1" {
		w.WriteHeader(http.StatusOK)
		return
	}
	// The form is parsed already; SlashCommandParse reads it from there.
	r2 := r.Clone(r.Context())
	r2.Form, r2.PostForm = form, form
	sc, err := slack.SlashCommandParse(r2)
	if err != nil {
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	ack, err := a.command(r.Context(), sc, "sig:"+r.Header.Get("X-Slack-Signature"))
	a.writeAck(w, ack, err)
}

// serveInteractions answers POST /slack/interactions.
func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	form, ok := a.readSignedForm(w, r)
	if !ok {
		return
	}
	payload := form.Get("payload")
	if payload == "" {
		http.Error(w, "no payload", http.StatusBadRequest)
		return
	}
	early := func() { reply.WriteEarly(w, "", nil) }
	ack, err := a.interaction(r.Context(), []byte(payload), "sig:"+r.Header.Get("X-Slack-Signature"), early)
	a.writeAck(w, ack, err)
}

func (a *Adapter) writeAck(w http.ResponseWriter, ack any, err error) {
	if _, ok := ack.(ackedEarly); ok {
		return
	}
	if err != nil {
		a.log.Warn("malformed Slack request", "err", err)
		http.Error(w, "malformed Slack payload", http.StatusBadRequest)
		return
	}
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := json.Marshal(ack)
	if err != nil {
		a.log.Error("encode Slack acknowledgement", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
