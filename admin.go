package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The admin plugin's user management routes (upstream: packages/better-auth/src/plugins/admin/
// routes.ts). Each reads the caller's session from Postgres, never the cookie cache (upstream's
// adminMiddleware, getAuthoritativeSessionFromCtx), then checks one permission of adminconfig.go's
// access control. Listing users is adminusers.go, impersonation impersonate.go, ban enforcement
// ban.go.

// Upstream's ADMIN_ERROR_CODES (error-codes.ts) with the status each route answers them with.
var (
	errAdminUserNotFound      = apiErr(404, "USER_NOT_FOUND", "User not found")
	errNotAllowedChangeRole   = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE", "You are not allowed to change users role")
	errNotAllowedCreateUsers  = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS", "You are not allowed to create users")
	errNotAllowedListUsers    = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS", "You are not allowed to list users")
	errNotAllowedListSessions = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS", "You are not allowed to list users sessions")
	errNotAllowedBan          = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS", "You are not allowed to ban users")
	errNotAllowedImpersonate  = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", "You are not allowed to impersonate users")
	errNotAllowedRevoke       = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS", "You are not allowed to revoke users sessions")
	errNotAllowedDelete       = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS", "You are not allowed to delete users")
	errNotAllowedSetPassword  = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD", "You are not allowed to set users password")
	errNotAllowedGetUser      = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_GET_USER", "You are not allowed to get user")
	errNotAllowedUpdate       = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS", "You are not allowed to update users")
	errNotAllowedSetEmail     = apiErr(403, "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_EMAIL", "You are not allowed to update users email")
	errCannotBanYourself      = apiErr(400, "YOU_CANNOT_BAN_YOURSELF", "You cannot ban yourself")
	errCannotRemoveYourself   = apiErr(400, "YOU_CANNOT_REMOVE_YOURSELF", "You cannot remove yourself")
	errCannotImpersonateAdmin = apiErr(403, "YOU_CANNOT_IMPERSONATE_ADMINS", "You cannot impersonate admins")
	errNonExistentRole        = apiErr(400, "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE", "You are not allowed to set a non-existent role value")
	errInvalidRoleType        = apiErr(400, "INVALID_ROLE_TYPE", "Invalid role type")
	errNoDataToUpdate         = apiErr(400, "NO_DATA_TO_UPDATE", "No data to update")
	errAdminUserExists        = apiErr(400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	errPasswordViaUpdateUser  = apiErr(400, "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER", "Password cannot be updated through update-user. Use the set-user-password endpoint instead")
	errUserIDCannotBeUpdated  = apiErr(400, "USER_ID_CANNOT_BE_UPDATED", "User id cannot be updated")
	// Ours, not upstream's (COMPATIBILITY.md, admin-stricter-with-custom-roles): a console must
	// not lock itself out. Only a caller allowed to delete users without being an admin (a
	// custom role) can meet it.
	errCannotRemoveLastAdmin = apiErr(400, "YOU_CANNOT_REMOVE_THE_LAST_ADMIN", "You cannot remove the last admin")
)

// perm is a permission request on one resource.
func perm(resource string, actions ...string) map[string][]string {
	return map[string][]string{resource: actions}
}

// adminCaller returns the caller's session when their role (or ADMIN_USER_IDS) grants request,
// else 401 without a session and denied without the permission.
func (s *server) adminCaller(w http.ResponseWriter, r *http.Request, request map[string][]string, denied *apiError) (*authSession, error) {
	as, err := s.requireSession(w, r, sensitiveSession)
	if errors.Is(err, errUnauthorized) {
		return nil, errUnauthorizedEmpty // upstream's adminMiddleware: APIError.fromStatus("UNAUTHORIZED")
	}
	if err != nil {
		return nil, err
	}
	if !s.cfg.Admin.can(as.User.ID, as.User.Role, request) {
		return nil, denied
	}
	return as, nil
}

// adminTarget loads the user a route acts on, 404 USER_NOT_FOUND when there is none.
func (s *server) adminTarget(ctx context.Context, q querier, userID string) (*user, error) {
	u, err := s.userByID(ctx, q, userID)
	if err == nil && u == nil {
		err = errAdminUserNotFound
	}
	return u, err
}

// checkRoles refuses a role input that is not strings or names a role no one defined. Upstream
// checks names only when custom roles are configured; we always do (COMPATIBILITY.md,
// admin-unknown-roles), so a typo cannot store a role that grants nothing.
func (s *server) checkRoles(roles []string) error {
	if len(roles) == 0 {
		return errNonExistentRole
	}
	if len(s.cfg.Admin.roles().unknownRoles(roles)) > 0 {
		return errNonExistentRole
	}
	return nil
}

// parseRoleInput reads a role given as a string or an array of strings. Anything else, null
// and an array holding anything but strings included, is upstream's 400 INVALID_ROLE_TYPE: its
// typeof check of each role (routes.ts, createUser and adminUpdateUser).
func parseRoleInput(raw json.RawMessage) ([]string, error) {
	items := []json.RawMessage{raw}
	if jsonKind(raw) == "array" && json.Unmarshal(raw, &items) != nil {
		return nil, errInvalidRoleType
	}
	roles := make([]string, len(items))
	for i, item := range items {
		if jsonKind(item) != "string" || json.Unmarshal(item, &roles[i]) != nil {
			return nil, errInvalidRoleType
		}
	}
	return roles, nil
}

// userBody is the body of the admin routes that act on one user and take nothing else.
type userBody struct {
	UserID coercedString `json:"userId" required:"true"`
}

// userAnswer is the {"user": …} answer of the admin routes that change one user.
type userAnswer struct {
	User *user `json:"user"`
}

// adminUserRequest is the opening of the admin routes whose body is only userId: decode it, then
// check the caller holds request (adminCaller). It returns the target's id and the caller.
func (s *server) adminUserRequest(w http.ResponseWriter, r *http.Request, request map[string][]string, denied *apiError) (string, *authSession, error) {
	var body userBody
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return "", nil, err
	}
	as, err := s.adminCaller(w, r, request, denied)
	if err != nil {
		return "", nil, err
	}
	return string(body.UserID), as, nil
}

func (s *server) handleAdminSetRole(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		UserID coercedString `json:"userId" required:"true"`
		Role   roleList      `json:"role" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if _, err := s.adminCaller(w, r, perm("user", "set-role"), errNotAllowedChangeRole); err != nil {
		return err
	}
	if err := s.checkRoles(body.Role); err != nil {
		return err
	}
	u, err := s.adminUpdate(r.Context(), string(body.UserID), adminChanges{role: ptr(strings.Join(body.Role, ","))})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer{u})
	return nil
}

func (s *server) handleAdminGetUser(w http.ResponseWriter, r *http.Request) error {
	id, err := queryString(r, "id", true)
	if err != nil {
		return err
	}
	if _, err := s.adminCaller(w, r, perm("user", "get"), errNotAllowedGetUser); err != nil {
		return err
	}
	u, err := s.adminTarget(r.Context(), s.db, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *server) handleAdminUnbanUser(w http.ResponseWriter, r *http.Request) error {
	userID, _, err := s.adminUserRequest(w, r, perm("user", "ban"), errNotAllowedBan)
	if err != nil {
		return err
	}
	u, err := s.adminUpdate(r.Context(), userID, adminChanges{banned: ptr(false), banReason: optional[string]{Set: true}, banExpires: optional[jsTime]{Set: true}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer{u})
	return nil
}

func (s *server) handleAdminBanUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		UserID       coercedString `json:"userId" required:"true"`
		BanReason    *string       `json:"banReason"`
		BanExpiresIn *float64      `json:"banExpiresIn"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	// Upstream stores a ban that expired before it began, or a date JavaScript cannot hold; we
	// refuse both (COMPATIBILITY.md, admin-ban-expires-in).
	if e := body.BanExpiresIn; e != nil && (*e < 0 || *e > maxBanSeconds) {
		return validationError(fmt.Sprintf("[body.banExpiresIn] Invalid input: expected seconds from 0 to %d", maxBanSeconds))
	}
	as, err := s.adminCaller(w, r, perm("user", "ban"), errNotAllowedBan)
	if err != nil {
		return err
	}
	if _, err := s.adminTarget(r.Context(), s.db, string(body.UserID)); err != nil {
		return err
	}
	if string(body.UserID) == as.User.ID {
		return errCannotBanYourself
	}
	ch := adminChanges{banned: ptr(true), banReason: optional[string]{Set: true, Value: ptr(s.cfg.Admin.banReason())}, banExpires: optional[jsTime]{Set: true}}
	if body.BanReason != nil && *body.BanReason != "" {
		ch.banReason.Value = body.BanReason
	}
	// As upstream, 0 seconds is "not given".
	if secs := s.banSeconds(body.BanExpiresIn); secs > 0 {
		ch.banExpires.Value = ptr(jsTime(s.now().Add(time.Duration(secs * float64(time.Second)))))
	}
	u, err := s.adminUpdate(r.Context(), string(body.UserID), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer{u})
	return nil
}

// banSeconds is a ban's length: the request's banExpiresIn, else ADMIN_DEFAULT_BAN_EXPIRES_IN.
func (s *server) banSeconds(requested *float64) float64 {
	if requested != nil && *requested > 0 {
		return *requested
	}
	return s.cfg.Admin.DefaultBanExpiresIn.Seconds()
}

func (s *server) handleAdminListUserSessions(w http.ResponseWriter, r *http.Request) error {
	userID, _, err := s.adminUserRequest(w, r, perm("session", "list"), errNotAllowedListSessions)
	if err != nil {
		return err
	}
	sessions, err := s.activeSessions(r.Context(), userID, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []session `json:"sessions"`
	}{sessions})
	return nil
}

func (s *server) handleAdminRevokeUserSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		SessionToken string `json:"sessionToken" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if _, err := s.adminCaller(w, r, perm("session", "revoke"), errNotAllowedRevoke); err != nil {
		return err
	}
	id, err := s.revokeSessionByToken(r.Context(), s.db, body.SessionToken)
	if err != nil {
		return err
	}
	s.revocations.record(id)
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

func (s *server) handleAdminRevokeUserSessions(w http.ResponseWriter, r *http.Request) error {
	userID, _, err := s.adminUserRequest(w, r, perm("session", "revoke"), errNotAllowedRevoke)
	if err != nil {
		return err
	}
	if err := s.revokeUserSessions(r.Context(), s.db, userID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

func (s *server) handleAdminRemoveUser(w http.ResponseWriter, r *http.Request) error {
	userID, as, err := s.adminUserRequest(w, r, perm("user", "delete"), errNotAllowedDelete)
	if err != nil {
		return err
	}
	if userID == as.User.ID {
		return errCannotRemoveYourself
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error { return s.removeUser(r.Context(), tx, userID) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

// removeUser deletes a user and their sessions, refusing the last admin. Admin rows are locked
// first (countOtherAdmins) so that two admins removing each other at once cannot both succeed.
func (s *server) removeUser(ctx context.Context, tx pgx.Tx, userID string) error {
	target, err := s.adminTarget(ctx, tx, userID)
	if err != nil {
		return err
	}
	if s.cfg.Admin.isAdmin(target) {
		others, err := s.countOtherAdmins(ctx, tx, userID)
		if err != nil {
			return err
		}
		if others == 0 {
			return errCannotRemoveLastAdmin
		}
	}
	if err := s.revokeUserSessions(ctx, tx, userID); err != nil {
		return err
	}
	return s.deleteUserRows(ctx, tx, userID)
}

func (s *server) handleAdminSetUserPassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewPassword string        `json:"newPassword" required:"true"`
		UserID      coercedString `json:"userId" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	switch {
	case body.NewPassword == "":
		return validationError("[body.newPassword] newPassword cannot be empty")
	case body.UserID == "":
		return validationError("[body.userId] userId cannot be empty")
	}
	if _, err := s.adminCaller(w, r, perm("user", "set-password"), errNotAllowedSetPassword); err != nil {
		return err
	}
	if err := s.checkNewPassword(body.NewPassword); err != nil {
		return err
	}
	if _, err := s.adminTarget(r.Context(), s.db, string(body.UserID)); err != nil {
		return err
	}
	hash, err := s.hashPassword(r.Context(), body.NewPassword)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error { return s.setCredentialPassword(r.Context(), tx, string(body.UserID), hash) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// adminHasPermissionBody is the admin plugin's has-permission body.
type adminHasPermissionBody struct {
	UserID      *coercedString       `json:"userId"`
	Role        *string              `json:"role"`
	Permission  *map[string][]string `json:"permission"`
	Permissions *map[string][]string `json:"permissions"`
}

func (b *adminHasPermissionBody) permissionKeys() (permission, permissions *map[string][]string) {
	return b.Permission, b.Permissions
}

func (s *server) handleAdminHasPermission(w http.ResponseWriter, r *http.Request) error {
	var body adminHasPermissionBody
	if err := s.decodeHasPermission(r, &body); err != nil {
		return err
	}
	if body.Permissions == nil {
		// The deprecated singular "permission" passes the schema, and upstream then refuses it.
		return apiErr(400, "", "invalid permission check. no permission(s) were passed.")
	}
	// Over HTTP upstream always answers for the caller; userId and role serve server-side calls.
	as, err := s.requireSession(w, r, sensitiveSession)
	if errors.Is(err, errUnauthorized) {
		return errUnauthorizedEmpty
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Error   *string `json:"error"`
		Success bool    `json:"success"`
	}{nil, s.cfg.Admin.can(as.User.ID, as.User.Role, *body.Permissions)})
	return nil
}

// adminChanges are the user columns an admin route sets; nil or unset fields stay as they are.
type adminChanges struct {
	name             *string
	email            *string
	emailVerified    *bool
	image            optional[string]
	role             *string
	banned           *bool
	banReason        optional[string]
	banExpires       optional[jsTime]
	createdAt        *jsTime
	updatedAt        *jsTime
	twoFactorEnabled *bool
	id               string // create-user only: the id data chose, "" for a generated one
	// fields are the username plugin's and user.additionalFields' values (adminInput).
	fields fieldWrite
}

// sets lists the assignments of ch. Column names are constants here; values are parameters.
func (ch adminChanges) sets() (cols []string, vals []any) {
	add := func(col string, v any) { cols, vals = append(cols, col), append(vals, v) }
	if ch.name != nil {
		add("name", *ch.name)
	}
	if ch.email != nil {
		add("email", *ch.email)
	}
	if ch.emailVerified != nil {
		add(`"emailVerified"`, *ch.emailVerified)
	}
	if ch.image.Set {
		add("image", ch.image.Value)
	}
	if ch.role != nil {
		add("role", *ch.role)
	}
	if ch.banned != nil {
		add("banned", *ch.banned)
	}
	if ch.banReason.Set {
		add(`"banReason"`, ch.banReason.Value)
	}
	if ch.banExpires.Set {
		add(`"banExpires"`, ch.banExpires.Value)
	}
	if ch.createdAt != nil {
		add(`"createdAt"`, *ch.createdAt)
	}
	if ch.updatedAt != nil {
		add(`"updatedAt"`, *ch.updatedAt)
	}
	if ch.twoFactorEnabled != nil {
		add(`"twoFactorEnabled"`, *ch.twoFactorEnabled)
	}
	return append(cols, ch.fields.cols...), append(vals, ch.fields.vals...)
}

// adminUpdate applies ch to userID in one transaction and returns the updated user: 404 when
// there is none, 400 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL for a taken email. A ban revokes the
// user's sessions in the same transaction, as upstream's ban-user and update-user do.
func (s *server) adminUpdate(ctx context.Context, userID string, ch adminChanges) (*user, error) {
	var u *user
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		u, err = s.updateUserColumns(ctx, tx, userID, ch)
		if err != nil || ch.banned == nil || !*ch.banned {
			return err
		}
		return s.revokeUserSessions(ctx, tx, userID)
	})
	return u, err
}

func (s *server) updateUserColumns(ctx context.Context, tx pgx.Tx, userID string, ch adminChanges) (*user, error) {
	cols, vals := ch.sets()
	u, err := s.setUserColumns(ctx, tx, userID, cols, vals)
	switch {
	case err == nil && u == nil:
		return nil, errAdminUserNotFound
	case s.cfg.Username.isConflict(err):
		return nil, errUsernameTaken
	case isUniqueViolation(err, "") && constraintName(err) == "user_email_key":
		return nil, errAdminUserExists
	case isUniqueViolation(err, ""):
		// A unique additional field taken: upstream's adapter fails with a 500 (deviation
		// additional-field-types).
		return nil, errFailedToUpdateUser
	}
	return u, err
}

// adminUserData is create-user's and update-user's "data": the user fields upstream's schema
// knows, core and plugins'. Rest takes the other keys: the username plugin's and
// user.additionalFields' (adminInput), then whatever is left, which upstream's adapter drops
// (and STRICT_BODY refuses, deviation unknown-body-keys).
type adminUserData struct {
	Name             *string          `json:"name"`
	Email            *string          `json:"email"`
	EmailVerified    *bool            `json:"emailVerified"`
	Image            optional[string] `json:"image" nullable:"true"`
	Role             json.RawMessage  `json:"role" nullable:"true"`
	Banned           *bool            `json:"banned"`
	BanReason        optional[string] `json:"banReason" nullable:"true"`
	BanExpires       optional[jsTime] `json:"banExpires" nullable:"true"`
	CreatedAt        *jsTime          `json:"createdAt"`
	UpdatedAt        *jsTime          `json:"updatedAt"`
	TwoFactorEnabled *bool            `json:"twoFactorEnabled"`
	// Named so that upstream's own refusals answer them (update-user); create-user takes id
	// as the new user's id, as upstream's adapter does (forceAllowId).
	Password json.RawMessage            `json:"password" nullable:"true"`
	ID       json.RawMessage            `json:"id" nullable:"true"`
	Rest     map[string]json.RawMessage `json:"-" unknown:"keep"`
}

func (d *adminUserData) touchesBan() bool {
	return d.Banned != nil || d.BanReason.Set || d.BanExpires.Set
}

func (s *server) handleAdminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		UserID coercedString  `json:"userId" required:"true"`
		Data   metadataObject `json:"data" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.adminCaller(w, r, perm("user", "update"), errNotAllowedUpdate)
	if err != nil {
		return err
	}
	if string(body.Data) == "{}" {
		return errNoDataToUpdate
	}
	var data adminUserData
	if err := decodeNested(json.RawMessage(body.Data), &data, "body.data"); err != nil {
		return err
	}
	userID := string(body.UserID)
	ch, err := s.updateChanges(r.Context(), as, userID, &data)
	if err != nil {
		return err
	}
	if ch.fields, err = s.adminFields(r, as.User.ID, userID, data.Rest); err != nil {
		return err
	}
	u, err := s.adminUpdate(r.Context(), userID, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// adminFields reads the username plugin's and user.additionalFields' values from an admin
// route's data (rest, what adminUserData's fixed fields left) and handles the keys left over.
// Upstream's username hook and its adapter's writing run after the route's own checks, once
// the target user is known to exist (update-user: userID; create-user: ""), so a missing user
// is 404 before a bad username or value.
func (s *server) adminFields(r *http.Request, callerID, userID string, rest map[string]json.RawMessage) (fieldWrite, error) {
	if len(rest) > 0 && userID != "" {
		if _, err := s.adminTarget(r.Context(), s.db, userID); err != nil {
			return fieldWrite{}, err
		}
	}
	if err := s.adminUsername(r.Context(), rest, userID == "", callerID); err != nil {
		return fieldWrite{}, err
	}
	w, err := s.cfg.userFields().adminInput(rest, userID == "")
	if err != nil {
		return w, err
	}
	return w, s.leftoverKeys(r, rest, "body.data")
}

// updateChanges checks update-user's data in upstream's order (password, id, role, ban, email),
// each part behind its own permission, and turns it into column changes.
func (s *server) updateChanges(ctx context.Context, as *authSession, userID string, d *adminUserData) (adminChanges, error) {
	ch := adminChanges{name: d.Name, emailVerified: d.EmailVerified, image: d.Image, banned: d.Banned, banReason: d.BanReason, banExpires: d.BanExpires,
		createdAt: d.CreatedAt, updatedAt: d.UpdatedAt, twoFactorEnabled: d.TwoFactorEnabled}
	switch {
	case d.Password != nil:
		return ch, errPasswordViaUpdateUser
	case d.ID != nil:
		return ch, errUserIDCannotBeUpdated
	}
	var err error
	if ch.role, err = s.roleChange(as, d.Role); err != nil {
		return ch, err
	}
	if d.touchesBan() {
		if !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "ban")) {
			return ch, errNotAllowedBan
		}
		if d.Banned != nil && *d.Banned && userID == as.User.ID {
			return ch, errCannotBanYourself
		}
	}
	if d.Email != nil || d.EmailVerified != nil {
		if !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "set-email")) {
			return ch, errNotAllowedSetEmail
		}
	}
	if d.Email != nil {
		email := strings.ToLower(*d.Email)
		if !validEmail(email) {
			return ch, errInvalidEmail
		}
		other, err := s.userByEmail(ctx, s.db, email)
		if err != nil {
			return ch, err
		}
		if other != nil && other.ID != userID {
			return ch, errAdminUserExists
		}
		ch.email = &email
	}
	return ch, nil
}

// roleChange checks a role given in data (create-user, update-user): set-role permission, then
// strings only, then defined roles. nil raw means no role was given.
func (s *server) roleChange(as *authSession, raw json.RawMessage) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	if as != nil && !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "set-role")) {
		return nil, errNotAllowedChangeRole
	}
	roles, err := parseRoleInput(raw)
	if err != nil {
		return nil, err
	}
	if err := s.checkRoles(roles); err != nil {
		return nil, err
	}
	return ptr(strings.Join(roles, ",")), nil
}

func (s *server) handleAdminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email    string          `json:"email" required:"true"`
		Password *string         `json:"password"`
		Name     string          `json:"name" required:"true"`
		Role     json.RawMessage `json:"role"`
		Data     *metadataObject `json:"data"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.adminCaller(w, r, perm("user", "create"), errNotAllowedCreateUsers)
	if err != nil {
		return err
	}
	var data adminUserData
	if body.Data != nil {
		if err := decodeNested(json.RawMessage(*body.Data), &data, "body.data"); err != nil {
			return err
		}
	}
	nu, err := s.newUserFields(as, body.Email, body.Name, body.Role, &data)
	if err != nil {
		return err
	}
	if body.Password != nil && jsLength(*body.Password) > s.cfg.MaxPasswordLength {
		return errPasswordTooLong
	}
	if err := s.checkNewEmail(r.Context(), *nu.email); err != nil {
		return err
	}
	if data.Password != nil {
		data.Rest["password"] = data.Password // not a user field: upstream's adapter drops it
	}
	if nu.fields, err = s.adminFields(r, as.User.ID, "", data.Rest); err != nil {
		return err
	}
	u, err := s.createAdminUser(r.Context(), nu, body.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer{u})
	return nil
}

// newUserFields checks create-user's input in upstream's order (role, ban fields, email) and
// returns the new user's columns. name and email in data give way to the body's, as upstream
// spreads data first; id there is the new user's id.
func (s *server) newUserFields(as *authSession, email, name string, role json.RawMessage, d *adminUserData) (adminChanges, error) {
	if role == nil {
		role = d.Role
	}
	if d.Rest == nil {
		d.Rest = map[string]json.RawMessage{}
	}
	ch := adminChanges{name: &name, emailVerified: d.EmailVerified, image: d.Image, banned: d.Banned, banReason: d.BanReason, banExpires: d.BanExpires,
		createdAt: d.CreatedAt, updatedAt: d.UpdatedAt, twoFactorEnabled: d.TwoFactorEnabled}
	var err error
	if ch.role, err = s.roleChange(as, role); err != nil {
		return ch, err
	}
	if ch.role == nil {
		ch.role = ptr(s.cfg.Admin.defaultRole())
	}
	if d.touchesBan() && !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "ban")) {
		return ch, errNotAllowedBan
	}
	email = strings.ToLower(email)
	if !validEmail(email) {
		return ch, errInvalidEmail
	}
	ch.email = &email
	if d.ID != nil && string(d.ID) != "null" {
		id, ok := jsonString(d.ID)
		if !ok || id == "" || len(id) > maxIDLength {
			return ch, validationError(fmt.Sprintf("[body.data.id] Invalid input: expected a string of 1 to %d characters", maxIDLength))
		}
		// An id of ADMIN_USER_IDS holds every permission: choosing one grants what a role change
		// would, so it takes set-role (COMPATIBILITY.md, admin-user-ids-need-set-role).
		if as != nil && slices.Contains(s.cfg.Admin.AdminUserIDs, id) && !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "set-role")) {
			return ch, errNotAllowedChangeRole
		}
		ch.id = id
	}
	return ch, nil
}

// maxIDLength bounds an id an admin chooses at create-user.
const maxIDLength = 255

// checkNewEmail refuses create-user for an email a user has.
func (s *server) checkNewEmail(ctx context.Context, email string) error {
	existing, err := s.userByEmail(ctx, s.db, email)
	if err != nil {
		return err
	}
	if existing != nil {
		return errAdminUserExists
	}
	return nil
}

// createAdminUser inserts the user (with its credential account when a password was given) in
// one transaction.
func (s *server) createAdminUser(ctx context.Context, ch adminChanges, password *string) (*user, error) {
	var hash string
	if password != nil && *password != "" {
		var err error
		if hash, err = s.hashPassword(ctx, *password); err != nil {
			return nil, err
		}
	}
	var u *user
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		created, err := s.insertUserWith(ctx, tx, ch.id, *ch.name, *ch.email, false, nil, ch.fields)
		if errors.Is(err, errUserExistsUseAnother) {
			return errAdminUserExists
		}
		if err != nil {
			return err
		}
		ch.name, ch.email, ch.fields = nil, nil, fieldWrite{}
		if ch.updatedAt == nil {
			ch.updatedAt = &created.UpdatedAt // as inserted, unless data set it
		}
		if u, err = s.updateUserColumns(ctx, tx, created.ID, ch); err != nil {
			return err
		}
		if hash == "" {
			return nil
		}
		return s.insertCredentialAccount(ctx, tx, created.ID, hash)
	})
	return u, err
}
