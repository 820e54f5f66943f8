package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sessions (upstream packages/better-auth/src/api/routes/session.ts, getSession): a row per
// signed-in device, found by the token in the signed session_token cookie. get-session is the hot
// path: one indexed JOIN, or no query at all on a valid session_data cookie cache hit.

type session struct {
	ID                   string      `json:"id"`
	ExpiresAt            jsTime      `json:"expiresAt"`
	Token                string      `json:"token"`
	CreatedAt            jsTime      `json:"createdAt"`
	UpdatedAt            jsTime      `json:"updatedAt"`
	IPAddress            *string     `json:"ipAddress"`
	UserAgent            *string     `json:"userAgent"`
	UserID               string      `json:"userId"`
	ActiveOrganizationID *string     `json:"activeOrganizationId"`
	ActiveTeamID         *string     `json:"activeTeamId"`
	ImpersonatedBy       *string     `json:"impersonatedBy"` // the admin plugin's (impersonate.go)
	Extra                fieldValues `json:"-"`              // session.additionalFields (fields.go)
}

// sessionRow is session without its JSON methods.
type sessionRow session

var sessionKeys = jsonFieldNames(reflect.TypeFor[sessionRow]())

func (s session) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(sessionRow(s))
	if err != nil {
		return nil, err
	}
	return spliceFields(b, s.Extra), nil
}

func (s *session) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*sessionRow)(s)); err != nil {
		return err
	}
	extra, err := splitFields(b, sessionKeys)
	s.Extra = extra
	return err
}

// coreSessionColumns selects a session aliased s; s.sessionColumns adds the configured fields.
const coreSessionColumns = `s.id, s."expiresAt", s.token, s."createdAt", s."updatedAt", s."ipAddress", s."userAgent", s."userId", s."activeOrganizationId", s."activeTeamId", s."impersonatedBy"`

func (s *session) scanTargets() []any {
	return []any{&s.ID, &s.ExpiresAt, &s.Token, &s.CreatedAt, &s.UpdatedAt, &s.IPAddress, &s.UserAgent, &s.UserID, &s.ActiveOrganizationID, &s.ActiveTeamID, &s.ImpersonatedBy, (*[]byte)(&s.Extra)}
}

// authSession is a session with its user: the body of get-session.
type authSession struct {
	Session session `json:"session"`
	User    user    `json:"user"`
	// encoded is this value as get-session answers it, when it came from the cookie cache memo,
	// which encodes each cached session once rather than on every request.
	encoded []byte
}

// Session timing defaults (upstream session.expiresIn, updateAge, freshAge); SESSION_EXPIRES_IN,
// SESSION_UPDATE_AGE and SESSION_FRESH_AGE set them (coreconfig.go).
const (
	defaultSessionExpiresIn = 7 * 24 * time.Hour
	defaultSessionUpdateAge = 24 * time.Hour
	defaultSessionFreshAge  = 24 * time.Hour
	dontRememberExpires     = 24 * time.Hour
)

// createSession inserts a session for userID. dontRemember makes it a one-day session (upstream
// dontRememberMe). Every session starts here or in rotateSession, both behind admitUser, so a
// ban holds on every way in.
func (s *server) createSession(ctx context.Context, q querier, r *http.Request, userID string, dontRemember bool) (session, error) {
	if err := s.admitUser(ctx, q, userID); err != nil {
		return session{}, err
	}
	now := s.now()
	expires := now.Add(s.cfg.SessionExpiresIn)
	if dontRemember {
		expires = now.Add(dontRememberExpires)
	}
	var sess session
	// The session's additional fields start at their defaults (upstream getSessionDefaultFields).
	extra := s.cfg.Fields.Session.defaults()
	cols, params := extra.insertSQL(8)
	err := q.QueryRow(ctx, `
		INSERT INTO session AS s (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId"`+cols+`)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7`+params+`)
		RETURNING `+s.sessionColumns,
		append([]any{generateID(32), expires, generateID(32), now, s.clientIP(r), truncateText(storableText(r.UserAgent()), maxUserAgent), userID}, extra.vals...)...,
	).Scan(sess.scanTargets()...)
	if err != nil {
		return session{}, fmt.Errorf("create session: %w", err)
	}
	return sess, nil
}

// findSession loads a session and its user by token, expired or not.
func (s *server) findSession(ctx context.Context, token string) (*authSession, error) {
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

// sessionOpts selects how a request's session is read.
type sessionOpts struct {
	disableCookieCache bool // read Postgres even when a valid cookie cache is present
	disableRefresh     bool // never extend the expiry
}

// loadSession is upstream's get-session: it reads the session named by the signed cookie, expires
// the cookies of a missing or expired session, slides the expiry once per updateAge, and keeps the
// cookie cache in step. It returns nil when the request has no valid session.
func (s *server) loadSession(w http.ResponseWriter, r *http.Request, o sessionOpts) (*authSession, error) {
	cacheOn := s.cfg.CookieCacheMaxAge > 0
	token, ok := s.sessionToken(r)
	if !ok && cacheOn {
		return nil, nil
	}
	if !cacheOn {
		s.expireChunks(w, r, cookieSessionData)
	}
	if !ok {
		return nil, nil
	}
	if cacheOn && !o.disableCookieCache && cacheMayAnswer(r) {
		cached, present := s.readCookieCache(r, token)
		s.metrics.cookieCacheLookup(cached != nil)
		if cached != nil {
			return cached, nil
		}
		if present {
			s.expireChunks(w, r, cookieSessionData)
		}
	}
	as, err := s.findSession(r.Context(), token)
	if err != nil {
		return nil, err
	}
	now := s.now()
	// A banned user's session is gone as if revoked: a ban set straight in the database, or by a
	// server that did not delete the sessions, holds at the next request (ban.go).
	if as == nil || as.Session.ExpiresAt.Time().Before(now) || s.activeBan(&as.User) {
		s.clearSessionCookies(w, r)
		if as != nil {
			if err := deleteSessionByToken(r.Context(), s.db, token); err != nil {
				return nil, fmt.Errorf("expired: %w", err)
			}
		}
		return nil, nil
	}
	dontRemember := s.dontRemember(r)
	if dontRemember || o.disableRefresh {
		return as, nil
	}
	if !as.Session.ExpiresAt.Time().Add(-s.cfg.SessionExpiresIn).Add(s.cfg.SessionUpdateAge).After(now) {
		err := s.db.QueryRow(r.Context(), `UPDATE session SET "expiresAt" = $2, "updatedAt" = $3 WHERE token = $1 RETURNING "expiresAt", "updatedAt"`,
			token, now.Add(s.cfg.SessionExpiresIn), now).Scan(&as.Session.ExpiresAt, &as.Session.UpdatedAt)
		if isNoRows(err) {
			s.clearSessionCookies(w, r)
			return nil, errFailedToGetSession
		}
		if err != nil {
			return nil, fmt.Errorf("refresh session: %w", err)
		}
		s.setSessionCookie(w, r, as, false)
		return as, nil
	}
	s.writeCookieCache(w, r, as, dontRemember)
	return as, nil
}

// sessionKind is what an endpoint demands of the caller's session (upstream sessionMiddleware and
// friends).
type sessionKind int

const (
	anySession       sessionKind = iota // S: a valid session (only get-session reads the cookie cache)
	sensitiveSession                    // S*: read from Postgres, never the cookie cache
	freshSession                        // F: S, created within freshAge
)

// sessionRequest decodes a JSON body and then requires a session of kind: the start of most
// signed-in endpoints, in upstream's order (a bad body is answered before a missing session).
func (s *server) sessionRequest(w http.ResponseWriter, r *http.Request, body any, kind sessionKind) (*authSession, error) {
	if err := s.decode(r, body, jsonOnly); err != nil {
		return nil, err
	}
	return s.requireSession(w, r, kind)
}

// requireSession returns the caller's session or 401 UNAUTHORIZED.
func (s *server) requireSession(w http.ResponseWriter, r *http.Request, kind sessionKind) (*authSession, error) {
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: kind == sensitiveSession})
	if errors.Is(err, errFailedToGetSession) {
		err = errUnauthorized // upstream's session middleware turns every get-session failure into 401
	}
	if err != nil {
		return nil, err
	}
	if as == nil {
		return nil, errUnauthorized
	}
	if kind == freshSession && !s.isFresh(as) {
		return nil, errSessionNotFresh
	}
	return as, nil
}

// isFresh: created (not refreshed) within freshAge, as upstream's freshSessionMiddleware checks.
func (s *server) isFresh(as *authSession) bool {
	return s.cfg.SessionFreshAge == 0 || s.now().Sub(as.Session.CreatedAt.Time()) < s.cfg.SessionFreshAge
}

// dontRemember reports a valid dont_remember cookie on the request.
func (s *server) dontRemember(r *http.Request) bool {
	v, ok := s.signedCookie(r, cookieDontRemember)
	return ok && v == "true"
}

// setSessionCookie writes session_token (and dont_remember, and the cookie cache) for as (upstream
// packages/better-auth/src/cookies/index.ts, setSessionCookie). dontRemember makes both
// browser-session cookies; otherwise a dont_remember cookie the request carried is expired.
func (s *server) setSessionCookie(w http.ResponseWriter, r *http.Request, as *authSession, dontRemember bool) {
	s.setSignedCookie(w, cookieSessionToken, as.Session.Token, cookieOpts{maxAge: int(s.cfg.SessionExpiresIn.Seconds()), session: dontRemember})
	if dontRemember {
		s.setSignedCookie(w, cookieDontRemember, "true", cookieOpts{session: true})
	} else if s.dontRemember(r) {
		s.expireCookie(w, cookieDontRemember)
	}
	s.writeCookieCache(w, r, as, dontRemember)
}

// resetSessionCookie writes the cookies again after the session or its user changed, keeping the
// request's remember-me choice, as upstream does when no explicit choice is given.
func (s *server) resetSessionCookie(w http.ResponseWriter, r *http.Request, as *authSession) {
	s.setSessionCookie(w, r, as, s.dontRemember(r))
}

// clearSessionCookies expires session_token, the cookie cache (and its chunks) and dont_remember.
func (s *server) clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	s.expireCookie(w, cookieSessionToken)
	s.expireCookie(w, cookieSessionData)
	s.expireChunks(w, r, cookieSessionData)
	s.expireCookie(w, cookieDontRemember)
}

// storableText makes header text fit a Postgres text column: a header may carry bytes that are
// not UTF-8 (obs-text) and NUL, which Postgres refuses, and a refused INSERT would be a 500.
func storableText(v string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "")
}

func noStore(w http.ResponseWriter) {
	setHeaderValue(w.Header(), "Cache-Control", noStoreValue)
	setHeaderValue(w.Header(), "Pragma", noCacheValue)
}

func (s *server) handleGetSession(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	if r.Method == http.MethodPost {
		return errMethodNeedsDefer
	}
	as, err := s.loadSession(w, r, sessionOpts{
		disableCookieCache: queryBool(r, "disableCookieCache"),
		disableRefresh:     queryBool(r, "disableRefresh"),
	})
	if err != nil {
		return err
	}
	if err := s.setSessionJWT(w, r, as); err != nil {
		return err
	}
	switch {
	case as == nil:
		writeJSON(w, http.StatusOK, nil)
	case as.encoded != nil:
		writeJSONBytes(w, http.StatusOK, as.encoded)
	default:
		writeJSON(w, http.StatusOK, as)
	}
	return nil
}

// deleteSessionByToken ends the session with this token, if there is one.
// revokeSessionByToken deletes the session of token and returns its id ("" when there was
// none), for the replica's revocation set.
func revokeSessionByToken(ctx context.Context, q querier, token string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `DELETE FROM session WHERE token = $1 RETURNING id`, token).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("delete session: %w", err)
	}
	return id, nil
}

func deleteSessionByToken(ctx context.Context, q querier, token string) error {
	if _, err := q.Exec(ctx, `DELETE FROM session WHERE token = $1`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		CallbackURL     string `json:"callbackURL"`
		DisableRedirect bool   `json:"disableRedirect"`
		State           string `json:"state"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	var userID string
	if token, ok := s.sessionToken(r); ok {
		err := s.db.QueryRow(r.Context(), `DELETE FROM session WHERE token = $1 RETURNING "userId"`, token).Scan(&userID)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	s.clearSessionCookies(w, r)
	if userID != "" {
		// RP-initiated logout at the user's identity provider, when it offers one (upstream signOut).
		if u := s.providerLogoutURL(r.Context(), r, userID, body.CallbackURL, body.State); u != "" {
			if !body.DisableRedirect {
				w.Header().Set("Location", u)
			}
			writeJSON(w, http.StatusOK, struct {
				Success  bool   `json:"success"`
				URL      string `json:"url"`
				Redirect bool   `json:"redirect"`
			}{true, u, !body.DisableRedirect})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

func (s *server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	as, err := s.requireSession(w, r, freshSession)
	if err != nil {
		return err
	}
	sessions, err := s.activeSessions(r.Context(), as.User.ID, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessions)
	return nil
}

// activeSessions lists userID's unexpired sessions. own leaves out the sessions admins opened
// as this user, as upstream's admin plugin hides them from the user's list-sessions.
func (s *server) activeSessions(ctx context.Context, userID string, own bool) ([]session, error) {
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

func (s *server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Token string `json:"token" required:"true"`
	}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(r.Context(), `DELETE FROM session WHERE token = $1 AND "userId" = $2`, body.Token, as.User.ID); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if hmac.Equal([]byte(body.Token), []byte(as.Session.Token)) {
		s.clearSessionCookies(w, r)
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleRevokeSessions(w http.ResponseWriter, r *http.Request) error {
	var body struct{}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if err := deleteUserSessions(r.Context(), s.db, as.User.ID); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	s.clearSessionCookies(w, r)
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleRevokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	var body struct{}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(r.Context(), `DELETE FROM session WHERE "userId" = $1 AND token <> $2 AND "expiresAt" > $3`,
		as.User.ID, as.Session.Token, s.now()); err != nil {
		return fmt.Errorf("revoke other sessions: %w", err)
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// handleUpdateSession sets the session's client-writable additional fields (upstream
// packages/better-auth/src/api/routes/update-session.ts); without any, there is never anything to
// update.
func (s *server) handleUpdateSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Rest map[string]json.RawMessage `json:"-" unknown:"keep"`
	}
	fields := s.cfg.Fields.Session
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	extra, err := fields.parseInput(body.Rest, false)
	if err != nil {
		return err
	}
	if err := s.leftoverKeys(r, body.Rest); err != nil {
		return err
	}
	if len(extra.cols) == 0 {
		return errNoFieldsToUpdate
	}
	set := `"updatedAt" = $2`
	for i, c := range extra.cols {
		set += fmt.Sprintf(", %s = $%d", c, i+3)
	}
	err = s.db.QueryRow(r.Context(), `UPDATE session s SET `+set+` WHERE s.token = $1 RETURNING `+s.sessionColumns,
		append([]any{as.Session.Token, s.now()}, extra.vals...)...).Scan(as.Session.scanTargets()...)
	if isNoRows(err) {
		s.clearSessionCookies(w, r)
		return errFailedToGetSession
	}
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, map[string]any{"session": as.Session})
	return nil
}

// deleteUserSessions signs the user out everywhere: a password changed or reset, a magic link
// that proves a new owner, an account deleted.
func deleteUserSessions(ctx context.Context, q querier, userID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM session WHERE "userId" = $1`, userID); err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	return nil
}

// deleteUserSessionIDs signs the user out everywhere and returns the ids of the sessions it
// ended, for the replica's revocation set (ban.go, revokeUserSessions).
func deleteUserSessionIDs(ctx context.Context, q querier, userID string) ([]string, error) {
	rows, err := q.Query(ctx, `DELETE FROM session WHERE "userId" = $1 RETURNING id`, userID)
	if err != nil {
		return nil, fmt.Errorf("delete user sessions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("delete user sessions: %w", err)
	}
	return ids, nil
}

// markImpersonation makes a new session an impersonation by adminID that ends at expires.
func (s *server) markImpersonation(ctx context.Context, q querier, id, adminID string, expires time.Time) (session, error) {
	var sess session
	err := q.QueryRow(ctx, `UPDATE session s SET "impersonatedBy" = $2, "expiresAt" = $3 WHERE s.id = $1 RETURNING `+s.sessionColumns,
		id, adminID, expires).Scan(sess.scanTargets()...)
	if err != nil {
		return session{}, fmt.Errorf("mark impersonation session: %w", err)
	}
	return sess, nil
}
