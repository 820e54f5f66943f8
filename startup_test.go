package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logLines parses a process's JSON log, one record per line.
func logLines(t *testing.T, p *sidecarProcess) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(p.log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// waitForLog waits until the process logs a record whose message starts with msg, and returns it.
func waitForLog(t *testing.T, p *sidecarProcess, msg string) map[string]any {
	t.Helper()
	for i := 0; ; i++ {
		for _, rec := range logLines(t, p) {
			if m, _ := rec["msg"].(string); strings.HasPrefix(m, msg) {
				return rec
			}
		}
		if i == 300 {
			t.Fatalf("no %q in the log:\n%s", msg, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStartupLogNamesTheDatabaseThenTheSchema: the first lines say which Postgres, database and
// role the server reached (never the password) and how many tables the schema holds, and the
// shutdown line gives its grace as a readable duration.
func TestStartupLogNamesTheDatabaseThenTheSchema(t *testing.T) {
	t.Parallel()
	_, raw := newTestDB(t)
	u := mustParseURL(t, raw)
	u.User = url.UserPassword(u.User.Username(), "pw-never-logged") // trust auth ignores it
	p := launchSidecarProcess(t, u.String())
	p.waitUntilServing(t)

	connected := waitForLog(t, p, "connected to Postgres")
	port, _ := strconv.Atoi(u.Port())
	want := map[string]any{"host": u.Hostname(), "port": float64(port), "database": strings.TrimPrefix(u.Path, "/"), "user": u.User.Username()}
	for k, v := range want {
		if connected[k] != v {
			t.Errorf("connected line: %s = %v, want %v", k, connected[k], v)
		}
	}
	tables := len(regexp.MustCompile(`(?i)create table`).FindAllString(schemaSQL, -1))
	waitForLog(t, p, fmt.Sprintf("schema applied (%d tables)", tables))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if grace := waitForLog(t, p, "shutting down")["grace"]; grace != "45s" {
		t.Errorf("grace logged as %v, want 45s", grace)
	}
	if strings.Contains(p.log.String(), "pw-never-logged") {
		t.Errorf("the log shows the password:\n%s", p.log.String())
	}
}

// TestStartupCreatesAMissingDatabaseInDevelopment: `go run .` against a database that does not
// exist yet creates it (the role may) and serves.
func TestStartupCreatesAMissingDatabaseInDevelopment(t *testing.T) {
	t.Parallel()
	newTestDB(t) // the shared test Postgres is up
	name := "authsidecar_test_" + strings.ToLower(generateID(12))
	t.Cleanup(func() { testPG.admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	p := launchSidecarProcess(t, dbURL(name), "BETTER_AUTH_URL=", "ENV=development")
	p.waitUntilServing(t)
	if rec := waitForLog(t, p, "created database"); rec["database"] != name {
		t.Errorf("created %v, want %s", rec["database"], name)
	}
	waitForLog(t, p, "schema applied")
}

// TestStartupRetriesSayWhyAndWhatToDo: while the database cannot be reached, each retry names
// the target, the reason and the fix.
func TestStartupRetriesSayWhyAndWhatToDo(t *testing.T) {
	t.Parallel()
	newTestDB(t)
	u := *testPG.adminURL
	u.User = url.User("authsidecar_no_such_role")
	p := launchSidecarProcess(t, u.String())
	rec := waitForLog(t, p, "database not ready; retrying in 2s")
	if why, _ := rec["why"].(string); !strings.Contains(why, `"authsidecar_no_such_role"`) {
		t.Errorf("why = %q, want the role named", why)
	}
	if fix, _ := rec["fix"].(string); !strings.Contains(fix, "DATABASE_URL=") {
		t.Errorf("fix = %q, want a DATABASE_URL to set", fix)
	}
	if rec["user"] != "authsidecar_no_such_role" || rec["database"] == nil {
		t.Errorf("retry line does not name the target: %v", rec)
	}
}

// TestStartupExplainsWhatToDo: each way the first connection fails gives one line of why and
// how, and nothing is created where it must not be.
func TestStartupExplainsWhatToDo(t *testing.T) {
	t.Parallel()
	newTestDB(t)
	ctx := context.Background()
	role := "authsidecar_nocreate_" + strings.ToLower(generateID(8))
	if _, err := testPG.admin.Exec(ctx, `CREATE ROLE `+role+` LOGIN NOCREATEDB`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testPG.admin.Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	missing := "authsidecar_missing_" + strings.ToLower(generateID(8))
	as := func(user, database string) string {
		u := *testPG.adminURL
		u.User, u.Path = url.User(user), "/"+database
		return u.String()
	}
	tests := []struct {
		name       string
		url        string
		production bool
		why, fix   string
	}{
		{"a role without CREATEDB", as(role, missing), false, "may not create it", "createdb -h"},
		{"production never creates", as(testPG.adminURL.User.Username(), missing), true, "does not exist", "production never creates it"},
		{"an unknown role", as("authsidecar_no_such_role", missing), false, "authsidecar_no_such_role", "DATABASE_URL=postgres://<role>@"},
		{"nothing listening", "postgres://postgres@" + freePort(t) + "/x", false, "no Postgres answers at 127.0.0.1", "start Postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := openDB(ctx, tt.url, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = prepareDatabase(ctx, config{Production: tt.production}, db)
			var p *startupProblem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want a startup problem", err)
			}
			if !strings.Contains(p.why, tt.why) || !strings.Contains(p.fix, tt.fix) {
				t.Errorf("why %q, fix %q; want %q and %q", p.why, p.fix, tt.why, tt.fix)
			}
		})
	}
	var exists bool
	if err := testPG.admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, missing).Scan(&exists); err != nil || exists {
		t.Errorf("database %s created (%v) where it must not be", missing, err)
	}
}
