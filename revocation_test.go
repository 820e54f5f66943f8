package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cachedCookieServer starts a server with the cookie cache on and every plugin the route table
// serves configured (pool nil: a fresh database). watched false runs it without the revocation feed, trusting a cache cookie
// until its maxAge as upstream does, so that only the store-of-record rule is under test.
func cachedCookieServer(t *testing.T, pool *pgxpool.Pool, watched bool) *testServer {
	t.Helper()
	if pool == nil {
		pool, _ = newTestDB(t)
	}
	return startTestServer(t, pool, func(s *server) { s.revocations.unwatched = !watched }, emailDefaults, func(c *config) {
		c.CookieCacheMaxAge = 300
		c.Email.DeleteUser = true
		c.SSO.DomainVerification = true
		c.Passkey = passkeyConfig{RPID: "localhost", RPName: "Authsidecar Test", UserVerification: protocol.VerificationPreferred}
	})
}

// TestRevokedCachedCookiesOpenNoRouteButGetSession is the stolen-cookie attack: a thief (A) and
// the victim (B) hold sessions of one user; B revokes every session, or deletes the user. A's
// cookie cache is still correctly signed and unexpired, and upstream answers every route from it
// until maxAge. Walking the route table, each route must answer A exactly as it answers a
// visitor with no cookie at all (401 where a session is needed, never a 500), except GET
// get-session, the one route allowed to read the cache.
func TestRevokedCachedCookiesOpenNoRouteButGetSession(t *testing.T) {
	t.Parallel()
	routes := routeTable(t)
	for _, revoke := range []struct {
		name string
		do   func(victim *testClient) *testResponse
	}{
		{"revoke-sessions", func(v *testClient) *testResponse { return v.post("/api/auth/revoke-sessions", nil) }},
		{"delete-user", func(v *testClient) *testResponse {
			return v.post("/api/auth/delete-user", map[string]any{"password": "password123"})
		}},
	} {
		t.Run(revoke.name, func(t *testing.T) {
			t.Parallel()
			ts := cachedCookieServer(t, nil, false)
			thief := ts.client(t)
			thief.signUp("victim@example.com", "password123", "Victim")
			if !strings.Contains(thief.cookieHeader(), "session_data") {
				t.Fatalf("no cookie cache in %q", thief.cookieHeader())
			}
			victim := ts.client(t)
			victim.signIn("victim@example.com", "password123").wantStatus(t, http.StatusOK)
			revoke.do(victim).wantStatus(t, http.StatusOK)
			if ts.rowCount(t, "session") != 0 {
				t.Fatal("sessions left after the victim revoked them")
			}
			stolen := maps.Clone(thief.cookies)
			unauthorized := 0
			for _, r := range routes {
				body := bodyFor(ts.client(t), r)
				c := ts.client(t)
				c.cookies = maps.Clone(stolen)
				got := c.do(r.method, r.path(), body, "Origin", ts.URL)
				if got.Status >= 500 {
					t.Errorf("%s %s with revoked cached cookies: %d %s", r.method, r.pattern, got.Status, got.Body)
				}
				if r.method == http.MethodGet && r.pattern == basePath+"/get-session" {
					// Upstream's behaviour, kept for reads: the cache answers until its maxAge.
					if !strings.Contains(string(got.Body), "victim@example.com") {
						t.Errorf("get-session did not answer from the still-valid cache: %s", got.Body)
					}
					continue
				}
				anon := ts.client(t).do(r.method, r.path(), body, "Origin", ts.URL)
				if got.Status != anon.Status || errorCode(got) != errorCode(anon) {
					t.Errorf("%s %s: revoked cookies got %d %s, no cookie got %d %s", r.method, r.pattern, got.Status, got.Body, anon.Status, anon.Body)
				}
				if anon.Status == http.StatusUnauthorized {
					unauthorized++
				}
			}
			recordFigures(t, "cache reads only", map[string]any{"revocation": revoke.name, "routes": len(routes), "session_routes": unauthorized})
			if unauthorized < 40 {
				t.Fatalf("only %d routes asked for a session; is the walk reaching the handlers?", unauthorized)
			}
			if n := ts.rowCount(t, "passkey") + ts.rowCount(t, "session"); n != 0 {
				t.Fatalf("%d passkey or session rows made with revoked cookies", n)
			}
		})
	}
}

// bodyFor is the request body the walk sends: to a POST route, an object with every field the
// route requires (asked of the route itself, see probeRoute), so that the request gets past
// validation to the session check.
func bodyFor(c *testClient, r route) any {
	if r.method != http.MethodPost {
		return nil
	}
	_, _, required := probeRoute(c, r.path())
	body := map[string]any{}
	for field, kind := range required {
		body[field] = map[string]any{"string": "x", "boolean": true, "number": 1, "array": []any{}, "object": map[string]any{}}[kind]
	}
	return body
}

// errorCode is the Better Auth error code of a response, or "".
func errorCode(r *testResponse) string {
	var e struct{ Code string }
	if strings.HasPrefix(string(r.Body), "{") {
		_ = json.Unmarshal(r.Body, &e)
	}
	return e.Code
}

// TestRevokedSessionIsRefusedOnEveryReplicaWithinASecond runs two replicas with the cookie cache
// on one database: the thief's cache cookie answers on replica B; the victim revokes every
// session through replica A; B refuses the cookie within a second, without waiting for maxAge.
func TestRevokedSessionIsRefusedOnEveryReplicaWithinASecond(t *testing.T) {
	t.Parallel()
	recordRevocationCheckCost(t)
	pool, _ := newTestDB(t)
	a := cachedCookieServer(t, pool, true)
	b := cachedCookieServer(t, pool, true)
	for _, revoke := range []struct {
		name string
		do   func(victim *testClient) *testResponse
	}{
		{"sign-out", func(v *testClient) *testResponse { return v.post("/api/auth/sign-out", nil) }},
		{"revoke-sessions", func(v *testClient) *testResponse { return v.post("/api/auth/revoke-sessions", nil) }},
		{"change-password", func(v *testClient) *testResponse {
			return v.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456", "revokeOtherSessions": true})
		}},
		{"delete-user", func(v *testClient) *testResponse {
			return v.post("/api/auth/delete-user", map[string]any{"password": "password123"})
		}},
	} {
		t.Run(revoke.name, func(t *testing.T) {
			email := revoke.name + "@example.com"
			victim := a.client(t)
			victim.signUp(email, "password123", "Victim")
			thief := b.client(t)
			if revoke.name == "sign-out" {
				maps.Copy(thief.cookies, victim.cookies) // the very session signed out was stolen
			} else {
				thief.signIn(email, "password123").wantStatus(t, http.StatusOK)
			}
			// Renamed behind the cache's back: the old name proves B answers from the cache.
			a.exec(t, `UPDATE "user" SET name = 'Renamed' WHERE email = $1`, email)
			if body := string(thief.get("/api/auth/get-session").Body); !strings.Contains(body, `"name":"Victim"`) {
				t.Fatalf("replica b did not answer from the cookie cache: %s", body)
			}
			stolen := maps.Clone(thief.cookies)
			revoke.do(victim).wantStatus(t, http.StatusOK)
			revoked := time.Now()
			for {
				c := b.client(t)
				c.cookies = maps.Clone(stolen)
				if string(c.get("/api/auth/get-session").Body) == "null" {
					recordFigures(t, "revocation", map[string]any{"revocation": revoke.name, "ms": float64(time.Since(revoked).Microseconds()) / 1000})
					break
				}
				if time.Since(revoked) > time.Second {
					t.Fatal("replica b still answers the revoked session's cache after 1 s")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestRevocationsMissedWhileTheFeedIsDownAreReloaded cuts the replica's LISTEN connection: while
// it is down no cache hit is trusted, and a revocation made in the gap, whose NOTIFY nobody heard,
// is loaded from "sessionRevocation" when the feed reconnects.
func TestRevocationsMissedWhileTheFeedIsDownAreReloaded(t *testing.T) {
	t.Parallel()
	ts := cachedCookieServer(t, nil, true)
	c := ts.client(t)
	c.signUp("gap@example.com", "password123", "Gap")
	stolen := maps.Clone(c.cookies)
	ts.exec(t, `UPDATE "user" SET name = 'Renamed'`)
	if body := string(c.get("/api/auth/get-session").Body); !strings.Contains(body, `"name":"Gap"`) {
		t.Fatalf("not answered from the cache: %s", body)
	}
	ts.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%FROM "sessionRevocation"%'`)
	waitFor(t, "the feed to drop", func() bool { return !ts.revocations.live.Load() })
	// Down: the cache is not trusted, Postgres answers (the new name).
	if body := string(c.get("/api/auth/get-session").Body); !strings.Contains(body, `"name":"Renamed"`) {
		t.Fatalf("a cache hit was trusted while the feed was down: %s", body)
	}
	ts.exec(t, `DELETE FROM session`)
	waitFor(t, "the feed to come back", func() bool { return ts.revocations.live.Load() })
	c.cookies = stolen
	if body := string(c.get("/api/auth/get-session").Body); body != "null" {
		t.Fatalf("a revocation made while the feed was down was not reloaded: %s", body)
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// recordRevocationCheckCost records BenchmarkRevocationCheck's figures for RELIABILITY.md, only
// when figures are being recorded (a benchmark run takes a second).
func recordRevocationCheckCost(t *testing.T) {
	if os.Getenv("RELIABILITY_OUT") == "" {
		return
	}
	res := testing.Benchmark(BenchmarkRevocationCheck)
	load, _ := os.ReadFile("/proc/loadavg")
	recordFigures(t, "revocation check", map[string]any{
		"set_size": 10_000, "ns_per_op": res.NsPerOp(), "allocs_per_op": res.AllocsPerOp(),
		"load_average": strings.Fields(string(load) + " ?")[0], "cpus": runtime.NumCPU(),
	})
}

// BenchmarkRevocationCheck measures what instant revocation adds to each cookie cache hit: the
// lookup of the session id in a set of 10 000 recent revocations.
func BenchmarkRevocationCheck(b *testing.B) {
	var rs revocationSet
	rs.window = time.Hour
	rs.watched.Store(true)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = generateID(32)
	}
	rs.reset(ids)
	id := generateID(32)
	b.ReportAllocs()
	for b.Loop() {
		if rs.refuses(id) {
			b.Fatal("refused a session never revoked")
		}
	}
}
