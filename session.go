package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
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
	// Hidden holds, for a session kept only in Redis, the additional fields declared
	// returned: false: stored with the session, never answered. A session a write changes is
	// always read from the store (only get-session answers from the cookie cache), so it has them.
	Hidden fieldValues `json:"-"`
	// unset marks the plugin keys above that the stored value does not hold at all: upstream
	// keeps a session only in secondary storage as the object it created, without the keys no
	// one has set, and answers it so (a row of the database holds them as null).
	unset pluginKeys
}

// pluginKeys is a set of session keys the plugins add: activeOrganizationId, activeTeamId,
// impersonatedBy.
type pluginKeys uint8

const (
	unsetActiveOrganization pluginKeys = 1 << iota
	unsetActiveTeam
	unsetImpersonatedBy
	allPluginKeys = unsetActiveOrganization | unsetActiveTeam | unsetImpersonatedBy
)

// sessionRow is session without its JSON methods.
type sessionRow session

var sessionKeys = jsonFieldNames(reflect.TypeFor[sessionRow]())

func (s session) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(sessionRow(s))
	if err != nil {
		return nil, err
	}
	if s.unset != 0 && s.nilPluginKeys()&^s.unset == 0 {
		// Every nil plugin key is one the stored value never held: leave them out, as upstream.
		// They follow "userId" in the struct's order, so each stands as `,"key":null`.
		for _, k := range []string{`,"activeOrganizationId":null`, `,"activeTeamId":null`, `,"impersonatedBy":null`} {
			b = bytes.Replace(b, []byte(k), nil, 1)
		}
	}
	return spliceFields(b, s.Extra), nil
}

// storedJSON is the session as its Redis value holds it: as answered, and the fields never
// answered.
func (s session) storedJSON() ([]byte, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return spliceFields(b, s.Hidden), nil
}

// nilPluginKeys are the plugin keys whose value is nil.
func (s *session) nilPluginKeys() pluginKeys {
	var k pluginKeys
	if s.ActiveOrganizationID == nil {
		k |= unsetActiveOrganization
	}
	if s.ActiveTeamID == nil {
		k |= unsetActiveTeam
	}
	if s.ImpersonatedBy == nil {
		k |= unsetImpersonatedBy
	}
	return k
}

func (s *session) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*sessionRow)(s)); err != nil {
		return err
	}
	// A quoted key name cannot stand inside a JSON string (its quotes would be escaped), so its
	// absence from the text is its absence from the object.
	s.unset = 0
	for _, k := range []struct {
		bit  pluginKeys
		name string
	}{{unsetActiveOrganization, `"activeOrganizationId"`}, {unsetActiveTeam, `"activeTeamId"`}, {unsetImpersonatedBy, `"impersonatedBy"`}} {
		if !bytes.Contains(b, []byte(k.name)) {
			s.unset |= k.bit
		}
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
func (s *server) createSession(ctx context.Context, q querier, r *http.Request, userID string, dontRemember bool, overrides ...func(*session)) (session, error) {
	if err := s.admitUser(ctx, q, userID); err != nil {
		return session{}, err
	}
	now := s.now()
	expires := now.Add(s.cfg.SessionExpiresIn)
	if dontRemember {
		expires = now.Add(dontRememberExpires)
	}
	ip, ua := s.clientIP(r), truncateText(storableText(r.UserAgent()), maxUserAgent)
	sess := session{
		ID: generateID(32), ExpiresAt: jsTime(expires), Token: generateID(32), CreatedAt: jsTime(now), UpdatedAt: jsTime(now),
		IPAddress: &ip, UserAgent: &ua, UserID: userID,
	}
	if !s.sessionsInDB() {
		sess.unset = allPluginKeys // as upstream's object in secondary storage alone
	}
	for _, o := range overrides {
		o(&sess)
	}
	// The session's additional fields start at their defaults (upstream getSessionDefaultFields).
	if err := s.saveSession(ctx, q, &sess, s.cfg.Fields.Session.defaults()); err != nil {
		return session{}, err
	}
	return sess, nil
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
			if _, err := s.endSession(r.Context(), s.db, token); err != nil {
				return nil, fmt.Errorf("expired: %w", err)
			}
		}
		return nil, nil
	}
	dontRemember := s.dontRemember(r)
	// An impersonation keeps the admin's duration (impersonate.go): only its dont_remember cookie
	// keeps upstream from sliding it to a full session, and a bearer client or one that drops
	// that cookie would turn an hour into a week (COMPATIBILITY.md, impersonation-not-extended).
	if dontRemember || o.disableRefresh || as.Session.ImpersonatedBy != nil {
		return as, nil
	}
	if !as.Session.ExpiresAt.Time().Add(-s.cfg.SessionExpiresIn).Add(s.cfg.SessionUpdateAge).After(now) {
		found, err := s.refreshSession(r.Context(), as)
		if err != nil {
			return nil, err
		}
		if !found {
			s.clearSessionCookies(w, r)
			return nil, errFailedToGetSession
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
		var err error
		if userID, err = s.endSession(r.Context(), s.db, token); err != nil {
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

func (s *server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Token string `json:"token" required:"true"`
	}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if _, _, err := s.endOwnedSession(r.Context(), s.db, body.Token, as.User.ID); err != nil {
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
	if _, err := s.endUserSessions(r.Context(), s.db, as.User.ID, ""); err != nil {
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
	if _, err := s.endUserSessions(r.Context(), s.db, as.User.ID, as.Session.Token); err != nil {
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
	if err := s.leftoverKeys(r, body.Rest, "body"); err != nil {
		return err
	}
	if len(extra.cols) == 0 {
		return errNoFieldsToUpdate
	}
	stored, err := s.updateSessionFields(r.Context(), &as.Session, extra)
	if err != nil {
		return err
	}
	if !stored {
		s.clearSessionCookies(w, r)
		return errFailedToGetSession
	}
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, map[string]any{"session": as.Session})
	return nil
}
