package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Organizations (upstream packages/better-auth/src/plugins/organization/): tenants with members,
// roles, invitations and teams, in upstream's tables. Every change that touches an organization's
// members, roles, invitations or teams runs in one transaction that first locks the organization
// row (lockOrganization), so concurrent changes to one organization happen one after another: two
// owners removing each other cannot both succeed, an invitation cannot be accepted twice, and
// limits cannot be overrun by a race.

// Upstream's organization error codes (error-codes.ts), message text verbatim.
var (
	errOrgNotAllowedToCreate   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION", "You are not allowed to create a new organization")
	errOrgLimitReached         = apiErr(403, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS", "You have reached the maximum number of organizations")
	errOrgAlreadyExists        = apiErr(400, "ORGANIZATION_ALREADY_EXISTS", "Organization already exists")
	errOrgSlugTaken            = apiErr(400, "ORGANIZATION_SLUG_ALREADY_TAKEN", "Organization slug already taken")
	errOrgNotFound             = apiErr(400, "ORGANIZATION_NOT_FOUND", "Organization not found")
	errOrgNotMember            = apiErr(400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "User is not a member of the organization")
	errOrgNotAllowedToUpdate   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION", "You are not allowed to update this organization")
	errOrgNotAllowedToDelete   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION", "You are not allowed to delete this organization")
	errNoActiveOrg             = apiErr(400, "NO_ACTIVE_ORGANIZATION", "No active organization")
	errAlreadyMember           = apiErr(400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", "User is already a member of this organization")
	errMemberNotFound          = apiErr(400, "MEMBER_NOT_FOUND", "Member not found")
	errRoleNotFound            = apiErr(400, "ROLE_NOT_FOUND", "Role not found")
	errTeamNotFound            = apiErr(400, "TEAM_NOT_FOUND", "Team not found")
	errOnlyOwner               = apiErr(400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "You cannot leave the organization as the only owner")
	errWithoutOwner            = apiErr(400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER", "You cannot leave the organization without an owner")
	errNotAllowedDeleteMember  = apiErr(401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER", "You are not allowed to delete this member")
	errNotAllowedInvite        = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION", "You are not allowed to invite users to this organization")
	errAlreadyInvited          = apiErr(400, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION", "User is already invited to this organization")
	errInvitationNotFound      = apiErr(400, "INVITATION_NOT_FOUND", "Invitation not found")
	errNotRecipient            = apiErr(403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "You are not the recipient of the invitation")
	errInvitationNeedsVerified = apiErr(403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION", "Email verification required to view or list invitations for the session email")
	errNotAllowedCancel        = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION", "You are not allowed to cancel this invitation")
	errNotAllowedList          = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS", "You are not allowed to list invitations for this organization")
	errInviterGone             = apiErr(400, "INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION", "Inviter is no longer a member of the organization")
	errNotAllowedInviteRole    = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE", "You are not allowed to invite a user with this role")
	errUnableRemoveLastTeam    = apiErr(400, "UNABLE_TO_REMOVE_LAST_TEAM", "Unable to remove last team")
	errNotAllowedUpdateMember  = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "You are not allowed to update this member")
	errMembershipLimit         = apiErr(403, "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED", "Organization membership limit reached")
	errNotAllowedCreateTeams   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION", "You are not allowed to create teams in this organization")
	errNotAllowedDeleteTeams   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION", "You are not allowed to delete teams in this organization")
	errNotAllowedUpdateTeam    = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM", "You are not allowed to update this team")
	errNotAllowedDeleteTeam    = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM", "You are not allowed to delete this team")
	errInvitationLimit         = apiErr(403, "INVITATION_LIMIT_REACHED", "Invitation limit reached")
	errNotTeamMember           = apiErr(400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "User is not a member of the team")
	errNotTeamMemberForbidden  = apiErr(403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "User is not a member of the team")
	errNoActiveTeam            = apiErr(400, "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM", "You do not have an active team")
	errNotAllowedAddTeamMember = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER", "You are not allowed to create a new member")
	errNotAllowedRemoveTeamMem = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER", "You are not allowed to remove a team member")
	errNotAllowedAccessOrg     = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION", "You are not allowed to access this organization as an owner")
	errNotMemberOfThisOrg      = apiErr(403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", "You are not a member of this organization")
	errInvalidTeamID           = apiErr(400, "INVALID_TEAM_ID", "Team id contains a reserved character")
)

// errUnknownRoles is upstream's refusal of roles it does not know: "ROLE_NOT_FOUND: a, b".
// Upstream's invite-member sends it without a code and update-member-role with ROLE_NOT_FOUND
// (the organization compat scenario asserts both), so the code is the caller's.
func errUnknownRoles(code string, unknown []string) *apiError {
	return apiErr(400, code, "ROLE_NOT_FOUND: "+strings.Join(unknown, ", "))
}

// organization is the organization row in upstream's key order. Metadata is the stored JSON text.
type organization struct {
	Name      string  `json:"name"`
	Slug      string  `json:"slug"`
	Logo      *string `json:"logo"`
	CreatedAt jsTime  `json:"createdAt"`
	Metadata  *string `json:"metadata"`
	ID        string  `json:"id"`
}

const orgColumns = `o.name, o.slug, o.logo, o."createdAt", o.metadata, o.id`

func (o *organization) scanTargets() []any {
	return []any{&o.Name, &o.Slug, &o.Logo, &o.CreatedAt, &o.Metadata, &o.ID}
}

// parsedOrganization is how create and update answer: metadata as the object it holds, and no
// metadata key at all when there is none (upstream sets it to undefined).
type parsedOrganization struct {
	Name      string          `json:"name"`
	Slug      string          `json:"slug"`
	Logo      *string         `json:"logo"`
	CreatedAt jsTime          `json:"createdAt"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	ID        string          `json:"id"`
}

func (o organization) parsed() parsedOrganization {
	p := parsedOrganization{Name: o.Name, Slug: o.Slug, Logo: o.Logo, CreatedAt: o.CreatedAt, ID: o.ID}
	if o.Metadata != nil && json.Valid([]byte(*o.Metadata)) {
		p.Metadata = json.RawMessage(*o.Metadata)
	}
	return p
}

// member is the member row; User is set where upstream includes the user.
type member struct {
	OrganizationID string      `json:"organizationId"`
	UserID         string      `json:"userId"`
	Role           string      `json:"role"`
	CreatedAt      jsTime      `json:"createdAt"`
	ID             string      `json:"id"`
	User           *memberUser `json:"user,omitempty"`
}

type memberUser struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email string  `json:"email"`
	Image *string `json:"image"`
}

const (
	memberColumns         = `m."organizationId", m."userId", m.role, m."createdAt", m.id`
	memberWithUserColumns = memberColumns + `, u.id, u.name, u.email, u.image`
	memberWithUserFrom    = `member m JOIN "user" u ON u.id = m."userId"`
)

func (m *member) scanTargets() []any {
	return []any{&m.OrganizationID, &m.UserID, &m.Role, &m.CreatedAt, &m.ID}
}

func (m *member) scanWithUser() []any {
	m.User = &memberUser{}
	return append(m.scanTargets(), &m.User.ID, &m.User.Name, &m.User.Email, &m.User.Image)
}

// withoutUser is the member row alone, as remove-member and update-member-role answer.
func (m member) withoutUser() member {
	m.User = nil
	return m
}

// collect runs a query and scans each row into a new T through its scanTargets.
func collect[T any, PT interface {
	*T
	scanTargets() []any
}](ctx context.Context, q querier, what, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var v T
		return v, row.Scan(PT(&v).scanTargets()...)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// orgIDOr is upstream's `body.organizationId || session.activeOrganizationId`.
func orgIDOr(id string, as *authSession) string {
	if id != "" {
		return id
	}
	if as.Session.ActiveOrganizationID != nil {
		return *as.Session.ActiveOrganizationID
	}
	return ""
}

func orgByID(ctx context.Context, q querier, id string) (*organization, error) {
	return scanOrg(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organization o WHERE o.id = $1`, id))
}

func orgBySlug(ctx context.Context, q querier, slug string) (*organization, error) {
	return scanOrg(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organization o WHERE o.slug = $1`, slug))
}

// lockOrganization locks the organization row until tx ends and returns it, or nil when there is
// no such organization. Every change to an organization's members, invitations or teams takes this
// lock first, always before any other row of the organization, so they cannot deadlock.
func lockOrganization(ctx context.Context, tx pgx.Tx, id string) (*organization, error) {
	return scanOrg(tx.QueryRow(ctx, `SELECT `+orgColumns+` FROM organization o WHERE o.id = $1 FOR UPDATE`, id))
}

func scanOrg(row pgx.Row) (*organization, error) {
	return scanOptional(row, "organization", (*organization).scanTargets)
}

// memberOf returns userID's membership of orgID with its user, or nil.
func memberOf(ctx context.Context, q querier, orgID, userID string) (*member, error) {
	return scanMember(q.QueryRow(ctx, `SELECT `+memberWithUserColumns+` FROM `+memberWithUserFrom+`
		WHERE m."organizationId" = $1 AND m."userId" = $2 ORDER BY m."createdAt" LIMIT 1`, orgID, userID))
}

// memberOfOr is memberOf for a membership the request needs: notMember when there is none.
func memberOfOr(ctx context.Context, q querier, orgID, userID string, notMember error) (*member, error) {
	m, err := memberOf(ctx, q, orgID, userID)
	if err == nil && m == nil {
		return nil, notMember
	}
	return m, err
}

func memberByID(ctx context.Context, q querier, id string) (*member, error) {
	return scanMember(q.QueryRow(ctx, `SELECT `+memberWithUserColumns+` FROM `+memberWithUserFrom+` WHERE m.id = $1`, id))
}

func memberByEmail(ctx context.Context, q querier, orgID, email string) (*member, error) {
	return scanMember(q.QueryRow(ctx, `SELECT `+memberWithUserColumns+` FROM `+memberWithUserFrom+`
		WHERE m."organizationId" = $1 AND u.email = $2 ORDER BY m."createdAt" LIMIT 1`, orgID, strings.ToLower(email)))
}

func scanMember(row pgx.Row) (*member, error) {
	return scanOptional(row, "member", (*member).scanWithUser)
}

// insertMember adds userID to orgID with role (already normalized).
func (s *server) insertMember(ctx context.Context, q querier, orgID, userID, role string) (member, error) {
	var m member
	err := q.QueryRow(ctx, `INSERT INTO member AS m (id, "organizationId", "userId", role, "createdAt")
		VALUES ($1, $2, $3, $4, $5) RETURNING `+memberColumns,
		generateID(32), orgID, userID, role, s.now()).Scan(m.scanTargets()...)
	if err != nil {
		return member{}, fmt.Errorf("add member: %w", err)
	}
	return m, nil
}

// countOwners counts the members of orgID holding the creator role among their roles.
func countOwners(ctx context.Context, q querier, orgID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM member WHERE "organizationId" = $1
		AND $2 = ANY (SELECT btrim(r) FROM unnest(string_to_array(role, ',')) r)`, orgID, creatorRole).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// deleteMember removes a membership and the user's places in the organization's teams.
func deleteMember(ctx context.Context, tx pgx.Tx, m *member) error {
	if _, err := tx.Exec(ctx, `DELETE FROM member WHERE id = $1`, m.ID); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	rows, err := tx.Query(ctx, `DELETE FROM "teamMember" tm USING team t
		WHERE tm."teamId" = t.id AND t."organizationId" = $1 AND tm."userId" = $2 RETURNING t.id`, m.OrganizationID, m.UserID)
	if err != nil {
		return fmt.Errorf("remove team memberships: %w", err)
	}
	teamIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("remove team memberships: %w", err)
	}
	for _, id := range teamIDs {
		if err := recountTeam(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// setActiveOrganization stores the session's active organization (nil clears it), keeping as in
// step with the row.
func (s *server) setActiveOrganization(ctx context.Context, q querier, as *authSession, orgID *string) error {
	return s.updateSessionRow(ctx, q, as, `"activeOrganizationId" = $2`, orgID, func(sess *session) { sess.ActiveOrganizationID = orgID })
}

// setActiveTeam stores the session's active team (nil clears it).
func (s *server) setActiveTeam(ctx context.Context, q querier, as *authSession, teamID *string) error {
	return s.updateSessionRow(ctx, q, as, `"activeTeamId" = $2`, teamID, func(sess *session) { sess.ActiveTeamID = teamID })
}

// updateSessionRow sets one column of the session (set, in Postgres) or field (apply, in Redis)
// through the session storage seam (sessionstore.go).
func (s *server) updateSessionRow(ctx context.Context, q querier, as *authSession, set string, value *string, apply func(*session)) error {
	if !s.sessionsInDB() {
		apply(&as.Session)
		as.Session.UpdatedAt = jsTime(s.now())
	} else {
		err := q.QueryRow(ctx, `UPDATE session s SET `+set+`, "updatedAt" = $3 WHERE s.token = $1 RETURNING `+s.sessionColumns,
			as.Session.Token, value, s.now()).Scan(as.Session.scanTargets()...)
		if isNoRows(err) {
			return errFailedToGetSession
		}
		if err != nil {
			return fmt.Errorf("update session: %w", err)
		}
	}
	stored, err := s.storeSessionUpdate(ctx, &as.Session)
	if err != nil {
		return err
	}
	if !stored {
		return errFailedToGetSession
	}
	return nil
}

// refreshCookieCache rewrites the session_data cookie after the active organization or team
// changed where upstream sets no cookie, so a cookie cache (when on) never shows the old one. With
// the cache off, as by default, it writes nothing, as upstream.
func (s *server) refreshCookieCache(w http.ResponseWriter, r *http.Request, as *authSession) {
	s.writeCookieCache(w, r, as, s.dontRemember(r))
}

// orgSession is the session of every organization endpoint. It is read from Postgres, not the
// cookie cache, because the active organization and team it carries decide what the call acts on.
func (s *server) orgSession(w http.ResponseWriter, r *http.Request) (*authSession, error) {
	return s.requireSession(w, r, sensitiveSession)
}

// orgRequest decodes an organization endpoint's JSON body, then requires its session: upstream
// validates the body before its session middleware runs.
func (s *server) orgRequest(w http.ResponseWriter, r *http.Request, body any) (*authSession, error) {
	if err := s.decode(r, body, jsonOnly); err != nil {
		return nil, err
	}
	return s.orgSession(w, r)
}

// orgParam is orgRequest for the GET endpoints: one optional query parameter, then the session.
func (s *server) orgParam(w http.ResponseWriter, r *http.Request, name string) (string, *authSession, error) {
	v, err := queryString(r, name, false)
	if err != nil {
		return "", nil, err
	}
	as, err := s.orgSession(w, r)
	return v, as, err
}

// optionalOrgSession is orgSession for the endpoints that answer their own error without one.
func (s *server) optionalOrgSession(w http.ResponseWriter, r *http.Request, none error) (*authSession, error) {
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if err != nil {
		return nil, err
	}
	if as == nil {
		return nil, none
	}
	return as, nil
}

// decodeNested decodes a nested body object (update's "data") with decode's rules, so unknown
// keys and wrong types there are refused as they are at the top level.
func decodeNested(raw json.RawMessage, dst any, path string) error {
	var obj map[string]json.RawMessage
	if jsonKind(raw) != "object" || json.Unmarshal(raw, &obj) != nil {
		return validationError(fmt.Sprintf("[%s] Invalid input: expected object, received %s", path, jsonKind(raw)))
	}
	t := reflect.TypeOf(dst).Elem()
	out, issues, _ := decodeFields(obj, fieldsOf(t), t, path, false)
	if len(issues) > 0 {
		return validationError(issues...)
	}
	reflect.ValueOf(dst).Elem().Set(out)
	return nil
}

func tooSmall(path string) *apiError {
	return validationError(fmt.Sprintf("[%s] Too small: expected string to have >=1 characters", path))
}

// roleList is a role input: one role, comma-joined roles, or an array of them.
type roleList []string

func (l *roleList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = roleList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func (roleList) jsonKind() string { return "string or array" }

// coercedString is z.coerce.string(): a string, or a number or boolean written as text.
type coercedString string

func (c *coercedString) UnmarshalJSON(b []byte) error {
	switch jsonKind(b) {
	case "string":
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = coercedString(s)
	case "number", "boolean":
		*c = coercedString(bytes.TrimSpace(b))
	default:
		return fmt.Errorf("want a string, got %s", jsonKind(b))
	}
	return nil
}

func (coercedString) jsonKind() string { return "string" }

// metadataObject is organization metadata: any JSON object, stored as its text. Upstream's schema
// is a zod record, which is how its errors name the expected type.
type metadataObject json.RawMessage

func (m *metadataObject) UnmarshalJSON(b []byte) error {
	if jsonKind(b) != "object" {
		return fmt.Errorf("metadata must be an object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*m = buf.Bytes()
	return nil
}

func (metadataObject) jsonKind() string { return "record" }

// orgQuery reads the optional organizationId and organizationSlug query parameters.
func orgQuery(r *http.Request) (id, slug string, err error) {
	if id, err = queryString(r, "organizationId", false); err != nil {
		return "", "", err
	}
	slug, err = queryString(r, "organizationSlug", false)
	return id, slug, err
}

// queryPositiveInt reads a numeric query value as upstream's Number(...)/parseInt coercion ends
// up using it: anything that is not a positive whole number means "not given".
func queryPositiveInt(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// membershipKey is upstream's teamMember.membershipKey: base64url (no padding) of the SHA-256 of
// JSON.stringify([teamId, userId]); its UNIQUE index makes each user a team member at most once.
func membershipKey(teamID, userID string) string {
	var b bytes.Buffer
	b.WriteByte('[')
	writeJSString(&b, teamID)
	b.WriteByte(',')
	writeJSString(&b, userID)
	b.WriteByte(']')
	sum := sha256.Sum256(b.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *server) handleCreateOrganization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name     string          `json:"name" required:"true"`
		Slug     string          `json:"slug" required:"true"`
		UserID   *coercedString  `json:"userId"` // server-only upstream; a session always wins
		Logo     *string         `json:"logo" nullable:"true"`
		Metadata *metadataObject `json:"metadata"`
		Keep     *bool           `json:"keepCurrentActiveOrganization"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if body.Name == "" {
		return tooSmall("body.name")
	}
	if body.Slug == "" {
		return tooSmall("body.slug")
	}
	as, err := s.optionalOrgSession(w, r, errUnauthorizedEmpty)
	if err != nil {
		return err
	}
	keep := body.Keep != nil && *body.Keep
	var metadata *string
	if body.Metadata != nil {
		m := string(*body.Metadata)
		metadata = &m
	}
	var org *organization
	var owner member
	o := newOrganization{name: body.Name, slug: body.Slug, logo: body.Logo, metadata: metadata, keepActive: keep}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		org, owner, err = s.createOrganization(r.Context(), tx, as, o)
		return err
	})
	if err != nil {
		return err
	}
	if !keep {
		s.refreshCookieCache(w, r, as)
	}
	writeJSON(w, http.StatusOK, struct {
		parsedOrganization
		Members []member `json:"members"`
	}{org.parsed(), []member{owner}})
	return nil
}

// newOrganization is a create request, decoded and checked for shape.
type newOrganization struct {
	name, slug     string
	logo, metadata *string
	keepActive     bool
}

// createOrganization makes the organization with the caller as its owner and a default team
// named after it, within the caller's organization limit, and makes both active unless asked
// to keep the current ones.
func (s *server) createOrganization(ctx context.Context, tx pgx.Tx, as *authSession, o newOrganization) (*organization, member, error) {
	if limit := s.cfg.Org.Limit; limit > 0 {
		// Serialize this user's creations so that two at once cannot both pass the limit.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM "user" WHERE id = $1 FOR NO KEY UPDATE`, as.User.ID); err != nil {
			return nil, member{}, fmt.Errorf("lock user: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM member WHERE "userId" = $1`, as.User.ID).Scan(&n); err != nil {
			return nil, member{}, fmt.Errorf("count organizations: %w", err)
		}
		if n >= limit {
			return nil, member{}, errOrgLimitReached
		}
	}
	now := s.now()
	var org organization
	err := tx.QueryRow(ctx, `INSERT INTO organization AS o (id, name, slug, logo, "createdAt", metadata)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+orgColumns,
		generateID(32), o.name, o.slug, o.logo, now, o.metadata).Scan(org.scanTargets()...)
	if isUniqueViolation(err, "") {
		return nil, member{}, errOrgAlreadyExists
	}
	if err != nil {
		return nil, member{}, fmt.Errorf("create organization: %w", err)
	}
	owner, err := s.insertMember(ctx, tx, org.ID, as.User.ID, creatorRole)
	if err != nil {
		return nil, member{}, err
	}
	// Teams are on: a default team named after the organization, with the creator in it.
	team, err := s.insertTeam(ctx, tx, org.ID, org.Name, false)
	if err != nil {
		return nil, member{}, err
	}
	if _, err := s.addTeamMember(ctx, tx, team.ID, as.User.ID); err != nil {
		return nil, member{}, err
	}
	if o.keepActive {
		return &org, owner, nil
	}
	if err := s.setActiveOrganization(ctx, tx, as, &org.ID); err != nil {
		return nil, member{}, err
	}
	return &org, owner, s.setActiveTeam(ctx, tx, as, &team.ID)
}

func (s *server) handleCheckSlug(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Slug string `json:"slug" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if _, err := s.requireSession(w, r, anySession); err != nil {
		return err
	}
	org, err := orgBySlug(r.Context(), s.db, body.Slug)
	if err != nil {
		return err
	}
	if org != nil {
		return errOrgSlugTaken
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleUpdateOrganization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Data           json.RawMessage `json:"data" required:"true"`
		OrganizationID string          `json:"organizationId"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	var data struct {
		Name     *string          `json:"name"`
		Slug     *string          `json:"slug"`
		Logo     optional[string] `json:"logo" nullable:"true"`
		Metadata *metadataObject  `json:"metadata"`
	}
	if err := decodeNested(body.Data, &data, "body.data"); err != nil {
		return err
	}
	if data.Name != nil && *data.Name == "" {
		return tooSmall("body.data.name")
	}
	if data.Slug != nil && *data.Slug == "" {
		return tooSmall("body.data.slug")
	}
	as, err := s.optionalOrgSession(w, r, apiErr(401, "", "User not found"))
	if err != nil {
		return err
	}
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return errOrgNotFound
	}
	var metadata *string
	if data.Metadata != nil {
		m := string(*data.Metadata)
		metadata = &m
	}
	ctx := r.Context()
	return answerInTx(w, ctx, s.db, func(tx pgx.Tx) (parsedOrganization, error) {
		_, err := s.lockPermittedMember(ctx, tx, orgID, as.User.ID, statement{"organization": {"update"}}, errOrgNotMember, errOrgNotAllowedToUpdate)
		if err != nil {
			return parsedOrganization{}, err
		}
		org, err := updateOrganization(ctx, tx, orgID, data.Name, data.Slug, data.Logo, metadata)
		if err != nil {
			return parsedOrganization{}, err
		}
		return org.parsed(), nil
	})
}

// updateOrganization changes the fields that are set (logo also to null) and answers
// errOrgSlugTaken when the new slug belongs to another organization.
func updateOrganization(ctx context.Context, tx pgx.Tx, orgID string, name, slug *string, logo optional[string], metadata *string) (*organization, error) {
	if slug != nil {
		other, err := orgBySlug(ctx, tx, *slug)
		if err != nil {
			return nil, err
		}
		if other != nil && other.ID != orgID {
			return nil, errOrgSlugTaken
		}
	}
	org, err := scanOrg(tx.QueryRow(ctx, `UPDATE organization o SET
			name = COALESCE($2, o.name),
			slug = COALESCE($3, o.slug),
			logo = CASE WHEN $4 THEN $5 ELSE o.logo END,
			metadata = COALESCE($6, o.metadata)
		WHERE o.id = $1 RETURNING `+orgColumns,
		orgID, name, slug, logo.Set, logo.Value, metadata))
	if isUniqueViolation(err, "") {
		return nil, errOrgSlugTaken
	}
	return org, err
}

// lockMember locks the organization (see lockOrganization) and returns userID's membership of it,
// or notMember when the organization or the membership does not exist.
func (s *server) lockMember(ctx context.Context, tx pgx.Tx, orgID, userID string, notMember error) (*member, error) {
	org, err := lockOrganization(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	var m *member
	if org != nil {
		if m, err = memberOf(ctx, tx, orgID, userID); err != nil {
			return nil, err
		}
	}
	if m == nil {
		return nil, notMember
	}
	return m, nil
}

// lockPermittedMember is lockMember for a caller who must also hold perm: notMember when userID
// is not a member, denied when their role lacks perm. Every org write checks in this order.
func (s *server) lockPermittedMember(ctx context.Context, tx pgx.Tx, orgID, userID string, perm statement, notMember, denied error) (*member, error) {
	m, err := s.lockMember(ctx, tx, orgID, userID, notMember)
	if err != nil {
		return nil, err
	}
	if !s.cfg.Org.roles().hasPermission(m.Role, perm) {
		return nil, denied
	}
	return m, nil
}

func (s *server) handleDeleteOrganization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		OrganizationID string `json:"organizationId" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.optionalOrgSession(w, r, errUnauthorizedEmpty)
	if err != nil {
		return err
	}
	if body.OrganizationID == "" {
		return errOrgNotFound
	}
	var org *organization
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		org, err = s.deleteOrganization(r.Context(), tx, as, body.OrganizationID)
		return err
	})
	if err != nil {
		return err
	}
	s.refreshCookieCache(w, r, as)
	writeJSON(w, http.StatusOK, org)
	return nil
}

// deleteOrganization deletes orgID with its members and invitations in tx, where the caller may,
// and clears it from the sessions that have it (or one of its teams) active; as.Session is
// re-read for the cookie.
func (s *server) deleteOrganization(ctx context.Context, tx pgx.Tx, as *authSession, orgID string) (*organization, error) {
	_, err := s.lockPermittedMember(ctx, tx, orgID, as.User.ID, statement{"organization": {"delete"}}, errOrgNotMember, errOrgNotAllowedToDelete)
	if err != nil {
		return nil, err
	}
	// Members, invitations, then the organization; its teams and their members go by the
	// foreign keys' ON DELETE CASCADE.
	for _, stmt := range []string{
		`DELETE FROM member WHERE "organizationId" = $1`,
		`DELETE FROM invitation WHERE "organizationId" = $1`,
		// No session keeps the organization or one of its teams active; one statement, so
		// that concurrent deletions lock the sessions they share in one pass.
		`WITH teams AS (SELECT id FROM team WHERE "organizationId" = $1)
		UPDATE session SET
			"activeOrganizationId" = NULLIF("activeOrganizationId", $1),
			"activeTeamId" = CASE WHEN "activeTeamId" IN (SELECT id FROM teams) THEN NULL ELSE "activeTeamId" END
		WHERE "activeOrganizationId" = $1 OR "activeTeamId" IN (SELECT id FROM teams)`,
	} {
		if _, err := tx.Exec(ctx, stmt, orgID); err != nil {
			return nil, fmt.Errorf("delete organization: %w", err)
		}
	}
	org, err := scanOrg(tx.QueryRow(ctx, `DELETE FROM organization o WHERE o.id = $1 RETURNING `+orgColumns, orgID))
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, &apiError{Status: http.StatusBadRequest}
	}
	// Re-read this session, which the UPDATEs above may have changed; sessions only in Redis
	// are not found by them, so the caller's is cleared here (others keep the id until they
	// set another, as upstream's keep it).
	if !s.sessionsInDB() {
		if as.Session.ActiveOrganizationID != nil && *as.Session.ActiveOrganizationID == orgID {
			as.Session.ActiveOrganizationID, as.Session.ActiveTeamID = nil, nil
		}
		_, err := s.storeSessionUpdate(ctx, &as.Session)
		return org, err
	}
	return org, tx.QueryRow(ctx, `SELECT `+s.sessionColumns+` FROM session s WHERE s.token = $1`, as.Session.Token).Scan(as.Session.scanTargets()...)
}

func (s *server) handleSetActiveOrganization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		OrganizationID   optional[string] `json:"organizationId" nullable:"true"`
		OrganizationSlug string           `json:"organizationSlug"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if body.OrganizationID.Set && body.OrganizationID.Value == nil {
		return s.unsetActive(w, r, as, as.Session.ActiveOrganizationID, s.setActiveOrganization)
	}
	orgID := ""
	if body.OrganizationID.Value != nil {
		orgID = *body.OrganizationID.Value
	}
	if orgID == "" && body.OrganizationSlug == "" {
		if as.Session.ActiveOrganizationID == nil || *as.Session.ActiveOrganizationID == "" {
			writeJSON(w, http.StatusOK, nil)
			return nil
		}
		orgID = *as.Session.ActiveOrganizationID
	}
	if orgID == "" {
		org, err := orgBySlug(ctx, s.db, body.OrganizationSlug)
		if err != nil {
			return err
		}
		if org == nil {
			return errOrgNotFound
		}
		orgID = org.ID
	}
	if err := s.requireMembership(w, r, as, orgID, errNotMemberForbidden); err != nil {
		return err
	}
	org, err := orgByID(ctx, s.db, orgID)
	if err != nil {
		return err
	}
	if org == nil {
		return errOrgNotFound
	}
	if err := s.setActiveOrganization(ctx, s.db, as, &org.ID); err != nil {
		return err
	}
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, org)
	return nil
}

// unsetActive answers set-active's and set-active-team's explicit null: it clears the active
// organization or team (through set) when one is set, re-issuing the session cookie, and answers
// null.
func (s *server) unsetActive(w http.ResponseWriter, r *http.Request, as *authSession, current *string,
	set func(context.Context, querier, *authSession, *string) error) error {
	if current != nil {
		if err := set(r.Context(), s.db, as, nil); err != nil {
			return err
		}
		s.resetSessionCookie(w, r, as)
	}
	writeJSON(w, http.StatusOK, nil)
	return nil
}

// errNotMemberForbidden is USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION as the read endpoints answer it.
var errNotMemberForbidden = apiErr(403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "User is not a member of the organization")

// requireMembership answers notMember when the caller is not a member of orgID, after clearing
// the session's active organization (upstream does so, so that a stale one does not stick).
func (s *server) requireMembership(w http.ResponseWriter, r *http.Request, as *authSession, orgID string, notMember error) error {
	m, err := memberOf(r.Context(), s.db, orgID, as.User.ID)
	if err != nil {
		return err
	}
	if m != nil {
		return nil
	}
	if err := s.setActiveOrganization(r.Context(), s.db, as, nil); err != nil {
		return err
	}
	s.refreshCookieCache(w, r, as)
	return notMember
}

// readOrgTarget resolves get-organization's and get-full-organization's target: the slug, the id,
// else the active organization. It returns nil (answer null) when there is none.
func (s *server) readOrgTarget(w http.ResponseWriter, r *http.Request) (*authSession, *organization, error) {
	id, slug, err := orgQuery(r)
	if err != nil {
		return nil, nil, err
	}
	as, err := s.orgSession(w, r)
	if err != nil {
		return nil, nil, err
	}
	var org *organization
	switch {
	case slug != "":
		org, err = orgBySlug(r.Context(), s.db, slug)
	case id != "":
		org, err = orgByID(r.Context(), s.db, id)
	case as.Session.ActiveOrganizationID != nil && *as.Session.ActiveOrganizationID != "":
		org, err = orgByID(r.Context(), s.db, *as.Session.ActiveOrganizationID)
	default:
		return as, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if org == nil {
		return nil, nil, errOrgNotFound
	}
	if err := s.requireMembership(w, r, as, org.ID, errNotMemberForbidden); err != nil {
		return nil, nil, err
	}
	return as, org, nil
}

func (s *server) handleGetOrganization(w http.ResponseWriter, r *http.Request) error {
	_, org, err := s.readOrgTarget(w, r)
	if err != nil {
		return err
	}
	if org == nil {
		writeJSON(w, http.StatusOK, nil)
		return nil
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

func (s *server) handleGetFullOrganization(w http.ResponseWriter, r *http.Request) error {
	as, org, err := s.readOrgTarget(w, r)
	if err != nil {
		return err
	}
	if org == nil {
		writeJSON(w, http.StatusOK, nil)
		return nil
	}
	ctx := r.Context()
	// The members page defaults to the membership limit, so an organization allowed more than 100
	// members shows them all (upstream capped the join at 100 and failed past it, #2050).
	limit := queryPositiveInt(r, "membersLimit")
	if limit == 0 {
		limit = s.cfg.Org.membershipLimit()
	}
	members, err := listMembers(ctx, s.db, org.ID, memberPage{limit: limit})
	if err != nil {
		return err
	}
	caller, err := memberOf(ctx, s.db, org.ID, as.User.ID)
	if err != nil {
		return err
	}
	invitations := []invitation{}
	if caller != nil && s.canViewInvitations(caller.Role) {
		if invitations, err = listInvitations(ctx, s.db, `i."organizationId" = $1`, org.ID); err != nil {
			return err
		}
		invitations = withoutCreatorRoleInvitations(invitations, caller.Role)
	}
	teams, err := listTeams(ctx, s.db, org.ID, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*organization
		Invitations []invitation `json:"invitations"`
		Members     []member     `json:"members"`
		Teams       []team       `json:"teams"`
	}{org, invitations, members, teams})
	return nil
}

func (s *server) handleListOrganizations(w http.ResponseWriter, r *http.Request) error {
	as, err := s.orgSession(w, r)
	if err != nil {
		return err
	}
	orgs, err := collect[organization](r.Context(), s.db, "list organizations", `SELECT `+orgColumns+`
		FROM member m JOIN organization o ON o.id = m."organizationId"
		WHERE m."userId" = $1 ORDER BY m."createdAt", o.id`, as.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgs)
	return nil
}
