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
	if err := s.deleteVerification(ctx, tx, identifier); err != nil {
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
	var verdict otpVerdict
	err := s.judgeVerification(ctx, tx, identifier, func(v *verification) (verificationChange, string) {
		if v == nil {
			verdict = otpMissing
			return keepVerification, ""
		}
		stored, attempts := splitOTPValue(v.Value)
		switch {
		case v.ExpiresAt.Before(s.now()):
			verdict = otpExpired
		case attempts >= allowed:
			verdict = otpExhausted
		case subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1:
			verdict = otpWrong
			return rewriteVerification, stored + ":" + strconv.Itoa(attempts+1)
		case keep:
			verdict = otpRight
			return keepVerification, ""
		default:
			verdict = otpRight
		}
		return dropVerification, ""
	})
	if err != nil {
		return 0, fmt.Errorf("check otp: %w", err)
	}
	return verdict, nil
}

// splitOTPValue splits "<code>:<attempts>" at the last colon, as upstream does.
func splitOTPValue(value string) (string, int) {
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return value, 0
	}
	n, _ := strconv.Atoi(value[i+1:])
	return value[:i], n
}
