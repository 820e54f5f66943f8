package main

import (
	"context"
	"net/http"
)

// Ban enforcement (upstream: packages/better-auth/src/plugins/admin/admin.ts, the session create
// "before" hook). Every session starts in createSession or rotateSession, both of which ask
// admitUser first, so a ban holds on every way in: password, magic link, email OTP, social and
// OIDC, SSO, passkey, two-factor completion. Banning deletes the user's sessions; loadSession
// refuses a banned user's session that survived anyway (a ban written straight into the
// database), and the revocation set (revocation.go) keeps the cookie cache from answering for
// deleted sessions.

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

// revokeUserSessions deletes every session of userID and records their ids in the replica's
// revocation set at once (revocation.go): the schema's trigger announces them to every replica,
// but this replica must refuse their cookie cache before its own NOTIFY comes back.
func (s *server) revokeUserSessions(ctx context.Context, q querier, userID string) error {
	ids, err := deleteUserSessionIDs(ctx, q, userID)
	if err != nil {
		return err
	}
	s.revocations.record(ids...)
	return nil
}
