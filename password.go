package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// Upstream's password hashing (upstream packages/better-auth/src/crypto/password.ts, hashPassword):
// scrypt over the NFKC-normalized password with N=16384, r=16, p=1, a 64-byte key, and the
// 32-character hex salt text itself (not its bytes) as the salt. Stored as "<saltHex>:<keyHex>", so
// hashes move between the Node server and ours unchanged. The stored text does not name N: every
// server on a database must hash with the same one.
const (
	upstreamScryptN = 16384
	scryptR         = 16
	scryptP         = 1
	scryptKeyLen    = 64

	// upstream emailAndPassword.minPasswordLength and maxPasswordLength defaults
	defaultMinPasswordLength = 8
	defaultMaxPasswordLength = 128
)

// hashPassword runs scrypt in the bounded pool: each hash takes ~32 MB and a core for tens of
// milliseconds, so a flood of sign-ins queues there instead of starving every other request.
func (s *server) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	saltHex := hex.EncodeToString(salt)
	key, err := s.scrypt(ctx, password, saltHex)
	if err != nil {
		return "", err
	}
	return saltHex + ":" + hex.EncodeToString(key), nil
}

// checkPassword reports whether password matches a stored "salt:key" hash, comparing in constant
// time. A malformed hash never matches.
func (s *server) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	if !ok || saltHex == "" || keyHex == "" {
		return false, nil
	}
	want, err := hex.DecodeString(keyHex)
	if err != nil {
		return false, nil
	}
	got, err := s.scrypt(ctx, password, saltHex)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// scrypt derives the key in the hashing process, waiting for a free slot (hashproc.go). The
// request is marked as hashing, so that its answer does not count as another request's
// (requestActivity).
func (s *server) scrypt(ctx context.Context, password, salt string) ([]byte, error) {
	if info := requestInfoFrom(ctx); info != nil {
		info.hashed = true
	}
	req := hashRequest{N: s.scryptN, Password: []byte(norm.NFKC.String(password)), Salt: []byte(salt)}
	key, err := hashProc().key(ctx, req, &s.otherRequests, s.metrics.scryptQueued())
	if err == nil {
		s.scryptRuns.Add(1)
	}
	return key, err
}

// jsLength counts UTF-16 code units, as JS string .length does for upstream's length limits.
func jsLength(s string) int { return len(utf16.Encode([]rune(s))) }

// checkNewPassword applies the limits a new password must meet.
func (s *server) checkNewPassword(password string) error {
	switch n := jsLength(password); {
	case n < s.cfg.MinPasswordLength:
		return errPasswordTooShort
	case n > s.cfg.MaxPasswordLength:
		return errPasswordTooLong
	}
	return nil
}
