package redis

import (
	"testing"

	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/storage/storagetest"
)

func TestMeetings(t *testing.T) {
	requireRedis(t)
	storagetest.TestMeetings(t, func(t *testing.T) meeting.Store { return newStore(t).Meetings() })
}
