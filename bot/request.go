package bot

import (
	"strings"
	"time"
)

// Platforms kring speaks to.
const (
	Slack      = "slack"
	Mattermost = "mattermost"
	Shell      = "shell"
)

// Where is a conversation: a channel (or direct message) on a platform.
type Where struct {
	Platform string `json:"platform"`
	Team     string `json:"team,omitempty"`
	Channel  string `json:"channel"`
}

// Key is a stable string for the conversation, usable in storage keys.
func (w Where) Key() string {
	return w.Platform + ":" + w.Team + ":" + w.Channel
}

// Workspace is the team part of w: the scope of per-workspace settings such
// as the language.
func (w Where) Workspace() Where { return Where{Platform: w.Platform, Team: w.Team} }

// Reaches reports whether something kept in channel w (a poll, a meeting,
// a round) may be named from the conversation from. Whatever a user names
// by id exists for them only in its own channel; every feature asks this
// one question before it shows, changes or exports anything.
//
// The team is left out on purpose: channel ids are unique per platform, a
// Mattermost direct channel belongs to no team (a command typed in it
// carries whichever team the user has open), and a Slack channel shared
// between workspaces is one channel with one id.
func (w Where) Reaches(from Where) bool {
	return w.Platform == from.Platform && w.Channel == from.Channel && w.Channel != ""
}

// Ref points at a posted message so it can be updated later.
type Ref struct {
	Where
	ID string `json:"id"`
}

// IsZero reports whether r points nowhere (the message was never posted).
func (r Ref) IsZero() bool { return r.ID == "" }

// User is the person behind a request.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"` // display name, for showing who voted
	TZ   string `json:"tz,omitempty"`   // IANA zone, "" when unknown
	// Locale is the user's own language where the platform tells it
	// ("nl", "en", "en-US", "nl_NL"); "" when unknown. The Mux prefers it
	// to the workspace's language when kring speaks it.
	Locale string `json:"-"`
}

// Label is the name to show for u: the display name, else the id.
func (u User) Label() string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// Location is u's time zone, or def when it is unknown or invalid.
func (u User) Location(def *time.Location) *time.Location {
	if u.TZ == "" {
		return def
	}
	loc, err := time.LoadLocation(u.TZ)
	if err != nil {
		return def
	}
	return loc
}

// Request is a slash command as a user typed it.
type Request struct {
	Where
	User      User
	Command   string // "/poll", lower case, with the slash
	Text      string // the raw argument text after the command
	TriggerID string // lets a handler open a form; "" where the platform gave none
	// Delivery names this delivery of the request where the platform can
	// deliver one twice (a retry, a replay); "" where it cannot. The Mux
	// lets a repeated delivery take effect once.
	Delivery string
	// Locale is the language to answer this user in; WorkspaceLocale the
	// language of messages everyone in the workspace sees. Both are set
	// by the Mux.
	Locale          string
	WorkspaceLocale string
}

// Action is a click on a button or a submitted form.
type Action struct {
	Where
	User      User
	ID        string // the button's or form's action id, e.g. "poll.vote"
	Value     string // the button's value, or the form's state
	Ref       Ref    // the message the button sits on; zero for a form
	TriggerID string
	Form      Values // submitted form values; nil for a button
	// Delivery names this delivery, as for a Request. A handler that
	// records it itself, in the same store step as its effect, says so
	// with DeliveryRecorder, and the Mux leaves the check to it.
	Delivery string
	// Locale and WorkspaceLocale are set by the Mux, as for a Request.
	Locale          string
	WorkspaceLocale string
}

// Values are submitted form values by input name. A multi-select input has
// several values; every other input at most one.
type Values map[string][]string

// Get returns the first value of name, or "".
func (v Values) Get(name string) string {
	if len(v[name]) == 0 {
		return ""
	}
	return v[name][0]
}

// commandName normalises a command as platforms send it ("/Poll", "poll").
func commandName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s
}
