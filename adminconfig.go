package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Admin plugin settings and its access control (upstream: packages/better-auth/src/plugins/admin/
// admin.ts, admin; access/statement.ts). The plugin is always served: its routes are guarded by
// role, and bans written by a Node server with admin() must hold here too.

// Upstream's defaults (admin.ts, admin; routes.ts, banUser and impersonateUser).
const (
	defaultAdminRole             = "admin"
	defaultUserRole              = "user"
	defaultBanReason             = "No reason"
	defaultBannedUserMessage     = "You have been banned from this application. Please contact support if you believe this is an error."
	defaultImpersonationDuration = time.Hour
)

// adminConfig holds the admin settings in one struct, read from env and flags today and from the
// config file's admin plugin entry once that exists. Zero values mean upstream's defaults, so a
// config built in code (tests) behaves as a server started with an empty environment.
type adminConfig struct {
	AdminRoles            []string      // roles with admin rights; nil: ["admin"]
	AdminUserIDs          []string      // users with every permission whatever their role
	DefaultRole           string        // role of new users; "": "user"
	ImpersonationDuration time.Duration // 0: one hour
	DefaultBanReason      string        // "": "No reason"
	DefaultBanExpiresIn   time.Duration // 0: bans without banExpiresIn never expire
	BannedUserMessage     string        // "": upstream's message
	Roles                 roleSet       // nil: admin and user as upstream defines them
}

func (c adminConfig) defaultRole() string { return cmp.Or(c.DefaultRole, defaultUserRole) }

func (c adminConfig) adminRoles() []string {
	if c.AdminRoles == nil {
		return []string{defaultAdminRole}
	}
	return c.AdminRoles
}

func (c adminConfig) impersonationDuration() time.Duration {
	return cmp.Or(c.ImpersonationDuration, defaultImpersonationDuration)
}

func (c adminConfig) banReason() string { return cmp.Or(c.DefaultBanReason, defaultBanReason) }

func (c adminConfig) bannedUserMessage() string {
	return cmp.Or(c.BannedUserMessage, defaultBannedUserMessage)
}

func (c adminConfig) roles() roleSet {
	if c.Roles == nil {
		return defaultAdminRoleSet
	}
	return c.Roles
}

// defaultAdminRoleSet is upstream's adminAc and userAc (access/statement.ts): admin holds every
// statement but impersonate-admins, user holds none.
var defaultAdminRoleSet = roleSet{
	"admin": {
		"user":    {"create", "list", "set-role", "ban", "impersonate", "delete", "set-password", "set-email", "set-phone", "get", "update"},
		"session": {"list", "revoke", "delete"},
	},
	"user": {
		"user":    {},
		"session": {},
	},
}

// can is upstream's hasPermission (has-permission.ts): listed admin user ids may do anything;
// otherwise any one of the user's comma-joined roles (the default role when it has none) must
// grant the whole request.
func (c adminConfig) can(userID string, role *string, request map[string][]string) bool {
	if userID != "" && slices.Contains(c.AdminUserIDs, userID) {
		return true
	}
	for _, name := range c.rolesOf(role) {
		if st, ok := c.roles()[name]; ok && st.authorize(request) {
			return true
		}
	}
	return false
}

// isAdmin reports whether u holds one of the admin roles or is a listed admin user id, as
// impersonate-user decides whether its target is an admin.
func (c adminConfig) isAdmin(u *user) bool {
	if slices.Contains(c.AdminUserIDs, u.ID) {
		return true
	}
	for _, name := range c.rolesOf(u.Role) {
		if slices.Contains(c.adminRoles(), name) {
			return true
		}
	}
	return false
}

// rolesOf splits a stored role value, the default role when there is none. Split on commas
// without trimming, as upstream does: " admin" is not admin.
func (c adminConfig) rolesOf(role *string) []string {
	if role == nil || *role == "" {
		return []string{c.defaultRole()}
	}
	return strings.Split(*role, ",")
}

type adminFlags struct {
	roles, userIDs, defaultRole, banReason, bannedMessage, rolesFile string
	impersonation, banExpiresIn                                      int
}

// registerAdminFlags adds the admin flags, each defaulting to its environment variable.
func registerAdminFlags(s *settings) *adminFlags {
	f := &adminFlags{}
	s.String(&f.roles, "admin-roles", "ADMIN_ROLES", defaultAdminRole, "comma-separated roles with admin rights; each must be a defined role")
	s.String(&f.userIDs, "admin-user-ids", "ADMIN_USER_IDS", "", "comma-separated user ids that hold every admin permission whatever their role")
	s.String(&f.defaultRole, "admin-default-role", "ADMIN_DEFAULT_ROLE", defaultUserRole, "role given to new users")
	s.Int(&f.impersonation, "admin-impersonation-session-duration", "ADMIN_IMPERSONATION_SESSION_DURATION", int(defaultImpersonationDuration.Seconds()), "seconds an impersonation session lasts")
	s.String(&f.banReason, "admin-default-ban-reason", "ADMIN_DEFAULT_BAN_REASON", defaultBanReason, "reason stored when ban-user names none")
	s.Int(&f.banExpiresIn, "admin-default-ban-expires-in", "ADMIN_DEFAULT_BAN_EXPIRES_IN", 0, "seconds a ban lasts when ban-user names no banExpiresIn; 0: until lifted")
	s.String(&f.bannedMessage, "admin-banned-user-message", "ADMIN_BANNED_USER_MESSAGE", defaultBannedUserMessage, "message of the 403 BANNED_USER a banned user's sign-in gets")
	s.String(&f.rolesFile, "admin-roles-file", "ADMIN_ROLES_FILE", "", "JSON file of custom roles, {\"role\": {\"resource\": [\"action\", …]}}; they add to (or replace same-named) admin, user")
	return f
}

func (f *adminFlags) parse() (adminConfig, error) {
	c := adminConfig{
		AdminUserIDs:      splitList(f.userIDs),
		DefaultRole:       strings.TrimSpace(f.defaultRole),
		DefaultBanReason:  f.banReason,
		BannedUserMessage: f.bannedMessage,
	}
	var err error
	if f.rolesFile != "" {
		if c.Roles, err = loadRolesFile("ADMIN_ROLES_FILE", f.rolesFile, defaultAdminRoleSet); err != nil {
			return adminConfig{}, err
		}
	}
	durations := []struct {
		name      string
		secs, min int
		dst       *time.Duration
	}{
		{"ADMIN_IMPERSONATION_SESSION_DURATION", f.impersonation, 1, &c.ImpersonationDuration},
		{"ADMIN_DEFAULT_BAN_EXPIRES_IN", f.banExpiresIn, 0, &c.DefaultBanExpiresIn},
	}
	for _, d := range durations {
		if d.secs < d.min || d.secs > maxBanSeconds {
			return adminConfig{}, fmt.Errorf("%s: want whole seconds from %d to %d, got %d", d.name, d.min, maxBanSeconds, d.secs)
		}
		*d.dst = time.Duration(d.secs) * time.Second
	}
	// Upstream refuses admin roles its roles do not define (admin.ts, admin), and so do we; the
	// default role must be one too, or new users would hold a role nothing can grant.
	c.AdminRoles = splitList(f.roles)
	if len(c.AdminRoles) == 0 {
		return adminConfig{}, fmt.Errorf("ADMIN_ROLES: want at least one role")
	}
	if unknown := c.roles().unknownRoles(append(slices.Clone(c.AdminRoles), c.defaultRole())); len(unknown) > 0 {
		return adminConfig{}, fmt.Errorf("ADMIN_ROLES / ADMIN_DEFAULT_ROLE: %s not defined (define it in ADMIN_ROLES_FILE)", strings.Join(unknown, ", "))
	}
	return c, nil
}
