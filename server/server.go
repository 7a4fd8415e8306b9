// Package server is kring's HTTP side: it mounts the platform adapters'
// endpoints beside /healthz, /readyz and /metrics, logs every request with
// slog and shuts down gracefully, letting requests in flight finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kringbot/kring/bot"
)

// Check is one readiness condition: the store answers, a platform token
// works. It returns nil when ready.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// DefaultCheckTimeout is how long /readyz waits for each check. It is
// short, so that a probe with a timeout of a few seconds (Kubernetes
// defaults to 1 s) gets an answer that names the culprit instead of
// timing out itself.
const DefaultCheckTimeout = time.Second

// Server serves kring over HTTP.
type Server struct {
	Mux     *http.ServeMux // adapters mount their routes here
	Metrics *Metrics
	Log     *slog.Logger
	// CheckTimeout bounds each readiness check; 0 means DefaultCheckTimeout.
	CheckTimeout time.Duration
	checks       []Check
}

// New returns a server with /healthz, /readyz and /metrics mounted.
func New(log *slog.Logger) *Server {
	s := &Server{Mux: http.NewServeMux(), Metrics: NewMetrics(), Log: log}
	s.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.Mux.HandleFunc("GET /readyz", s.ready)
	s.Mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.reg, promhttp.HandlerOpts{}))
	return s
}

// AddCheck adds a readiness condition to /readyz.
func (s *Server) AddCheck(c Check) { s.checks = append(s.checks, c) }

// ready answers /readyz. The checks run at once, each with a deadline of
// its own, so a store that hangs neither delays the answer past one
// CheckTimeout nor leaves the checks after it an expired context to fail
// with (which blamed Slack for a frozen Redis). Nothing is cached here: each
// request asks again.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	timeout := s.CheckTimeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	errs := make([]error, len(s.checks))
	var wg sync.WaitGroup
	for i, c := range s.checks {
		wg.Go(func() { errs[i] = runCheck(r.Context(), c, timeout) })
	}
	wg.Wait()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	status, body := http.StatusOK, ""
	for i, c := range s.checks {
		if errs[i] != nil {
			status = http.StatusServiceUnavailable
			body += fmt.Sprintf("%s: %v\n", c.Name, errs[i])
			continue
		}
		body += c.Name + ": ok\n"
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// runCheck runs c for at most timeout. A check that ignores its context
// is left to finish on its own goroutine: /readyz answers anyway.
func runCheck(ctx context.Context, c Check, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Func(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v (%w)", timeout, err)
	}
	return err
}

// slowRequest is how long a request may take before it is logged at Info.
const slowRequest = time.Second

// Handler returns the server's handler with request logging and metrics.
// Every request is counted and timed in the metrics; the log has the ones
// that failed or were slow, and the rest only at Debug: at a busy poll's
// thousands of clicks a second, a log line each costs more than a click.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		s.Mux.ServeHTTP(rec, r)
		pattern := r.Pattern // set by the ServeMux that matched
		if pattern == "" {
			pattern = "unmatched"
		}
		took := time.Since(start)
		s.Metrics.httpRequests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
		s.Metrics.httpLatency.WithLabelValues(pattern).Observe(took.Seconds())
		level := slog.LevelDebug
		switch {
		case rec.status >= 500:
			level = slog.LevelWarn
		case took >= slowRequest:
			level = slog.LevelInfo
		case pattern == "GET /metrics" || pattern == "GET /healthz":
			return
		}
		if s.Log.Enabled(r.Context(), level) { // the arguments cost even when not logged
			s.Log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", took)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Serve serves on l until ctx ends, then stops accepting and waits up to
// grace for requests in flight.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Metrics are kring's Prometheus metrics.
type Metrics struct {
	reg          *prometheus.Registry
	handled      *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
}

// NewMetrics registers kring's metrics, with Go and process collectors, on
// a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kring_requests_total",
			Help: "Commands and actions handled, by kind, name and outcome (ok, user_error, error).",
		}, []string{"kind", "name", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kring_request_duration_seconds",
			Help:    "Time to handle a command or action, by kind and name.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind", "name"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kring_http_requests_total",
			Help: "HTTP requests served, by route and status.",
		}, []string{"route", "status"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kring_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.handled, m.latency, m.httpRequests, m.httpLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one handled command or action; it fits bot.Mux.Observe.
func (m *Metrics) Observe(e bot.Event) {
	m.handled.WithLabelValues(e.Kind, e.Name, e.Outcome).Inc()
	m.latency.WithLabelValues(e.Kind, e.Name).Observe(e.Took.Seconds())
}

// Registry is where adapters may register metrics of their own.
func (m *Metrics) Registry() prometheus.Registerer { return m.reg }
