package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Organization plugin settings and its access control (upstream
// packages/better-auth/src/plugins/organization/organization.ts and access/). Teams are always on:
// the product runs upstream's organization({teams: {enabled: true}}).

// Upstream's defaults (upstream organization.ts).
const (
	defaultMembershipLimit     = 100
	defaultInvitationLimit     = 100
	defaultInvitationExpiresIn = 48 * time.Hour
	creatorRole                = "owner"
	defaultMemberRole          = "member"
)

// orgConfig holds the organization settings. Zero values mean upstream's defaults, so a config
// built in code (tests) behaves as a server started with an empty environment.
type orgConfig struct {
	Limit               int           // organizations a user may belong to; 0: unlimited
	MembershipLimit     int           // members per organization; 0: 100
	InvitationLimit     int           // pending invitations per organization; 0: 100
	InvitationExpiresIn time.Duration // 0: 48 hours
	InvitationURL       string        // accept link with {id}; "" or a path: on the app's origin
	Roles               roleSet       // nil: owner, admin and member as upstream defines them
}

func (c orgConfig) membershipLimit() int {
	return cmp.Or(c.MembershipLimit, defaultMembershipLimit)
}

func (c orgConfig) invitationLimit() int {
	return cmp.Or(c.InvitationLimit, defaultInvitationLimit)
}

func (c orgConfig) invitationExpiresIn() time.Duration {
	return cmp.Or(c.InvitationExpiresIn, defaultInvitationExpiresIn)
}

func (c orgConfig) roles() roleSet {
	if c.Roles == nil {
		return defaultOrgRoles
	}
	return c.Roles
}

type orgFlags struct {
	limit, membershipLimit, invitationLimit, expiresIn int
	invitationURL, rolesFile                           string
}

// registerOrgFlags adds the organization flags, each defaulting to its environment variable.
func registerOrgFlags(s *settings) *orgFlags {
	f := &orgFlags{}
	s.Int(&f.limit, "org-limit", "ORG_LIMIT", 0, "organizations one user may belong to when creating another; 0: unlimited")
	s.Int(&f.membershipLimit, "org-membership-limit", "ORG_MEMBERSHIP_LIMIT", defaultMembershipLimit, "members per organization")
	s.Int(&f.invitationLimit, "org-invitation-limit", "ORG_INVITATION_LIMIT", defaultInvitationLimit, "pending invitations per organization")
	s.Int(&f.expiresIn, "org-invitation-expires-in", "ORG_INVITATION_EXPIRES_IN", int(defaultInvitationExpiresIn.Seconds()), "seconds an invitation stays valid")
	s.String(&f.invitationURL, "org-invitation-url", "ORG_INVITATION_URL", "/accept-invitation/{id}", "accept link mailed with an invitation; {id} is the invitation id; a path is on the app's origin")
	s.String(&f.rolesFile, "org-roles-file", "ORG_ROLES_FILE", "", "JSON file of custom roles, {\"role\": {\"resource\": [\"action\", …]}}; they add to (or replace same-named) owner, admin, member")
	return f
}

func (f *orgFlags) parse() (orgConfig, error) {
	c := orgConfig{Limit: f.limit, MembershipLimit: f.membershipLimit, InvitationLimit: f.invitationLimit}
	counts := []struct {
		name       string
		value, min int
	}{
		{"ORG_LIMIT", f.limit, 0},
		{"ORG_MEMBERSHIP_LIMIT", f.membershipLimit, 1},
		{"ORG_INVITATION_LIMIT", f.invitationLimit, 1},
	}
	for _, n := range counts {
		if n.value < n.min {
			return orgConfig{}, fmt.Errorf("%s: want a whole number of at least %d, got %d", n.name, n.min, n.value)
		}
	}
	if f.expiresIn <= 0 {
		return orgConfig{}, fmt.Errorf("ORG_INVITATION_EXPIRES_IN: want seconds, got %d", f.expiresIn)
	}
	c.InvitationExpiresIn = time.Duration(f.expiresIn) * time.Second
	if !strings.Contains(f.invitationURL, "{id}") || (!strings.HasPrefix(f.invitationURL, "/") && originOf(f.invitationURL) == "") {
		return orgConfig{}, fmt.Errorf("ORG_INVITATION_URL: want a path or an http(s) URL containing {id}, got %q", f.invitationURL)
	}
	c.InvitationURL = f.invitationURL
	if f.rolesFile != "" {
		var err error
		if c.Roles, err = loadOrgRoles(f.rolesFile); err != nil {
			return orgConfig{}, err
		}
	}
	return c, nil
}

// statement maps a resource to the actions a role may take on it (upstream's role statements).
type statement map[string][]string

// roleSet maps role names to their statements.
type roleSet map[string]statement

// defaultOrgRoles are upstream's owner, admin and member (access/statement.ts), verbatim.
var defaultOrgRoles = roleSet{
	"owner": {
		"organization": {"update", "delete"},
		"member":       {"create", "update", "delete"},
		"invitation":   {"create", "cancel"},
		"team":         {"create", "update", "delete"},
		"ac":           {"create", "read", "update", "delete"},
	},
	"admin": {
		"organization": {"update"},
		"invitation":   {"create", "cancel"},
		"member":       {"create", "update", "delete"},
		"team":         {"create", "update", "delete"},
		"ac":           {"create", "read", "update", "delete"},
	},
	"member": {
		"organization": {},
		"member":       {},
		"invitation":   {},
		"team":         {},
		"ac":           {"read"},
	},
}

// loadOrgRoles reads ORG_ROLES_FILE. (Upstream's `roles` option replaces the defaults outright,
// so a config naming only a custom role leaves owners without permissions; here owner, admin and
// member stay unless the file redefines them.)
func loadOrgRoles(path string) (roleSet, error) {
	return loadRolesFile("ORG_ROLES_FILE", path, defaultOrgRoles)
}

// loadRolesFile reads custom roles from a JSON file ({"role": {"resource": ["action"]}}) and lays
// them over defaults: a new name adds a role, a default's name replaces that role.
func loadRolesFile(setting, path string, defaults roleSet) (roleSet, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	var custom map[string]map[string][]string
	if err := json.Unmarshal(raw, &custom); err != nil {
		return nil, fmt.Errorf("%s %s: want {\"role\": {\"resource\": [\"action\"]}}: %w", setting, path, err)
	}
	roles := roleSet{}
	for name, st := range defaults {
		roles[name] = st
	}
	for name, st := range custom {
		// Roles are stored comma-joined, so a name with a comma or padding could never be
		// matched back.
		if name == "" || strings.Contains(name, ",") || strings.TrimSpace(name) != name {
			return nil, fmt.Errorf("%s %s: role name %q must be non-empty, without commas or surrounding spaces", setting, path, name)
		}
		if st == nil {
			return nil, fmt.Errorf("%s %s: role %q has no statements object", setting, path, name)
		}
		roles[name] = statement(st)
	}
	return roles, nil
}

// authorize is upstream's role.authorize with the default AND connector: every requested resource
// must be in the role and every requested action allowed on it; an empty request or an empty
// action list authorizes nothing.
func (st statement) authorize(request map[string][]string) bool {
	if len(request) == 0 {
		return false
	}
	for resource, actions := range request {
		allowed, ok := st[resource]
		if !ok || len(actions) == 0 {
			return false
		}
		for _, a := range actions {
			if !slices.Contains(allowed, a) {
				return false
			}
		}
	}
	return true
}

// hasPermission is upstream's hasPermissionFn: a member holding several roles (comma-joined) is
// allowed when any one of them authorizes the whole request.
func (rs roleSet) hasPermission(memberRole string, request map[string][]string) bool {
	for _, role := range parseRoleList(memberRole) {
		if st, ok := rs[role]; ok && st.authorize(request) {
			return true
		}
	}
	return false
}

// unknownRoles returns the roles not defined in rs, in request order.
func (rs roleSet) unknownRoles(roles []string) []string {
	var unknown []string
	for _, r := range roles {
		if _, ok := rs[r]; !ok {
			unknown = append(unknown, r)
		}
	}
	return unknown
}

// parseRoleList splits a stored or submitted role value into trimmed, non-empty names, as
// upstream's parseRoleList does for "admin, member" and ["admin", " member"] alike.
func parseRoleList(roles ...string) []string {
	var out []string
	for _, value := range roles {
		for r := range strings.SplitSeq(value, ",") {
			if r = strings.TrimSpace(r); r != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func hasRole(memberRole, role string) bool {
	return slices.Contains(parseRoleList(memberRole), role)
}
