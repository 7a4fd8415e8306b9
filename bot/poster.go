package bot

import (
	"context"
	"fmt"
	"time"
)

// Poster is what a feature may do on a chat platform. Each adapter
// implements it; features get one injected and never learn which platform
// is behind it.
type Poster interface {
	// Post posts m publicly in a channel, as the bot, so it can be updated.
	Post(ctx context.Context, where Where, m Message) (Ref, error)
	// Update replaces a posted message.
	Update(ctx context.Context, ref Ref, m Message) error
	// Ephemeral shows m to one user in a channel, and to nobody else.
	Ephemeral(ctx context.Context, where Where, userID string, m Message) error
	// DM sends m to a user in a direct conversation with the bot. Only the
	// Platform and Team of where are used.
	DM(ctx context.Context, where Where, userID string, m Message) (Ref, error)
	// OpenForm opens f for the user whose click or command carried
	// triggerID. where says the conversation the submission belongs to.
	OpenForm(ctx context.Context, where Where, triggerID string, f Form) error
	// Upload shares a file in a channel.
	Upload(ctx context.Context, where Where, f File) error
}

// Posters routes each call to the Poster of the platform it concerns, so a
// process serving Slack and Mattermost at once gives features one Poster.
type Posters map[string]Poster

var _ Poster = Posters(nil)

func (ps Posters) pick(platform string) (Poster, error) {
	p, ok := ps[platform]
	if !ok {
		return nil, fmt.Errorf("no poster for platform %q", platform)
	}
	return p, nil
}

// Post implements Poster.
func (ps Posters) Post(ctx context.Context, where Where, m Message) (Ref, error) {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return Ref{}, err
	}
	return p.Post(ctx, where, m)
}

// Update implements Poster.
func (ps Posters) Update(ctx context.Context, ref Ref, m Message) error {
	p, err := ps.pick(ref.Platform)
	if err != nil {
		return err
	}
	return p.Update(ctx, ref, m)
}

// Ephemeral implements Poster.
func (ps Posters) Ephemeral(ctx context.Context, where Where, userID string, m Message) error {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return err
	}
	return p.Ephemeral(ctx, where, userID, m)
}

// DM implements Poster.
func (ps Posters) DM(ctx context.Context, where Where, userID string, m Message) (Ref, error) {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return Ref{}, err
	}
	return p.DM(ctx, where, userID, m)
}

// OpenForm implements Poster.
func (ps Posters) OpenForm(ctx context.Context, where Where, triggerID string, f Form) error {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return err
	}
	return p.OpenForm(ctx, where, triggerID, f)
}

// Upload implements Poster.
func (ps Posters) Upload(ctx context.Context, where Where, f File) error {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return err
	}
	return p.Upload(ctx, where, f)
}

// Namer is a Poster that can tell users' display names, so a live message
// rendered long after the click that named a voter shows them as the
// platform does. It never fails: an id it cannot name is left out of the
// map, and the caller shows what it has.
type Namer interface {
	Names(ctx context.Context, where Where, ids []string) map[string]string
}

// Names implements Namer for the platform of where, when its Poster does.
func (ps Posters) Names(ctx context.Context, where Where, ids []string) map[string]string {
	if n, ok := ps[where.Platform].(Namer); ok {
		return n.Names(ctx, where, ids)
	}
	return nil
}

// Clock tells the time. Features take one so tests can move time on.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

var (
	_ Roster    = Posters(nil)
	_ Directory = Posters(nil)
	_ Mentioner = Posters(nil)
	_ Threader  = Posters(nil)
	_ Deleter   = Posters(nil)
)

// Members implements Roster for the platform of where, when its Poster
// does; otherwise the error wraps errors.ErrUnsupported.
func (ps Posters) Members(ctx context.Context, where Where) ([]string, error) {
	p, err := ps.pick(where.Platform)
	if err != nil {
		return nil, err
	}
	return ChannelMembers(ctx, p, where)
}

// Users implements Directory for the platform of where, when its Poster
// does; otherwise it tells nothing.
func (ps Posters) Users(ctx context.Context, where Where, ids []string) map[string]User {
	return UserProfiles(ctx, ps[where.Platform], where, ids)
}

// Mention implements Mentioner for the platform of where, when its Poster
// does; otherwise it returns "".
func (ps Posters) Mention(ctx context.Context, where Where, userID string) string {
	if m, ok := ps[where.Platform].(Mentioner); ok {
		return m.Mention(ctx, where, userID)
	}
	return ""
}

// Reply implements Threader for the platform of root, when its Poster
// does; otherwise the error wraps errors.ErrUnsupported.
func (ps Posters) Reply(ctx context.Context, root Ref, m Message) (Ref, error) {
	p, err := ps.pick(root.Platform)
	if err != nil {
		return Ref{}, err
	}
	t, ok := p.(Threader)
	if !ok {
		return Ref{}, unsupported(root.Platform, "reply in a thread")
	}
	return t.Reply(ctx, root, m)
}

// Delete implements Deleter for the platform of ref, when its Poster
// does; otherwise the error wraps errors.ErrUnsupported.
func (ps Posters) Delete(ctx context.Context, ref Ref) error {
	p, err := ps.pick(ref.Platform)
	if err != nil {
		return err
	}
	d, ok := p.(Deleter)
	if !ok {
		return unsupported(ref.Platform, "delete a message")
	}
	return d.Delete(ctx, ref)
}
