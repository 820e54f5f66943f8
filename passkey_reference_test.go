package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var passkeyReference = flag.String("passkey-reference", "", "origin of a running Node reference server (http://127.0.0.1:3100): register a passkey there and rewrite "+referencePasskeyFixture)

const referencePasskeyFixture = "testdata/passkey/node-registered.json"

// referencePasskey is a credential registered through the Node server by the software
// authenticator, with everything needed to use it again: the user and passkey rows as Node wrote
// them, and the authenticator's private key and state.
type referencePasskey struct {
	Comment    string          `json:"comment"`
	RPID       string          `json:"rpID"`
	Origin     string          `json:"origin"`
	User       json.RawMessage `json:"user"`
	Passkey    json.RawMessage `json:"passkey"`
	PrivateKey string          `json:"privateKey"` // PKCS #8, standard base64
	UserHandle string          `json:"userHandle"` // base64url
}

// TestReferencePasskeyFixture rewrites the fixture from a live Node server when
// -passkey-reference is given: sign up, register a passkey with the software authenticator, sign
// in with it once (so Node has moved the counter), and save the rows Node returns.
func TestReferencePasskeyFixture(t *testing.T) {
	if *passkeyReference == "" {
		t.Skip("needs -passkey-reference=<origin of the Node server>")
	}
	ref := &testServer{URL: strings.TrimRight(*passkeyReference, "/")}
	c := ref.client(t)
	email := "passkey-fixture-" + strings.ToLower(generateID(8)) + "@example.com"
	c.signUp(email, "password123", "Node Passkey")
	auth := newSoftAuthenticator(t)
	opts := c.get("/api/auth/passkey/generate-register-options").wantStatus(t, http.StatusOK).object(t)
	reg := auth.register(t, opts, ceremony{origin: ref.URL})
	c.post("/api/auth/passkey/verify-registration", map[string]any{"response": reg, "name": "Node laptop"}).wantStatus(t, http.StatusOK)

	signedOut := ref.client(t)
	opts = signedOut.get("/api/auth/passkey/generate-authenticate-options").wantStatus(t, http.StatusOK).object(t)
	signedOut.post("/api/auth/passkey/verify-authentication", map[string]any{"response": auth.assert(t, opts, ceremony{origin: ref.URL})}).wantStatus(t, http.StatusOK)

	var list []json.RawMessage
	signedOut.get("/api/auth/passkey/list-user-passkeys").wantStatus(t, http.StatusOK).decode(t, &list)
	var sess struct {
		User json.RawMessage `json:"user"`
	}
	signedOut.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &sess)
	if len(list) != 1 || sess.User == nil {
		t.Fatalf("passkeys %s, session user %s", list, sess.User)
	}
	der, err := x509.MarshalPKCS8PrivateKey(auth.key)
	if err != nil {
		t.Fatal(err)
	}
	fixture := referencePasskey{
		Comment:    "Registered through the Node reference (@better-auth/passkey 1.7.6) by the software authenticator, then used once there; regenerate with go test -run TestReferencePasskeyFixture -passkey-reference=http://127.0.0.1:3100",
		RPID:       opts["rpId"].(string),
		Origin:     ref.URL,
		User:       sess.User,
		Passkey:    list[0],
		PrivateKey: base64.StdEncoding.EncodeToString(der),
		UserHandle: b64url(auth.userHandle),
	}
	out, err := json.MarshalIndent(fixture, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(referencePasskeyFixture), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(referencePasskeyFixture, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNodeRegisteredPasskeySignsIn ensures a passkey the Node server registered (its rows copied
// as they are) signs in through this server, and that the sign counter carries on from Node's.
func TestNodeRegisteredPasskeySignsIn(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(referencePasskeyFixture)
	if err != nil {
		t.Fatal(err)
	}
	var fx referencePasskey
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(c *config) {
		c.Passkey = passkeyConfig{RPID: fx.RPID, RPName: "Reference", Origins: []string{fx.Origin}, UserVerification: "preferred"}
	})
	var u struct {
		ID, Name, Email string
		EmailVerified   bool
		CreatedAt       time.Time
	}
	var p struct {
		ID, PublicKey, UserID, CredentialID, DeviceType, Transports, AAGUID string
		Name                                                                *string
		Counter                                                             int
		BackedUp                                                            bool
		CreatedAt                                                           time.Time
	}
	if err := json.Unmarshal(fx.User, &u); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fx.Passkey, &p); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ts.db.Exec(ctx, `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4, $5, $5)`,
		u.ID, u.Name, u.Email, u.EmailVerified, u.CreatedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.Exec(ctx, `INSERT INTO passkey (id, name, "publicKey", "userId", "credentialID", counter, "deviceType", "backedUp", transports, "createdAt", aaguid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.ID, p.Name, p.PublicKey, p.UserID, p.CredentialID, p.Counter, p.DeviceType, p.BackedUp, p.Transports, p.CreatedAt, p.AAGUID); err != nil {
		t.Fatal(err)
	}
	auth := restoreSoftAuthenticator(t, fx, p.CredentialID, uint32(p.Counter))

	c := ts.client(t)
	opts := c.get("/api/auth/passkey/generate-authenticate-options").wantStatus(t, http.StatusOK).object(t)
	body := c.post("/api/auth/passkey/verify-authentication", map[string]any{"response": auth.assert(t, opts, ceremony{origin: fx.Origin})}).wantStatus(t, http.StatusOK).object(t)
	if got := body["user"].(map[string]any)["id"]; got != u.ID {
		t.Fatalf("signed in as %v, want %v", got, u.ID)
	}
	var counter int
	if err := ts.db.QueryRow(ctx, `SELECT counter FROM passkey WHERE id = $1`, p.ID).Scan(&counter); err != nil {
		t.Fatal(err)
	}
	if got, want := counter, p.Counter+1; got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
	session := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).object(t)
	if session["user"].(map[string]any)["email"] != u.Email {
		t.Fatalf("get-session = %v", session)
	}
}

// restoreSoftAuthenticator rebuilds the authenticator saved in a fixture.
func restoreSoftAuthenticator(t testing.TB, fx referencePasskey, credentialID string, counter uint32) *softAuthenticator {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(fx.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	auth := newSoftAuthenticator(t)
	auth.key = key.(*ecdsa.PrivateKey)
	if auth.credID, err = base64.RawURLEncoding.DecodeString(credentialID); err != nil {
		t.Fatal(err)
	}
	if auth.userHandle, err = base64.RawURLEncoding.DecodeString(fx.UserHandle); err != nil {
		t.Fatal(err)
	}
	auth.counter = counter
	return auth
}
