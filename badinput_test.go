package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadInputIsRefusedWithoutWrites sends every kind of bad input to every core endpoint: each
// answer is a 4xx Better Auth error (JSON with a message), never a 5xx, and no table gains or loses
// a row.
func TestBadInputIsRefusedWithoutWrites(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, strictBody) // unknown keys refused too; TestUnknownBodyKeysAreDroppedAsUpstream covers the default
	owner := ts.client(t)
	owner.signUp("owner@example.com", "password123", "Owner")
	valid := owner.cookies[sessionCookie]
	unknown := encodeURIComponent(ts.sign(strings.Repeat("u", 32)))
	tampered := tamperSignature(t, valid)
	huge := `{"email":"a@example.com","password":"password123","name":"` + strings.Repeat("x", 2<<20) + `"}`
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)

	type request struct {
		name   string
		path   string
		body   any // string: sent as is with Content-Type application/json
		cookie string
		header []string
		status int
		code   string // "" for upstream's code-less errors
	}
	// sessionPaths need a session; each gets the session failures.
	sessionPaths := []string{"/api/auth/change-password", "/api/auth/verify-password", "/api/auth/update-user",
		"/api/auth/update-session", "/api/auth/revoke-session", "/api/auth/revoke-sessions", "/api/auth/revoke-other-sessions"}
	sessionBodies := map[string]any{
		"/api/auth/change-password": map[string]any{"currentPassword": "password123", "newPassword": "newpassword1"},
		"/api/auth/verify-password": map[string]any{"password": "password123"},
		"/api/auth/update-user":     map[string]any{"name": "x"},
		"/api/auth/revoke-session":  map[string]any{"token": "x"},
	}
	allPaths := append([]string{"/api/auth/sign-up/email", "/api/auth/sign-in/email", "/api/auth/sign-out"}, sessionPaths...)
	var tests []request
	for _, p := range allPaths {
		tests = append(tests,
			request{"malformed JSON", p, `{"email":`, valid, nil, 400, "BAD_REQUEST"},
			request{"trailing comma", p, `{"email":"a@example.com",}`, valid, nil, 400, "BAD_REQUEST"},
			request{"two JSON values", p, `{} {}`, valid, nil, 400, "BAD_REQUEST"},
			request{"raw invalid UTF-8 outside strings", p, "{\xff}", valid, nil, 400, "BAD_REQUEST"},
			request{"nesting 100000 deep", p, deep, valid, nil, 400, "BAD_REQUEST"},
			request{"2 MB body", p, huge, valid, nil, 413, "PAYLOAD_TOO_LARGE"},
			request{"text/plain body", p, `{}`, valid, []string{"Content-Type", "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
			request{"body without Content-Type", p, `{}`, valid, []string{"Content-Type", ""}, 415, "UNSUPPORTED_MEDIA_TYPE"},
			request{"JSON array", p, `[]`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"JSON string", p, `"x"`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"JSON null", p, `null`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"unknown field", p, `{"isAdmin":true}`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"NUL in a string", p, `{"name":"a\u0000b","email":"a\u0000@example.com","password":"pass\u0000word1","token":"\u0000","currentPassword":"\u0000","newPassword":"password\u00001"}`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"NUL in a key", p, `{"a\u0000":1}`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"NUL in the query", p + "?x=%00", `{}`, valid, nil, 400, "VALIDATION_ERROR"},
			request{"foreign Origin", p, `{}`, valid, []string{"Origin", "https://evil.com"}, 403, "INVALID_ORIGIN"},
			request{"no Origin with a cookie", p, `{}`, valid, []string{"Origin", ""}, 403, "MISSING_OR_NULL_ORIGIN"},
			request{"foreign callbackURL", p, `{"callbackURL":"https://evil.com"}`, valid, nil, 403, "INVALID_CALLBACK_URL"},
			request{"callbackURL not a string", p, `{"callbackURL":["/x"]}`, valid, nil, 400, ""},
		)
	}
	for _, p := range sessionPaths {
		body := sessionBodies[p]
		if body == nil {
			body = map[string]any{}
		}
		tests = append(tests,
			request{"no session", p, body, "", nil, 401, "UNAUTHORIZED"},
			request{"unknown session", p, body, unknown, nil, 401, "UNAUTHORIZED"},
			request{"tampered signature", p, body, tampered, nil, 401, "UNAUTHORIZED"},
			request{"unsigned token", p, body, owner.cookieToken(), nil, 401, "UNAUTHORIZED"},
		)
	}
	signUp := func(email, password, name any) map[string]any {
		return map[string]any{"email": email, "password": password, "name": name}
	}
	tests = append(tests,
		request{"missing fields", "/api/auth/sign-up/email", map[string]any{}, "", nil, 400, "VALIDATION_ERROR"},
		request{"email a number", "/api/auth/sign-up/email", signUp(5, "password123", "x"), "", nil, 400, "VALIDATION_ERROR"},
		request{"email 1e999", "/api/auth/sign-up/email", `{"email":1e999,"password":"password123","name":"x"}`, "", nil, 400, "VALIDATION_ERROR"},
		request{"password an array", "/api/auth/sign-up/email", signUp("a@example.com", []string{"password123"}, "x"), "", nil, 400, "VALIDATION_ERROR"},
		request{"name an object", "/api/auth/sign-up/email", signUp("a@example.com", "password123", map[string]any{}), "", nil, 400, "VALIDATION_ERROR"},
		request{"name null", "/api/auth/sign-up/email", signUp("a@example.com", "password123", nil), "", nil, 400, "VALIDATION_ERROR"},
		request{"rememberMe a huge number", "/api/auth/sign-up/email", `{"email":"a@example.com","password":"password123","name":"x","rememberMe":1e999}`, "", nil, 400, "VALIDATION_ERROR"},
		request{"invalid email", "/api/auth/sign-up/email", signUp("a@b", "password123", "x"), "", nil, 400, "VALIDATION_ERROR"},
		request{"email with spaces", "/api/auth/sign-up/email", signUp(" a@example.com", "password123", "x"), "", nil, 400, "VALIDATION_ERROR"},
		request{"email of 300 characters", "/api/auth/sign-up/email", signUp(strings.Repeat("a", 290)+"@example.com", "password123", "x"), "", nil, 400, "VALIDATION_ERROR"},
		request{"empty password", "/api/auth/sign-up/email", signUp("a@example.com", "", "x"), "", nil, 400, "PASSWORD_TOO_SHORT"},
		request{"short password", "/api/auth/sign-up/email", signUp("a@example.com", "pass", "x"), "", nil, 400, "PASSWORD_TOO_SHORT"},
		request{"long password", "/api/auth/sign-up/email", signUp("a@example.com", strings.Repeat("p", 1000), "x"), "", nil, 400, "PASSWORD_TOO_LONG"},
		request{"existing email", "/api/auth/sign-up/email", signUp("OWNER@example.com", "password123", "x"), "", nil, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"},
		request{"form with bad escapes", "/api/auth/sign-up/email", "email=%zz", "", []string{"Content-Type", formType}, 400, "BAD_REQUEST"},
		request{"form rememberMe", "/api/auth/sign-up/email", "email=a%40example.com&password=password123&name=x&rememberMe=true", "", []string{"Content-Type", formType}, 400, "VALIDATION_ERROR"},
		request{"form with NUL", "/api/auth/sign-up/email", "email=a%40example.com&password=password123&name=x%00", "", []string{"Content-Type", formType}, 400, "VALIDATION_ERROR"},
		request{"wrong password", "/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": "wrong-password"}, "", nil, 401, "INVALID_EMAIL_OR_PASSWORD"},
		request{"invalid email", "/api/auth/sign-in/email", map[string]any{"email": "owner", "password": "password123"}, "", nil, 400, "INVALID_EMAIL"},
		request{"long password", "/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": strings.Repeat("p", 129)}, "", nil, 400, "PASSWORD_TOO_LONG"},
		request{"cross-site form login", "/api/auth/sign-in/email", "email=owner%40example.com&password=password123", "", []string{"Content-Type", formType, "Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		request{"wrong current password", "/api/auth/change-password", map[string]any{"currentPassword": "wrong-password", "newPassword": "newpassword1"}, valid, nil, 400, "INVALID_PASSWORD"},
		request{"short new password", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "x"}, valid, nil, 400, "PASSWORD_TOO_SHORT"},
		request{"long new password", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": strings.Repeat("p", 129)}, valid, nil, 400, "PASSWORD_TOO_LONG"},
		request{"revokeOtherSessions a string", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "newpassword1", "revokeOtherSessions": "true"}, valid, nil, 400, "VALIDATION_ERROR"},
		request{"wrong password", "/api/auth/verify-password", map[string]any{"password": "wrong-password"}, valid, nil, 400, "INVALID_PASSWORD"},
		request{"email change", "/api/auth/update-user", map[string]any{"email": "x@example.com"}, valid, nil, 400, "EMAIL_CAN_NOT_BE_UPDATED"},
		request{"nothing to update", "/api/auth/update-user", map[string]any{}, valid, nil, 400, ""},
		request{"image a number", "/api/auth/update-user", map[string]any{"image": 5}, valid, nil, 400, "VALIDATION_ERROR"},
		request{"token missing", "/api/auth/revoke-session", map[string]any{}, valid, nil, 400, "VALIDATION_ERROR"},
		request{"token a number", "/api/auth/revoke-session", map[string]any{"token": 5}, valid, nil, 400, "VALIDATION_ERROR"},
		request{"POST get-session", "/api/auth/get-session", map[string]any{}, valid, nil, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"},
	)

	before := ts.tableCounts(t)
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/api/auth/")+"/"+tt.name, func(t *testing.T) {
			c := ts.client(t)
			if tt.cookie != "" {
				c.cookies[sessionCookie] = tt.cookie
			}
			resp := c.post(tt.path, tt.body, tt.header...)
			if resp.Status != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.Status, tt.status, resp.Body)
			}
			var e struct{ Message, Code string }
			if err := json.Unmarshal(resp.Body, &e); err != nil || e.Message == "" || e.Code != tt.code {
				t.Fatalf("body %.200s, want a message and code %q", resp.Body, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	if after := ts.tableCounts(t); !equalCounts(before, after) {
		t.Fatalf("rows changed: before %v, after %v", before, after)
	}
	if !owner.signedIn() {
		t.Fatal("the owner's session was lost")
	}
}

// TestExpiredSessionIsRefused ensures an expired session gets 401 on every endpoint that needs
// one, and is deleted with its cookies on first sight, as upstream's get-session does.
func TestExpiredSessionIsRefused(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "late@example.com", "Late")
	ts.ageSession(t, c.cookieToken(), defaultSessionExpiresIn+time.Minute)
	cookie := c.cookies[sessionCookie]
	resp := c.post("/api/auth/verify-password", map[string]any{"password": "password123"})
	resp.wantError(t, 401, "UNAUTHORIZED")
	wantCookiesCleared(t, resp)
	ts.wantRows(t, "session", 0)
	for _, path := range []string{"/api/auth/update-user", "/api/auth/revoke-sessions", "/api/auth/revoke-other-sessions"} {
		c.cookies[sessionCookie] = cookie
		c.post(path, nil).wantError(t, 401, "UNAUTHORIZED")
	}
	c.cookies[sessionCookie] = cookie
	// Schema validation comes before the session check, as upstream's does.
	c.post("/api/auth/change-password", map[string]any{}).wantError(t, 400, "VALIDATION_ERROR")
	c.cookies[sessionCookie] = cookie
	c.get("/api/auth/list-sessions").wantError(t, 401, "UNAUTHORIZED")
}

// TestHostileTextIsStoredSafely ensures text Postgres cannot hold as is never becomes a 500:
// invalid UTF-8 in a JSON string or a form value is replaced (as JS would), and a User-Agent with
// non-UTF-8 bytes is stored replaced.
func TestHostileTextIsStoredSafely(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	c.post("/api/auth/sign-up/email", "{\"email\":\"utf8@example.com\",\"password\":\"password123\",\"name\":\"a\xffb\xc3\"}").wantStatus(t, http.StatusOK)
	ts.client(t).formPost("/api/auth/sign-up/email", "email=form8%40example.com&password=password123&name=a%FFb").wantStatus(t, http.StatusOK)
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "utf8@example.com", "password": "password123"}, "User-Agent", "agent\xff\xfe/1").
		wantStatus(t, http.StatusOK)
	var names []string
	rows, err := ts.db.Query(context.Background(), `SELECT name FROM "user" ORDER BY email`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if strings.Join(names, ",") != "a\uFFFDb,a\uFFFDb\uFFFD" {
		t.Fatalf("names %q", names)
	}
	var agents int
	if err := ts.db.QueryRow(context.Background(), `SELECT count(*) FROM session WHERE "userAgent" = 'agent`+"\uFFFD"+`/1'`).Scan(&agents); err != nil || agents != 1 {
		t.Fatalf("stored user agents: %d, %v", agents, err)
	}
}

// TestRoutingAnswersAsUpstream ensures unknown paths, other methods, trailing slashes and unclean
// paths get upstream's 404 with an empty body.
func TestRoutingAnswersAsUpstream(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/auth/sign-in/email"},
		{"PUT", "/api/auth/sign-in/email"},
		{"DELETE", "/api/auth/sign-out"},
		{"GET", "/api/auth/get-session/"},
		{"POST", "/api/auth/sign-out/"},
		{"GET", "/api/auth//get-session"},
		{"GET", "/api/auth/x/../get-session"},
		{"GET", "/api/auth/nope"},
		{"GET", "/api/auth"},
		{"GET", "/api/authx/get-session"},
		{"GET", "/get-session"},
		{"OPTIONS", "/api/auth/get-session"},
		{"PATCH", "/api/auth/update-user"},
		{"HEAD", "/api/auth/ok"},
		{"HEAD", "/api/auth/get-session"},
	} {
		resp := c.do(tt.method, tt.path, nil)
		if resp.Status != http.StatusNotFound || len(resp.Body) != 0 {
			t.Errorf("%s %s: %d %q, want 404 with an empty body", tt.method, tt.path, resp.Status, resp.Body)
		}
	}
	resp := c.get("/api/auth/ok").wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"ok":true}` {
		t.Fatalf("ok: %s", resp.Body)
	}
}

// strictBody turns on STRICT_BODY: keys a route does not take are refused.
func strictBody(c *config) { c.StrictBody = true }

// TestUnknownBodyKeysAreDroppedAsUpstream: without STRICT_BODY a key a route does not take is
// dropped and named (never its value) in a debug line, as a form spread into signUp.email carries
// confirmPassword; a non-writable user field with a truthy value is upstream's FIELD_NOT_ALLOWED,
// and with STRICT_BODY every such key is refused (deviation unknown-body-keys).
func TestUnknownBodyKeysAreDroppedAsUpstream(t *testing.T) {
	// Not parallel: it reads the process-wide log.
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)

	ts := newTestServer(t)
	c := ts.client(t)
	form := map[string]any{"email": "form@example.com", "password": "password123", "name": "Form",
		"confirmPassword": "value-never-logged", "terms": true, "emailVerified": true, "banned": true}
	u := c.post("/api/auth/sign-up/email", form).wantStatus(t, http.StatusOK).object(t)["user"].(map[string]any)
	if u["emailVerified"] != false || u["banned"] != false {
		t.Errorf("sign-up took a field a client may not write: %v", u)
	}
	if !strings.Contains(logs.String(), `"keys":["banned","confirmPassword","emailVerified","terms"]`) || strings.Contains(logs.String(), "value-never-logged") {
		t.Errorf("debug log should name the dropped keys and no value:\n%s", logs.String())
	}

	role := map[string]any{"email": "role@example.com", "password": "password123", "name": "R", "role": "admin"}
	c2 := ts.client(t)
	c2.post("/api/auth/sign-up/email", role).wantError(t, 400, "FIELD_NOT_ALLOWED")
	c2.post("/api/auth/sign-in/email", map[string]any{"email": "role@example.com", "password": "password123"}).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")

	for _, tt := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"twoFactorEnabled": true}, 400, "FIELD_NOT_ALLOWED"},
		{map[string]any{"banned": 1}, 400, "FIELD_NOT_ALLOWED"},
		{map[string]any{"name": "V", "twoFactorEnabled": false, "nickname": "v"}, 200, ""},
		{map[string]any{"emailVerified": true}, 400, ""}, // upstream's "No fields to update", no code
	} {
		r := c.post("/api/auth/update-user", tt.body)
		if tt.status == 200 {
			r.wantStatus(t, 200)
			continue
		}
		r.wantStatus(t, tt.status)
		if got := r.object(t)["code"]; (tt.code == "" && got != nil) || (tt.code != "" && got != tt.code) {
			t.Errorf("update-user %v: %s", tt.body, r.Body)
		}
	}

	strict := newTestServer(t, strictBody).client(t)
	r := strict.post("/api/auth/sign-up/email", form)
	r.wantError(t, 400, "VALIDATION_ERROR")
	if msg := r.object(t)["message"]; msg != `[body] Unrecognized key: "banned"; [body] Unrecognized key: "confirmPassword"; [body] Unrecognized key: "emailVerified"; [body] Unrecognized key: "terms"` {
		t.Errorf("strict message: %v", msg)
	}
}
