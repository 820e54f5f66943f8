package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestLogFormatsCarryTheRequestID logs through each LOG_FORMAT's handler with a request's context:
// the line carries requestId; json is the default off a terminal.
func TestLogFormatsCarryTheRequestID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, want string }{
		{"json", `"requestId":"req-1"`},
		{"", `"requestId":"req-1"`},
		{"text", `requestId=req-1`},
	} {
		var buf bytes.Buffer
		log := slog.New(newLogHandler(&buf, tc.format, slog.LevelDebug)).With("k", "v").WithGroup("g")
		ctx := context.WithValue(context.Background(), requestInfoKey{}, &requestInfo{id: "req-1"})
		log.InfoContext(ctx, "inside the request")
		log.Info("outside any request")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], tc.want) || strings.Contains(lines[1], "requestId") {
			t.Errorf("format %q: %q", tc.format, lines)
		}
		if tc.format != "text" && !json.Valid([]byte(lines[0])) {
			t.Errorf("format %q is not JSON: %s", tc.format, lines[0])
		}
	}
}

// TestRequestIDComesOnlyFromATrustedProxy: a client that is not a trusted proxy cannot choose the
// id the server logs; every response echoes the id it got.
func TestRequestIDComesOnlyFromATrustedProxy(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t) // no trusted proxies
	resp := ts.client(t).get("/api/auth/ok", "X-Request-Id", "chosen-by-client")
	if id := resp.Header.Get("X-Request-Id"); id == "chosen-by-client" || len(id) != 20 {
		t.Fatalf("X-Request-Id = %q, want a generated id", id)
	}
}

// TestProcessLogsJSONWithRequestIDsAndServesMetricsAndReadiness runs the real binary with
// LOG_FORMAT=json and METRICS_ADDR: a trusted proxy's X-Request-Id is echoed and tags the
// request's log line, a malformed one is replaced, no query string is logged, /metrics answers on
// its own port, and `authsidecar health --ready` passes.
func TestProcessLogsJSONWithRequestIDsAndServesMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	metricsAddr := freePort(t)
	p := startSidecarProcess(t, "METRICS_ADDR="+metricsAddr, "LOG_FORMAT=json")
	c := p.client(t)
	resp := c.get("/api/auth/get-session?token=query-secret", "X-Request-Id", "proxy-req-123")
	if got := resp.Header.Get("X-Request-Id"); got != "proxy-req-123" {
		t.Fatalf("X-Request-Id from a trusted proxy = %q", got)
	}
	if got := c.get("/api/auth/ok", "X-Request-Id", "bad id, <script>").Header.Get("X-Request-Id"); len(got) != 20 {
		t.Fatalf("malformed X-Request-Id answered with %q", got)
	}
	m, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m.Body.Close()
	if m.StatusCode != http.StatusOK {
		t.Fatalf("/metrics = %d", m.StatusCode)
	}
	health := func(env ...string) error {
		cmd := exec.Command(os.Args[0], "health", "--ready")
		cmd.Env = append(os.Environ(), append([]string{"AUTHSIDECAR_RUN_MAIN=1", "BETTER_AUTH_SECRET=" + testSecret}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("health --ready: %s", out)
		}
		return err
	}
	if err := health("METRICS_ADDR=" + metricsAddr); err != nil {
		t.Fatalf("health --ready: %v", err)
	}
	if err := health("METRICS_ADDR=" + freePort(t)); err == nil {
		t.Fatal("health --ready passed with nothing listening")
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	log := p.log.String()
	if strings.Contains(log, "query-secret") {
		t.Fatalf("the log holds a query string:\n%s", log)
	}
	found := false
	for line := range strings.SplitSeq(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "request" && rec["route"] == "GET /api/auth/get-session" {
			found = rec["requestId"] == "proxy-req-123"
		}
	}
	if !found {
		t.Fatalf("no request line tagged proxy-req-123:\n%s", log)
	}
}

// TestLogLinesOfARefusedPasskeyCarryTheRequestID runs the real binary with LOG_FORMAT=json: the
// line a refused passkey registration logs deep inside its verification carries the request id
// a trusted proxy sent, as the request's own line does.
func TestLogLinesOfARefusedPasskeyCarryTheRequestID(t *testing.T) {
	t.Parallel()
	p := startSidecarProcess(t, "LOG_FORMAT=json")
	c := p.client(t)
	c.signUp("passkey-log@example.com", "password123", "Passkey Log")
	c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK)
	c.post(passkeyVerifyRegistration, map[string]any{"response": map[string]any{"id": "not-a-credential"}}, "X-Request-Id", "proxy-passkey-7").
		wantError(t, http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	var refused []any
	for line := range strings.SplitSeq(strings.TrimSpace(p.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "passkey registration refused" {
			refused = append(refused, rec["requestId"])
		}
	}
	if len(refused) != 1 || refused[0] != "proxy-passkey-7" {
		t.Fatalf("passkey refusal lines carry request ids %v, want [proxy-passkey-7]:\n%s", refused, p.log.String())
	}
}

// TestRequestIDsAreDistinctAndShapedAsUpstreamIDs: generated request ids are 20 characters of
// [a-zA-Z0-9] (upstream's generateId alphabet), share this process's random prefix, and never
// repeat, also across the counter's carries from one character to the next.
func TestRequestIDsAreDistinctAndShapedAsUpstreamIDs(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9]{20}$`)
	seen := map[string]bool{}
	for range 10000 {
		id := newRequestID()
		if !shape.MatchString(id) || !strings.HasPrefix(id, requestIDPrefix) || seen[id] {
			t.Fatalf("request id %q: malformed, not of this process or repeated", id)
		}
		seen[id] = true
	}
}
