package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sidecarProcess is the real binary (this test binary re-run through main), serving on its own
// port and database, its JSON log captured.
type sidecarProcess struct {
	cmd   *exec.Cmd
	url   string
	dbURL string
	log   *lockedBuffer
	done  chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startSidecarProcess runs the server as production does, configured by environment variables.
func startSidecarProcess(t *testing.T, env ...string) *sidecarProcess {
	t.Helper()
	_, dbURL := newTestDB(t)
	p := launchSidecarProcess(t, dbURL, env...)
	p.waitUntilServing(t)
	return p
}

// launchSidecarProcess starts the server on dbURL without waiting for it to serve.
func launchSidecarProcess(t *testing.T, dbURL string, env ...string) *sidecarProcess {
	t.Helper()
	addr := freePort(t)
	p := &sidecarProcess{url: "http://" + addr, dbURL: dbURL, log: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "AUTHSIDECAR_RUN_MAIN=1", "DATABASE_URL="+dbURL, "ADDR="+addr,
		"BETTER_AUTH_URL="+p.url, "BETTER_AUTH_SECRET="+testSecret, "RATE_LIMIT=false", "SHUTDOWN_TIMEOUT=45s", "LOG_LEVEL=debug")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *sidecarProcess) waitUntilServing(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(p.url + "/api/auth/ok")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 300 {
			t.Fatalf("server did not start: %v\n%s", err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client returns a test client for the process, reusing the in-process helpers.
func (p *sidecarProcess) client(t testing.TB) *testClient {
	ts := &testServer{server: newServer(config{Secret: testSecret}, nil), URL: p.url}
	return ts.client(t)
}

// TestGracefulShutdownFinishesInFlightRequests ensures SIGTERM stops new connections at once but
// lets a request already running finish and answer, after which the process exits cleanly. The
// request is held in flight by a row lock the test owns, so no timing is guessed.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	p := startSidecarProcess(t)
	c := p.client(t)
	c.signUp("term@example.com", "password123", "Term")
	token := c.cookieToken()

	ctx := context.Background()
	db, err := openDB(ctx, p.dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM session WHERE token = $1 FOR UPDATE`, token); err != nil {
		t.Fatal(err)
	}

	answered := make(chan *testResponse, 1)
	go func() { answered <- c.post("/api/auth/sign-out", nil) }()
	dbName := strings.TrimPrefix(mustParseURL(t, p.dbURL).Path, "/")
	for i := 0; ; i++ { // wait until the sign-out's DELETE is blocked on our lock
		var waiting int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, dbName).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if i == 500 {
			t.Fatal("sign-out never reached the database")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // the listener closes first: new connections are refused
		conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
		if err != nil {
			break
		}
		conn.Close()
		if i == 500 {
			t.Fatal("still accepting connections after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-p.done:
		t.Fatalf("exited with a request in flight: %v", err)
	default:
	}
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	resp := <-answered
	if resp.Status != http.StatusOK || string(resp.Body) != `{"success":true}` {
		t.Fatalf("in-flight sign-out answered %d %s", resp.Status, resp.Body)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("exit: %v\n%s", err, p.log.String())
	}
	p.done <- nil // for the cleanup
	if !strings.Contains(p.log.String(), `"msg":"shutting down"`) {
		t.Fatalf("no shutdown log:\n%s", p.log.String())
	}
}

func mustParseURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLogsNeverHoldSecrets runs a full session through the real binary at debug level and
// checks that no password, token, signature or query string reaches its log.
func TestLogsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	p := startSidecarProcess(t)
	password, newPassword := "Pa55word-in-no-log", "N3w-password-in-no-log"
	c := p.client(t)
	secrets := []string{password, newPassword, "query-secret-value"}
	c.signUp("logs@example.com", password, "Logs")
	secrets = append(secrets, c.cookieToken(), c.cookies[sessionCookie])
	c.get("/api/auth/get-session?token=query-secret-value").wantStatus(t, http.StatusOK)
	c.post("/api/auth/sign-in/email?callbackURL=query-secret-value", map[string]any{"email": "logs@example.com", "password": password + "x"})
	c.post("/api/auth/verify-password", map[string]any{"password": password}).wantStatus(t, http.StatusOK)
	resp := c.post("/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": newPassword, "revokeOtherSessions": true})
	resp.wantStatus(t, http.StatusOK)
	secrets = append(secrets, c.cookieToken(), c.cookies[sessionCookie])
	c.post("/api/auth/revoke-session", map[string]any{"token": "query-secret-value"}).wantStatus(t, http.StatusOK)
	c.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	c.post("/api/auth/sign-in/email", "{bad json "+password).wantError(t, 400, "BAD_REQUEST")
	c.get("/api/auth/reset-password/path-secret-token?callbackURL=/reset")
	secrets = append(secrets, "path-secret-token")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	log := p.log.String()
	if !strings.Contains(log, `"msg":"request"`) {
		t.Fatalf("no request logs at debug level:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds %q", s)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

// TestHTTPServerBoundsEveryPhase ensures the production server sets every timeout and a header
// limit, so slow clients cannot hold connections forever.
func TestHTTPServerBoundsEveryPhase(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(":0", http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("unbounded server: %+v", srv)
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout || srv.ReadTimeout > srv.WriteTimeout {
		t.Fatalf("timeouts out of order: header %v, read %v, write %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout)
	}
}

// TestBodyLimitWithoutContentLength ensures a chunked body past MAX_BODY_BYTES is cut off with
// 413 too, not read to the end.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.MaxBodyBytes = 1024 })
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"email":"a@example.com","password":"password123","name":"`))
		for range 64 {
			if _, err := pw.Write(bytes.Repeat([]byte("x"), 1024)); err != nil {
				return
			}
		}
		pw.Write([]byte(`"}`))
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/auth/sign-up/email", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	pr.CloseWithError(io.ErrClosedPipe)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"PAYLOAD_TOO_LARGE"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if n := ts.rowCount(t, "user"); n != 0 {
		t.Fatalf("%d users", n)
	}
}

// pgProxy is a TCP proxy between the server's pool and Postgres that the test can cut (every
// connection dropped, new ones refused) and restore.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *pgProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			client.Close()
			continue
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[upstream] = true, true
		p.mu.Unlock()
		go func() { io.Copy(upstream, client); upstream.Close() }()
		go func() { io.Copy(client, upstream); client.Close() }()
	}
}

func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// serverBehindPGProxy starts a test server whose pool reaches its fresh database through a
// pgProxy the test can cut.
func serverBehindPGProxy(t *testing.T) (*testServer, *pgProxy) {
	t.Helper()
	_, dbURL := newTestDB(t)
	u := mustParseURL(t, dbURL)
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	pool, err := openDB(context.Background(), u.String(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return startTestServer(t, pool, nil), proxy
}

// TestPostgresOutageAnswers503AndRecovers ensures that while Postgres is unreachable every
// endpoint that needs it answers 503 with Better Auth's error JSON (never a 500 or a hang), that
// endpoints which do not need it keep working, and that the server recovers on its own.
func TestPostgresOutageAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	ts, proxy := serverBehindPGProxy(t)
	c := ts.client(t)
	c.signUp("outage@example.com", "password123", "Outage")

	proxy.cut()
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/auth/get-session", nil},
		{"GET", "/api/auth/list-sessions", nil},
		{"POST", "/api/auth/sign-in/email", map[string]any{"email": "outage@example.com", "password": "password123"}},
		{"POST", "/api/auth/sign-up/email", map[string]any{"email": "new@example.com", "password": "password123", "name": "New"}},
		{"POST", "/api/auth/update-user", map[string]any{"name": "x"}},
		{"POST", "/api/auth/sign-out", nil},
	} {
		resp := c.do(req.method, req.path, req.body)
		if resp.Status != http.StatusServiceUnavailable || string(resp.Body) != `{"message":"Service temporarily unavailable","code":"SERVICE_UNAVAILABLE"}` {
			t.Fatalf("%s %s during the outage: %d %s", req.method, req.path, resp.Status, resp.Body)
		}
	}
	c.get("/api/auth/ok").wantStatus(t, http.StatusOK)
	c.post("/api/auth/sign-in/email", "{bad").wantError(t, 400, "BAD_REQUEST")

	proxy.restore()
	var recovered bool
	for i := 0; i < 20 && !recovered; i++ {
		resp := c.get("/api/auth/get-session")
		switch resp.Status {
		case http.StatusOK:
			recovered = true
			if !strings.Contains(string(resp.Body), "outage@example.com") {
				t.Fatalf("after recovery: %s", resp.Body)
			}
		case http.StatusServiceUnavailable: // a pooled connection that died in the cut
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("after restore: %d %s", resp.Status, resp.Body)
		}
	}
	if !recovered {
		t.Fatal("the server did not recover after Postgres came back")
	}
	c.post("/api/auth/update-user", map[string]any{"name": "Back"}).wantStatus(t, http.StatusOK)
}

// TestPostgresOutageUnderLoad cuts Postgres off while sign-ups, organization creations and
// session reads stream in, then restores it: every answer is a 2xx or upstream's 503 JSON (never a
// 500 or a dropped connection), the server recovers on its own, and no sign-up or organization is
// left half-written.
func TestPostgresOutageUnderLoad(t *testing.T) {
	t.Parallel()
	ts, proxy := serverBehindPGProxy(t)
	c := ts.client(t)
	c.signUp("load@example.com", "password123", "Load")
	cookie := c.cookieHeader()

	const workers, outage = 4, 700 * time.Millisecond
	l := startLoad(t, workers, func(w, n int) (*http.Request, error) {
		switch w {
		case 0:
			return jsonRequest("POST", ts.URL+"/api/auth/sign-up/email", map[string]any{
				"email": fmt.Sprintf("w%d-%d@example.com", w, n), "password": "password123", "name": "Load"}, ts.URL, "")
		case 1:
			return jsonRequest("POST", ts.URL+"/api/auth/organization/create", map[string]any{
				"name": "Load", "slug": fmt.Sprintf("load-%d-%d", w, n)}, ts.URL, cookie)
		default:
			return jsonRequest("GET", ts.URL+"/api/auth/get-session", nil, ts.URL, cookie)
		}
	})
	time.Sleep(300 * time.Millisecond)
	l.set("outage")
	proxy.cut()
	time.Sleep(outage)
	l.set("after")
	restored := time.Now()
	proxy.restore()
	var recovery time.Duration
	for time.Since(restored) < 10*time.Second {
		if resp := c.get("/api/auth/get-session"); resp.Status == http.StatusOK {
			recovery = time.Since(restored)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	l.finish()

	recordFigures(t, "outage", map[string]any{"workers": workers, "outage_ms": outage.Milliseconds(), "requests": l.sent(), "statuses": l.statuses, "in_flight_answered": l.spanning, "failures": len(l.failures),
		"recovery_ms": recovery.Milliseconds()})
	if recovery == 0 {
		t.Fatal("the server did not recover after Postgres came back")
	}
	for _, f := range l.failures {
		t.Errorf("transport failure: %s", f)
	}
	for phase, statuses := range l.statuses {
		for status := range statuses {
			if status != http.StatusOK && status != http.StatusServiceUnavailable {
				t.Errorf("%s: status %d", phase, status)
			}
		}
	}
	if l.statuses["outage"][http.StatusServiceUnavailable] == 0 || l.statuses["before"][http.StatusOK] == 0 || l.statuses["after"][http.StatusOK] == 0 {
		t.Errorf("statuses %v: want successes before and after, 503s during the outage", l.statuses)
	}
	var orphans int
	if err := ts.db.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM "user" u WHERE NOT EXISTS (SELECT 1 FROM account a WHERE a."userId" = u.id))
		+ (SELECT count(*) FROM organization o WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m."organizationId" = o.id))`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d users without an account or organizations without a member", orphans)
	}
}

// TestShutdownUnderLoad sends SIGTERM while sign-ups and session reads stream in: the process
// exits 0 within SHUTDOWN_TIMEOUT, which http.Server.Shutdown only allows once every request it
// took was answered; every sign-up the database holds was answered 200 to its client; new
// connections are refused once the listener closes. The only connections dropped are those still
// in the kernel's accept queue when the listener closed, between SIGTERM and exit.
func TestShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	const grace = 45 * time.Second // startSidecarProcess's SHUTDOWN_TIMEOUT: long enough that a loaded machine still drains
	p := startSidecarProcess(t)
	c := p.client(t)
	c.signUp("drain@example.com", "password123", "Drain")
	cookie := c.cookieHeader()
	const workers = 4
	l := startLoad(t, workers, func(w, n int) (*http.Request, error) {
		if w == 0 {
			return jsonRequest("POST", p.url+"/api/auth/sign-up/email", map[string]any{
				"email": fmt.Sprintf("w%d-%d@example.com", w, n), "password": "password123", "name": "Drain"}, p.url, "")
		}
		return jsonRequest("GET", p.url+"/api/auth/get-session", nil, p.url, cookie)
	})
	time.Sleep(500 * time.Millisecond)
	l.set("draining")
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-p.done:
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("still running %v after SIGTERM", grace+5*time.Second)
	}
	drain := time.Since(sent)
	p.done <- exitErr // for the cleanup
	l.set("after exit")
	time.Sleep(100 * time.Millisecond)
	l.finish()

	exitCode := 0
	if exitErr != nil {
		exitCode = -1
		var ee *exec.ExitError
		if errors.As(exitErr, &ee) {
			exitCode = ee.ExitCode()
		}
	}
	recordFigures(t, "shutdown", map[string]any{"workers": workers, "requests": l.sent(), "statuses": l.statuses, "in_flight_answered": l.spanning, "refused": l.refused,
		"reset_in_accept_queue": len(l.resets), "failures": len(l.failures), "exit_code": exitCode,
		"drain_ms": drain.Milliseconds(), "grace_ms": grace.Milliseconds()})
	if exitCode != 0 {
		t.Fatalf("exit %v\n%s", exitErr, p.log.String())
	}
	if drain >= grace {
		t.Fatalf("took %v to exit, past the %v grace period", drain, grace)
	}
	for _, f := range l.failures {
		t.Errorf("transport failure: %s", f)
	}
	for _, at := range l.resets {
		if at.Before(sent) || at.After(sent.Add(drain)) {
			t.Errorf("a connection dropped %v after SIGTERM, outside the listener's closing", at.Sub(sent))
		}
	}
	for phase, statuses := range l.statuses {
		for status := range statuses {
			if status != http.StatusOK {
				t.Errorf("%s: status %d", phase, status)
			}
		}
	}
	db, err := openDB(context.Background(), p.dbURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM "user" WHERE email LIKE 'w%'`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if signUps := l.ok["/api/auth/sign-up/email"]; users != signUps {
		t.Errorf("%d sign-ups stored, %d answered 200", users, signUps)
	}
	if l.spanning["before → draining"] == 0 {
		t.Errorf("no request was in flight at SIGTERM: the test proved nothing about draining")
	}
	if l.statuses["before"][http.StatusOK] == 0 || l.refused["after exit"] == 0 {
		t.Errorf("statuses %v, refused %v: want answers before SIGTERM and refusals after exit", l.statuses, l.refused)
	}
}
