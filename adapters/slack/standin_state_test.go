package slack

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// standinBot is the user id of kring's bot in the stand-in (auth.test).
const standinBot = "UBOT"

// standinState is what the Web API stand-in holds, so that it answers as
// Slack does for what came before: the channels a test declared, and every
// message posted, updated or deleted.
//
// What it follows of Slack:
//   - A channel a test never declared is a public channel the bot is in,
//     with no other members known; a declared one has its members. The bot
//     posting, updating or deleting in a declared channel it is not in gets
//     not_in_channel (public) or channel_not_found (private: the bot cannot
//     see it), as does conversations.members for a private one.
//   - chat.update and chat.delete of a ts that names no message of the
//     channel get message_not_found; of a message the bot did not post,
//     cant_update_message and cant_delete_message.
//   - chat.postMessage with a thread_ts puts the message in that thread; a
//     reply's ts puts it in its root's thread (Slack asks for the root's,
//     and threads are one level deep). A thread_ts that names no message of
//     the channel gets invalid_thread_ts, which is what clients report;
//     should Slack post such a message in the channel instead, the
//     stand-in is the stricter of the two. Deleting a root leaves its
//     replies, as Slack leaves them under a "deleted" tombstone.
//   - chat.postEphemeral to a user who is not a member of a declared
//     channel gets user_not_in_channel.
//   - conversations.members answers pages of at most limit members (100
//     when not given, at most 1,000) with a next_cursor until the last; a
//     cursor it did not give gets invalid_cursor. It lists bots and
//     deactivated members as it lists anyone.
//   - users.info answers a user a test declared (addUser) with its tz,
//     is_bot and deleted; an id that is no Slack user id (U or W and
//     capitals or digits) gets user_not_found, as does one declared gone
//     (forgetUser). Any other id is a person in Europe/Amsterdam named
//     after the id, so tests need not declare everyone who clicks.
type standinState struct {
	users      map[string]*standinUser // declared; nil entry: not found
	channels   map[string]*standinChannel
	messages   map[string]*standinMessage // by channel + "/" + ts
	ephemerals []standinMessage           // User is whom it was shown to
}

// standinUser is a user as users.info tells about them.
type standinUser struct {
	TZ      string
	Bot     bool
	Deleted bool
}

// addUser declares a user with a time zone, and whether it is a bot or
// deactivated.
func (s *standin) addUser(id, tz string, isBot, deleted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.users == nil {
		s.state.users = map[string]*standinUser{}
	}
	s.state.users[id] = &standinUser{TZ: tz, Bot: isBot, Deleted: deleted}
}

// forgetUser makes users.info answer user_not_found for id.
func (s *standin) forgetUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.users == nil {
		s.state.users = map[string]*standinUser{}
	}
	s.state.users[id] = nil
}

type standinChannel struct {
	private bool
	members []string
}

// standinMessage is a message as Slack holds it.
type standinMessage struct {
	Channel, TS string
	Thread      string // the root's ts for a reply in a thread
	User        string // standinBot for kring's
	Text        string
	Blocks      string // the blocks JSON as posted
}

// addChannel declares a channel with its members; the bot is a member
// when standinBot is among them.
func (s *standin) addChannel(id string, private bool, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.channels == nil {
		s.state.channels = map[string]*standinChannel{}
	}
	s.state.channels[id] = &standinChannel{private: private, members: slices.Clone(members)}
}

// postAs puts a message of user into channel, as if they wrote it, and
// returns its ts.
func (s *standin) postAs(user, channel, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ts++
	ts := fmt.Sprintf("1700000000.%06d", s.ts)
	s.state.put(&standinMessage{Channel: channel, TS: ts, User: user, Text: text})
	return ts
}

// held returns the messages channel holds now, oldest first.
func (s *standin) held(channel string) []standinMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []standinMessage
	for _, m := range s.state.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b standinMessage) int { return strings.Compare(a.TS, b.TS) })
	return out
}

// shownTo returns the ephemeral messages user was shown in channel.
func (s *standin) shownTo(channel, user string) []standinMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []standinMessage
	for _, m := range s.state.ephemerals {
		if m.Channel == channel && m.User == user {
			out = append(out, m)
		}
	}
	return out
}

func (st *standinState) put(m *standinMessage) {
	if st.messages == nil {
		st.messages = map[string]*standinMessage{}
	}
	st.messages[m.Channel+"/"+m.TS] = m
}

// access is the error Slack answers the bot with in channel, "" for none.
func (st *standinState) access(channel string) string {
	ch := st.channels[channel]
	switch {
	case ch == nil || slices.Contains(ch.members, standinBot):
		return ""
	case ch.private:
		return "channel_not_found"
	default:
		return "not_in_channel"
	}
}

// applyToState applies a call to what the stand-in holds. It answers the
// call itself, and reports so, when Slack would refuse it or when only the
// state can answer it (chat.delete, conversations.members); otherwise the
// call is answered as before.
func (s *standin) applyToState(w http.ResponseWriter, c call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.state
	channel := c.Form.Get("channel")
	refuse := func(slackErr string) bool {
		writeJSON(w, map[string]any{"ok": false, "error": slackErr})
		return true
	}
	switch c.Method {
	case "chat.postMessage":
		if e := st.access(channel); e != "" {
			return refuse(e)
		}
		m := &standinMessage{Channel: channel, TS: c.TS, User: standinBot, Text: c.Form.Get("text"), Blocks: c.Form.Get("blocks")}
		if thread := c.Form.Get("thread_ts"); thread != "" {
			root := st.messages[channel+"/"+thread]
			if root == nil {
				return refuse("invalid_thread_ts")
			}
			m.Thread = root.TS
			if root.Thread != "" {
				m.Thread = root.Thread
			}
		}
		st.put(m)
	case "chat.update", "chat.delete":
		if e := st.access(channel); e != "" {
			return refuse(e)
		}
		key := channel + "/" + c.Form.Get("ts")
		m := st.messages[key]
		switch {
		case m == nil:
			return refuse("message_not_found")
		case m.User != standinBot && c.Method == "chat.update":
			return refuse("cant_update_message")
		case m.User != standinBot:
			return refuse("cant_delete_message")
		case c.Method == "chat.update":
			m.Text, m.Blocks = c.Form.Get("text"), c.Form.Get("blocks")
		default:
			delete(st.messages, key)
			writeJSON(w, map[string]any{"ok": true, "channel": channel, "ts": m.TS})
			return true
		}
	case "chat.postEphemeral":
		if e := st.access(channel); e != "" {
			return refuse(e)
		}
		if ch := st.channels[channel]; ch != nil && !slices.Contains(ch.members, c.Form.Get("user")) {
			return refuse("user_not_in_channel")
		}
		st.ephemerals = append(st.ephemerals, standinMessage{Channel: channel, TS: c.TS, User: c.Form.Get("user"), Text: c.Form.Get("text"), Blocks: c.Form.Get("blocks")})
	case "users.info":
		id := c.Form.Get("user")
		u, declared := st.users[id]
		if !slackUserID.MatchString(id) || declared && u == nil {
			return refuse("user_not_found")
		}
		if !declared {
			u = &standinUser{TZ: "Europe/Amsterdam"}
		}
		writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
			"id": id, "name": strings.ToLower(id), "real_name": "Real " + id, "tz": u.TZ,
			"is_bot": u.Bot, "deleted": u.Deleted,
			"profile": map[string]any{"display_name": "Name " + id},
		}})
		return true
	case "conversations.members":
		members := []string{standinBot}
		if ch := st.channels[channel]; ch != nil {
			if ch.private && !slices.Contains(ch.members, standinBot) {
				return refuse("channel_not_found")
			}
			members = ch.members
		}
		limit := 100
		if l := c.Form.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				return refuse("invalid_limit")
			}
			limit = min(n, 1000)
		}
		from, ok := parseCursor(c.Form.Get("cursor"), len(members))
		if !ok {
			return refuse("invalid_cursor")
		}
		to := min(from+limit, len(members))
		next := ""
		if to < len(members) {
			next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(to)))
		}
		writeJSON(w, map[string]any{
			"ok": true, "members": slices.Clone(members[from:to]),
			"response_metadata": map[string]any{"next_cursor": next},
		})
		return true
	}
	return false
}

// parseCursor reads a conversations.members cursor the stand-in gave out
// for a list of n members; "" is the start.
func parseCursor(cur string, n int) (int, bool) {
	if cur == "" {
		return 0, true
	}
	raw, err := base64.StdEncoding.DecodeString(cur)
	if err != nil {
		return 0, false
	}
	off, ok := strings.CutPrefix(string(raw), "offset:")
	from, err := strconv.Atoi(off)
	if !ok || err != nil || from < 0 || from > n {
		return 0, false
	}
	return from, true
}
