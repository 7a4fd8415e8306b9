package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/bottest"
)

// TestMeetingFeedRoute: kring wires /meeting with its calendar feed on
// the web server: the address /meeting agenda-link gives, under
// KRING_PUBLIC_URL, serves the channel's meetings as text/calendar, and
// an unknown token is not found.
func TestMeetingFeedRoute(t *testing.T) {
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	m.Config = Config{
		Store: "bolt:" + t.TempDir() + "/kring.db", Locale: "nl", Timezone: "Europe/Amsterdam",
		PublicURL: "https://kring.example.org",
	}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	clock := bottest.NewClock(time.Date(2026, 1, 13, 14, 30, 0, 0, ams))
	a, err := m.newApp(context.Background(), slog.New(slog.DiscardHandler), clock, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	a.posters[bot.Shell] = bottest.NewPoster()
	web := http.NewServeMux()
	a.routes(web)

	where := bot.Where{Platform: bot.Shell, Team: "t", Channel: "projectleiders"}
	command := func(text string) string {
		r := a.mux.ServeCommand(context.Background(), &bot.Request{Where: where, User: bot.User{ID: "anna", Name: "Anna"}, Command: "/meeting", Text: text})
		if r.Message == nil {
			t.Fatalf("/meeting %s: no reply", text)
		}
		return r.Message.Text
	}
	if r := command(`"Maandoverleg projectleiders" elke derde donderdag 10:00 --duur=90m --plaats=Online`); !strings.Contains(r, "ID") {
		t.Fatalf("create: %s", r)
	}
	url := regexp.MustCompile(`https://kring\.example\.org(/ics/\S+\.ics)`).FindStringSubmatch(command("agenda-link"))
	if url == nil {
		t.Fatal("no feed URL")
	}
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", url[1], nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(rec.Body.String(), "SUMMARY:Maandoverleg projectleiders") || !strings.Contains(rec.Body.String(), "RRULE:FREQ=MONTHLY;BYDAY=+3TH") {
		t.Fatalf("GET %s: %d %v\n%s", url[1], rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "/ics/onbekend.ics", nil))
	if rec.Code != 404 {
		t.Fatalf("an unknown feed: %d", rec.Code)
	}
}
