package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Ban enforcement (upstream: packages/better-auth/src/plugins/admin/admin.ts, the session create
// "before" hook). Every session starts in createSession or rotateSession, both of which ask
// admitUser first, so a ban holds on every way in: password, magic link, email OTP, social and
// OIDC, SSO, passkey, two-factor completion. Banning deletes the user's sessions; loadSession
// refuses a banned user's session that survived anyway (a ban written straight into the
// database), and revokedSessions keeps the cookie cache from answering for deleted sessions.

// maxBanSeconds bounds banExpiresIn and the duration settings: a hundred years. Past it a date
// overflows what Postgres and JavaScript can store.
const maxBanSeconds = 100 * 365 * 24 * 3600

// errBanned is upstream's 403 BANNED_USER with the configured message.
func (s *server) errBanned() *apiError {
	return apiErr(http.StatusForbidden, "BANNED_USER", s.cfg.Admin.bannedUserMessage())
}

// admitUser refuses a session to a banned user. A ban whose banExpires has passed is lifted
// here, at the next sign-in, as upstream lifts it.
func (s *server) admitUser(ctx context.Context, q querier, userID string) error {
	var banned bool
	var expires *time.Time
	err := q.QueryRow(ctx, `SELECT COALESCE(banned, false), "banExpires" FROM "user" WHERE id = $1`, userID).Scan(&banned, &expires)
	if isNoRows(err) || (err == nil && !banned) {
		return nil // a missing user fails at the session INSERT's foreign key
	}
	if err != nil {
		return fmt.Errorf("read ban: %w", err)
	}
	if expires != nil && expires.Before(s.now()) {
		if err := liftBan(ctx, q, userID, s.now()); err != nil {
			return err
		}
		return nil
	}
	return s.errBanned()
}

// activeBan reports a ban in force on u (one whose banExpires has passed no longer counts).
func (s *server) activeBan(u *user) bool {
	return u.Banned != nil && *u.Banned && (u.BanExpires == nil || !u.BanExpires.Time().Before(s.now()))
}

// liftBan clears a user's ban fields, as unban-user and an expired ban's next sign-in do.
func liftBan(ctx context.Context, q querier, userID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE "user" SET banned = false, "banReason" = NULL, "banExpires" = NULL, "updatedAt" = $2 WHERE id = $1`, userID, now)
	if err != nil {
		return fmt.Errorf("lift ban: %w", err)
	}
	return nil
}

// revokeUserSessions deletes every session of userID and keeps their tokens from being answered
// by a cookie cache still in a browser (revokedSessions).
func (s *server) revokeUserSessions(ctx context.Context, q querier, userID string) error {
	rows, err := q.Query(ctx, `DELETE FROM session WHERE "userId" = $1 RETURNING token`, userID)
	if err != nil {
		return fmt.Errorf("revoke user sessions: %w", err)
	}
	defer rows.Close()
	var tokens []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return fmt.Errorf("revoke user sessions: %w", err)
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("revoke user sessions: %w", err)
	}
	s.forgetCachedSessions(tokens...)
	return nil
}

// forgetCachedSessions keeps the cookie cache from answering for these deleted sessions.
func (s *server) forgetCachedSessions(tokens ...string) {
	now := s.now()
	s.revoked.add(tokens, now, now.Add(time.Duration(s.cfg.CookieCacheMaxAge)*time.Second))
}

// revokedSessions holds the tokens of sessions an admin revoked until the longest cookie cache
// that may still carry them has expired: a session_data cookie is signed, not looked up, so
// without this a banned user's browser would keep its session for up to COOKIE_CACHE_MAX_AGE.
// It is per process; with several replicas each one learns of a revocation only from Postgres,
// once the cache lapses (upstream's own cookie cache has the same window everywhere).
type revokedSessions struct {
	mu     sync.Mutex
	tokens map[string]time.Time // token -> when its entry may be dropped
}

func (rv *revokedSessions) add(tokens []string, now, until time.Time) {
	if len(tokens) == 0 {
		return
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.tokens == nil {
		rv.tokens = map[string]time.Time{}
	}
	for t, exp := range rv.tokens {
		if exp.Before(now) {
			delete(rv.tokens, t)
		}
	}
	for _, t := range tokens {
		rv.tokens[t] = until
	}
}

func (rv *revokedSessions) has(token string) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	_, ok := rv.tokens[token]
	return ok
}
