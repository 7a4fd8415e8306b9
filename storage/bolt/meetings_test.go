package bolt_test

import (
	"testing"

	"github.com/kringbot/kring/bot/meeting"
	"github.com/kringbot/kring/storage/storagetest"
)

func TestMeetings(t *testing.T) {
	storagetest.TestMeetings(t, func(t *testing.T) meeting.Store { return open(t).Meetings() })
}
