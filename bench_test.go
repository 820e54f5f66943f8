package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkGetSession measures the hot path, GET /get-session, reading Postgres (one indexed
// JOIN) and answering from the session_data cookie cache (no query): over real HTTP ("http/…"),
// and calling the handler directly ("handler/…"), which leaves out the client and the network
// so that the difference the cache makes shows.
func BenchmarkGetSession(b *testing.B) {
	for _, bc := range []struct {
		name   string
		maxAge int
	}{{"postgres", 0}, {"cookie-cache", 300}} {
		ts := newTestServer(b, func(c *config) { c.CookieCacheMaxAge = bc.maxAge })
		cookie := benchSession(b, ts)
		if (bc.maxAge > 0) != strings.Contains(cookie, "session_data") {
			b.Fatalf("cookies %q", cookie)
		}

		b.Run("http/"+bc.name, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/auth/get-session", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Cookie", cookie)
			client := &http.Client{}
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || len(body) < 100 {
					b.Fatalf("%d %s", res.StatusCode, body)
				}
			}
		})
		b.Run("handler/"+bc.name, func(b *testing.B) { benchGetSessionHandler(b, ts, cookie) })
	}
}

// BenchmarkGetSessionMetrics measures get-session's handler with metrics off (METRICS_ADDR unset)
// and on, on both paths; the issue allows metrics 5% of throughput (BENCHMARKS.md, "Metrics").
func BenchmarkGetSessionMetrics(b *testing.B) {
	for _, path := range []struct {
		name   string
		maxAge int
	}{{"cookie-cache", 300}, {"postgres", 0}} {
		for _, metricsAddr := range []string{"", "127.0.0.1:0"} {
			ts := newTestServer(b, func(c *config) { c.CookieCacheMaxAge = path.maxAge; c.Ops.MetricsAddr = metricsAddr })
			cookie := benchSession(b, ts)
			name := path.name + "/metrics=off"
			if metricsAddr != "" {
				name = path.name + "/metrics=on"
			}
			b.Run(name, func(b *testing.B) { benchGetSessionHandler(b, ts, cookie) })
		}
	}
}

// BenchmarkMetricsPerRequest is the per-request work that depends on the metrics for one
// get-session answered from the cookie cache: the end of the request (its debug log line and,
// with metrics on, the outcome checks, request counter and histogram) and the cookie-cache
// counter. On a loaded machine it is steadier than the difference of two handler runs, and under
// callgrind its on/off difference is the metrics' cost in instructions (BENCHMARKS.md).
func BenchmarkMetricsPerRequest(b *testing.B) {
	for _, metricsAddr := range []string{"", "127.0.0.1:0"} {
		ts := newTestServer(b, func(c *config) { c.Ops.MetricsAddr = metricsAddr })
		name := "metrics=off"
		if metricsAddr != "" {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/auth/get-session", nil)
			req.Pattern = "GET /api/auth/get-session"
			info := &requestInfo{id: "bench"}
			w := httptest.NewRecorder()
			start := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				ts.metrics.cookieCacheLookup(true)
				ts.endRequest(w, req, info, http.StatusOK, start)
			}
		})
	}
}

// BenchmarkGetSessionScale measures get-session's Postgres path with only the caller's session
// in the table, and with 1 000 000 sessions of 100 000 users: the lookup by token is an index
// probe, so the two should be within noise (the issue allows 20%). Seeding takes a minute.
func BenchmarkGetSessionScale(b *testing.B) {
	for _, size := range []struct{ users, sessions int }{{0, 0}, {100_000, 1_000_000}} {
		b.Run(fmt.Sprintf("sessions=%d", size.sessions), func(b *testing.B) {
			ts := newTestServer(b)
			cookie := benchSession(b, ts)
			ctx := context.Background()
			if size.sessions > 0 {
				if _, err := ts.db.Exec(ctx, `INSERT INTO "user" (id, name, email, "emailVerified")
					SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com', false
					FROM generate_series(1, $1::int) i`, size.users); err != nil {
					b.Fatalf("seed users: %v", err)
				}
				if _, err := ts.db.Exec(ctx, `INSERT INTO session (id, "expiresAt", token, "updatedAt", "userId")
					SELECT 's' || i, now() + interval '7 days', md5(i::text) || md5('t' || i), now(), 'u' || (1 + i % $2::int)
					FROM generate_series(1, $1::int) i`, size.sessions, size.users); err != nil {
					b.Fatalf("seed sessions: %v", err)
				}
			}
			// Done now rather than by autovacuum during the measurement, which it would slow.
			for _, stmt := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
				if _, err := ts.db.Exec(ctx, stmt); err != nil {
					b.Fatal(err)
				}
			}
			if got := ts.rowCount(b, "session"); got != size.sessions+1 {
				b.Fatalf("%d sessions, want %d", got, size.sessions+1)
			}
			if size.sessions > 0 {
				wantIndexScans(b, ts)
			}
			benchGetSessionHandler(b, ts, cookie)
		})
	}
}

// benchSession signs a user up on ts and returns the Cookie header of the session.
func benchSession(b *testing.B, ts *testServer) string {
	c := ts.client(b)
	c.signUp("bench@example.com", "password123", "Bench")
	return c.cookieHeader()
}

// benchGetSessionHandler calls get-session through the routes, without a client or network.
func benchGetSessionHandler(b *testing.B, ts *testServer, cookie string) {
	h := routes(ts.server)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/auth/get-session", nil)
		req.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bench@example.com") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// wantIndexScans fails when get-session's lookup or a sweep batch would scan the whole session
// table (on a tiny table the planner scans it anyway, so this is for the seeded one).
func wantIndexScans(b *testing.B, ts *testServer) {
	ctx := context.Background()
	for _, q := range []string{
		`SELECT ` + sessionColumns + `, ` + userColumns + ` FROM session s JOIN "user" u ON u.id = s."userId" WHERE s.token = 'x'`,
		strings.Replace(sweepStatements[0], "$1", "now()", 1),
	} {
		var plan strings.Builder
		rows, err := ts.db.Query(ctx, "EXPLAIN "+q)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if rows.Err() != nil || strings.Contains(plan.String(), "Seq Scan on session") {
			b.Fatalf("%s\n%s%v", q, plan.String(), rows.Err())
		}
	}
}

// BenchmarkListUsers measures admin list-users over 100 000 users: a sorted first page, a deep
// page, each search operator and a filter, each with its total, through the handler. It reports
// the p99 of the iterations (the issue asks ≤ 50 ms) and fails when a plan reads the whole user
// table where an index serves. Seeding takes a few seconds.
func BenchmarkListUsers(b *testing.B) {
	ts := newTestServer(b)
	c := ts.client(b)
	c.signUp("bench-admin@example.com", "password123", "Bench Admin")
	ctx := context.Background()
	for _, stmt := range []string{
		`UPDATE "user" SET role = 'admin'`,
		`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned)
			SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com', i % 3 = 0, now() - i * interval '1 minute', now(), 'user', i % 50 = 0
			FROM generate_series(1, 100000) i`,
		`VACUUM ANALYZE`, `CHECKPOINT`,
	} {
		if _, err := ts.db.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	cookie := c.cookieHeader()
	h := routes(ts.server)
	for _, bc := range []struct{ name, query string }{
		{"sorted-page", "sortBy=createdAt&sortDirection=desc&limit=100"},
		{"deep-page", "sortBy=createdAt&limit=100&offset=50000"},
		{"search-contains", "searchValue=er4242&searchOperator=contains&sortBy=createdAt&limit=100"},
		{"search-starts-with", "searchValue=user777&searchOperator=starts_with&sortBy=email&limit=100"},
		{"search-ends-with", "searchValue=99@example.com&searchOperator=ends_with&limit=100"},
		{"search-name", "searchValue=User%2012345&searchField=name&sortBy=name&limit=100"},
		{"filter-banned", "filterField=banned&filterValue=true&sortBy=createdAt&limit=100"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var times []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				req := httptest.NewRequest(http.MethodGet, "/api/auth/admin/list-users?"+bc.query, nil)
				req.Header.Set("Cookie", cookie)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"total":`) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
	wantListUsersPlans(b, ts)
}

// wantListUsersPlans fails when list-users' page or count for a sorted page or a search would
// read the whole user table rather than an index.
func wantListUsersPlans(b *testing.B, ts *testServer) {
	for _, query := range []string{
		"sortBy=createdAt&sortDirection=desc&limit=100",
		"searchValue=er4242&searchOperator=contains&sortBy=createdAt",
		"searchValue=user777&searchOperator=starts_with&sortBy=email",
		"searchValue=User%2012345&searchField=name&sortBy=name",
	} {
		q, _ := url.ParseQuery(query)
		lq, err := parseListUsersQuery(q)
		if err != nil {
			b.Fatal(err)
		}
		n := len(lq.args)
		page := `SELECT ` + userColumns + ` FROM "user" u` + lq.whereSQL() + ` ORDER BY ` + lq.orderBy + fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
		sqls := []string{page}
		if len(lq.where) > 0 { // a count of every user reads them all, index or not
			sqls = append(sqls, `SELECT count(*) FROM "user" u`+lq.whereSQL())
		}
		for _, sql := range sqls {
			args := lq.args
			if sql == page {
				args = append(slices.Clone(args), lq.limit, lq.offset)
			}
			plan := explain(b, ts, sql, args...)
			if strings.Contains(plan, `Seq Scan on "user"`) || strings.Contains(plan, `Seq Scan on user`) {
				b.Fatalf("%s reads the whole user table:\n%s", query, plan)
			}
		}
	}
}

func explain(b *testing.B, ts *testServer, sql string, args ...any) string {
	rows, err := ts.db.Query(context.Background(), "EXPLAIN "+sql, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	return plan.String()
}
