package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stored one-time codes, as email OTP and two-factor OTP keep them: a row of the verification
// table under the caller's identifier, with the value "<code>:<attempts>" (upstream keeps the
// same shape, so rows move between the servers). Only the newest code under an identifier is
// judged, and making one removes the others.
//
// Guesses at one code are serialized on its row (SELECT … FOR UPDATE), so parallel guesses are
// judged one after the other: every wrong one is counted (in one UPDATE), the first right one
// spends the code, and those after it find nothing.

// otpVerdict is how a guess at a stored code came out.
type otpVerdict int

const (
	otpRight     otpVerdict = iota // spent, unless the caller kept it
	otpMissing                     // no code under the identifier
	otpExpired                     // removed
	otpExhausted                   // the allowed wrong guesses were made before; removed
	otpWrong                       // counted
)

// makeOTP replaces every code under identifier with a new one of length digits, valid for ttl,
// and returns it for the caller to send.
func (s *server) makeOTP(ctx context.Context, tx pgx.Tx, identifier string, length int, ttl time.Duration) (string, error) {
	if err := deleteVerification(ctx, tx, identifier); err != nil {
		return "", fmt.Errorf("replace otp: %w", err)
	}
	code := randomString(length, digits)
	if err := s.createVerification(ctx, tx, identifier, code+":0", s.now().Add(ttl)); err != nil {
		return "", err
	}
	return code, nil
}

// checkStoredOTP judges code against the newest code under identifier, inside tx. A wrong guess
// is counted; once allowed wrong guesses were made the code is removed whatever this guess is; an
// expired code is removed; a right code is consumed, or with keep left in place, uncounted, for a
// later call that consumes it. The row stays locked until tx ends.
func (s *server) checkStoredOTP(ctx context.Context, tx pgx.Tx, identifier, code string, allowed int, keep bool) (otpVerdict, error) {
	var id, value string
	var expiresAt time.Time
	err := tx.QueryRow(ctx, `SELECT id, value, "expiresAt" FROM verification WHERE identifier = $1
		ORDER BY "createdAt" DESC LIMIT 1 FOR UPDATE`, identifier).Scan(&id, &value, &expiresAt)
	if isNoRows(err) {
		return otpMissing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find otp: %w", err)
	}
	stored, attempts := splitOTPValue(value)
	verdict := otpRight
	switch {
	case expiresAt.Before(s.now()):
		verdict = otpExpired
	case attempts >= allowed:
		verdict = otpExhausted
	case subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1:
		if _, err := tx.Exec(ctx, `UPDATE verification SET value = `+otpAttemptsPlusOne+` WHERE id = $1`, id); err != nil {
			return 0, fmt.Errorf("count otp attempt: %w", err)
		}
		return otpWrong, nil
	case keep:
		return otpRight, nil
	}
	if err := deleteVerification(ctx, tx, identifier); err != nil {
		return 0, fmt.Errorf("spend otp: %w", err)
	}
	return verdict, nil
}

// otpAttemptsPlusOne rewrites "<code>:<n>" as "<code>:<n+1>" in SQL, so the count changes in one
// statement.
const otpAttemptsPlusOne = `regexp_replace(value, ':[0-9]*$', '') || ':' || (COALESCE(substring(value from ':([0-9]+)$'), '0')::int + 1)`

// splitOTPValue splits "<code>:<attempts>" at the last colon, as upstream does.
func splitOTPValue(value string) (string, int) {
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return value, 0
	}
	n, _ := strconv.Atoi(value[i+1:])
	return value[:i], n
}
