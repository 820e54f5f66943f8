package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// newUsernameServer is a test server with the username plugin on at upstream's defaults.
func newUsernameServer(t testing.TB, opts ...func(*config)) *testServer {
	t.Helper()
	return newTestServer(t, append([]func(*config){func(c *config) { c.Username = usernameConfig{Enabled: true} }}, opts...)...)
}

// TestUsernameSignUpSignInAndAvailability: a username given at sign-up is stored lower-cased with
// displayUsername as typed, signs in whatever its case, and is then no longer available; a wrong
// password and an unknown username get the same 401, and the unknown one costs one hash too.
func TestUsernameSignUpSignInAndAvailability(t *testing.T) {
	t.Parallel()
	ts := newUsernameServer(t)
	c := ts.client(t)
	c.post("/api/auth/is-username-available", map[string]any{"username": "Alice.Smith"}).wantStatus(t, 200)
	u := signUpWithUsername(t, c, "alice@example.com", "Alice.Smith", "alice.smith", "ALICE.smith")
	var avail struct{ Available bool }
	c.post("/api/auth/is-username-available", map[string]any{"username": "bob_1"}).wantStatus(t, 200).decode(t, &avail)
	if !avail.Available {
		t.Error("a free username is not available")
	}

	resp := ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "ALICE.SMITH", "password": "password123", "callbackURL": "/home"}).wantStatus(t, 200)
	got := resp.object(t)
	if got["redirect"] != true || got["url"] != "/home" || got["user"].(map[string]any)["id"] != u["id"] || resp.setCookie("better-auth.session_token") == "" {
		t.Errorf("sign-in = %s", resp.Body)
	}
	ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "alice.smith", "password": "wrong-password"}).wantError(t, 401, "INVALID_USERNAME_OR_PASSWORD")
	before := ts.scryptRuns.Load()
	ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "nobody", "password": "password123"}).wantError(t, 401, "INVALID_USERNAME_OR_PASSWORD")
	if runs := ts.scryptRuns.Load() - before; runs != 1 {
		t.Errorf("unknown username ran %d hashes, want 1 as a known one does", runs)
	}
	ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "", "password": "x"}).wantError(t, 401, "INVALID_USERNAME_OR_PASSWORD")
}

// signUpWithUsername signs c up with username typed and checks that it is stored as stored, with
// displayUsername as typed, and that the username written as other (another case) is taken.
func signUpWithUsername(t *testing.T, c *testClient, email, typed, stored, other string) map[string]any {
	t.Helper()
	u := c.post("/api/auth/sign-up/email", signUpWith(email, map[string]any{"username": typed})).wantStatus(t, 200).object(t)["user"].(map[string]any)
	if u["username"] != stored || u["displayUsername"] != typed {
		t.Fatalf("user = %v, want username %q and displayUsername %q", u, stored, typed)
	}
	var avail struct{ Available bool }
	c.post("/api/auth/is-username-available", map[string]any{"username": other}).wantStatus(t, 200).decode(t, &avail)
	if avail.Available {
		t.Errorf("%q is available, though %q is taken", other, typed)
	}
	return u
}

// TestUsernameValidation: upstream's length bounds (UTF-16 units) and alphabet, configurable,
// answered 400 at sign-up and update-user and 422 on the plugin's routes, with its codes.
func TestUsernameValidation(t *testing.T) {
	t.Parallel()
	ts := newUsernameServer(t, func(c *config) {
		c.Username.MinUsernameLength, c.Username.MaxUsernameLength, c.Username.UsernamePattern = 4, 8, `^[a-z0-9-]+$`
	})
	c := ts.client(t)
	c.signUp("valid@example.com", "password123", "Valid")
	for _, tc := range []struct{ username, code string }{
		{"abc", "USERNAME_TOO_SHORT"},
		{"abcdefghi", "USERNAME_TOO_LONG"},
		{"ab_cd", "INVALID_USERNAME"},
		{"ABCD", "INVALID_USERNAME"}, // validated as typed, before normalisation (upstream's default order)
		{"😀😀", "INVALID_USERNAME"},   // four UTF-16 units: long enough, not allowed
	} {
		ts.client(t).post("/api/auth/sign-up/email", signUpWith("x@example.com", map[string]any{"username": tc.username})).wantError(t, 400, tc.code)
		c.post("/api/auth/update-user", map[string]any{"username": tc.username}).wantError(t, 400, tc.code)
		c.post("/api/auth/sign-in/username", map[string]any{"username": tc.username, "password": "password123"}).wantError(t, 422, tc.code)
		c.post("/api/auth/is-username-available", map[string]any{"username": tc.username}).wantError(t, 422, tc.code)
	}
	c.post("/api/auth/is-username-available", map[string]any{"username": ""}).wantError(t, 422, "INVALID_USERNAME")
	c.post("/api/auth/is-username-available", map[string]any{}).wantError(t, 400, "VALIDATION_ERROR")
	c.post("/api/auth/update-user", map[string]any{"username": 1234}).wantError(t, 400, "VALIDATION_ERROR")
	if n := ts.rowCount(t, "user"); n != 1 {
		t.Errorf("%d users after refusals", n)
	}
}

// TestUsernameTakenAndUpdated: a taken username is USERNAME_IS_ALREADY_TAKEN at sign-up and
// update-user; a user may set their own again; displayUsername alone at sign-up stands for the
// username when it is a valid one.
func TestUsernameTakenAndUpdated(t *testing.T) {
	t.Parallel()
	ts := newUsernameServer(t)
	ts.client(t).post("/api/auth/sign-up/email", signUpWith("one@example.com", map[string]any{"username": "taken"})).wantStatus(t, 200)
	ts.client(t).post("/api/auth/sign-up/email", signUpWith("two@example.com", map[string]any{"username": "TAKEN"})).wantError(t, 400, "USERNAME_IS_ALREADY_TAKEN")
	c := ts.client(t)
	u := c.post("/api/auth/sign-up/email", signUpWith("three@example.com", map[string]any{"displayUsername": "Three_3"})).wantStatus(t, 200).object(t)["user"].(map[string]any)
	if u["username"] != "three_3" || u["displayUsername"] != "Three_3" {
		t.Errorf("displayUsername only: user = %v", u)
	}
	c.post("/api/auth/update-user", map[string]any{"username": "Taken"}).wantError(t, 400, "USERNAME_IS_ALREADY_TAKEN")
	c.post("/api/auth/update-user", map[string]any{"username": "three_3"}).wantStatus(t, 200)
	c.post("/api/auth/update-user", map[string]any{"username": "New.Name", "displayUsername": "New Name"}).wantStatus(t, 200)
	var got struct{ User map[string]any }
	c.get("/api/auth/get-session").wantStatus(t, 200).decode(t, &got)
	if got.User["username"] != "new.name" || got.User["displayUsername"] != "New Name" {
		t.Errorf("after update: %v", got.User)
	}
	ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "new.name", "password": "password123"}).wantStatus(t, 200)
}

// TestConcurrentSignUpsForOneUsernameOneWins: sign-ups racing for one username all pass the
// lookup, the unique index decides: exactly one succeeds, the others get upstream's 400
// USERNAME_IS_ALREADY_TAKEN, never a 500, also when the schema option names the column.
func TestConcurrentSignUpsForOneUsernameOneWins(t *testing.T) {
	t.Parallel()
	for name, ts := range map[string]*testServer{
		"username column":                   newUsernameServer(t),
		"column named by the schema option": newFieldsServer(t), // fields.json: user_name
	} {
		const n = 8
		statuses := raceSignUps(t, ts, n, func(i int) map[string]any {
			return signUpWith("racer"+string(rune('a'+i))+"@example.com", map[string]any{"username": "racer"})
		})
		if name == "username column" {
			recordRace(t, "username at sign-up", n, statuses[200], statuses)
		}
		if statuses[200] != 1 || statuses[400] != n-1 {
			t.Errorf("%s: statuses %v, want one 200 and %d 400", name, statuses, n-1)
		}
	}
}

// TestUsernameSignInHoldsBansAndTwoFactor: sign-in/username completes as email sign-in does: a
// banned user gets 403 BANNED_USER and no session, a user with two-factor gets the challenge.
func TestUsernameSignInHoldsBansAndTwoFactor(t *testing.T) {
	t.Parallel()
	ts := newUsernameServer(t)
	ts.clock.set(stepStart)
	c := ts.client(t)
	u := enrolTOTP(t, ts, c, "twofa@example.com")
	c.post("/api/auth/update-user", map[string]any{"username": "twofa"}).wantStatus(t, 200)
	resp := ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "twofa", "password": u.password}).wantStatus(t, 200)
	if resp.object(t)["twoFactorRedirect"] != true || resp.setCookie("better-auth.two_factor") == "" {
		t.Errorf("two-factor user: %s", resp.Body)
	}

	bc := ts.client(t)
	id := bc.post("/api/auth/sign-up/email", signUpWith("banned@example.com", map[string]any{"username": "banned"})).wantStatus(t, 200).object(t)["user"].(map[string]any)["id"]
	ts.exec(t, `DELETE FROM session WHERE "userId" = $1`, id)
	ts.exec(t, `UPDATE "user" SET banned = true, "banExpires" = $2 WHERE id = $1`, id, ts.clock.now().Add(time.Hour))
	resp = ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "banned", "password": "password123"})
	resp.wantError(t, 403, "BANNED_USER")
	if n := ts.rowCount(t, "session"); strings.Contains(resp.Header.Get("Set-Cookie"), "session_token=") && n > 0 {
		t.Errorf("banned sign-in set a session cookie")
	}
}

// TestUsernamePluginOffByDefault: without the plugin its routes are 404 and a username at
// sign-up is an unknown key: dropped (refused with STRICT_BODY), and no user has the field.
func TestUsernamePluginOffByDefault(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	for _, path := range []string{"/api/auth/sign-in/username", "/api/auth/is-username-available"} {
		if got := c.post(path, map[string]any{"username": "abc", "password": "password123"}); got.Status != http.StatusNotFound {
			t.Errorf("%s: %d", path, got.Status)
		}
	}
	u := c.post("/api/auth/sign-up/email", signUpWith("off@example.com", map[string]any{"username": "abc"})).wantStatus(t, 200).object(t)["user"].(map[string]any)
	if _, ok := u["username"]; ok {
		t.Errorf("user without the plugin = %v", u)
	}
	strict := newTestServer(t, func(c *config) { c.StrictBody = true })
	strict.client(t).post("/api/auth/sign-up/email", signUpWith("off@example.com", map[string]any{"username": "abc"})).wantError(t, 400, "VALIDATION_ERROR")
}

// TestUsernameOptionsOfTheConfigFile: the plugin entry's immutableUsername lets update-user set a
// first username but not change it (admins still may), displayUsernamePattern refuses a
// displayUsername at sign-up, update-user and beside a username at admin create-user with
// INVALID_DISPLAY_USERNAME, and displayUsernameNormalization: false is taken as upstream's
// default.
func TestUsernameOptionsOfTheConfigFile(t *testing.T) {
	t.Parallel()
	file := writeConfigFile(t, `{"plugins": [{"id": "username", "immutableUsername": true, "displayUsernamePattern": "^[^<>]*$", "displayUsernameNormalization": false}]}`)
	loaded, err := loadConfig([]string{"-config", file}, env(map[string]string{"BETTER_AUTH_SECRET": testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(c *config) { c.Username = loaded.Username })
	admin, _ := ts.newAdmin(t)
	c := ts.client(t)
	id := c.signUp("imm@example.com", "password123", "Imm")["id"].(string)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"a first username", map[string]any{"username": "First_Name"}, 200, ""},
		{"the same one again, in another case", map[string]any{"username": "FIRST_NAME"}, 200, ""},
		{"another one", map[string]any{"username": "second_name"}, 400, "USERNAME_IS_IMMUTABLE"},
		{"another one that is invalid", map[string]any{"username": "x"}, 400, "USERNAME_TOO_SHORT"},
		{"a displayUsername the pattern refuses", map[string]any{"displayUsername": "<b>me</b>"}, 400, "INVALID_DISPLAY_USERNAME"},
		{"one it takes", map[string]any{"displayUsername": "Me!"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			resp := c.post("/api/auth/update-user", tc.body)
			if tc.status == 200 {
				resp.wantStatus(t, 200)
			} else {
				resp.wantError(t, tc.status, tc.code)
			}
		})
	}
	c.t = t
	if got := ts.userField(t, id, "username"); got != "first_name" {
		t.Errorf("username = %v", got)
	}
	ts.client(t).post("/api/auth/sign-up/email", signUpWith("d@example.com", map[string]any{"displayUsername": "<i>"})).wantError(t, 400, "INVALID_DISPLAY_USERNAME")
	admin.post("/api/auth/admin/create-user", map[string]any{"email": "a@example.com", "name": "A", "data": map[string]any{"username": "adm_made", "displayUsername": "<i>"}}).
		wantError(t, 400, "INVALID_DISPLAY_USERNAME")
	admin.post("/api/auth/admin/update-user", map[string]any{"userId": id, "data": map[string]any{"username": "changed_by_admin"}}).wantStatus(t, 200)
	if got := ts.userField(t, id, "username"); got != "changed_by_admin" {
		t.Errorf("username after the admin's change = %v", got)
	}
}

// TestUsernameLowerCasedAsJavaScriptDoes: usernames are normalised with JavaScript's toLowerCase,
// as the Node server stores them, not Go's simpler mapping: a word-final capital sigma becomes ς
// and İ becomes i with a combining dot, so a username the Node server stored signs in here in
// any case, and one of ours is taken there (with a pattern allowing such letters).
func TestUsernameLowerCasedAsJavaScriptDoes(t *testing.T) {
	t.Parallel()
	ts := newUsernameServer(t, func(c *config) { c.Username.UsernamePattern = `^[\p{L}0-9_.]+$` })
	c := ts.client(t)
	signUpWithUsername(t, c, "odysseus@example.com", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", "Οδυσσευς") // "ΟΔΥΣΣΕΥΣ".toLowerCase()
	// As the Node server stores "İstanbul": "i\u0307stanbul".
	id := ts.client(t).signUp("istanbul@example.com", "password123", "Ista")["id"].(string)
	ts.exec(t, `UPDATE "user" SET username = $1 WHERE id = $2`, "i\u0307stanbul", id)
	signIn := ts.client(t).post("/api/auth/sign-in/username", map[string]any{"username": "İSTANBUL", "password": "password123"}).wantStatus(t, 200).object(t)
	if signIn["user"].(map[string]any)["id"] != id {
		t.Errorf("sign-in = %v", signIn)
	}
}
