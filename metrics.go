package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Prometheus metrics, served on their own listener (METRICS_ADDR) so that they, pprof and the
// readiness probe are never reachable through the public port. Every label value comes from a
// bounded set the server chooses: route patterns (never paths), known methods, status codes,
// error codes, rule and mail-type names. Nothing a client sends (emails, tokens, ids) becomes a
// label, which keeps both privacy and the number of series bounded.

type metrics struct {
	reg                 *prometheus.Registry
	requests            *prometheus.CounterVec
	latency             *prometheus.HistogramVec
	signIns             *prometheus.CounterVec
	signUps             *prometheus.CounterVec
	rateLimitedTotal    *prometheus.CounterVec
	twoFactorChallenges prometheus.Counter
	mails               *prometheus.CounterVec
	scryptWaiting       prometheus.Gauge
	scryptWait          prometheus.Histogram
	cookieCache         *prometheus.CounterVec
	cacheHit, cacheMiss prometheus.Counter
	redisErrors         *prometheus.CounterVec
	reasons             boundedLabels
	// requestSeries caches each (route, method, status)'s counter and histogram: looking them up
	// by label values hashes and locks on every request, which was most of the metrics' cost.
	requestSeries sync.Map // seriesKey -> *requestSeries
}

type seriesKey struct {
	pattern, method string
	status          int
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func (s *requestSeries) observe(d time.Duration) {
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// series returns the request metrics of one route pattern, method and status. The keys are
// bounded: patterns and methods by the tables, status by the handlers.
func (m *metrics) series(pattern, method string, status int) *requestSeries {
	key := seriesKey{pattern, method, status}
	if s, ok := m.requestSeries.Load(key); ok {
		return s.(*requestSeries)
	}
	route := "(no route)"
	if pattern != "" {
		_, route, _ = strings.Cut(pattern, " ")
	}
	s, _ := m.requestSeries.LoadOrStore(key, &requestSeries{
		count:   m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		latency: m.latency.WithLabelValues(route, method),
	})
	return s.(*requestSeries)
}

// newMetrics registers the server's metrics in a registry of its own (several servers share a
// test process), or returns nil when METRICS_ADDR is unset: every method is a no-op on nil, so
// metrics that nobody scrapes cost nothing.
func newMetrics(s *server) *metrics {
	if s.cfg.Ops.MetricsAddr == "" {
		return nil
	}
	m := &metrics{reg: prometheus.NewRegistry(), reasons: boundedLabels{max: 64}}
	f := factory{m.reg}
	m.requests = f.counterVec("authsidecar_http_requests_total", "HTTP requests by route pattern, method and status.", "route", "method", "status")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authsidecar_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	m.signIns = f.counterVec("authsidecar_sign_in_total", "Sign-in attempts by method, outcome (success, failure, challenge) and reason code.", "method", "outcome", "reason")
	m.signUps = f.counterVec("authsidecar_sign_up_total", "Attempts to create a user, by method (every sign-in method that creates users), outcome and reason code.", "method", "outcome", "reason")
	m.rateLimitedTotal = f.counterVec("authsidecar_rate_limited_total", "Requests refused with 429, by rate-limit rule.", "rule")
	m.twoFactorChallenges = prometheus.NewCounter(prometheus.CounterOpts{Name: "authsidecar_two_factor_challenges_total", Help: "Sign-ins answered with a two-factor challenge."})
	m.mails = f.counterVec("authsidecar_mails_total", "Mail delivery attempts by mail type and result (sent, retry, dropped).", "type", "result")
	m.scryptWaiting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "authsidecar_scrypt_queue_depth", Help: "Password hashes waiting for a slot in the hashing process."})
	m.scryptWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "authsidecar_scrypt_wait_seconds",
		Help:    "Time a password hash waited for a slot in the hashing process.",
		Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	m.cookieCache = f.counterVec("authsidecar_cookie_cache_lookups_total", "Session lookups with a session_data cookie, by result (hit, miss).", "result")
	m.cacheHit, m.cacheMiss = m.cookieCache.WithLabelValues("hit"), m.cookieCache.WithLabelValues("miss")
	m.redisErrors = f.counterVec("authsidecar_redis_errors_total", "Failed Redis calls of the secondary storage, by operation.", "op")
	m.reg.MustRegister(m.latency, m.twoFactorChallenges, m.scryptWaiting, m.scryptWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		poolCollector{s}, outboxCollector{s})
	return m
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

// knownMethods are the methods a label may name; anything else a client invents is OTHER.
var knownMethods = map[string]string{
	"GET": "GET", "POST": "POST", "HEAD": "HEAD", "OPTIONS": "OPTIONS", "PUT": "PUT", "PATCH": "PATCH", "DELETE": "DELETE",
}

// observeRequest records one answered request and, on a sign-in or sign-up route, its outcome.
func (m *metrics) observeRequest(r *http.Request, info *requestInfo, status int, d time.Duration) {
	if m == nil {
		return
	}
	method, ok := knownMethods[r.Method]
	if !ok {
		method = "OTHER"
	}
	m.series(r.Pattern, method, status).observe(d)
	a, ok := authRoutes[r.Pattern]
	if !ok && info.authMethod != "" {
		a, ok = authRoute{method: info.authMethod}, true
	}
	if ok && (a.method != "two_factor" || info.answersChallenge) {
		outcome, reason := m.outcome(info, status, r)
		vec := m.signIns
		if a.signUp || info.signUp {
			vec = m.signUps
		}
		vec.WithLabelValues(a.method, outcome, reason).Inc()
	}
}

// authRoute names the sign-in method a route completes; social, SSO and magic-link sign-ins end
// at their callback, not where they start. A request on one of these routes that tried to create
// a user (noteSignUp: social, generic OAuth and SSO callbacks, magic link, email OTP) counts as a
// sign-up of that method; passkeys never create users (upstream's passkey plugin signs in only).
type authRoute struct {
	method string
	signUp bool
}

var authRoutes = map[string]authRoute{
	"POST /api/auth/sign-in/email":                 {method: "email"},
	"POST /api/auth/sign-up/email":                 {method: "email", signUp: true},
	"GET /api/auth/callback/{id}":                  {method: "social"},
	"POST /api/auth/callback/{id}":                 {method: "social"},
	"POST /api/auth/passkey/verify-authentication": {method: "passkey"},
	"POST /api/auth/sign-in/email-otp":             {method: "otp"},
	"GET /api/auth/magic-link/verify":              {method: "magic_link"},
	"GET /api/auth/sso/callback":                   {method: "sso"},
	"GET /api/auth/sso/callback/{providerId}":      {method: "sso"},
	"POST /api/auth/sso/saml2/sp/acs/{providerId}": {method: "sso"},
	"GET /api/auth/sso/saml2/sp/acs/{providerId}":  {method: "sso"},
	"POST /api/auth/two-factor/verify-totp":        {method: "two_factor"},
	"POST /api/auth/two-factor/verify-otp":         {method: "two_factor"},
	"POST /api/auth/two-factor/verify-backup-code": {method: "two_factor"},
}

// outcome classifies an answer: a JSON error's code, a redirect's ?error= (callbacks end that
// way), a two-factor challenge, or success.
func (m *metrics) outcome(info *requestInfo, status int, r *http.Request) (outcome, reason string) {
	switch {
	case info.challenged:
		return "challenge", "TWO_FACTOR_REQUIRED"
	case info.code != "":
		return "failure", m.reasons.label(info.code)
	case status >= 400:
		return "failure", "HTTP_" + strconv.Itoa(status)
	case info.redirectError != "":
		return "failure", m.reasons.label(info.redirectError)
	}
	return "success", "none"
}

// redirectError is the error code of a redirect answer, as the callbacks report failures.
func redirectError(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	return u.Query().Get("error")
}

var reasonPattern = regexp.MustCompile(`^[A-Za-z0-9_ ]{1,64}$`)

// boundedLabels admits a label value only while fewer than max distinct ones were seen: error
// codes are the server's own, but a provider's ?error= passes through to callbacks' redirects,
// and no client may grow the number of series without bound.
type boundedLabels struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (b *boundedLabels) label(v string) string {
	if !reasonPattern.MatchString(v) {
		return "OTHER"
	}
	v = strings.ReplaceAll(v, " ", "_")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if !b.seen[v] {
		if len(b.seen) >= b.max {
			return "OTHER"
		}
		b.seen[v] = true
	}
	return v
}

func (m *metrics) rateLimited(rule string) {
	if m != nil {
		m.rateLimitedTotal.WithLabelValues(rule).Inc()
	}
}

func (m *metrics) twoFactorChallenge() {
	if m != nil {
		m.twoFactorChallenges.Inc()
	}
}

// mailAttempt records a delivery attempt: sent, retry (failed, due again) or dropped.
func (m *metrics) mailAttempt(typ, result string) {
	if m != nil {
		m.mails.WithLabelValues(typ, result).Inc() // typ is one of the server's own mail kinds
	}
}

// redisError counts a failed Redis call; op is one of redis.go's own operation names.
func (m *metrics) redisError(op string, _ error) {
	if m != nil {
		m.redisErrors.WithLabelValues(op).Inc()
	}
}

func (m *metrics) cookieCacheLookup(hit bool) {
	switch {
	case m == nil:
	case hit:
		m.cacheHit.Inc()
	default:
		m.cacheMiss.Inc()
	}
}

// scryptQueued counts a hash waiting for a hashing slot; call the returned function once it has one.
func (m *metrics) scryptQueued() func() {
	if m == nil {
		return func() {}
	}
	start := time.Now()
	m.scryptWaiting.Inc()
	return func() {
		m.scryptWaiting.Dec()
		m.scryptWait.Observe(time.Since(start).Seconds())
	}
}

// poolCollector reports the Postgres pool's statistics at each scrape.
type poolCollector struct{ s *server }

var (
	poolDescs = map[string]*prometheus.Desc{
		"acquired":    prometheus.NewDesc("authsidecar_db_pool_acquired_conns", "Connections in use.", nil, nil),
		"idle":        prometheus.NewDesc("authsidecar_db_pool_idle_conns", "Idle connections.", nil, nil),
		"total":       prometheus.NewDesc("authsidecar_db_pool_total_conns", "Open connections.", nil, nil),
		"max":         prometheus.NewDesc("authsidecar_db_pool_max_conns", "Pool size (DB_MAX_CONNS).", nil, nil),
		"acquires":    prometheus.NewDesc("authsidecar_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil),
		"emptyWaits":  prometheus.NewDesc("authsidecar_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil),
		"canceled":    prometheus.NewDesc("authsidecar_db_pool_canceled_acquires_total", "Acquires given up (request canceled) while waiting.", nil, nil),
		"acquireSecs": prometheus.NewDesc("authsidecar_db_pool_acquire_seconds_total", "Time spent acquiring connections.", nil, nil),
	}
	outboxDepthDesc  = prometheus.NewDesc("authsidecar_mail_outbox_depth", "Mails waiting in the outbox (shared by every replica).", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("authsidecar_mail_outbox_oldest_seconds", "Age of the oldest mail in the outbox; 0 when empty.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range poolDescs {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.db.Stat()
	gauge := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(poolDescs[k], prometheus.GaugeValue, v) }
	counter := func(k string, v float64) {
		ch <- prometheus.MustNewConstMetric(poolDescs[k], prometheus.CounterValue, v)
	}
	gauge("acquired", float64(st.AcquiredConns()))
	gauge("idle", float64(st.IdleConns()))
	gauge("total", float64(st.TotalConns()))
	gauge("max", float64(st.MaxConns()))
	counter("acquires", float64(st.AcquireCount()))
	counter("emptyWaits", float64(st.EmptyAcquireCount()))
	counter("canceled", float64(st.CanceledAcquireCount()))
	counter("acquireSecs", st.AcquireDuration().Seconds())
}

// outboxCollector counts the mail outbox at each scrape. The outbox is shared, so every replica
// reports the same figure: aggregate it with max(), not sum().
type outboxCollector struct{ s *server }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- outboxOldestDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, oldest, err := c.s.outboxStats(ctx)
	if err != nil {
		// No figure rather than a false zero; the scrape itself still succeeds.
		slog.Warn("metrics: count the mail outbox", "err", err)
		return
	}
	age := 0.0
	if depth > 0 {
		age = max(c.s.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age)
}

// serveMetrics starts the METRICS_ADDR listener when one is set; it stops with ctx. Listening
// happens before it returns, so a taken or invalid address fails the start.
func (s *server) serveMetrics(ctx context.Context) error {
	if s.cfg.Ops.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Ops.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	srv := newHTTPServer(s.cfg.Ops.MetricsAddr, metricsRoutes(s))
	if s.cfg.Ops.Pprof {
		srv.WriteTimeout = 0 // /debug/pprof/profile and /trace stream for as long as asked
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics listener", "err", err)
		}
	}()
	go func() { <-ctx.Done(); srv.Close() }()
	slog.Info("metrics listening", "addr", ln.Addr().String(), "pprof", s.cfg.Ops.Pprof)
	return nil
}
