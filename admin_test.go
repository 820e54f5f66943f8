package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newAdminServer starts a server with a signed-in admin (role set in Postgres, as an operator
// seeds the first admin) and returns the admin's client and id.
func newAdminServer(t testing.TB, opts ...func(*config)) (*testServer, *testClient, string) {
	t.Helper()
	ts := newTestServer(t, opts...)
	c, id := ts.newAdmin(t)
	return ts, c, id
}

// newAdmin signs admin@example.com up on ts and gives it the admin role, as an operator seeds
// the first admin; it returns the admin's client and id.
func (ts *testServer) newAdmin(t testing.TB) (*testClient, string) {
	t.Helper()
	c := ts.client(t)
	id := c.signUp("admin@example.com", "password123", "Admin")["id"].(string)
	ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, id)
	return c, id
}

// newUser signs a user up on its own client and returns the client and the user's id.
func (ts *testServer) newUser(t testing.TB, email string) (*testClient, string) {
	t.Helper()
	c := ts.client(t)
	return c, c.signUp(email, "password123", strings.Split(email, "@")[0])["id"].(string)
}

// userField reads one column of a user row.
func (ts *testServer) userField(t testing.TB, id, column string) any {
	t.Helper()
	var v any
	if err := ts.db.QueryRow(context.Background(), `SELECT `+column+` FROM "user" WHERE id = $1`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAdminConfigFromEnvironment ensures the admin settings default to upstream's values, are
// read from the environment, and that unusable values stop the server at start.
func TestAdminConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := loadConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Admin
	if fmt.Sprint(a.adminRoles()) != "[admin]" || a.defaultRole() != "user" || a.impersonationDuration() != time.Hour ||
		a.banReason() != "No reason" || a.bannedUserMessage() != defaultBannedUserMessage || a.AdminUserIDs != nil || a.Roles != nil {
		t.Fatalf("defaults = %+v", a)
	}
	dir := t.TempDir()
	roles := filepath.Join(dir, "roles.json")
	if err := os.WriteFile(roles, []byte(`{"support": {"user": ["list", "get"], "session": ["list"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = loadConfig([]string{"-admin-banned-user-message", "Go away"}, env(map[string]string{
		"ADMIN_ROLES": "admin, support", "ADMIN_USER_IDS": "u1,u2", "ADMIN_DEFAULT_ROLE": "support",
		"ADMIN_IMPERSONATION_SESSION_DURATION": "600", "ADMIN_DEFAULT_BAN_REASON": "Spam",
		"ADMIN_DEFAULT_BAN_EXPIRES_IN": "86400", "ADMIN_ROLES_FILE": roles,
	}))
	if err != nil {
		t.Fatal(err)
	}
	a = c.Admin
	if fmt.Sprint(a.AdminRoles, a.AdminUserIDs) != "[admin support] [u1 u2]" || a.defaultRole() != "support" ||
		a.impersonationDuration() != 10*time.Minute || a.banReason() != "Spam" || a.DefaultBanExpiresIn != 24*time.Hour ||
		a.bannedUserMessage() != "Go away" || a.Roles["support"] == nil || a.Roles["admin"] == nil {
		t.Fatalf("from env = %+v", a)
	}
	bad := map[string]map[string]string{
		"undefined admin role":     {"ADMIN_ROLES": "owner"},
		"no admin role":            {"ADMIN_ROLES": " , "},
		"undefined default role":   {"ADMIN_DEFAULT_ROLE": "guest"},
		"duration zero":            {"ADMIN_IMPERSONATION_SESSION_DURATION": "0"},
		"duration as go duration":  {"ADMIN_IMPERSONATION_SESSION_DURATION": "1h"},
		"negative ban expiry":      {"ADMIN_DEFAULT_BAN_EXPIRES_IN": "-5"},
		"ban expiry past 100y":     {"ADMIN_DEFAULT_BAN_EXPIRES_IN": "99999999999"},
		"missing roles file":       {"ADMIN_ROLES_FILE": filepath.Join(dir, "absent.json")},
		"roles file with bad name": {"ADMIN_ROLES_FILE": writeFile(t, dir, "b.json", `{"a,b": {"user": ["list"]}}`)},
	}
	for name, vars := range bad {
		if _, err := loadConfig(nil, env(vars)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func writeFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAdminRoutesRefuseWithoutSessionOrPermission ensures every admin route answers 401 without
// a session and upstream's 403 code to a user whose role does not grant the permission, writing
// nothing.
func TestAdminRoutesRefuseWithoutSessionOrPermission(t *testing.T) {
	t.Parallel()
	ts, _, adminID := newAdminServer(t)
	plain, _ := ts.newUser(t, "plain@example.com")
	anon := ts.client(t)
	cases := []struct {
		method, path string
		body         any
		code         string
	}{
		{"POST", "/api/auth/admin/create-user", map[string]any{"email": "n@example.com", "name": "N"}, "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS"},
		{"GET", "/api/auth/admin/get-user?id=" + adminID, nil, "YOU_ARE_NOT_ALLOWED_TO_GET_USER"},
		{"POST", "/api/auth/admin/update-user", map[string]any{"userId": adminID, "data": map[string]any{"name": "x"}}, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS"},
		{"GET", "/api/auth/admin/list-users", nil, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"},
		{"POST", "/api/auth/admin/set-role", map[string]any{"userId": adminID, "role": "user"}, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE"},
		{"POST", "/api/auth/admin/ban-user", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"},
		{"POST", "/api/auth/admin/unban-user", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"},
		{"POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS"},
		{"POST", "/api/auth/admin/revoke-user-session", map[string]any{"sessionToken": "x"}, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS"},
		{"POST", "/api/auth/admin/revoke-user-sessions", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS"},
		{"POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS"},
		{"POST", "/api/auth/admin/remove-user", map[string]any{"userId": adminID}, "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS"},
		{"POST", "/api/auth/admin/set-user-password", map[string]any{"userId": adminID, "newPassword": "password999"}, "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			plain.t, anon.t = t, t
			if resp := anon.do(tc.method, tc.path, tc.body); resp.Status != http.StatusUnauthorized {
				t.Fatalf("without a session: %d %s", resp.Status, resp.Body)
			}
			plain.do(tc.method, tc.path, tc.body).wantError(t, http.StatusForbidden, tc.code)
		})
	}
	if ts.rowCount(t, "user") != 2 || ts.userField(t, adminID, "role") != "admin" || ts.userField(t, adminID, "banned") != false {
		t.Fatal("a refused admin route wrote")
	}
}

// TestAdminManagesUsers walks create → get → update → set-role → set-user-password → sessions →
// remove as upstream answers each, and checks the rows.
func TestAdminManagesUsers(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	resp := admin.post("/api/auth/admin/create-user", map[string]any{"email": "New@Example.com", "password": "password123", "name": "New",
		"data": map[string]any{"emailVerified": true}})
	resp.wantStatus(t, http.StatusOK)
	created := resp.object(t)["user"].(map[string]any)
	id := created["id"].(string)
	if created["email"] != "new@example.com" || created["role"] != "user" || created["banned"] != false || created["emailVerified"] != true {
		t.Fatalf("created = %v", created)
	}
	admin.post("/api/auth/admin/create-user", map[string]any{"email": "new@example.com", "name": "Again"}).
		wantError(t, http.StatusBadRequest, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
	newbie := ts.client(t)
	newbie.signIn("new@example.com", "password123").wantStatus(t, http.StatusOK)

	got := admin.get("/api/auth/admin/get-user?id="+id).wantStatus(t, http.StatusOK).object(t)
	if got["id"] != id || got["name"] != "New" {
		t.Fatalf("get-user = %v", got)
	}
	admin.get("/api/auth/admin/get-user?id=nobody").wantError(t, http.StatusNotFound, "USER_NOT_FOUND")

	upd := admin.post("/api/auth/admin/update-user", map[string]any{"userId": id, "data": map[string]any{"name": "Renamed", "email": "RENAMED@example.com", "image": nil}}).
		wantStatus(t, http.StatusOK).object(t)
	if upd["name"] != "Renamed" || upd["email"] != "renamed@example.com" {
		t.Fatalf("update-user = %v", upd)
	}
	set := admin.post("/api/auth/admin/set-role", map[string]any{"userId": id, "role": []string{"user", "admin"}}).wantStatus(t, http.StatusOK).object(t)
	if set["user"].(map[string]any)["role"] != "user,admin" {
		t.Fatalf("set-role = %v", set)
	}
	admin.post("/api/auth/admin/set-user-password", map[string]any{"userId": id, "newPassword": "another-password"}).wantStatus(t, http.StatusOK)
	ts.client(t).signIn("renamed@example.com", "another-password").wantStatus(t, http.StatusOK)

	var sessions struct{ Sessions []session }
	admin.post("/api/auth/admin/list-user-sessions", map[string]any{"userId": id}).wantStatus(t, http.StatusOK).decode(t, &sessions)
	if len(sessions.Sessions) != 2 {
		t.Fatalf("sessions = %+v", sessions)
	}
	admin.post("/api/auth/admin/revoke-user-session", map[string]any{"sessionToken": sessions.Sessions[0].Token}).wantStatus(t, http.StatusOK)
	if newbie.signedIn() {
		t.Fatal("revoked session still answers")
	}
	admin.post("/api/auth/admin/revoke-user-sessions", map[string]any{"userId": id}).wantStatus(t, http.StatusOK)
	if n := len(mustSessions(t, ts, id)); n != 0 {
		t.Fatalf("%d sessions after revoke-user-sessions", n)
	}
	admin.post("/api/auth/admin/remove-user", map[string]any{"userId": id}).wantStatus(t, http.StatusOK)
	if ts.rowCount(t, "user") != 1 {
		t.Fatal("user not removed")
	}
}

func mustSessions(t testing.TB, ts *testServer, userID string) []session {
	t.Helper()
	sessions, err := ts.server.activeSessions(context.Background(), userID, false)
	if err != nil {
		t.Fatal(err)
	}
	return sessions
}

// TestAdminBadInputIsRefusedAndWritesNothing ensures the inputs the admin routes must refuse get
// a 4xx and leave the database as it was.
func TestAdminBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	ts, admin, adminID := newAdminServer(t)
	_, userID := ts.newUser(t, "target@example.com")
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"unknown role", "/api/auth/admin/set-role", map[string]any{"userId": userID, "role": "superuser"}, 400, "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"},
		{"role not a string", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"role": 5}}, 400, "INVALID_ROLE_TYPE"},
		{"null role", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"role": nil}}, 400, "INVALID_ROLE_TYPE"},
		{"null in a role list", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"role": []any{"admin", nil}}}, 400, "INVALID_ROLE_TYPE"},
		{"role list in a role list", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"role": []any{[]string{"admin"}}}}, 400, "INVALID_ROLE_TYPE"},
		{"null role in create data", "/api/auth/admin/create-user", map[string]any{"email": "x@example.com", "name": "X", "data": map[string]any{"role": nil}}, 400, "INVALID_ROLE_TYPE"},
		{"unknown role in create", "/api/auth/admin/create-user", map[string]any{"email": "x@example.com", "name": "X", "role": "root"}, 400, "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"},
		{"ban oneself", "/api/auth/admin/ban-user", map[string]any{"userId": adminID}, 400, "YOU_CANNOT_BAN_YOURSELF"},
		{"ban oneself by update", "/api/auth/admin/update-user", map[string]any{"userId": adminID, "data": map[string]any{"banned": true}}, 400, "YOU_CANNOT_BAN_YOURSELF"},
		{"negative banExpiresIn", "/api/auth/admin/ban-user", map[string]any{"userId": userID, "banExpiresIn": -60}, 400, "VALIDATION_ERROR"},
		{"huge banExpiresIn", "/api/auth/admin/ban-user", map[string]any{"userId": userID, "banExpiresIn": 1e300}, 400, "VALIDATION_ERROR"},
		{"banExpiresIn as text", "/api/auth/admin/ban-user", map[string]any{"userId": userID, "banExpiresIn": "60"}, 400, "VALIDATION_ERROR"},
		{"remove oneself", "/api/auth/admin/remove-user", map[string]any{"userId": adminID}, 400, "YOU_CANNOT_REMOVE_YOURSELF"},
		{"password by update", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"password": "password999"}}, 400, "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER"},
		{"id by update", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"id": "other"}}, 400, "USER_ID_CANNOT_BE_UPDATED"},
		{"empty data", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{}}, 400, "NO_DATA_TO_UPDATE"},
		{"bad email", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"email": "not-an-email"}}, 400, "INVALID_EMAIL"},
		{"taken email", "/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"email": "admin@example.com"}}, 400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"},
		{"short password", "/api/auth/admin/set-user-password", map[string]any{"userId": userID, "newPassword": "short"}, 400, "PASSWORD_TOO_SHORT"},
		{"empty password", "/api/auth/admin/set-user-password", map[string]any{"userId": userID, "newPassword": ""}, 400, "VALIDATION_ERROR"},
		{"missing user", "/api/auth/admin/ban-user", map[string]any{"userId": "nobody"}, 404, "USER_NOT_FOUND"},
		{"bad create email", "/api/auth/admin/create-user", map[string]any{"email": "nope", "name": "X"}, 400, "INVALID_EMAIL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admin.t = t
			admin.post(tc.path, tc.body).wantError(t, tc.status, tc.code)
		})
	}
	if ts.rowCount(t, "user") != 2 || ts.userField(t, userID, "banned") != false || ts.userField(t, userID, "role") != "user" ||
		ts.userField(t, userID, "email") != "target@example.com" || ts.userField(t, adminID, "banned") != false {
		t.Fatal("a refused request wrote")
	}
}

// TestAdminCannotRemoveTheLastAdmin ensures a caller allowed to delete users but not itself an
// admin (a custom role) cannot remove the only admin, and can once another admin exists.
func TestAdminCannotRemoveTheLastAdmin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) {
		c.Admin.Roles = roleSet{"admin": defaultAdminRoleSet["admin"], "user": defaultAdminRoleSet["user"], "support": {"user": {"delete"}}}
	})
	op, opID := ts.newUser(t, "operator@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'support' WHERE id = $1`, opID)
	_, adminID := ts.newUser(t, "admin@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'user,admin' WHERE id = $1`, adminID)
	op.post("/api/auth/admin/remove-user", map[string]any{"userId": adminID}).wantError(t, http.StatusBadRequest, "YOU_CANNOT_REMOVE_THE_LAST_ADMIN")
	if ts.rowCount(t, "user") != 2 {
		t.Fatal("last admin removed")
	}
	_, otherID := ts.newUser(t, "other@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, otherID)
	op.post("/api/auth/admin/remove-user", map[string]any{"userId": adminID}).wantStatus(t, http.StatusOK)
	op.post("/api/auth/admin/remove-user", map[string]any{"userId": otherID}).wantError(t, http.StatusBadRequest, "YOU_CANNOT_REMOVE_THE_LAST_ADMIN")
}

// TestCreatingAUserWithAnAdminUserIDTakesSetRole: a caller who may create users but not change
// roles (a custom role) cannot create the user of an ADMIN_USER_IDS id that has no row yet, which
// would hold every permission; an admin, who may set roles, can.
func TestCreatingAUserWithAnAdminUserIDTakesSetRole(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) {
		c.Admin.Roles = roleSet{"admin": defaultAdminRoleSet["admin"], "user": defaultAdminRoleSet["user"], "creator": {"user": {"create"}}}
		c.Admin.AdminUserIDs = []string{"root-to-be"}
	})
	creator, creatorID := ts.newUser(t, "creator@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'creator' WHERE id = $1`, creatorID)
	admin, _ := ts.newAdmin(t)
	body := func(email, id string) map[string]any {
		return map[string]any{"email": email, "password": "password123", "name": "New", "data": map[string]any{"id": id}}
	}
	creator.post("/api/auth/admin/create-user", body("root@example.com", "root-to-be")).wantError(t, http.StatusForbidden, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE")
	if n := ts.rowCount(t, "user"); n != 2 {
		t.Fatalf("%d users after a refused create-user, want 2", n)
	}
	creator.post("/api/auth/admin/create-user", body("plain@example.com", "plain-id")).wantStatus(t, http.StatusOK)
	admin.post("/api/auth/admin/create-user", body("root@example.com", "root-to-be")).wantStatus(t, http.StatusOK)
}

// TestAdminsRemovingEachOtherAtOnceBothGetAnAnswer ensures two admins removing each other at
// the same moment are served one after the other: the first removes the second, who is told
// the first is the last admin left, and neither request ends in a deadlock's 500. The test's
// lock on the first admin's row holds both until each waits for it.
func TestAdminsRemovingEachOtherAtOnceBothGetAnAnswer(t *testing.T) {
	t.Parallel()
	ts, first, firstID := newAdminServer(t)
	second, secondID := ts.newUser(t, "second@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, secondID)
	ctx := context.Background()
	lock, err := ts.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := lock.Exec(ctx, `SELECT 1 FROM "user" WHERE id = $1 FOR UPDATE`, firstID); err != nil {
		t.Fatal(err)
	}
	firstDone, secondDone := make(chan *testResponse, 1), make(chan *testResponse, 1)
	go func() { firstDone <- first.post("/api/auth/admin/remove-user", map[string]any{"userId": secondID}) }()
	ts.waitForLockWaiters(t, 1)
	go func() { secondDone <- second.post("/api/auth/admin/remove-user", map[string]any{"userId": firstID}) }()
	ts.waitForLockWaiters(t, 2)
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	(<-firstDone).wantStatus(t, http.StatusOK)
	(<-secondDone).wantError(t, http.StatusBadRequest, "YOU_CANNOT_REMOVE_THE_LAST_ADMIN")
	if ts.rowCount(t, "user") != 1 || ts.userField(t, firstID, "role") != "admin" {
		t.Fatal("not exactly the first admin left")
	}
}

// waitForLockWaiters returns once n statements of the test server's database wait for a lock.
func (ts *testServer) waitForLockWaiters(t testing.TB, n int) {
	t.Helper()
	for i := 0; ; i++ {
		var waiting int
		err := ts.db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if i == 100000 {
			t.Fatalf("%d statements wait for a lock, want %d", waiting, n)
		}
	}
}

// TestAdminListUsers ensures search, filter, sort and paging select the users upstream's
// adapter would, with total counting every match.
func TestAdminListUsers(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	for i := range 5 {
		ts.newUser(t, fmt.Sprintf("member%d@example.com", i))
	}
	ts.exec(t, `UPDATE "user" SET banned = true WHERE email IN ('member1@example.com', 'member3@example.com')`)
	type page struct {
		Users []struct {
			Email string
		}
		Total  int
		Limit  *int
		Offset *int
	}
	list := func(q url.Values) page {
		t.Helper()
		var p page
		admin.get("/api/auth/admin/list-users?"+q.Encode()).wantStatus(t, http.StatusOK).decode(t, &p)
		return p
	}
	emails := func(p page) string {
		var out []string
		for _, u := range p.Users {
			out = append(out, strings.Split(u.Email, "@")[0])
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		query url.Values
		want  string
		total int
	}{
		{url.Values{"sortBy": {"email"}}, "admin,member0,member1,member2,member3,member4", 6},
		{url.Values{"sortBy": {"email"}, "sortDirection": {"desc"}, "limit": {"2"}}, "member4,member3", 6},
		{url.Values{"sortBy": {"email"}, "limit": {"2"}, "offset": {"4"}}, "member3,member4", 6},
		{url.Values{"searchValue": {"member"}, "searchOperator": {"starts_with"}, "sortBy": {"email"}, "limit": {"1"}}, "member0", 5},
		{url.Values{"searchValue": {"4@example.com"}, "searchOperator": {"ends_with"}}, "member4", 1},
		{url.Values{"searchValue": {"ember2"}, "searchField": {"name"}}, "member2", 1},
		// Upstream's LIKE patterns: % and _ are wildcards.
		{url.Values{"searchValue": {"%"}, "sortBy": {"email"}}, "admin,member0,member1,member2,member3,member4", 6},
		{url.Values{"searchValue": {"member_@example.com"}, "searchOperator": {"ends_with"}, "sortBy": {"email"}, "limit": {"2"}}, "member0,member1", 5},
		{url.Values{"searchValue": {"m%3"}, "searchOperator": {"starts_with"}}, "member3", 1},
		// total read off a short page, counted for a full one and past the end.
		{url.Values{"sortBy": {"email"}, "limit": {"5"}, "offset": {"4"}}, "member3,member4", 6},
		{url.Values{"sortBy": {"email"}, "offset": {"10"}}, "", 6},
		{url.Values{"filterField": {"banned"}, "filterValue": {"true"}, "sortBy": {"email"}, "limit": {"1"}}, "member1", 2},
		{url.Values{"filterField": {"banned"}, "filterValue": {"true"}, "sortBy": {"email"}, "offset": {"5"}}, "", 2},
		{url.Values{"filterField": {"banned"}, "filterValue": {"true"}, "sortBy": {"email"}}, "member1,member3", 2},
		{url.Values{"filterField": {"role"}, "filterValue": {"admin"}}, "admin", 1},
		{url.Values{"filterField": {"email"}, "filterOperator": {"in"}, "filterValue": {"member0@example.com", "member4@example.com"}, "sortBy": {"email"}}, "member0,member4", 2},
		{url.Values{"filterField": {"role"}, "filterOperator": {"ne"}, "filterValue": {"user"}}, "admin", 1},
		{url.Values{"filterField": {"createdAt"}, "filterOperator": {"lt"}, "filterValue": {"2000-01-01T00:00:00.000Z"}}, "", 0},
	}
	for _, tc := range cases {
		p := list(tc.query)
		if got := emails(p); (got != tc.want && !(tc.query.Get("sortBy") == "" && len(p.Users) == len(strings.Split(tc.want, ",")))) || p.Total != tc.total {
			t.Errorf("%s: users %q total %d, want %q total %d", tc.query.Encode(), got, p.Total, tc.want, tc.total)
		}
	}
	p := list(url.Values{"limit": {"3"}, "offset": {"1"}})
	if p.Limit == nil || *p.Limit != 3 || p.Offset == nil || *p.Offset != 1 {
		t.Fatalf("limit/offset echoed as %v %v", p.Limit, p.Offset)
	}
	if p = list(nil); p.Limit != nil || p.Offset != nil || p.Total != 6 {
		t.Fatalf("without paging: %+v", p)
	}
}

// TestAdminListUsersRefusesMalformedInput ensures fields outside the allow-list, unknown
// operators and an over-cap limit are 400s, never SQL.
func TestAdminListUsersRefusesMalformedInput(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	bad := []string{
		"sortBy=password",
		"sortBy=" + url.QueryEscape(`email;DROP TABLE "user"`),
		"sortBy=email&sortDirection=sideways",
		"filterField=password&filterValue=x",
		"filterField=email%20OR%201=1&filterValue=x",
		"filterField=email&filterOperator=like&filterValue=x",
		"filterField=banned&filterOperator=contains&filterValue=t",
		"filterField=createdAt&filterValue=yesterday",
		"filterField=email&filterOperator=eq&filterValue=a&filterValue=b",
		"searchField=password&searchValue=x",
		"searchOperator=regex&searchValue=x",
		"limit=1001",
		"limit=-1",
		"offset=-5",
		"limit=2.5",
		"sortBy=email&sortBy=name",
	}
	for _, q := range bad {
		admin.get("/api/auth/admin/list-users?"+q).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	}
	if ts.rowCount(t, "user") != 1 {
		t.Fatal("user table changed")
	}
}

// TestAdminHasPermission ensures has-permission answers for the caller's role as upstream does.
func TestAdminHasPermission(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	plain, _ := ts.newUser(t, "plain@example.com")
	check := func(c *testClient, body any) bool {
		var out struct {
			Error   *string
			Success bool
		}
		c.post("/api/auth/admin/has-permission", body).wantStatus(t, http.StatusOK).decode(t, &out)
		return out.Success
	}
	if !check(admin, map[string]any{"permissions": map[string]any{"user": []string{"ban", "list"}, "session": []string{"revoke"}}}) {
		t.Fatal("admin may not ban")
	}
	if check(admin, map[string]any{"permissions": map[string]any{"user": []string{"impersonate-admins"}}}) {
		t.Fatal("admin may impersonate admins by default")
	}
	if check(plain, map[string]any{"permissions": map[string]any{"user": []string{"list"}}}) {
		t.Fatal("a user may list users")
	}
	admin.post("/api/auth/admin/has-permission", map[string]any{"permission": map[string]any{"user": []string{"list"}}}).wantStatus(t, http.StatusBadRequest)
	admin.post("/api/auth/admin/has-permission", map[string]any{}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	ts.client(t).post("/api/auth/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}}).wantStatus(t, http.StatusUnauthorized)
}

// TestAdminQueryBytesThatAreNotUTF8AreReadAsUpstreamReadsThem ensures a query value with
// percent-escaped bytes that are not UTF-8 is read as upstream's WHATWG URL decoding reads it,
// U+FFFD for each bad sequence, rather than reaching Postgres as is and failing with a 500.
func TestAdminQueryBytesThatAreNotUTF8AreReadAsUpstreamReadsThem(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	_, id := ts.newUser(t, "odd@example.com")
	ts.exec(t, `UPDATE "user" SET name = 'a'||U&'\FFFD'||'b' WHERE id = $1`, id)
	admin.get("/api/auth/admin/get-user?id=%FF").wantError(t, http.StatusNotFound, "USER_NOT_FOUND")
	cases := []struct {
		query string
		total int
	}{
		{"searchValue=%FF", 0},
		{"filterField=email&filterValue=%FF", 0},
		{"filterField=role&filterOperator=in&filterValue=%C3&filterValue=user", 1},
		{"searchField=name&searchValue=a%FFb", 1},
	}
	for _, tc := range cases {
		var page struct{ Total int }
		admin.get("/api/auth/admin/list-users?"+tc.query).wantStatus(t, http.StatusOK).decode(t, &page)
		if page.Total != tc.total {
			t.Errorf("%s: total %d, want %d", tc.query, page.Total, tc.total)
		}
	}
}
