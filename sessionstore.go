package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// The session storage seam. Handlers create, find, refresh, list and end sessions through these
// functions and never learn where sessions live. There are three arrangements:
//
//   - Postgres (no REDIS_URL): the session table only.
//   - Redis + Postgres (SESSION_STORE_IN_DATABASE=true): Postgres holds every session and is what
//     a write changes first; Redis holds a copy in upstream's keys, read first. A Redis failure
//     never fails a request: reads fall back to Postgres, and a Redis write that failed is
//     queued in "secondaryStorageRepair" so that the stale key is deleted when Redis is back,
//     before this replica reads Redis again (a session revoked during the outage cannot return).
//   - Redis only (SESSION_STORE_IN_DATABASE=false, upstream's default with secondaryStorage):
//     sessions are in Redis alone, as the Node server keeps them; while Redis is down every
//     session read or write answers 503.
//
// Upstream: packages/better-auth/src/db/internal-adapter.ts (createSession, findSession,
// updateSession, deleteSession, deleteUserSessions, listSessions, refreshUserSessions).

// sessionsInDB reports whether sessions are kept in Postgres.
func (s *server) sessionsInDB() bool { return s.cfg.Redis.sessionsInDB() }

// sessionsFromRedis reports whether a session read asks Redis first: always when sessions are
// only there; with Postgres too, unless Redis failed and the repair loop has not yet caught up.
func (s *server) sessionsFromRedis() bool {
	return s.redis != nil && (!s.sessionsInDB() || !s.redis.degraded.Load())
}

// redisRequired reports whether requests fail while Redis is down: something is kept only there.
func (s *server) redisRequired() bool {
	return s.redis != nil && (!s.cfg.Redis.sessionsInDB() || !s.cfg.Redis.verificationInDB())
}

// revokedBeforeTTL is how long upstream keeps revoked-sessions-before-{userId}: the longest a
// session can live.
func (s *server) revokedBeforeTTL() time.Duration {
	return max(s.cfg.SessionExpiresIn, 24*time.Hour, s.cfg.Admin.impersonationDuration())
}

// redisOutcome decides what a failed Redis write of a session means: with sessions in Postgres
// the write succeeded (Postgres has it) and the keys are queued for repair; with sessions in
// Redis alone it is the request's error.
func (s *server) redisOutcome(ctx context.Context, err error, inDB bool, keys ...string) error {
	if err == nil {
		return nil
	}
	if !inDB {
		return err
	}
	s.queueRepair(ctx, keys...)
	return nil
}

// saveSession stores a new session: its row, with extra as its additional fields' columns, and
// its Redis value with the user's, as upstream's createSession writes them. sess.Extra becomes
// the fields as the API answers them.
func (s *server) saveSession(ctx context.Context, q querier, sess *session, extra fieldWrite) error {
	if s.sessionsInDB() {
		cols, params := extra.insertSQL(12)
		err := q.QueryRow(ctx, `INSERT INTO session AS s (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "activeOrganizationId", "activeTeamId", "impersonatedBy"`+cols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11`+params+`) RETURNING `+s.sessionColumns,
			append([]any{sess.ID, sess.ExpiresAt.Time(), sess.Token, sess.CreatedAt.Time(), sess.UpdatedAt.Time(), sess.IPAddress, sess.UserAgent, sess.UserID,
				sess.ActiveOrganizationID, sess.ActiveTeamID, sess.ImpersonatedBy}, extra.vals...)...).Scan(sess.scanTargets()...)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
	} else {
		sess.Extra = s.cfg.Fields.Session.storedValues(extra)
		sess.Hidden = s.cfg.Fields.Session.hiddenValues(extra)
	}
	return s.putNewSession(ctx, q, *sess)
}

// putNewSession writes a new session's Redis value, with its user's.
func (s *server) putNewSession(ctx context.Context, q querier, sess session) error {
	if s.redis == nil {
		return nil
	}
	u, err := s.userByID(ctx, q, sess.UserID)
	if err != nil {
		return err
	}
	if u == nil {
		return fmt.Errorf("create session: no user %s", sess.UserID)
	}
	part, err := sess.storedJSON()
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	userPart, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	value := append(append(append(append([]byte(`{"session":`), part...), `,"user":`...), userPart...), '}')
	_, err = s.redis.putSession(ctx, sess.Token, sess.UserID, value, sess.ExpiresAt.Time(), s.now(), false)
	return s.redisOutcome(ctx, err, s.sessionsInDB(), sess.Token)
}

// findSession loads a session and its user by token, expired or not.
func (s *server) findSession(ctx context.Context, token string) (*authSession, error) {
	if s.sessionsFromRedis() {
		as, found, err := s.findRedisSession(ctx, token)
		switch {
		case err != nil && !s.sessionsInDB():
			return nil, err
		case err != nil: // Postgres answers while Redis is down
		case found || !s.sessionsInDB():
			return as, nil
		}
	}
	var as authSession
	err := s.db.QueryRow(ctx, `SELECT `+s.sessionColumns+`, `+s.userColumns+`
		FROM session s JOIN "user" u ON u.id = s."userId" WHERE s.token = $1`, token,
	).Scan(append(as.Session.scanTargets(), as.User.scanTargets()...)...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &as, nil
}

// findRedisSession reads token's session from Redis: found is false on a miss; a session its
// user's revocation marker covers, or a value that does not decode, is found but nil.
func (s *server) findRedisSession(ctx context.Context, token string) (as *authSession, found bool, err error) {
	value, before, err := s.redis.getSession(ctx, token)
	if err != nil || value == nil {
		return nil, false, err
	}
	as, ok := decodeStoredSession(value, before, s.cfg.Fields)
	if !ok {
		return nil, true, nil
	}
	return as, true, nil
}

// decodeStoredSession decodes a Redis session value; false when it is malformed or was revoked
// by its user's revoked-sessions-before marker (upstream isRevokedSession). The fields declared
// returned: false, which the Node server stores with the rest, are never answered: the
// session's are set apart to be stored again on a write, the user's dropped (Postgres has them).
func decodeStoredSession(value []byte, revokedBefore int64, fields fieldsConfig) (*authSession, bool) {
	var as authSession
	if err := json.Unmarshal(value, &as); err != nil || as.Session.Token == "" || as.User.ID == "" {
		return nil, false
	}
	if err := fields.Session.hide(&as.Session); err != nil {
		return nil, false
	}
	userExtra, _, err := fields.User.splitHidden(as.User.Extra)
	if err != nil {
		return nil, false
	}
	as.User.Extra = userExtra
	if as.Session.CreatedAt.Time().UnixMilli() < revokedBefore {
		return nil, false
	}
	return &as, true
}

// refreshSession slides the session's expiry (get-session once per updateAge); false when the
// session is gone.
func (s *server) refreshSession(ctx context.Context, as *authSession) (bool, error) {
	now := s.now()
	if s.sessionsInDB() {
		err := s.db.QueryRow(ctx, `UPDATE session SET "expiresAt" = $2, "updatedAt" = $3 WHERE token = $1 RETURNING "expiresAt", "updatedAt"`,
			as.Session.Token, now.Add(s.cfg.SessionExpiresIn), now).Scan(&as.Session.ExpiresAt, &as.Session.UpdatedAt)
		if isNoRows(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("refresh session: %w", err)
		}
	} else {
		as.Session.ExpiresAt, as.Session.UpdatedAt = jsTime(now.Add(s.cfg.SessionExpiresIn)), jsTime(now)
	}
	return s.storeSessionUpdate(ctx, &as.Session)
}

// errFailedToUpdateSession is a unique session field's value taken by another session, as
// FAILED_TO_UPDATE_USER is a user's (upstream has no code: its update fails with a 500).
var errFailedToUpdateSession = apiErr(422, "FAILED_TO_UPDATE_SESSION", "Failed to update session")

// updateSessionFields writes extra, the session's additional fields (update-session), through
// the seam; false when the session is gone.
func (s *server) updateSessionFields(ctx context.Context, sess *session, extra fieldWrite) (bool, error) {
	if s.sessionsInDB() {
		set := `"updatedAt" = $2`
		for i, c := range extra.cols {
			set += fmt.Sprintf(", %s = $%d", c, i+3)
		}
		err := s.db.QueryRow(ctx, `UPDATE session s SET `+set+` WHERE s.token = $1 RETURNING `+s.sessionColumns,
			append([]any{sess.Token, s.now()}, extra.vals...)...).Scan(sess.scanTargets()...)
		if isNoRows(err) {
			return false, nil
		}
		if isUniqueViolation(err, "") {
			return false, errFailedToUpdateSession
		}
		if err != nil {
			return false, fmt.Errorf("update session: %w", err)
		}
	} else {
		fields, hidden, err := s.cfg.Fields.Session.updated(*sess, extra)
		if err != nil {
			return false, err
		}
		sess.Extra, sess.Hidden, sess.UpdatedAt = fields, hidden, jsTime(s.now())
	}
	return s.storeSessionUpdate(ctx, sess)
}

// storeSessionUpdate writes a changed session to Redis, keeping the stored user (upstream
// updateSession). With Postgres as the store, a session Redis does not hold stays unheld.
// false: sessions are only in Redis and this one is not there.
func (s *server) storeSessionUpdate(ctx context.Context, sess *session) (bool, error) {
	if s.redis == nil {
		return true, nil
	}
	part, err := sess.storedJSON()
	if err != nil {
		return false, fmt.Errorf("encode session: %w", err)
	}
	value := append([]byte(`{"session":`), part...)
	stored, err := s.redis.putSession(ctx, sess.Token, sess.UserID, value, sess.ExpiresAt.Time(), s.now(), true)
	if err := s.redisOutcome(ctx, err, s.sessionsInDB(), sess.Token); err != nil {
		return false, err
	}
	return stored || s.sessionsInDB(), nil
}

// endSession ends the session with this token, if there is one, and answers whose it was.
func (s *server) endSession(ctx context.Context, q querier, token string) (string, error) {
	userID, _, err := s.endOwnedSession(ctx, q, token, "")
	return userID, err
}

// revokeSessionByToken ends the session with this token and answers its id ("" when there was
// none), for the replica's revocation set.
func (s *server) revokeSessionByToken(ctx context.Context, q querier, token string) (string, error) {
	_, id, err := s.endOwnedSession(ctx, q, token, "")
	return id, err
}

// endOwnedSession ends the session with this token if ownerID (when set) owns it, and answers
// its user's and its own id.
func (s *server) endOwnedSession(ctx context.Context, q querier, token, ownerID string) (userID, id string, err error) {
	if s.sessionsInDB() {
		err := q.QueryRow(ctx, `DELETE FROM session WHERE token = $1 AND ($2 = '' OR "userId" = $2) RETURNING "userId", id`, token, ownerID).Scan(&userID, &id)
		if err != nil && !isNoRows(err) {
			return "", "", fmt.Errorf("delete session: %w", err)
		}
	}
	if s.redis == nil {
		return userID, id, nil
	}
	uid, rid, err := s.redis.deleteSession(ctx, token, ownerID, s.now())
	if err := s.redisOutcome(ctx, err, s.sessionsInDB(), token); err != nil {
		return "", "", err
	}
	if !s.sessionsInDB() {
		userID, id = uid, rid
		if err := s.announceRevoked(ctx, q, id); err != nil {
			return "", "", err
		}
	}
	return userID, id, nil
}

// endUserSessions signs userID out everywhere but the session keep ("" for none) and answers
// the ids of the sessions it ended, for the replica's revocation set. Signing out everywhere also sets upstream's revoked-sessions-before
// marker, which ends on every server any session of the user Redis still holds.
func (s *server) endUserSessions(ctx context.Context, q querier, userID, keep string) ([]string, error) {
	var tokens, ids []string
	if s.sessionsInDB() {
		rows, err := q.Query(ctx, `DELETE FROM session WHERE "userId" = $1 AND ($2 = '' OR (token <> $2 AND "expiresAt" > $3)) RETURNING token, id`, userID, keep, s.now())
		if err != nil {
			return nil, fmt.Errorf("delete user sessions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var token, id string
			if err := rows.Scan(&token, &id); err != nil {
				return nil, fmt.Errorf("delete user sessions: %w", err)
			}
			tokens, ids = append(tokens, token), append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("delete user sessions: %w", err)
		}
		rows.Close()
	}
	if s.redis == nil {
		return ids, nil
	}
	_, redisIDs, err := s.redis.deleteUserSessions(ctx, userID, keep, tokens, s.revokedBeforeTTL(), s.now())
	if err := s.redisOutcome(ctx, err, s.sessionsInDB(), tokens...); err != nil {
		return nil, err
	}
	if !s.sessionsInDB() {
		ids = redisIDs
		if err := s.announceRevoked(ctx, q, ids...); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// announceRevoked records sessions ended in Redis as the session table's trigger records a
// deleted row (schema.sql, "session_revoked"), so that every replica's cookie cache refuses them
// at once in this arrangement too (revocation.go).
func (s *server) announceRevoked(ctx context.Context, q querier, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			continue
		}
		_, err := q.Exec(ctx, `WITH r AS (INSERT INTO "sessionRevocation" (id) VALUES ($1)
			ON CONFLICT (id) DO UPDATE SET "revokedAt" = CURRENT_TIMESTAMP RETURNING id)
			SELECT pg_notify('`+revocationChannel+`', id) FROM r`, id)
		if err != nil {
			return fmt.Errorf("announce revoked session: %w", err)
		}
	}
	return nil
}

// activeSessions lists userID's unexpired sessions. own leaves out the sessions admins opened as
// this user, as upstream's admin plugin hides them from the user's list-sessions. With Postgres
// as a store it is read, as upstream reads it then.
func (s *server) activeSessions(ctx context.Context, userID string, own bool) ([]session, error) {
	if !s.sessionsInDB() {
		return s.listRedisSessions(ctx, userID, own)
	}
	rows, err := s.db.Query(ctx, `SELECT `+s.sessionColumns+` FROM session s
		WHERE s."userId" = $1 AND s."expiresAt" > $2 AND ($3 OR s."impersonatedBy" IS NULL)
		ORDER BY s."createdAt"`, userID, s.now(), !own)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (session, error) {
		var sess session
		return sess, row.Scan(sess.scanTargets()...)
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, nil
}

// listRedisSessions reads the user's active-sessions list, in its order (soonest expiry first).
func (s *server) listRedisSessions(ctx context.Context, userID string, own bool) ([]session, error) {
	now := s.now()
	before, values, err := s.redis.listSessions(ctx, userID, now)
	if err != nil {
		return nil, err
	}
	sessions := []session{}
	for _, v := range values {
		as, ok := decodeStoredSession([]byte(v), before, s.cfg.Fields)
		if !ok || as.Session.UserID != userID || !as.Session.ExpiresAt.Time().After(now) || (own && as.Session.ImpersonatedBy != nil) {
			continue
		}
		sessions = append(sessions, as.Session)
	}
	return sessions, nil
}

// userChanged rewrites the user kept with each of the user's sessions in Redis after the user
// row changed (upstream refreshUserSessions, called by updateUser), so that get-session on
// either server shows the new user. Call it with the row as written.
func (s *server) userChanged(ctx context.Context, u *user) error {
	if s.redis == nil || u == nil {
		return nil
	}
	value, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user: %w", err)
	}
	err = s.redis.setUser(ctx, u.ID, value, s.now())
	if err == nil || !s.sessionsInDB() {
		return err
	}
	// Forget the user's stored sessions: Postgres has them, and the new user.
	rows, qerr := s.db.Query(ctx, `SELECT token FROM session WHERE "userId" = $1`, u.ID)
	if qerr != nil {
		return fmt.Errorf("list sessions to repair: %w", qerr)
	}
	tokens, qerr := pgx.CollectRows(rows, pgx.RowTo[string])
	if qerr != nil {
		return fmt.Errorf("list sessions to repair: %w", qerr)
	}
	s.queueRepair(ctx, tokens...)
	return nil
}

// queueRepair records Redis keys that may now be stale; the repair loop deletes them once Redis
// answers. Postgres has what they held, so deleting them loses nothing.
func (s *server) queueRepair(ctx context.Context, keys ...string) {
	if len(keys) == 0 {
		return
	}
	_, err := s.db.Exec(context.WithoutCancel(ctx), `INSERT INTO "secondaryStorageRepair" (key, "createdAt")
		SELECT k, now() FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING`, keys)
	if err != nil {
		slog.Error("queue redis repair", "err", err)
	}
}

// repairRedis deletes the queued stale keys from Redis; true when the queue is empty.
func (s *server) repairRedis(ctx context.Context) (bool, error) {
	for {
		rows, err := s.db.Query(ctx, `SELECT key FROM "secondaryStorageRepair" ORDER BY "createdAt" LIMIT 500`)
		if err != nil {
			return false, fmt.Errorf("read redis repairs: %w", err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return false, fmt.Errorf("read redis repairs: %w", err)
		}
		if len(keys) == 0 {
			return true, nil
		}
		if err := s.redis.del(ctx, keys...); err != nil {
			return false, err
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM "secondaryStorageRepair" WHERE key = ANY($1)`, keys); err != nil {
			return false, fmt.Errorf("clear redis repairs: %w", err)
		}
	}
}

// watchRedis runs the repair loop until ctx ends: while Redis is marked failed it waits for Redis
// to answer, deletes every queued stale key, then lets reads use Redis again; otherwise it
// drains repairs other replicas queued. done closes when it has stopped.
func (s *server) watchRedis(ctx context.Context, every time.Duration) (done <-chan struct{}) {
	stopped := make(chan struct{})
	if s.redis == nil {
		close(stopped)
		return stopped
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s.repairOnce(ctx)
		}
	}()
	return stopped
}

func (s *server) repairOnce(ctx context.Context) {
	degraded := s.redis.degraded.Load()
	if degraded && s.redis.c.Ping(ctx).Err() != nil {
		return
	}
	clean, err := s.repairRedis(ctx)
	if err != nil || !clean || !degraded {
		return
	}
	if s.redis.degraded.CompareAndSwap(true, false) {
		slog.Info("redis available again; stale keys repaired")
	}
}
