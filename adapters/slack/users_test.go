package slack

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// userInfoAPI answers users.info only; the rest of webAPI is never called.
type userInfoAPI struct {
	webAPI
	user slack.User
}

func (a userInfoAPI) GetUserInfoContext(context.Context, string, ...slack.GetUserInfoOption) (*slack.User, error) {
	return &a.user, nil
}

func TestUserLookupCarriesLocale(t *testing.T) {
	api := userInfoAPI{user: slack.User{ID: "U1", Name: "anna", TZ: "Europe/Amsterdam", Locale: "nl-NL",
		Profile: slack.UserProfile{DisplayName: "Anna"}}}
	u := &users{api: api, now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	got := u.lookup(context.Background(), "T1", "U1", "anna")
	if got.Locale != "nl-NL" || got.Name != "Anna" || got.TZ != "Europe/Amsterdam" {
		t.Errorf("lookup = %+v, want Anna in Europe/Amsterdam with locale nl-NL", got)
	}
}
