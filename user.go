package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// user is the user row as every endpoint returns it (upstream packages/core/src/db/schema/user.ts),
// twoFactorEnabled included because the twoFactor plugin is always on here.
type user struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Email            string  `json:"email"`
	EmailVerified    bool    `json:"emailVerified"`
	Image            *string `json:"image"`
	CreatedAt        jsTime  `json:"createdAt"`
	UpdatedAt        jsTime  `json:"updatedAt"`
	TwoFactorEnabled bool    `json:"twoFactorEnabled"`
	// The admin plugin's fields (admin.go); null on rows written before its columns existed.
	Role       *string `json:"role"`
	Banned     *bool   `json:"banned"`
	BanReason  *string `json:"banReason"`
	BanExpires *jsTime `json:"banExpires"`
	// Extra holds the username plugin's and user.additionalFields' values (fields.go), answered
	// after the fixed keys.
	Extra fieldValues `json:"-"`
}

// userRow is user without its JSON methods.
type userRow user

var userKeys = jsonFieldNames(reflect.TypeFor[userRow]())

func (u user) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(userRow(u))
	if err != nil {
		return nil, err
	}
	return spliceFields(b, u.Extra), nil
}

func (u *user) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*userRow)(u)); err != nil {
		return err
	}
	extra, err := splitFields(b, userKeys)
	u.Extra = extra
	return err
}

// coreUserColumns selects a user aliased u; a Node database without the twoFactor plugin's column
// value reads as false. s.userColumns adds the fields of the configuration.
const coreUserColumns = `u.id, u.name, u.email, u."emailVerified", u.image, u."createdAt", u."updatedAt", COALESCE(u."twoFactorEnabled", false), u.role, u.banned, u."banReason", u."banExpires"`

func (u *user) scanTargets() []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image, &u.CreatedAt, &u.UpdatedAt, &u.TwoFactorEnabled, &u.Role, &u.Banned, &u.BanReason, &u.BanExpires, (*[]byte)(&u.Extra)}
}

// emailPattern is zod 4's email check, the one upstream's schemas apply.
var emailPattern = regexp.MustCompile(`^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

// validEmail applies the zod pattern plus RFC 5321's 254-character limit.
func validEmail(email string) bool {
	return len(email) <= 254 && emailPattern.MatchString(email)
}

func (s *server) userByEmail(ctx context.Context, q querier, email string) (*user, error) {
	var u user
	err := q.QueryRow(ctx, `SELECT `+s.userColumns+` FROM "user" u WHERE u.email = $1`, strings.ToLower(email)).Scan(u.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find user by email: %w", err)
	}
	return &u, nil
}

func (s *server) userByID(ctx context.Context, q querier, id string) (*user, error) {
	var u user
	err := q.QueryRow(ctx, `SELECT `+s.userColumns+` FROM "user" u WHERE u.id = $1`, id).Scan(u.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return &u, nil
}

// markEmailVerified sets emailVerified on user id's row and reads the row back into u. With once,
// only a row not yet verified matches, so of concurrent callers exactly one gets true: the one
// allowed to go on (sign in, say) as a spent token would.
func (s *server) markEmailVerified(ctx context.Context, q querier, id string, once bool, u *user) (bool, error) {
	err := q.QueryRow(ctx, `UPDATE "user" u SET "emailVerified" = true, "updatedAt" = $2
		WHERE u.id = $1 AND NOT ($3 AND u."emailVerified") RETURNING `+s.userColumns, id, s.now(), once).Scan(u.scanTargets()...)
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark email verified: %w", err)
	}
	return true, s.userChanged(ctx, u)
}

// insertUser creates a user row with the configured fields' defaults; a taken email is
// errUserExistsUseAnother, also when a concurrent sign-up wins the race between our lookup and
// this insert.
func (s *server) insertUser(ctx context.Context, q querier, name, email string, emailVerified bool, image *string) (user, error) {
	return s.insertUserWith(ctx, q, "", name, email, emailVerified, image, s.cfg.userFields().defaults())
}

// insertUserWith is insertUser with the id ("" for a new one) and the fields of extra (parsed
// by parseInput or adminInput); a username taken meanwhile is USERNAME_IS_ALREADY_TAKEN,
// another unique field's conflict (the id's included) upstream's FAILED_TO_CREATE_USER.
func (s *server) insertUserWith(ctx context.Context, q querier, id, name, email string, emailVerified bool, image *string, extra fieldWrite) (user, error) {
	var u user
	now := s.now()
	if id == "" {
		id = generateID(32)
	}
	args := []any{id, name, strings.ToLower(email), emailVerified, image, now, s.cfg.Admin.defaultRole()}
	cols, params := extra.insertSQL(len(args) + 1)
	err := q.QueryRow(ctx, `
		INSERT INTO "user" AS u (id, name, email, "emailVerified", image, "createdAt", "updatedAt", "twoFactorEnabled", role, banned`+cols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $6, false, $7, false`+params+`)
		RETURNING `+s.userColumns,
		append(args, extra.vals...)...,
	).Scan(u.scanTargets()...)
	switch {
	case s.cfg.Username.isConflict(err):
		return user{}, errUsernameTaken
	case isUniqueViolation(err, "") && constraintName(err) != "user_email_key":
		return user{}, errFailedToCreateUser
	case isUniqueViolation(err, ""):
		return user{}, errUserExistsUseAnother
	case isNotNullViolation(err):
		// A required field without a default, on a route that creates users without input
		// (magic link, social sign-in): upstream's insert fails there too.
		return user{}, errFailedToCreateUser
	case err != nil:
		return user{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

var (
	errFailedToCreateUser = apiErr(422, "FAILED_TO_CREATE_USER", "Failed to create user")
	errFailedToUpdateUser = apiErr(422, "FAILED_TO_UPDATE_USER", "Failed to update user")
)

// handleUpdateUser changes name, image, the username and the additional fields a client may
// write. Email has its own flow (change-email) and emailVerified is never client-writable.
func (s *server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name  *string                    `json:"name"`
		Image optional[string]           `json:"image" nullable:"true"`
		Email *string                    `json:"email" nullable:"true"`
		Rest  map[string]json.RawMessage `json:"-" unknown:"keep"`
	}
	as, err := s.sessionRequest(w, r, &body, anySession)
	if err != nil {
		return err
	}
	if body.Email != nil && *body.Email != "" {
		return errEmailCannotBeUpdated
	}
	if err := s.usernameInput(r.Context(), body.Rest, as.User.ID); err != nil {
		return err
	}
	extra, err := s.cfg.userFields().parseInput(body.Rest, false)
	if err != nil {
		return err
	}
	if err := s.userInput(r, body.Rest, false); err != nil {
		return err
	}
	if body.Name == nil && !body.Image.Set && len(extra.cols) == 0 {
		return errNoFieldsToUpdate
	}
	if body.Name != nil {
		extra.cols, extra.vals = append(extra.cols, "name"), append(extra.vals, *body.Name)
	}
	if body.Image.Set {
		extra.cols, extra.vals = append(extra.cols, "image"), append(extra.vals, body.Image.Value)
	}
	updated, err := s.setUserColumns(r.Context(), s.db, as.User.ID, extra.cols, extra.vals)
	switch {
	case s.cfg.Username.isConflict(err):
		return errUsernameTaken
	case isUniqueViolation(err, ""):
		return errFailedToUpdateUser
	case err != nil:
		return err
	case updated != nil:
		as.User = *updated
	}
	if err := s.userChanged(r.Context(), &as.User); err != nil {
		return err
	}
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// setUserColumns sets the named columns (constants of the caller or validated, quoted column
// names of the configuration, never input) to vals and
// updatedAt to now; nil when there is no such user.
func (s *server) setUserColumns(ctx context.Context, q querier, userID string, cols []string, vals []any) (*user, error) {
	now := any(s.now())
	if i := slices.Index(cols, `"updatedAt"`); i >= 0 { // an admin's data sets it
		now = vals[i]
		cols, vals = slices.Delete(slices.Clone(cols), i, i+1), slices.Delete(slices.Clone(vals), i, i+1)
	}
	args := append([]any{userID, now}, vals...)
	set := []string{`"updatedAt" = $2`}
	for i, c := range cols {
		set = append(set, fmt.Sprintf("%s = $%d", c, i+3))
	}
	var u user
	err := q.QueryRow(ctx, `UPDATE "user" u SET `+strings.Join(set, ", ")+` WHERE u.id = $1 RETURNING `+s.userColumns, args...).Scan(u.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return &u, s.userChanged(ctx, &u)
}

// userBan reads whether a user is banned and until when (nil: for good); false for no user.
func userBan(ctx context.Context, q querier, userID string) (banned bool, expires *time.Time, err error) {
	err = q.QueryRow(ctx, `SELECT COALESCE(banned, false), "banExpires" FROM "user" WHERE id = $1`, userID).Scan(&banned, &expires)
	if isNoRows(err) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("read ban: %w", err)
	}
	return banned, expires, nil
}

// liftBan clears a user's ban fields, as unban-user and an expired ban's next sign-in do.
func liftBan(ctx context.Context, q querier, userID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE "user" SET banned = false, "banReason" = NULL, "banExpires" = NULL, "updatedAt" = $2 WHERE id = $1`, userID, now)
	if err != nil {
		return fmt.Errorf("lift ban: %w", err)
	}
	return nil
}

// countOtherAdmins counts the admins (by role or ADMIN_USER_IDS) other than userID. It locks
// every admin row, userID's too, in id order, so that two removals at once queue on the same
// rows and the second counts without the one the first deleted; locking all but userID let
// each lock the row the other deletes, a deadlock.
func (s *server) countOtherAdmins(ctx context.Context, tx pgx.Tx, userID string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM "user"
		WHERE string_to_array(COALESCE(NULLIF(role, ''), $1), ',') && $2 OR id = ANY($3)
		ORDER BY id FOR UPDATE`,
		s.cfg.Admin.defaultRole(), s.cfg.Admin.adminRoles(), s.cfg.Admin.AdminUserIDs)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return len(slices.DeleteFunc(ids, func(id string) bool { return id == userID })), nil
}

// userFieldsNotWritable are the user fields our plugins add that a client may not write (upstream
// input: false): admin's role, banned, banReason and banExpires, two-factor's twoFactorEnabled.
// withDefault marks those with a defaultValue, which creating a user writes instead of refusing.
var userFieldsNotWritable = []struct {
	name        string
	withDefault bool
}{{"role", false}, {"banned", true}, {"banReason", false}, {"banExpires", false}, {"twoFactorEnabled", true}}

// userInput reads the body keys of sign-up or update-user beyond the core ones (rest, the body's
// unknown:"keep" field) as upstream's parseUserInput does: a non-writable field with a truthy
// value is 400 FIELD_NOT_ALLOWED (at create, one with a default is ignored); any other key is
// dropped and named in a debug line, or refused with STRICT_BODY (deviation unknown-body-keys).
func (s *server) userInput(r *http.Request, rest map[string]json.RawMessage, create bool) error {
	if len(rest) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(rest))
	if s.cfg.StrictBody {
		issues := make([]string, len(keys))
		for i, k := range keys {
			issues[i] = unrecognizedKey("body", k)
		}
		return validationError(issues...)
	}
	for _, f := range userFieldsNotWritable {
		if v, ok := rest[f.name]; ok && !(create && f.withDefault) && jsonTruthy(v) {
			return apiErr(400, "FIELD_NOT_ALLOWED", f.name+" is not allowed to be set")
		}
	}
	slog.DebugContext(r.Context(), "body keys dropped", "route", logRoute(r), "keys", keys)
	return nil
}

// jsonTruthy is JavaScript's truthiness of a JSON value: false, 0, "" and null are falsy.
func jsonTruthy(v json.RawMessage) bool {
	switch s := string(bytes.TrimSpace(v)); s {
	case "false", "null", `""`:
		return false
	default:
		var n float64
		return json.Unmarshal(v, &n) != nil || n != 0
	}
}
