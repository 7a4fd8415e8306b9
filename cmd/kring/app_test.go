package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/schedule"
)

// pages is a feature with a web page, as the meetings' calendar feeds and
// the public praktijkvoorbeelden will be.
type pages struct{ closed bool }

func (p *pages) Register(*bot.Mux, *schedule.Runner) {}
func (p *pages) Close()                              { p.closed = true }
func (p *pages) Routes(web *http.ServeMux) {
	web.HandleFunc("GET /pages/hello", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hallo")) })
}

func TestFeaturesPlugInWhole(t *testing.T) {
	a := &app{}
	p := &pages{}
	a.features = append(registerFeatures(&bot.Mux{}, nil, features{}), p)
	web := http.NewServeMux()
	a.routes(web)
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "/pages/hello", nil))
	if rec.Code != 200 || rec.Body.String() != "hallo" {
		t.Fatalf("the feature's page: %d %q", rec.Code, rec.Body)
	}
	for _, f := range a.features {
		f.Close()
	}
	if !p.closed {
		t.Fatal("the feature was not stopped")
	}
	if len(a.features) != 4 {
		t.Fatalf("%d features, want /poll, /meeting, /kring and the test's", len(a.features))
	}
}
