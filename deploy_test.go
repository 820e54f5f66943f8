package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// replicaSet is several sidecars on one database behind a round-robin reverse proxy, as the
// Deployment in deploy/kubernetes.yaml runs them behind a Service.
type replicaSet struct {
	*testServer // the proxy's URL; the first replica's server, for database helpers
	replicas    []*testServer
}

func newReplicaSet(t *testing.T, n int) *replicaSet {
	t.Helper()
	db, _ := newTestDB(t)
	var next atomic.Int64
	backends := make([]*url.URL, n)
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int(next.Add(1)-1) % n
			pr.SetURL(backends[i])
			pr.Out.Host = pr.In.Host
			// Each test client stands for a client behind an outer load balancer that names it.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Test-Replica", strconv.Itoa(i))
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set("X-Test-Replica", resp.Request.Header.Get("X-Test-Replica"))
			return nil
		},
	})
	origin := "http://" + proxy.Listener.Addr().String()
	rs := &replicaSet{}
	for i := range n {
		ts := startTestServer(t, db, nil, func(c *config) {
			c.BaseURL = origin
			c.RateLimit = true
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		// ts.URL is where the replica listens; its configured origin is the proxy's.
		u, err := url.Parse(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		backends[i] = u
		rs.replicas = append(rs.replicas, ts)
	}
	// One fixed instant on every replica: the 10-second sign-in window must not run out between
	// requests on a loaded machine, and the replicas must agree on the time.
	now := time.Now()
	for _, r := range rs.replicas {
		r.clock.set(now)
	}
	proxy.Start()
	t.Cleanup(proxy.Close)
	rs.testServer = &testServer{server: rs.replicas[0].server, URL: origin, mails: rs.replicas[0].mails, clock: rs.replicas[0].clock}
	return rs
}

// waitMail returns the mail of type to email that any replica's worker delivered.
func (rs *replicaSet) waitMail(t *testing.T, typ, email string) mail {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, r := range rs.replicas {
			r.mails.mu.Lock()
			for _, m := range r.mails.sent {
				if m.Type == typ && m.Email == email {
					r.mails.mu.Unlock()
					return m
				}
			}
			r.mails.mu.Unlock()
		}
	}
	t.Fatalf("no %s mail to %s from any replica", typ, email)
	return mail{}
}

// TestThreeReplicasBehindARoundRobinProxyShareEverything proves what deploy/kubernetes.yaml
// relies on: three replicas on one database, each request going to the next one, agree on
// sessions, on the shared rate limits, on revocation and on single-use tokens.
func TestThreeReplicasBehindARoundRobinProxyShareEverything(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 3)
	c := rs.client(t)
	c.signUp("replicas@example.com", "password123", "Replicas")

	// Sessions: the session made on one replica is the session on every replica.
	seen := map[string]bool{}
	for range 3 {
		resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
		if user, _ := resp.object(t)["user"].(map[string]any); user["email"] != "replicas@example.com" {
			t.Fatalf("replica %s does not know the session: %s", resp.Header.Get("X-Test-Replica"), resp.Body)
		}
		seen[resp.Header.Get("X-Test-Replica")] = true
	}
	if len(seen) != 3 {
		t.Fatalf("get-session reached replicas %v, want all three", seen)
	}

	// Revocation: a second session, revoked through one replica, is gone on all three.
	other := rs.client(t)
	other.header.Set("X-Forwarded-For", "198.51.100.1")
	other.post("/api/auth/sign-in/email", map[string]any{"email": "replicas@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
	c.post("/api/auth/revoke-session", map[string]any{"token": other.cookieToken()}).wantStatus(t, http.StatusOK)
	for range 3 {
		if resp := other.get("/api/auth/get-session"); string(resp.Body) != "null" {
			t.Fatalf("replica %s still serves the revoked session: %s", resp.Header.Get("X-Test-Replica"), resp.Body)
		}
	}

	// Rate limits: sign-in allows 3 per 10 s per client, counted across replicas: three attempts
	// land on three replicas, the fourth is refused wherever it lands.
	flood := rs.client(t)
	flood.header.Set("X-Forwarded-For", "203.0.113.7")
	landed := map[string]bool{}
	for range 3 {
		resp := flood.post("/api/auth/sign-in/email", map[string]any{"email": "replicas@example.com", "password": "wrong-password"})
		resp.wantError(t, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
		landed[resp.Header.Get("X-Test-Replica")] = true
	}
	if len(landed) != 3 {
		t.Fatalf("sign-ins reached replicas %v, want all three", landed)
	}
	flood.post("/api/auth/sign-in/email", map[string]any{"email": "replicas@example.com", "password": "wrong-password"}).wantStatus(t, http.StatusTooManyRequests)

	// Single-use tokens: a reset token sent to every replica at once works exactly once.
	c.post("/api/auth/request-password-reset", map[string]any{"email": "replicas@example.com", "redirectTo": "/r"}).wantStatus(t, http.StatusOK)
	token := rs.waitMail(t, "reset-password", "replicas@example.com").Token
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			cl := rs.client(t)
			cl.header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i+1))
			resp := cl.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass-" + strconv.Itoa(i), "token": token})
			switch resp.Status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusBadRequest:
			default:
				t.Errorf("reset answered %d %s", resp.Status, resp.Body)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("the reset token worked %d times across replicas, want once", ok.Load())
	}
}

// TestDeployFilesNameOnlyMetricsTheServerExports reads the alert rules and the Grafana dashboard
// in deploy/ and wants every metric they query to be one the server registers, so a renamed
// metric cannot leave a silent alert or an empty panel behind.
func TestDeployFilesNameOnlyMetricsTheServerExports(t *testing.T) {
	t.Parallel()
	ts, _ := newMetricsServer(t)
	exported := map[string]bool{}
	m := ts.metrics
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.signIns, m.signUps, m.rateLimitedTotal,
		m.twoFactorChallenges, m.mails, m.scryptWaiting, m.scryptWait, m.cookieCache} {
		descs := make(chan *prometheus.Desc, 64)
		c.Describe(descs)
		close(descs)
		for d := range descs {
			if name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String()); name != nil {
				exported[name[1]] = true
			}
		}
	}
	families, err := ts.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		exported[f.GetName()] = true
	}

	dashboard, err := os.ReadFile("deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(dashboard) {
		t.Fatal("deploy/grafana-dashboard.json is not JSON")
	}
	rules, err := os.ReadFile("deploy/prometheus-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`\b(?:authsidecar|go|process)_[a-z_]+\b`).FindAllString(string(dashboard)+string(rules), -1)
	if len(used) < 20 {
		t.Fatalf("found only %d metric references; did the files change shape?", len(used))
	}
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if trimmed, ok := strings.CutSuffix(name, suffix); ok && exported[trimmed] {
				base = trimmed
			}
		}
		if !exported[base] {
			t.Errorf("deploy/ queries %s, which the server does not export", name)
		}
	}
}
