// Package health serves envwrap's liveness, readiness and Prometheus
// metrics on an optional local listener, and owns the metrics themselves.
// Everything it shows names backends, references, versions and counts:
// never a secret's value.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultListen is where the listener binds when the manifest asks for
// one without an address: loopback, so nothing outside the host sees it.
const DefaultListen = "127.0.0.1:9102"

// Server answers /livez, /readyz and /metrics.
type Server struct {
	Metrics *Metrics
	ready   atomic.Bool
	srv     *http.Server
	ln      net.Listener
	log     *slog.Logger
}

// Listen binds addr and returns a Server that is live but not ready.
func Listen(addr string, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	s := &Server{Metrics: NewMetrics(), ln: ln, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.registry,
		promhttp.HandlerOpts{ErrorLog: nil}))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr is the address the listener bound, with the real port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Close.
func (s *Server) Serve() {
	s.log.Info("health listener started", "addr", s.Addr())
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("health listener stopped", "err", err)
	}
}

// Close stops the listener, letting requests in flight finish briefly.
// A nil Server does nothing, here and in SetReady.
func (s *Server) Close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// SetReady marks envwrap ready: every required secret fetched and every
// file rendered once. It stays ready; a later failed refresh keeps the
// last good values, which are still there to use.
func (s *Server) SetReady() {
	if s == nil {
		return
	}
	s.ready.Store(true)
	s.Metrics.ready.Set(1)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready: secrets not fetched or files not rendered yet",
			http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Metrics are envwrap's Prometheus series. A nil *Metrics records nothing,
// so callers need no check.
type Metrics struct {
	registry  *prometheus.Registry
	fetches   *prometheus.CounterVec
	calls     *prometheus.CounterVec
	lastGood  *prometheus.GaugeVec
	rotations prometheus.Counter
	restarts  *prometheus.CounterVec
	exits     *prometheus.CounterVec
	ready     prometheus.Gauge
}

// NewMetrics registers envwrap's series, and the Go and process ones.
func NewMetrics() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.fetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "envwrap_fetches_total",
		Help: "Secret fetches and version checks, by backend and result.",
	}, []string{"backend", "result"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "envwrap_api_calls_total",
		Help: "Calls to backend APIs, by backend, operation and result.",
	}, []string{"backend", "operation", "result"})
	m.lastGood = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "envwrap_secret_last_success_timestamp_seconds",
		Help: "When each reference was last fetched or checked successfully.",
	}, []string{"ref"})
	m.rotations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "envwrap_rotations_total",
		Help: "Changes of secrets that were applied.",
	})
	m.restarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "envwrap_child_restarts_total",
		Help: "Restarts of the child, by reason (rotation or failure).",
	}, []string{"reason"})
	m.exits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "envwrap_child_exits_total",
		Help: "Exits of the child, by exit status.",
	}, []string{"code"})
	m.ready = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "envwrap_ready",
		Help: "1 once every required secret was fetched and every file rendered.",
	})
	m.registry.MustRegister(m.fetches, m.calls, m.lastGood, m.rotations, m.restarts,
		m.exits, m.ready, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Fetched records one fetch or check of ref.
func (m *Metrics) Fetched(backend, ref string, err error) {
	if m == nil {
		return
	}
	m.fetches.WithLabelValues(backend, result(err)).Inc()
	if err == nil {
		m.lastGood.WithLabelValues(ref).SetToCurrentTime()
	}
}

// Called records one API call.
func (m *Metrics) Called(backend, operation string, err error) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(backend, operation, result(err)).Inc()
}

// Rotated records an applied change and whether it restarted the child.
func (m *Metrics) Rotated(restarted bool) {
	if m == nil {
		return
	}
	m.rotations.Inc()
	if restarted {
		m.restarts.WithLabelValues("rotation").Inc()
	}
}

// Exited records an exit of the child, and whether it will be restarted.
func (m *Metrics) Exited(code int, restarting bool) {
	if m == nil {
		return
	}
	m.exits.WithLabelValues(strconv.Itoa(code)).Inc()
	if restarting {
		m.restarts.WithLabelValues("failure").Inc()
	}
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
