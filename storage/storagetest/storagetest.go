// Package storagetest checks kring's stores against the contracts their
// interfaces spell out, as testing/fstest checks a file system: each suite
// takes a constructor of empty stores and runs every rule as a subtest.
// storage/bolt and storage/redis run every suite; a backend that fails one
// is not done.
//
// The suites pass explicit times (Claim takes now) and never sleep.
package storagetest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
)

// t0 is the time the suites' stories start at.
var t0 = time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)

var (
	channelA = bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C1"}
	channelB = bot.Where{Platform: bot.Slack, Team: "T1", Channel: "C2"}
	// channelA2 has channelA's channel id in another team.
	channelA2 = bot.Where{Platform: bot.Slack, Team: "T2", Channel: "C1"}
)

// asJSON renders v for comparison and for readable failure messages.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// Vote is a click by voter on option of poll id in channelA, the channel
// every poll of these suites is in; an anonymous poll keeps voter as its
// key.
func Vote(ctx context.Context, s poll.Store, id, voter, name string, option int) (poll.Ballot, error) {
	c, err := s.Click(ctx, poll.Click{Poll: id, Channel: channelA, Voter: voter, AnonKey: voter, Name: name, Option: option})
	return c.Ballot, err
}
