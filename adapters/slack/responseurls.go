package slack

import (
	"time"

	"github.com/kringbot/kring/adapters/expiring"
	"github.com/kringbot/kring/bot"
)

// responseURLs remembers recent response_urls (valid for 30 minutes at
// Slack): per user and conversation, to reach users where the bot is not a
// member, and per ephemeral message, to update it. Every click puts one,
// so each put and get costs O(1) however many are held.
type responseURLs struct {
	now func() time.Time
	m   *expiring.Map[string, string]
}

const (
	// responseURLLife is a response_url's life at Slack, less a margin.
	responseURLLife = 25 * time.Minute
	// maxResponseURLs bounds the memory: a burst of 100,000 clicks within
	// 25 minutes forgets its oldest response_urls, which only late replies
	// to those clicks would have used.
	maxResponseURLs = 100_000
)

func newResponseURLs(now func() time.Time) *responseURLs {
	return &responseURLs{now: now, m: expiring.New[string, string](maxResponseURLs)}
}

func (r *responseURLs) put(key, url string) {
	if url == "" {
		return
	}
	r.m.Put(r.now(), key, url, responseURLLife)
}

func (r *responseURLs) get(key string) (string, bool) { return r.m.Get(r.now(), key) }

func (r *responseURLs) rememberUser(where bot.Where, user, url string) {
	r.put("u:"+where.Key()+":"+user, url)
}

func (r *responseURLs) latest(where bot.Where, user string) (string, bool) {
	return r.get("u:" + where.Key() + ":" + user)
}

func (r *responseURLs) rememberEphemeral(ref bot.Ref, url string) {
	r.put("e:"+ref.Key()+":"+ref.ID, url)
}

func (r *responseURLs) ephemeral(ref bot.Ref) (string, bool) {
	return r.get("e:" + ref.Key() + ":" + ref.ID)
}
