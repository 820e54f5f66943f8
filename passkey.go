package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"
)

// Passkeys (upstream packages/passkey/src/routes.ts): WebAuthn registration and sign-in with
// @better-auth/passkey's endpoints, challenge cookie and passkey table, so that its npm client and
// rows written by the Node server work unchanged. Every WebAuthn check (client data, RP ID hash,
// flags, attestation, signature, sign counter) is go-webauthn's; this file only stores and looks up
// what it needs.

// passkeyConfig is the relying party this server acts as (WebAuthn sections 5.4.2, 5.1.3).
type passkeyConfig struct {
	RPID   string // the domain credentials are scoped to
	RPName string // shown by some authenticators when creating a credential
	// Origins the client data may name. Empty: the request's Origin header, and only when it is
	// a trusted origin (upstream takes any Origin header; see expectedOrigins).
	Origins          []string
	UserVerification protocol.UserVerificationRequirement
}

// passkeyFlags are the raw flag values, read once the flag set is parsed.
type passkeyFlags struct{ rpID, rpName, origins, uv string }

func registerPasskeyFlags(s *settings) *passkeyFlags {
	f := &passkeyFlags{}
	s.String(&f.rpID, "passkey-rp-id", "PASSKEY_RP_ID", "", "WebAuthn relying party ID, a domain such as example.com; empty: BETTER_AUTH_URL's host, else localhost")
	s.String(&f.rpName, "passkey-rp-name", "PASSKEY_RP_NAME", "Better Auth", "relying party name shown by authenticators")
	s.String(&f.origins, "passkey-origin", "PASSKEY_ORIGIN", "", "comma-separated origins passkey ceremonies may run at; empty: the request's Origin when it is trusted")
	s.String(&f.uv, "passkey-user-verification", "PASSKEY_USER_VERIFICATION", "preferred", "required, preferred or discouraged; required refuses credentials used without PIN or biometrics")
	return f
}

// parse resolves the defaults against the app's base URL (already reduced to its origin).
func (f *passkeyFlags) parse(baseURL string) (passkeyConfig, error) {
	c := passkeyConfig{RPID: strings.ToLower(f.rpID), RPName: f.rpName, UserVerification: protocol.UserVerificationRequirement(f.uv)}
	if c.RPID == "" {
		// Upstream's getRpID: the base URL's hostname, else "localhost". WebAuthn forbids an IP
		// address as RP ID (browsers refuse it, and so does go-webauthn), so one falls back too.
		c.RPID = "localhost"
		if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
			if net.ParseIP(u.Hostname()) == nil {
				c.RPID = u.Hostname()
			} else {
				slog.Warn("passkeys: BETTER_AUTH_URL's host is an IP address, which cannot be a WebAuthn RP ID; using localhost (set PASSKEY_RP_ID)")
			}
		}
	}
	if err := protocol.ValidateRPID(c.RPID); err != nil {
		return passkeyConfig{}, fmt.Errorf("PASSKEY_RP_ID: %q: %w", c.RPID, err)
	}
	for _, o := range splitList(f.origins) {
		u, err := url.Parse(o)
		origin := originOf(o)
		if err != nil || origin == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			return passkeyConfig{}, fmt.Errorf("PASSKEY_ORIGIN: %q is not an origin like https://app.example.com", o)
		}
		if host := strings.ToLower(u.Hostname()); host != c.RPID && !strings.HasSuffix(host, "."+c.RPID) {
			// WebAuthn section 5.1.3: a browser lets a page use only an RP ID its host is within.
			slog.Warn("passkeys: browsers at this origin cannot use the RP ID", "origin", origin, "rpID", c.RPID)
		}
		c.Origins = append(c.Origins, origin)
	}
	switch c.UserVerification {
	case protocol.VerificationRequired, protocol.VerificationPreferred, protocol.VerificationDiscouraged:
	default:
		return passkeyConfig{}, fmt.Errorf("PASSKEY_USER_VERIFICATION: want required, preferred or discouraged, got %q", f.uv)
	}
	return c, nil
}

const (
	passkeyChallengeCookie = "better-auth-passkey" // upstream advanced.webAuthnChallengeCookie
	passkeyChallengeMaxAge = 300 * time.Second     // upstream MAX_AGE_IN_SECONDS
	passkeyCeremonyTimeout = 60000                 // ms, SimpleWebAuthn's default timeout
)

var (
	errChallengeNotFound           = apiErr(400, "CHALLENGE_NOT_FOUND", "Challenge not found")
	errNotAllowedToRegisterPasskey = apiErr(401, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY", "You are not allowed to register this passkey")
	errFailedToVerifyRegistration  = apiErr(400, "FAILED_TO_VERIFY_REGISTRATION", "Failed to verify registration")
	errPasskeyUnknown              = apiErr(401, "PASSKEY_NOT_FOUND", "Passkey not found") // at sign-in
	errPasskeyNotFound             = apiErr(404, "PASSKEY_NOT_FOUND", "Passkey not found") // at management
	errPasskeyAuthFailed           = apiErr(400, "AUTHENTICATION_FAILED", "Authentication failed")
	errPasskeyBadSignature         = apiErr(401, "AUTHENTICATION_FAILED", "Authentication failed")
	errPasskeyOriginMissing        = apiErr(400, "", "origin missing")
	errPasskeyIDMissing            = apiErr(400, "", "Missing required parameter: id")
)

// passkey is a row of upstream's passkey table (upstream packages/passkey/src/schema.ts), in the
// key order the Node server answers with.
type passkey struct {
	Name         *string `json:"name"`
	PublicKey    string  `json:"publicKey"` // COSE_Key, standard base64 with padding
	UserID       string  `json:"userId"`
	CredentialID string  `json:"credentialID"` // base64url without padding, as the WebAuthn JSON id
	Counter      int64   `json:"counter"`
	DeviceType   string  `json:"deviceType"` // "multiDevice" when backup eligible
	BackedUp     bool    `json:"backedUp"`
	Transports   *string `json:"transports"` // comma-joined
	CreatedAt    *jsTime `json:"createdAt"`
	AAGUID       *string `json:"aaguid"`
	ID           string  `json:"id"`
}

const passkeyColumns = `p.name, p."publicKey", p."userId", p."credentialID", p.counter, p."deviceType", p."backedUp", p.transports, p."createdAt", p.aaguid, p.id`

func (p *passkey) scanTargets() []any {
	return []any{&p.Name, &p.PublicKey, &p.UserID, &p.CredentialID, &p.Counter, &p.DeviceType, &p.BackedUp, &p.Transports, &p.CreatedAt, &p.AAGUID, &p.ID}
}

func scanPasskey(row pgx.CollectableRow) (passkey, error) {
	var p passkey
	return p, row.Scan(p.scanTargets()...)
}

// descriptor is the PublicKeyCredentialDescriptorJSON SimpleWebAuthn sends for a stored passkey:
// transports split as upstream splits them (absent when NULL, [""] when empty).
func (p *passkey) descriptor() credentialDescriptor {
	d := credentialDescriptor{ID: p.CredentialID, Type: "public-key"}
	if p.Transports != nil {
		d.Transports = strings.Split(*p.Transports, ",")
	}
	return d
}

type credentialDescriptor struct {
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
	Type       string   `json:"type"`
}

// registrationOptions is SimpleWebAuthn's PublicKeyCredentialCreationOptionsJSON, key for key,
// which @simplewebauthn/browser's startRegistration consumes.
type registrationOptions struct {
	Challenge              string                 `json:"challenge"`
	RP                     rpEntity               `json:"rp"`
	User                   userEntity             `json:"user"`
	PubKeyCredParams       []credentialParameter  `json:"pubKeyCredParams"`
	Timeout                int                    `json:"timeout"`
	Attestation            string                 `json:"attestation"`
	ExcludeCredentials     []credentialDescriptor `json:"excludeCredentials"`
	AuthenticatorSelection authenticatorSelection `json:"authenticatorSelection"`
	Extensions             map[string]bool        `json:"extensions"`
	Hints                  []string               `json:"hints"`
}

type rpEntity struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type userEntity struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type credentialParameter struct {
	Alg  int    `json:"alg"`
	Type string `json:"type"`
}

type authenticatorSelection struct {
	ResidentKey             string `json:"residentKey"`
	UserVerification        string `json:"userVerification"`
	AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
	RequireResidentKey      bool   `json:"requireResidentKey"`
}

// authenticationOptions is SimpleWebAuthn's PublicKeyCredentialRequestOptionsJSON.
type authenticationOptions struct {
	RPID             string                 `json:"rpId"`
	Challenge        string                 `json:"challenge"`
	AllowCredentials []credentialDescriptor `json:"allowCredentials,omitempty"`
	Timeout          int                    `json:"timeout"`
	UserVerification string                 `json:"userVerification"`
}

// offeredAlgorithms are the COSE algorithms upstream offers: EdDSA, ES256, RS256.
var offeredAlgorithms = []credentialParameter{{-8, "public-key"}, {-7, "public-key"}, {-257, "public-key"}}

// Challenge records in the verification table, as upstream writes them (upstream
// packages/passkey/src/routes.ts), so that a challenge issued by either server can be finished by
// the other during a migration.
type registrationChallenge struct {
	Type              string           `json:"type"`
	ExpectedChallenge string           `json:"expectedChallenge"`
	UserData          registrationUser `json:"userData"`
	Context           *string          `json:"context"`
}

type registrationUser struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type authenticationChallenge struct {
	Type              string `json:"type"`
	ExpectedChallenge string `json:"expectedChallenge"`
	UserData          struct {
		ID string `json:"id"`
	} `json:"userData"`
}

// issueChallenge stores a ceremony's challenge record under a fresh token and sets the signed
// challenge cookie naming it; the browser carries it to the verify endpoint.
func (s *server) issueChallenge(w http.ResponseWriter, r *http.Request, record any) error {
	value, err := json.Marshal(record)
	if err != nil {
		return fmt.Errorf("encode passkey challenge: %w", err)
	}
	token := randomString(32, defaultAlpha)
	if err := s.createVerification(r.Context(), s.db, token, string(value), s.now().Add(passkeyChallengeMaxAge)); err != nil {
		return err
	}
	s.setSignedCookie(w, passkeyChallengeCookie, token, cookieOpts{maxAge: int(passkeyChallengeMaxAge.Seconds())})
	return nil
}

// consumeChallenge spends the challenge the request's cookie names and decodes it into record.
// The row is deleted before anything is verified, so a challenge is good for one attempt only,
// and of concurrent attempts with one challenge at most one gets it (DELETE … RETURNING).
func (s *server) consumeChallenge(r *http.Request, ceremony string, record any) error {
	token, ok := s.signedCookie(r, passkeyChallengeCookie)
	if !ok {
		return errChallengeNotFound
	}
	v, err := s.consumeVerification(r.Context(), s.db, token)
	if err != nil {
		return err
	}
	if v == nil {
		return errChallengeNotFound
	}
	var kind struct {
		Type string `json:"type"`
	}
	if json.Unmarshal([]byte(v.Value), &kind) != nil || kind.Type != ceremony || json.Unmarshal([]byte(v.Value), record) != nil {
		return errChallengeNotFound
	}
	return nil
}

// expectedOrigins are the origins the client data may name. Upstream trusts the request's Origin
// header when no origin is configured; we take it only when it is a trusted origin, so that a page
// on an untrusted origin (one the RP ID still covers, such as another subdomain) cannot complete
// a ceremony. A request that names no origin gets the endpoint's own error, missing.
func (s *server) expectedOrigins(r *http.Request, missing *apiError) ([]string, error) {
	if len(s.cfg.Passkey.Origins) > 0 {
		return s.cfg.Passkey.Origins, nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil, missing
	}
	if !s.isTrustedURL(r, origin, false) {
		return nil, errInvalidOrigin
	}
	return []string{origin}, nil
}

// relyingParty is go-webauthn configured for one ceremony's expected origins. Unsolicited client
// extension outputs are ignored, as upstream ignores them.
func (s *server) relyingParty(origins []string) (*webauthn.WebAuthn, error) {
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                              s.cfg.Passkey.RPID,
		RPDisplayName:                     s.cfg.Passkey.RPName,
		RPOrigins:                         origins,
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("configure webauthn: %w", err)
	}
	return wa, nil
}

// webAuthnUser presents one user and their credential to go-webauthn. Upstream stores no user
// handle (its registration user.id is random and thrown away), so the handle is whatever the
// authenticator returned: the credential ID, looked up in the passkey table, is what binds a
// sign-in to a user.
type webAuthnUser struct {
	handle      []byte
	credentials []webauthn.Credential
}

func (u webAuthnUser) WebAuthnID() []byte                         { return u.handle }
func (u webAuthnUser) WebAuthnName() string                       { return "" }
func (u webAuthnUser) WebAuthnDisplayName() string                { return "" }
func (u webAuthnUser) WebAuthnCredentials() []webauthn.Credential { return u.credentials }

func (s *server) userPasskeys(r *http.Request, userID string) ([]passkey, error) {
	rows, err := s.db.Query(r.Context(), `SELECT `+passkeyColumns+` FROM passkey p
		WHERE p."userId" = $1 ORDER BY p."createdAt", p.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPasskey)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return list, nil
}

// registerOptionsQuery is generate-register-options' query.
type registerOptionsQuery struct {
	attachment, name string
	context          *string // upstream's passkey-first registration context, kept as is
}

func readRegisterOptionsQuery(r *http.Request) (registerOptionsQuery, error) {
	query := r.URL.Query()
	q := registerOptionsQuery{attachment: query.Get("authenticatorAttachment")}
	if query.Has("authenticatorAttachment") && (len(query["authenticatorAttachment"]) > 1 || q.attachment != "platform" && q.attachment != "cross-platform") {
		return q, validationError(`[query.authenticatorAttachment] Invalid option: expected one of "platform"|"cross-platform"`)
	}
	var err error
	if q.name, err = queryString(r, "name", false); err != nil {
		return q, err
	}
	if query.Has("context") {
		c, err := queryString(r, "context", false)
		if err != nil {
			return q, err
		}
		q.context = &c
	}
	return q, nil
}

func (s *server) handleGeneratePasskeyRegisterOptions(w http.ResponseWriter, r *http.Request) error {
	q, err := readRegisterOptionsQuery(r)
	if err != nil {
		return err
	}
	as, err := s.requireSession(w, r, freshSession)
	if err != nil {
		return err
	}
	existing, err := s.userPasskeys(r, as.User.ID)
	if err != nil {
		return err
	}
	challenge, err := protocol.CreateChallenge()
	if err != nil {
		return fmt.Errorf("passkey challenge: %w", err)
	}
	// Upstream's user.id is the bytes of a random string, not the user's id, so that the
	// authenticator never learns (and never reveals) who the account is.
	userName := cmp.Or(as.User.Email, as.User.ID)
	opts := registrationOptions{
		Challenge: challenge.String(),
		RP:        rpEntity{Name: s.cfg.Passkey.RPName, ID: s.cfg.Passkey.RPID},
		User: userEntity{
			ID:          base64.RawURLEncoding.EncodeToString([]byte(randomString(32, lowerAlphaNum))),
			Name:        userName,
			DisplayName: userName,
		},
		PubKeyCredParams:   offeredAlgorithms,
		Timeout:            passkeyCeremonyTimeout,
		Attestation:        "none",
		ExcludeCredentials: []credentialDescriptor{},
		AuthenticatorSelection: authenticatorSelection{
			ResidentKey:             "preferred",
			UserVerification:        string(s.cfg.Passkey.UserVerification),
			AuthenticatorAttachment: q.attachment,
		},
		Extensions: map[string]bool{"credProps": true},
		Hints:      []string{},
	}
	if q.name != "" {
		opts.User.Name = q.name
	}
	for _, p := range existing {
		opts.ExcludeCredentials = append(opts.ExcludeCredentials, p.descriptor())
	}
	record := registrationChallenge{
		Type:              "registration",
		ExpectedChallenge: opts.Challenge,
		UserData:          registrationUser{ID: as.User.ID, Name: userName, DisplayName: userName},
		Context:           q.context,
	}
	if err := s.issueChallenge(w, r, record); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *server) handleGeneratePasskeyAuthenticateOptions(w http.ResponseWriter, r *http.Request) error {
	as, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	challenge, err := protocol.CreateChallenge()
	if err != nil {
		return fmt.Errorf("passkey challenge: %w", err)
	}
	opts := authenticationOptions{
		RPID:             s.cfg.Passkey.RPID,
		Challenge:        challenge.String(),
		Timeout:          passkeyCeremonyTimeout,
		UserVerification: string(s.cfg.Passkey.UserVerification),
	}
	record := authenticationChallenge{Type: "authentication", ExpectedChallenge: opts.Challenge}
	// Signed in: the browser offers only this user's passkeys. Signed out: allowCredentials is
	// left out, so that discoverable credentials and autofill (conditional mediation) work.
	if as != nil {
		record.UserData.ID = as.User.ID
		existing, err := s.userPasskeys(r, as.User.ID)
		if err != nil {
			return err
		}
		for _, p := range existing {
			opts.AllowCredentials = append(opts.AllowCredentials, p.descriptor())
		}
	}
	if err := s.issueChallenge(w, r, record); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

// anyJSON is a body field that takes any JSON value (upstream's z.any()); it stays raw for
// go-webauthn to parse.
type anyJSON []byte

func (v *anyJSON) UnmarshalJSON(b []byte) error {
	*v = append((*v)[:0], b...)
	return nil
}

func (anyJSON) jsonKind() string { return "nonoptional" }

// jsonRecord is a body field that must be a JSON object (upstream's z.record), kept raw.
type jsonRecord []byte

func (v *jsonRecord) UnmarshalJSON(b []byte) error {
	if jsonKind(b) != "object" {
		return errors.New("not an object")
	}
	*v = append((*v)[:0], b...)
	return nil
}

func (jsonRecord) jsonKind() string { return "record" }

func (s *server) handleVerifyPasskeyRegistration(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Response      anyJSON `json:"response" required:"true"`
		Name          *string `json:"name"`
		CreateSession *bool   `json:"createSession"`
	}
	as, err := s.sessionRequest(w, r, &body, freshSession)
	if err != nil {
		return err
	}
	origins, err := s.expectedOrigins(r, errFailedToVerifyRegistration)
	if err != nil {
		return err
	}
	var record registrationChallenge
	if err := s.consumeChallenge(r, "registration", &record); err != nil {
		return err
	}
	if record.UserData.ID != as.User.ID {
		return errNotAllowedToRegisterPasskey
	}
	cred, err := s.verifyRegistration(r.Context(), origins, record.ExpectedChallenge, body.Response)
	if err != nil {
		return err
	}
	row := newPasskeyRow(as.User.ID, cred, body.Name)
	createSession := body.CreateSession != nil && *body.CreateSession
	var created authSession
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		if err := s.insertPasskey(r.Context(), tx, &row); err != nil {
			return err
		}
		if !createSession {
			return nil
		}
		created.User = as.User
		var err error
		created.Session, err = s.createSession(r.Context(), tx, r, as.User.ID, false)
		return err
	})
	if err != nil {
		return err
	}
	if !createSession {
		writeJSON(w, http.StatusOK, row)
		return nil
	}
	s.resetSessionCookie(w, r, &created)
	writeJSON(w, http.StatusOK, struct {
		passkey
		Session session `json:"session"`
		User    user    `json:"user"`
	}{row, created.Session, created.User})
	return nil
}

// newPasskeyRow is the passkey row a verified registration makes, as upstream fills it.
func newPasskeyRow(userID string, cred *registeredCredential, name *string) passkey {
	transports := strings.Join(cred.transports, ",")
	row := passkey{
		PublicKey:    base64.StdEncoding.EncodeToString(cred.PublicKey),
		UserID:       userID,
		CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID),
		Counter:      int64(cred.Authenticator.SignCount),
		DeviceType:   "singleDevice",
		BackedUp:     cred.Flags.BackupState,
		Transports:   &transports,
		AAGUID:       ptr(formatAAGUID(cred.Authenticator.AAGUID)),
	}
	if cred.Flags.BackupEligible {
		row.DeviceType = "multiDevice"
	}
	if name != nil {
		if name := strings.TrimSpace(*name); name != "" {
			row.Name = &name
		}
	}
	return row
}

// insertPasskey stores row, refusing a credential ID already registered to anyone.
func (s *server) insertPasskey(ctx context.Context, tx pgx.Tx, row *passkey) error {
	// WebAuthn section 7.1 step 27: refuse a credential ID already registered to anyone. With "none"
	// attestation nothing proves the ID belongs to the key, so without this anyone could
	// register a victim's credential ID and shadow it at sign-in. The lock serialises
	// registrations of one ID, since upstream's table has no unique index on it.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7242116, hashtext($1))`, row.CredentialID); err != nil {
		return fmt.Errorf("lock credential id: %w", err)
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM passkey WHERE "credentialID" = $1)`, row.CredentialID).Scan(&taken); err != nil {
		return fmt.Errorf("find credential id: %w", err)
	}
	if taken {
		return errFailedToVerifyRegistration
	}
	err := tx.QueryRow(ctx, `INSERT INTO passkey AS p (id, name, "publicKey", "userId", "credentialID", counter, "deviceType", "backedUp", transports, "createdAt", aaguid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+passkeyColumns,
		generateID(32), row.Name, row.PublicKey, row.UserID, row.CredentialID, row.Counter, row.DeviceType, row.BackedUp, row.Transports, s.now(), row.AAGUID,
	).Scan(row.scanTargets()...)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	return nil
}

// registeredCredential is what a verified registration yields.
type registeredCredential struct {
	*webauthn.Credential
	transports []string // as the client sent them, which upstream stores verbatim
}

// verifyRegistration checks an attestation response with go-webauthn (WebAuthn section 7.1): the
// client data's type, challenge and origin, the RP ID hash, user presence (and verification when
// required), the key algorithm, the attestation statement and the backup flags. Any failure is
// 400 FAILED_TO_VERIFY_REGISTRATION; upstream answers 500 for most, but they are the client's.
func (s *server) verifyRegistration(ctx context.Context, origins []string, challenge string, response []byte) (*registeredCredential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		slog.InfoContext(ctx, "passkey registration refused", "err", describeWebAuthnErr(err))
		return nil, errFailedToVerifyRegistration
	}
	wa, err := s.relyingParty(origins)
	if err != nil {
		return nil, err
	}
	user := webAuthnUser{handle: []byte("registration")}
	session := webauthn.SessionData{
		Challenge:        challenge,
		RelyingPartyID:   s.cfg.Passkey.RPID,
		UserID:           user.handle,
		UserVerification: s.cfg.Passkey.UserVerification,
		CredParams:       webauthn.CredentialParametersDefault(),
	}
	cred, err := wa.CreateCredential(user, session, parsed)
	if err != nil {
		slog.InfoContext(ctx, "passkey registration refused", "err", describeWebAuthnErr(err))
		return nil, errFailedToVerifyRegistration
	}
	if cred.Authenticator.SignCount > math.MaxInt32 {
		return nil, errFailedToVerifyRegistration // the counter column is a Postgres integer
	}
	return &registeredCredential{Credential: cred, transports: parsed.Raw.AttestationResponse.Transports}, nil
}

// describeWebAuthnErr includes go-webauthn's developer detail, which its Error() leaves out.
func describeWebAuthnErr(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %s (%s)", pe.Type, pe.Details, pe.DevInfo)
	}
	return err.Error()
}

// formatAAGUID writes 16 bytes as a UUID with dashes, as SimpleWebAuthn's convertAAGUIDToString.
func formatAAGUID(b []byte) string {
	h := hex.EncodeToString(b)
	if len(h) != 32 {
		return h
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func ptr[T any](v T) *T { return &v }

func (s *server) handleVerifyPasskeyAuthentication(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Response jsonRecord `json:"response" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	origins, err := s.expectedOrigins(r, errPasskeyOriginMissing)
	if err != nil {
		return err
	}
	var record authenticationChallenge
	if err := s.consumeChallenge(r, "authentication", &record); err != nil {
		return err
	}
	pk, err := s.passkeyByCredentialID(r, responseID(body.Response))
	if err != nil {
		return err
	}
	if pk == nil {
		return errPasskeyUnknown
	}
	counter, err := s.verifyAssertion(r.Context(), origins, record.ExpectedChallenge, pk, body.Response)
	if err != nil {
		return err
	}
	var as authSession
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		// The counter moves in one statement guarded like go-webauthn's check (WebAuthn section 7.2
		// step 22), so two sign-ins racing with one counter value (a cloned authenticator)
		// cannot both pass: the second finds the counter already moved.
		tag, err := tx.Exec(r.Context(), `UPDATE passkey SET counter = $2
			WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))`, pk.ID, counter)
		if err != nil {
			return fmt.Errorf("update passkey counter: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errPasskeyAuthFailed
		}
		u, err := s.userByID(r.Context(), tx, pk.UserID)
		if err != nil {
			return err
		}
		if u == nil {
			return errUserNotFound
		}
		as.User = *u
		as.Session, err = s.createSession(r.Context(), tx, r, u.ID, false)
		return err
	})
	if err != nil {
		return err
	}
	s.resetSessionCookie(w, r, &as)
	writeJSON(w, http.StatusOK, as)
	return nil
}

// responseID is the credential ID the response claims (its "id"), or "" when it has none.
func responseID(response []byte) string {
	var probe struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(response, &probe) != nil {
		return ""
	}
	id, _ := probe.ID.(string)
	return id
}

// passkeyByCredentialID finds the passkey a sign-in names, or nil. Node may have stored one
// credential ID twice (its column is not unique); the first registration is the genuine one, a
// later copy at best an attempt to shadow it.
func (s *server) passkeyByCredentialID(r *http.Request, credentialID string) (*passkey, error) {
	var p passkey
	err := s.db.QueryRow(r.Context(), `SELECT `+passkeyColumns+` FROM passkey p
		WHERE p."credentialID" = $1 ORDER BY p."createdAt", p.id LIMIT 1`, credentialID).Scan(p.scanTargets()...)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find passkey: %w", err)
	}
	return &p, nil
}

// verifyAssertion checks an assertion against the stored passkey with go-webauthn (WebAuthn section
// 7.2): client data type, challenge and origin, RP ID hash, user presence (and verification when
// required), the backup-eligible flag, the signature, and that the sign counter went up. It returns
// the new counter. A bad signature is 401, anything else 400, as upstream answers.
func (s *server) verifyAssertion(ctx context.Context, origins []string, challenge string, pk *passkey, response []byte) (uint32, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		slog.InfoContext(ctx, "passkey sign-in refused", "err", describeWebAuthnErr(err))
		return 0, errPasskeyAuthFailed
	}
	credentialID, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(pk.CredentialID, "="))
	if err != nil {
		return 0, errPasskeyAuthFailed
	}
	publicKey, err := base64.StdEncoding.DecodeString(pk.PublicKey)
	if err != nil {
		return 0, errPasskeyAuthFailed
	}
	cred := webauthn.Credential{
		ID:            credentialID,
		PublicKey:     publicKey,
		Flags:         webauthn.CredentialFlags{BackupEligible: pk.DeviceType == "multiDevice"},
		Authenticator: webauthn.Authenticator{SignCount: uint32(pk.Counter)},
	}
	user := webAuthnUser{handle: parsed.Response.UserHandle, credentials: []webauthn.Credential{cred}}
	session := webauthn.SessionData{
		Challenge:        challenge,
		RelyingPartyID:   s.cfg.Passkey.RPID,
		UserID:           user.handle,
		UserVerification: s.cfg.Passkey.UserVerification,
	}
	wa, err := s.relyingParty(origins)
	if err != nil {
		return 0, err
	}
	got, err := wa.ValidateLogin(user, session, parsed)
	if err != nil {
		slog.InfoContext(ctx, "passkey sign-in refused", "err", describeWebAuthnErr(err))
		var pe *protocol.Error
		if errors.As(err, &pe) && pe.Type == protocol.ErrAssertionSignature.Type {
			return 0, errPasskeyBadSignature
		}
		return 0, errPasskeyAuthFailed
	}
	// CloneWarning: the counter did not go up, so two copies of the key may exist.
	if got.Authenticator.CloneWarning || got.Authenticator.SignCount > math.MaxInt32 {
		return 0, errPasskeyAuthFailed
	}
	return got.Authenticator.SignCount, nil
}

func (s *server) handleListPasskeys(w http.ResponseWriter, r *http.Request) error {
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	list, err := s.userPasskeys(r, as.User.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []passkey{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// passkeyOwnershipError explains why a change to passkey id by userID touched no row: 404 when
// there is no such passkey, forbidden when another user owns it (upstream's
// requireResourceOwnership). It runs only after the guarded statement failed, so the check and
// the change cannot be split by a race.
func (s *server) passkeyOwnershipError(r *http.Request, id string, forbidden *apiError) error {
	var exists bool
	if err := s.db.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM passkey WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("find passkey: %w", err)
	}
	if !exists {
		return errPasskeyNotFound
	}
	return forbidden
}

func (s *server) handleDeletePasskey(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ID string `json:"id" required:"true"`
	}
	as, err := s.sessionRequest(w, r, &body, anySession)
	if err != nil {
		return err
	}
	if body.ID == "" {
		return errPasskeyIDMissing
	}
	tag, err := s.db.Exec(r.Context(), `DELETE FROM passkey WHERE id = $1 AND "userId" = $2`, body.ID, as.User.ID)
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return s.passkeyOwnershipError(r, body.ID, errUnauthorizedEmpty)
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleUpdatePasskey(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ID   string `json:"id" required:"true"`
		Name string `json:"name" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	name := strings.TrimSpace(body.Name)
	if name == "" {
		return validationError("[body.name] Too small: expected string to have >=1 characters")
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	if body.ID == "" {
		return errPasskeyIDMissing
	}
	var p passkey
	err = s.db.QueryRow(r.Context(), `UPDATE passkey AS p SET name = $3 WHERE p.id = $1 AND p."userId" = $2
		RETURNING `+passkeyColumns, body.ID, as.User.ID, name).Scan(p.scanTargets()...)
	if isNoRows(err) {
		return s.passkeyOwnershipError(r, body.ID, errNotAllowedToRegisterPasskey)
	}
	if err != nil {
		return fmt.Errorf("update passkey: %w", err)
	}
	writeJSON(w, http.StatusOK, map[string]passkey{"passkey": p})
	return nil
}
