package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// expireInvitation moves an invitation's expiry into the past, as time passing would.
func expireInvitation(t *testing.T, ts *testServer, id string) {
	t.Helper()
	if _, err := ts.db.Exec(context.Background(), `UPDATE invitation SET "expiresAt" = $2 WHERE id = $1`, id, ts.now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestInvitationOnlyForItsRecipientOnceBeforeExpiry ensures an invitation id is a single-use key
// for one email address: another user cannot read, accept or reject it, it stops working when it
// expires, and once used (accepted, rejected or canceled) it cannot be used again.
func TestInvitationOnlyForItsRecipientOnceBeforeExpiry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	guest := newOrgUser(t, ts, "guest")
	stranger := newOrgUser(t, ts, "stranger")
	org := owner.createOrg(t, "acme")

	inv := owner.invite(t, org, "Guest@Example.com", "member")
	accept := func(u *orgUser, id string) *testResponse {
		return u.c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": id})
	}
	accept(stranger, inv).wantError(t, 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	stranger.c.get("/api/auth/organization/get-invitation?id="+inv).wantError(t, 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	stranger.c.post("/api/auth/organization/reject-invitation", map[string]any{"invitationId": inv}).wantError(t, 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": guest.email, "role": "member"}).wantError(t, 400, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION")

	// Expired: unusable, and no longer blocking a new invitation.
	expireInvitation(t, ts, inv)
	accept(guest, inv).wantError(t, 400, "INVITATION_NOT_FOUND")
	guest.c.get("/api/auth/organization/get-invitation?id="+inv).wantError(t, 400, "INVITATION_NOT_FOUND")
	fresh := owner.invite(t, org, guest.email, "admin")
	if fresh == inv {
		t.Fatal("an expired invitation was reused")
	}
	accepted := accept(guest, fresh).wantStatus(t, http.StatusOK).object(t)
	if accepted["member"].(map[string]any)["role"] != "admin" || accepted["invitation"].(map[string]any)["status"] != "accepted" {
		t.Fatalf("accept = %v", accepted)
	}
	accept(guest, fresh).wantError(t, 400, "INVITATION_NOT_FOUND")
	guest.c.post("/api/auth/organization/reject-invitation", map[string]any{"invitationId": fresh}).wantError(t, 400, "INVITATION_NOT_FOUND")
	owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": guest.email, "role": "member"}).wantError(t, 400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION")

	// Rejected and canceled invitations cannot be accepted afterwards.
	rejected := owner.invite(t, org, stranger.email, "member")
	got := stranger.c.post("/api/auth/organization/reject-invitation", map[string]any{"invitationId": rejected}).wantStatus(t, http.StatusOK).object(t)
	if got["invitation"].(map[string]any)["status"] != "rejected" || got["member"] != nil {
		t.Fatalf("reject = %v", got)
	}
	accept(stranger, rejected).wantError(t, 400, "INVITATION_NOT_FOUND")
	canceled := owner.invite(t, org, stranger.email, "member")
	got = owner.c.post("/api/auth/organization/cancel-invitation", map[string]any{"invitationId": canceled}).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "canceled" {
		t.Fatalf("cancel = %v", got)
	}
	accept(stranger, canceled).wantError(t, 400, "INVITATION_NOT_FOUND")
	if n := ts.orgCount(t, "member", org); n != 2 {
		t.Fatalf("%d members, want owner and guest", n)
	}
}

// TestInviteMemberChecksRolesAndResends ensures invite-member refuses unknown and empty roles with
// upstream's answers, joins several roles, and that resend renews the same invitation and mails it
// again.
func TestInviteMemberChecksRolesAndResends(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.Org.InvitationExpiresIn = time.Hour })
	owner := newOrgUser(t, ts, "owner")
	owner.createOrg(t, "acme")
	invite := func(body map[string]any) *testResponse {
		return owner.c.post("/api/auth/organization/invite-member", body)
	}
	resp := invite(map[string]any{"email": "x@example.com", "role": "superuser"}).wantStatus(t, 400)
	if string(resp.Body) != `{"message":"ROLE_NOT_FOUND: superuser"}` {
		t.Fatalf("unknown role: %s", resp.Body)
	}
	invite(map[string]any{"email": "x@example.com", "role": []string{}}).wantError(t, 400, "ROLE_NOT_FOUND")
	invite(map[string]any{"email": "x@example.com", "role": " , "}).wantError(t, 400, "ROLE_NOT_FOUND")
	invite(map[string]any{"email": "not-an-email", "role": "member"}).wantError(t, 400, "INVALID_EMAIL")
	invite(map[string]any{"email": "x@example.com", "role": "member", "teamId": "a,b"}).wantError(t, 400, "INVALID_TEAM_ID")
	invite(map[string]any{"email": "x@example.com", "role": "member", "teamId": []string{"nope"}}).wantError(t, 400, "TEAM_NOT_FOUND")

	first := invite(map[string]any{"email": "x@example.com", "role": "member, admin"}).wantStatus(t, http.StatusOK).object(t)
	if first["role"] != "member,admin" || first["email"] != "x@example.com" {
		t.Fatalf("invitation = %v", first)
	}
	created, _ := time.Parse(time.RFC3339, first["createdAt"].(string))
	expires, _ := time.Parse(time.RFC3339, first["expiresAt"].(string))
	if got := expires.Sub(created); got != time.Hour {
		t.Fatalf("invitation valid for %v, want ORG_INVITATION_EXPIRES_IN (1h)", got)
	}
	again := invite(map[string]any{"email": "X@example.com", "role": "owner", "resend": true}).wantStatus(t, http.StatusOK).object(t)
	if again["id"] != first["id"] || again["role"] != "member,admin" {
		t.Fatalf("resend = %v, want the same invitation", again)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.mailCount("organization-invitation", "x@example.com") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := ts.mailCount("organization-invitation", "x@example.com"); got != 2 {
		t.Fatalf("%d invitation mails, want 2 (invite and resend)", got)
	}
}

// TestInvitationLimit ensures ORG_INVITATION_LIMIT caps the pending, unexpired invitations of an
// organization, and that used or expired ones free their place.
func TestInvitationLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.Org.InvitationLimit = 2 })
	owner := newOrgUser(t, ts, "owner")
	org := owner.createOrg(t, "acme")
	a := owner.invite(t, org, "a@example.com", "member")
	b := owner.invite(t, org, "b@example.com", "member")
	owner.c.post("/api/auth/organization/invite-member", map[string]any{"email": "c@example.com", "role": "member"}).wantError(t, 403, "INVITATION_LIMIT_REACHED")
	owner.c.post("/api/auth/organization/cancel-invitation", map[string]any{"invitationId": a}).wantStatus(t, http.StatusOK)
	owner.invite(t, org, "c@example.com", "member")
	expireInvitation(t, ts, b)
	owner.invite(t, org, "d@example.com", "member")
}

// TestInvitationsVisibleOnlyToInviters ensures pending invitations (whose ids are accept links) are
// listed only to members who may invite, and that invitations granting the owner role stay hidden
// from non-owners.
func TestInvitationsVisibleOnlyToInviters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	admin := newOrgUser(t, ts, "admin")
	member := newOrgUser(t, ts, "member")
	org := owner.createOrg(t, "acme")
	admin.join(t, owner, org, "admin")
	member.join(t, owner, org, "member")
	owner.invite(t, org, "boss@example.com", "owner")
	owner.invite(t, org, "dev@example.com", "member")
	count := func(u *orgUser, path string) int {
		var list []map[string]any
		u.c.get(path).wantStatus(t, http.StatusOK).decode(t, &list)
		return len(list)
	}
	if got := count(owner, "/api/auth/organization/list-invitations"); got != 4 {
		t.Fatalf("owner sees %d invitations, want 4", got)
	}
	if got := count(admin, "/api/auth/organization/list-invitations"); got != 3 {
		t.Fatalf("admin sees %d invitations, want 3 (not the owner one)", got)
	}
	member.c.get("/api/auth/organization/list-invitations").wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS")
	full := member.c.get("/api/auth/organization/get-full-organization").wantStatus(t, http.StatusOK).object(t)
	if got := len(full["invitations"].([]any)); got != 0 {
		t.Fatalf("member sees %d invitations in get-full-organization", got)
	}
	full = admin.c.get("/api/auth/organization/get-full-organization").wantStatus(t, http.StatusOK).object(t)
	if got := len(full["invitations"].([]any)); got != 3 {
		t.Fatalf("admin sees %d invitations in get-full-organization, want 3", got)
	}
	outsider := newOrgUser(t, ts, "outsider")
	resp := outsider.c.get("/api/auth/organization/list-invitations?organizationId="+org).wantStatus(t, 403)
	if string(resp.Body) != `{"message":"You are not a member of this organization"}` {
		t.Fatalf("outsider: %s", resp.Body)
	}
}

// TestListUserInvitationsNeedsVerifiedEmail ensures a user lists the invitations sent to their
// address only once they have proven they own it, and never anyone else's.
func TestListUserInvitationsNeedsVerifiedEmail(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := newOrgUser(t, ts, "owner")
	guest := newOrgUser(t, ts, "guest")
	org := owner.createOrg(t, "acme")
	owner.invite(t, org, guest.email, "member")
	guest.c.get("/api/auth/organization/list-user-invitations").wantError(t, 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
	if _, err := ts.db.Exec(context.Background(), `UPDATE "user" SET "emailVerified" = true WHERE id = $1`, guest.id); err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	guest.c.get("/api/auth/organization/list-user-invitations").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list) != 1 || list[0]["organizationName"] != "Acme" || list[0]["status"] != "pending" {
		t.Fatalf("list-user-invitations = %v", list)
	}
	resp := guest.c.get("/api/auth/organization/list-user-invitations?email="+owner.email).wantStatus(t, 400)
	if string(resp.Body) != `{"message":"User email cannot be passed for client side API calls."}` {
		t.Fatalf("email parameter: %s", resp.Body)
	}
}

// TestInvitationURLTemplate ensures ORG_INVITATION_URL shapes the mailed accept link.
func TestInvitationURLTemplate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.Org.InvitationURL = "https://app.example.com/join/{id}?from=mail" })
	owner := newOrgUser(t, ts, "owner")
	org := owner.createOrg(t, "acme")
	id := owner.invite(t, org, "x@example.com", "member")
	if got, want := ts.waitMail(t, "organization-invitation", "x@example.com").URL, "https://app.example.com/join/"+id+"?from=mail"; got != want {
		t.Fatalf("url = %q, want %q", got, want)
	}
}

// mailCount counts the delivered mails of typ to email.
func (ts *testServer) mailCount(typ, email string) int {
	ts.mails.mu.Lock()
	defer ts.mails.mu.Unlock()
	n := 0
	for _, m := range ts.mails.sent {
		if m.Type == typ && m.Email == email {
			n++
		}
	}
	return n
}
