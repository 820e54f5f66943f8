package main

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// exampleConfig is testdata/config/fields.json loaded as AUTH_CONFIG: its user and session
// additional fields and its username plugin entry, for a test server.
func exampleConfig(t testing.TB) func(*config) {
	t.Helper()
	c, err := loadConfig([]string{"-config", "testdata/config/fields.json"}, env(map[string]string{"BETTER_AUTH_SECRET": testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	return func(cfg *config) { cfg.Fields, cfg.Username = c.Fields, c.Username }
}

// checkFieldsExample is TestConfigFileExamplesLoad's check of fields.json: the fields in the
// file's order with upstream's attribute defaults, and the username entry's options.
func checkFieldsExample(t *testing.T, c config) {
	var keys []string
	for _, f := range c.Fields.User {
		keys = append(keys, f.Key)
	}
	want := []string{"nickname", "plan", "age", "newsletter", "birthday", "tags", "scores", "internalNote", "handle", "locale"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("user fields %v, want %v", keys, want)
	}
	plan := c.Fields.User[1]
	if plan.Input || !plan.Returned || plan.Required || string(plan.Default) != `"free"` {
		t.Errorf("plan = %+v", plan)
	}
	if locale := c.Fields.User[9]; !locale.Required {
		t.Errorf("locale: required is upstream's default, got %+v", locale)
	}
	if len(c.Fields.Session) != 3 || c.Fields.Session[1].Key != "theme" || c.Fields.Session[2].Returned {
		t.Errorf("session fields %+v", c.Fields.Session)
	}
	if !c.Username.Enabled || c.Username.minLength() != 4 || c.Username.maxLength() != 20 || !c.Username.ImmutableUsername ||
		c.Username.validDisplay("<b>") || !c.Username.validDisplay("Shown!") || c.Username.usernameColumn() != "user_name" || c.Username.displayUsernameColumn() != "display_username" {
		t.Errorf("username = %+v", c.Username)
	}
}

// TestFieldConfigRefusesUnsafeOrUnknownDefinitions: a field name or fieldName that is not a plain
// identifier, an unknown attribute or type, a default of the wrong type and a name that shadows
// a column all stop start-up with the key path, so nothing from the file reaches SQL but a
// checked identifier; so do unknown username options.
func TestFieldConfigRefusesUnsafeOrUnknownDefinitions(t *testing.T) {
	t.Parallel()
	for name, file := range map[string]string{
		"quote":                                  `{"user": {"additionalFields": {"a\"b": {"type": "string"}}}}`,
		"shadows a column":                       `{"session": {"additionalFields": {"token": {"type": "string"}}}}`,
		"fieldName":                              `{"user": {"additionalFields": {"ok": {"type": "string", "fieldName": "x\"; drop"}}}}`,
		"username option":                        `{"plugins": [{"id": "username", "minLength": 2}]}`,
		"username order":                         `{"plugins": [{"id": "username", "validationOrder": {"username": "later"}}]}`,
		"username not bool":                      `{"plugins": [{"id": "username", "usernameNormalization": "no"}]}`,
		"immutable not bool":                     `{"plugins": [{"id": "username", "immutableUsername": "yes"}]}`,
		"display pattern":                        `{"plugins": [{"id": "username", "displayUsernamePattern": "(["}]}`,
		"display normaliser":                     `{"plugins": [{"id": "username", "displayUsernameNormalization": true}]}`,
		"required session field without default": `{"session": {"additionalFields": {"tenant": {"type": "string"}}}}`,
		"unique session field with a default":    `{"session": {"additionalFields": {"slot": {"type": "string", "unique": true, "defaultValue": "x"}}}}`,
		"schema column":                          `{"plugins": [{"id": "username", "schema": {"user": {"fields": {"username": "a b"}}}}]}`,
		"schema column taken":                    `{"plugins": [{"id": "username", "schema": {"user": {"fields": {"username": "email"}}}}]}`,
		"schema column of a field":               `{"user": {"additionalFields": {"nick": {"type": "string"}}}, "plugins": [{"id": "username", "schema": {"user": {"fields": {"displayUsername": "nick"}}}}]}`,
		"schema one column for both":             `{"plugins": [{"id": "username", "schema": {"user": {"fields": {"username": "u", "displayUsername": "U"}}}}]}`,
		"schema unknown key":                     `{"plugins": [{"id": "username", "schema": {"user": {"columns": {}}}}]}`,
		"no such option":                         `{"plugins": [{"id": "username", "disableUpdate": true}]}`,
	} {
		_, err := loadConfig([]string{"-config", writeConfigFile(t, file)}, env(map[string]string{"BETTER_AUTH_SECRET": testSecret}))
		if err == nil || !strings.Contains(err.Error(), "config: ") {
			t.Errorf("%s: %s loaded (%v)", name, file, err)
		}
	}
	for name, def := range map[string]string{
		"quote in name":      `{"a\"b": {"type": "string"}}`,
		"injection in name":  `{"x; drop table \"user\"": {"type": "string"}}`,
		"space in fieldName": `{"ok": {"type": "string", "fieldName": "bad name"}}`,
		"leading digit":      `{"1st": {"type": "string"}}`,
		"too long":           `{"` + strings.Repeat("a", 64) + `": {"type": "string"}}`,
		"unknown attribute":  `{"ok": {"type": "string", "validator": {}}}`,
		"unknown type":       `{"ok": {"type": "json"}}`,
		"default of a type":  `{"ok": {"type": "number", "defaultValue": "one"}}`,
	} {
		var f additionalFields
		if err := json.Unmarshal([]byte(def), &f); err == nil {
			t.Errorf("%s: %s was accepted", name, def)
		}
	}
	for name, f := range map[string]additionalFields{
		"core column":   {{Key: "email", Column: "email", Type: "string"}},
		"plugin column": {{Key: "r", Column: "role", Type: "string"}},
		"twice":         {{Key: "a", Column: "a", Type: "string"}, {Key: "b", Column: "a", Type: "string"}},
	} {
		if err := f.check("user"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestFieldColumnsGetUpstreamsTypesIdempotently: start-up adds each column with the Postgres type
// Better Auth's migration gives it, a unique index for unique fields, and a second start (or a
// table the Node server made with its own unique constraint) adds nothing more.
func TestFieldColumnsGetUpstreamsTypesIdempotently(t *testing.T) {
	t.Parallel()
	db, _ := newTestDB(t)
	ctx := context.Background()
	// As the Node server leaves a table created with the field: an inline unique constraint.
	if _, err := db.Exec(ctx, `ALTER TABLE "user" ADD COLUMN "handle" text UNIQUE`); err != nil {
		t.Fatal(err)
	}
	var cfg config
	exampleConfig(t)(&cfg)
	for range 2 {
		if err := applyFieldColumns(ctx, db, cfg); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"nickname": "text", "plan": "text", "age": "integer", "newsletter": "boolean",
		"birthday": "timestamp with time zone", "tags": "jsonb", "scores": "jsonb", "internalNote": "text",
		"handle": "text", "locale": "text", "user_name": "text", "display_username": "text"}
	for col, typ := range want {
		var got string
		if err := db.QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name = 'user' AND column_name = $1`, col).Scan(&got); err != nil || got != typ {
			t.Errorf("column %s: type %q (%v), want %q", col, got, err, typ)
		}
	}
	// As upstream's migration adds them: NOT NULL where required, its default where static.
	for col, want := range map[string]string{"locale": "NO 'en'::text", "plan": "YES 'free'::text", "newsletter": "YES false", "nickname": "YES ", "user_name": "YES "} {
		var got string
		if err := db.QueryRow(ctx, `SELECT is_nullable || ' ' || COALESCE(column_default, '') FROM information_schema.columns WHERE table_name = 'user' AND column_name = $1`, col).Scan(&got); err != nil || got != want {
			t.Errorf("column %s: nullable and default %q (%v), want %q", col, got, err, want)
		}
	}
	for col, n := range map[string]int{"handle": 1, "user_name": 1} {
		var got int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = '"user"'::regclass AND i.indisunique AND a.attname = $1`, col).Scan(&got); err != nil || got != n {
			t.Errorf("unique indexes on %s: %d (%v), want %d", col, got, err, n)
		}
	}
}

// TestRequiredFieldColumnsOnTablesWithRows: a required field is NOT NULL as upstream's migration
// makes it, on an empty table and, with a static default (which existing rows take), on one with
// rows; where upstream's migration would fail on rows (no default to give them; a unique field's
// default shared by two rows) the column is added nullable and start-up goes on.
func TestRequiredFieldColumnsOnTablesWithRows(t *testing.T) {
	t.Parallel()
	fields := additionalFields{
		{Key: "tier", Column: "tier", Type: "string", Required: true, Default: json.RawMessage(`"basic"`)},
		{Key: "seats", Column: "seats", Type: "number", Required: true, Default: json.RawMessage(`1`)},
		{Key: "company", Column: "company", Type: "string", Required: true},
		{Key: "joined", Column: "joined", Type: "date", Required: true, Default: json.RawMessage(`"2020-01-01T00:00:00.000Z"`)},
		{Key: "code", Column: "code", Type: "string", Required: true, Unique: true, Default: json.RawMessage(`"none"`)},
		{Key: "ref", Column: "ref", Type: "string", Unique: true, Default: json.RawMessage(`"r"`)},
		{Key: "team", Column: "team", Type: "string", Index: true},
	}
	for _, tc := range []struct {
		rows int
		want map[string]string // column: is_nullable and default
	}{
		{0, map[string]string{"tier": "NO 'basic'::text", "seats": "NO 1", "company": "NO ", "joined": "NO ", "code": "NO 'none'::text", "ref": "YES ", "team": "YES "}},
		{1, map[string]string{"tier": "NO 'basic'::text", "seats": "NO 1", "company": "YES ", "joined": "YES ", "code": "NO 'none'::text", "ref": "YES "}},
		{2, map[string]string{"tier": "NO 'basic'::text", "seats": "NO 1", "company": "YES ", "joined": "YES ", "code": "YES ", "ref": "YES "}},
	} {
		t.Run(fmt.Sprintf("%d rows", tc.rows), func(t *testing.T) {
			t.Parallel()
			db, _ := newTestDB(t)
			ctx := context.Background()
			for i := range tc.rows {
				if _, err := db.Exec(ctx, `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt") VALUES ($1, 'n', $1 || '@example.com', false, now(), now())`, fmt.Sprint("u", i)); err != nil {
					t.Fatal(err)
				}
			}
			cfg := config{Fields: fieldsConfig{User: fields}}
			for range 2 {
				if err := applyFieldColumns(ctx, db, cfg); err != nil {
					t.Fatal(err)
				}
			}
			for col, want := range tc.want {
				var got string
				if err := db.QueryRow(ctx, `SELECT is_nullable || ' ' || COALESCE(column_default, '') FROM information_schema.columns WHERE table_name = 'user' AND column_name = $1`, col).Scan(&got); err != nil || got != want {
					t.Errorf("column %s: %q (%v), want %q", col, got, err, want)
				}
			}
			if tc.rows > 0 {
				var tier string
				var seats int
				if err := db.QueryRow(ctx, `SELECT tier, seats FROM "user" WHERE id = 'u0'`).Scan(&tier, &seats); err != nil || tier != "basic" || seats != 1 {
					t.Errorf("an existing row holds %q, %d (%v), want the defaults", tier, seats, err)
				}
			}
			var idx int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'user' AND indexname IN ('user_team_idx', 'user_code_uidx', 'user_ref_uidx')`).Scan(&idx); err != nil || idx != 3 {
				t.Errorf("%d of the three indexes (%v)", idx, err)
			}
		})
	}
}

// TestUserCreatedWithoutARequiredFieldIsRefused: a route that creates users without input (a
// magic link for a new address) on a configuration with a required field without default gets
// upstream's FAILED_TO_CREATE_USER from the NOT NULL column, never a 500, and stores no user.
func TestUserCreatedWithoutARequiredFieldIsRefused(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, exampleConfig(t), func(c *config) {
		c.Fields.User = append(c.Fields.User, fieldSpec{Key: "company", Column: "company", Type: "string", Required: true, Input: true, Returned: true})
	})
	link := magicLink(t, ts, smtpd, "new@example.com", map[string]any{"name": "New"})
	ts.client(t).follow(link).wantError(t, 422, "FAILED_TO_CREATE_USER")
	if n := ts.rowCount(t, "user"); n != 0 {
		t.Errorf("%d users stored", n)
	}
}

// newFieldsServer is a test server with the example's fields and username plugin.
func newFieldsServer(t testing.TB, opts ...func(*config)) *testServer {
	t.Helper()
	return newTestServer(t, append([]func(*config){exampleConfig(t)}, opts...)...)
}

func signUpWith(email string, extra map[string]any) map[string]any {
	body := map[string]any{"email": email, "password": "password123", "name": "Field User"}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// TestAdditionalFieldsRoundTripEveryType: values of every type given at sign-up are stored and
// answered as upstream answers them (dates as toISOString, arrays as arrays, defaults filled in,
// returned: false left out), in sign-up, get-session from Postgres and from the cookie cache,
// list-sessions, update-session and the admin's list-users; update-user changes them.
func TestAdditionalFieldsRoundTripEveryType(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t, func(c *config) { c.CookieCacheMaxAge = 300 })
	c := ts.client(t)
	resp := c.post("/api/auth/sign-up/email", signUpWith("types@example.com", map[string]any{
		"nickname": "Ty", "age": 42, "newsletter": true, "birthday": "1990-05-17T08:30:00.000Z",
		"tags": []string{"a", "b"}, "scores": []float64{1.5, 2}, "internalNote": "secret", "handle": "ty",
	})).wantStatus(t, http.StatusOK)
	wantUser := map[string]any{"nickname": "Ty", "plan": "free", "age": 42.0, "newsletter": true,
		"birthday": "1990-05-17T08:30:00.000Z", "tags": []any{"a", "b"}, "scores": []any{1.5, 2.0},
		"handle": "ty", "locale": "en", "username": nil, "displayUsername": nil}
	checkFields := func(where string, got map[string]any, want map[string]any) {
		t.Helper()
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: %s = %#v, want %#v", where, k, got[k], v)
			}
		}
		if _, ok := got["internalNote"]; ok {
			t.Errorf("%s answers internalNote (returned: false)", where)
		}
	}
	u := resp.object(t)["user"].(map[string]any)
	checkFields("sign-up", u, wantUser)
	if note := ts.userField(t, u["id"].(string), `"internalNote"`); note != "secret" {
		t.Errorf("internalNote stored %v", note)
	}
	// The user's keys end with the plugins' and then the additional fields, in configured order.
	if !strings.Contains(string(resp.Body), `"banExpires":null,"username":null,"displayUsername":null,"nickname":"Ty","plan":"free"`) {
		t.Errorf("key order: %s", resp.Body)
	}
	wantSession := map[string]any{"device": nil, "theme": "light"}
	for _, h := range []string{"", "true"} { // from the cookie cache, then from Postgres
		var got struct{ User, Session map[string]any }
		c.get("/api/auth/get-session?disableCookieCache="+h).wantStatus(t, 200).decode(t, &got)
		checkFields("get-session cache="+h, got.User, wantUser)
		checkFields("get-session cache="+h, got.Session, wantSession)
	}
	var upd struct{ Session map[string]any }
	c.post("/api/auth/update-session", map[string]any{"device": "phone"}).wantStatus(t, 200).decode(t, &upd)
	checkFields("update-session", upd.Session, map[string]any{"device": "phone", "theme": "light"})
	var sessions []map[string]any
	c.get("/api/auth/list-sessions").wantStatus(t, 200).decode(t, &sessions)
	checkFields("list-sessions", sessions[0], map[string]any{"device": "phone", "theme": "light"})

	c.post("/api/auth/update-user", map[string]any{"age": 43, "tags": []string{}, "nickname": nil}).wantStatus(t, 200)
	wantUser["age"], wantUser["tags"], wantUser["nickname"] = 43.0, []any{}, nil
	var got struct{ User map[string]any }
	c.get("/api/auth/get-session").wantStatus(t, 200).decode(t, &got) // the cookie cache update-user reset
	checkFields("after update-user", got.User, wantUser)

	ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, u["id"])
	var list struct{ Users []map[string]any }
	c.get("/api/auth/admin/list-users").wantStatus(t, 200).decode(t, &list)
	checkFields("admin list-users", list.Users[0], wantUser)
}

// TestAdditionalFieldsInputRules: upstream's parseInputData rules at sign-up and update-user:
// a required field without default is MISSING_FIELD, a server-only field sent truthy is
// FIELD_NOT_ALLOWED (falsy is ignored; on create its default wins), and no user is stored after
// any refusal.
func TestAdditionalFieldsInputRules(t *testing.T) {
	t.Parallel()
	required := additionalFields{
		{Key: "company", Column: "company", Type: "string", Required: true, Input: true, Returned: true},
		{Key: "badge", Column: "badge", Type: "boolean", Required: false, Input: false, Returned: true},
	}
	ts := newFieldsServer(t, func(c *config) { c.Fields.User = append(c.Fields.User, required...) })
	c := ts.client(t)
	c.post("/api/auth/sign-up/email", signUpWith("missing@example.com", nil)).wantError(t, 400, "MISSING_FIELD")
	c.post("/api/auth/sign-up/email", signUpWith("badge@example.com", map[string]any{"company": "Acme", "badge": true})).wantError(t, 400, "FIELD_NOT_ALLOWED")
	if n := ts.rowCount(t, "user"); n != 0 {
		t.Fatalf("%d users stored after refusals", n)
	}
	// plan has a default: on create the default wins over any value sent; badge sent falsy is
	// ignored.
	u := c.post("/api/auth/sign-up/email", signUpWith("ok@example.com", map[string]any{"company": "Acme", "plan": "pro", "badge": false})).wantStatus(t, 200).object(t)["user"].(map[string]any)
	if u["plan"] != "free" || u["company"] != "Acme" || u["badge"] != nil {
		t.Errorf("user = %v", u)
	}
	c.post("/api/auth/update-user", map[string]any{"plan": "pro"}).wantError(t, 400, "FIELD_NOT_ALLOWED")
	c.post("/api/auth/update-user", map[string]any{"plan": false}).wantError(t, 400, "") // nothing left to update
	c.post("/api/auth/update-user", map[string]any{"company": "Other"}).wantStatus(t, 200)
	if got := ts.userField(t, u["id"].(string), "company"); got != "Other" {
		t.Errorf("company = %v", got)
	}
}

// TestAdditionalFieldsRefuseWrongTypes: a value not of its field's type, out of the column's range
// or over the bounds is 400 VALIDATION_ERROR, at sign-up and update-user, never a 500 from
// Postgres (deviation additional-field-types).
func TestAdditionalFieldsRefuseWrongTypes(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t)
	c := ts.client(t)
	c.signUp("typed@example.com", "password123", "Typed")
	for name, extra := range map[string]map[string]any{
		"string as number":   {"nickname": 5},
		"number as string":   {"age": "42"},
		"fraction":           {"age": 1.5},
		"beyond integer":     {"age": 1 << 40},
		"boolean as string":  {"newsletter": "yes"},
		"bad date":           {"birthday": "yesterday"},
		"date as number":     {"birthday": 1700000000000},
		"year zero":          {"birthday": "0000-06-15T00:00:00.000Z"}, // would be answered as 0001
		"year past 9999":     {"birthday": "9999-12-31T23:30:00-01:00"},
		"array as string":    {"tags": "a,b"},
		"number in string[]": {"tags": []any{"a", 1}},
		"string in number[]": {"scores": []any{1, "2"}},
		"too long":           {"nickname": strings.Repeat("x", maxFieldChars+1)},
		"too many items":     {"tags": make([]string, maxFieldItems+1)},
		"null for required":  {"locale": nil},
		"object":             {"nickname": map[string]any{"a": 1}},
	} {
		t.Run(name, func(t *testing.T) {
			c.post("/api/auth/update-user", extra).wantError(t, 400, "VALIDATION_ERROR")
			ts.client(t).post("/api/auth/sign-up/email", signUpWith("wrong@example.com", extra)).wantError(t, 400, "VALIDATION_ERROR")
		})
	}
	if n := ts.rowCount(t, "user"); n != 1 {
		t.Errorf("%d users, want only the first", n)
	}
}

// TestUniqueFieldConflictIsUpstreamsError: a unique field's value taken by another user is
// upstream's 422 FAILED_TO_CREATE_USER at sign-up (also for concurrent sign-ups: one wins) and
// 422 FAILED_TO_UPDATE_USER at update-user, not a 500.
func TestUniqueFieldConflictIsUpstreamsError(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t)
	first := ts.client(t)
	first.post("/api/auth/sign-up/email", signUpWith("first@example.com", map[string]any{"handle": "taken"})).wantStatus(t, 200)
	ts.client(t).post("/api/auth/sign-up/email", signUpWith("second@example.com", map[string]any{"handle": "taken"})).wantError(t, 422, "FAILED_TO_CREATE_USER")
	other := ts.client(t)
	other.signUp("third@example.com", "password123", "Third")
	other.post("/api/auth/update-user", map[string]any{"handle": "taken"}).wantError(t, 422, "FAILED_TO_UPDATE_USER")

	statuses := raceSignUps(t, ts, 6, func(i int) map[string]any {
		return signUpWith("race"+string(rune('a'+i))+"@example.com", map[string]any{"handle": "raced"})
	})
	if statuses[200] != 1 || statuses[422] != 5 {
		t.Errorf("concurrent sign-ups with one handle: %v, want one 200 and five 422", statuses)
	}
}

// TestIndexedFieldValuesFitTheirIndex: a unique or indexed field's value too big for its btree
// entry (Postgres refuses one past 2704 bytes) is 400 VALIDATION_ERROR at sign-up and update-user,
// never the index's 500; the longest accepted value, 512 characters of four UTF-8 bytes each
// that do not compress, is stored.
func TestIndexedFieldValuesFitTheirIndex(t *testing.T) {
	t.Parallel()
	labels := fieldSpec{Key: "labels", Column: "labels", Type: "string[]", Input: true, Returned: true, Index: true}
	ts := newFieldsServer(t, func(c *config) { c.Fields.User = append(c.Fields.User, labels) })
	c := ts.client(t)
	c.signUp("indexed@example.com", "password123", "Indexed")
	randomRunes := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = rune(0x10000 + mrand.IntN(0x30000)) // four bytes in UTF-8
		}
		return string(b)
	}
	longLabels := make([]string, 8)
	for i := range longLabels {
		longLabels[i] = randomRunes(100)
	}
	for name, extra := range map[string]map[string]any{
		"unique string": {"handle": randomRunes(maxIndexedFieldChars + 1)},
		"indexed array": {"labels": longLabels},
	} {
		t.Run(name, func(t *testing.T) {
			c.post("/api/auth/update-user", extra).wantError(t, 400, "VALIDATION_ERROR")
			ts.client(t).post("/api/auth/sign-up/email", signUpWith("toolong@example.com", extra)).wantError(t, 400, "VALIDATION_ERROR")
		})
	}
	handle := randomRunes(maxIndexedFieldChars)
	c.post("/api/auth/update-user", map[string]any{"handle": handle, "labels": longLabels[:2]}).wantStatus(t, 200)
	var got struct{ User map[string]any }
	c.get("/api/auth/get-session").wantStatus(t, 200).decode(t, &got)
	if got.User["handle"] != handle || len(got.User["labels"].([]any)) != 2 {
		t.Errorf("stored handle %d characters, labels %v", len([]rune(got.User["handle"].(string))), got.User["labels"])
	}
}

// raceSignUps sends n sign-ups at once and counts their statuses.
func raceSignUps(t *testing.T, ts *testServer, n int, body func(i int) map[string]any) map[int]int {
	t.Helper()
	return parallel(n, func(i int) int { return ts.client(t).post("/api/auth/sign-up/email", body(i)).Status })
}

// TestSessionFieldsSurviveSessionRotation: turning two-factor on replaces the session (a new
// token), and the new one keeps the old one's additional fields, as upstream's createSession with
// the old session as override does.
func TestSessionFieldsSurviveSessionRotation(t *testing.T) {
	t.Parallel()
	ts := newFieldsServer(t)
	ts.clock.set(stepStart)
	c := ts.client(t)
	c.signUp("rotate@example.com", "password123", "Rotate")
	c.post("/api/auth/update-session", map[string]any{"device": "phone"}).wantStatus(t, 200)
	var before struct{ Session map[string]any }
	c.get("/api/auth/get-session").wantStatus(t, 200).decode(t, &before)
	var enabled struct {
		TOTPURI string `json:"totpURI"`
	}
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123"}).wantStatus(t, 200).decode(t, &enabled)
	code := rfc6238(keyFromURI(t, enabled.TOTPURI), stepOf(ts.clock.now()))
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": code}).wantStatus(t, 200)
	var after struct{ Session map[string]any }
	c.get("/api/auth/get-session").wantStatus(t, 200).decode(t, &after)
	if after.Session["token"] == before.Session["token"] {
		t.Fatal("the session was not rotated")
	}
	if after.Session["device"] != "phone" || after.Session["theme"] != "light" {
		t.Errorf("rotated session %v lost its fields", after.Session)
	}
}

// TestPickFieldsKeepsTheChosenMembersAsWritten: the scanner that splits a stored row's additional
// fields from its fixed keys answers what a JSON decoder would, for keys with escapes, nested
// objects and arrays, strings holding quotes, braces and commas, whitespace and scalars last.
func TestPickFieldsKeepsTheChosenMembersAsWritten(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`{"id":"1","a":1}`, `{"a":1}`},
		{`{"id":"1"}`, ``},
		{`{}`, ``},
		{` { "a" : [1, {"id": "}"}] , "id" : "x", "b\"c" : "q\"},\\" ,"d":null}`, `{"a":[1, {"id": "}"}],"b\"c":"q\"},\\","d":null}`},
		{`{"a":{"b":{"c":[]}},"e":true,"f":-1.5e3}`, `{"a":{"b":{"c":[]}},"e":true,"f":-1.5e3}`},
		{`{"\u0069d":"escaped id","x":"y"}`, `{"x":"y"}`},
	} {
		got, err := pickFields([]byte(c.in), func(k []byte) bool { return string(k) != "id" })
		if err != nil || string(got) != c.want {
			t.Errorf("pickFields(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
		if c.want == "" {
			continue
		}
		var gotV, wantV any
		if json.Unmarshal(got, &gotV) != nil || json.Unmarshal([]byte(c.want), &wantV) != nil || !reflect.DeepEqual(gotV, wantV) {
			t.Errorf("pickFields(%s) is not the JSON %s", c.in, c.want)
		}
	}
	for _, bad := range []string{`[]`, `{"a":1`, `{"a" 1}`} {
		if _, err := pickFields([]byte(bad), func([]byte) bool { return true }); err == nil {
			t.Errorf("pickFields(%s) answered no error", bad)
		}
	}
}
