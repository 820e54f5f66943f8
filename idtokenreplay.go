package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// ID tokens a client posts to sign-in/social (or link-social) are accepted once (ours; upstream
// accepts the same token again for as long as it is valid, see COMPATIBILITY.md, id-token-once).
// The SHA-256 of each accepted token is kept in "usedIdToken" until the token expires, so a
// replay is refused on every replica sharing the database; the sweep removes expired rows.

var errIDTokenReplayed = apiErr(401, "INVALID_TOKEN", "Invalid token")

// opaqueIDTokenLifetime is how long an ID token without an exp claim (an opaque one, proven by
// the provider's API instead of a signature) is remembered.
const opaqueIDTokenLifetime = time.Hour

// consumeIDToken records raw as used, or answers errIDTokenReplayed when it was used before.
// claims are its verified claims (nil for an opaque token).
func (s *server) consumeIDToken(ctx context.Context, raw string, claims map[string]any) error {
	expires := s.now().Add(opaqueIDTokenLifetime)
	if exp, ok := claims["exp"].(float64); ok {
		expires = time.Unix(int64(exp), 0).Add(idTokenLeeway)
	}
	sum := sha256.Sum256([]byte(raw))
	tag, err := s.db.Exec(ctx, `INSERT INTO "usedIdToken" (id, "expiresAt") VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(sum[:]), expires)
	if err != nil {
		return fmt.Errorf("record id token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errIDTokenReplayed
	}
	return nil
}
