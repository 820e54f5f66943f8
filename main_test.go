package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const testSecret = "test-secret-test-secret-test-secret-0123"

func TestMain(m *testing.M) {
	// The operations tests run this binary as the real server (see startSidecarProcess).
	// A server of this test binary starts its hashing process as this binary (hashproc.go).
	if os.Getenv("AUTHSIDECAR_RUN_MAIN") == "1" || len(os.Args) > 1 && os.Args[1] == hashWorkerCommand {
		main()
		return
	}
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	code := m.Run()
	testPG.close()
	testRedisServer.close()
	os.Exit(code)
}

// testPG is the Postgres every test gets a fresh database from: TEST_DATABASE_URL when set, else a
// testcontainers Postgres when Docker answers, else the local server. Databases are cloned from a
// template that has the schema applied once, so a fresh one costs a CREATE DATABASE.
type testPostgres struct {
	once      sync.Once
	err       error
	adminURL  *url.URL
	admin     *pgxpool.Pool
	template  string
	container testcontainers.Container
}

var testPG testPostgres

func (p *testPostgres) close() {
	ctx := context.Background()
	if p.admin != nil {
		if p.template != "" {
			p.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+p.template+` WITH (FORCE)`)
		}
		p.admin.Close()
	}
	if p.container != nil {
		p.container.Terminate(ctx)
	}
}

func setupTestPG() error {
	ctx := context.Background()
	raw := os.Getenv("TEST_DATABASE_URL")
	source := "TEST_DATABASE_URL"
	if raw == "" {
		if c, u, err := startPostgresContainer(ctx); err == nil {
			testPG.container, raw, source = c, u, "testcontainers"
		} else {
			raw, source = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "local server (no Docker: "+firstLine(err)+")"
		}
	}
	fmt.Fprintf(os.Stderr, "tests use Postgres from %s\n", source)
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse test database URL: %w", err)
	}
	testPG.adminURL = u
	if testPG.admin, err = openDB(ctx, raw, 4); err != nil {
		return err
	}
	testPG.template = "authsidecar_tmpl_" + strings.ToLower(generateID(10))
	if _, err := testPG.admin.Exec(ctx, `CREATE DATABASE `+testPG.template); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	tmpl, err := openDB(ctx, dbURL(testPG.template), 1)
	if err != nil {
		return err
	}
	defer tmpl.Close()
	return migrate(ctx, tmpl)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

func startPostgresContainer(ctx context.Context) (testcontainers.Container, string, error) {
	c, addr, err := startContainer(ctx, testcontainers.ContainerRequest{
		Image:        "postgres:16-alpine",
		ExposedPorts: []string{"5432/tcp"},
		Env:          map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"},
		WaitingFor:   wait.ForLog("database system is ready to accept connections").WithOccurrence(2).WithStartupTimeout(60 * time.Second),
	})
	if err != nil {
		return nil, "", err
	}
	return c, "postgres://postgres@" + addr + "/postgres?sslmode=disable", nil
}

// startContainer starts req's container when Docker answers and returns it with the host:port of
// its first exposed port.
func startContainer(ctx context.Context, req testcontainers.ContainerRequest) (testcontainers.Container, string, error) {
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, "", err
	}
	defer provider.Close()
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := provider.Health(hctx); err != nil {
		return nil, "", err
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		return nil, "", err
	}
	host, err := c.Host(ctx)
	if err != nil {
		return nil, "", err
	}
	port, err := c.MappedPort(ctx, req.ExposedPorts[0])
	if err != nil {
		return nil, "", err
	}
	return c, net.JoinHostPort(host, port.Port()), nil
}

func dbURL(name string) string {
	u := *testPG.adminURL
	u.Path = "/" + name
	return u.String()
}

// newTestDB creates a fresh database for t, dropped when t ends.
func newTestDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	testPG.once.Do(func() { testPG.err = setupTestPG() })
	if testPG.err != nil {
		t.Fatalf("test Postgres: %v", testPG.err)
	}
	ctx := context.Background()
	name := "authsidecar_test_" + strings.ToLower(generateID(12))
	if _, err := testPG.admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+testPG.template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	db, err := openDB(ctx, dbURL(name), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := testPG.admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop test database: %v", err)
		}
	})
	return db, dbURL(name)
}

// testServer is the sidecar over real HTTP on a fresh database.
type testServer struct {
	*server
	URL   string // the app origin, e.g. http://127.0.0.1:41234
	mails *testMailer
	clock *testClock // the server's clock: real time until a test sets it
}

// testClock is a test server's clock, installed before the server starts so that moving it
// races nothing: real time to the millisecond, as the server's own, until set, then only moved.
type testClock struct{ fixed atomic.Int64 } // UnixMilli; 0 means real time

func (c *testClock) now() time.Time {
	if ms := c.fixed.Load(); ms != 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (c *testClock) set(t time.Time)         { c.fixed.Store(t.UnixMilli()) }
func (c *testClock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// testScryptN is the scrypt work factor of test servers: under the race detector one hash at
// upstream's N takes about a second, which made hashing most of the suite's time. Upstream's N is
// still what is proven compatible: by the tests on hashes the Node server made (they pass
// upstreamHashing or call newServer), and by the web and compatibility suites, which run the
// real binary against the Node server.
const testScryptN = 1024

// upstreamHashing is the setup of a test server that must hash as the Node server does.
func upstreamHashing(s *server) { s.scryptN = upstreamScryptN }

// newTestServer starts the sidecar on its own database. Rate limits are off unless a test turns
// them on and passwords hash at testScryptN; everything else is the production default.
func newTestServer(t testing.TB, opts ...func(*config)) *testServer {
	t.Helper()
	db, _ := newTestDB(t)
	return startTestServer(t, db, nil, opts...)
}

// startTestServer starts the sidecar on db, which several test servers may share (two replicas).
// setup, when given, adjusts the server (its clock, say) before it serves a request.
func startTestServer(t testing.TB, db *pgxpool.Pool, setup func(*server), opts ...func(*config)) *testServer {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://" + ts.Listener.Addr().String()
	cfg := config{
		Secret:         testSecret,
		BaseURL:        origin,
		TrustedProxies: nil,
		MaxBodyBytes:   1 << 20,
		coreConfig:     defaultCoreConfig(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := applyFieldColumns(context.Background(), db, cfg); err != nil {
		t.Fatal(err)
	}
	s := newServer(cfg, db)
	s.scryptN = testScryptN
	clock := &testClock{}
	s.now = clock.now
	if setup != nil {
		setup(s)
	}
	mails := &testMailer{next: s.mailer}
	s.mailer = mails
	ts.Config.Handler = routes(s)
	ts.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.mailLoop(ctx, 10*time.Millisecond); close(done) }()
	watched := s.watchRevocations(ctx)
	repaired := s.watchRedis(ctx, 20*time.Millisecond)
	t.Cleanup(func() {
		cancel()
		<-done
		<-watched
		<-repaired
		ts.Close()
		if s.redis != nil {
			s.redis.c.Close()
		}
	})
	return &testServer{server: s, URL: origin, mails: mails, clock: clock}
}

// testMailer records delivered mail for the test to read, after the configured mailer (the
// development sink, or SMTP when a test sets SMTP_HOST) has accepted it.
type testMailer struct {
	next mailer
	mu   sync.Mutex
	sent []mail
}

func (m *testMailer) send(ctx context.Context, msg mail) error {
	if err := m.next.send(ctx, msg); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

// waitMail returns the latest delivered mail of type to email, waiting up to 5 s for the worker.
func (ts *testServer) waitMail(t testing.TB, typ, email string) mail {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ts.mails.mu.Lock()
		for i := len(ts.mails.sent) - 1; i >= 0; i-- {
			if m := ts.mails.sent[i]; m.Type == typ && m.Email == email {
				ts.mails.mu.Unlock()
				return m
			}
		}
		ts.mails.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s mail to %s", typ, email)
	return mail{}
}

// testClient is a browser stand-in: it keeps the cookies the server sets and sends the app's
// Origin on every request, as the npm client does from a page.
type testClient struct {
	t       testing.TB
	ts      *testServer
	cookies map[string]string
	header  http.Header
}

func (ts *testServer) client(t testing.TB) *testClient {
	return &testClient{t: t, ts: ts, cookies: map[string]string{}, header: http.Header{"Origin": {ts.URL}}}
}

type testResponse struct {
	Status  int
	Header  http.Header
	Body    []byte
	cookies []*http.Cookie
}

// do sends a request; body may be nil, a string (sent as is) or a value encoded as JSON.
func (c *testClient) do(method, path string, body any, header ...string) *testResponse {
	c.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, c.ts.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie := c.cookieHeader(); cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	tr := &testResponse{Status: resp.StatusCode, Header: resp.Header, Body: data, cookies: resp.Cookies()}
	for _, ck := range tr.cookies {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return tr
}

// cookieHeader is the Cookie header c sends.
func (c *testClient) cookieHeader() string {
	var pairs []string
	for k, v := range c.cookies {
		pairs = append(pairs, k+"="+v)
	}
	return strings.Join(pairs, "; ")
}

func (c *testClient) post(path string, body any, header ...string) *testResponse {
	c.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return c.do(http.MethodPost, path, body, header...)
}

func (c *testClient) get(path string, header ...string) *testResponse {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, header...)
}

// decode unmarshals the body into v, failing the test on invalid JSON.
func (r *testResponse) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// object returns the body as a JSON object.
func (r *testResponse) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// setCookie returns the raw Set-Cookie line for name, or "".
func (r *testResponse) setCookie(name string) string {
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line
		}
	}
	return ""
}

// wantStatus fails unless the response has the status.
func (r *testResponse) wantStatus(t testing.TB, status int) *testResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// wantError fails unless the response is the Better Auth error {code} with the status.
func (r *testResponse) wantError(t testing.TB, status int, code string) {
	t.Helper()
	r.wantStatus(t, status)
	var e struct{ Code, Message string }
	r.decode(t, &e)
	if e.Code != code || e.Message == "" {
		t.Fatalf("error = %s, want code %q with a message", r.Body, code)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content type = %q", ct)
	}
}

// signUp creates a user through the API and leaves c signed in as that user.
func (c *testClient) signUp(email, password, name string) map[string]any {
	c.t.Helper()
	resp := c.post("/api/auth/sign-up/email", map[string]any{"email": email, "password": password, "name": name})
	resp.wantStatus(c.t, http.StatusOK)
	return resp.object(c.t)["user"].(map[string]any)
}

// rowCount counts the rows of table in the test server's database.
func (ts *testServer) rowCount(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := ts.db.QueryRow(context.Background(), `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServerGCPercentUnlessGOGCSetsOne: serve collects at GOGC=200 (fewer collections of the
// live heap per request), and an operator's GOGC wins.
func TestServerGCPercentUnlessGOGCSetsOne(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	setGCPercent(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Fatalf("GOGC unset: GC percent %d, want %d", got, serverGCPercent)
	}
	setGCPercent(func(k string) string { return map[string]string{"GOGC": "50"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: GC percent changed to %d; the runtime's own reading of GOGC must stand", got)
	}
}
