package main

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// list-users (upstream: packages/better-auth/src/plugins/admin/routes.ts, listUsers): search,
// filter, sort and page the user table. Field names come from the allow-list below and never
// reach SQL as given; values are parameters. Upstream answers an unknown sort or filter field
// with an empty list (its query fails and the failure is swallowed); we answer 400, as for any
// other malformed input (COMPATIBILITY.md, admin-list-users-input). Searches are upstream's LIKE
// patterns: its Kysely adapter passes the value unescaped, so % and _ are wildcards there and here.
//
// Over 100 000 users every answer comes from an index (schema.sql; TestListUsersPlansUseIndexes
// checks the plans, BenchmarkListUsers the time): pages are picked from the ordering index before
// rows are read, so a deep offset skips index entries, not rows; total is counted only when the
// page does not tell it, and an unfiltered total is the sum of the "userCount" deltas that the
// schema's triggers keep, not a count of the table.

// maxListUsersLimit caps one page (upstream has no cap): a page is encoded in one response.
const maxListUsersLimit = 1000

// defaultListUsersLimit is upstream's findMany default.
const defaultListUsersLimit = 100

// userField is a user column list-users may search, filter or sort by.
type userField struct {
	column string
	kind   string // text, bool or date: how a query value is read
}

var listUserFields = map[string]userField{
	"id":               {"u.id", "text"},
	"name":             {"u.name", "text"},
	"email":            {"u.email", "text"},
	"emailVerified":    {`u."emailVerified"`, "bool"},
	"image":            {"u.image", "text"},
	"createdAt":        {`u."createdAt"`, "date"},
	"updatedAt":        {`u."updatedAt"`, "date"},
	"twoFactorEnabled": {`u."twoFactorEnabled"`, "bool"},
	"role":             {"u.role", "text"},
	"banned":           {"u.banned", "bool"},
	"banReason":        {`u."banReason"`, "text"},
	"banExpires":       {`u."banExpires"`, "date"},
}

// listUsersQuery is a parsed list-users request: a WHERE clause with its arguments, the order
// and the page.
type listUsersQuery struct {
	where   []string
	args    []any
	orderBy string
	// pageKey is the unique column the page's rows are picked by (pageSQL): the sort column
	// when it is unique, so that its index alone orders and picks them.
	pageKey       string
	limit, offset int
	// echoed back as upstream does: Number(x) || undefined
	limitOut, offsetOut *int
}

// parseListUsersQuery reads the query string into SQL parts, or a 400 naming the bad parameter.
func parseListUsersQuery(q url.Values) (*listUsersQuery, error) {
	lq := &listUsersQuery{limit: defaultListUsersLimit, orderBy: "u.id", pageKey: "id"}
	for _, name := range []string{"searchValue", "searchField", "searchOperator", "limit", "offset", "sortBy", "sortDirection", "filterField", "filterOperator"} {
		if len(q[name]) > 1 {
			return nil, validationError(fmt.Sprintf("[query.%s] Invalid input: expected string, received array", name))
		}
	}
	if err := lq.page(q.Get("limit"), q.Get("offset")); err != nil {
		return nil, err
	}
	if err := lq.search(q.Get("searchValue"), q.Get("searchField"), q.Get("searchOperator")); err != nil {
		return nil, err
	}
	if values, ok := q["filterValue"]; ok {
		if err := lq.filter(q.Get("filterField"), q.Get("filterOperator"), values); err != nil {
			return nil, err
		}
	}
	if err := lq.sort(q.Get("sortBy"), q.Get("sortDirection")); err != nil {
		return nil, err
	}
	return lq, nil
}

func (lq *listUsersQuery) page(limit, offset string) error {
	l, err := pageNumber("limit", limit, maxListUsersLimit)
	if err != nil {
		return err
	}
	o, err := pageNumber("offset", offset, math.MaxInt32)
	if err != nil {
		return err
	}
	if l > 0 {
		lq.limit, lq.limitOut = l, &l
	}
	if o > 0 {
		lq.offset, lq.offsetOut = o, &o
	}
	return nil
}

// pageNumber reads limit or offset: absent, empty, 0 or not a number mean "not given", as
// upstream's Number(x) || undefined; negative, fractional or past max is 400.
func pageNumber(name, raw string, max int) (int, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if raw == "" || err != nil || math.IsNaN(f) || f == 0 {
		return 0, nil
	}
	if f < 0 || f != math.Trunc(f) || f > float64(max) {
		return 0, validationError(fmt.Sprintf("[query.%s] Invalid input: expected a whole number from 0 to %d", name, max))
	}
	return int(f), nil
}

func (lq *listUsersQuery) search(value, field, operator string) error {
	if field != "" && field != "email" && field != "name" {
		return validationError(`[query.searchField] Invalid option: expected one of "email"|"name"`)
	}
	if operator != "" && operator != "contains" && operator != "starts_with" && operator != "ends_with" {
		return validationError(`[query.searchOperator] Invalid option: expected one of "contains"|"starts_with"|"ends_with"`)
	}
	if value == "" {
		return nil
	}
	if field == "" {
		field = "email"
	}
	if operator == "" {
		operator = "contains"
	}
	return lq.add(listUserFields[field], operator, []string{value})
}

func (lq *listUsersQuery) filter(field, operator string, values []string) error {
	if field == "" {
		field = "email"
	}
	f, ok := listUserFields[field]
	if !ok {
		return validationError(fmt.Sprintf("[query.filterField] Invalid input: %q is not a user field", field))
	}
	if operator == "" {
		operator = "eq"
	}
	if !slices.Contains(whereOperators, operator) {
		return validationError(`[query.filterOperator] Invalid option: expected one of "` + strings.Join(whereOperators, `"|"`) + `"`)
	}
	return lq.add(f, operator, values)
}

// sqlComparisons maps upstream's comparison operators to SQL.
var sqlComparisons = map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// add appends one condition. in and not_in take every value given (filterValue repeated); the
// others take exactly one.
func (lq *listUsersQuery) add(f userField, operator string, values []string) error {
	args := make([]any, len(values))
	for i, v := range values {
		a, err := fieldValue(f, v)
		if err != nil {
			return err
		}
		args[i] = a
	}
	next := func(v any) string {
		lq.args = append(lq.args, v)
		return "$" + strconv.Itoa(len(lq.args))
	}
	switch op, simple := sqlComparisons[operator]; {
	case operator == "in":
		lq.where = append(lq.where, fmt.Sprintf("%s = ANY(%s)", f.column, next(typedList(f, args))))
	case operator == "not_in":
		lq.where = append(lq.where, fmt.Sprintf("%s <> ALL(%s)", f.column, next(typedList(f, args))))
	case len(values) != 1:
		return validationError("[query.filterValue] Invalid input: expected one value for " + operator)
	case simple:
		lq.where = append(lq.where, fmt.Sprintf("%s %s %s", f.column, op, next(args[0])))
	case f.kind == "text" && (operator == "contains" || operator == "starts_with" || operator == "ends_with"):
		lq.where = append(lq.where, likeCondition(f, operator, values[0], next))
	default:
		return validationError(fmt.Sprintf("[query.filterOperator] Invalid option: %q does not apply to this field", operator))
	}
	return nil
}

// likeCondition is upstream's LIKE for a search operator. An email suffix without wildcards or
// escapes is matched as a prefix of reverse(email), which user_email_reverse_idx answers as a
// range; the two are the same test, and any other pattern is left to LIKE as upstream writes it.
func likeCondition(f userField, operator, value string, param func(any) string) string {
	if operator == "ends_with" && f.column == "u.email" && !strings.ContainsAny(value, `%_\`) {
		return "reverse(u.email) LIKE " + param(reverseRunes(value)+"%")
	}
	pattern := map[string]string{"contains": "%" + value + "%", "starts_with": value + "%", "ends_with": "%" + value}[operator]
	return f.column + " LIKE " + param(pattern)
}

// reverseRunes is Postgres' reverse() for UTF-8 text: the characters in reverse order.
func reverseRunes(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// typedList makes an in / not_in list a Postgres array of the field's type.
func typedList(f userField, values []any) any {
	switch f.kind {
	case "bool":
		return listOf[bool](values)
	case "date":
		return listOf[time.Time](values)
	}
	return listOf[string](values)
}

func listOf[T any](values []any) []T {
	out := make([]T, len(values))
	for i, v := range values {
		out[i] = v.(T)
	}
	return out
}

// fieldValue reads a query value as the field's type, as upstream's adapter coerces it.
func fieldValue(f userField, v string) (any, error) {
	switch f.kind {
	case "bool":
		return v == "true", nil
	case "date":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, validationError("[query.filterValue] Invalid input: expected an ISO date")
		}
		return t, nil
	}
	return v, nil
}

func (lq *listUsersQuery) sort(field, direction string) error {
	if direction != "" && direction != "asc" && direction != "desc" {
		return validationError(`[query.sortDirection] Invalid option: expected one of "asc"|"desc"`)
	}
	if field == "" {
		return nil
	}
	f, ok := listUserFields[field]
	if !ok {
		return validationError(fmt.Sprintf("[query.sortBy] Invalid input: %q is not a user field", field))
	}
	dir := "ASC"
	if direction == "desc" {
		dir = "DESC"
	}
	// id breaks ties, so that pages neither repeat nor skip users with equal values; id and
	// email are unique and need none, which lets their unique indexes order the page alone.
	lq.orderBy = f.column + " " + dir
	if field != "id" && field != "email" {
		lq.orderBy += ", u.id " + dir
	}
	if field == "email" {
		lq.pageKey = "email"
	}
	return nil
}

func (lq *listUsersQuery) whereSQL() string {
	if len(lq.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(lq.where, " AND ")
}

func (s *server) handleAdminListUsers(w http.ResponseWriter, r *http.Request) error {
	lq, err := parseListUsersQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if _, err := s.adminCaller(w, r, perm("user", "list"), errNotAllowedListUsers); err != nil {
		return err
	}
	users, total, err := s.listUsers(r, lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Users  []user `json:"users"`
		Total  int    `json:"total"`
		Limit  *int   `json:"limit,omitempty"`
		Offset *int   `json:"offset,omitempty"`
	}{users, total, lq.limitOut, lq.offsetOut})
	return nil
}

// pageSQL picks the page's ids (or emails) first, from the index that orders them (an
// index-only scan, so a deep offset walks index entries rather than rows), then reads those rows
// (columns: the server's userColumns).
func (lq *listUsersQuery) pageSQL(columns string) (string, []any) {
	n := len(lq.args)
	pick := `SELECT u.` + lq.pageKey + ` FROM "user" u` + lq.whereSQL() + ` ORDER BY ` + lq.orderBy + fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
	return `SELECT ` + columns + ` FROM "user" u JOIN (` + pick + `) p ON p.` + lq.pageKey + ` = u.` + lq.pageKey + ` ORDER BY ` + lq.orderBy,
		append(slices.Clone(lq.args), lq.limit, lq.offset)
}

// countSQL counts the users the query matches. Without a condition it sums the "userCount"
// deltas that schema.sql's triggers write with every insert and delete of a user, which in any
// one snapshot equal count(*) of "user" without reading it.
func (lq *listUsersQuery) countSQL() (string, []any) {
	if len(lq.where) == 0 {
		return `SELECT coalesce(sum(delta), 0)::bigint FROM "userCount"`, nil
	}
	return `SELECT count(*) FROM "user" u` + lq.whereSQL(), lq.args
}

// totalFromPage is the total when the page tells it: a page short of the limit that holds a user,
// or the first page, ends the list.
func (lq *listUsersQuery) totalFromPage(n int) (int, bool) {
	if n < lq.limit && (n > 0 || lq.offset == 0) {
		return lq.offset + n, true
	}
	return 0, false
}

// listUsers runs the page and, when needed, the count in one snapshot, so that total matches
// the page. Plans are made for each request's values (plan_cache_mode): a cached generic plan
// cannot see that a LIKE pattern has a fixed prefix or that a filter matches a partial index.
func (s *server) listUsers(r *http.Request, lq *listUsersQuery) ([]user, int, error) {
	ctx := r.Context()
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	if _, err := tx.Exec(ctx, listUsersPlanning); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	page, args := lq.pageSQL(s.userColumns)
	rows, err := tx.Query(ctx, page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (user, error) {
		var u user
		return u, row.Scan(u.scanTargets()...)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	if total, ok := lq.totalFromPage(len(users)); ok {
		return users, total, nil
	}
	count, args := lq.countSQL()
	var total int
	if err := tx.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	return users, total, nil
}

// listUsersPlanning makes list-users' statements planned with their values (see listUsers).
const listUsersPlanning = `SET LOCAL plan_cache_mode = force_custom_plan`
