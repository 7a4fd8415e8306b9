package shell

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kringbot/kring/bot"
)

// The shell has every platform ability, in the terminal's terms: the
// members of a channel are the people who typed there this session, the
// users it knows are those, with the time zone ":user NAME ZONE" gave, a
// mention is @name, a reply is printed indented under the id of its root,
// and a deleted message is announced (a terminal cannot take back what it
// printed).
var (
	_ bot.Roster    = (*Shell)(nil)
	_ bot.Directory = (*Shell)(nil)
	_ bot.Mentioner = (*Shell)(nil)
	_ bot.Threader  = (*Shell)(nil)
	_ bot.Deleter   = (*Shell)(nil)
)

// replyIndent sets a reply off from the channel's messages.
const replyIndent = "    "

// posted is a message of kring's this session printed.
type posted struct {
	where bot.Where
	root  string // the thread's root, for a reply
	gone  bool
}

// find returns the message ref names, or an error when this session did
// not post it or it was deleted.
func (s *Shell) find(ref bot.Ref) (*posted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posted[ref.ID]
	if p == nil || p.where.Channel != ref.Channel {
		return nil, fmt.Errorf("shell: no message %s in #%s this session", ref.ID, ref.Channel)
	}
	if p.gone {
		return nil, fmt.Errorf("shell: message %s in #%s was deleted", ref.ID, ref.Channel)
	}
	return p, nil
}

// noteSpoke remembers that user typed in where, which makes them a member.
func (s *Shell) noteSpoke(where bot.Where, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spoke == nil {
		s.spoke = map[string][]string{}
	}
	if !slices.Contains(s.spoke[where.Key()], user) {
		s.spoke[where.Key()] = append(s.spoke[where.Key()], user)
	}
}

// Members implements bot.Roster: whoever typed a command, clicked or
// submitted a form in the channel this session.
func (s *Shell) Members(_ context.Context, where bot.Where) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.spoke[where.Key()]), nil
}

// setZone gives user a time zone; false when zone names none.
func (s *Shell) setZone(user, zone string) bool {
	if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zones == nil {
		s.zones = map[string]string{}
	}
	s.zones[user] = zone
	return true
}

// known is user as the shell knows them: their name is their id, their
// zone the one :user gave them ("" for none).
func (s *Shell) known(user string) bot.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bot.User{ID: user, Name: user, TZ: s.zones[user]}
}

// Users implements bot.Directory: every user the shell was told of, by
// :user or by typing, with their time zone where :user gave one.
func (s *Shell) Users(_ context.Context, _ bot.Where, ids []string) map[string]bot.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bot.User{}
	for _, id := range ids {
		_, zoned := s.zones[id]
		if zoned || s.hasSpoken(id) {
			out[id] = bot.User{ID: id, Name: id, TZ: s.zones[id]}
		}
	}
	return out
}

// hasSpoken reports whether user typed anywhere this session; s.mu held.
func (s *Shell) hasSpoken(user string) bool {
	for _, users := range s.spoke {
		if slices.Contains(users, user) {
			return true
		}
	}
	return false
}

// Mention implements bot.Mentioner: @name, a user's id being their name.
func (s *Shell) Mention(_ context.Context, _ bot.Where, userID string) string {
	return "@" + bot.Escape(userID)
}

// Reply implements bot.Threader: the reply is printed indented, under the
// id of its root. A reply to a reply joins its root's thread.
func (s *Shell) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	p, err := s.find(root)
	if err != nil {
		return bot.Ref{}, err
	}
	top := root.ID
	if p.root != "" {
		top = p.root
	}
	ref := s.newRef(root.Where, top)
	s.printAt(replyIndent, s.tr(ctx).S("shell.reply", "Channel", root.Channel, "ID", ref.ID, "Root", top), m, ref)
	return ref, nil
}

// Delete implements bot.Deleter: the shell says the message was removed.
func (s *Shell) Delete(ctx context.Context, ref bot.Ref) error {
	p, err := s.find(ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	p.gone = true
	s.mu.Unlock()
	s.say(s.tr(ctx).S("shell.deleted", "Channel", ref.Channel, "ID", ref.ID))
	return nil
}
