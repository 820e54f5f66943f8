package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Teams (upstream packages/better-auth/src/plugins/organization/routes/crud-team.ts, teams
// enabled): groups of members inside an organization. Each organization starts with a default team
// named after it, holding its creator.

// team is the team row in upstream's key order. MemberCount is only shown by
// get-full-organization; the other endpoints leave it out, as upstream does.
type team struct {
	Name           string  `json:"name"`
	MemberCount    *int    `json:"memberCount,omitempty"`
	OrganizationID string  `json:"organizationId"`
	CreatedAt      jsTime  `json:"createdAt"`
	UpdatedAt      *jsTime `json:"updatedAt"`
	ID             string  `json:"id"`
}

const teamColumns = `t.name, t."organizationId", t."createdAt", t."updatedAt", t.id`

func (t *team) scanTargets() []any {
	return []any{&t.Name, &t.OrganizationID, &t.CreatedAt, &t.UpdatedAt, &t.ID}
}

// teamMember is the teamMember row (membershipKey is never returned, as upstream).
type teamMember struct {
	TeamID    string  `json:"teamId"`
	UserID    string  `json:"userId"`
	CreatedAt *jsTime `json:"createdAt"`
	ID        string  `json:"id"`
}

const teamMemberColumns = `tm."teamId", tm."userId", tm."createdAt", tm.id`

func (tm *teamMember) scanTargets() []any {
	return []any{&tm.TeamID, &tm.UserID, &tm.CreatedAt, &tm.ID}
}

var errTeamMemberNotCreated = fmt.Errorf("team member neither created nor found")

// teamByID finds a team, in orgID when it is not empty.
func teamByID(ctx context.Context, q querier, id, orgID string) (*team, error) {
	var t team
	err := q.QueryRow(ctx, `SELECT `+teamColumns+` FROM team t WHERE t.id = $1 AND ($2 = '' OR t."organizationId" = $2)`, id, orgID).Scan(t.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find team: %w", err)
	}
	return &t, nil
}

// listTeams returns orgID's teams, with their member counts when withCount.
func listTeams(ctx context.Context, q querier, orgID string, withCount bool) ([]team, error) {
	return queryTeams(ctx, q, withCount, `SELECT `+teamColumns+`, t."memberCount" FROM team t
		WHERE t."organizationId" = $1 ORDER BY t."createdAt", t.id`, orgID)
}

// userTeams returns the teams userID belongs to, in orgID when it is not empty, and only in
// organizations the user is still a member of.
func userTeams(ctx context.Context, q querier, userID, orgID string) ([]team, error) {
	return queryTeams(ctx, q, false, `SELECT `+teamColumns+`, t."memberCount" FROM "teamMember" tm
		JOIN team t ON t.id = tm."teamId"
		WHERE tm."userId" = $1 AND ($2 = '' OR t."organizationId" = $2)
			AND EXISTS (SELECT 1 FROM member m WHERE m."organizationId" = t."organizationId" AND m."userId" = $1)
		ORDER BY tm."createdAt", t.id`, userID, orgID)
}

func queryTeams(ctx context.Context, q querier, withCount bool, sql string, args ...any) ([]team, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (team, error) {
		var t team
		var count int
		err := row.Scan(append(t.scanTargets(), &count)...)
		if withCount {
			t.MemberCount = &count
		}
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// insertTeam creates a team. The default team made with an organization has no updatedAt, as
// upstream's; create-team sets it.
func (s *server) insertTeam(ctx context.Context, q querier, orgID, name string, withUpdatedAt bool) (team, error) {
	now := s.now()
	var updatedAt *jsTime
	if withUpdatedAt {
		u := jsTime(now)
		updatedAt = &u
	}
	var t team
	err := q.QueryRow(ctx, `INSERT INTO team AS t (id, name, "memberCount", "organizationId", "createdAt", "updatedAt")
		VALUES ($1, $2, 0, $3, $4, $5) RETURNING `+teamColumns,
		generateID(32), name, orgID, now, updatedAt).Scan(t.scanTargets()...)
	if err != nil {
		return team{}, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// addTeamMember puts userID in teamID, or returns the membership it already has.
func (s *server) addTeamMember(ctx context.Context, q querier, teamID, userID string) (teamMember, error) {
	var tm teamMember
	err := q.QueryRow(ctx, `SELECT `+teamMemberColumns+` FROM "teamMember" tm WHERE tm."teamId" = $1 AND tm."userId" = $2 LIMIT 1`,
		teamID, userID).Scan(tm.scanTargets()...)
	if err == nil {
		return tm, nil
	}
	if !isNoRows(err) {
		return teamMember{}, fmt.Errorf("find team member: %w", err)
	}
	key := membershipKey(teamID, userID)
	// The membership key is unique, so a concurrent insert of the same pair creates nothing here
	// and the row it made is read back instead.
	err = q.QueryRow(ctx, `INSERT INTO "teamMember" AS tm (id, "teamId", "userId", "membershipKey", "createdAt")
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("membershipKey") DO NOTHING RETURNING `+teamMemberColumns,
		generateID(32), teamID, userID, key, s.now()).Scan(tm.scanTargets()...)
	if isNoRows(err) {
		err = q.QueryRow(ctx, `SELECT `+teamMemberColumns+` FROM "teamMember" tm WHERE tm."membershipKey" = $1`, key).Scan(tm.scanTargets()...)
		if isNoRows(err) {
			return teamMember{}, errTeamMemberNotCreated
		}
	}
	if err != nil {
		return teamMember{}, fmt.Errorf("add team member: %w", err)
	}
	return tm, recountTeam(ctx, q, teamID)
}

// recountTeam sets team.memberCount from the rows, in one statement.
func recountTeam(ctx context.Context, q querier, teamID string) error {
	_, err := q.Exec(ctx, `UPDATE team SET "memberCount" = (SELECT count(*) FROM "teamMember" WHERE "teamId" = $1) WHERE id = $1`, teamID)
	if err != nil {
		return fmt.Errorf("count team members: %w", err)
	}
	return nil
}

func (s *server) handleCreateTeam(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name           string `json:"name" required:"true"`
		OrganizationID string `json:"organizationId"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.optionalOrgSession(w, r, errUnauthorizedEmpty)
	if err != nil {
		return err
	}
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return errNoActiveOrg
	}
	ctx := r.Context()
	return answerInTx(w, ctx, s.db, func(tx pgx.Tx) (team, error) {
		// Upstream's code for a non-member here is the invitation one (sic).
		_, err := s.lockPermittedMember(ctx, tx, orgID, as.User.ID, statement{"team": {"create"}}, errNotAllowedInvite, errNotAllowedCreateTeams)
		if err != nil {
			return team{}, err
		}
		return s.insertTeam(ctx, tx, orgID, body.Name, true)
	})
}

func (s *server) handleListTeams(w http.ResponseWriter, r *http.Request) error {
	id, as, err := s.orgParam(w, r, "organizationId")
	if err != nil {
		return err
	}
	caller, err := s.callerIn(r.Context(), as, id, errNoActiveOrg, errNotAllowedAccessOrg)
	if err != nil {
		return err
	}
	teams, err := listTeams(r.Context(), s.db, caller.OrganizationID, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, teams)
	return nil
}

func (s *server) handleUpdateTeam(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		TeamID string          `json:"teamId" required:"true"`
		Data   json.RawMessage `json:"data" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	var data struct {
		Name           *string `json:"name"`
		OrganizationID string  `json:"organizationId"`
	}
	if err := decodeNested(body.Data, &data, "body.data"); err != nil {
		return err
	}
	if data.Name != nil && *data.Name == "" {
		return tooSmall("body.data.name")
	}
	as, err := s.orgSession(w, r)
	if err != nil {
		return err
	}
	// data.organizationId names the team's organization; it never moves the team.
	orgID := orgIDOr(data.OrganizationID, as)
	if orgID == "" {
		return errNoActiveOrg
	}
	ctx := r.Context()
	return answerInTx(w, ctx, s.db, func(tx pgx.Tx) (team, error) {
		_, err := s.lockPermittedMember(ctx, tx, orgID, as.User.ID, statement{"team": {"update"}}, errNotAllowedUpdateTeam, errNotAllowedUpdateTeam)
		if err != nil {
			return team{}, err
		}
		var updated team
		err = tx.QueryRow(ctx, `UPDATE team t SET name = COALESCE($3, t.name), "updatedAt" = $4
			WHERE t.id = $1 AND t."organizationId" = $2 RETURNING `+teamColumns,
			body.TeamID, orgID, data.Name, s.now()).Scan(updated.scanTargets()...)
		if isNoRows(err) {
			return team{}, errTeamNotFound
		}
		if err != nil {
			return team{}, fmt.Errorf("update team: %w", err)
		}
		return updated, nil
	})
}

func (s *server) handleRemoveTeam(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		TeamID         string `json:"teamId" required:"true"`
		OrganizationID string `json:"organizationId"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if err != nil {
		return err
	}
	orgID := body.OrganizationID
	if as != nil {
		orgID = orgIDOr(orgID, as)
	}
	// Upstream asks for the organization before the session.
	if orgID == "" {
		return errNoActiveOrg
	}
	if as == nil {
		return errUnauthorizedEmpty
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		ctx := r.Context()
		caller, err := s.lockMember(ctx, tx, orgID, as.User.ID, errNotAllowedDeleteTeam)
		if err != nil {
			return err
		}
		if as.Session.ActiveTeamID != nil && *as.Session.ActiveTeamID == body.TeamID {
			return errNotAllowedDeleteTeam
		}
		if !s.cfg.Org.roles().hasPermission(caller.Role, statement{"team": {"delete"}}) {
			return errNotAllowedDeleteTeams
		}
		t, err := teamByID(ctx, tx, body.TeamID, orgID)
		if err != nil {
			return err
		}
		if t == nil {
			return errTeamNotFound
		}
		var teams int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM team WHERE "organizationId" = $1`, orgID).Scan(&teams); err != nil {
			return fmt.Errorf("count teams: %w", err)
		}
		if teams <= 1 {
			return errUnableRemoveLastTeam
		}
		return s.deleteTeam(ctx, tx, orgID, t.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Team removed successfully."})
	return nil
}

// deleteTeam removes a team, its memberships (ON DELETE CASCADE) and every trace of it in
// sessions and pending invitations.
func (s *server) deleteTeam(ctx context.Context, tx pgx.Tx, orgID, teamID string) error {
	// The team's members go with it (ON DELETE CASCADE); no session keeps it active.
	if _, err := tx.Exec(ctx, `DELETE FROM team WHERE id = $1`, teamID); err != nil {
		return fmt.Errorf("remove team: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE session SET "activeTeamId" = NULL WHERE "activeTeamId" = $1`, teamID); err != nil {
		return fmt.Errorf("remove team: %w", err)
	}
	// Pending invitations keep their other teams.
	pending, err := listInvitations(ctx, tx, `i."organizationId" = $1 AND i.status = 'pending' AND i."expiresAt" > $2`, orgID, s.now())
	if err != nil {
		return err
	}
	for _, inv := range pending {
		ids := inv.teamIDs()
		if !slices.Contains(ids, teamID) {
			continue
		}
		var rest *string
		if ids = slices.DeleteFunc(ids, func(id string) bool { return id == teamID }); len(ids) > 0 {
			joined := strings.Join(ids, ",")
			rest = &joined
		}
		if _, err := tx.Exec(ctx, `UPDATE invitation SET "teamId" = $2 WHERE id = $1`, inv.ID, rest); err != nil {
			return fmt.Errorf("update invitation teams: %w", err)
		}
	}
	return nil
}

func (s *server) handleSetActiveTeam(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		TeamID optional[string] `json:"teamId" nullable:"true"`
	}
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if body.TeamID.Set && body.TeamID.Value == nil {
		return s.unsetActive(w, r, as, as.Session.ActiveTeamID, s.setActiveTeam)
	}
	teamID := ""
	if body.TeamID.Value != nil {
		teamID = *body.TeamID.Value
	}
	if teamID == "" {
		if as.Session.ActiveTeamID == nil || *as.Session.ActiveTeamID == "" {
			writeJSON(w, http.StatusOK, nil)
			return nil
		}
		teamID = *as.Session.ActiveTeamID
	}
	orgID := orgIDOr("", as)
	if orgID == "" {
		return errNoActiveOrg
	}
	t, err := teamByID(ctx, s.db, teamID, orgID)
	if err != nil {
		return err
	}
	if t == nil {
		return errTeamNotFound
	}
	in, err := isTeamMember(ctx, s.db, teamID, as.User.ID)
	if err != nil {
		return err
	}
	if !in {
		return errNotTeamMemberForbidden
	}
	if err := s.setActiveTeam(ctx, s.db, as, &t.ID); err != nil {
		return err
	}
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, t)
	return nil
}

func isTeamMember(ctx context.Context, q querier, teamID, userID string) (bool, error) {
	var in bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "teamMember" WHERE "teamId" = $1 AND "userId" = $2)`, teamID, userID).Scan(&in)
	if err != nil {
		return false, fmt.Errorf("find team member: %w", err)
	}
	return in, nil
}

func (s *server) handleListUserTeams(w http.ResponseWriter, r *http.Request) error {
	userID, err := queryString(r, "userId", false)
	if err != nil {
		return err
	}
	explicitOrg, as, err := s.orgParam(w, r, "organizationId")
	if err != nil {
		return err
	}
	ctx := r.Context()
	orgID := orgIDOr(explicitOrg, as)
	target := cmp.Or(userID, as.User.ID)
	switch {
	case target != as.User.ID:
		// Another user's teams: for members who may update members, within one organization.
		if orgID == "" {
			return errNoActiveOrg
		}
		caller, err := memberOfOr(ctx, s.db, orgID, as.User.ID, errNotMemberOfThisOrg)
		if err != nil {
			return err
		}
		if !s.cfg.Org.roles().hasPermission(caller.Role, statement{"member": {"update"}}) {
			return errNotAllowedUpdateMember
		}
		_, err = memberOfOr(ctx, s.db, orgID, target, errOrgNotMember)
		if err != nil {
			return err
		}
	case explicitOrg != "":
		_, err = memberOfOr(ctx, s.db, orgID, as.User.ID, errNotMemberOfThisOrg)
		if err != nil {
			return err
		}
	default:
		// Every organization the user is in.
		orgID = ""
	}
	teams, err := userTeams(ctx, s.db, target, orgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, teams)
	return nil
}

func (s *server) handleListTeamMembers(w http.ResponseWriter, r *http.Request) error {
	teamID, as, err := s.orgParam(w, r, "teamId")
	if err != nil {
		return err
	}
	if teamID == "" && as.Session.ActiveTeamID != nil {
		teamID = *as.Session.ActiveTeamID
	}
	if teamID == "" {
		return errNoActiveTeam
	}
	ctx := r.Context()
	t, err := teamByID(ctx, s.db, teamID, "")
	if err != nil {
		return err
	}
	if t == nil {
		return errTeamNotFound
	}
	_, err = memberOfOr(ctx, s.db, t.OrganizationID, as.User.ID, errNotTeamMember)
	if err != nil {
		return err
	}
	in, err := isTeamMember(ctx, s.db, teamID, as.User.ID)
	if err != nil {
		return err
	}
	if !in {
		return errNotTeamMember
	}
	members, err := collect[teamMember](ctx, s.db, "list team members", `SELECT `+teamMemberColumns+`
		FROM "teamMember" tm WHERE tm."teamId" = $1 ORDER BY tm."createdAt", tm.id`, teamID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, members)
	return nil
}

// teamMemberChange is add-team-member's and remove-team-member's body.
type teamMemberChange struct {
	TeamID         string        `json:"teamId" required:"true"`
	UserID         coercedString `json:"userId" required:"true"`
	OrganizationID string        `json:"organizationId"`
}

// lockTeamChange runs the checks add- and remove-team-member share, in upstream's order, inside
// tx: the caller is a member with perm, the user a member, the team in the organization.
func (s *server) lockTeamChange(ctx context.Context, tx pgx.Tx, as *authSession, body teamMemberChange, perm string, refused error) (*team, error) {
	orgID := orgIDOr(body.OrganizationID, as)
	if orgID == "" {
		return nil, errNoActiveOrg
	}
	_, err := s.lockPermittedMember(ctx, tx, orgID, as.User.ID, statement{"member": {perm}}, errOrgNotMember, refused)
	if err != nil {
		return nil, err
	}
	_, err = memberOfOr(ctx, tx, orgID, string(body.UserID), errOrgNotMember)
	if err != nil {
		return nil, err
	}
	t, err := teamByID(ctx, tx, body.TeamID, orgID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errTeamNotFound
	}
	return t, nil
}

func (s *server) handleAddTeamMember(w http.ResponseWriter, r *http.Request) error {
	var body teamMemberChange
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	return answerInTx(w, r.Context(), s.db, func(tx pgx.Tx) (teamMember, error) {
		t, err := s.lockTeamChange(r.Context(), tx, as, body, "update", errNotAllowedAddTeamMember)
		if err != nil {
			return teamMember{}, err
		}
		return s.addTeamMember(r.Context(), tx, t.ID, string(body.UserID))
	})
}

func (s *server) handleRemoveTeamMember(w http.ResponseWriter, r *http.Request) error {
	var body teamMemberChange
	as, err := s.orgRequest(w, r, &body)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		ctx := r.Context()
		t, err := s.lockTeamChange(ctx, tx, as, body, "delete", errNotAllowedRemoveTeamMem)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM "teamMember" WHERE "teamId" = $1 AND "userId" = $2`, t.ID, string(body.UserID))
		if err != nil {
			return fmt.Errorf("remove team member: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errNotTeamMember
		}
		return recountTeam(ctx, tx, t.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Team member removed successfully."})
	return nil
}
