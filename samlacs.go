package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"
)

// SAML sign-in (upstream: packages/sso/src/routes/sso.ts, signInSSO's SAML branch and acsEndpoint;
// routes/saml-pipeline.ts, processSAMLResponse): the browser goes to the IdP with an AuthnRequest
// whose id is stored, and comes back with the IdP's signed Response posted cross-site to the ACS,
// which therefore trusts no cookie and relies on the stored request id, the relay state row and
// the signatures alone.

const (
	samlAuthnRequestPrefix = "saml-authn-request:"  // upstream's AUTHN_REQUEST_KEY_PREFIX
	samlUsedAssertionKey   = "saml-used-assertion:" // upstream's replay reservation identifier
	samlRequestTTL         = 5 * time.Minute        // upstream's saml.requestTTL default
	// samlMaxResponseBytes is upstream's saml.maxResponseSize default, on the base64 text.
	samlMaxResponseBytes = 256 * 1024
	cookieRelayState     = "relay_state"
)

var (
	errSAMLAdditionalParams = apiErr(400, "", "additionalParams is not supported for SAML providers; the SAML AuthnRequest is signed and cannot carry caller-supplied query parameters.")
	errSAMLNoSigningKey     = apiErr(400, "", "authnRequestsSigned is enabled but no privateKey provided in spMetadata or samlConfig")
	errSAMLInvalidRequest   = apiErr(400, "", "Invalid SAML request")
	errSAMLNoProvider       = apiErr(404, "", "No SAML provider found")
	errSAMLResponseRequired = apiErr(400, "", "SAMLResponse is required for POST requests")
	errSAMLResponseTooLarge = apiErr(400, "", fmt.Sprintf("SAML response exceeds maximum allowed size (%d bytes)", samlMaxResponseBytes))
)

// samlAuthnRequestRecord is the stored AuthnRequest (upstream's AuthnRequestRecord), readable by
// either server so a sign-in started on one completes on the other.
type samlAuthnRequestRecord struct {
	ID                string                `json:"id"`
	ProviderID        string                `json:"providerId"`
	ProviderReference *ssoProviderReference `json:"providerReference,omitempty"`
	CreatedAt         int64                 `json:"createdAt"`
	ExpiresAt         int64                 `json:"expiresAt"`
}

// startSAMLSignIn answers sign-in/sso for a SAML provider: the IdP's URL carrying a deflated
// AuthnRequest (signed when the provider asks) and the relay state, the request id stored for
// the ACS to match.
func (s *server) startSAMLSignIn(w http.ResponseWriter, r *http.Request, p *ssoProvider, body *ssoSignInBody) error {
	if body.AdditionalParams != nil {
		return errSAMLAdditionalParams
	}
	c := p.samlConfig()
	if c == nil {
		return errSAMLInvalidConfig
	}
	if c.AuthnRequestsSigned != nil && *c.AuthnRequestsSigned && c.spPrivateKey() == "" {
		return errSAMLNoSigningKey
	}
	ref, err := s.reference(p)
	if err != nil {
		return err
	}
	sp, err := s.samlSP(r, p, c)
	if err != nil {
		return err
	}
	location := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if location == "" {
		return errSAMLInvalidRequest
	}
	req, err := sp.MakeAuthenticationRequest(location, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		slog.WarnContext(r.Context(), "saml authn request failed", "provider", p.ProviderID, "err", err)
		return errSAMLInvalidRequest
	}
	relayState, err := s.createRelayState(w, r, body, ref)
	if err != nil {
		return err
	}
	now := s.now()
	record, err := json.Marshal(samlAuthnRequestRecord{ID: req.ID, ProviderID: p.ProviderID, ProviderReference: ref,
		CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(samlRequestTTL).UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode authn request: %w", err)
	}
	if err := s.createVerification(r.Context(), s.db, samlAuthnRequestPrefix+req.ID, string(record), now.Add(samlRequestTTL)); err != nil {
		return err
	}
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		slog.WarnContext(r.Context(), "saml authn request failed", "provider", p.ProviderID, "err", err)
		return errSAMLInvalidRequest
	}
	writeJSON(w, http.StatusOK, struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}{u.String(), true})
	return nil
}

// createRelayState is upstream's generateRelayState: the flow's state under auth-state:<state>,
// as an OAuth flow's, and in the signed relay_state cookie.
func (s *server) createRelayState(w http.ResponseWriter, r *http.Request, body *ssoSignInBody, ref *ssoProviderReference) (string, error) {
	state := randomString(32, defaultAlpha)
	st := oauthState{
		CallbackURL: body.CallbackURL, CodeVerifier: randomString(128, defaultAlpha), ErrorURL: body.ErrorCallbackURL,
		NewUserURL: deref(body.NewUserCallbackURL), ExpiresAt: s.now().Add(oauthStateTTL).UnixMilli(), RequestSignUp: body.RequestSignUp,
		ServerContext: &oauthServerContext{SSOProviderReference: ref}, OAuthState: state,
	}
	value, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode relay state: %w", err)
	}
	if err := s.createVerification(r.Context(), s.db, "auth-state:"+state, string(value), s.now().Add(oauthStateTTL)); err != nil {
		return "", err
	}
	s.setSignedCookie(w, cookieRelayState, state, cookieOpts{maxAge: oauthStateCookieAge})
	return state, nil
}

// consumeRelayState is upstream's parseRelayState: the state row, used up, without the cookie
// check (the IdP's cross-site POST carries no SameSite=Lax cookie). nil when it is unusable.
func (s *server) consumeRelayState(w http.ResponseWriter, r *http.Request, state string) (*oauthState, error) {
	v, err := s.consumeVerification(r.Context(), s.db, "auth-state:"+state)
	if err != nil || v == nil {
		return nil, err
	}
	var st oauthState
	if json.Unmarshal([]byte(v.Value), &st) != nil || st.CallbackURL == "" || st.OAuthState != "" && !hmac.Equal([]byte(st.OAuthState), []byte(state)) ||
		st.ExpiresAt < s.now().UnixMilli() {
		return nil, nil
	}
	s.expireCookie(w, cookieRelayState) // as upstream, though the IdP's POST did not carry it
	return &st, nil
}

type samlACSBody struct {
	SAMLResponse *string                    `json:"SAMLResponse"`
	RelayState   string                     `json:"RelayState"`
	Others       map[string]json.RawMessage `unknown:"keep"`
}

// handleSAMLACS is upstream's acsEndpoint. A GET without a response is where a signed-in user
// lands after the flow; anything else must carry the IdP's Response.
func (s *server) handleSAMLACS(w http.ResponseWriter, r *http.Request) error {
	var body samlACSBody
	if err := s.decode(r, &body, formAllowed); err != nil {
		return err
	}
	// Upstream's body is optional, but a body must hold a SAMLResponse.
	if r.ContentLength != 0 && body.SAMLResponse == nil {
		return validationError("[body.SAMLResponse] Invalid input: expected string, received undefined")
	}
	if r.Method == http.MethodGet && deref(body.SAMLResponse) == "" {
		return s.samlACSLanding(w, r)
	}
	if deref(body.SAMLResponse) == "" {
		return errSAMLResponseRequired
	}
	if len(*body.SAMLResponse) > samlMaxResponseBytes {
		return errSAMLResponseTooLarge
	}
	return s.consumeSAMLResponse(w, r, r.PathValue("providerId"), &body)
}

// samlACSLanding sends a signed-in user on to the RelayState when it is safe, and anyone else to
// the error page.
func (s *server) samlACSLanding(w http.ResponseWriter, r *http.Request) error {
	as, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	origin := s.origin(r)
	if as == nil {
		redirect(w, appendQuery(cmp.Or(s.cfg.ErrorURL, origin+"/error"), url.Values{"error": {"invalid_request"}}))
		return nil
	}
	redirect(w, s.safeSAMLRedirect(r, pathOf(s.samlACSURL(r, r.PathValue("providerId"))), r.URL.Query().Get("RelayState")))
	return nil
}

// safeSAMLRedirect is upstream's getSafeRedirectUrl: the first candidate on our origin or a
// trusted one that is not the route itself (routePath), else our origin.
func (s *server) safeSAMLRedirect(r *http.Request, routePath string, candidates ...string) string {
	origin := s.origin(r)
	for _, c := range candidates {
		if c == "" || hasUnsafeChars(c) {
			continue
		}
		if strings.HasPrefix(c, "/") {
			if !strings.HasPrefix(c, "//") && !strings.Contains(c, `\`) && pathOf(origin+c) != routePath {
				return c
			}
			continue
		}
		u, err := url.Parse(c)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		sameOrigin := originOf(c) == origin
		if !sameOrigin && !s.isTrustedURL(r, c, false) || sameOrigin && u.Path == routePath {
			continue
		}
		return c
	}
	return origin
}

// pathOf is the path of a URL, "" when it does not parse.
func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Path
}

// samlFlow is what the ACS knows of a response while it checks it: where the browser goes next.
type samlFlow struct {
	w          http.ResponseWriter
	state      *oauthState // the relay state, when the flow came with one
	successURL string
	errorURL   string
}

// fail ends the ACS at the flow's error URL with upstream's error and description.
func (f *samlFlow) fail(code, description string) error {
	params := url.Values{"error": {code}}
	if description != "" {
		params.Set("error_description", description)
	}
	redirect(f.w, samlRedirectURL(f.errorURL, params))
	return nil
}

// samlRedirectURL is upstream's buildSAMLRedirectUrl: the parameters set on the URL as the WHATWG
// URL parser writes it (an origin alone gains its "/").
func samlRedirectURL(base string, params url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return appendQuery(base, params)
	}
	if u.Scheme != "" && u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// consumeSAMLResponse is upstream's processSAMLResponse: the relay state, the provider, the
// Response checked by crewjam/saml (signature over what is used, issuer, destination, recipient,
// audience, validity window with SubjectConfirmationData, InResponseTo against the stored
// request, assertion replay in Postgres), then the user signed in and provisioned.
func (s *server) consumeSAMLResponse(w http.ResponseWriter, r *http.Request, providerID string, body *samlACSBody) error {
	ctx := r.Context()
	flow := &samlFlow{w: w}
	relayFailed := false
	if body.RelayState != "" {
		st, err := s.consumeRelayState(w, r, body.RelayState)
		if err != nil {
			return err
		}
		flow.state, relayFailed = st, st == nil
	}
	p, err := ssoProviderByID(ctx, s.db, providerID, "")
	if err != nil {
		return err
	}
	if p == nil || p.samlConfig() == nil {
		return errSAMLNoProvider
	}
	if s.cfg.SSO.DomainVerification && !s.domainVerified(p) {
		return errSSODomainUnverified
	}
	c := p.samlConfig()
	var stateCallback, stateError string
	if flow.state != nil {
		stateCallback, stateError = flow.state.CallbackURL, flow.state.ErrorURL
	}
	candidates := []string{stateCallback, deref(c.IDPInitiatedCallbackURL), deref(c.CallbackURL)}
	acs := pathOf(s.samlACSURL(r, providerID))
	flow.successURL = s.safeSAMLRedirect(r, acs, candidates...)
	flow.errorURL = s.safeSAMLRedirect(r, acs, stateError, flow.successURL)
	if cmp.Or(candidates...) == "" {
		flow.successURL = s.baseURL(r)
	}
	assertion, request, err := s.verifySAMLResponse(r, p, c, *body.SAMLResponse, flow)
	if assertion == nil || err != nil {
		return err
	}
	ref, done := s.samlFlowReference(p, flow, request, relayFailed)
	if done {
		return nil
	}
	return s.signInWithSAML(w, r, p, c, ref, assertion, flow)
}

// samlFlowReference checks the provider reference the flow started with (relay state, stored
// request) against each other and the provider now, as upstream does; done when it has answered.
func (s *server) samlFlowReference(p *ssoProvider, flow *samlFlow, request *samlAuthnRequestRecord, relayFailed bool) (*ssoProviderReference, bool) {
	var stateRef, requestRef *ssoProviderReference
	if flow.state != nil && flow.state.ServerContext != nil {
		stateRef = validReference(flow.state.ServerContext.SSOProviderReference)
	}
	if request != nil {
		requestRef = request.ProviderReference
	}
	switch {
	case relayFailed:
		return nil, flow.fail("invalid_state", "invalid_or_expired_relay_state") == nil
	case flow.state != nil && stateRef == nil:
		return nil, flow.fail("invalid_state", "sso_provider_reference_missing_or_invalid") == nil
	case stateRef != nil && requestRef != nil && !sameReference(stateRef, requestRef):
		return nil, flow.fail("invalid_state", "sso_provider_reference_mismatch") == nil
	}
	ref := cmp.Or(stateRef, requestRef)
	if ref == nil {
		var err error
		if ref, err = s.reference(p); err != nil {
			return nil, flow.fail("internal_server_error", "") == nil
		}
	}
	if !s.isCurrentReference(p, ref) {
		return nil, flow.fail("invalid_state", "sso_provider_changed_during_authentication") == nil
	}
	return ref, false
}

func validReference(ref *ssoProviderReference) *ssoProviderReference {
	if ref == nil || ref.ProviderID == "" || ref.Fingerprint == "" {
		return nil
	}
	return ref
}

func sameReference(a, b *ssoProviderReference) bool {
	return a.ProviderID == b.ProviderID && a.Fingerprint == b.Fingerprint && a.Source == b.Source
}

// verifySAMLResponse decodes and checks the IdP's Response. It returns the assertion and the
// stored request it answers (nil for an IdP-initiated one), or no assertion once it has sent the
// browser to the error URL.
func (s *server) verifySAMLResponse(r *http.Request, p *ssoProvider, c *samlConfig, encoded string, flow *samlFlow) (*saml.Assertion, *samlAuthnRequestRecord, error) {
	doc, inResponseTo, problem := decodeSAMLResponse(encoded)
	if problem != nil {
		return nil, nil, flow.fail(problem[0], problem[1])
	}
	var request *samlAuthnRequestRecord
	var possible []string
	var err error
	if inResponseTo != "" {
		request, err = s.pendingAuthnRequest(r.Context(), inResponseTo)
		if err != nil {
			return nil, nil, err
		}
		if request != nil && request.ProviderID != p.ProviderID {
			return nil, nil, flow.fail("invalid_saml_response", "Provider mismatch")
		}
		if request != nil {
			possible = []string{request.ID}
		}
	}
	sp, err := s.samlSP(r, p, c)
	if err != nil {
		return nil, nil, flow.fail("saml_error", "Invalid SAML configuration")
	}
	sp.ReplayCache = &samlReplayCache{ctx: r.Context(), s: s, providerID: p.ProviderID, issuer: sp.IDPMetadata.EntityID}
	acs, _ := url.Parse(s.samlACSURL(r, p.ProviderID))
	assertion, err := parseSAMLResponse(sp, doc, possible, *acs)
	if err != nil {
		code, description := samlFailure(err, inResponseTo)
		slog.WarnContext(r.Context(), "saml response refused", "provider", p.ProviderID, "err", privateSAMLError(err))
		return nil, nil, flow.fail(code, description)
	}
	if inResponseTo == "" && !s.cfg.SSO.SAMLAllowIDPInitiated {
		return nil, nil, flow.fail("unsolicited_response", "IdP-initiated SSO not allowed")
	}
	if c.WantAssertionsSigned != nil && *c.WantAssertionsSigned && assertion.Signature == nil {
		return nil, nil, flow.fail("invalid_saml_response", "SAML assertion is not signed")
	}
	if inResponseTo != "" {
		// Used up atomically: of two responses to one request, one gets past here.
		v, err := s.consumeVerification(r.Context(), s.db, samlAuthnRequestPrefix+inResponseTo)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			return nil, nil, flow.fail("invalid_saml_response", "Unknown or expired request ID")
		}
	}
	return assertion, request, nil
}

// parseSAMLResponse is crewjam/saml's ParseXMLResponse guarded against GO-2026-6909, for which
// no fixed version exists: an assertion without saml:Issuer (which validateAssertion dereferences)
// or whose Subject names its user only by a NameID of another namespace is refused before the
// library sees it, and any panic left in the library is a refusal, never a crashed request.
// See scripts/vulncheck-accepted.txt.
func parseSAMLResponse(sp *saml.ServiceProvider, doc []byte, possible []string, acs url.URL) (a *saml.Assertion, err error) {
	if err := checkSAMLAssertionShape(doc); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("saml response: crewjam/saml panicked: %v", p)
		}
	}()
	a, err = sp.ParseXMLResponse(doc, possible, acs)
	if err == nil && (a.Issuer.Value == "" || a.Subject == nil || a.Subject.NameID == nil) {
		// Whatever the library let through (an encrypted assertion is only seen by it), no
		// assertion signs anyone in without an issuer and a saml:NameID.
		return nil, fmt.Errorf("saml response: assertion without issuer or NameID: %w", saml.ErrMissingElement)
	}
	return a, err
}

// checkSAMLAssertionShape reads the document's one plaintext Assertion (decodeSAMLResponse made
// sure there is exactly one; an EncryptedAssertion is left to parseSAMLResponse's other guards) and
// requires its saml:Issuer, and refuses a Subject holding a NameID of a foreign namespace but no
// saml:NameID. The signature covers the same element, so checking it as received is enough. A
// document with no signature at all is left to the library, which refuses it before reading the
// Issuer (so it gets upstream's answer for an unsigned response, saml_error).
func checkSAMLAssertionShape(doc []byte) error {
	const ns = "urn:oasis:names:tc:SAML:2.0:assertion"
	const dsig = "http://www.w3.org/2000/09/xmldsig#"
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var path []xml.Name
	assertion, issuer, samlNameID, foreignNameID, signed := false, false, false, false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("saml response: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parent, grandparent := xml.Name{}, xml.Name{}
			if n := len(path); n > 0 {
				parent = path[n-1]
				if n > 1 {
					grandparent = path[n-2]
				}
			}
			switch {
			case t.Name == xml.Name{Space: dsig, Local: "Signature"}:
				signed = true
			case t.Name == xml.Name{Space: ns, Local: "Assertion"}:
				assertion = true
			case parent == xml.Name{Space: ns, Local: "Assertion"} && t.Name == xml.Name{Space: ns, Local: "Issuer"}:
				issuer = true
			case parent == xml.Name{Space: ns, Local: "Subject"} && grandparent.Local == "Assertion" && t.Name.Local == "NameID":
				samlNameID = samlNameID || t.Name.Space == ns
				foreignNameID = foreignNameID || t.Name.Space != ns
			}
			path = append(path, t.Name)
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
	switch {
	case assertion && !issuer && signed:
		// Refused as crewjam/saml refuses another IdP's issuer.
		return fmt.Errorf("saml response: assertion without saml:Issuer (GO-2026-6909): %w", saml.ErrIssuerMismatch)
	case foreignNameID && !samlNameID:
		return fmt.Errorf("saml response: subject NameID outside the SAML namespace (GO-2026-6909): %w", saml.ErrMissingElement)
	}
	return nil
}

// decodeSAMLResponse reads the posted SAMLResponse as upstream's validateSingleAssertion does
// before any signature is checked: base64 (line breaks allowed) of well-formed XML holding
// exactly one Assertion or EncryptedAssertion; and, stricter, without a DTD. It returns the
// document and its Response's InResponseTo, read unverified only to know which stored request may
// be answered (that row is used up only once the whole Response is verified), or upstream's error
// and description.
func decodeSAMLResponse(encoded string) ([]byte, string, *[2]string) {
	doc, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil || !bytes.Contains(doc, []byte("<")) {
		return nil, "", &[2]string{"saml_invalid_encoding", "Invalid base64-encoded SAML response"}
	}
	inResponseTo, assertions, err := scanSAMLResponse(doc)
	switch {
	case err != nil || hasDTD(doc):
		return nil, "", &[2]string{"saml_invalid_xml", "Failed to parse SAML response XML"}
	case assertions == 0:
		return nil, "", &[2]string{"saml_no_assertion", "SAML response contains no assertions"}
	case assertions > 1:
		return nil, "", &[2]string{"saml_multiple_assertions", fmt.Sprintf("SAML response contains %d assertions, expected exactly 1", assertions)}
	}
	return doc, inResponseTo, nil
}

// scanSAMLResponse reads the document once, as tokens: the root's InResponseTo and how many
// Assertion and EncryptedAssertion elements there are anywhere (a second one, even nested, is
// how signature wrapping smuggles an unsigned statement in).
func scanSAMLResponse(doc []byte) (string, int, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	inResponseTo, assertions, root := "", 0, true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if root {
				return "", 0, fmt.Errorf("saml response: no root element")
			}
			return inResponseTo, assertions, nil
		}
		if err != nil {
			return "", 0, fmt.Errorf("saml response: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			for _, a := range start.Attr {
				if a.Name.Local == "InResponseTo" && a.Name.Space == "" {
					inResponseTo = a.Value
				}
			}
			root = false
		}
		if start.Name.Local == "Assertion" || start.Name.Local == "EncryptedAssertion" {
			assertions++
		}
	}
}

// pendingAuthnRequest finds the stored AuthnRequest with this id, unexpired, without using it.
func (s *server) pendingAuthnRequest(ctx context.Context, id string) (*samlAuthnRequestRecord, error) {
	v, err := s.findVerification(ctx, s.db, samlAuthnRequestPrefix+id)
	if err != nil || v == nil || v.ExpiresAt.Before(s.now()) {
		return nil, err
	}
	var rec samlAuthnRequestRecord
	if json.Unmarshal([]byte(v.Value), &rec) != nil || rec.ID != id {
		return nil, nil
	}
	rec.ProviderReference = validReference(rec.ProviderReference)
	return &rec, nil
}

// samlFailure maps crewjam/saml's refusal to upstream's error and description.
func samlFailure(err error, inResponseTo string) (string, string) {
	switch {
	case errors.Is(err, saml.ErrAssertionReplayed):
		return "replay_detected", "SAML assertion has already been used"
	case errors.Is(err, saml.ErrRequestIDMismatch) && inResponseTo == "":
		return "unsolicited_response", "IdP-initiated SSO not allowed"
	case errors.Is(err, saml.ErrRequestIDMismatch):
		return "invalid_saml_response", "Unknown or expired request ID"
	case errors.Is(err, saml.ErrInvalidSignature), errors.Is(err, saml.ErrMalformedMessage), errors.Is(err, saml.ErrDecryptionFailed):
		return "saml_error", "Invalid SAML response"
	case errors.Is(err, saml.ErrAudienceMismatch):
		return "invalid_saml_response", "SAML assertion audience does not match this service provider"
	case errors.Is(err, saml.ErrDestinationMismatch):
		return "invalid_saml_response", "SAML response destination or recipient does not match"
	case errors.Is(err, saml.ErrIssuerMismatch):
		return "invalid_saml_response", "SAML issuer does not match the identity provider"
	}
	// Expired and not-yet-valid messages (crewjam/saml checks the IssueInstant before the
	// signature, so a forged message can be "expired" too) get upstream's answer for a response
	// it cannot parse.
	return "saml_error", "Invalid SAML response"
}

// privateSAMLError is the reason crewjam/saml keeps behind its generic message, for the log.
func privateSAMLError(err error) error {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr
	}
	return err
}

// samlReplayCache keeps the ids of accepted assertions (and logout requests) in the verification
// table until they expire, under upstream's identifier and row id, so every replica and the Node
// server refuse a second use: the row id is the primary key, and the INSERT that claims it is
// the check.
type samlReplayCache struct {
	ctx        context.Context
	s          *server
	providerID string
	issuer     string
}

func (c *samlReplayCache) Consume(id string, expiresAt time.Time) error {
	identifier := samlUsedAssertionKey + id
	sum := sha256.Sum256([]byte("reserve:" + identifier)) // upstream's reserveVerificationValue id
	now := c.s.now()
	value, err := json.Marshal(map[string]any{"assertionId": id, "issuer": c.issuer, "providerId": c.providerID,
		"usedAt": now.UnixMilli(), "expiresAt": expiresAt.UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode used assertion: %w", err)
	}
	tag, err := c.s.db.Exec(c.ctx, `INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`,
		base64.RawURLEncoding.EncodeToString(sum[:]), identifier, string(value), expiresAt, now)
	if err != nil {
		return fmt.Errorf("reserve assertion id: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return saml.ErrAssertionReplayed
	}
	return nil
}

// samlProfile reads the user from the assertion as upstream: the NameID is the account id, the
// email the mapped attribute (else the NameID), the name given and family names (else the
// display name, else the NameID).
func (s *server) samlProfile(c *samlConfig, a *saml.Assertion) *providerProfile {
	attrs := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				attrs[at.Name] = append(attrs[at.Name], v.Value)
			}
		}
	}
	attr := func(name string) string {
		if v := attrs[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var m samlMapping
	if c.Mapping != nil {
		m = *c.Mapping
	}
	nameID := ""
	if a.Subject != nil && a.Subject.NameID != nil {
		nameID = a.Subject.NameID.Value
	}
	email := strings.ToLower(cmp.Or(attr(cmp.Or(m.Email, "email")), nameID))
	name := strings.TrimSpace(attr(cmp.Or(m.FirstName, "givenName")) + " " + attr(cmp.Or(m.LastName, "surname")))
	name = cmp.Or(name, attr(cmp.Or(m.Name, "displayName")), nameID, email)
	data := map[string]any{}
	for k, v := range attrs {
		data[k] = v
	}
	verified := s.cfg.SSO.TrustEmailVerified && m.EmailVerified != "" && strings.EqualFold(attr(m.EmailVerified), "true")
	return &providerProfile{AccountID: nameID, Email: email, Name: name, EmailVerified: verified, Data: data}
}

// signInWithSAML signs the assertion's user in as the OIDC path does: the account by NameID, an
// existing user linked only when both sides vouch for the email (or the provider's verified
// domain covers it), the user joined to the provider's organization, the provider still the one
// the flow started with.
func (s *server) signInWithSAML(w http.ResponseWriter, r *http.Request, p *ssoProvider, c *samlConfig, ref *ssoProviderReference,
	a *saml.Assertion, flow *samlFlow) error {
	profile := s.samlProfile(c, a)
	if profile.AccountID == "" || profile.Email == "" {
		return flow.fail("saml_error", "Unable to extract user ID or email from SAML response")
	}
	acct := oauthAccount{providerID: p.ProviderID, accountID: profile.AccountID,
		trusted: s.domainVerified(p) && emailInDomain(profile.Email, p.Domain)}
	res, err := s.signInWithProvider(r.Context(), r, profile, acct, func(ctx context.Context, tx pgx.Tx, res *oauthSignIn) error {
		current, err := ssoProviderByID(ctx, tx, p.ProviderID, "FOR SHARE")
		if err != nil {
			return err
		}
		if current == nil || !s.isCurrentReference(current, ref) {
			return errSSOProviderChanged
		}
		return s.provisionMember(ctx, tx, current.orgID(), &res.as.User)
	})
	if err != nil {
		f := callbackFailureOf(r.Context(), err, p.ProviderID)
		if f.description == "" && f.code != "internal_server_error" {
			// Upstream's sign-in outcomes ("account not linked") go to the callback URL, its coded
			// errors to the error URL.
			redirect(w, samlRedirectURL(flow.successURL, url.Values{"error": {strings.ReplaceAll(f.code, " ", "_")}}))
			return nil
		}
		return flow.fail(f.code, f.description)
	}
	if err := s.recordSAMLSession(r.Context(), p.ProviderID, a, &res.as); err != nil {
		// The sign-in stands; only the IdP's later logout will not find it, as upstream.
		slog.WarnContext(r.Context(), "saml session record failed", "provider", p.ProviderID, "err", err)
	}
	// Upstream's SAML flow sends new and returning users alike to the callback URL.
	s.finishProviderSignIn(w, r, &oauthState{CallbackURL: flow.successURL}, res)
	return nil
}
