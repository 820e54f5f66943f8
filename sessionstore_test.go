package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisArrangements are the two ways sessions live with REDIS_URL set.
var redisArrangements = []struct {
	name         string
	sessionsInDB bool
}{
	{"redis-only", false},
	{"redis+postgres", true},
}

// sessionOf answers the session token and JSON get-session shows the client.
func redisSessionOf(t *testing.T, c *testClient) (string, map[string]any) {
	t.Helper()
	body := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).object(t)
	if body == nil {
		t.Fatal("get-session: no session")
	}
	sess := body["session"].(map[string]any)
	return sess["token"].(string), body
}

// storedSession reads a session value from Redis as upstream would.
func storedSession(t *testing.T, ts *testServer, rc *redis.Client, token string) (map[string]any, time.Duration) {
	t.Helper()
	ctx := context.Background()
	key := ts.cfg.Redis.KeyPrefix + token
	v, err := rc.Get(ctx, key).Result()
	if err == redis.Nil {
		return nil, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		t.Fatalf("stored session %q: %v", v, err)
	}
	return m, rc.TTL(ctx, key).Val()
}

type listEntry struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expiresAt"`
}

func storedList(t *testing.T, ts *testServer, rc *redis.Client, userID string) ([]listEntry, string) {
	t.Helper()
	raw, err := rc.Get(context.Background(), ts.cfg.Redis.KeyPrefix+"active-sessions-"+userID).Result()
	if err == redis.Nil {
		return nil, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var l []listEntry
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		t.Fatalf("active-sessions %q: %v", raw, err)
	}
	return l, raw
}

// TestRedisSessionKeysValuesAndTTLsAreUpstreams proves what a sign-up writes to Redis is what
// upstream's createSession writes: {token} holding get-session's JSON with a TTL to expiresAt,
// active-sessions-{userId} listing the token with expiresAt in epoch ms, and (sessions only in
// Redis) no session row; sign-out deletes both keys.
func TestRedisSessionKeysValuesAndTTLsAreUpstreams(t *testing.T) {
	t.Parallel()
	for _, a := range redisArrangements {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withRedis(t, a.sessionsInDB, true))
			rc := testRedisClient(t)
			c := ts.client(t)
			user := c.signUp("keys@example.com", "password123", "Keys")
			token, answer := redisSessionOf(t, c)
			stored, ttl := storedSession(t, ts, rc, token)
			if stored == nil {
				t.Fatal("no session value in Redis")
			}
			wantJSON, _ := json.Marshal(answer)
			gotJSON, _ := json.Marshal(stored)
			if string(wantJSON) != string(gotJSON) {
				t.Fatalf("stored %s\nget-session %s", gotJSON, wantJSON)
			}
			if ttl <= defaultSessionExpiresIn-time.Minute || ttl > defaultSessionExpiresIn {
				t.Fatalf("TTL %v, want about %v", ttl, defaultSessionExpiresIn)
			}
			list, raw := storedList(t, ts, rc, user["id"].(string))
			expires, _ := time.Parse(time.RFC3339, answer["session"].(map[string]any)["expiresAt"].(string))
			if len(list) != 1 || list[0].Token != token || list[0].ExpiresAt != expires.UnixMilli() || !strings.HasPrefix(raw, `[{"token":`) {
				t.Fatalf("active-sessions = %s, want [{token, expiresAt %d}]", raw, expires.UnixMilli())
			}
			if rows, want := ts.rowCount(t, "session"), map[bool]int{false: 0, true: 1}[a.sessionsInDB]; rows != want {
				t.Fatalf("%d session rows, want %d", rows, want)
			}
			c.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
			if v, _ := storedSession(t, ts, rc, token); v != nil {
				t.Fatal("session still in Redis after sign-out")
			}
			if l, _ := storedList(t, ts, rc, user["id"].(string)); l != nil {
				t.Fatalf("active-sessions still listed after sign-out: %v", l)
			}
		})
	}
}

// TestRedisSessionLifecycle runs the session endpoints in each Redis arrangement: list, revoke
// one, revoke others, revoke all (which writes upstream's revoked-sessions-before marker), and
// update-user rewriting the user kept with every session.
func TestRedisSessionLifecycle(t *testing.T) {
	t.Parallel()
	for _, a := range redisArrangements {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withRedis(t, a.sessionsInDB, true))
			rc := testRedisClient(t)
			c1 := ts.client(t)
			user := c1.signUp("life@example.com", "password123", "Life")
			userID := user["id"].(string)
			var clients []*testClient
			for range 3 {
				c := ts.client(t)
				c.post("/api/auth/sign-in/email", map[string]any{"email": "life@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
				clients = append(clients, c)
			}
			var listed []map[string]any
			c1.get("/api/auth/list-sessions").wantStatus(t, http.StatusOK).decode(t, &listed)
			if len(listed) != 4 {
				t.Fatalf("list-sessions: %d sessions, want 4", len(listed))
			}

			c1.post("/api/auth/update-user", map[string]any{"name": "Renamed"}).wantStatus(t, http.StatusOK)
			t2, _ := redisSessionOf(t, clients[0])
			stored, _ := storedSession(t, ts, rc, t2)
			if stored["user"].(map[string]any)["name"] != "Renamed" {
				t.Fatalf("another session's stored user after update-user: %v", stored["user"])
			}

			c1.post("/api/auth/revoke-session", map[string]any{"token": t2}).wantStatus(t, http.StatusOK)
			if body := clients[0].get("/api/auth/get-session").wantStatus(t, http.StatusOK); string(body.Body) != "null" {
				t.Fatalf("revoked session still answers: %s", body.Body)
			}
			c1.post("/api/auth/revoke-other-sessions", nil).wantStatus(t, http.StatusOK)
			for _, c := range clients[1:] {
				if body := c.get("/api/auth/get-session"); string(body.Body) != "null" {
					t.Fatalf("other session survived revoke-other-sessions: %s", body.Body)
				}
			}
			if _, body := redisSessionOf(t, c1); body["user"].(map[string]any)["name"] != "Renamed" {
				t.Fatalf("the caller's own session: %v", body)
			}
			c1.post("/api/auth/revoke-sessions", nil).wantStatus(t, http.StatusOK)
			if body := c1.get("/api/auth/get-session"); string(body.Body) != "null" {
				t.Fatalf("session survived revoke-sessions: %s", body.Body)
			}
			marker, err := rc.Get(context.Background(), ts.cfg.Redis.KeyPrefix+"revoked-sessions-before-"+userID).Result()
			if err != nil || marker == "" {
				t.Fatalf("revoked-sessions-before marker: %q %v", marker, err)
			}
			if l, _ := storedList(t, ts, rc, userID); l != nil {
				t.Fatalf("active-sessions after revoke-sessions: %v", l)
			}
		})
	}
}

// TestRedisSessionWrittenByUpstreamIsServed stores a session as the Node server's internal
// adapter writes it (testdata/redis/upstream-session.json, JSON.stringify's dates and key order)
// and reads it through get-session; a revoked-sessions-before marker later than its creation,
// as upstream's revoke-sessions leaves, ends it.
func TestRedisSessionWrittenByUpstreamIsServed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withRedis(t, false, true))
	rc := testRedisClient(t)
	c := ts.client(t)
	user := c.signUp("node@example.com", "password123", "Node")
	userID := user["id"].(string)
	now := time.Now().UTC()
	node, token := upstreamSessionClient(t, ts, rc, userID, now)
	body := node.get("/api/auth/get-session").wantStatus(t, http.StatusOK).object(t)
	if body == nil || body["user"].(map[string]any)["email"] != "node@example.com" || body["session"].(map[string]any)["token"] != token {
		t.Fatalf("get-session of an upstream-written session: %v", body)
	}
	rc.Set(context.Background(), ts.cfg.Redis.KeyPrefix+"revoked-sessions-before-"+userID, now.UnixMilli(), time.Hour)
	if got := node.get("/api/auth/get-session"); string(got.Body) != "null" {
		t.Fatalf("a session the marker revoked still answers: %s", got.Body)
	}
}

// upstreamSessionClient stores a session of userID created an hour before now as the Node
// server writes it (testdata/redis/upstream-session.json), not in the user's active-sessions
// list, and answers a client holding its cookie and its token.
func upstreamSessionClient(t *testing.T, ts *testServer, rc *redis.Client, userID string, now time.Time) (*testClient, string) {
	t.Helper()
	value := strings.NewReplacer(
		"{userId}", userID,
		"{createdAt}", now.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"),
		"{expiresAt}", now.Add(6*24*time.Hour).Format("2006-01-02T15:04:05.000Z"),
	).Replace(string(readTestdata(t, "redis/upstream-session.json")))
	token := "nodeWrittenToken0123456789abcdef"
	if err := rc.Set(context.Background(), ts.cfg.Redis.KeyPrefix+token, strings.TrimSpace(value), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	node := ts.client(t)
	node.cookies[ts.cookieName(cookieSessionToken)] = signCookieValue(t, ts, token)
	return node, token
}

// TestAdminRevokeUserSessionDeletesOnlySessions: with sessions only in Redis, admin
// revoke-user-session given the name of another Redis key as sessionToken leaves that key alone,
// as upstream's deleteSession leaves a value that is not a session: the revoked-sessions-before
// marker of a user whose sessions were all revoked stays, so a session it revoked (one not in the
// active-sessions list, as the Node server may leave) stays revoked, and a rate-limit counter
// stays counted.
func TestAdminRevokeUserSessionDeletesOnlySessions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withRedis(t, false, true))
	rc := testRedisClient(t)
	admin, _ := ts.newAdmin(t)
	// The role newAdmin sets in Postgres reaches a session kept in Redis at the next sign-in.
	admin.post("/api/auth/sign-in/email", map[string]any{"email": "admin@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
	_, userID := ts.newUser(t, "marked@example.com")
	node, token := upstreamSessionClient(t, ts, rc, userID, time.Now().UTC())
	admin.post("/api/auth/admin/revoke-user-sessions", map[string]any{"userId": userID}).wantStatus(t, http.StatusOK)
	if got := node.get("/api/auth/get-session"); string(got.Body) != "null" {
		t.Fatalf("an unlisted session survived revoke-user-sessions: %s", got.Body)
	}
	ctx := context.Background()
	counter := ts.cfg.Redis.KeyPrefix + "203.0.113.9|/sign-in/email"
	rc.Set(ctx, counter, 3, time.Minute)
	for _, key := range []string{"revoked-sessions-before-" + userID, "203.0.113.9|/sign-in/email"} {
		admin.post("/api/auth/admin/revoke-user-session", map[string]any{"sessionToken": key}).wantStatus(t, http.StatusOK)
	}
	node.cookies[ts.cookieName(cookieSessionToken)] = signCookieValue(t, ts, token) // the refusal above cleared it
	if got := node.get("/api/auth/get-session"); string(got.Body) != "null" {
		t.Errorf("the revoked session answers again: %s", got.Body)
	}
	if n, _ := rc.Exists(ctx, ts.cfg.Redis.KeyPrefix+"revoked-sessions-before-"+userID, counter).Result(); n != 2 {
		t.Errorf("%d of the marker and the counter left, want both", n)
	}
}

// TestRedisMissFallsBackToPostgresWhenSessionsAreStoredThere proves upstream's database fallback
// with storeSessionInDatabase: a session Redis lost (evicted) is read from Postgres; without
// sessions in Postgres it is gone.
func TestRedisMissFallsBackToPostgresWhenSessionsAreStoredThere(t *testing.T) {
	t.Parallel()
	for _, a := range redisArrangements {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withRedis(t, a.sessionsInDB, true))
			rc := testRedisClient(t)
			c := ts.client(t)
			c.signUp("evicted@example.com", "password123", "Evicted")
			token, _ := redisSessionOf(t, c)
			rc.Del(context.Background(), ts.cfg.Redis.KeyPrefix+token)
			got := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
			if served := string(got.Body) != "null"; served != a.sessionsInDB {
				t.Fatalf("after eviction: %s", got.Body)
			}
		})
	}
}

// signCookieValue is a session_token cookie value for token, signed and encoded as the server sets it.
func signCookieValue(t *testing.T, ts *testServer, token string) string {
	t.Helper()
	return url.QueryEscape(ts.sign(token))
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRedisSessionCarriesAdditionalFields: in both Redis arrangements a session's additional
// fields (testdata/config/fields.json) start at their defaults, are in the Redis value as the API
// answers them, come back from Redis into get-session, follow update-session into Redis, and
// survive the session rotation that turning two-factor on does. A field with no value is null
// with sessions in Postgres and absent with sessions in Redis alone, as upstream's session object
// there holds only the fields given a value.
func TestRedisSessionCarriesAdditionalFields(t *testing.T) {
	t.Parallel()
	for _, a := range redisArrangements {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ts := newFieldsServer(t, withRedis(t, a.sessionsInDB, a.sessionsInDB))
			ts.clock.set(stepStart)
			rc := testRedisClient(t)
			c := ts.client(t)
			c.signUp("redisfields@example.com", "password123", "Redis Fields")
			wantFields := func(where, token string, want map[string]any) {
				t.Helper()
				stored, _ := storedSession(t, ts, rc, token)
				if stored == nil {
					t.Fatalf("%s: no Redis value for the session", where)
				}
				var got struct{ Session map[string]any }
				c.get("/api/auth/get-session?disableCookieCache=true").wantStatus(t, http.StatusOK).decode(t, &got)
				storedSess := stored["session"].(map[string]any)
				for k, v := range want {
					if storedSess[k] != v {
						t.Errorf("%s: Redis value %s = %#v, want %#v", where, k, storedSess[k], v)
					}
					if got.Session[k] != v {
						t.Errorf("%s: get-session %s = %#v, want %#v", where, k, got.Session[k], v)
					}
				}
				for k, v := range want {
					// Upstream's object in Redis alone holds only the fields given a value;
					// a row of the session table holds every column, null or not.
					_, stored := storedSess[k]
					_, answered := got.Session[k]
					if in := v != nil || a.sessionsInDB; stored != in || answered != in {
						t.Errorf("%s: %s in the Redis value %v, answered %v; want %v", where, k, stored, answered, in)
					}
				}
			}
			token, _ := redisSessionOf(t, c)
			wantFields("sign-up", token, map[string]any{"device": nil, "theme": "light"})

			var upd struct{ Session map[string]any }
			c.post("/api/auth/update-session", map[string]any{"device": "phone"}).wantStatus(t, http.StatusOK).decode(t, &upd)
			if upd.Session["device"] != "phone" || upd.Session["theme"] != "light" {
				t.Errorf("update-session answered %v", upd.Session)
			}
			wantFields("update-session", token, map[string]any{"device": "phone", "theme": "light"})

			rotated := rotateByTwoFactor(t, ts, c, token)
			if old, _ := storedSession(t, ts, rc, token); old != nil {
				t.Error("the rotated-out session is still in Redis")
			}
			wantFields("rotation", rotated, map[string]any{"device": "phone", "theme": "light"})
		})
	}
}

// TestRedisOnlySessionKeepsUnreturnedFieldsStoredButNeverAnswersThem: with sessions only in
// Redis, a session field declared returned: false (riskLevel in testdata/config/fields.json) is
// in the Redis value from sign-up on, as upstream's createSession stores the whole session
// object; no answer shows it (get-session, update-session, list-sessions, the session_data
// cookie); setting it, updating another field, the session's refresh and its rotation keep it in
// Redis, with the cookie cache off and on. A value the Node server wrote
// (testdata/redis/upstream-session-fields.json, with the user's returned: false field too) is
// answered without either, and an update through ours keeps its field in Redis.
func TestRedisOnlySessionKeepsUnreturnedFieldsStoredButNeverAnswersThem(t *testing.T) {
	t.Parallel()
	for _, cacheMaxAge := range []int{0, 300} {
		t.Run(fmt.Sprintf("cookie-cache=%v", cacheMaxAge > 0), func(t *testing.T) {
			t.Parallel()
			ts := newFieldsServer(t, withRedis(t, false, true), func(c *config) { c.CookieCacheMaxAge = cacheMaxAge })
			ts.clock.set(stepStart)
			rc := testRedisClient(t)
			c := ts.client(t)
			c.signUp("hidden@example.com", "password123", "Hidden")
			token, _ := redisSessionOf(t, c)

			stored := func(where, token string) map[string]any {
				t.Helper()
				v, _ := storedSession(t, ts, rc, token)
				if v == nil {
					t.Fatalf("%s: no Redis value", where)
				}
				return v["session"].(map[string]any)
			}
			notAnswered := func(where string, resp *testResponse) {
				t.Helper()
				if strings.Contains(string(resp.Body), "riskLevel") || strings.Contains(string(resp.Body), "internalNote") {
					t.Errorf("%s answers a returned: false field: %s", where, resp.Body)
				}
				name := ts.cookieName(cookieSessionData)
				lines := resp.Header.Values("Set-Cookie")
				set := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, name+"=") && !strings.HasPrefix(l, name+"=;") })
				if set {
					if cc, _ := decodeCompactCache(t, cacheValue(t, lines)); strings.Contains(string(cc.Session), "riskLevel") {
						t.Errorf("%s: session_data holds riskLevel: %s", where, cc.Session)
					}
				}
			}
			wantStored := func(where, token string, want map[string]any) {
				t.Helper()
				got := stored(where, token)
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s: Redis value %s = %#v, want %#v (%v)", where, k, got[k], v, got)
					}
				}
			}

			wantStored("sign-up", token, map[string]any{"riskLevel": "low", "theme": "light"})
			notAnswered("get-session", c.get("/api/auth/get-session").wantStatus(t, http.StatusOK))
			notAnswered("get-session from Redis", c.get("/api/auth/get-session?disableCookieCache=true").wantStatus(t, http.StatusOK))
			notAnswered("list-sessions", c.get("/api/auth/list-sessions").wantStatus(t, http.StatusOK))

			notAnswered("update-session", c.post("/api/auth/update-session", map[string]any{"device": "phone"}).wantStatus(t, http.StatusOK))
			wantStored("update of another field", token, map[string]any{"riskLevel": "low", "device": "phone"})

			notAnswered("update-session of it", c.post("/api/auth/update-session", map[string]any{"riskLevel": "high"}).wantStatus(t, http.StatusOK))
			wantStored("update of it", token, map[string]any{"riskLevel": "high", "device": "phone"})

			// The refresh get-session does once a day (updateAge) rewrites the value.
			ts.clock.advance(25 * time.Hour)
			notAnswered("refreshing get-session", c.get("/api/auth/get-session?disableCookieCache=true").wantStatus(t, http.StatusOK))
			wantStored("refresh", token, map[string]any{"riskLevel": "high", "device": "phone"})

			rotated := rotateByTwoFactor(t, ts, c, token)
			wantStored("rotation", rotated, map[string]any{"riskLevel": "high", "device": "phone"})

			// A session the Node server stored, with both returned: false fields in it.
			node := ts.client(t)
			user := node.signUp("node-hidden@example.com", "password123", "Node")
			now := ts.clock.now().UTC()
			nodeToken := "nodeFieldsToken0123456789abcdefg"
			value := strings.NewReplacer(
				"{userId}", user["id"].(string), "{email}", "node-hidden@example.com", "{token}", nodeToken,
				"{createdAt}", now.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"),
				"{expiresAt}", now.Add(6*24*time.Hour).Format("2006-01-02T15:04:05.000Z"),
			).Replace(strings.TrimSpace(string(readTestdata(t, "redis/upstream-session-fields.json"))))
			if err := rc.Set(context.Background(), ts.cfg.Redis.KeyPrefix+nodeToken, value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			node.cookies = map[string]string{ts.cookieName(cookieSessionToken): signCookieValue(t, ts, nodeToken)}
			got := node.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
			if !strings.Contains(string(got.Body), nodeToken) {
				t.Fatalf("get-session of the Node server's session: %s", got.Body)
			}
			notAnswered("get-session of the Node server's session", got)
			notAnswered("update-session of the Node server's session", node.post("/api/auth/update-session", map[string]any{"device": "tablet"}).wantStatus(t, http.StatusOK))
			wantStored("update of the Node server's session", nodeToken, map[string]any{"riskLevel": "elevated", "device": "tablet", "theme": "light"})
		})
	}
}

// rotateByTwoFactor enables TOTP for c's user and verifies the first code, which replaces the
// session (upstream's two-factor verify signs in anew); it answers the new session's token.
func rotateByTwoFactor(t *testing.T, ts *testServer, c *testClient, token string) string {
	t.Helper()
	var enabled struct {
		TOTPURI string `json:"totpURI"`
	}
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123"}).wantStatus(t, http.StatusOK).decode(t, &enabled)
	code := rfc6238(keyFromURI(t, enabled.TOTPURI), stepOf(ts.clock.now()))
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": code}).wantStatus(t, http.StatusOK)
	rotated, _ := redisSessionOf(t, c)
	if rotated == token {
		t.Fatal("the session was not rotated")
	}
	return rotated
}

// TestUniqueSessionFieldTakenFailsUpdateSessionWith422: with sessions in Postgres (alone or with
// Redis), update-session setting a unique session field to a value another session holds is 422
// FAILED_TO_UPDATE_SESSION, as update-user's conflict is FAILED_TO_UPDATE_USER, not the unique
// index's 500; the session keeps its value, and its own value may be set again.
func TestUniqueSessionFieldTakenFailsUpdateSessionWith422(t *testing.T) {
	t.Parallel()
	slot := fieldSpec{Key: "slot", Column: "slot", Type: "string", Input: true, Returned: true, Unique: true}
	for name, redisOpt := range map[string]func(*config){
		"postgres":       func(*config) {},
		"redis+postgres": withRedis(t, true, true),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newFieldsServer(t, redisOpt, func(c *config) { c.Fields.Session = append(c.Fields.Session, slot) })
			a, b := ts.client(t), ts.client(t)
			a.signUp("slot-a@example.com", "password123", "A")
			b.signUp("slot-b@example.com", "password123", "B")
			a.post("/api/auth/update-session", map[string]any{"slot": "one"}).wantStatus(t, http.StatusOK)
			b.post("/api/auth/update-session", map[string]any{"slot": "two"}).wantStatus(t, http.StatusOK)
			b.post("/api/auth/update-session", map[string]any{"slot": "one"}).wantError(t, 422, "FAILED_TO_UPDATE_SESSION")
			b.post("/api/auth/update-session", map[string]any{"slot": "two"}).wantStatus(t, http.StatusOK)
			var got struct{ Session map[string]any }
			b.get("/api/auth/get-session?disableCookieCache=true").wantStatus(t, http.StatusOK).decode(t, &got)
			if got.Session["slot"] != "two" {
				t.Errorf("slot after the refused update: %v", got.Session["slot"])
			}
		})
	}
}
