package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sync/atomic"
	"time"
)

// setupLogging installs the process's logger: JSON or text (format empty: text on a terminal,
// where a person reads it, JSON anywhere else, where a collector does), at LOG_LEVEL, with the
// request id of the request being served on every line logged with its context.
func setupLogging(format string) {
	slog.SetDefault(slog.New(newLogHandler(os.Stderr, format, logLevel())))
}

func newLogHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: readableDurations}
	if format == "text" {
		return requestIDHandler{slog.NewTextHandler(w, opts)}
	}
	return requestIDHandler{slog.NewJSONHandler(w, opts)}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// requestIDHandler adds requestId to every record logged with a request's context.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if info := requestInfoFrom(ctx); info != nil {
		rec.AddAttrs(slog.String("requestId", info.id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// requestInfo travels in a request's context: its id for the logs, and what the answer was for
// the metrics (the error code writeError sent, a two-factor challenge).
type requestInfo struct {
	id            string
	idValue       [1]string // the X-Request-Id response header's value, never written in place
	code          string
	redirectError string
	challenged    bool
	// answersChallenge: the request carried the two_factor cookie of a sign-in's challenge.
	answersChallenge bool
	// signUp: the request tried to create a user (the email was unknown), so its outcome counts
	// as a sign-up of its route's method rather than a sign-in.
	signUp bool
	// authMethod names the sign-in method of a request on a route that is a sign-in only with
	// some bodies (sign-in/social with an idToken; without one it starts a redirect).
	authMethod string
	// hashed: the request hashed a password (or waited to), so it does not count among the
	// other requests hashes leave a CPU to (requestActivity).
	hashed bool
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// noteErrorCode records the error code a request was answered with, for the outcome metrics.
func noteErrorCode(r *http.Request, code string) {
	if info := requestInfoFrom(r.Context()); info != nil && info.code == "" {
		info.code = code
	}
}

// noteSignUp records that the request tried to create a user, whether or not that succeeded.
func noteSignUp(ctx context.Context) {
	if info := requestInfoFrom(ctx); info != nil {
		info.signUp = true
	}
}

// noteAuthMethod records that the request is a sign-in (or sign-up) by method.
func noteAuthMethod(r *http.Request, method string) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.authMethod = method
	}
}

// noteChallenge records that a sign-in was answered with a two-factor challenge.
func noteChallenge(r *http.Request) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.challenged = true
	}
}

// responseContext is the context of the request w answers, for helpers that log with only the
// writer at hand (writeJSON), so that their lines carry the request id too.
func responseContext(w http.ResponseWriter) context.Context {
	for {
		switch v := w.(type) {
		case *statusRecorder:
			return v.ctx
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return context.Background() // outside the middleware: no request id to add
		}
	}
}

// A request id correlates a request's log lines and its answer; it is no secret and guards
// nothing, so it needs to be unique, not unpredictable. It is 20 characters of [a-zA-Z0-9], like
// upstream's generateId: 12 drawn with crypto/rand once per process (71 bits, so that replicas
// and restarts do not repeat each other's ids) and a counter of the process's requests (8
// characters, 62^8 requests before it wraps). Drawing all 20 with crypto/rand on every request
// was a system call and ~600 instructions of each cookie-cache hit.
var (
	requestIDPrefix  = generateID(12)
	requestIDCounter atomic.Uint64
)

func newRequestID() string {
	var b [20]byte
	copy(b[:], requestIDPrefix)
	n := requestIDCounter.Add(1)
	for i := len(b) - 1; i >= len(requestIDPrefix); i-- {
		b[i] = alphaNum[n%uint64(len(alphaNum))]
		n /= uint64(len(alphaNum))
	}
	return string(b[:])
}

// safeRequestID is what a proxy's X-Request-Id may look like to be kept: it lands in logs and a
// response header, so nothing that could forge a log line or smuggle a header.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestState is what the middleware keeps for one request, in one allocation rather than three:
// the context that carries info, info, and the writer that records the status.
type requestState struct {
	ctx  requestContext
	info requestInfo
	rec  statusRecorder
}

// requestContext is context.WithValue(parent, requestInfoKey{}, info), as a field of
// requestState. Cancellation, deadline and every other value are the parent's.
type requestContext struct {
	context.Context
	info *requestInfo
}

func (c *requestContext) Value(key any) any {
	if _, ok := key.(requestInfoKey); ok {
		return c.info
	}
	return c.Context.Value(key)
}

// beginRequest gives the request its id, X-Request-Id from a trusted proxy, else a new one, and
// echoes it in the response so a user's report can be matched to the server's lines. It returns
// the request with info in its context, and the writer the middleware answers through.
func (s *server) beginRequest(w http.ResponseWriter, r *http.Request) (*http.Request, *requestInfo, *statusRecorder) {
	st := &requestState{}
	info := &st.info
	if id := headerValue(r.Header, "X-Request-Id"); id != "" && safeRequestID.MatchString(id) && s.trustedProxy(peerAddr(r)) {
		info.id = id
	} else {
		info.id = newRequestID()
	}
	info.idValue[0] = info.id
	w.Header()["X-Request-Id"] = info.idValue[:] // as Header.Set, without a slice of its own
	st.ctx = requestContext{Context: r.Context(), info: info}
	st.rec = statusRecorder{ResponseWriter: w, status: http.StatusOK, ctx: &st.ctx}
	return r.WithContext(&st.ctx), info, &st.rec
}

// timesRequests: only the debug line and the metrics read a request's duration; without them the
// clock is not read (twice a request).
func (s *server) timesRequests(ctx context.Context) bool {
	return s.metrics != nil || slog.Default().Enabled(ctx, slog.LevelDebug)
}

// endRequest logs the request at debug, by route pattern and never its path or query (links
// carry their tokens in both), and records it in the metrics. start is zero when timesRequests
// said no: then there is nothing to record.
func (s *server) endRequest(w http.ResponseWriter, r *http.Request, info *requestInfo, status int, start time.Time) {
	if start.IsZero() {
		return
	}
	d := time.Since(start)
	// Checked first: the arguments alone (an int and a duration boxed into a slice) were three
	// allocations of every request while debug logging is off.
	if slog.Default().Enabled(r.Context(), slog.LevelDebug) {
		slog.DebugContext(r.Context(), "request", "method", r.Method, "route", logRoute(r), "status", status, "duration", d)
	}
	if s.metrics != nil && status >= 300 && status < 400 {
		info.redirectError = redirectError(w.Header().Get("Location"))
	}
	if s.metrics != nil && authRoutes[r.Pattern].method == "two_factor" {
		// The verify routes also confirm an enrolment; only an answer to a challenge is a sign-in.
		_, info.answersChallenge = rawCookie(r, s.cookieName(cookieTwoFactor))
	}
	s.metrics.observeRequest(r, info, status, d)
}
