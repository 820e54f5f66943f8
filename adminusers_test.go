package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// listUsersShape is one kind of list-users request over the seeded 100 000 users, with the index
// its page must be read from ("" where the planner may choose).
type listUsersShape struct {
	name, query, index string
	trigram            bool // served by a pg_trgm index, which a database may lack
}

var listUsersShapes = []listUsersShape{
	{"sorted-page", "sortBy=createdAt&sortDirection=desc&limit=100", "user_createdAt_idx", false},
	{"deep-page", "sortBy=createdAt&limit=100&offset=50000", "user_createdAt_idx", false},
	{"default-deep-page", "limit=100&offset=90000", "user_pkey", false},
	{"email-deep-page", "sortBy=email&sortDirection=desc&limit=100&offset=90000", "user_email_key", false},
	{"search-contains", "searchValue=er4242&searchOperator=contains&sortBy=createdAt&limit=100", "user_email_trgm_idx", true},
	{"search-starts-with", "searchValue=user777&searchOperator=starts_with&sortBy=email&limit=100", "", false},
	{"search-ends-with", "searchValue=99@example.com&searchOperator=ends_with&limit=100", "user_email_reverse_idx", false},
	{"search-name", "searchValue=User%2012345&searchField=name&sortBy=name&limit=100", "user_name_trgm_idx", true},
	{"filter-banned", "filterField=banned&filterValue=true&sortBy=createdAt&limit=100", "user_banned_idx", false},
	{"filter-role", "filterField=role&filterValue=admin&sortBy=createdAt&limit=100", "user_role_idx", false},
}

// seedListUsers adds 100 000 users to ts's database (one in 50 banned, one in 1 000 an admin),
// then vacuums and analyzes, as a database that has been live for a while is.
func seedListUsers(tb testing.TB, ts *testServer) {
	tb.Helper()
	for _, stmt := range []string{
		`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned)
			SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com', i % 3 = 0, now() - i * interval '1 minute', now(),
				CASE WHEN i % 1000 = 0 THEN 'admin' ELSE 'user' END, i % 50 = 0
			FROM generate_series(1, 100000) i`,
		`VACUUM ANALYZE`, `CHECKPOINT`,
	} {
		if _, err := ts.db.Exec(context.Background(), stmt); err != nil {
			tb.Fatal(err)
		}
	}
}

// hasTrigram reports whether the database has pg_trgm (schema.sql goes without it when it
// cannot be created).
func hasTrigram(tb testing.TB, ts *testServer) bool {
	var ok bool
	if err := ts.db.QueryRow(context.Background(), `SELECT exists (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')`).Scan(&ok); err != nil {
		tb.Fatal(err)
	}
	return ok
}

// explainListUsers runs EXPLAIN with options (e.g. "ANALYZE, BUFFERS", or "" for the plan only)
// on the page and the count of query, planned as listUsers plans them.
func explainListUsers(tb testing.TB, ts *testServer, query, options string) (page, count string) {
	tb.Helper()
	q, _ := url.ParseQuery(query)
	lq, err := parseListUsersQuery(q)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	tx, err := ts.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	if _, err := tx.Exec(ctx, listUsersPlanning); err != nil {
		tb.Fatal(err)
	}
	explain := func(sql string, args []any) string {
		prefix := "EXPLAIN "
		if options != "" {
			prefix = "EXPLAIN (" + options + ") "
		}
		rows, err := tx.Query(ctx, prefix+sql, args...)
		if err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
		return strings.Join(lines, "\n")
	}
	return explain(lq.pageSQL(ts.userColumns)), explain(lq.countSQL())
}

// wantListUsersPlans fails when a shape's page is not read from its index, or its page or
// count reads the whole user table.
func wantListUsersPlans(tb testing.TB, ts *testServer) {
	tb.Helper()
	trigram := hasTrigram(tb, ts)
	for _, shape := range listUsersShapes {
		if shape.trigram && !trigram {
			tb.Logf("%s: pg_trgm is not installed; this search reads the table", shape.name)
			continue
		}
		page, count := explainListUsers(tb, ts, shape.query, "")
		for _, plan := range []string{page, count} {
			if strings.Contains(plan, `Seq Scan on "user"`) || strings.Contains(plan, `Seq Scan on user`) {
				tb.Errorf("%s reads the whole user table:\n%s", shape.name, plan)
			}
		}
		if shape.index == "" {
			continue
		}
		if !regexp.MustCompile(`(using|on) "?` + shape.index + `"?( |$)`).MatchString(page) {
			tb.Errorf("%s: the page is not read from %s:\n%s", shape.name, shape.index, page)
		}
	}
}

// TestListUsersPlansUseIndexes seeds 100 000 users and checks that every kind of list-users
// request is answered from an index, that a deep page skips index entries without reading rows,
// that the unfiltered total is not a count of the table, and that each answer (users and
// total) is the one a plain query of the table gives.
func TestListUsersPlansUseIndexes(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	seedListUsers(t, ts)
	wantListUsersPlans(t, ts)
	if page, _ := explainListUsers(t, ts, "sortBy=createdAt&limit=100&offset=50000", ""); !strings.Contains(page, `Index Only Scan using "user_createdAt_idx"`) {
		t.Errorf("a deep page reads the rows it skips:\n%s", page)
	}
	if _, count := explainListUsers(t, ts, "limit=100", ""); !strings.Contains(count, `on "userCount"`) {
		t.Errorf("the unfiltered total counts the table:\n%s", count)
	}
	for _, shape := range listUsersShapes {
		wantPlainAnswer(t, ts, admin, shape.query)
	}
}

// wantPlainAnswer compares list-users' answer to query with a plain query of the table: the
// same users in the same order, and count(*) as total.
func wantPlainAnswer(t *testing.T, ts *testServer, admin *testClient, query string) {
	t.Helper()
	var got struct {
		Users []struct{ ID string }
		Total int
	}
	admin.get("/api/auth/admin/list-users?"+query).wantStatus(t, http.StatusOK).decode(t, &got)
	q, _ := url.ParseQuery(query)
	lq, err := parseListUsersQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := len(lq.args)
	rows, err := ts.db.Query(ctx, `SELECT u.id FROM "user" u`+lq.whereSQL()+` ORDER BY `+lq.orderBy+` LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(slices.Clone(lq.args), lq.limit, lq.offset)...)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var total int
	if err := ts.db.QueryRow(ctx, `SELECT count(*) FROM "user" u`+lq.whereSQL(), lq.args...).Scan(&total); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(got.Users))
	for i, u := range got.Users {
		ids[i] = u.ID
	}
	if !slices.Equal(ids, want) || got.Total != total {
		t.Errorf("%s: %d users (total %d), want %d (total %d); first %v, want %v", query, len(ids), got.Total, len(want), total, ids[:min(3, len(ids))], want[:min(3, len(want))])
	}
}

// TestUserCountStaysExact changes users every way the count sees (a statement inserting many,
// deletes, a delete-user cascade through the API, a sweep folding the deltas, a truncate) and
// checks after each that list-users' unfiltered total is count(*).
func TestUserCountStaysExact(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	want := func(step string) {
		t.Helper()
		var got struct{ Total int }
		admin.get("/api/auth/admin/list-users?limit=1").wantStatus(t, http.StatusOK).decode(t, &got)
		if n := ts.rowCount(t, "user"); got.Total != n {
			t.Fatalf("after %s: total %d, count(*) %d", step, got.Total, n)
		}
	}
	want("sign-up")
	ts.exec(t, `INSERT INTO "user" (id, name, email, "emailVerified") SELECT 'u' || i, 'U', 'u' || i || '@example.com', false FROM generate_series(1, 500) i`)
	want("a bulk insert")
	ts.exec(t, `DELETE FROM "user" WHERE id IN ('u1', 'u2', 'u3')`)
	want("a delete")
	_, id := ts.newUser(t, "gone@example.com")
	admin.post("/api/auth/admin/remove-user", map[string]any{"userId": id}).wantStatus(t, http.StatusOK)
	want("remove-user")
	ts.server.sweep(context.Background())
	if n := ts.rowCount(t, "userCount"); n != 1 {
		t.Fatalf("%d userCount rows after the sweep, want 1", n)
	}
	want("the sweep")
	ts.server.sweep(context.Background())
	want("a second sweep")
}

// listUsersRequest builds list-users' request as admin (cookie) for the handler.
func listUsersRequest(query, cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/api/auth/admin/list-users?"+query, nil)
	req.Header.Set("Cookie", cookie)
	return req
}

// planFigures reads Postgres' own time and the buffers of an EXPLAIN (ANALYZE, BUFFERS) plan:
// the execution time in ms and the shared buffers the top node touched (hit + read).
func planFigures(plan string) (ms float64, buffers int) {
	if m := regexp.MustCompile(`Execution Time: ([0-9.]+) ms`).FindStringSubmatch(plan); m != nil {
		ms, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := regexp.MustCompile(`Buffers: shared((?: hit=\d+)?(?: read=\d+)?)`).FindStringSubmatch(plan); m != nil {
		for _, f := range regexp.MustCompile(`\d+`).FindAllString(m[1], -1) {
			n, _ := strconv.Atoi(f)
			buffers += n
		}
	}
	return ms, buffers
}
