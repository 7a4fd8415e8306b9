package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kringbot/kring/bot"
	"github.com/kringbot/kring/bot/poll"
	"github.com/kringbot/kring/storage"
)

// platform is a chat platform as the load plays it towards kring and the
// floor.
type platform interface {
	// Name is bot.Slack or bot.Mattermost.
	Name() string
	// Env is the settings kring serve needs to reach the stand-in.
	Env(kringURL string) []string
	// Where is the channel the poll is in.
	Where() bot.Where
	// User is the id of the user who makes click i.
	User(i int) string
	// CreatePoll sends the slash command /poll text to kring and waits
	// until kring has posted the poll with its vote buttons.
	CreatePoll(ctx context.Context, kringURL, text string, options int) error
	// KringClick makes click i on kring's poll: user i votes for option
	// i mod the options.
	KringClick(kringURL string) func(i int) (*http.Request, error)
	// FloorHandler is the floor's endpoint for this platform's clicks.
	FloorHandler(f *floor) http.Handler
	// FloorSecret is what the floor checks requests with, for a floor
	// process.
	FloorSecret() string
	// FloorClick makes click i for the floor, as KringClick does for kring.
	FloorClick(floorURL string) func(i int) (*http.Request, error)
	// FloorValue is the value the floor stores for click i.
	FloorValue(i int) string
	// AckOK says whether the platform takes a 200 answer's body.
	AckOK(body []byte) error
	// Message is everything a person reads in the poll's message now.
	Message() (string, bool)
	// Updates are the times the poll's message was updated.
	Updates() []time.Time
	// Wait returns a channel closed at the stand-in's next change.
	Wait() <-chan struct{}
	// Calls counts the API calls kring made to the stand-in.
	Calls() map[string]int
	// Replies counts the texts kring showed to one user (the poll's
	// creator or a clicker) other than in the answer to the slash command.
	Replies() map[string]int
	// Close stops the stand-in.
	Close()
}

// labels are the poll's options: distinct words, so that the message check
// finds each option's line by its label.
var labels = []string{"appel", "peer", "kers", "druif", "meloen", "banaan", "citroen", "mango", "kiwi", "pruim",
	"perzik", "abrikoos", "vijg", "dadel", "limoen", "bes", "braam", "framboos", "aardbei", "ananas"}

// startFloor starts the floor, in a process of its own unless --floor
// inline says otherwise, and returns its URL, its process id (0 when it
// runs in this process) and how to stop it.
func (l *load) startFloor(ctx context.Context, p platform, fl *floor) (string, int, func(), error) {
	if l.cfg.Floor == "inline" {
		srv, err := serve("127.0.0.1:0", p.FloorHandler(fl))
		if err != nil {
			return "", 0, nil, err
		}
		return srv.URL, 0, srv.Close, nil
	}
	return startFloorProcess(ctx, fl, l.cfg.Platform, p.FloorSecret())
}

// load is one invocation.
type load struct {
	cfg config
	out io.Writer
	log io.Writer // progress
}

func (l *load) progress(format string, args ...any) {
	fmt.Fprintf(l.log, "kring-load: "+format+"\n", args...)
}

func (l *load) run(ctx context.Context) (rep *Report, err error) {
	cfg := l.cfg
	run := bot.NewID(4)
	rep = &Report{Platform: cfg.Platform, N: cfg.N, C: cfg.C, Options: cfg.Options, Store: redact(cfg.Store), Redis: redact(cfg.Redis)}
	tmp, err := os.MkdirTemp("", "kring-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	store := cfg.Store
	if store == "bolt" {
		store = "bolt:" + filepath.Join(tmp, "kring.db")
	}

	fl, err := openFloor(ctx, cfg.Redis, "kring-load:"+run+":")
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := fl.close(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, fmt.Errorf("delete the floor's keys: %w", cerr))
		}
	}()

	secret, token := cfg.SigningSecret, cfg.CommandToken
	if secret == "" {
		secret = bot.NewID(16)
	}
	if token == "" {
		token = bot.NewID(13)
	}
	var p platform
	switch cfg.Platform {
	case "slack":
		p, err = newSlackPlay(cfg.APIAddr, secret, run)
	default:
		p, err = newMattermostPlay(cfg.APIAddr, token, run, cfg.N)
	}
	if err != nil {
		return nil, err
	}
	defer p.Close()

	kringURL := strings.TrimSuffix(cfg.Target, "/")
	var k *kringProcess
	if kringURL == "" {
		k, err = l.startKring(ctx, tmp, store, p, rep)
		if err != nil {
			return nil, err
		}
		defer func() {
			if serr := k.stop(); serr != nil {
				err = errors.Join(err, serr)
			}
			switch {
			case err != nil:
				fmt.Fprintln(l.log, k.logTail())
			case len(rep.Problems()) > 0:
				l.progress("kring's log is in %s", k.log)
			case cfg.KringLog == "":
				os.Remove(k.log)
			}
		}()
		kringURL = k.URL
	} else {
		rep.Version = "the kring serve at " + kringURL
		if err := waitReady(ctx, kringURL, time.Minute, nil, nil); err != nil {
			return nil, fmt.Errorf("--target %s is not ready: %w", kringURL, err)
		}
	}

	opts := labels[:cfg.Options]
	if err := p.CreatePoll(ctx, kringURL, `"Welke vrucht kiezen we?" `+strings.Join(opts, " "), cfg.Options); err != nil {
		return nil, err
	}
	l.progress("poll posted; %d clicks to kring, %d at a time", cfg.N, cfg.C)

	kpid := 0
	if k != nil {
		kpid = k.cmd.Process.Pid
	}
	kcpu := startCPU(ctx, kpid, fl)
	kb := burst(ctx, newClient(cfg.C), cfg.N, cfg.C, p.KringClick(kringURL), p.AckOK)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	kcpu.stop(ctx)
	want := make([]int, cfg.Options)
	for i, ok := range kb.Acked {
		if ok {
			want[i%cfg.Options]++
		}
	}
	rep.Kring = sideOf("kring", kb)
	rep.Kring.CPU = kcpu
	finalErr := waitUntil(ctx, cfg.FinalWait, p.Wait, func() bool {
		m, ok := p.Message()
		return ok && showsCounts(m, opts, want)
	})
	if finalErr == nil {
		rep.Kring.FinalAfter = time.Since(kb.End)
	}
	l.progress("kring: %.0f clicks/s; %d clicks to the floor", rep.Kring.Throughput(), cfg.N)

	floorURL, fpid, stopFloor, err := l.startFloor(ctx, p, fl)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	fcpu := startCPU(ctx, fpid, fl)
	fb := burst(ctx, newClient(cfg.C), cfg.N, cfg.C, p.FloorClick(floorURL), p.AckOK)
	fcpu.stop(ctx)
	stopFloor()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Floor = sideOf("floor", fb)
	rep.Floor.CPU = fcpu
	stored, err := fl.ballots(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the floor's votes: %w", err)
	}
	for i, ok := range fb.Acked {
		if ok && stored[p.User(i)] != p.FloorValue(i) {
			rep.Floor.Lost++
		}
	}

	// kring is stopped before its store is read: a bolt file is locked
	// while kring serve runs, and on the way out kring sends what it has
	// pending.
	if k != nil {
		if err := k.stop(); err != nil {
			return nil, err
		}
	}
	tally, err := l.readVotes(ctx, store, p, kb, rep)
	if err != nil {
		return nil, err
	}
	m, ok := p.Message()
	rep.Kring.FinalOK = ok && showsCounts(m, opts, tally)
	if !rep.Kring.FinalOK {
		rep.Kring.FinalAfter = 0
		rep.Kring.FinalNote = fmt.Sprintf("the message does not show the stored count %v", tally)
	} else if finalErr != nil {
		rep.Kring.FinalNote = fmt.Sprintf("only later than --final-wait %s after the last ack", cfg.FinalWait)
		if k != nil {
			rep.Kring.FinalNote = fmt.Sprintf("only once kring was stopped, not within --final-wait %s after the last ack", cfg.FinalWait)
		}
	}
	ups := p.Updates()
	rep.Kring.Updates, rep.Kring.MaxUpdatesPerSecond = countSince(ups, kb.Start), maxPerSecond(ups, kb.Start)
	rep.Calls, rep.Replies = p.Calls(), p.Replies()
	return rep, nil
}

// startKring builds kring when no binary is given and starts kring serve
// on a free loopback port, pointed at the stand-in.
func (l *load) startKring(ctx context.Context, tmp, store string, p platform, rep *Report) (*kringProcess, error) {
	bin := l.cfg.Kring
	if bin != "" {
		rep.Version = bin + ", version " + kringVersion(ctx, bin)
	} else {
		l.progress("building cmd/kring")
		var err error
		if bin, err = buildKring(ctx, tmp); err != nil {
			return nil, err
		}
		rep.Version = "cmd/kring built from " + sourceCommit(ctx)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := l.cfg.KringLog
	if logPath == "" {
		f, err := os.CreateTemp("", "kring-load-serve-*.log")
		if err != nil {
			return nil, err
		}
		logPath = f.Name()
		f.Close()
	}
	settings := []string{
		"KRING_STORE=" + store,
		"KRING_PUBLIC_URL=http://" + addr,
		"KRING_LOCALE=nl",
		"KRING_ACTION_SECRET=" + bot.NewID(16),
	}
	settings = append(settings, p.Env("http://"+addr)...)
	k, err := startKring(ctx, bin, addr, logPath, settings)
	if err != nil {
		return nil, err
	}
	l.progress("kring serve ready at %s (log: %s)", k.URL, logPath)
	return k, nil
}

// readVotes reads the poll's ballots from kring's store as kring does
// (storage.Open, poll.Store), counts the acked clicks whose vote is not
// there, deletes the poll, and returns the stored count per option.
func (l *load) readVotes(ctx context.Context, store string, p platform, kb burstResult, rep *Report) ([]int, error) {
	stores, err := storage.Open(ctx, store)
	if err != nil {
		return nil, fmt.Errorf("open kring's store to count the votes: %w", err)
	}
	defer stores.Close()
	polls, err := stores.Polls.List(ctx, p.Where())
	if err != nil || len(polls) != 1 {
		return nil, fmt.Errorf("kring's store has %d polls in the load's channel, not 1 (%v)", len(polls), err)
	}
	pl, ballots, err := stores.Polls.Get(ctx, polls[0].ID)
	if err != nil {
		return nil, fmt.Errorf("read the poll's votes: %w", err)
	}
	byVoter := make(map[string][]int, len(ballots))
	for _, b := range ballots {
		byVoter[b.Voter] = b.Options
	}
	for i, ok := range kb.Acked {
		if ok && !voted(byVoter[p.User(i)], i%rep.Options) {
			rep.Kring.Lost++
		}
	}
	tally := poll.Count(pl, ballots).Counts
	if err := stores.Polls.Delete(ctx, pl.ID); err != nil {
		return nil, fmt.Errorf("delete the load's poll %s: %w", pl.ID, err)
	}
	return tally, nil
}

func voted(options []int, option int) bool {
	for _, o := range options {
		if o == option {
			return true
		}
	}
	return false
}

// expect200 sends req and wants 200.
func expect200(ctx context.Context, req *http.Request) error {
	client := &http.Client{Timeout: clickTimeout}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// waitUntil waits until cond holds, checking it after every change the
// stand-in signals; limit is a hang guard.
func waitUntil(ctx context.Context, limit time.Duration, changed func() <-chan struct{}, cond func() bool) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		ch := changed()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("not within %s", limit)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// redact hides a password in a store URL.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return u
	}
	return scheme + "://…@" + rest[at+1:]
}
