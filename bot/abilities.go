package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Abilities that not every platform has are small interfaces beside
// Poster, the way go-joe/joe grows its Adapter: an adapter's Poster
// implements the ones its platform offers, and a feature asks for them
// through the functions below, which say what happens where one is
// missing. A Poster that routes or wraps others (Posters, pace.Poster)
// has every ability's method and answers errors.ErrUnsupported (Mention:
// "") where the Poster behind it lacks the ability, so asserting the
// interface on it proves nothing; the functions below handle both.

// Roster is a Poster that can list who is in a channel: a feature that
// nudges the members who have not voted yet needs it.
type Roster interface {
	// Members returns the user ids of the people in the channel, in no
	// particular order: the bot itself, other bots and deactivated
	// accounts left out (a member the platform cannot tell about stays
	// in). The list may be up to a minute old, so a feature that writes
	// to every member does not list a busy channel for each message.
	Members(ctx context.Context, where Where) ([]string, error)
}

// Directory is a Poster that can tell about users beyond the request
// that carried them: a reminder written to a member hours later shows
// times in their own zone, in their own language.
type Directory interface {
	// Users returns what the platform tells about the users with ids:
	// their name, IANA time zone (User.TZ) and language (User.Locale)
	// where it knows them. An id it cannot tell about is left out; it
	// never fails. User ids are unique on a platform, so where only
	// picks the platform.
	Users(ctx context.Context, where Where, ids []string) map[string]User
}

// Mentioner is a Poster that can name a user so that the platform
// notifies them.
type Mentioner interface {
	// Mention returns message markup that mentions the user, to be put
	// into a message as it is (not through Escape), or "" where the
	// platform cannot mention this user.
	Mention(ctx context.Context, where Where, userID string) string
}

// Threader is a Poster that can reply in a message's thread, so a
// reminder or a decision sits under the message it is about instead of
// scrolling the channel.
type Threader interface {
	// Reply posts m in the thread of root, a message posted with Post.
	// The Ref it returns can be updated like any other.
	Reply(ctx context.Context, root Ref, m Message) (Ref, error)
}

// Deleter is a Poster that can delete a message it posted.
type Deleter interface {
	// Delete removes the message. A message that is gone already (a
	// second Delete, a message never posted) is an error.
	Delete(ctx context.Context, ref Ref) error
}

// ChannelMembers lists the members of where through p. Where p cannot list them
// the error wraps errors.ErrUnsupported: a feature then leaves out what
// needs the list (a nudge to those who have not voted) rather than guess.
func ChannelMembers(ctx context.Context, p Poster, where Where) ([]string, error) {
	r, ok := p.(Roster)
	if !ok {
		return nil, unsupported(where.Platform, "list channel members")
	}
	return r.Members(ctx, where)
}

// ListsMembers reports whether p can list the members of where's
// channel, without listing them: a feature that will need the list later
// (a nudge hours from now) says at once when it will not have it. It asks
// with a context that has already ended: a Poster without the ability
// answers errors.ErrUnsupported before it asks anyone, and one with it
// fails on the context without a round trip (or answers from its cache).
func ListsMembers(p Poster, where Where) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ChannelMembers(ctx, p, where)
	return !errors.Is(err, errors.ErrUnsupported)
}

// UserProfiles returns what p can tell about the users with ids (see
// Directory), or nil where p cannot tell anything: a feature then shows
// times in the workspace's zone.
func UserProfiles(ctx context.Context, p Poster, where Where, ids []string) map[string]User {
	if d, ok := p.(Directory); ok {
		return d.Users(ctx, where, ids)
	}
	return nil
}

// MentionOf returns markup that mentions u through p, or, where the
// platform cannot, u's name escaped: the message then names the user
// without notifying them.
func MentionOf(ctx context.Context, p Poster, where Where, u User) string {
	if m, ok := p.(Mentioner); ok {
		if s := m.Mention(ctx, where, u.ID); s != "" {
			return s
		}
	}
	return Escape(u.Label())
}

// ReplyInThread posts m in root's thread through p, or, where the platform has no
// threads, as a new message in root's channel: the reply is then as
// visible as any post, so m should say what it answers.
func ReplyInThread(ctx context.Context, p Poster, root Ref, m Message) (Ref, error) {
	if t, ok := p.(Threader); ok {
		ref, err := t.Reply(ctx, root, m)
		if !errors.Is(err, errors.ErrUnsupported) {
			return ref, err
		}
	}
	return p.Post(ctx, root.Where, m)
}

// DeleteMessage removes the message at ref through p, or, where the platform
// cannot delete, replaces it with gone (a line saying it was removed), so
// that what it said is gone either way.
func DeleteMessage(ctx context.Context, p Poster, ref Ref, gone Message) error {
	if d, ok := p.(Deleter); ok {
		err := d.Delete(ctx, ref)
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	return p.Update(ctx, ref, gone)
}

// mentionScheme marks a link in kring markup as a mention of a user.
const mentionScheme = "mention:"

// MentionLink is kring markup that mentions userID: a link that an
// adapter's renderer writes as its platform's mention (Slack's <@U…>), and
// that shows as label where no mention can be written (plain text, a
// header). User text cannot make one: Escape escapes the '['.
func MentionLink(userID, label string) string {
	return "[" + Escape(label) + "](" + mentionScheme + userID + ")"
}

// MentionedUser reports whether a link's URL is a mention, and of whom.
func MentionedUser(url string) (userID string, ok bool) {
	return strings.CutPrefix(url, mentionScheme)
}

// unsupported is the error of a Poster that lacks an ability.
func unsupported(platform, what string) error {
	return fmt.Errorf("%s cannot %s: %w", platform, what, errors.ErrUnsupported)
}
