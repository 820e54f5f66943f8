package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Two-factor authentication (upstream packages/better-auth/src/plugins/two-factor/): TOTP, codes
// sent by email, backup codes and trusted devices. The TOTP secret and the backup codes are stored
// encrypted exactly as upstream stores them (upstream symmetricEncrypt), so an enrolment made by
// either server verifies in the other. This file holds enrolment and management; twofactorverify.go
// the second step of sign-in.
//
// Stricter than upstream on purpose: a TOTP code is accepted once per time step and user (RFC 6238
// section 5.2; upstream accepts a replay inside its window, better-auth#10387). The last step
// accepted lives in our own nullable column "lastUsedStep", which the Node server ignores.

// Upstream's defaults (upstream two-factor/index.ts).
const (
	totpPeriod      = 30 // seconds per TOTP step
	totpWindow      = 1  // steps accepted either side of the current one
	totpSecretLen   = 32
	backupCodeCount = 10
)

var (
	errOTPHasExpired          = apiErr(400, "OTP_HAS_EXPIRED", "OTP has expired")
	errTOTPNotEnabled         = apiErr(400, "TOTP_NOT_ENABLED", "TOTP not enabled")
	errTOTPAlreadyEnabled     = apiErr(400, "TOTP_ALREADY_ENABLED", "TOTP is already enabled")
	errTwoFactorNotEnabled    = apiErr(400, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled")
	errBackupCodesNotEnabled  = apiErr(400, "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled")
	errInvalidBackupCode      = apiErr(401, "INVALID_BACKUP_CODE", "Invalid backup code")
	errInvalidCode            = apiErr(401, "INVALID_CODE", "Invalid code")
	errTooManyAttemptsNewCode = apiErr(400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.")
	errAccountLocked          = apiErr(429, "ACCOUNT_TEMPORARILY_LOCKED", "Too many failed verification attempts. Your account is temporarily locked. Please try again later.")
	errInvalidTwoFactorCookie = apiErr(401, "INVALID_TWO_FACTOR_COOKIE", "Invalid two factor cookie")
	errFailedToCreateSession  = apiErr(400, "FAILED_TO_CREATE_SESSION", "Failed to create session")
	errBackupCodeConflict     = apiErr(409, "", "Failed to verify backup code. Please try again.")
	errBadTwoFactorMethod     = validationError(`[body.method] Invalid option: expected one of "otp"|"totp"`)
)

// twoFactorRow is a user's row of the "twoFactor" table (upstream two-factor/schema.ts).
type twoFactorRow struct {
	ID          string
	Secret      string // encrypted
	BackupCodes string // encrypted JSON array
	Verified    *bool
	LockedUntil *time.Time
}

// verified is upstream's `verified !== false`: rows written before the column existed count.
func (t *twoFactorRow) verified() bool { return t.Verified == nil || *t.Verified }

// findTwoFactor returns the user's row, or nil. forUpdate locks it until the transaction ends,
// which serializes every verification of that user's factors.
func (s *server) findTwoFactor(ctx context.Context, q querier, userID string, forUpdate bool) (*twoFactorRow, error) {
	query := `SELECT id, secret, "backupCodes", verified, "lockedUntil" FROM "twoFactor" WHERE "userId" = $1 LIMIT 1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var t twoFactorRow
	err := q.QueryRow(ctx, query, userID).Scan(&t.ID, &t.Secret, &t.BackupCodes, &t.Verified, &t.LockedUntil)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find two-factor: %w", err)
	}
	return &t, nil
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpKey decrypts a stored secret into the HMAC key. Upstream's key is the UTF-8 bytes of its
// 32-character secret, not a base32 decoding of it (upstream two-factor/totp/index.ts); a secret
// imported from elsewhere is stored as "base32:<secret>" and decoded (upstream's
// decryptTOTPSecret).
func (s *server) totpKey(stored string) ([]byte, error) {
	plain, err := s.symmetricDecrypt(stored)
	if err != nil {
		return nil, fmt.Errorf("totp secret: %w", err)
	}
	if rest, ok := strings.CutPrefix(plain, "base32:"); ok {
		key, err := base32NoPad.DecodeString(strings.TrimRight(strings.ToUpper(rest), "="))
		if err != nil {
			return nil, fmt.Errorf("totp secret: imported secret is not base32: %w", err)
		}
		return key, nil
	}
	return []byte(plain), nil
}

// totpCode is the RFC 6238 code of key for a time step: HMAC-SHA1, six digits.
func totpCode(key []byte, step int64) string {
	code, err := hotp.GenerateCodeCustom(base32NoPad.EncodeToString(key), uint64(step),
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic("totp: base32 we just encoded does not decode: " + err.Error())
	}
	return code
}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.UnixMilli() / (totpPeriod * 1000) }

// matchTOTP finds the step, within the window around now, whose code is code: the latest one if
// several match. Every candidate is compared in constant time.
func matchTOTP(key []byte, code string, now time.Time) (step int64, ok bool) {
	current := totpStep(now)
	for candidate := current - totpWindow; candidate <= current+totpWindow; candidate++ {
		if subtle.ConstantTimeCompare([]byte(totpCode(key, candidate)), []byte(code)) == 1 {
			step, ok = candidate, true
		}
	}
	return step, ok
}

// totpURI is upstream's otpauth URI (upstream two-factor/totp/index.ts): issuer and account escaped
// as encodeURIComponent in the label, the query built as URLSearchParams builds it, digits and
// period always present.
func totpURI(issuer, email string, key []byte) string {
	return "otpauth://totp/" + encodeURIComponent(issuer) + ":" + encodeURIComponent(email) +
		"?secret=" + base32NoPad.EncodeToString(key) + "&issuer=" + formEncode(issuer) + "&digits=6&period=30"
}

// formEncode escapes a query value as URLSearchParams does (WHATWG urlencoded serializer):
// A-Z a-z 0-9 * - . _ stay, a space becomes "+", every other byte %XX.
func formEncode(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("*-._", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// newBackupCodes makes upstream's backup codes: ten of ten [a-zA-Z0-9] characters, written
// XXXXX-XXXXX.
func newBackupCodes() []string {
	codes := make([]string, backupCodeCount)
	for i := range codes {
		c := randomString(10, alphaNum)
		codes[i] = c[:5] + "-" + c[5:]
	}
	return codes
}

// sealBackupCodes stores codes as upstream does: JSON.stringify of the array, encrypted.
func (s *server) sealBackupCodes(codes []string) (string, error) {
	raw, err := json.Marshal(codes)
	if err != nil {
		return "", fmt.Errorf("encode backup codes: %w", err)
	}
	return s.symmetricEncrypt(string(raw))
}

// openBackupCodes reads stored codes; false when they do not decrypt to a JSON array of strings,
// which upstream treats as no match.
func (s *server) openBackupCodes(stored string) ([]string, bool) {
	plain, err := s.symmetricDecrypt(stored)
	if err != nil {
		return nil, false
	}
	var codes []string
	if err := json.Unmarshal([]byte(plain), &codes); err != nil {
		return nil, false
	}
	return codes, true
}

// spendBackupCode removes code from codes by exact, case-sensitive match, as upstream's filter
// does; false when it is not there.
func spendBackupCode(codes []string, code string) ([]string, bool) {
	found := false
	rest := make([]string, 0, len(codes))
	for _, c := range codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			found = true
			continue
		}
		rest = append(rest, c)
	}
	return rest, found
}

// rotateSession replaces a session with a new one that keeps its device details and active
// organization (and additional fields), as upstream does when the user's second factors change
// (createSession with the old session as override, then deleteSession).
func (s *server) rotateSession(ctx context.Context, tx pgx.Tx, old session) (session, error) {
	if err := s.admitUser(ctx, tx, old.UserID); err != nil {
		return session{}, err
	}
	now := s.now()
	if s.sessionsInDB() {
		return s.rotateSessionRow(ctx, tx, old, now)
	}
	// Ending the old session first is also the check that it was not signed out meanwhile.
	userID, err := s.endSession(ctx, tx, old.Token)
	if err != nil {
		return session{}, fmt.Errorf("rotate session: %w", err)
	}
	if userID == "" {
		return session{}, errUnauthorized
	}
	sess := old // with its additional fields as Redis held them
	sess.ID, sess.Token = generateID(32), generateID(32)
	sess.ExpiresAt, sess.CreatedAt, sess.UpdatedAt = jsTime(now.Add(s.cfg.SessionExpiresIn)), jsTime(now), jsTime(now)
	if err := s.putNewSession(ctx, tx, sess); err != nil {
		return session{}, fmt.Errorf("rotate session: %w", err)
	}
	return sess, nil
}

// rotateSessionRow is rotateSession with sessions in Postgres: the new row copies the old one's
// columns, the additional fields' included (also those the API does not return), before the old
// one ends.
func (s *server) rotateSessionRow(ctx context.Context, tx pgx.Tx, old session, now time.Time) (session, error) {
	var sess session
	err := tx.QueryRow(ctx, `
		INSERT INTO session AS s (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "activeOrganizationId", "activeTeamId", "impersonatedBy"`+s.cfg.Fields.Session.columnList("")+`)
		SELECT $2, $3, $4, $5, $5, o."ipAddress", o."userAgent", o."userId", o."activeOrganizationId", o."activeTeamId", o."impersonatedBy"`+s.cfg.Fields.Session.columnList("o")+`
		FROM session o WHERE o.id = $1
		RETURNING `+s.sessionColumns,
		old.ID, generateID(32), now.Add(s.cfg.SessionExpiresIn), generateID(32), now,
	).Scan(sess.scanTargets()...)
	if isNoRows(err) {
		return session{}, errUnauthorized // signed out meanwhile
	}
	if err != nil {
		return session{}, fmt.Errorf("rotate session: %w", err)
	}
	if _, err := s.endSession(ctx, tx, old.Token); err != nil {
		return session{}, fmt.Errorf("rotate session: %w", err)
	}
	if err := s.putNewSession(ctx, tx, sess); err != nil {
		return session{}, fmt.Errorf("rotate session: %w", err)
	}
	return sess, nil
}

// setTwoFactorEnabled turns the user's flag on or off and rotates the caller's session, so the
// session (and its cookie cache) carries the new user.
func (s *server) setTwoFactorEnabled(ctx context.Context, tx pgx.Tx, as *authSession, enabled bool) (*authSession, error) {
	next := &authSession{User: as.User}
	err := tx.QueryRow(ctx, `UPDATE "user" u SET "twoFactorEnabled" = $2, "updatedAt" = $3 WHERE u.id = $1
		RETURNING `+s.userColumns, as.User.ID, enabled, s.now()).Scan(next.User.scanTargets()...)
	if isNoRows(err) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("update two-factor flag: %w", err)
	}
	if err := s.userChanged(ctx, &next.User); err != nil {
		return nil, err
	}
	if next.Session, err = s.rotateSession(ctx, tx, as.Session); err != nil {
		return nil, err
	}
	return next, nil
}

// commitRotation sets the user's flag and rotates the session in a transaction of its own, then
// writes the new session's cookies.
func (s *server) commitRotation(w http.ResponseWriter, r *http.Request, as *authSession, enabled bool) error {
	var next *authSession
	err := inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		var err error
		next, err = s.setTwoFactorEnabled(r.Context(), tx, as, enabled)
		return err
	})
	if err != nil {
		return err
	}
	s.resetSessionCookie(w, r, next)
	return nil
}

func (s *server) handleTwoFactorEnable(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Password string        `json:"password" required:"true"`
		Method   optional[any] `json:"method" nullable:"true"`
		Issuer   string        `json:"issuer"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	method, err := twoFactorMethod(body.Method)
	if err != nil {
		return err
	}
	as, err := s.requireSession(w, r, sensitiveSession)
	if err != nil {
		return err
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, body.Password, errInvalidPassword); err != nil {
		return err
	}
	if method == "otp" {
		// Codes go to the account's email, so the method is on at once (upstream
		// two-factor/otp/index.ts).
		if err := s.commitRotation(w, r, as, true); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct {
			Method string `json:"method"`
		}{"otp"})
		return nil
	}
	secret, codes, err := s.newTOTPSecret(r.Context(), as.User.ID)
	if err != nil {
		return err
	}
	issuer := cmp.Or(body.Issuer, s.cfg.TwoFactor.Issuer)
	writeJSON(w, http.StatusOK, struct {
		Method      string   `json:"method"`
		TOTPURI     string   `json:"totpURI"`
		BackupCodes []string `json:"backupCodes"`
	}{"totp", totpURI(issuer, as.User.Email, []byte(secret)), codes})
	return nil
}

// twoFactorMethod is enable's method: totp when not given, else "totp" or "otp" only.
func twoFactorMethod(method optional[any]) (string, error) {
	if !method.Set {
		return "totp", nil
	}
	var m string
	if method.Value != nil {
		m, _ = (*method.Value).(string)
	}
	if m != "totp" && m != "otp" {
		return "", errBadTwoFactorMethod
	}
	return m, nil
}

// newTOTPSecret makes a TOTP secret and backup codes for userID and stores them sealed, not yet
// verified; it returns them in the clear for the answer.
func (s *server) newTOTPSecret(ctx context.Context, userID string) (secret string, codes []string, err error) {
	secret = randomString(totpSecretLen, defaultAlpha)
	codes = newBackupCodes()
	sealedSecret, err := s.symmetricEncrypt(secret)
	if err != nil {
		return "", nil, err
	}
	sealedCodes, err := s.sealBackupCodes(codes)
	if err != nil {
		return "", nil, err
	}
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		return s.storeTOTPSecret(ctx, tx, userID, sealedSecret, sealedCodes)
	})
	if err != nil {
		return "", nil, err
	}
	return secret, codes, nil
}

// storeTOTPSecret stores a new, unverified secret and backup codes for userID, sealed, in place
// of an unverified one.
func (s *server) storeTOTPSecret(ctx context.Context, tx pgx.Tx, userID, sealedSecret, sealedCodes string) error {
	// The user row lock keeps two enrolments from each inserting a row: upstream's schema has no
	// unique key on userId.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM "user" WHERE id = $1 FOR UPDATE`, userID); err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	existing, err := s.findTwoFactor(ctx, tx, userID, false)
	if err != nil {
		return err
	}
	// A verified secret is never replaced (npm 1.7.25, better-auth#10923): a new secret would be
	// live before its first code. An unverified one is, and stays unverified until verify-totp.
	if existing != nil && existing.verified() {
		return errTOTPAlreadyEnabled
	}
	if existing == nil {
		_, err = tx.Exec(ctx, `INSERT INTO "twoFactor" (id, secret, "backupCodes", "userId", verified, "failedVerificationCount")
			VALUES ($1, $2, $3, $4, false, 0)`, generateID(32), sealedSecret, sealedCodes, userID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE "twoFactor" SET secret = $2, "backupCodes" = $3, verified = false, "lastUsedStep" = NULL
			WHERE id = $1`, existing.ID, sealedSecret, sealedCodes)
	}
	if err != nil {
		return fmt.Errorf("store two-factor secret: %w", err)
	}
	return nil
}

// passwordRequest reads the {password} body of a management endpoint and the caller's session.
func (s *server) passwordRequest(w http.ResponseWriter, r *http.Request, kind sessionKind) (*authSession, string, error) {
	var body struct {
		Password string `json:"password" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return nil, "", err
	}
	as, err := s.requireSession(w, r, kind)
	if err != nil {
		return nil, "", err
	}
	return as, body.Password, nil
}

func (s *server) handleTwoFactorDisable(w http.ResponseWriter, r *http.Request) error {
	as, password, err := s.passwordRequest(w, r, sensitiveSession)
	if err != nil {
		return err
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, password, errInvalidPassword); err != nil {
		return err
	}
	_, hasTrust := s.signedCookie(r, cookieTrustDevice)
	var next *authSession
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(r.Context(), `DELETE FROM "twoFactor" WHERE "userId" = $1`, as.User.ID); err != nil {
			return fmt.Errorf("delete two-factor: %w", err)
		}
		// Every device this user trusted forgets it, not only this one (upstream drops only the
		// caller's): turning two-factor on again later must ask every device for a second factor.
		if _, err := tx.Exec(r.Context(), `DELETE FROM verification WHERE identifier LIKE 'trust-device-%' AND value = $1`, as.User.ID); err != nil {
			return fmt.Errorf("forget trusted devices: %w", err)
		}
		next, err = s.setTwoFactorEnabled(r.Context(), tx, as, false)
		return err
	})
	if err != nil {
		return err
	}
	s.resetSessionCookie(w, r, next)
	if hasTrust {
		s.expireCookie(w, cookieTrustDevice)
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleGetTOTPURI(w http.ResponseWriter, r *http.Request) error {
	as, password, err := s.passwordRequest(w, r, anySession)
	if err != nil {
		return err
	}
	row, err := s.findTwoFactor(r.Context(), s.db, as.User.ID, false)
	if err != nil {
		return err
	}
	if row == nil {
		return errTOTPNotEnabled
	}
	key, err := s.totpKey(row.Secret)
	if err != nil {
		return err
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, password, errInvalidPassword); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"totpURI": totpURI(s.cfg.TwoFactor.Issuer, as.User.Email, key)})
	return nil
}

func (s *server) handleGenerateBackupCodes(w http.ResponseWriter, r *http.Request) error {
	as, password, err := s.passwordRequest(w, r, anySession)
	if err != nil {
		return err
	}
	if !as.User.TwoFactorEnabled {
		return errTwoFactorNotEnabled
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, password, errInvalidPassword); err != nil {
		return err
	}
	codes := newBackupCodes()
	sealed, err := s.sealBackupCodes(codes)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(r.Context(), `UPDATE "twoFactor" SET "backupCodes" = $2 WHERE "userId" = $1`, as.User.ID, sealed)
	if err != nil {
		return fmt.Errorf("store backup codes: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errTwoFactorNotEnabled
	}
	writeJSON(w, http.StatusOK, struct {
		Status      bool     `json:"status"`
		BackupCodes []string `json:"backupCodes"`
	}{true, codes})
	return nil
}
