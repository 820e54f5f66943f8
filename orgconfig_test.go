package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOrgConfigFromEnvironment ensures the organization settings default to upstream's values and
// that unusable values stop the server at start.
func TestOrgConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	c, err := loadConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Org.Limit != 0 || c.Org.MembershipLimit != 100 || c.Org.InvitationLimit != 100 || c.Org.InvitationExpiresIn != 48*time.Hour || c.Org.Roles != nil {
		t.Fatalf("defaults = %+v", c.Org)
	}
	c, err = loadConfig(nil, env(map[string]string{"ORG_LIMIT": "3", "ORG_MEMBERSHIP_LIMIT": "500", "ORG_INVITATION_LIMIT": "250", "ORG_INVITATION_EXPIRES_IN": "3600", "ORG_ROLES_FILE": "testdata/organization/roles.json"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Org.Limit != 3 || c.Org.MembershipLimit != 500 || c.Org.InvitationLimit != 250 || c.Org.InvitationExpiresIn != time.Hour || c.Org.Roles["billing"] == nil {
		t.Fatalf("from env = %+v", c.Org)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := map[string]map[string]string{
		"negative limit":        {"ORG_LIMIT": "-1"},
		"zero members":          {"ORG_MEMBERSHIP_LIMIT": "0"},
		"invitation limit text": {"ORG_INVITATION_LIMIT": "lots"},
		"expiry as duration":    {"ORG_INVITATION_EXPIRES_IN": "48h"},
		"url without id":        {"ORG_INVITATION_URL": "https://app.example.com/invite"},
		"url not http":          {"ORG_INVITATION_URL": "javascript:alert({id})"},
		"missing roles file":    {"ORG_ROLES_FILE": filepath.Join(dir, "absent.json")},
		"roles not json":        {"ORG_ROLES_FILE": write("a.json", "billing: [read]")},
		"role name with comma":  {"ORG_ROLES_FILE": write("b.json", `{"a,b": {"ac": ["read"]}}`)},
		"role without object":   {"ORG_ROLES_FILE": write("c.json", `{"billing": null}`)},
		"actions not a list":    {"ORG_ROLES_FILE": write("d.json", `{"billing": {"ac": "read"}}`)},
	}
	for name, vars := range bad {
		if _, err := loadConfig(nil, env(vars)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRoleAuthorization ensures permission checks follow upstream's role.authorize and
// hasPermission: all requested actions of all requested resources, any one of a member's roles.
func TestRoleAuthorization(t *testing.T) {
	t.Parallel()
	rs := defaultOrgRoles
	cases := []struct {
		role    string
		request map[string][]string
		want    bool
	}{
		{"owner", map[string][]string{"organization": {"delete"}}, true},
		{"admin", map[string][]string{"organization": {"delete"}}, false},
		{"admin", map[string][]string{"organization": {"update"}, "member": {"create", "delete"}}, true},
		{"admin", map[string][]string{"organization": {"update", "delete"}}, false},
		{"member", map[string][]string{"ac": {"read"}}, true},
		{"member", map[string][]string{"member": {"create"}}, false},
		{"member, admin", map[string][]string{"member": {"create"}}, true},
		{"owner", map[string][]string{}, false},
		{"owner", map[string][]string{"organization": {}}, false},
		{"owner", map[string][]string{"billing": {"read"}}, false},
		{"superuser", map[string][]string{"ac": {"read"}}, false},
		{"", map[string][]string{"ac": {"read"}}, false},
	}
	for _, tc := range cases {
		if got := rs.hasPermission(tc.role, tc.request); got != tc.want {
			t.Errorf("hasPermission(%q, %v) = %v, want %v", tc.role, tc.request, got, tc.want)
		}
	}
}

// TestCustomRolesFromFile ensures roles from ORG_ROLES_FILE can be granted, invited and checked,
// that a file entry with a default's name replaces that role, and that the defaults it does not
// name keep working.
func TestCustomRolesFromFile(t *testing.T) {
	t.Parallel()
	roles, err := loadOrgRoles(filepath.Join("testdata", "organization", "roles.json"))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(c *config) { c.Org.Roles = roles })
	owner := newOrgUser(t, ts, "owner")
	biller := newOrgUser(t, ts, "biller")
	plain := newOrgUser(t, ts, "plain")
	org := owner.createOrg(t, "acme")
	biller.join(t, owner, org, "billing")
	plainMember := plain.join(t, owner, org, "member")

	check := func(u *orgUser, perms map[string][]string) bool {
		resp := u.c.post("/api/auth/organization/has-permission", map[string]any{"permissions": perms})
		return resp.wantStatus(t, http.StatusOK).object(t)["success"].(bool)
	}
	if !check(biller, map[string][]string{"billing": {"read", "update"}}) || check(biller, map[string][]string{"member": {"delete"}}) {
		t.Fatal("billing role permissions differ from the file")
	}
	if !check(owner, map[string][]string{"organization": {"delete"}}) || check(owner, map[string][]string{"billing": {"read"}}) {
		t.Fatal("the owner role changed")
	}
	// The billing role may invite, as its statement says; the file's member may create teams.
	biller.invite(t, org, "customer@example.com", "member")
	plain.c.post("/api/auth/organization/create-team", map[string]any{"name": "Plain's"}).wantStatus(t, http.StatusOK)
	plain.c.post("/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member"}).wantError(t, 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	updated := owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": plainMember, "role": []string{"member", "billing"}}).wantStatus(t, http.StatusOK).object(t)
	if updated["role"] != "member,billing" || !check(plain, map[string][]string{"billing": {"update"}}) {
		t.Fatalf("update-member-role = %v", updated)
	}
	resp := owner.c.post("/api/auth/organization/update-member-role", map[string]any{"memberId": plainMember, "role": "billing,auditor"}).wantStatus(t, 400)
	if !strings.Contains(string(resp.Body), `"message":"ROLE_NOT_FOUND: auditor"`) || !strings.Contains(string(resp.Body), `"code":"ROLE_NOT_FOUND"`) {
		t.Fatalf("unknown role: %s", resp.Body)
	}
}
