// Package mattermosttest is a stand-in for a Mattermost server in tests:
// an httptest.Server with the REST API v4 calls kring makes, recording each
// one, and helpers that act as Mattermost towards kring — sending a slash
// command, clicking a button of a post, submitting an opened dialog —
// exactly as Mattermost sends them, and taking kring's answers as
// Mattermost does.
//
// What it follows of the real server (5.x to today's):
//   - A slash command is a form post with the command's token in the form
//     and in an "Authorization: Token" header; only a 200 answer counts, and
//     only an application/json body is read as a CommandResponse.
//   - A click sends PostActionIntegrationRequest with the context stored in
//     the post and a fresh trigger id; only a 200 answer counts, a non-empty
//     body must be JSON, its "update" replaces the post (props kept when it
//     has none) and its "ephemeral_text" is shown to the clicking user,
//     Slack-parsed unless skip_slack_parsing.
//   - A dialog opens only with a trigger id Mattermost issued (to a command
//     or a click), for the user it was issued to; its submission carries
//     the channel the user is looking at, which need not be the channel the
//     dialog came from. Dialogs are checked with Dialog.IsValid, which the
//     server itself only logs: the stand-in is stricter on purpose.
//   - PUT /posts/{id} replaces is_pinned, has_reactions and file_ids with
//     the body's; PUT /posts/{id}/patch changes only what it names.
//   - A bot that is not a member of a channel gets 403 for posting,
//     editing and uploading there (AppError api.context.permissions.app_error);
//     so does a bot without the system admin role for POST /posts/ephemeral
//     (PermissionCreatePostEphemeral) once ForbidEphemeral is set.
//   - A create is deduplicated by its pending_post_id alone, across
//     channels, for 30 s, as app.deduplicateCreatePost does: a second create
//     with a pending id seen before is answered with the first post (201);
//     while the first is still being saved, with 500
//     api.post.deduplicate_create_post.pending; a create that fails forgets
//     its pending id, so a retry can create.
//   - The props of a post are measured as Post.IsValid does on save: the
//     runes of the JSON of the props after the server's own additions
//     (attachments re-encoded as message attachments with action ids, and
//     "from_bot" on a bot's create). Over the limit of the version played
//     (PropsMaxRunes5x = 8,000 by default, as Mattermost 5.x;
//     PropsMaxRunesNow = 800,000 for today's servers) the answer is 400
//     model.post.is_valid.props.app_error.
//   - The bot is a member of every channel but those made with Outsider or
//     Conversation; AddMembers adds people. GET /channels/{id}/members
//     answers the members a page at a time (page from 0, per_page 60 when
//     not given, at most 200, as web.ParamsFromRequest reads them), ordered
//     by user id where the server promises no order; a bot that is no
//     member gets 403 (PermissionReadChannel).
//   - POST /users/ids answers the users it knows among a JSON list of ids,
//     each once, and leaves out the others; an empty list or a body that
//     is no list of strings gets 400 api.context.invalid_param.app_error
//     (getUsersByIds). The server sets no bound on how many ids; neither
//     does the stand-in. A user's timezone is the map Mattermost keeps
//     (useAutomaticTimezone "true" or "false", automaticTimezone,
//     manualTimezone); a bot account has is_bot, a deactivated one a
//     delete_at, and both stay members of their channels.
//   - A create with a root_id (a reply in a thread) is refused with 400
//     api.post.create_post.root_id.app_error when the root does not exist,
//     is deleted or is itself a reply, and with 400
//     api.post.create_post.channel_root_id.app_error when the root is in
//     another channel (app.CreatePost, whose 500 CreatePostAsUser turns
//     into 400).
//   - DELETE /posts/{id} marks the post and the replies of its thread
//     deleted (the store deletes WHERE Id = ? OR RootId = ?). A post that
//     is missing or deleted already gets 404 app.post.get.app_error, as
//     today's servers answer (GetSinglePost); the bot deleting a post of
//     someone else, or in a channel it is not in, gets 403.
//   - Editing (PUT /posts/{id}, PUT /posts/{id}/patch) a post that is
//     missing or deleted gets 403, as the server answers when
//     GetSinglePost fails (SetPermissionError(PermissionEditPost)).
package mattermosttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/kringbot/kring/bot"
)

// Props limits of the server versions the stand-in plays: model.POST_PROPS_MAX_RUNES
// of Mattermost 5.x, and model.PostPropsMaxRunes of today's servers.
const (
	PropsMaxRunes5x  = 8000
	PropsMaxRunesNow = model.PostPropsMaxRunes
)

// PendingPostTTL is how long Mattermost remembers a pending post id
// (PENDING_POST_IDS_CACHE_TTL, pendingPostIDsCacheTTL).
const PendingPostTTL = 30 * time.Second

// Call is one REST call the server received.
type Call struct {
	Method string
	Path   string
	Status int
}

// Ephemeral is an ephemeral post shown to one user: sent by the bot
// through the API (Via "api"), or the ephemeral_text of an answer to a
// click (Via "action").
type Ephemeral struct {
	UserID string
	Post   *model.Post
	Via    string
}

// HookReply is a late slash-command answer sent to a response URL.
type HookReply struct {
	HookID   string
	Response model.CommandResponse
}

// File is an uploaded file.
type File struct {
	ID, Channel, Name string
	Content           []byte
}

// Server is the stand-in. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server
	// BotToken is the token the API accepts.
	BotToken string
	// Bot is the bot account.
	Bot *model.User
	// TeamID is the id of the one team, named "geboortezorg".
	TeamID string

	mu                 sync.Mutex
	calls              []Call
	posts              map[string]*model.Post
	order              []string
	updates            map[string]int
	pending            map[string]pendingPost
	pendingIDs         []string // every pending_post_id a create carried, in order
	propsMax           int
	users              map[string]*model.User
	names              map[string]string // channel id → name, as a command carries it
	ephemerals         []Ephemeral
	hooks              []HookReply
	dialogs            []model.OpenDialogRequest
	files              []File
	commands           map[string]*model.Command
	triggers           map[string]string // trigger id → the user it was issued to
	dialogUsers        []string          // per opened dialog, whom it was shown to
	changed            chan struct{}     // closed and replaced on every change
	outsider           map[string]bool
	members            map[string][]string // channel → its members besides the bot
	fail               map[string][]int
	failAfter          map[string][]int
	ephemeralForbidden bool
	commandsForbidden  bool
	uploadsOff         bool
	n                  int
	run                string // tells this server's trigger ids from another's
}

// New starts a stand-in; it stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		run:       bot.NewID(6),
		BotToken:  "bot-token-kring",
		Bot:       &model.User{Id: "botkring000000000000000000", Username: "kring", IsBot: true},
		TeamID:    "team1000000000000000000000",
		posts:     map[string]*model.Post{},
		updates:   map[string]int{},
		pending:   map[string]pendingPost{},
		propsMax:  PropsMaxRunes5x,
		users:     map[string]*model.User{},
		names:     map[string]string{},
		failAfter: map[string][]int{},
		commands:  map[string]*model.Command{},
		triggers:  map[string]string{},
		changed:   make(chan struct{}),
		outsider:  map[string]bool{},
		members:   map[string][]string{},
		fail:      map[string][]int{},
	}
	s.users[s.Bot.Id] = s.Bot
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/users/me", s.auth(func(w http.ResponseWriter, r *http.Request) { s.json(w, s.Bot) }))
	mux.HandleFunc("GET /api/v4/users/{id}", s.auth(s.getUser))
	mux.HandleFunc("POST /api/v4/users/ids", s.auth(s.getUsersByIDs))
	mux.HandleFunc("POST /api/v4/posts", s.auth(s.createPost))
	mux.HandleFunc("PUT /api/v4/posts/{id}", s.auth(s.updatePost))
	mux.HandleFunc("PUT /api/v4/posts/{id}/patch", s.auth(s.patchPost))
	mux.HandleFunc("DELETE /api/v4/posts/{id}", s.auth(s.deletePost))
	mux.HandleFunc("GET /api/v4/channels/{id}/members", s.auth(s.getChannelMembers))
	mux.HandleFunc("POST /api/v4/posts/ephemeral", s.auth(s.createEphemeral))
	mux.HandleFunc("POST /api/v4/channels/direct", s.auth(s.createDirect))
	mux.HandleFunc("POST /api/v4/actions/dialogs/open", s.auth(s.openDialog))
	mux.HandleFunc("POST /api/v4/files", s.auth(s.uploadFile))
	mux.HandleFunc("GET /api/v4/teams/name/{name}", s.auth(s.teamByName))
	mux.HandleFunc("GET /api/v4/commands", s.auth(s.mayManageCommands(s.listCommands)))
	mux.HandleFunc("POST /api/v4/commands", s.auth(s.mayManageCommands(s.createCommand)))
	mux.HandleFunc("PUT /api/v4/commands/{id}", s.auth(s.mayManageCommands(s.updateCommand)))
	mux.HandleFunc("POST /hooks/commands/{id}", s.hook)
	s.Server = httptest.NewServer(s.record(mux))
	t.Cleanup(s.Close)
	return s
}

// AddUser adds a user with a display name and a time zone ("" for none).
func (s *Server) AddUser(id, username, first, last, tz string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = &model.User{
		Id: id, Username: username, FirstName: first, LastName: last,
		Timezone: model.StringMap{"useAutomaticTimezone": "false", "automaticTimezone": "", "manualTimezone": tz},
	}
}

// SetTimezone sets a user's time zone as Mattermost keeps it: the zone
// their browser reported when automatic is true, else the one they chose.
func (s *Server) SetTimezone(id string, automatic bool, zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.Timezone = model.StringMap{"useAutomaticTimezone": strconv.FormatBool(automatic), "automaticTimezone": "", "manualTimezone": ""}
		if automatic {
			u.Timezone["automaticTimezone"] = zone
		} else {
			u.Timezone["manualTimezone"] = zone
		}
	}
}

// AddBot adds a bot account (is_bot) other than kring's.
func (s *Server) AddBot(id, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = &model.User{Id: id, Username: username, IsBot: true, Timezone: model.StringMap{}}
}

// Deactivate deactivates a user: the account stays, with a delete_at.
func (s *Server) Deactivate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.DeleteAt = model.GetMillis()
	}
}

// SetLocale sets a user's language, as in their Mattermost settings.
func (s *Server) SetLocale(id, locale string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.Locale = locale
	}
}

// PlayPropsLimit makes the stand-in refuse posts whose props exceed max
// runes (PropsMaxRunes5x, the default, or PropsMaxRunesNow).
func (s *Server) PlayPropsLimit(max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.propsMax = max
}

// Conversation adds a direct (two users) or group (three or more)
// conversation between users with id channel, which the bot is not a
// member of: commands typed there carry the channel name Mattermost gives
// it, and the bot gets 403 when it posts there.
func (s *Server) Conversation(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := model.GetGroupNameFromUserIds(slices.Clone(users))
	if len(users) == 2 {
		name = model.GetDMNameFromIds(users[0], users[1])
	}
	s.names[channel] = name
	s.outsider[channel] = true
	s.members[channel] = slices.Clone(users)
}

// ForbidCommands answers the slash-command API with 403 for the bot token,
// as Mattermost does for a bot without manage_slash_commands.
func (s *Server) ForbidCommands() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commandsForbidden = true
}

// PendingPostIDs returns the pending_post_id of every create received, in
// order, retries included.
func (s *Server) PendingPostIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pendingIDs)
}

// notifyLocked wakes WaitFor; s.mu is held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor waits until cond holds, checking it again after every call the
// stand-in receives and every answer it takes from kring, and fails the
// test when it does not hold within timeout. It is for what kring does
// after it has answered (a reply sent later, a coalesced update).
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("waited %s for %s", timeout, what)
		}
	}
}

// Pin pins a post and marks it as having reactions, as users do.
func (s *Server) Pin(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.posts[id]; p != nil {
		p.IsPinned, p.HasReactions = true, true
	}
}

// Outsider makes the bot a non-member of channel: posting there gets 403.
func (s *Server) Outsider(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outsider[channel] = true
}

// AddMembers makes users members of channel, beside the bot.
func (s *Server) AddMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[channel] = append(s.members[channel], users...)
}

// PostAs creates a post of user in channel, as if they wrote it, and
// returns its id.
func (s *Server) PostAs(user, channel, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &model.Post{Id: s.nextID(), ChannelId: channel, UserId: user, Message: message, CreateAt: time.Now().UnixMilli()}
	s.posts[p.Id] = p
	s.order = append(s.order, p.Id)
	return p.Id
}

// IssueTrigger makes a trigger id for user, as Mattermost does for a
// command or a click: it opens a dialog for them.
func (s *Server) IssueTrigger(user string) string { return s.issue(user) }

// ForbidEphemeral answers ephemeral posts with 403, as Mattermost does for
// a bot without the system admin role.
func (s *Server) ForbidEphemeral() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ephemeralForbidden = true
}

// UploadsOff answers file uploads with 501, as with file sharing disabled.
func (s *Server) UploadsOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploadsOff = true
}

// FailNext answers the next calls of "METHOD /path" with the statuses
// given, one each, before serving normally again. A path ending in "/"
// matches every path below it.
func (s *Server) FailNext(route string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[route] = append(s.fail[route], statuses...)
}

// FailAfter serves the next calls of "METHOD /path" and then answers them
// with the statuses given instead of the real answer, one each: the work is
// done but its answer is lost, as when a proxy times out.
func (s *Server) FailAfter(route string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAfter[route] = append(s.failAfter[route], statuses...)
}

// Calls returns the REST calls received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count is how many calls of method to a path starting with prefix came.
func (s *Server) Count(method, prefix string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			n++
		}
	}
	return n
}

// Posts returns the posts in the order they were created, deleted ones
// too (with DeleteAt set).
func (s *Server) Posts() []*model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*model.Post, len(s.order))
	for i, id := range s.order {
		out[i] = s.posts[id].Clone()
	}
	return out
}

// ChannelPosts returns the posts channel shows, in the order they were
// created: replies in threads too, deleted posts not.
func (s *Server) ChannelPosts(channel string) []*model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*model.Post
	for _, id := range s.order {
		if p := s.posts[id]; p.ChannelId == channel && p.DeleteAt == 0 {
			out = append(out, p.Clone())
		}
	}
	return out
}

// Post returns one post, deleted or not, nil when there is none.
func (s *Server) Post(id string) *model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.posts[id]; ok {
		return p.Clone()
	}
	return nil
}

// Updates is how often a post was updated.
func (s *Server) Updates(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates[id]
}

// Ephemerals returns the ephemeral posts sent through the API.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ephemerals)
}

// HookReplies returns the late command answers.
func (s *Server) HookReplies() []HookReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks)
}

// Dialogs returns the dialogs opened.
func (s *Server) Dialogs() []model.OpenDialogRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dialogs)
}

// DialogsFor returns the dialogs opened for user.
func (s *Server) DialogsFor(user string) []model.OpenDialogRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.OpenDialogRequest
	for i, d := range s.dialogs {
		if s.dialogUsers[i] == user {
			out = append(out, d)
		}
	}
	return out
}

// Files returns the uploaded files.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.files)
}

// Commands returns the slash commands of the team, by trigger.
func (s *Server) Commands() map[string]*model.Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*model.Command{}
	for _, c := range s.commands {
		cc := *c
		out[c.Trigger] = &cc
	}
	return out
}

// DMChannel is the id of the direct channel between the bot and user.
func (s *Server) DMChannel(user string) string { return directID(s.Bot.Id, user) }

func directID(a, b string) string {
	ids := []string{a, b}
	slices.Sort(ids)
	return ids[0] + "__" + ids[1]
}

// record notes every call and answers injected failures.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status := next0(s.fail, r)
		after := next0(s.failAfter, r)
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		s.mu.Unlock()
		switch {
		case status != 0:
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			rec.status = status
			appError(w, status, "stand_in.injected", "injected failure")
		case after != 0:
			next.ServeHTTP(&statusWriter{ResponseWriter: discard{h: http.Header{}}}, r)
			rec.status = after
			appError(w, after, "stand_in.injected", "injected failure after the work was done")
		default:
			next.ServeHTTP(rec, r)
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
		s.notifyLocked()
		s.mu.Unlock()
	})
}

// next0 takes the next injected status for r from queues, 0 for none;
// s.mu is held.
func next0(queues map[string][]int, r *http.Request) int {
	for route, queue := range queues {
		method, path, _ := strings.Cut(route, " ")
		match := r.URL.Path == path || (strings.HasSuffix(path, "/") && strings.HasPrefix(r.URL.Path, path))
		if method == r.Method && match && len(queue) > 0 {
			queues[route] = queue[1:]
			return queue[0]
		}
	}
	return 0
}

// discard is a ResponseWriter whose answer is lost.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "bearer") || token != s.BotToken {
			appError(w, http.StatusUnauthorized, "api.context.session_expired.app_error", "invalid or expired session")
			return
		}
		h(w, r)
	}
}

// appError answers as Mattermost does: an AppError with its id.
func appError(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(model.AppError{Id: id, Message: msg, StatusCode: status})
}

// Error ids of the AppErrors the stand-in answers with, as the server's.
const (
	ErrPermissions  = "api.context.permissions.app_error"
	ErrPropsTooLong = "model.post.is_valid.props.app_error"
	ErrMsgTooLong   = "model.post.is_valid.msg.app_error"
	ErrPending      = "api.post.deduplicate_create_post.pending"
)

func forbidden(w http.ResponseWriter) {
	appError(w, http.StatusForbidden, ErrPermissions, "You do not have the appropriate permissions.")
}

// PropsRunes measures a post's props as Post.IsValid does on save: the runes
// of their JSON once the server has re-encoded the attachments (and given
// every action an id). A bot's create adds "from_bot" before this.
func PropsRunes(p *model.Post) int {
	c := p.Clone()
	c.GenerateActionIds()
	return utf8.RuneCountInString(model.StringInterfaceToJSON(c.GetProps()))
}

// valid checks a post about to be saved as Post.IsValid does, with the
// limits of the version played; "" when it is valid. s.mu is held.
func (s *Server) valid(p *model.Post) (id string) {
	if utf8.RuneCountInString(p.Message) > model.PostMessageMaxRunesV2 {
		return ErrMsgTooLong
	}
	if PropsRunes(p) > s.propsMax {
		return ErrPropsTooLong
	}
	return ""
}

func (s *Server) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		appError(w, http.StatusNotFound, "app.user.missing_account.const", "user not found")
		return
	}
	s.json(w, u)
}

// getUsersByIDs is POST /users/ids.
func (s *Server) getUsersByIDs(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) == 0 {
		appError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "Invalid or missing user_ids in request body.")
		return
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	s.mu.Lock()
	out := []*model.User{}
	for _, id := range ids {
		if u, ok := s.users[id]; ok {
			out = append(out, u)
		}
	}
	s.json(w, out)
	s.mu.Unlock()
}

func (s *Server) nextID() string {
	s.n++
	return fmt.Sprintf("post%022d", s.n)
}

// pendingPost is what the server remembers of a pending post id: the post
// made for it, "" while it is being saved.
type pendingPost struct {
	postID  string
	expires time.Time
}

// createPost is POST /posts: the permission check, then
// app.deduplicateCreatePost, then the save with Post.IsValid.
func (s *Server) createPost(w http.ResponseWriter, r *http.Request) {
	var p model.Post
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.ChannelId == "" {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid post")
		return
	}
	s.mu.Lock()
	s.pendingIDs = append(s.pendingIDs, p.PendingPostId)
	if s.outsider[p.ChannelId] {
		s.mu.Unlock()
		forbidden(w)
		return
	}
	now := time.Now()
	if p.PendingPostId != "" {
		seen, ok := s.pending[p.PendingPostId]
		switch {
		case ok && now.Before(seen.expires) && seen.postID == "":
			s.mu.Unlock()
			appError(w, http.StatusInternalServerError, ErrPending, "a post with this pending id is being saved")
			return
		case ok && now.Before(seen.expires):
			// Whatever channel it was made in: the cache knows the id only.
			found := s.posts[seen.postID].Clone()
			s.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			s.json(w, found)
			return
		}
		s.pending[p.PendingPostId] = pendingPost{expires: now.Add(PendingPostTTL)}
	}
	s.mu.Unlock()

	// The server saves outside of the cache's lock: a second create with
	// the same pending id meanwhile sees it in flight.
	s.mu.Lock()
	defer s.mu.Unlock()
	p.AddProp("from_bot", "true")
	if id := s.rootProblem(&p); id != "" {
		delete(s.pending, p.PendingPostId)
		appError(w, http.StatusBadRequest, id, "invalid root_id")
		return
	}
	if id := s.valid(&p); id != "" {
		delete(s.pending, p.PendingPostId)
		appError(w, http.StatusBadRequest, id, "invalid post")
		return
	}
	p.Id, p.UserId, p.CreateAt = s.nextID(), s.Bot.Id, now.UnixMilli()
	s.posts[p.Id] = &p
	s.order = append(s.order, p.Id)
	if p.PendingPostId != "" {
		s.pending[p.PendingPostId] = pendingPost{postID: p.Id, expires: time.Now().Add(PendingPostTTL)}
	}
	w.WriteHeader(http.StatusCreated)
	s.json(w, &p)
}

// updatePost is PUT /posts/{id}: like Mattermost's UpdatePost without
// safe update, it takes message, props, is_pinned, has_reactions and
// file_ids from the body.
func (s *Server) updatePost(w http.ResponseWriter, r *http.Request) {
	var p model.Post
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Id != r.PathValue("id") {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid post")
		return
	}
	s.edit(w, p.Id, func(old *model.Post) {
		old.Message = p.Message
		old.SetProps(p.GetProps())
		old.IsPinned, old.HasReactions, old.FileIds = p.IsPinned, p.HasReactions, p.FileIds
	})
}

// patchPost is PUT /posts/{id}/patch: only what the patch names changes.
func (s *Server) patchPost(w http.ResponseWriter, r *http.Request) {
	var patch model.PostPatch
	if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid patch")
		return
	}
	s.edit(w, r.PathValue("id"), func(old *model.Post) { old.Patch(&patch) })
}

func (s *Server) edit(w http.ResponseWriter, id string, change func(*model.Post)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.posts[id]
	if !ok || old.DeleteAt != 0 {
		// GetSinglePost failed: c.SetPermissionError(PermissionEditPost).
		forbidden(w)
		return
	}
	if s.outsider[old.ChannelId] {
		forbidden(w)
		return
	}
	p := old.Clone()
	change(p)
	if id := s.valid(p); id != "" {
		appError(w, http.StatusBadRequest, id, "invalid post")
		return
	}
	p.EditAt = time.Now().UnixMilli()
	s.posts[id] = p
	s.updates[id]++
	s.json(w, p)
}

// Error ids of a reply refused for its root, as app.CreatePost names them.
const (
	ErrRootID        = "api.post.create_post.root_id.app_error"
	ErrChannelRootID = "api.post.create_post.channel_root_id.app_error"
)

// rootProblem is why the server refuses p's root_id, "" for no reason;
// s.mu is held.
func (s *Server) rootProblem(p *model.Post) string {
	if p.RootId == "" {
		return ""
	}
	root, ok := s.posts[p.RootId]
	switch {
	case !ok || root.DeleteAt != 0 || root.RootId != "":
		return ErrRootID
	case root.ChannelId != p.ChannelId:
		return ErrChannelRootID
	}
	return ""
}

// deletePost is DELETE /posts/{id}: the post and its thread's replies are
// marked deleted.
func (s *Server) deletePost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !model.IsValidId(id) {
		appError(w, http.StatusBadRequest, "api.context.invalid_url_param.app_error", "invalid post_id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.posts[id]
	if !ok || p.DeleteAt != 0 {
		appError(w, http.StatusNotFound, "app.post.get.app_error", "post not found")
		return
	}
	if p.UserId != s.Bot.Id || s.outsider[p.ChannelId] {
		// PermissionDeleteOthersPosts, or PermissionDeletePost outside
		// the bot's channels.
		forbidden(w)
		return
	}
	now := time.Now().UnixMilli()
	for _, q := range s.posts {
		if q.Id == id || q.RootId == id {
			q.DeleteAt, q.UpdateAt = now, now
		}
	}
	s.json(w, map[string]string{"status": "OK"})
}

// getChannelMembers is GET /channels/{id}/members.
func (s *Server) getChannelMembers(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("id")
	page, perPage := pageParams(r.URL.Query())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outsider[channel] {
		forbidden(w) // PermissionReadChannel
		return
	}
	ids := append([]string{s.Bot.Id}, s.members[channel]...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	from := min(page*perPage, len(ids))
	to := min(from+perPage, len(ids))
	out := model.ChannelMembers{}
	for _, id := range ids[from:to] {
		out = append(out, model.ChannelMember{ChannelId: channel, UserId: id, Roles: "channel_user", NotifyProps: model.GetDefaultChannelNotifyProps()})
	}
	s.json(w, out)
}

// pageParams reads page and per_page as web.ParamsFromRequest does: a bad
// or negative page is 0, a bad or negative per_page 60, and per_page is at
// most 200.
func pageParams(q url.Values) (page, perPage int) {
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 0 {
		page = 0
	}
	perPage, err = strconv.Atoi(q.Get("per_page"))
	switch {
	case err != nil || perPage < 0:
		perPage = 60
	case perPage > 200:
		perPage = 200
	}
	return page, perPage
}

func (s *Server) createEphemeral(w http.ResponseWriter, r *http.Request) {
	var e model.PostEphemeral
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.Post == nil || e.UserID == "" {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid ephemeral post")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ephemeralForbidden {
		// c.SetPermissionError(model.PermissionCreatePostEphemeral)
		forbidden(w)
		return
	}
	e.Post.Id = s.nextID()
	s.ephemerals = append(s.ephemerals, Ephemeral{UserID: e.UserID, Post: e.Post, Via: "api"})
	w.WriteHeader(http.StatusCreated)
	s.json(w, e.Post)
}

func (s *Server) createDirect(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) != 2 {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid user ids")
		return
	}
	s.mu.Lock()
	_, ok0 := s.users[ids[0]]
	_, ok1 := s.users[ids[1]]
	s.mu.Unlock()
	if !ok0 || !ok1 {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "unknown user")
		return
	}
	w.WriteHeader(http.StatusCreated)
	s.json(w, &model.Channel{Id: directID(ids[0], ids[1]), Type: model.ChannelTypeDirect})
}

func (s *Server) openDialog(w http.ResponseWriter, r *http.Request) {
	var d model.OpenDialogRequest
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil || d.TriggerId == "" || d.URL == "" {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid dialog request")
		return
	}
	if err := d.Dialog.IsValid(); err != nil {
		appError(w, http.StatusBadRequest, "interactive_message.decode_trigger_id.app_error", "invalid dialog: "+err.Error())
		return
	}
	s.mu.Lock()
	user, ok := s.triggers[d.TriggerId]
	if !ok {
		s.mu.Unlock()
		appError(w, http.StatusBadRequest, "interactive_message.decode_trigger_id.app_error", "invalid trigger id")
		return
	}
	s.dialogs = append(s.dialogs, d)
	s.dialogUsers = append(s.dialogUsers, user)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	off := s.uploadsOff
	s.mu.Unlock()
	if off {
		appError(w, http.StatusNotImplemented, "api.file.attachments.disabled.app_error", "file uploads are disabled")
		return
	}
	if err := r.ParseMultipartForm(10 << 20); err != nil {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid upload")
		return
	}
	channel := r.FormValue("channel_id")
	var infos []*model.FileInfo
	s.mu.Lock()
	defer s.mu.Unlock()
	if channel == "" {
		appError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "channel_id is required")
		return
	}
	if s.outsider[channel] {
		forbidden(w)
		return
	}
	for _, fh := range r.MultipartForm.File["files"] {
		f, err := fh.Open()
		if err != nil {
			appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid upload")
			return
		}
		data, _ := io.ReadAll(f)
		f.Close()
		s.n++
		id := fmt.Sprintf("file%022d", s.n)
		s.files = append(s.files, File{ID: id, Channel: channel, Name: fh.Filename, Content: data})
		infos = append(infos, &model.FileInfo{Id: id, Name: fh.Filename, Size: int64(len(data))})
	}
	w.WriteHeader(http.StatusCreated)
	s.json(w, &model.FileUploadResponse{FileInfos: infos})
}

func (s *Server) mayManageCommands(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		no := s.commandsForbidden
		s.mu.Unlock()
		if no {
			forbidden(w)
			return
		}
		h(w, r)
	}
}

func (s *Server) teamByName(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("name") != "geboortezorg" {
		appError(w, http.StatusNotFound, "app.team.get_by_name.missing.app_error", "team not found")
		return
	}
	s.json(w, &model.Team{Id: s.TeamID, Name: "geboortezorg", DisplayName: "Geboortezorg"})
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*model.Command{}
	for _, c := range s.commands {
		if c.TeamId == r.URL.Query().Get("team_id") {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *model.Command) int { return strings.Compare(a.Trigger, b.Trigger) })
	s.json(w, out)
}

func (s *Server) createCommand(w http.ResponseWriter, r *http.Request) {
	var c model.Command
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Trigger == "" || c.URL == "" || c.TeamId == "" {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid command")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.commands {
		if old.TeamId == c.TeamId && old.Trigger == c.Trigger {
			appError(w, http.StatusBadRequest, "api.command.duplicate_trigger.app_error", "duplicate trigger")
			return
		}
	}
	s.n++
	c.Id = fmt.Sprintf("cmd%023d", s.n)
	c.Token = fmt.Sprintf("tok%023d", s.n)
	s.commands[c.Id] = &c
	w.WriteHeader(http.StatusCreated)
	s.json(w, &c)
}

func (s *Server) updateCommand(w http.ResponseWriter, r *http.Request) {
	var c model.Command
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Id != r.PathValue("id") {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid command")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.commands[c.Id]
	if !ok {
		appError(w, http.StatusNotFound, "app.command.getcommand.app_error", "command not found")
		return
	}
	// Mattermost keeps the token, team and creator of a command.
	c.Token, c.TeamId, c.CreatorId = old.Token, old.TeamId, old.CreatorId
	s.commands[c.Id] = &c
	s.json(w, &c)
}

func (s *Server) hook(w http.ResponseWriter, r *http.Request) {
	var resp model.CommandResponse
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil {
		appError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "invalid response")
		return
	}
	s.mu.Lock()
	s.hooks = append(s.hooks, HookReply{HookID: r.PathValue("id"), Response: resp})
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Attachments decodes a post's attachments.
func Attachments(p *model.Post) []*model.MessageAttachment {
	raw, err := json.Marshal(p.GetProp("attachments"))
	if err != nil {
		return nil
	}
	var out []*model.MessageAttachment
	_ = json.Unmarshal(raw, &out)
	return out
}

// Actions lists a post's buttons in order.
func Actions(p *model.Post) []*model.PostAction {
	var out []*model.PostAction
	for _, a := range Attachments(p) {
		out = append(out, a.Actions...)
	}
	return out
}

// Reply is kring's answer to something the stand-in sent it.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the answer's body into v.
func (r Reply) JSON(v any) error { return json.Unmarshal(r.Body, v) }

func send(client *http.Client, url string, header http.Header, body []byte) (Reply, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Reply{}, err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// issue makes a trigger id for user, as Mattermost does for every command
// and click; only such an id opens a dialog.
func (s *Server) issue(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	// Unique across servers and runs, as Mattermost's are: kring takes a
	// trigger id as the name of a delivery, and stores that name.
	id := fmt.Sprintf("trigger%s%013d:%s", s.run, s.n, user)
	s.triggers[id] = user
	return id
}

// Command sends a slash command to kring's commands URL as Mattermost
// does: a form post with the command's token (in the form and in an
// Authorization header) and a response URL here. A 200 answer whose body
// is not application/json is an error: Mattermost would show it as text.
func (s *Server) Command(kringURL, token, userID, channelID, line string) (Reply, error) {
	s.mu.Lock()
	u := s.users[userID]
	s.n++
	hook := fmt.Sprintf("hook%022d", s.n)
	channelName := s.names[channelID]
	s.mu.Unlock()
	if channelName == "" {
		channelName = "town-square"
	}
	username := ""
	if u != nil {
		username = u.Username
	}
	cmd, text, _ := strings.Cut(line, " ")
	form := url.Values{
		"token": {token}, "team_id": {s.TeamID}, "team_domain": {"geboortezorg"},
		"channel_id": {channelID}, "channel_name": {channelName},
		"user_id": {userID}, "user_name": {username},
		"command": {cmd}, "text": {text},
		"trigger_id":   {s.issue(userID)},
		"root_id":      {""},
		"response_url": {s.URL + "/hooks/commands/" + hook},
	}
	h := http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Accept":        {"application/json"},
		"Authorization": {"Token " + token},
	}
	r, err := send(http.DefaultClient, kringURL, h, []byte(form.Encode()))
	if err == nil && r.Status == http.StatusOK && len(r.Body) > 0 && !isJSON(r.Header) {
		err = fmt.Errorf("answer to %s is %q, not application/json: Mattermost would show it as plain text", cmd, r.Header.Get("Content-Type"))
	}
	return r, err
}

func isJSON(h http.Header) bool {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.TrimSpace(ct) == "application/json"
}

// Click clicks the button with index i (counting over all attachments) of
// a post as user, sending the action's integration its stored context and
// a fresh trigger id, as Mattermost does, and takes the answer as
// Mattermost does: its update replaces the post, its ephemeral_text is
// shown to user (see Ephemerals). An answer Mattermost would refuse (a
// 200 whose body is not JSON) is an error; other statuses are returned.
func (s *Server) Click(client *http.Client, postID string, i int, userID string) (Reply, error) {
	p := s.Post(postID)
	if p == nil {
		return Reply{}, fmt.Errorf("no post %s", postID)
	}
	actions := Actions(p)
	if i < 0 || i >= len(actions) {
		return Reply{}, fmt.Errorf("post %s has %d buttons, not %d", postID, len(actions), i+1)
	}
	a := actions[i]
	req := model.PostActionIntegrationRequest{
		UserId: userID, UserName: s.username(userID),
		ChannelId: p.ChannelId, ChannelName: "town-square", TeamId: s.TeamID, TeamName: "geboortezorg",
		PostId: postID, TriggerId: s.issue(userID),
		Type: model.PostActionTypeButton, Context: a.Integration.Context,
	}
	body, _ := json.Marshal(req)
	if client == nil {
		client = http.DefaultClient
	}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	r, err := send(client, a.Integration.URL, h, body)
	if err != nil || r.Status != http.StatusOK || len(r.Body) == 0 {
		return r, err
	}
	var resp model.PostActionIntegrationResponse
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		return r, fmt.Errorf("answer to a click is not JSON, Mattermost would refuse it: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := resp.Update; u != nil {
		old := s.posts[postID]
		u.Id, u.ChannelId, u.UserId, u.CreateAt = postID, old.ChannelId, old.UserId, old.CreateAt
		if u.GetProps() == nil {
			u.SetProps(old.GetProps())
		}
		u.IsPinned, u.HasReactions = old.IsPinned, old.HasReactions
		u.EditAt = time.Now().UnixMilli()
		s.posts[postID] = u
		s.updates[postID]++
	}
	if resp.EphemeralText != "" {
		text := resp.EphemeralText
		if !resp.SkipSlackParsing {
			text = model.ParseSlackLinksToMarkdown(text)
		}
		s.n++
		e := &model.Post{Id: fmt.Sprintf("post%022d", s.n), ChannelId: p.ChannelId, RootId: postID, UserId: userID, Message: text, Type: model.PostTypeEphemeral}
		s.ephemerals = append(s.ephemerals, Ephemeral{UserID: userID, Post: e, Via: "action"})
	}
	s.notifyLocked()
	return r, nil
}

// Submit submits the i-th opened dialog as user with the values given, as
// Mattermost does; channelID is the channel the user is looking at. Only
// the user the dialog was opened for can submit it.
func (s *Server) Submit(i int, userID, channelID string, values map[string]any) (Reply, error) {
	return s.submit(i, userID, channelID, values, false)
}

// Cancel cancels the i-th opened dialog as Mattermost does when the dialog
// asked to be told (notify_on_cancel); otherwise nothing is sent.
func (s *Server) Cancel(i int, userID, channelID string) (Reply, error) {
	return s.submit(i, userID, channelID, map[string]any{}, true)
}

func (s *Server) submit(i int, userID, channelID string, values map[string]any, cancel bool) (Reply, error) {
	ds := s.Dialogs()
	if i < 0 || i >= len(ds) {
		return Reply{}, fmt.Errorf("%d dialogs opened, not %d", len(ds), i+1)
	}
	s.mu.Lock()
	shownTo := s.dialogUsers[i]
	s.mu.Unlock()
	if shownTo != userID {
		return Reply{}, fmt.Errorf("dialog %d was shown to %s, not %s", i, shownTo, userID)
	}
	d := ds[i]
	if cancel && !d.Dialog.NotifyOnCancel {
		return Reply{Status: http.StatusOK}, nil
	}
	req := model.SubmitDialogRequest{
		Type: "dialog_submission", CallbackId: d.Dialog.CallbackId, State: d.Dialog.State,
		UserId: userID, ChannelId: channelID, TeamId: s.TeamID, Submission: values, Cancelled: cancel,
	}
	body, _ := json.Marshal(req)
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	return send(http.DefaultClient, d.URL, h, body)
}

func (s *Server) username(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		return u.Username
	}
	return ""
}
