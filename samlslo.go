package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"
)

// SAML single logout (upstream: packages/sso/src/routes/sso.ts, sloEndpoint and initiateSLO), on
// with SSO_SAML_SINGLE_LOGOUT. The ACS remembers which session a NameID got; the IdP's
// LogoutRequest ends it, and logout starts a logout at the IdP. Stricter than upstream: a
// LogoutRequest or LogoutResponse must carry a valid IdP signature (upstream, without
// wantLogoutRequestSigned, ends a session on an unsigned one, so anyone who knows a user's email
// could sign them out), a LogoutRequest is accepted once, and a LogoutResponse must answer a
// logout we started.

const (
	samlSessionPrefix       = "saml-session:"        // upstream's SAML_SESSION_KEY_PREFIX
	samlSessionByIDPrefix   = "saml-session-by-id:"  // upstream's SAML_SESSION_BY_ID_PREFIX
	samlLogoutRequestPrefix = "saml-logout-request:" // upstream's LOGOUT_REQUEST_KEY_PREFIX
	samlLogoutRequestTTL    = 5 * time.Minute        // upstream's saml.logoutRequestTTL default
)

// Upstream's SAML_ERROR_CODES.
var (
	errSAMLSLODisabled           = apiErr(400, "SINGLE_LOGOUT_NOT_ENABLED", "Single Logout is not enabled")
	errSAMLInvalidLogoutResponse = apiErr(400, "INVALID_LOGOUT_RESPONSE", "Invalid LogoutResponse")
	errSAMLInvalidLogoutRequest  = apiErr(400, "INVALID_LOGOUT_REQUEST", "Invalid LogoutRequest")
	errSAMLLogoutFailedAtIdP     = apiErr(400, "LOGOUT_FAILED_AT_IDP", "Logout failed at IdP")
	errSAMLIdPNoSLO              = apiErr(400, "IDP_SLO_NOT_SUPPORTED", "IdP does not support Single Logout Service")
	errSAMLProviderNotFound      = apiErr(404, "SAML_PROVIDER_NOT_FOUND", "SAML provider not found")
)

// samlSessionRecord is upstream's SAML session record: which session a NameID's sign-in made.
type samlSessionRecord struct {
	SessionID    string `json:"sessionId"`
	SessionToken string `json:"sessionToken"`
	ProviderID   string `json:"providerId"`
	NameID       string `json:"nameID"`
	SessionIndex string `json:"sessionIndex,omitempty"`
}

func samlSessionKey(providerID, nameID string) string {
	return samlSessionPrefix + providerID + ":" + nameID
}

// recordSAMLSession remembers the session an assertion made, for the IdP's LogoutRequest, as
// upstream's processSAMLResponse does with single logout on.
func (s *server) recordSAMLSession(ctx context.Context, providerID string, a *saml.Assertion, as *authSession) error {
	if !s.cfg.SSO.SAMLSingleLogout || a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return nil
	}
	rec := samlSessionRecord{SessionID: as.Session.ID, SessionToken: as.Session.Token, ProviderID: providerID, NameID: a.Subject.NameID.Value}
	if len(a.AuthnStatements) > 0 {
		rec.SessionIndex = a.AuthnStatements[0].SessionIndex
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode saml session: %w", err)
	}
	key := samlSessionKey(providerID, rec.NameID)
	expires := time.Time(as.Session.ExpiresAt)
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.storeSAMLRecord(ctx, tx, key, string(value), expires); err != nil {
			return err
		}
		return s.storeSAMLRecord(ctx, tx, samlSessionByIDPrefix+as.Session.ID, key, expires)
	})
}

// Single logout's records (each SAML sign-in's session, by NameID and by session id, and the
// logout requests we sent) stay in Postgres whatever VERIFICATION_STORE_IN_DATABASE says: a NameID
// may have several sessions, and an IdP's answer is matched against all of a provider's pending
// requests, which Redis's one value per key and lack of a prefix search cannot serve
// (COMPATIBILITY.md, redis-verification-our-records).
func (s *server) storeSAMLRecord(ctx context.Context, q querier, identifier, value string, expiresAt time.Time) error {
	return insertVerificationRow(ctx, q, generateID(32), identifier, value, expiresAt, s.now())
}

// storedSAMLSession is a session record with the id of its row.
type storedSAMLSession struct {
	rowID string
	samlSessionRecord
}

// samlSessions are the readable, unexpired session records under key (one NameID's sign-ins at
// one provider), oldest first.
func (s *server) samlSessions(ctx context.Context, q querier, key string) ([]storedSAMLSession, error) {
	rows, err := q.Query(ctx, `SELECT id, value FROM verification WHERE identifier = $1 AND "expiresAt" > $2 ORDER BY "createdAt"`, key, s.now())
	if err != nil {
		return nil, fmt.Errorf("find saml sessions: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storedSAMLSession, error) {
		var rec storedSAMLSession
		var value string
		err := row.Scan(&rec.rowID, &value)
		if err == nil && json.Unmarshal([]byte(value), &rec.samlSessionRecord) != nil {
			rec.SessionToken = "" // unreadable: dropped below
		}
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("find saml sessions: %w", err)
	}
	return slices.DeleteFunc(recs, func(rec storedSAMLSession) bool { return rec.SessionToken == "" }), nil
}

// samlSessionOf is the record of the SAML sign-in that made the session, or nil.
func (s *server) samlSessionOf(ctx context.Context, sessionID string) (*storedSAMLSession, error) {
	var key string
	err := s.db.QueryRow(ctx, `SELECT value FROM verification WHERE identifier = $1 AND "expiresAt" > $2 ORDER BY "createdAt" DESC LIMIT 1`,
		samlSessionByIDPrefix+sessionID, s.now()).Scan(&key)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find saml session: %w", err)
	}
	recs, err := s.samlSessions(ctx, s.db, key)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if rec.SessionID == sessionID {
			return &rec, nil
		}
	}
	return nil, nil
}

// forgetSAMLSession deletes a session's records.
func forgetSAMLSession(ctx context.Context, q querier, rec *storedSAMLSession) error {
	if _, err := q.Exec(ctx, `DELETE FROM verification WHERE id = $1 OR identifier = $2`, rec.rowID, samlSessionByIDPrefix+rec.SessionID); err != nil {
		return fmt.Errorf("forget saml session: %w", err)
	}
	return nil
}

// samlSLOProvider is the provider of a logout route and its service provider.
func (s *server) samlSLOProvider(r *http.Request, providerID string) (*ssoProvider, *samlConfig, *saml.ServiceProvider, error) {
	p, err := ssoProviderByID(r.Context(), s.db, providerID, "")
	if err != nil {
		return nil, nil, nil, err
	}
	if p == nil || p.samlConfig() == nil {
		return nil, nil, nil, errSAMLProviderNotFound
	}
	c := p.samlConfig()
	sp, err := s.samlSP(r, p, c)
	if err != nil {
		return nil, nil, nil, err
	}
	sp.ReplayCache = &samlReplayCache{ctx: r.Context(), s: s, providerID: p.ProviderID, issuer: sp.IDPMetadata.EntityID}
	return p, c, sp, nil
}

// samlSLOBody is upstream's sloSchema, for a POSTed message; the redirect binding's come in the
// query.
type samlSLOBody struct {
	SAMLRequest  string                     `json:"SAMLRequest"`
	SAMLResponse string                     `json:"SAMLResponse"`
	RelayState   string                     `json:"RelayState"`
	SigAlg       string                     `json:"SigAlg"`
	Signature    string                     `json:"Signature"`
	Others       map[string]json.RawMessage `unknown:"keep"`
}

// handleSAMLSLO is upstream's sloEndpoint: the IdP's LogoutRequest or its LogoutResponse to ours,
// by the redirect (GET) or POST binding.
func (s *server) handleSAMLSLO(w http.ResponseWriter, r *http.Request) error {
	var body samlSLOBody
	if err := s.decode(r, &body, formAllowed); err != nil {
		return err
	}
	if !s.cfg.SSO.SAMLSingleLogout {
		return errSAMLSLODisabled
	}
	providerID := r.PathValue("providerId")
	// decode leaves the body readable again, for crewjam/saml's form parsing below.
	if err := r.ParseForm(); err != nil {
		return errSAMLInvalidLogoutRequest
	}
	relayState := cmp.Or(body.RelayState, r.Form.Get("RelayState"))
	target := s.safeSAMLRedirect(r, pathOf(s.samlSLOURL(r, providerID)), relayState)
	request, response := cmp.Or(body.SAMLRequest, r.Form.Get("SAMLRequest")), cmp.Or(body.SAMLResponse, r.Form.Get("SAMLResponse"))
	if request == "" && response == "" {
		redirect(w, appendQuery(target, url.Values{"error": {"invalid_request"}, "error_description": {"missing_logout_data"}}))
		return nil
	}
	p, _, sp, err := s.samlSLOProvider(r, providerID)
	if err != nil {
		return err
	}
	if response != "" {
		return s.samlLogoutResponse(w, r, p, sp, target)
	}
	return s.samlLogoutRequest(w, r, p, sp, relayState)
}

// samlLogoutResponse completes a logout we started: the IdP's signed answer to a request we
// stored, whose status must be success.
func (s *server) samlLogoutResponse(w http.ResponseWriter, r *http.Request, p *ssoProvider, sp *saml.ServiceProvider, target string) error {
	pending, err := s.pendingLogoutRequests(r.Context(), p.ProviderID)
	if err != nil {
		return err
	}
	resp, err := sp.ParseLogoutResponse(r, pending)
	var bad saml.ErrBadStatus
	switch {
	case errors.As(err, &bad):
		return errSAMLLogoutFailedAtIdP
	case err != nil:
		slog.WarnContext(r.Context(), "saml logout response refused", "provider", p.ProviderID, "err", privateSAMLError(err))
		return errSAMLInvalidLogoutResponse
	}
	// Used up here, so of two deliveries of one answer only the first lands.
	used, err := s.consumeLogoutRequest(r.Context(), resp.InResponseTo)
	if err != nil {
		return err
	}
	if !used {
		return errSAMLInvalidLogoutResponse
	}
	s.clearSessionCookies(w, r)
	redirect(w, target)
	return nil
}

// consumeLogoutRequest uses up a logout request we sent (storeSAMLRecord; and any Redis copy
// another server wrote); false when it was not pending.
func (s *server) consumeLogoutRequest(ctx context.Context, id string) (bool, error) {
	v, err := consumeVerificationRows(ctx, s.db, samlLogoutRequestPrefix+id)
	if err != nil {
		return false, err
	}
	if err := s.forgetVerification(ctx, samlLogoutRequestPrefix+id); err != nil {
		return false, err
	}
	return v != nil && v.ExpiresAt.After(s.now()), nil
}

// pendingLogoutRequests are the ids of the logout requests we sent to the provider's IdP and
// still expect an answer to.
func (s *server) pendingLogoutRequests(ctx context.Context, providerID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT identifier FROM verification WHERE identifier LIKE $1 AND value = $2 AND "expiresAt" > $3 LIMIT 100`,
		samlLogoutRequestPrefix+"%", providerID, s.now())
	if err != nil {
		return nil, fmt.Errorf("find logout requests: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find logout requests: %w", err)
		}
		ids = append(ids, strings.TrimPrefix(id, samlLogoutRequestPrefix))
	}
	return ids, rows.Err()
}

// samlLogoutRequest ends the session the IdP names, once its signature is verified, and answers
// the IdP with a LogoutResponse in the binding the request came by.
func (s *server) samlLogoutRequest(w http.ResponseWriter, r *http.Request, p *ssoProvider, sp *saml.ServiceProvider, relayState string) error {
	req, err := sp.ValidateLogoutRequest(r)
	if err != nil || req.NameID == nil {
		slog.WarnContext(r.Context(), "saml logout request refused", "provider", p.ProviderID, "err", privateSAMLError(err))
		return errSAMLInvalidLogoutRequest
	}
	ctx := r.Context()
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		return s.endSAMLSessions(ctx, tx, samlSessionKey(p.ProviderID, req.NameID.Value), req.AllSessionIndexes())
	})
	if err != nil {
		return err
	}
	if err := s.endBrowserSession(w, r, p.ProviderID, req.NameID.Value); err != nil {
		return err
	}
	return s.answerLogoutRequest(w, r, sp, req.ID, relayState)
}

// endBrowserSession ends the session of the browser that brought the LogoutRequest, as upstream's
// sloEndpoint does, but only when it is the named user's: a session whose user has no account of
// this NameID at this provider stays, cookies and all. Otherwise the signed request of any
// provider's IdP (a provider anyone signed in may register), sent as a link, would sign out
// whoever follows it.
func (s *server) endBrowserSession(w http.ResponseWriter, r *http.Request, providerID, nameID string) error {
	token, ok := s.signedCookie(r, cookieSessionToken)
	if !ok {
		s.clearSessionCookies(w, r)
		return nil
	}
	ctx := r.Context()
	as, err := s.findSession(ctx, token)
	if err != nil {
		return err
	}
	if as != nil {
		var named bool
		err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM account WHERE "userId" = $1 AND "providerId" = $2 AND "accountId" = $3)`,
			as.User.ID, providerID, nameID).Scan(&named)
		if err != nil {
			return fmt.Errorf("find saml account: %w", err)
		}
		if !named {
			return nil
		}
		if _, err := s.endSession(ctx, s.db, token); err != nil {
			return err
		}
	}
	s.clearSessionCookies(w, r)
	return nil
}

// endSAMLSessions ends the sessions the sign-ins of one NameID at one provider made (key): those
// of the SessionIndexes the IdP names or, when it names none, all of them (SAML core 3.7.3.2),
// forgetting their records. A record without a SessionIndex matches any, as upstream's.
func (s *server) endSAMLSessions(ctx context.Context, tx pgx.Tx, key string, indexes []saml.SessionIndex) error {
	recs, err := s.samlSessions(ctx, tx, key)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		named := len(indexes) == 0 || rec.SessionIndex == "" ||
			slices.ContainsFunc(indexes, func(i saml.SessionIndex) bool { return i.Value == rec.SessionIndex })
		if !named {
			continue
		}
		if _, err := s.endSession(ctx, tx, rec.SessionToken); err != nil {
			return err
		}
		if err := forgetSAMLSession(ctx, tx, &rec); err != nil {
			return err
		}
	}
	return nil
}

// answerLogoutRequest sends the LogoutResponse: an auto-posting form for a POSTed request, else a
// redirect.
func (s *server) answerLogoutRequest(w http.ResponseWriter, r *http.Request, sp *saml.ServiceProvider, requestID, relayState string) error {
	if r.Method == http.MethodPost && sp.GetSLOBindingLocation(saml.HTTPPostBinding) != "" {
		page, err := sp.MakePostLogoutResponse(requestID, relayState)
		if err != nil {
			return fmt.Errorf("saml logout response: %w", err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(page)
		return nil
	}
	if sp.GetSLOBindingLocation(saml.HTTPRedirectBinding) == "" {
		redirect(w, s.origin(r))
		return nil
	}
	u, err := sp.MakeRedirectLogoutResponse(requestID, relayState)
	if err != nil {
		return fmt.Errorf("saml logout response: %w", err)
	}
	redirect(w, u.String())
	return nil
}

// handleSAMLLogout is upstream's initiateSLO: the caller's session ends here and the browser goes
// to the IdP with a LogoutRequest for the NameID the session signed in with.
func (s *server) handleSAMLLogout(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		CallbackURL string `json:"callbackURL"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	if !s.cfg.SSO.SAMLSingleLogout {
		return errSAMLSLODisabled
	}
	p, c, sp, err := s.samlSLOProvider(r, r.PathValue("providerId"))
	if err != nil {
		return err
	}
	if c.IDPMetadata == nil || len(c.IDPMetadata.SingleLogoutService) == 0 && !strings.Contains(deref(c.IDPMetadata.Metadata), "SingleLogoutService") {
		return errSAMLIdPNoSLO
	}
	ctx := r.Context()
	rec, err := s.samlSessionOf(ctx, as.Session.ID)
	if err != nil {
		return err
	}
	req, err := makeSAMLLogoutRequest(sp, as, rec)
	if err != nil {
		return err
	}
	u, err := sp.RedirectLogoutRequestURL(req, cmp.Or(body.CallbackURL, s.baseURL(r)))
	if err != nil {
		return fmt.Errorf("saml logout request: %w", err)
	}
	// All or nothing: a logout that fails keeps the session and the record the IdP's own
	// LogoutRequest would end it by.
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.storeSAMLRecord(ctx, tx, samlLogoutRequestPrefix+req.ID, p.ProviderID, s.now().Add(samlLogoutRequestTTL)); err != nil {
			return err
		}
		if rec != nil {
			if err := forgetSAMLSession(ctx, tx, rec); err != nil {
				return err
			}
		}
		_, err := s.endSession(ctx, tx, as.Session.Token)
		return err
	})
	if err != nil {
		return err
	}
	s.clearSessionCookies(w, r)
	redirect(w, u.String())
	return nil
}

// makeSAMLLogoutRequest is the LogoutRequest for the session's SAML sign-in (rec), or without one
// for the user's email, as upstream's initiateSLO.
func makeSAMLLogoutRequest(sp *saml.ServiceProvider, as *authSession, rec *storedSAMLSession) (*saml.LogoutRequest, error) {
	nameID, index := as.User.Email, ""
	if rec != nil {
		nameID, index = cmp.Or(rec.NameID, nameID), rec.SessionIndex
	}
	location := sp.GetSLOBindingLocation(saml.HTTPRedirectBinding)
	if location == "" {
		return nil, errSAMLIdPNoSLO
	}
	var opts []saml.LogoutRequestOption
	if index != "" {
		opts = append(opts, saml.WithSessionIndex(index))
	}
	req, err := sp.MakeLogoutRequest(location, nameID, opts...)
	if err != nil {
		return nil, fmt.Errorf("saml logout request: %w", err)
	}
	return req, nil
}
