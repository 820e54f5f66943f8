package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Members (upstream packages/better-auth/src/plugins/organization/routes/crud-members.ts): listing,
// roles, removal, leaving, and permission checks.

// memberPage selects a page of an organization's members; where is an extra SQL condition whose
// arguments start at $2.
type memberPage struct {
	limit, offset int
	orderBy       string
	where         string
	args          []any
}

// whereOperators are upstream's filter operators (its adapter's whereOperators), in its order.
var whereOperators = []string{"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "starts_with", "ends_with"}

// memberFields are the member columns a client may sort and filter on.
var memberFields = map[string]string{
	"id":             `m.id`,
	"organizationId": `m."organizationId"`,
	"userId":         `m."userId"`,
	"role":           `m.role`,
	"createdAt":      `m."createdAt"`,
}

// listMembers returns a page of orgID's members with their users.
func listMembers(ctx context.Context, q querier, orgID string, p memberPage) ([]member, error) {
	where := `m."organizationId" = $1`
	if p.where != "" {
		where += ` AND ` + p.where
	}
	order := cmp.Or(p.orderBy, `m."createdAt", m.id`)
	args := append([]any{orgID}, p.args...)
	args = append(args, p.limit, p.offset)
	n := len(args)
	rows, err := q.Query(ctx, `SELECT `+memberWithUserColumns+` FROM `+memberWithUserFrom+` WHERE `+where+
		` ORDER BY `+order+fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n-1, n), args...)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (member, error) {
		var m member
		return m, row.Scan(m.scanWithUser()...)
	})
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return members, nil
}

// memberPageQuery reads list-members' paging, sorting and filtering. Upstream passes unknown
// fields and unusable values to its adapter and fails with 500; here they are 400s.
func (s *server) memberPageQuery(r *http.Request) (memberPage, error) {
	q := r.URL.Query()
	// The two enums are checked whether or not the field they go with is given, as upstream's
	// query schema does, with its wording.
	var issues []string
	if v, ok := q["sortDirection"]; ok && !slices.Contains([]string{"asc", "desc"}, v[0]) {
		issues = append(issues, `[query.sortDirection] Invalid option: expected one of "asc"|"desc"`)
	}
	if v, ok := q["filterOperator"]; ok && !slices.Contains(whereOperators, v[0]) {
		issues = append(issues, `[query.filterOperator] Invalid option: expected one of "`+strings.Join(whereOperators, `"|"`)+`"`)
	}
	if issues != nil {
		return memberPage{}, validationError(issues...)
	}
	p := memberPage{limit: queryPositiveInt(r, "limit"), offset: queryPositiveInt(r, "offset")}
	if p.limit == 0 {
		p.limit = s.cfg.Org.membershipLimit()
	}
	if sortBy := q.Get("sortBy"); sortBy != "" {
		col, ok := memberFields[sortBy]
		if !ok {
			return memberPage{}, validationError(fmt.Sprintf("[query.sortBy] Invalid input: no member field %q", sortBy))
		}
		dir := "ASC"
		if q.Get("sortDirection") == "desc" {
			dir = "DESC"
		}
		p.orderBy = col + ` ` + dir + `, m.id`
	}
	field := q.Get("filterField")
	if field == "" {
		return p, nil
	}
	var err error
	if p.where, p.args, err = memberFilter(q, field); err != nil {
		return memberPage{}, err
	}
	return p, nil
}

// memberFilter is list-members' filter on field as an SQL condition whose value is $2.
func memberFilter(q url.Values, field string) (string, []any, error) {
	col, ok := memberFields[field]
	if !ok {
		return "", nil, validationError(fmt.Sprintf("[query.filterField] Invalid input: no member field %q", field))
	}
	values := q["filterValue"]
	if len(values) == 0 {
		values = []string{""}
	}
	var list any = values
	if field == "createdAt" {
		times := make([]time.Time, len(values))
		for i, v := range values {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", nil, validationError("[query.filterValue] Invalid input: expected a date")
			}
			times[i] = t
		}
		list = times
	}
	first := func() any {
		if t, ok := list.([]time.Time); ok {
			return t[0]
		}
		return values[0]
	}
	op := cmp.Or(q.Get("filterOperator"), "eq")
	comparisons := map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
	likes := map[string]string{"contains": `'%' || $2 || '%'`, "starts_with": `$2 || '%'`, "ends_with": `'%' || $2`}
	switch {
	case comparisons[op] != "":
		return col + ` ` + comparisons[op] + ` $2`, []any{first()}, nil
	case op == "in":
		return col + ` = ANY ($2)`, []any{list}, nil
	case op == "not_in":
		return `NOT (` + col + ` = ANY ($2))`, []any{list}, nil
	case likes[op] != "" && field != "createdAt":
		// The value is matched literally: LIKE's own wildcards in it are escaped.
		escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(values[0])
		return col + ` LIKE ` + likes[op] + ` ESCAPE '\'`, []any{escaped}, nil
	}
	return "", nil, validationError(fmt.Sprintf("[query.filterOperator] Invalid input: operator %q does not apply to %s", op, field))
}

// callerByQuery requires the session and returns the caller's membership of the organization named by the query's
// organizationSlug, else organizationId, else the active one, with upstream's errors for each way
// that fails.
func (s *server) callerByQuery(w http.ResponseWriter, r *http.Request, id, slug string) (*member, error) {
	as, err := s.orgSession(w, r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	orgID := orgIDOr(id, as)
	if slug != "" {
		org, err := orgBySlug(ctx, s.db, slug)
		if err != nil {
			return nil, err
		}
		if org == nil {
			return nil, errOrgNotFound
		}
		orgID = org.ID
	}
	return s.callerIn(ctx, as, orgID, errNoActiveOrg, errNotMemberOfThisOrg)
}

// callerIn returns the caller's membership of orgID (or of the active organization when orgID is
// empty), answering noOrg or notMember with the codes of the endpoint's upstream.
func (s *server) callerIn(ctx context.Context, as *authSession, orgID string, noOrg, notMember error) (*member, error) {
	if orgID = orgIDOr(orgID, as); orgID == "" {
		return nil, noOrg
	}
	return memberOfOr(ctx, s.db, orgID, as.User.ID, notMember)
}

func (s *server) handleListMembers(w http.ResponseWriter, r *http.Request) error {
	id, slug, err := orgQuery(r)
	if err != nil {
		return err
	}
	page, err := s.memberPageQuery(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	caller, err := s.callerByQuery(w, r, id, slug)
	if err != nil {
		return err
	}
	orgID := caller.OrganizationID
	members, err := listMembers(ctx, s.db, orgID, page)
	if err != nil {
		return err
	}
	where := `"organizationId" = $1`
	if page.where != "" {
		where += ` AND ` + page.where
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM member m WHERE `+where, append([]any{orgID}, page.args...)...).Scan(&total); err != nil {
		return fmt.Errorf("count members: %w", err)
	}
	writeJSON(w, http.StatusOK, struct {
		Members []member `json:"members"`
		Total   int      `json:"total"`
	}{members, total})
	return nil
}

func (s *server) handleGetActiveMember(w http.ResponseWriter, r *http.Request) error {
	as, err := s.orgSession(w, r)
	if err != nil {
		return err
	}
	m, err := s.callerIn(r.Context(), as, "", errNoActiveOrg, errMemberNotFound)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *server) handleGetActiveMemberRole(w http.ResponseWriter, r *http.Request) error {
	id, slug, err := orgQuery(r)
	if err != nil {
		return err
	}
	userID, err := queryString(r, "userId", false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	m, err := s.callerByQuery(w, r, id, slug)
	if err != nil {
		return err
	}
	if userID != "" {
		if m, err = memberOfOr(ctx, s.db, m.OrganizationID, userID, errNotMemberOfThisOrg); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"role": m.Role})
	return nil
}

func (s *server) handleRemoveMember(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		MemberIDOrEmail string `json:"memberIdOrEmail" required:"true"`
		OrganizationID  string `json:"organizationId"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return errNoActiveOrg
	}
	var removed *member
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		removed, err = s.removeMember(r.Context(), tx, as, orgID, body.MemberIDOrEmail)
		return err
	})
	if err != nil {
		return err
	}
	s.refreshCookieCache(w, r, as)
	// Upstream answers with the user when the member was named by email, without it by id.
	if !strings.Contains(body.MemberIDOrEmail, "@") {
		*removed = removed.withoutUser()
	}
	writeJSON(w, http.StatusOK, map[string]*member{"member": removed})
	return nil
}

// removeMember removes the member named by id or email from orgID in tx, with the caller's
// membership locked, and clears the caller's active organization when they removed themselves.
func (s *server) removeMember(ctx context.Context, tx pgx.Tx, as *authSession, orgID, memberIDOrEmail string) (*member, error) {
	caller, err := s.lockMember(ctx, tx, orgID, as.User.ID, errMemberNotFound)
	if err != nil {
		return nil, err
	}
	var removed *member
	if strings.Contains(memberIDOrEmail, "@") {
		removed, err = memberByEmail(ctx, tx, orgID, memberIDOrEmail)
	} else {
		removed, err = memberByID(ctx, tx, memberIDOrEmail)
	}
	if err != nil {
		return nil, err
	}
	if removed == nil {
		return nil, errMemberNotFound
	}
	// Upstream's order and codes: an owner is removable only by an owner, and never the last.
	if hasRole(removed.Role, creatorRole) {
		if !hasRole(caller.Role, creatorRole) {
			return nil, errOnlyOwner
		}
		owners, err := countOwners(ctx, tx, orgID)
		if err != nil {
			return nil, err
		}
		if owners <= 1 {
			return nil, errOnlyOwner
		}
	}
	if !s.cfg.Org.roles().hasPermission(caller.Role, statement{"member": {"delete"}}) {
		return nil, errNotAllowedDeleteMember
	}
	if removed.OrganizationID != orgID {
		return nil, errMemberNotFound
	}
	if err := deleteMember(ctx, tx, removed); err != nil {
		return nil, err
	}
	if removed.UserID == as.User.ID && as.Session.ActiveOrganizationID != nil && *as.Session.ActiveOrganizationID == orgID {
		return removed, s.setActiveOrganization(ctx, tx, as, nil)
	}
	return removed, nil
}

func (s *server) handleUpdateMemberRole(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Role           roleList `json:"role" required:"true"`
		MemberID       string   `json:"memberId" required:"true"`
		OrganizationID string   `json:"organizationId"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	// Upstream answers a bare 400 for an empty role string before anything else, and for a role
	// list with no names once it knows the organization.
	if len(body.Role) == 1 && body.Role[0] == "" {
		return &apiError{Status: http.StatusBadRequest}
	}
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return errNoActiveOrg
	}
	roles := parseRoleList(body.Role...)
	if len(roles) == 0 {
		return &apiError{Status: http.StatusBadRequest}
	}
	return answerInTx(w, r.Context(), s.db, func(tx pgx.Tx) (member, error) {
		return s.updateMemberRole(r.Context(), tx, orgID, as.User.ID, body.MemberID, roles)
	})
}

// updateMemberRole sets memberID's roles in orgID on callerID's behalf, in upstream's order of
// checks: the caller is a member, the target in the organization, owners stay owned by owners,
// the organization keeps an owner, the caller may update members, the roles exist.
func (s *server) updateMemberRole(ctx context.Context, tx pgx.Tx, orgID, callerID, memberID string, roles []string) (member, error) {
	caller, err := s.lockMember(ctx, tx, orgID, callerID, errMemberNotFound)
	if err != nil {
		return member{}, err
	}
	target := caller
	if memberID != caller.ID {
		if target, err = memberByID(ctx, tx, memberID); err != nil {
			return member{}, err
		}
	}
	if target == nil {
		return member{}, errMemberNotFound
	}
	if target.OrganizationID != orgID {
		return member{}, errNotAllowedUpdateMember
	}
	callerIsOwner := hasRole(caller.Role, creatorRole)
	settingOwner := hasRole(strings.Join(roles, ","), creatorRole)
	// Only an owner may change an owner or make one.
	if (hasRole(target.Role, creatorRole) || settingOwner) && !callerIsOwner {
		return member{}, errNotAllowedUpdateMember
	}
	if callerIsOwner && target.ID == caller.ID && !settingOwner {
		owners, err := countOwners(ctx, tx, orgID)
		if err != nil {
			return member{}, err
		}
		if owners <= 1 {
			return member{}, errWithoutOwner
		}
	}
	rs := s.cfg.Org.roles()
	// Owners may always change roles (upstream's allowCreatorAllPermissions here).
	if !callerIsOwner && !rs.hasPermission(caller.Role, statement{"member": {"update"}}) {
		return member{}, errNotAllowedUpdateMember
	}
	if unknown := rs.unknownRoles(roles); len(unknown) > 0 {
		return member{}, errUnknownRoles("ROLE_NOT_FOUND", unknown)
	}
	var updated member
	err = tx.QueryRow(ctx, `UPDATE member m SET role = $2 WHERE m.id = $1 RETURNING `+memberColumns,
		target.ID, strings.Join(roles, ",")).Scan(updated.scanTargets()...)
	if err != nil {
		return member{}, fmt.Errorf("update member role: %w", err)
	}
	return updated, nil
}

func (s *server) handleLeaveOrganization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		OrganizationID string `json:"organizationId" required:"true"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	var left *member
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		ctx := r.Context()
		if left, err = s.lockMember(ctx, tx, body.OrganizationID, as.User.ID, errMemberNotFound); err != nil {
			return err
		}
		if hasRole(left.Role, creatorRole) {
			owners, err := countOwners(ctx, tx, body.OrganizationID)
			if err != nil {
				return err
			}
			if owners <= 1 {
				return errOnlyOwner
			}
		}
		if err := deleteMember(ctx, tx, left); err != nil {
			return err
		}
		if as.Session.ActiveOrganizationID != nil && *as.Session.ActiveOrganizationID == body.OrganizationID {
			return s.setActiveOrganization(ctx, tx, as, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.refreshCookieCache(w, r, as)
	writeJSON(w, http.StatusOK, left)
	return nil
}

// errOneOfPermissions is zod's answer to has-permission's body, which takes exactly one of
// permissions and the deprecated permission.
var errOneOfPermissions = validationError("[body] Invalid input")

// permissionKeys is a has-permission body, the organization's or the admin plugin's: each names
// the deprecated "permission" and "permissions" beside keys of its own.
type permissionKeys interface {
	permissionKeys() (permission, permissions *map[string][]string)
}

// decodeHasPermission decodes a has-permission body and applies that rule to its two keys.
func (s *server) decodeHasPermission(r *http.Request, body permissionKeys) error {
	if err := s.decode(r, body, jsonOnly); err != nil {
		return err
	}
	switch permission, permissions := body.permissionKeys(); {
	case permission != nil && permissions != nil:
		return validationError("[body] Invalid input: more than one option matched")
	case permission == nil && permissions == nil:
		return errOneOfPermissions
	}
	return nil
}

type orgHasPermissionBody struct {
	OrganizationID string               `json:"organizationId"`
	Permission     *map[string][]string `json:"permission"`
	Permissions    *map[string][]string `json:"permissions"`
}

func (b *orgHasPermissionBody) permissionKeys() (permission, permissions *map[string][]string) {
	return b.Permission, b.Permissions
}

func (s *server) handleHasPermission(w http.ResponseWriter, r *http.Request) error {
	var body orgHasPermissionBody
	if err := s.decodeHasPermission(r, &body); err != nil {
		return err
	}
	as, err := s.orgSession(w, r)
	if err != nil {
		return err
	}
	m, err := s.callerIn(r.Context(), as, body.OrganizationID, errNoActiveOrg,
		apiErr(401, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "User is not a member of the organization"))
	if err != nil {
		return err
	}
	// The deprecated singular "permission" is accepted but, as upstream, never grants anything.
	ok := body.Permissions != nil && s.cfg.Org.roles().hasPermission(m.Role, *body.Permissions)
	writeJSON(w, http.StatusOK, struct {
		Error   *string `json:"error"`
		Success bool    `json:"success"`
	}{nil, ok})
	return nil
}

// memberCount counts orgID's members.
func memberCount(ctx context.Context, q querier, orgID string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM member WHERE "organizationId" = $1`, orgID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return n, nil
}
