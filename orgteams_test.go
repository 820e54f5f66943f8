package main

import (
	"net/http"
	"testing"
)

// teamCounts returns get-full-organization's memberCount of each team, by name.
func teamCounts(t *testing.T, u *orgUser) map[string]float64 {
	t.Helper()
	full := u.c.get("/api/auth/organization/get-full-organization").wantStatus(t, http.StatusOK).object(t)
	counts := map[string]float64{}
	for _, tm := range full["teams"].([]any) {
		tm := tm.(map[string]any)
		counts[tm["name"].(string)] = tm["memberCount"].(float64)
	}
	return counts
}

// TestTeamsLifecycle ensures teams work as upstream's with teams enabled: a default team holding
// the creator, invitations into teams, the active team, membership changes with their counts, and
// removal that keeps pending invitations' other teams and never leaves an organization teamless.
func TestTeamsLifecycle(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	admin := newOrgUser(t, ts, "admin")
	member := newOrgUser(t, ts, "member")
	org := owner.createOrg(t, "acme")

	var teams []map[string]any
	owner.c.get("/api/auth/organization/list-teams").wantStatus(t, http.StatusOK).decode(t, &teams)
	if len(teams) != 1 || teams[0]["name"] != "Acme" || teams[0]["memberCount"] != nil {
		t.Fatalf("teams = %v, want the default team without memberCount", teams)
	}
	defaultTeam := teams[0]["id"].(string)
	if s := sessionOf(t, owner.c); s["activeTeamId"] != defaultTeam {
		t.Fatalf("active team = %v, want the default team", s["activeTeamId"])
	}
	two := owner.c.post("/api/auth/organization/create-team", map[string]any{"name": "Two"}).wantStatus(t, http.StatusOK).object(t)
	twoID := two["id"].(string)
	renamed := owner.c.post("/api/auth/organization/update-team", map[string]any{"teamId": twoID, "data": map[string]any{"name": "Second"}}).wantStatus(t, http.StatusOK).object(t)
	if renamed["name"] != "Second" || renamed["updatedAt"] == nil {
		t.Fatalf("update-team = %v", renamed)
	}
	owner.c.post("/api/auth/organization/update-team", map[string]any{"teamId": "nope", "data": map[string]any{"name": "X"}}).wantError(t, 400, "TEAM_NOT_FOUND")
	owner.c.post("/api/auth/organization/update-team", map[string]any{"teamId": twoID, "data": map[string]any{"name": ""}}).wantError(t, 400, "VALIDATION_ERROR")

	// Invited into one team: it becomes the active team, and the session cookie is re-issued.
	inv := owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": admin.email, "role": "admin", "teamId": twoID}).wantStatus(t, http.StatusOK).object(t)
	if inv["teamId"] != twoID {
		t.Fatalf("invitation teamId = %v", inv["teamId"])
	}
	resp := admin.c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv["id"]}).wantStatus(t, http.StatusOK)
	if resp.setCookie("better-auth.session_token") == "" {
		t.Fatal("accepting into one team did not re-issue the session cookie")
	}
	if s := sessionOf(t, admin.c); s["activeTeamId"] != twoID || s["activeOrganizationId"] != org {
		t.Fatalf("admin session = %v", s)
	}
	// Invited into two teams: member of both, no active team chosen.
	inv = owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": member.email, "role": "member", "teamId": []string{defaultTeam, twoID}}).wantStatus(t, http.StatusOK).object(t)
	member.c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv["id"]}).wantStatus(t, http.StatusOK)
	if s := sessionOf(t, member.c); s["activeTeamId"] != nil {
		t.Fatalf("member active team = %v", s["activeTeamId"])
	}
	if got := teamCounts(t, owner); got["Acme"] != 2 || got["Second"] != 2 {
		t.Fatalf("member counts = %v", got)
	}

	var mine []map[string]any
	member.c.get("/api/auth/organization/list-user-teams").wantStatus(t, http.StatusOK).decode(t, &mine)
	if len(mine) != 2 {
		t.Fatalf("member's teams = %v", mine)
	}
	admin.c.get("/api/auth/organization/list-user-teams?userId="+owner.id).wantStatus(t, http.StatusOK).decode(t, &mine)
	if len(mine) != 1 || mine[0]["id"] != defaultTeam {
		t.Fatalf("owner's teams seen by the admin = %v", mine)
	}
	member.c.get("/api/auth/organization/list-user-teams?userId="+owner.id).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	var teamMembers []map[string]any
	admin.c.get("/api/auth/organization/list-team-members").wantStatus(t, http.StatusOK).decode(t, &teamMembers)
	if len(teamMembers) != 2 {
		t.Fatalf("active team members = %v", teamMembers)
	}
	owner.c.get("/api/auth/organization/list-team-members?teamId="+twoID).wantError(t, 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	member.c.get("/api/auth/organization/list-team-members").wantError(t, 400, "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM")

	// Active team: only a team of the active organization the user is in.
	owner.c.post("/api/auth/organization/set-active-team", map[string]any{"teamId": twoID}).wantError(t, 403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	owner.c.post("/api/auth/organization/set-active-team", map[string]any{"teamId": "nope"}).wantError(t, 400, "TEAM_NOT_FOUND")
	set := member.c.post("/api/auth/organization/set-active-team", map[string]any{"teamId": twoID}).wantStatus(t, http.StatusOK)
	if set.setCookie("better-auth.session_token") == "" || sessionOf(t, member.c)["activeTeamId"] != twoID {
		t.Fatalf("set-active-team: %s", set.Body)
	}
	member.c.post("/api/auth/organization/set-active-team", map[string]any{"teamId": nil}).wantStatus(t, http.StatusOK)
	if s := sessionOf(t, member.c); s["activeTeamId"] != nil {
		t.Fatalf("active team after unsetting = %v", s["activeTeamId"])
	}

	// Adding is idempotent; counts follow every change.
	for range 2 {
		tm := admin.c.post("/api/auth/organization/add-team-member", map[string]any{"teamId": twoID, "userId": owner.id}).wantStatus(t, http.StatusOK).object(t)
		if tm["teamId"] != twoID || tm["userId"] != owner.id || tm["membershipKey"] != nil {
			t.Fatalf("add-team-member = %v", tm)
		}
	}
	if got := teamCounts(t, owner); got["Second"] != 3 {
		t.Fatalf("counts after adding = %v", got)
	}
	admin.c.post("/api/auth/organization/add-team-member", map[string]any{"teamId": twoID, "userId": "stranger"}).wantError(t, 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	admin.c.post("/api/auth/organization/remove-team-member", map[string]any{"teamId": twoID, "userId": owner.id}).wantStatus(t, http.StatusOK)
	admin.c.post("/api/auth/organization/remove-team-member", map[string]any{"teamId": twoID, "userId": owner.id}).wantError(t, 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	owner.c.post("/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": member.email}).wantStatus(t, http.StatusOK)
	if got := teamCounts(t, owner); got["Acme"] != 1 || got["Second"] != 1 {
		t.Fatalf("counts after removing the member = %v", got)
	}

	// Removing a team: pending invitations keep their other teams; nobody keeps it active.
	pending := owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": "later@example.com", "role": "member", "teamId": []string{twoID, defaultTeam}}).wantStatus(t, http.StatusOK).object(t)
	admin.c.post("/api/auth/organization/remove-team", map[string]any{"teamId": twoID}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM")
	owner.c.post("/api/auth/organization/remove-team", map[string]any{"teamId": twoID}).wantStatus(t, http.StatusOK)
	var invitations []map[string]any
	owner.c.get("/api/auth/organization/list-invitations").wantStatus(t, http.StatusOK).decode(t, &invitations)
	for _, i := range invitations {
		if i["id"] == pending["id"] && i["teamId"] != defaultTeam {
			t.Fatalf("pending invitation teams = %v, want the default team only", i["teamId"])
		}
	}
	if s := sessionOf(t, admin.c); s["activeTeamId"] != nil {
		t.Fatalf("admin's active team after its removal = %v", s["activeTeamId"])
	}
	owner.c.post("/api/auth/organization/set-active-team", map[string]any{"teamId": nil}).wantStatus(t, http.StatusOK)
	owner.c.post("/api/auth/organization/remove-team", map[string]any{"teamId": defaultTeam}).wantError(t, 400, "UNABLE_TO_REMOVE_LAST_TEAM")
	if n := ts.orgCount(t, "teamMember", org); n != 1 {
		t.Fatalf("%d team memberships left, want the owner's in the default team", n)
	}
}

// TestMembershipKeyIsUpstreams ensures teamMember.membershipKey is computed as upstream's, so
// either server recognises the other's rows; the values come from the reference server's database.
func TestMembershipKeyIsUpstreams(t *testing.T) {
	t.Parallel()
	cases := []struct{ team, user, key string }{
		{"QMO2T6zrw0Q8XCbQCdctgwlpaoJR2G9b", "xwcApIUDfO8WxUjh42k80y0OTNNTQGzM", "DuZkAsZCZYZnmeysU10ik-UD_A3icPm-zSlVZIqlHN4"},
		{"vXkdnuO6xAv2WA1CRNNvUSIlE0f7ZGM6", "mjvuvcCNBEISNbZ32itx4hriduxCgrwH", "8CKoLXWX6axJhEkHA4_X690Z5mhD0CYLMGbrK_A2p44"},
	}
	for _, tc := range cases {
		if got := membershipKey(tc.team, tc.user); got != tc.key {
			t.Errorf("membershipKey(%s, %s) = %s, want %s", tc.team, tc.user, got, tc.key)
		}
	}
}
