package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRedisOutageUnderLoad cuts Redis off while get-session streams in with several sessions,
// signs one session out during the outage, then restores Redis. With sessions in Postgres too
// every answer is a 200 with its session (Redis is never needed) and, once Redis is back, the
// session revoked during the outage is not resurrected by its stale Redis copy: the repair loop
// deleted it before the replica read Redis again. With sessions only in Redis, the outage is
// upstream's 503 JSON (the sign-out too, so that session lives on) and every session answers
// again afterwards. No session is lost in either.
func TestRedisOutageUnderLoad(t *testing.T) {
	t.Parallel()
	for _, a := range redisArrangements {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			proxy := newPGProxy(t, strings.TrimPrefix(redisURLForTest(t), "redis://"))
			ts := newTestServer(t, withRedis(t, a.sessionsInDB, true, "redis://"+proxy.ln.Addr().String()))
			var cookies []string
			for i := range 4 {
				c := ts.client(t)
				c.signUp(fmt.Sprintf("load%d@example.com", i), "password123", "Load")
				cookies = append(cookies, c.cookieHeader())
			}
			victim := ts.client(t)
			victim.signUp("victim@example.com", "password123", "Victim")
			victimToken, _ := redisSessionOf(t, victim)

			const workers, outage = 4, 700 * time.Millisecond
			// Connections are kept alive: the outage is Redis's, not the listener's.
			l := startLoadWith(t, &http.Client{Timeout: 30 * time.Second}, workers, func(w, n int) (*http.Request, error) {
				return jsonRequest("GET", ts.URL+"/api/auth/get-session", nil, ts.URL, cookies[(w+n)%len(cookies)])
			})
			time.Sleep(300 * time.Millisecond)
			l.set("outage")
			proxy.cut()
			revoked := victim.post("/api/auth/sign-out", nil)
			time.Sleep(outage)
			l.set("after")
			restored := time.Now()
			proxy.restore()
			c := ts.client(t)
			c.cookies = nil
			var recovery time.Duration
			for time.Since(restored) < 15*time.Second {
				if !ts.redis.degraded.Load() && ts.redis.ping(context.Background()) == nil {
					resp := c.do("GET", "/api/auth/get-session", nil, "Cookie", cookies[0])
					if resp.Status == http.StatusOK && string(resp.Body) != "null" {
						recovery = time.Since(restored)
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			l.finish()

			rc := testRedisClient(t)
			stale := rc.Exists(context.Background(), ts.cfg.Redis.KeyPrefix+victimToken).Val()
			afterRevoke := victim.get("/api/auth/get-session")
			// With sessions only in Redis the sign-out was refused (503), so the session rightly
			// lives on; with Postgres too it was signed out and must stay so.
			resurrected := 0
			if a.sessionsInDB && afterRevoke.Status == http.StatusOK && string(afterRevoke.Body) != "null" {
				resurrected = 1
			}
			recordFigures(t, "redis outage", map[string]any{"arrangement": a.name, "workers": workers, "outage_ms": outage.Milliseconds(),
				"statuses": l.statuses, "lost": l.null, "resurrected": resurrected, "failures": l.transportFailures(), "recovery_ms": recovery.Milliseconds()})
			if recovery == 0 {
				t.Fatal("the server did not recover after Redis came back")
			}
			if n := l.transportFailures(); n > 0 {
				t.Errorf("%d transport failures: %v, refused %v, reset %d", n, l.failures, l.refused, len(l.resets))
			}
			for phase, n := range l.null {
				t.Errorf("%s: %d answers lost their session", phase, n)
			}
			for phase, statuses := range l.statuses {
				for status := range statuses {
					if status != http.StatusOK && (a.sessionsInDB || status != http.StatusServiceUnavailable) {
						t.Errorf("%s: status %d", phase, status)
					}
				}
			}
			if a.sessionsInDB {
				revoked.wantStatus(t, http.StatusOK)
				if l.statuses["outage"][http.StatusOK] == 0 {
					t.Errorf("statuses %v: want get-session served from Postgres during the outage", l.statuses)
				}
			} else {
				revoked.wantError(t, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
				if l.statuses["outage"][http.StatusServiceUnavailable] == 0 {
					t.Errorf("statuses %v: want 503s during the outage", l.statuses)
				}
			}
			if !a.sessionsInDB && string(afterRevoke.Body) == "null" {
				t.Fatalf("a sign-out refused with 503 ended the session: %s", afterRevoke.Body)
			}
			if resurrected != 0 || (a.sessionsInDB && stale != 0) {
				t.Fatalf("the session signed out during the outage: get-session %s, stale Redis copy %d", afterRevoke.Body, stale)
			}
			if l.statuses["after"][http.StatusOK] == 0 {
				t.Errorf("statuses %v: want successes after recovery", l.statuses)
			}
		})
	}
}
