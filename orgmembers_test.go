package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestLastOwnerCannotLeaveOrBeDemoted ensures an organization always keeps an owner: the only
// owner cannot leave, demote themselves or be removed, only an owner touches owners, and a second
// owner lifts the restriction.
func TestLastOwnerCannotLeaveOrBeDemoted(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	admin := newOrgUser(t, ts, "admin")
	org := owner.createOrg(t, "acme")
	adminMember := admin.join(t, owner, org, "admin")
	ownerMember := owner.memberID(t, ts, org)

	owner.c.post("/api/auth/organization/leave", map[string]any{"organizationId": org}).wantError(t, 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": ownerMember, "role": "admin"}).wantError(t, 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER")
	admin.c.post("/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": owner.email}).wantError(t, 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	admin.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": ownerMember, "role": "member"}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	admin.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": adminMember, "role": "owner"}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	admin.c.post("/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "owner"}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	if n, _ := countOwners(context.Background(), ts.db, org); n != 1 {
		t.Fatalf("owners = %d, want 1", n)
	}

	// With a second owner, the first may step down and the second may leave.
	updated := owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": adminMember, "role": []string{"owner", "admin"}}).wantStatus(t, http.StatusOK).object(t)
	if updated["role"] != "owner,admin" {
		t.Fatalf("role = %v", updated["role"])
	}
	owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": ownerMember, "role": "member"}).wantStatus(t, http.StatusOK)
	owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": ownerMember, "role": "owner"}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	admin.c.post("/api/auth/organization/leave", map[string]any{"organizationId": org}).wantError(t, 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	owner.c.post("/api/auth/organization/leave", map[string]any{"organizationId": org}).wantStatus(t, http.StatusOK)
	if n, _ := countOwners(context.Background(), ts.db, org); n != 1 {
		t.Fatalf("owners = %d, want 1", n)
	}
}

// race runs every f at the same moment and returns their statuses in order.
func race(fs ...func() *testResponse) []int {
	start := make(chan struct{})
	statuses := make([]int, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = f().Status
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// TestMembersRemovingEachOtherLeaveAConsistentState ensures that two members who may remove each
// other and do so at the same moment end with exactly one of them removed: the organization lock
// makes the second removal find its caller gone, so two owners can never remove the last two
// owners together.
func TestMembersRemovingEachOtherLeaveAConsistentState(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	a := newOrgUser(t, ts, "a")
	b := newOrgUser(t, ts, "b")
	for round := range 6 {
		role := []string{"owner", "admin"}[round%2]
		org := owner.createOrg(t, fmt.Sprintf("race%d", round))
		aMember := a.join(t, owner, org, role)
		bMember := b.join(t, owner, org, role)
		if role == "owner" {
			// Without the creator the two are the only owners: both removals at once would
			// leave none.
			owner.c.post("/api/auth/organization/leave", map[string]any{"organizationId": org}).wantStatus(t, http.StatusOK)
		}
		got := race(
			func() *testResponse {
				return a.c.post("/api/auth/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": bMember})
			},
			func() *testResponse {
				return b.c.post("/api/auth/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": aMember})
			},
		)
		ok := 0
		for _, s := range got {
			if s == http.StatusOK {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%s round %d: statuses %v, want exactly one removal", role, round, got)
		}
		if n := ts.orgCount(t, "member", org); role == "owner" && n != 1 || role == "admin" && n != 2 {
			t.Fatalf("%s round %d: %d members left", role, round, n)
		}
		if owners, _ := countOwners(context.Background(), ts.db, org); owners < 1 {
			t.Fatalf("%s round %d: no owner left", role, round)
		}
	}
}

// TestInvitationAcceptedTwiceAtOnceMakesOneMember ensures an invitation accepted from two sessions
// at the same moment is used once: one accept wins, the other finds it gone, one member exists.
func TestInvitationAcceptedTwiceAtOnceMakesOneMember(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	joiner := newOrgUser(t, ts, "joiner")
	second := ts.client(t)
	second.post("/api/auth/sign-in/email", map[string]any{"email": joiner.email, "password": "password123"}).wantStatus(t, http.StatusOK)
	for round := range 5 {
		org := owner.createOrg(t, fmt.Sprintf("twice%d", round))
		inv := owner.invite(t, org, joiner.email, "member")
		accept := func(c *testClient) func() *testResponse {
			return func() *testResponse {
				return c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv})
			}
		}
		got := race(accept(joiner.c), accept(second))
		if !(got[0] == 200 && got[1] == 400 || got[0] == 400 && got[1] == 200) {
			t.Fatalf("round %d: statuses %v, want one 200 and one 400", round, got)
		}
		if n := ts.orgCount(t, "member", org); n != 2 {
			t.Fatalf("round %d: %d members, want owner and joiner", round, n)
		}
	}
}

// seedMembers adds n users to orgID as members straight in Postgres: a fixture for limits that
// would take hundreds of sign-ups through the API.
func seedMembers(t *testing.T, ts *testServer, orgID string, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := ts.db.Exec(ctx, `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
		SELECT 'seed' || g, 'Seed ' || g, 'seed' || g || '@example.com', false, now(), now() FROM generate_series(1, $1) g`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.Exec(ctx, `INSERT INTO member (id, "organizationId", "userId", role, "createdAt")
		SELECT 'seedmember' || g, $2, 'seed' || g, 'member', now() FROM generate_series(1, $1) g`, n, orgID); err != nil {
		t.Fatal(err)
	}
}

// TestMembershipLimitAbove100 ensures a membership limit over upstream's default of 100 is honoured
// exactly and that such an organization lists all its members (upstream answered 500 there, #2050).
func TestMembershipLimitAbove100(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.Org.MembershipLimit = 102 })
	owner := newOrgUser(t, ts, "owner")
	first := newOrgUser(t, ts, "first")
	last := newOrgUser(t, ts, "last")
	org := owner.createOrg(t, "big")
	seedMembers(t, ts, org, 100)
	first.join(t, owner, org, "member")

	full := owner.c.get("/api/auth/organization/get-full-organization").wantStatus(t, http.StatusOK).object(t)
	if got := len(full["members"].([]any)); got != 102 {
		t.Fatalf("get-full-organization lists %d members, want 102", got)
	}
	list := owner.c.get("/api/auth/organization/list-members").wantStatus(t, http.StatusOK).object(t)
	if got := len(list["members"].([]any)); got != 102 || list["total"] != float64(102) {
		t.Fatalf("list-members lists %d of %v", got, list["total"])
	}
	page := owner.c.get("/api/auth/organization/list-members?limit=10&offset=100&sortBy=createdAt&sortDirection=asc").wantStatus(t, http.StatusOK).object(t)
	if got := len(page["members"].([]any)); got != 2 {
		t.Fatalf("last page has %d members, want 2", got)
	}
	inv := owner.invite(t, org, last.email, "member")
	last.c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv}).wantError(t, 403, "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED")
	if n := ts.orgCount(t, "member", org); n != 102 {
		t.Fatalf("%d members, want 102", n)
	}
	// The refused accept left the invitation usable once a seat frees up.
	owner.c.post("/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": first.email}).wantStatus(t, http.StatusOK)
	last.c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv}).wantStatus(t, http.StatusOK)
}

// TestOrganizationLimitAbove100 ensures ORG_LIMIT counts every organization a user belongs to, also
// past 100 (upstream counted a list capped at 100, so higher limits never applied).
func TestOrganizationLimitAbove100(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.Org.Limit = 102 })
	u := newOrgUser(t, ts, "busy")
	if _, err := ts.db.Exec(context.Background(), `
		WITH o AS (INSERT INTO organization (id, name, slug, "createdAt") SELECT 'seedorg' || g, 'Org ' || g, 'seed-' || g, now() FROM generate_series(1, 101) g RETURNING id)
		INSERT INTO member (id, "organizationId", "userId", role, "createdAt") SELECT 'm' || o.id, o.id, $1, 'owner', now() FROM o`, u.id); err != nil {
		t.Fatal(err)
	}
	u.createOrg(t, "one-more")
	u.c.post("/api/auth/organization/create", map[string]any{"name": "Too many", "slug": "too-many"}).wantError(t, 403, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS")
	var orgs []any
	u.c.get("/api/auth/organization/list").wantStatus(t, http.StatusOK).decode(t, &orgs)
	if len(orgs) != 102 {
		t.Fatalf("list has %d organizations, want 102", len(orgs))
	}
}

// TestListMembersFiltersAndSorts ensures list-members' query options select what they say and that
// unknown fields and operators are 400s rather than upstream's 500s.
func TestListMembersFiltersAndSorts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	org := owner.createOrg(t, "acme")
	newOrgUser(t, ts, "admin").join(t, owner, org, "admin")
	newOrgUser(t, ts, "member").join(t, owner, org, "member")
	cases := []struct {
		query string
		want  []string // emails in order
	}{
		{"", []string{"owner", "admin", "member"}},
		{"sortBy=createdAt&sortDirection=desc", []string{"member", "admin", "owner"}},
		{"filterField=role&filterValue=admin", []string{"admin"}},
		{"filterField=role&filterOperator=ne&filterValue=admin", []string{"owner", "member"}},
		{"filterField=role&filterOperator=in&filterValue=admin&filterValue=owner", []string{"owner", "admin"}},
		{"filterField=role&filterOperator=not_in&filterValue=admin&filterValue=owner", []string{"member"}},
		{"filterField=role&filterOperator=starts_with&filterValue=ow", []string{"owner"}},
		{"filterField=role&filterOperator=contains&filterValue=%25", nil},
		{"limit=1&offset=1", []string{"admin"}},
	}
	for _, tc := range cases {
		resp := owner.c.get("/api/auth/organization/list-members?"+tc.query).wantStatus(t, http.StatusOK).object(t)
		var got []string
		for _, m := range resp["members"].([]any) {
			got = append(got, m.(map[string]any)["user"].(map[string]any)["name"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: members %v, want %v", tc.query, got, tc.want)
		}
	}
	for _, q := range []string{"sortBy=password", "filterField=email&filterValue=x", "filterField=role&filterOperator=regex&filterValue=x", "sortBy=role&sortDirection=up", "filterField=createdAt&filterValue=yesterday"} {
		owner.c.get("/api/auth/organization/list-members?"+q).wantError(t, 400, "VALIDATION_ERROR")
	}
}

// TestListMembersChecksEnumsAsUpstream ensures sortDirection and filterOperator are checked against
// upstream's enums even without sortBy or filterField, and refused in its words.
func TestListMembersChecksEnumsAsUpstream(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	owner.createOrg(t, "acme")
	operators := `[query.filterOperator] Invalid option: expected one of "eq"|"ne"|"lt"|"lte"|"gt"|"gte"|"in"|"not_in"|"contains"|"starts_with"|"ends_with"`
	for _, tc := range []struct{ query, message string }{
		{"sortDirection=up", `[query.sortDirection] Invalid option: expected one of "asc"|"desc"`},
		{"sortDirection=", `[query.sortDirection] Invalid option: expected one of "asc"|"desc"`},
		{"filterOperator=regex", operators},
		{"filterField=role&filterOperator=regex&filterValue=x", operators},
		{"filterOperator=regex&sortDirection=up", `[query.sortDirection] Invalid option: expected one of "asc"|"desc"; ` + operators},
	} {
		resp := owner.c.get("/api/auth/organization/list-members?" + tc.query)
		resp.wantError(t, 400, "VALIDATION_ERROR")
		if got := resp.object(t)["message"]; got != tc.message {
			t.Errorf("%q: message %q, want %q", tc.query, got, tc.message)
		}
	}
}
