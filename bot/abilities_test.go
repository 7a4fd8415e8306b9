package bot_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// able is a recording Poster with every ability.
type able struct {
	*bottest.Poster
	replies []bot.Ref
	deleted []bot.Ref
}

func (a *able) Members(_ context.Context, w bot.Where) ([]string, error) {
	return []string{"U1", "U2"}, nil
}

func (a *able) Users(_ context.Context, _ bot.Where, ids []string) map[string]bot.User {
	out := map[string]bot.User{}
	for _, id := range ids {
		if id == "U1" {
			out[id] = bot.User{ID: id, Name: "Anna", TZ: "America/Curacao"}
		}
	}
	return out
}

func (a *able) Mention(_ context.Context, _ bot.Where, id string) string { return "@" + id }

func (a *able) Reply(ctx context.Context, root bot.Ref, m bot.Message) (bot.Ref, error) {
	a.replies = append(a.replies, root)
	return a.Post(ctx, root.Where, m)
}

func (a *able) Delete(_ context.Context, ref bot.Ref) error {
	a.deleted = append(a.deleted, ref)
	return nil
}

var (
	slackC = bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	mmC    = bot.Where{Platform: bot.Mattermost, Channel: "c1"}
)

// TestAbilitiesThroughPosters: Posters forwards each ability to the
// platform's Poster, and where that Poster lacks one the functions fall
// back as their doc comments say.
func TestAbilitiesThroughPosters(t *testing.T) {
	ctx := context.Background()
	full, plain := &able{Poster: bottest.NewPoster()}, bottest.NewPoster()
	ps := bot.Posters{bot.Slack: full, bot.Mattermost: plain}

	if ids, err := bot.ChannelMembers(ctx, ps, slackC); err != nil || !slices.Equal(ids, []string{"U1", "U2"}) {
		t.Errorf("slack members = %v, %v", ids, err)
	}
	if _, err := bot.ChannelMembers(ctx, ps, mmC); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("mattermost members: err = %v, want ErrUnsupported", err)
	}
	if _, err := bot.ChannelMembers(ctx, ps, bot.Where{Platform: "irc"}); err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("members on a platform without a poster: err = %v", err)
	}

	if !bot.ListsMembers(ps, slackC) || bot.ListsMembers(ps, mmC) {
		t.Errorf("ListsMembers: slack %v, mattermost %v; want true, false", bot.ListsMembers(ps, slackC), bot.ListsMembers(ps, mmC))
	}

	if got := bot.UserProfiles(ctx, ps, slackC, []string{"U1", "U9"}); len(got) != 1 || got["U1"].TZ != "America/Curacao" {
		t.Errorf("slack users = %v, want U1 with a zone", got)
	}
	if got := bot.UserProfiles(ctx, ps, mmC, []string{"u1"}); got != nil {
		t.Errorf("mattermost users = %v, want nothing from a Poster without a directory", got)
	}
	if got := bot.UserProfiles(ctx, ps, bot.Where{Platform: "irc"}, []string{"u1"}); got != nil {
		t.Errorf("users on a platform without a poster = %v", got)
	}

	if got := bot.MentionOf(ctx, ps, slackC, bot.User{ID: "U1", Name: "Anna"}); got != "@U1" {
		t.Errorf("slack mention = %q", got)
	}
	if got := bot.MentionOf(ctx, ps, mmC, bot.User{ID: "u1", Name: "*Anna*"}); got != `\*Anna\*` {
		t.Errorf("mattermost mention = %q, want the name escaped", got)
	}

	root, _ := ps.Post(ctx, slackC, bot.Message{Text: "root"})
	if _, err := bot.ReplyInThread(ctx, ps, root, bot.Message{Text: "reply"}); err != nil || len(full.replies) != 1 || full.replies[0] != root {
		t.Errorf("slack reply: %v, replies %v", err, full.replies)
	}
	mroot, _ := ps.Post(ctx, mmC, bot.Message{Text: "root"})
	ref, err := bot.ReplyInThread(ctx, ps, mroot, bot.Message{Text: "reply"})
	if err != nil || ref.Where != mmC || ref.ID == mroot.ID {
		t.Errorf("mattermost reply = %v, %v; want a new post in the channel", ref, err)
	}

	if err := bot.DeleteMessage(ctx, ps, root, bot.Message{Text: "weg"}); err != nil || len(full.deleted) != 1 {
		t.Errorf("slack delete: %v, deleted %v", err, full.deleted)
	}
	if err := bot.DeleteMessage(ctx, ps, mroot, bot.Message{Text: "weg"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := plain.Message(mroot); m.Text != "weg" {
		t.Errorf("mattermost message after delete = %q, want it replaced by the removal note", m.Text)
	}
}
