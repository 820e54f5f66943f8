package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// The username plugin (upstream packages/better-auth/src/plugins/username/index.ts): a unique,
// normalised username and a displayUsername beside it, set at sign-up and update-user, signed in
// with by POST /sign-in/username. Off unless USERNAME_ENABLED or the config file's plugin entry.

// Upstream's USERNAME_ERROR_CODES (plugins/username/error-codes.ts).
var (
	errInvalidUsernameOrPassword = apiErr(401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password")
	errUsernameTaken             = apiErr(400, "USERNAME_IS_ALREADY_TAKEN", "Username is already taken. Please try another.")
	errInvalidDisplayUsername    = apiErr(400, "INVALID_DISPLAY_USERNAME", "Display username is invalid")
	errUsernameImmutable         = apiErr(400, "USERNAME_IS_IMMUTABLE", "Username cannot be updated")
)

// usernameProblem is upstream's validateUsernameValue: the code of what is wrong with a username
// (length in UTF-16 units, as JavaScript counts, then the allowed characters), or "".
func (c usernameConfig) problem(username string) (code, message string) {
	if c.ValidationOrder.Username == "post-normalization" {
		username = c.normalize(username)
	}
	switch n := jsLength(username); {
	case n < c.minLength():
		return "USERNAME_TOO_SHORT", "Username is too short"
	case n > c.maxLength():
		return "USERNAME_TOO_LONG", "Username is too long"
	case !c.validChars(username):
		return "INVALID_USERNAME", "Username is invalid"
	}
	return "", ""
}

// checkUsername refuses a malformed username with status (400 on sign-up and update-user, 422 on
// the plugin's own routes, as upstream answers).
func (c usernameConfig) checkUsername(username string, status int) error {
	if code, msg := c.problem(username); code != "" {
		return apiErr(status, code, msg)
	}
	return nil
}

// owner is the id of the user holding a (normalised) username, "" for none.
func (c usernameConfig) owner(ctx context.Context, q querier, username string) (string, error) {
	var id string
	err := q.QueryRow(ctx, fmt.Sprintf(`SELECT id FROM "user" WHERE %q = $1`, c.usernameColumn()), username).Scan(&id)
	if isNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find username: %w", err)
	}
	return id, nil
}

// usernameInput applies upstream's before-hooks of sign-up and update-user to the body's
// remaining keys: a displayUsername that is a valid username stands in for a missing username
// (sign-up); a username is validated, may not change once set with immutableUsername
// (update-user) and must be free (or the caller's own); a displayUsername is checked against
// displayUsernamePattern; and on sign-up displayUsername defaults to the username as typed,
// unchecked, as upstream copies it after its checks. It leaves the values in rest for
// parseInput, which stores the username normalised.
func (s *server) usernameInput(ctx context.Context, rest map[string]json.RawMessage, currentUserID string) error {
	c := s.cfg.Username
	if !c.Enabled {
		return nil
	}
	signUp := currentUserID == ""
	username, hasUsername := jsonString(rest["username"])
	display, hasDisplay := jsonString(rest["displayUsername"])
	if code, _ := c.problem(display); signUp && hasDisplay && rest["username"] == nil && code == "" {
		rest["username"], username, hasUsername = rest["displayUsername"], display, true
	}
	if hasUsername {
		if err := s.checkUsernameInput(ctx, username, currentUserID); err != nil {
			return err
		}
	}
	if c.withDisplayUsername() && hasDisplay && !c.validDisplay(display) {
		return errInvalidDisplayUsername
	}
	if d := rest["displayUsername"]; signUp && username != "" && c.withDisplayUsername() && (d == nil || !jsonTruthy(d)) {
		rest["displayUsername"] = rest["username"]
	}
	return nil
}

// checkUsernameInput is the username part of upstream's sign-up and update-user hook.
func (s *server) checkUsernameInput(ctx context.Context, username, currentUserID string) error {
	c := s.cfg.Username
	if err := c.checkUsername(username, http.StatusBadRequest); err != nil {
		return err
	}
	normalized := c.normalize(username)
	if c.ImmutableUsername && currentUserID != "" {
		current, err := c.usernameOf(ctx, s.db, currentUserID)
		if err != nil {
			return err
		}
		if current != "" && current != normalized {
			return errUsernameImmutable
		}
	}
	owner, err := c.owner(ctx, s.db, normalized)
	if err != nil {
		return err
	}
	if owner != "" && owner != currentUserID {
		return errUsernameTaken
	}
	return nil
}

// usernameOf is the username of user id, "" for none.
func (c usernameConfig) usernameOf(ctx context.Context, q querier, id string) (string, error) {
	var username *string
	err := q.QueryRow(ctx, fmt.Sprintf(`SELECT %q FROM "user" WHERE id = $1`, c.usernameColumn()), id).Scan(&username)
	if err != nil && !isNoRows(err) {
		return "", fmt.Errorf("read username: %w", err)
	}
	if username == nil {
		return "", nil
	}
	return *username, nil
}

// adminUsername applies the plugin's database hooks (upstream's user create.before and
// update.before, which check every path but sign-up's and update-user's) to an admin route's
// data: a username given is validated (400) and must be free, and on create displayUsername
// defaults to the username as typed. The update hook lets the username belong to the session's
// user, which on admin update-user is the admin, not the target: setting a user's own username
// again is USERNAME_IS_ALREADY_TAKEN there, as upstream answers. A username that is not a
// string is left to adminInput's type check.
func (s *server) adminUsername(ctx context.Context, data map[string]json.RawMessage, create bool, callerID string) error {
	c := s.cfg.Username
	if !c.Enabled {
		return nil
	}
	username, ok := jsonString(data["username"])
	if !ok || username == "" {
		return nil
	}
	if err := c.checkUsername(username, http.StatusBadRequest); err != nil {
		return err
	}
	owner, err := c.owner(ctx, s.db, c.normalize(username))
	if err != nil {
		return err
	}
	if owner != "" && (create || owner != callerID) {
		return errUsernameTaken
	}
	if display, ok := jsonString(data["displayUsername"]); ok && display != "" && c.withDisplayUsername() && !c.validDisplay(display) {
		return errInvalidDisplayUsername
	}
	if display := data["displayUsername"]; create && c.withDisplayUsername() && (display == nil || !jsonTruthy(display)) {
		data["displayUsername"] = data["username"]
	}
	return nil
}

// jsonString reads raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	var v string
	if raw == nil || json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// isConflict tells a unique violation of the username column from the others: its unique
// constraint or index is named "user_<column>_key" (Node-created), "user_<column>_uidx" or
// "user_<column>_key…" as Postgres shortens long names.
func (c usernameConfig) isConflict(err error) bool {
	return c.Enabled && isUniqueViolation(err, "") && strings.HasPrefix(constraintName(err), "user_"+c.usernameColumn()+"_")
}

func (s *server) handleSignInUsername(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Username.Enabled {
		return errNotFoundEmpty
	}
	var body struct {
		Username    string `json:"username" required:"true"`
		Password    string `json:"password" required:"true"`
		RememberMe  *bool  `json:"rememberMe"`
		CallbackURL string `json:"callbackURL"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if body.Username == "" || body.Password == "" {
		return errInvalidUsernameOrPassword
	}
	if err := s.cfg.Username.checkUsername(body.Username, http.StatusUnprocessableEntity); err != nil {
		return err
	}
	if jsLength(body.Password) > s.cfg.MaxPasswordLength {
		return errPasswordTooLong
	}
	u, err := s.userByUsername(r.Context(), s.cfg.Username.normalize(body.Username))
	if err != nil {
		return err
	}
	hash := ""
	if u != nil {
		if hash, err = s.credentialPassword(r.Context(), s.db, u.ID); err != nil {
			return err
		}
	}
	return s.passwordSignIn(w, r, u, hash, passwordSignInRequest{
		Password: body.Password, CallbackURL: body.CallbackURL, RememberMe: body.RememberMe,
	}, errInvalidUsernameOrPassword)
}

func (s *server) userByUsername(ctx context.Context, username string) (*user, error) {
	var u user
	err := s.db.QueryRow(ctx, `SELECT `+s.userColumns+fmt.Sprintf(` FROM "user" u WHERE u.%q = $1`, s.cfg.Username.usernameColumn()), username).Scan(u.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find user by username: %w", err)
	}
	return &u, nil
}

func (s *server) handleIsUsernameAvailable(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Username.Enabled {
		return errNotFoundEmpty
	}
	var body struct {
		Username string `json:"username" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if body.Username == "" {
		return apiErr(http.StatusUnprocessableEntity, "INVALID_USERNAME", "Username is invalid")
	}
	if err := s.cfg.Username.checkUsername(body.Username, http.StatusUnprocessableEntity); err != nil {
		return err
	}
	owner, err := s.cfg.Username.owner(r.Context(), s.db, s.cfg.Username.normalize(body.Username))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Available bool `json:"available"`
	}{owner == ""})
	return nil
}

// constraintName is the constraint a Postgres error names, "" for none.
func constraintName(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}
