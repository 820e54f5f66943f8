package main

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestAdminDataWritesFieldsAsUpstreamsAdapter: admin create-user and update-user take the
// username and additional fields from data as upstream's adapter does, server-only fields
// included, with defaults on create, keys no field has dropped, core fields written, and
// returned: false left out of every admin answer.
func TestAdminDataWritesFieldsAsUpstreamsAdapter(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t)
	admin, _ := ts.newAdmin(t)
	create := func(local string, data map[string]any) map[string]any {
		t.Helper()
		resp := admin.post("/api/auth/admin/create-user", map[string]any{"email": local + "@example.com", "name": local, "data": data})
		return resp.wantStatus(t, http.StatusOK).object(t)["user"].(map[string]any)
	}
	for i, tc := range []struct {
		name string
		data map[string]any
		want map[string]any
	}{
		{"fields, a server-only one and a username", map[string]any{"nickname": "Ni", "plan": "pro", "age": 3, "tags": []string{"x"},
			"birthday": "2000-01-02T00:00:00.000Z", "internalNote": "kept", "username": "Some.One"},
			map[string]any{"nickname": "Ni", "plan": "pro", "age": 3.0, "tags": []any{"x"}, "birthday": "2000-01-02T00:00:00.000Z",
				"username": "some.one", "displayUsername": "Some.One", "locale": "en", "newsletter": false}},
		{"defaults, and keys that are not data dropped", map[string]any{"bogus": 1, "password": "not-a-field", "name": "Other", "email": "other@example.com"},
			map[string]any{"plan": "free", "locale": "en", "name": "u1", "email": "u1@example.com", "username": nil}},
		{"a null required field takes its default", map[string]any{"locale": nil}, map[string]any{"locale": "en"}},
		{"core fields", map[string]any{"createdAt": "2001-01-01T00:00:00.000Z", "twoFactorEnabled": true, "image": "https://example.com/i.png"},
			map[string]any{"createdAt": "2001-01-01T00:00:00.000Z", "twoFactorEnabled": true, "image": "https://example.com/i.png"}},
		{"displayUsername alone", map[string]any{"displayUsername": "Disp"}, map[string]any{"displayUsername": "Disp", "username": nil}},
		{"an id of the admin's choosing", map[string]any{"id": "chosen-id-1"}, map[string]any{"id": "chosen-id-1"}},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			admin.t = t
			u := create(fmt.Sprintf("u%d", i), tc.data)
			for k, v := range tc.want {
				if !reflect.DeepEqual(u[k], v) {
					t.Errorf("%s = %#v, want %#v", k, u[k], v)
				}
			}
			if _, ok := u["internalNote"]; ok {
				t.Error("internalNote (returned: false) answered")
			}
		})
	}
	admin.t = t
	target := create("target", map[string]any{"username": "target_u"})
	id := target["id"].(string)
	if note := ts.userField(t, create("noted", map[string]any{"internalNote": "kept"})["id"].(string), `"internalNote"`); note != "kept" {
		t.Errorf("internalNote stored %v", note)
	}
	for _, tc := range []struct {
		name string
		data map[string]any
		want map[string]any
	}{
		{"fields and a server-only one", map[string]any{"nickname": "X", "plan": "gold", "internalNote": "n2", "age": 5},
			map[string]any{"nickname": "X", "plan": "gold", "age": 5.0}},
		{"nothing but a key no field has", map[string]any{"bogus": 1}, map[string]any{"nickname": "X"}},
		{"a new username, normalised", map[string]any{"username": "New_Name"}, map[string]any{"username": "new_name", "displayUsername": "target_u"}},
		{"displayUsername alone", map[string]any{"displayUsername": "DD"}, map[string]any{"displayUsername": "DD"}},
		{"core fields", map[string]any{"createdAt": "2001-01-01T00:00:00.000Z", "updatedAt": "2002-02-02T00:00:00.000Z", "emailVerified": true},
			map[string]any{"createdAt": "2001-01-01T00:00:00.000Z", "updatedAt": "2002-02-02T00:00:00.000Z", "emailVerified": true}},
	} {
		t.Run("update "+tc.name, func(t *testing.T) {
			admin.t = t
			u := admin.post("/api/auth/admin/update-user", map[string]any{"userId": id, "data": tc.data}).wantStatus(t, http.StatusOK).object(t)
			for k, v := range tc.want {
				if !reflect.DeepEqual(u[k], v) {
					t.Errorf("%s = %#v, want %#v", k, u[k], v)
				}
			}
		})
	}
	admin.t = t
	if note := ts.userField(t, id, `"internalNote"`); note != "n2" {
		t.Errorf("internalNote stored %v", note)
	}
	for _, path := range []string{"/api/auth/admin/get-user?id=" + id, "/api/auth/admin/list-users?searchValue=target&searchField=email"} {
		body := string(admin.get(path).wantStatus(t, http.StatusOK).Body)
		if strings.Contains(body, "internalNote") || !strings.Contains(body, `"plan":"gold"`) {
			t.Errorf("%s: %s", path, body)
		}
	}
}

// TestAdminDataRefusalsWriteNothing: in an admin route's data, a value not of its field's type,
// a null for a required field, a required field missing at create, a unique value taken, a bad or
// taken username, and with STRICT_BODY a key no field has, are each a 4xx and write nothing
// (deviation additional-field-types; upstream's adapter fails most of them with a 500).
func TestAdminDataRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	company := fieldSpec{Key: "company", Column: "company", Type: "string", Required: true, Input: true, Returned: true}
	for _, strict := range []bool{false, true} {
		ts := newFieldsServer(t, func(c *config) { c.Fields.User = append(c.Fields.User, company); c.StrictBody = strict })
		admin := ts.client(t)
		adminID := admin.post("/api/auth/sign-up/email", signUpWith("admin@example.com", map[string]any{"company": "Acme"})).wantStatus(t, 200).object(t)["user"].(map[string]any)["id"]
		ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, adminID)
		create := func(email string, data map[string]any) *testResponse {
			return admin.post("/api/auth/admin/create-user", map[string]any{"email": email, "name": "N", "data": data})
		}
		owner := create("owner@example.com", map[string]any{"company": "Acme", "handle": "taken", "username": "owner_name"}).wantStatus(t, 200).object(t)["user"].(map[string]any)
		target := create("target@example.com", map[string]any{"company": "Acme"}).wantStatus(t, 200).object(t)["user"].(map[string]any)
		type refusal struct {
			name   string
			path   string
			data   map[string]any
			status int
			code   string
		}
		cases := []refusal{
			{"create: a string for a number", "create", map[string]any{"company": "A", "age": "forty"}, 400, "VALIDATION_ERROR"},
			{"create: a number for a string", "create", map[string]any{"company": "A", "nickname": 7}, 400, "VALIDATION_ERROR"},
			{"create: a fraction for a number", "create", map[string]any{"company": "A", "age": 1.5}, 400, "VALIDATION_ERROR"},
			{"create: not a date", "create", map[string]any{"company": "A", "birthday": "tomorrow"}, 400, "VALIDATION_ERROR"},
			{"create: a string over the bound", "create", map[string]any{"company": "A", "nickname": string(make([]byte, maxFieldChars+1))}, 400, "VALIDATION_ERROR"},
			{"create: a required field missing", "create", map[string]any{}, 400, "MISSING_FIELD"},
			{"create: a unique value taken", "create", map[string]any{"company": "A", "handle": "taken"}, 422, "FAILED_TO_CREATE_USER"},
			{"create: a username too short", "create", map[string]any{"company": "A", "username": "abc"}, 400, "USERNAME_TOO_SHORT"},
			{"create: a username taken", "create", map[string]any{"company": "A", "username": "OWNER_NAME"}, 400, "USERNAME_IS_ALREADY_TAKEN"},
			{"create: a username not a string", "create", map[string]any{"company": "A", "username": 12345}, 400, "VALIDATION_ERROR"},
			{"create: an id not a string", "create", map[string]any{"company": "A", "id": 5}, 400, "VALIDATION_ERROR"},
			{"create: an id taken", "create", map[string]any{"company": "A", "id": owner["id"]}, 422, "FAILED_TO_CREATE_USER"},
			{"update: a string for a number", "update", map[string]any{"age": "x"}, 400, "VALIDATION_ERROR"},
			{"update: null for a required field", "update", map[string]any{"locale": nil}, 400, "VALIDATION_ERROR"},
			{"update: a unique value taken", "update", map[string]any{"handle": "taken"}, 422, "FAILED_TO_UPDATE_USER"},
			{"update: a username taken", "update", map[string]any{"username": "owner_name"}, 400, "USERNAME_IS_ALREADY_TAKEN"},
			{"update: a username too long", "update", map[string]any{"username": "a_very_long_username_indeed"}, 400, "USERNAME_TOO_LONG"},
			{"update: a createdAt not a date", "update", map[string]any{"createdAt": "soon"}, 400, "VALIDATION_ERROR"},
		}
		if strict {
			cases = append(cases,
				refusal{"strict create: a key no field has", "create", map[string]any{"company": "A", "bogus": 1}, 400, "VALIDATION_ERROR"},
				refusal{"strict update: a key no field has", "update", map[string]any{"nickname": "Z", "bogus": 1}, 400, "VALIDATION_ERROR"})
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				admin.t = t
				if tc.path == "create" {
					create("new@example.com", tc.data).wantError(t, tc.status, tc.code)
					return
				}
				admin.post("/api/auth/admin/update-user", map[string]any{"userId": target["id"], "data": tc.data}).wantError(t, tc.status, tc.code)
			})
		}
		admin.t = t
		if n := ts.rowCount(t, "user"); n != 3 {
			t.Errorf("strict=%v: %d users after refusals, want 3", strict, n)
		}
		for col, want := range map[string]any{"age": nil, "locale": "en", "handle": nil, "user_name": nil, "nickname": nil, `"updatedAt"`: ts.userField(t, target["id"].(string), `"createdAt"`)} {
			if got := ts.userField(t, target["id"].(string), col); !reflect.DeepEqual(got, want) {
				t.Errorf("strict=%v: %s = %v after refusals, want %v", strict, col, got, want)
			}
		}
	}
}

// TestAdminUpdateUserUsernameHook: as upstream's update hook, the admin's own username passes
// and any other holder's, the target's own included, is USERNAME_IS_ALREADY_TAKEN; a user that
// does not exist is 404 before its username is looked at.
func TestAdminUpdateUserUsernameHook(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t)
	admin, adminID := ts.newAdmin(t)
	admin.post("/api/auth/update-user", map[string]any{"username": "the_admin"}).wantStatus(t, 200)
	u := admin.post("/api/auth/admin/create-user", map[string]any{"email": "t@example.com", "name": "T", "data": map[string]any{"username": "target_u"}}).
		wantStatus(t, 200).object(t)["user"].(map[string]any)
	update := func(userID string, username string) *testResponse {
		return admin.post("/api/auth/admin/update-user", map[string]any{"userId": userID, "data": map[string]any{"username": username}})
	}
	update(u["id"].(string), "target_u").wantError(t, 400, "USERNAME_IS_ALREADY_TAKEN")
	update("nobody", "ab").wantError(t, 404, "USER_NOT_FOUND")
	update(adminID, "THE_ADMIN").wantStatus(t, 200)
	update(u["id"].(string), "the_admin").wantError(t, 400, "USERNAME_IS_ALREADY_TAKEN")
	if got := ts.userField(t, u["id"].(string), "user_name"); got != "target_u" { // fields.json's schema names the column

		t.Errorf("username = %v", got)
	}
}
