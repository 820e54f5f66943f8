package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sessionLoad reads get-session with several signed-in clients' cookies from a few workers and
// counts, per phase, the statuses and the answers that had lost their session (null).
type sessionLoad struct {
	mu       sync.Mutex
	phase    string
	statuses map[string]map[int]int
	lost     map[string]int
	failures []string
	stop     chan struct{}
	done     sync.WaitGroup
}

func startSessionLoad(t *testing.T, url string, cookies []string, workers int) *sessionLoad {
	l := &sessionLoad{phase: "before", statuses: map[string]map[int]int{}, lost: map[string]int{}, stop: make(chan struct{})}
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", url+"/api/auth/get-session", nil)
				req.Header.Set("Cookie", cookies[(w+n)%len(cookies)])
				req.Header.Set("Origin", url)
				phase := l.current()
				resp, err := client.Do(req)
				l.mu.Lock()
				if err != nil {
					l.failures = append(l.failures, err.Error())
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if l.statuses[phase] == nil {
						l.statuses[phase] = map[int]int{}
					}
					l.statuses[phase][resp.StatusCode]++
					if resp.StatusCode == http.StatusOK && string(body) == "null" {
						l.lost[phase]++
					}
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *sessionLoad) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.phase
}

func (l *sessionLoad) set(phase string) {
	l.mu.Lock()
	l.phase = phase
	l.mu.Unlock()
}

func (l *sessionLoad) finish() {
	close(l.stop)
	l.done.Wait()
}

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
			l := startSessionLoad(t, ts.URL, cookies, workers)
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
				"statuses": l.statuses, "lost": l.lost, "resurrected": resurrected, "failures": len(l.failures), "recovery_ms": recovery.Milliseconds()})
			if recovery == 0 {
				t.Fatal("the server did not recover after Redis came back")
			}
			for _, f := range l.failures {
				t.Errorf("transport failure: %s", f)
			}
			for phase, n := range l.lost {
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
