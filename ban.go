package main

import (
	"context"
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
	// A missing user reads as not banned and fails at the session INSERT's foreign key.
	banned, expires, err := userBan(ctx, q, userID)
	if err != nil || !banned {
		return err
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

// revokeUserSessions deletes every session of userID and keeps their tokens from being answered
// by a cookie cache still in a browser (revokedSessions).
func (s *server) revokeUserSessions(ctx context.Context, q querier, userID string) error {
	tokens, err := s.endUserSessions(ctx, q, userID, "")
	if err != nil {
		return err
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
