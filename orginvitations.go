package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Invitations (upstream packages/better-auth/src/plugins/organization/routes/crud-invites.ts). The
// invitation id is the secret of the accept link, so only members who may invite see pending
// invitations, and only the invited email accepts.

// invitation is the invitation row in upstream's key order; TeamID holds comma-joined team ids.
type invitation struct {
	OrganizationID string  `json:"organizationId"`
	Email          string  `json:"email"`
	Role           *string `json:"role"`
	TeamID         *string `json:"teamId"`
	Status         string  `json:"status"`
	ExpiresAt      jsTime  `json:"expiresAt"`
	CreatedAt      jsTime  `json:"createdAt"`
	InviterID      string  `json:"inviterId"`
	ID             string  `json:"id"`
}

const invitationColumns = `i."organizationId", i.email, i.role, i."teamId", i.status, i."expiresAt", i."createdAt", i."inviterId", i.id`

func (i *invitation) scanTargets() []any {
	return []any{&i.OrganizationID, &i.Email, &i.Role, &i.TeamID, &i.Status, &i.ExpiresAt, &i.CreatedAt, &i.InviterID, &i.ID}
}

func (i *invitation) role() string {
	if i.Role == nil {
		return ""
	}
	return *i.Role
}

// teamIDs splits the stored team list.
func (i *invitation) teamIDs() []string {
	if i.TeamID == nil {
		return nil
	}
	return parseRoleList(*i.TeamID)
}

// listInvitations returns the invitations matching where (on alias i), oldest first.
func listInvitations(ctx context.Context, q querier, where string, args ...any) ([]invitation, error) {
	return collect[invitation](ctx, q, "list invitations", `SELECT `+invitationColumns+` FROM invitation i WHERE `+where+` ORDER BY i."createdAt", i.id`, args...)
}

func invitationByID(ctx context.Context, q querier, id string) (*invitation, error) {
	var i invitation
	err := q.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitation i WHERE i.id = $1`, id).Scan(i.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find invitation: %w", err)
	}
	return &i, nil
}

// setInvitationStatus moves an invitation to status, only from one of from when given, and
// returns it, or nil when it is not (or no longer) in such a status. The condition is part of the
// UPDATE, so two concurrent accepts cannot both move the same pending invitation.
func setInvitationStatus(ctx context.Context, q querier, id, status string, from ...string) (*invitation, error) {
	if from == nil {
		from = []string{}
	}
	var i invitation
	err := q.QueryRow(ctx, `UPDATE invitation i SET status = $2 WHERE i.id = $1 AND (cardinality($3::text[]) = 0 OR i.status = ANY ($3))
		RETURNING `+invitationColumns, id, status, from).Scan(i.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("update invitation: %w", err)
	}
	return &i, nil
}

// canViewInvitations: invitation ids work as accept links, so only members who may create
// invitations (and so mint such links anyway) see them (upstream's canViewInvitations).
func (s *server) canViewInvitations(role string) bool {
	return s.cfg.Org.roles().hasPermission(role, statement{"invitation": {"create"}})
}

// withoutCreatorRoleInvitations hides invitations granting the owner role from non-owners, who
// could otherwise hand themselves that role through the link.
func withoutCreatorRoleInvitations(invitations []invitation, viewerRole string) []invitation {
	if hasRole(viewerRole, creatorRole) {
		return invitations
	}
	return slices.DeleteFunc(invitations, func(i invitation) bool { return hasRole(i.role(), creatorRole) })
}

// invitationURL is the accept link mailed with an invitation: ORG_INVITATION_URL with the id, on
// the app's origin when it is a path (upstream's reference: <origin>/accept-invitation/<id>).
func (s *server) invitationURL(r *http.Request, id string) string {
	u := strings.ReplaceAll(cmp.Or(s.cfg.Org.InvitationURL, "/accept-invitation/{id}"), "{id}", id)
	if strings.HasPrefix(u, "/") {
		u = s.origin(r) + u
	}
	return u
}

func (s *server) handleInviteMember(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email          string   `json:"email" required:"true"`
		Role           roleList `json:"role" required:"true"`
		OrganizationID string   `json:"organizationId"`
		Resend         *bool    `json:"resend"`
		TeamID         roleList `json:"teamId"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return errOrgNotFound
	}
	email := strings.ToLower(body.Email)
	if !validEmail(email) {
		return errInvalidEmail
	}
	resend := body.Resend != nil && *body.Resend
	var teamIDs []string
	for _, id := range body.TeamID {
		if id != "" {
			teamIDs = append(teamIDs, id)
		}
	}
	req := invite{orgID: orgID, email: email, roles: body.Role, teamIDs: teamIDs, resend: resend, inviterID: as.User.ID}
	return answerInTx(w, r.Context(), s.db, func(tx pgx.Tx) (invitation, error) {
		inv, err := s.inviteMember(r.Context(), tx, req)
		if err != nil {
			return invitation{}, err
		}
		return inv, s.enqueueMail(r.Context(), tx, mail{Type: "organization-invitation", Email: inv.Email, ID: inv.ID, URL: s.invitationURL(r, inv.ID)})
	})
}

// invite is an invite-member request, decoded and checked for shape.
type invite struct {
	orgID, email, inviterID string
	roles                   roleList
	teamIDs                 []string
	resend                  bool
}

// inviteMember checks the inviter's right to invite with these roles and either makes a new
// invitation or, for a resend, makes the pending one valid again from now.
func (s *server) inviteMember(ctx context.Context, tx pgx.Tx, req invite) (invitation, error) {
	caller, err := s.lockPermittedMember(ctx, tx, req.orgID, req.inviterID, statement{"invitation": {"create"}}, errMemberNotFound, errNotAllowedInvite)
	if err != nil {
		return invitation{}, err
	}
	rs := s.cfg.Org.roles()
	roles := parseRoleList(req.roles...)
	if len(roles) == 0 {
		return invitation{}, errRoleNotFound
	}
	if unknown := rs.unknownRoles(roles); len(unknown) > 0 {
		return invitation{}, errUnknownRoles("", unknown)
	}
	callerIsOwner := hasRole(caller.Role, creatorRole)
	if !callerIsOwner && slices.Contains(roles, creatorRole) {
		return invitation{}, errNotAllowedInviteRole
	}
	existing, err := memberByEmail(ctx, tx, req.orgID, req.email)
	if err != nil {
		return invitation{}, err
	}
	if existing != nil {
		return invitation{}, errAlreadyMember
	}
	now := s.now()
	pending, err := listInvitations(ctx, tx, `i.email = $1 AND i."organizationId" = $2 AND i.status = 'pending' AND i."expiresAt" > $3`, req.email, req.orgID, now)
	if err != nil {
		return invitation{}, err
	}
	if len(pending) > 0 && !req.resend {
		return invitation{}, errAlreadyInvited
	}
	expiresAt := now.Add(s.cfg.Org.invitationExpiresIn())
	if len(pending) == 0 {
		return s.createInvitation(ctx, tx, req, roles, now, expiresAt)
	}
	// Resend: the same invitation (roles and teams unchanged), valid again from now.
	inv := pending[0]
	if !callerIsOwner && hasRole(inv.role(), creatorRole) {
		return invitation{}, errNotAllowedInviteRole
	}
	if _, err := tx.Exec(ctx, `UPDATE invitation SET "expiresAt" = $2 WHERE id = $1`, inv.ID, expiresAt); err != nil {
		return invitation{}, fmt.Errorf("resend invitation: %w", err)
	}
	inv.ExpiresAt = jsTime(expiresAt)
	return inv, nil
}

// createInvitation stores a new pending invitation, within the organization's limit of open ones
// and to teams of the organization only.
func (s *server) createInvitation(ctx context.Context, tx pgx.Tx, req invite, roles []string, now, expiresAt time.Time) (invitation, error) {
	var open int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM invitation WHERE "organizationId" = $1 AND status = 'pending' AND "expiresAt" > $2`,
		req.orgID, now).Scan(&open); err != nil {
		return invitation{}, fmt.Errorf("count invitations: %w", err)
	}
	if open >= s.cfg.Org.invitationLimit() {
		return invitation{}, errInvitationLimit
	}
	for _, id := range req.teamIDs {
		if strings.Contains(id, ",") {
			return invitation{}, errInvalidTeamID
		}
	}
	for _, id := range req.teamIDs {
		t, err := teamByID(ctx, tx, id, req.orgID)
		if err != nil {
			return invitation{}, err
		}
		if t == nil {
			return invitation{}, errTeamNotFound
		}
	}
	var teamList *string
	if len(req.teamIDs) > 0 {
		joined := strings.Join(req.teamIDs, ",")
		teamList = &joined
	}
	var inv invitation
	err := tx.QueryRow(ctx, `INSERT INTO invitation AS i (id, "organizationId", email, role, "teamId", status, "expiresAt", "createdAt", "inviterId")
		VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING `+invitationColumns,
		generateID(32), req.orgID, req.email, strings.Join(roles, ","), teamList, expiresAt, now, req.inviterID).Scan(inv.scanTargets()...)
	if err != nil {
		return invitation{}, fmt.Errorf("create invitation: %w", err)
	}
	return inv, nil
}

// recipientInvitation loads an invitation for its recipient: missing, or in a status other than
// the wanted ones, is notFound; another user's is YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION.
func (s *server) recipientInvitation(ctx context.Context, as *authSession, id string, checkExpiry bool, notFound error) (*invitation, error) {
	inv, err := invitationByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if inv == nil || inv.Status != "pending" || (checkExpiry && inv.ExpiresAt.Time().Before(s.now())) {
		return nil, notFound
	}
	if !strings.EqualFold(inv.Email, as.User.Email) {
		return nil, errNotRecipient
	}
	return inv, nil
}

// invitationBody is the body of accept-, reject- and cancel-invitation.
type invitationBody struct {
	InvitationID string `json:"invitationId" required:"true"`
}

func (s *server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var body invitationBody
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	inv, err := s.recipientInvitation(ctx, as, body.InvitationID, true, errInvitationNotFound)
	if err != nil {
		return err
	}
	var joined member
	teamIDs := inv.teamIDs()
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		joined, err = s.acceptInvitation(ctx, tx, as, inv)
		return err
	})
	if err != nil {
		return err
	}
	if len(teamIDs) == 1 {
		// Upstream re-issues the session cookie when it makes the one team active.
		s.resetSessionCookie(w, r, as)
	} else {
		s.refreshCookieCache(w, r, as)
	}
	writeJSON(w, http.StatusOK, struct {
		Invitation *invitation `json:"invitation"`
		Member     member      `json:"member"`
	}{inv, joined})
	return nil
}

// acceptInvitation makes the caller a member with the invitation's roles and teams, within the
// organization's membership limit; inv becomes the accepted row.
func (s *server) acceptInvitation(ctx context.Context, tx pgx.Tx, as *authSession, inv *invitation) (member, error) {
	teamIDs := inv.teamIDs()
	org, err := lockOrganization(ctx, tx, inv.OrganizationID)
	if err != nil {
		return member{}, err
	}
	if org == nil {
		return member{}, errOrgNotFound
	}
	n, err := memberCount(ctx, tx, org.ID)
	if err != nil {
		return member{}, err
	}
	if n >= s.cfg.Org.membershipLimit() {
		return member{}, errMembershipLimit
	}
	// The status moves from pending to accepted in this statement, under the organization
	// lock: of two concurrent accepts only one gets the row; the other finds it gone.
	accepted, err := setInvitationStatus(ctx, tx, inv.ID, "accepted", "pending")
	if err != nil {
		return member{}, err
	}
	if accepted == nil || accepted.ExpiresAt.Time().Before(s.now()) {
		return member{}, errInvitationNotFound
	}
	*inv = *accepted
	// Upstream adds a second member row for a user who already belongs (through another
	// invitation); one is enough.
	existing, err := memberOf(ctx, tx, org.ID, as.User.ID)
	if err != nil {
		return member{}, err
	}
	if existing != nil {
		return member{}, errAlreadyMember
	}
	for _, id := range teamIDs {
		t, err := teamByID(ctx, tx, id, org.ID)
		if err != nil {
			return member{}, err
		}
		if t == nil {
			return member{}, errTeamNotFound
		}
		if _, err := s.addTeamMember(ctx, tx, id, as.User.ID); err != nil {
			return member{}, err
		}
	}
	if len(teamIDs) == 1 {
		if err := s.setActiveTeam(ctx, tx, as, &teamIDs[0]); err != nil {
			return member{}, err
		}
	}
	role := strings.Join(parseRoleList(inv.role()), ",")
	if role == "" {
		role = defaultMemberRole
	}
	joined, err := s.insertMember(ctx, tx, org.ID, as.User.ID, role)
	if err != nil {
		return member{}, err
	}
	return joined, s.setActiveOrganization(ctx, tx, as, &org.ID)
}

func (s *server) handleRejectInvitation(w http.ResponseWriter, r *http.Request) error {
	var body invitationBody
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	notFound := apiErr(400, "INVITATION_NOT_FOUND", "Invitation not found!")
	inv, err := s.recipientInvitation(r.Context(), as, body.InvitationID, false, notFound)
	if err != nil {
		return err
	}
	rejected, err := setInvitationStatus(r.Context(), s.db, inv.ID, "rejected", "pending")
	if err != nil {
		return err
	}
	if rejected == nil {
		return notFound
	}
	writeJSON(w, http.StatusOK, struct {
		Invitation *invitation `json:"invitation"`
		Member     *member     `json:"member"`
	}{rejected, nil})
	return nil
}

func (s *server) handleCancelInvitation(w http.ResponseWriter, r *http.Request) error {
	var body invitationBody
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	inv, err := invitationByID(ctx, s.db, body.InvitationID)
	if err != nil {
		return err
	}
	if inv == nil {
		return errInvitationNotFound
	}
	return answerInTx(w, ctx, s.db, func(tx pgx.Tx) (*invitation, error) {
		_, err := s.lockPermittedMember(ctx, tx, inv.OrganizationID, as.User.ID, statement{"invitation": {"cancel"}}, errMemberNotFound, errNotAllowedCancel)
		if err != nil {
			return nil, err
		}
		// Upstream cancels in any status.
		canceled, err := setInvitationStatus(ctx, tx, inv.ID, "canceled")
		if err == nil && canceled == nil {
			return nil, errInvitationNotFound
		}
		return canceled, err
	})
}

func (s *server) handleGetInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := queryString(r, "id", true)
	if err != nil {
		return err
	}
	as, err := s.optionalOrgSession(w, r, apiErr(401, "", "Not authenticated"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	inv, err := s.recipientInvitation(ctx, as, id, true, errInvitationNotFound)
	if err != nil {
		return err
	}
	org, err := orgByID(ctx, s.db, inv.OrganizationID)
	if err != nil {
		return err
	}
	if org == nil {
		return errOrgNotFound
	}
	inviter, err := memberOfOr(ctx, s.db, inv.OrganizationID, inv.InviterID, errInviterGone)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*invitation
		OrganizationName string `json:"organizationName"`
		OrganizationSlug string `json:"organizationSlug"`
		InviterEmail     string `json:"inviterEmail"`
	}{inv, org.Name, org.Slug, inviter.User.Email})
	return nil
}

func (s *server) handleListInvitations(w http.ResponseWriter, r *http.Request) error {
	id, as, err := s.orgParam(w, r, "organizationId")
	if err != nil {
		return err
	}
	ctx := r.Context()
	caller, err := s.callerIn(ctx, as, id, apiErr(400, "", "Organization ID is required"), apiErr(403, "", "You are not a member of this organization"))
	if err != nil {
		return err
	}
	orgID := caller.OrganizationID
	if !s.canViewInvitations(caller.Role) {
		return errNotAllowedList
	}
	invitations, err := listInvitations(ctx, s.db, `i."organizationId" = $1`, orgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withoutCreatorRoleInvitations(invitations, caller.Role))
	return nil
}

func (s *server) handleListUserInvitations(w http.ResponseWriter, r *http.Request) error {
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if err != nil {
		return err
	}
	// The email parameter is for upstream's server-side calls; over HTTP it would list anyone's.
	if _, ok := r.URL.Query()["email"]; ok {
		return apiErr(400, "", "User email cannot be passed for client side API calls.")
	}
	if as == nil {
		return apiErr(400, "", "Missing session headers, or email query parameter.")
	}
	// Invitations are found by email, so only a proven owner of the address may list them.
	if !as.User.EmailVerified {
		return errInvitationNeedsVerified
	}
	rows, err := s.db.Query(r.Context(), `SELECT `+invitationColumns+`, o.name FROM invitation i
		JOIN organization o ON o.id = i."organizationId"
		WHERE i.email = $1 AND i.status = 'pending' ORDER BY i."createdAt", i.id`, strings.ToLower(as.User.Email))
	if err != nil {
		return fmt.Errorf("list user invitations: %w", err)
	}
	type userInvitation struct {
		invitation
		OrganizationName string `json:"organizationName"`
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (userInvitation, error) {
		var ui userInvitation
		return ui, row.Scan(append(ui.scanTargets(), &ui.OrganizationName)...)
	})
	if err != nil {
		return fmt.Errorf("list user invitations: %w", err)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}
