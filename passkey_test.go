package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
)

const (
	passkeyRegisterOptions      = "/api/auth/passkey/generate-register-options"
	passkeyVerifyRegistration   = "/api/auth/passkey/verify-registration"
	passkeyAuthenticateOptions  = "/api/auth/passkey/generate-authenticate-options"
	passkeyVerifyAuthentication = "/api/auth/passkey/verify-authentication"
	passkeyCookie               = "better-auth.better-auth-passkey"
)

// newPasskeyServer is a test server acting as relying party "localhost" for its own origin, the
// way a default deployment would with BETTER_AUTH_URL=http://localhost:<port>.
func newPasskeyServer(t *testing.T, opts ...func(*config)) *testServer {
	t.Helper()
	return newTestServer(t, append([]func(*config){func(c *config) {
		c.Passkey = passkeyConfig{RPID: "localhost", RPName: "Authsidecar Test", UserVerification: protocol.VerificationPreferred}
	}}, opts...)...)
}

// registerPasskey runs a registration ceremony for c's user: options, the authenticator, verify.
// The ceremony's origin defaults to the server's.
func registerPasskey(t *testing.T, c *testClient, auth *softAuthenticator, cer ceremony, extra map[string]any) *testResponse {
	t.Helper()
	opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
	if cer.origin == "" {
		cer.origin = c.ts.URL
	}
	body := map[string]any{"response": auth.register(t, opts, cer)}
	for k, v := range extra {
		body[k] = v
	}
	return c.post(passkeyVerifyRegistration, body)
}

// signInWithPasskey runs a sign-in ceremony: options, the authenticator, verify.
func signInWithPasskey(t *testing.T, c *testClient, auth *softAuthenticator, cer ceremony) *testResponse {
	t.Helper()
	opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
	if cer.origin == "" {
		cer.origin = c.ts.URL
	}
	return c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, cer)})
}

// userWithPasskey signs up a user and registers auth for them; it returns the user's id.
func userWithPasskey(t *testing.T, ts *testServer, email string, auth *softAuthenticator) string {
	t.Helper()
	c := ts.client(t)
	u := c.signUp(email, "password123", "Passkey User")
	registerPasskey(t, c, auth, ceremony{}, nil).wantStatus(t, http.StatusOK)
	return u["id"].(string)
}

// forgetSessions deletes the sessions of auth's user, so that a case that signs in on its way to
// a refusal counts only the refusal's outcome.
func forgetSessions(t *testing.T, ts *testServer, auth *softAuthenticator) {
	t.Helper()
	if _, err := ts.db.Exec(context.Background(), `DELETE FROM session WHERE "userId" = (SELECT "userId" FROM passkey WHERE "credentialID" = $1)`, auth.id()); err != nil {
		t.Fatal(err)
	}
}

func (ts *testServer) userSessions(t *testing.T, userID string) int {
	t.Helper()
	var n int
	if err := ts.db.QueryRow(context.Background(), `SELECT count(*) FROM session WHERE "userId" = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantGoldenJSON compares body, each generated value replaced by its alias, with
// testdata/passkey/<name>.json; -update rewrites the file. The golden files were checked against
// the Node reference's answers.
func wantGoldenJSON(t *testing.T, name string, body []byte, aliases map[string]string) {
	t.Helper()
	for value, alias := range aliases {
		body = bytes.ReplaceAll(body, []byte(`"`+value+`"`), []byte(`"<`+alias+`>"`))
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		t.Fatalf("%s: %v in %s", name, err, body)
	}
	indented.WriteByte('\n')
	compareGolden(t, filepath.Join("testdata", "passkey", name+".json"), indented.Bytes())
}

// TestPasskeyRegistersAndSignsIn ensures a credential registered through the HTTP API, with
// "none" and with "packed" self attestation, signs in a signed-out browser, which gets a session
// cookie, and that the row holds what upstream stores.
func TestPasskeyRegistersAndSignsIn(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"none", "packed"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			ts := newPasskeyServer(t)
			c := ts.client(t)
			u := c.signUp("pk-"+format+"@example.com", "password123", "Passkey User")
			auth := newSoftAuthenticator(t)
			auth.flags = flagUV | flagBE | flagBS
			var row passkey
			registerPasskey(t, c, auth, ceremony{format: format}, map[string]any{"name": "  Laptop  "}).wantStatus(t, http.StatusOK).decode(t, &row)
			wantRow := passkey{
				Name: ptr("Laptop"), PublicKey: base64.StdEncoding.EncodeToString(auth.cosePublicKey()), UserID: u["id"].(string),
				CredentialID: auth.id(), Counter: 1, DeviceType: "multiDevice", BackedUp: true, Transports: ptr("internal,hybrid"),
				CreatedAt: row.CreatedAt, AAGUID: ptr("08987058-cadc-4b81-b6e1-30de50dcbe96"), ID: row.ID,
			}
			if got, _ := json.Marshal(row); string(got) != string(must(json.Marshal(wantRow))) || len(row.ID) != 32 || row.CreatedAt == nil {
				t.Fatalf("registered %s\nwant       %s", got, must(json.Marshal(wantRow)))
			}

			browser := ts.client(t)
			resp := signInWithPasskey(t, browser, auth, ceremony{}).wantStatus(t, http.StatusOK)
			var body authSession
			resp.decode(t, &body)
			if body.User.ID != row.UserID || body.Session.UserID != row.UserID || resp.setCookie("better-auth.session_token") == "" {
				t.Fatalf("sign-in = %s", resp.Body)
			}
			if got := sessionUser(t, browser); got.ID != row.UserID {
				t.Fatalf("get-session user = %+v", got)
			}
			var counter int
			ts.db.QueryRow(context.Background(), `SELECT counter FROM passkey WHERE id = $1`, row.ID).Scan(&counter)
			if counter != 2 {
				t.Fatalf("counter = %d, want 2", counter)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPasskeyAnswersAsUpstream ensures the options, the challenge cookie and the replies have the
// shapes @better-auth/passkey's client and SimpleWebAuthn's browser code consume, as the Node
// server answers them.
func TestPasskeyAnswersAsUpstream(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	c := ts.client(t)
	u := c.signUp("shape@example.com", "password123", "Shape")
	userID := u["id"].(string)

	// Signed out, nobody is named: allowCredentials is left out for discoverable credentials
	// and autofill.
	resp := ts.client(t).get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK)
	var auth struct{ Challenge string }
	resp.decode(t, &auth)
	wantGoldenJSON(t, "authenticate-options-signed-out", resp.Body, map[string]string{auth.Challenge: "challenge"})
	cookie := resp.setCookie(passkeyCookie)
	if !regexp.MustCompile(`^better-auth\.better-auth-passkey=[A-Za-z0-9_-]{32}\.[A-Za-z0-9%]+; Max-Age=300; Path=/; HttpOnly; SameSite=Lax$`).MatchString(cookie) {
		t.Fatalf("challenge cookie = %q", cookie)
	}

	resp = c.get(passkeyRegisterOptions+"?authenticatorAttachment=platform&name=Work+laptop&context=ctx").wantStatus(t, http.StatusOK)
	var reg struct {
		Challenge string
		User      struct{ ID string }
	}
	resp.decode(t, &reg)
	handle, err := base64.RawURLEncoding.DecodeString(reg.User.ID)
	if err != nil || !regexp.MustCompile(`^[a-z0-9]{32}$`).Match(handle) || strings.Contains(string(handle), userID) {
		t.Fatalf("user.id %q is not the bytes of a random 32-character string", reg.User.ID)
	}
	wantGoldenJSON(t, "register-options", resp.Body, map[string]string{reg.Challenge: "challenge", reg.User.ID: "user-handle"})
	if resp.setCookie(passkeyCookie) == "" {
		t.Fatal("no challenge cookie")
	}
	token, _ := ts.signedCookie(&http.Request{Header: http.Header{"Cookie": {passkeyCookie + "=" + c.cookies[passkeyCookie]}}}, passkeyChallengeCookie)
	var stored string
	ts.db.QueryRow(context.Background(), `SELECT value FROM verification WHERE identifier = $1`, token).Scan(&stored)
	wantGoldenJSON(t, "register-challenge-record", []byte(stored), map[string]string{reg.Challenge: "challenge", userID: "user-id"})

	a := newSoftAuthenticator(t)
	reply := c.post(passkeyVerifyRegistration, map[string]any{"response": a.register(t, resp.object(t), ceremony{origin: ts.URL})}).wantStatus(t, http.StatusOK)
	var row passkey
	reply.decode(t, &row)
	aliases := map[string]string{row.ID: "passkey-id", userID: "user-id", a.id(): "credential-id", row.PublicKey: "public-key", time.Time(*row.CreatedAt).UTC().Format(jsTimeLayout): "created-at"}
	wantGoldenJSON(t, "verify-registration", reply.Body, aliases)
	wantGoldenJSON(t, "list-user-passkeys", c.get("/api/auth/passkey/list-user-passkeys").wantStatus(t, http.StatusOK).Body, aliases)

	// Signed in, the browser is told which credentials are this user's.
	resp = c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK)
	resp.decode(t, &auth)
	aliases[auth.Challenge] = "challenge"
	wantGoldenJSON(t, "authenticate-options-signed-in", resp.Body, aliases)
	resp = c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK)
	resp.decode(t, &reg)
	aliases[reg.Challenge], aliases[reg.User.ID] = "challenge", "user-handle"
	wantGoldenJSON(t, "register-options-excluding", resp.Body, aliases)
}

// TestPasskeyRegisterOptionsNeedFreshSession ensures registration needs a session created within
// a day, and validates its query first, as upstream does.
func TestPasskeyRegisterOptionsNeedFreshSession(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	ts.client(t).get(passkeyRegisterOptions).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	ts.client(t).get(passkeyRegisterOptions+"?authenticatorAttachment=usb").wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c := ts.client(t)
	u := c.signUp("stale@example.com", "password123", "Stale")
	c.get(passkeyRegisterOptions+"?authenticatorAttachment=platform&authenticatorAttachment=platform").wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	if _, err := ts.db.Exec(context.Background(), `UPDATE session SET "createdAt" = "createdAt" - interval '2 days' WHERE "userId" = $1`, u["id"]); err != nil {
		t.Fatal(err)
	}
	c.get(passkeyRegisterOptions).wantError(t, http.StatusForbidden, "SESSION_NOT_FRESH")
	c.post(passkeyVerifyRegistration, map[string]any{"response": map[string]any{}}).wantError(t, http.StatusForbidden, "SESSION_NOT_FRESH")
}

// passkeyRefusal is a ceremony gone wrong: run plays it for a fresh user with a fresh
// authenticator, and it must be refused with status and code.
type passkeyRefusal struct {
	name   string
	status int
	code   string
	run    func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse
}

// TestPasskeyRegistrationRefused ensures every forged or broken registration is refused with
// upstream's error, stores nothing, and spends its challenge.
func TestPasskeyRegistrationRefused(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t, func(c *config) { c.TrustedOrigins = []string{"https://app.example.com"} })
	victim := newSoftAuthenticator(t)
	userWithPasskey(t, ts, "victim@example.com", victim)

	cases := []passkeyRefusal{
		{"client data from another origin", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{origin: "https://evil.example"}, nil)
		}},
		{"client data from another trusted origin than the request's", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{origin: "https://app.example.com"}, nil)
		}},
		{"authenticator data for another RP ID", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{rpID: "evil.example"}, nil)
		}},
		{"another challenge", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{challenge: b64url(bytes.Repeat([]byte{7}, 32))}, nil)
		}},
		{"sign-in client data", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{typ: "webauthn.get"}, nil)
		}},
		{"backed up but not backup eligible", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			auth.flags = flagBS
			return registerPasskey(t, c, auth, ceremony{}, nil)
		}},
		{"packed attestation signed by another key", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return registerPasskey(t, c, auth, ceremony{format: "packed", attester: newSoftAuthenticator(t).key}, nil)
		}},
		{"credential ID someone registered", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			auth.credID = victim.credID
			return registerPasskey(t, c, auth, ceremony{}, nil)
		}},
		{"not a credential", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK)
			return c.post(passkeyVerifyRegistration, map[string]any{"response": "garbage"})
		}},
		{"no Origin header", 400, "FAILED_TO_VERIFY_REGISTRATION", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})}, "Origin", "", "Referer", c.ts.URL+"/settings")
		}},
		{"no challenge cookie", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			delete(c.cookies, passkeyCookie)
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"forged challenge cookie", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			token, _, _ := strings.Cut(c.cookies[passkeyCookie], ".")
			c.cookies[passkeyCookie] = token + "." + strings.Repeat("A", 40) + "%3D"
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"sign-in challenge", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK)
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"replayed challenge", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			bad := c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: "https://evil.example"})})
			bad.wantError(t, http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"another user's challenge", 401, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			other := c.ts.client(t)
			other.signUp("other-"+strings.ToLower(generateID(6))+"@example.com", "password123", "Other")
			opts := other.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
			c.cookies[passkeyCookie] = other.cookies[passkeyCookie]
			return c.post(passkeyVerifyRegistration, map[string]any{"response": auth.register(t, opts, ceremony{origin: c.ts.URL})})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ts.client(t)
			u := c.signUp("reg-"+strings.ToLower(generateID(8))+"@example.com", "password123", "Reg")
			auth := newSoftAuthenticator(t)
			tc.run(t, c, auth).wantError(t, tc.status, tc.code)
			var n int
			ts.db.QueryRow(context.Background(), `SELECT count(*) FROM passkey WHERE "userId" = $1`, u["id"]).Scan(&n)
			if n != 0 {
				t.Fatalf("%d passkeys stored", n)
			}
		})
	}
}

// TestPasskeySignInRefused ensures every forged, replayed or stale assertion is refused with
// upstream's error and creates no session.
func TestPasskeySignInRefused(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t, func(c *config) { c.TrustedOrigins = []string{"https://app.example.com"} })
	cases := []passkeyRefusal{
		{"client data from another origin", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, auth, ceremony{origin: "https://evil.example"})
		}},
		{"client data from another trusted origin than the request's", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, auth, ceremony{origin: "https://app.example.com"})
		}},
		{"authenticator data for another RP ID", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, auth, ceremony{rpID: "evil.example"})
		}},
		{"another challenge", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, auth, ceremony{challenge: b64url(bytes.Repeat([]byte{7}, 32))})
		}},
		{"registration client data", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, auth, ceremony{typ: "webauthn.create"})
		}},
		{"cloned counter: going backwards", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			ten, five := uint32(10), uint32(5)
			signInWithPasskey(t, c.ts.client(t), auth, ceremony{counter: &ten}).wantStatus(t, http.StatusOK)
			forgetSessions(t, c.ts, auth)
			return signInWithPasskey(t, c, auth, ceremony{counter: &five})
		}},
		{"cloned counter: standing still", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			one := uint32(1) // the registration's own count
			return signInWithPasskey(t, c, auth, ceremony{counter: &one})
		}},
		{"backup eligibility changed", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			auth.flags |= flagBE
			return signInWithPasskey(t, c, auth, ceremony{})
		}},
		{"someone else's credential", 401, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			attacker := newSoftAuthenticator(t)
			attacker.credID, attacker.userHandle, attacker.counter = auth.credID, auth.userHandle, 100
			return signInWithPasskey(t, c, attacker, ceremony{})
		}},
		{"unknown credential", 401, "PASSKEY_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			return signInWithPasskey(t, c, newSoftAuthenticator(t), ceremony{})
		}},
		{"deleted credential", 401, "PASSKEY_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			if _, err := c.ts.db.Exec(context.Background(), `DELETE FROM passkey WHERE "credentialID" = $1`, auth.id()); err != nil {
				t.Fatal(err)
			}
			return signInWithPasskey(t, c, auth, ceremony{})
		}},
		{"not a credential", 400, "AUTHENTICATION_FAILED", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK)
			return c.post(passkeyVerifyAuthentication, map[string]any{"response": map[string]any{"id": auth.id(), "response": 5}})
		}},
		{"response not an object", 400, "VALIDATION_ERROR", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK)
			return c.post(passkeyVerifyAuthentication, map[string]any{"response": []int{1}})
		}},
		{"no challenge cookie", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
			delete(c.cookies, passkeyCookie)
			return c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"registration challenge", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
			c.signUp("switch-"+strings.ToLower(generateID(6))+"@example.com", "password123", "Switch")
			c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK)
			return c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: c.ts.URL})})
		}},
		{"replayed challenge", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
			body := map[string]any{"response": auth.assert(t, opts, ceremony{origin: c.ts.URL})}
			c.post(passkeyVerifyAuthentication, body).wantStatus(t, http.StatusOK)
			forgetSessions(t, c.ts, auth)
			return c.post(passkeyVerifyAuthentication, body)
		}},
		{"challenge spent by a failed attempt", 400, "CHALLENGE_NOT_FOUND", func(t *testing.T, c *testClient, auth *softAuthenticator) *testResponse {
			opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
			c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: "https://evil.example"})}).
				wantError(t, http.StatusBadRequest, "AUTHENTICATION_FAILED")
			return c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: c.ts.URL})})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			auth := newSoftAuthenticator(t)
			userID := userWithPasskey(t, ts, "in-"+strings.ToLower(generateID(8))+"@example.com", auth)
			before := ts.userSessions(t, userID)
			c := ts.client(t)
			resp := tc.run(t, c, auth)
			resp.wantError(t, tc.status, tc.code)
			if resp.setCookie("better-auth.session_token") != "" {
				t.Fatal("refused sign-in set a session cookie")
			}
			if n := ts.userSessions(t, userID); n > before {
				t.Fatalf("sessions %d -> %d", before, n)
			}
		})
	}

	// Without PASSKEY_ORIGIN the request must name its origin; upstream's own message.
	auth := newSoftAuthenticator(t)
	userWithPasskey(t, ts, "no-origin@example.com", auth)
	c := ts.client(t)
	opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
	resp := c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: ts.URL})}, "Origin", "", "Referer", ts.URL+"/login")
	if resp.Status != http.StatusBadRequest || string(resp.Body) != `{"message":"origin missing"}` {
		t.Fatalf("no Origin: %d %s", resp.Status, resp.Body)
	}
}

// TestPasskeyUserVerificationRequired ensures PASSKEY_USER_VERIFICATION=required asks for it in
// both ceremonies and refuses credentials used without it.
func TestPasskeyUserVerificationRequired(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t, func(c *config) { c.Passkey.UserVerification = protocol.VerificationRequired })
	c := ts.client(t)
	c.signUp("uv@example.com", "password123", "UV")
	opts := c.get(passkeyRegisterOptions).wantStatus(t, http.StatusOK).object(t)
	if uv := opts["authenticatorSelection"].(map[string]any)["userVerification"]; uv != "required" {
		t.Fatalf("register options userVerification = %v", uv)
	}
	noUV := newSoftAuthenticator(t)
	noUV.flags = 0
	registerPasskey(t, c, noUV, ceremony{}, nil).wantError(t, http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")

	auth := newSoftAuthenticator(t)
	registerPasskey(t, c, auth, ceremony{}, nil).wantStatus(t, http.StatusOK)
	browser := ts.client(t)
	if uv := browser.get(passkeyAuthenticateOptions).object(t)["userVerification"]; uv != "required" {
		t.Fatalf("authenticate options userVerification = %v", uv)
	}
	auth.flags = 0
	signInWithPasskey(t, browser, auth, ceremony{}).wantError(t, http.StatusBadRequest, "AUTHENTICATION_FAILED")
	auth.flags = flagUV
	signInWithPasskey(t, browser, auth, ceremony{}).wantStatus(t, http.StatusOK)
}

// TestPasskeyChallengeIsSingleUseUnderRace ensures 50 simultaneous sign-ins with one challenge
// and one valid assertion yield exactly one session; the rest find the challenge spent.
func TestPasskeyChallengeIsSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	auth := newSoftAuthenticator(t)
	userID := userWithPasskey(t, ts, "race@example.com", auth)
	before := ts.userSessions(t, userID)
	c := ts.client(t)
	opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
	body := map[string]any{"response": auth.assert(t, opts, ceremony{origin: ts.URL})}

	const n = 50
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		browser := ts.client(t)
		browser.cookies[passkeyCookie] = c.cookies[passkeyCookie]
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := browser.post(passkeyVerifyAuthentication, body)
			statuses[i] = resp.Status
			var e struct{ Code string }
			json.Unmarshal(resp.Body, &e)
			codes[i] = e.Code
		}()
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case statuses[i] == http.StatusOK:
			ok++
		case statuses[i] != http.StatusBadRequest || codes[i] != "CHALLENGE_NOT_FOUND":
			t.Errorf("request %d: %d %s", i, statuses[i], codes[i])
		}
	}
	recordRace(t, "passkey challenge", n, ok, map[int]int{http.StatusOK: ok, http.StatusBadRequest: n - ok})
	if ok != 1 {
		t.Fatalf("%d sign-ins succeeded, want 1", ok)
	}
	if got := ts.userSessions(t, userID); got != before+1 {
		t.Fatalf("sessions %d -> %d, want one more", before, got)
	}
}

// TestPasskeyCreateSessionOnRegistration ensures createSession:true answers the passkey with a
// new session and user and sets the session cookie, as upstream does.
func TestPasskeyCreateSessionOnRegistration(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	c := ts.client(t)
	u := c.signUp("create@example.com", "password123", "Create")
	oldToken := c.cookies["better-auth.session_token"]
	resp := registerPasskey(t, c, newSoftAuthenticator(t), ceremony{}, map[string]any{"createSession": true}).wantStatus(t, http.StatusOK)
	var body struct {
		passkey
		Session session `json:"session"`
		User    user    `json:"user"`
	}
	resp.decode(t, &body)
	if body.passkey.ID == "" || body.User.ID != u["id"] || body.Session.UserID != u["id"] || body.Session.Token == "" {
		t.Fatalf("reply = %s", resp.Body)
	}
	if resp.setCookie("better-auth.session_token") == "" || c.cookies["better-auth.session_token"] == oldToken {
		t.Fatal("no new session cookie")
	}
	if got := ts.userSessions(t, u["id"].(string)); got != 2 {
		t.Fatalf("%d sessions, want 2", got)
	}
}

// TestPasskeyManagement ensures a user lists, renames and deletes only their own passkeys, and
// that another user's attempts are refused with upstream's errors and change nothing.
func TestPasskeyManagement(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	owner := ts.client(t)
	owner.signUp("owner@example.com", "password123", "Owner")
	var row passkey
	registerPasskey(t, owner, newSoftAuthenticator(t), ceremony{}, nil).wantStatus(t, http.StatusOK).decode(t, &row)
	other := ts.client(t)
	other.signUp("other@example.com", "password123", "Other")
	registerPasskey(t, other, newSoftAuthenticator(t), ceremony{}, nil).wantStatus(t, http.StatusOK)

	var list []passkey
	other.get("/api/auth/passkey/list-user-passkeys").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list) != 1 || list[0].ID == row.ID {
		t.Fatalf("other's list = %+v", list)
	}

	// Another user's passkey: upstream's requireResourceOwnership answers 401, empty for delete.
	other.post("/api/auth/passkey/update-passkey", map[string]any{"id": row.ID, "name": "Mine now"}).
		wantError(t, http.StatusUnauthorized, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY")
	resp := other.post("/api/auth/passkey/delete-passkey", map[string]any{"id": row.ID})
	if resp.Status != http.StatusUnauthorized || len(resp.Body) != 0 {
		t.Fatalf("delete another's: %d %q", resp.Status, resp.Body)
	}
	other.post("/api/auth/passkey/delete-passkey", map[string]any{"id": "nope"}).wantError(t, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	other.post("/api/auth/passkey/update-passkey", map[string]any{"id": "nope", "name": "x"}).wantError(t, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	other.post("/api/auth/passkey/update-passkey", map[string]any{"id": row.ID, "name": "   "}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	other.post("/api/auth/passkey/delete-passkey", map[string]any{}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	if resp := other.post("/api/auth/passkey/delete-passkey", map[string]any{"id": ""}); resp.Status != 400 || string(resp.Body) != `{"message":"Missing required parameter: id"}` {
		t.Fatalf("empty id: %d %s", resp.Status, resp.Body)
	}
	signedOut := ts.client(t)
	signedOut.get("/api/auth/passkey/list-user-passkeys").wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	signedOut.post("/api/auth/passkey/delete-passkey", map[string]any{"id": row.ID}).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")

	owner.get("/api/auth/passkey/list-user-passkeys").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list) != 1 || list[0].ID != row.ID || list[0].Name != nil {
		t.Fatalf("owner's list after the attempts = %+v", list)
	}
	var updated struct{ Passkey passkey }
	owner.post("/api/auth/passkey/update-passkey", map[string]any{"id": row.ID, "name": "  Phone "}).wantStatus(t, http.StatusOK).decode(t, &updated)
	if updated.Passkey.ID != row.ID || updated.Passkey.Name == nil || *updated.Passkey.Name != "Phone" {
		t.Fatalf("updated = %+v", updated)
	}
	if got := string(owner.post("/api/auth/passkey/delete-passkey", map[string]any{"id": row.ID}).wantStatus(t, http.StatusOK).Body); got != `{"status":true}` {
		t.Fatalf("delete = %s", got)
	}
	if got := string(owner.get("/api/auth/passkey/list-user-passkeys").wantStatus(t, http.StatusOK).Body); got != "[]" {
		t.Fatalf("list after delete = %s", got)
	}
}

// TestPasskeyUntrustedOriginRefused ensures that without PASSKEY_ORIGIN a ceremony run from an
// origin that is not trusted is refused, even when its client data agrees with its Origin header.
func TestPasskeyUntrustedOriginRefused(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	auth := newSoftAuthenticator(t)
	userWithPasskey(t, ts, "untrusted@example.com", auth)
	c := ts.client(t)
	opts := c.get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
	const evil = "https://login.localhost.evil.example"
	c.post(passkeyVerifyAuthentication, map[string]any{"response": auth.assert(t, opts, ceremony{origin: evil})}, "Origin", evil).
		wantError(t, http.StatusForbidden, "INVALID_ORIGIN")
}

// TestPasskeyConfiguredOrigins ensures PASSKEY_ORIGIN replaces the Origin header as the expected
// origin: client data from a listed origin passes whatever the header says, any other fails.
func TestPasskeyConfiguredOrigins(t *testing.T) {
	t.Parallel()
	const appOrigin = "http://localhost:3000"
	ts := newPasskeyServer(t, func(c *config) { c.Passkey.Origins = []string{appOrigin, "https://app.example.com"} })
	c := ts.client(t)
	c.signUp("configured@example.com", "password123", "Configured")
	auth := newSoftAuthenticator(t)
	registerPasskey(t, c, auth, ceremony{origin: ts.URL}, nil).wantError(t, http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
	registerPasskey(t, c, auth, ceremony{origin: appOrigin}, nil).wantStatus(t, http.StatusOK)
	signInWithPasskey(t, ts.client(t), auth, ceremony{origin: ts.URL}).wantError(t, http.StatusBadRequest, "AUTHENTICATION_FAILED")
	signInWithPasskey(t, ts.client(t), auth, ceremony{origin: "https://app.example.com"}).wantStatus(t, http.StatusOK)
}

// TestPasskeyConfig ensures the relying party settings default from BETTER_AUTH_URL as upstream's
// do, and that settings no browser could use stop the server at start.
func TestPasskeyConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		want passkeyConfig
		err  string
	}{
		{"defaults from BETTER_AUTH_URL", map[string]string{"BETTER_AUTH_URL": "https://App.Example.com/base"},
			passkeyConfig{RPID: "app.example.com", RPName: "Better Auth", UserVerification: "preferred"}, ""},
		{"no base URL", map[string]string{},
			passkeyConfig{RPID: "localhost", RPName: "Better Auth", UserVerification: "preferred"}, ""},
		{"IP base URL falls back to localhost", map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:3000"},
			passkeyConfig{RPID: "localhost", RPName: "Better Auth", UserVerification: "preferred"}, ""},
		{"everything set", map[string]string{"BETTER_AUTH_URL": "https://app.example.com", "PASSKEY_RP_ID": "example.com", "PASSKEY_RP_NAME": "Example",
			"PASSKEY_ORIGIN": "https://app.example.com, https://www.example.com", "PASSKEY_USER_VERIFICATION": "required"},
			passkeyConfig{RPID: "example.com", RPName: "Example", Origins: []string{"https://app.example.com", "https://www.example.com"}, UserVerification: "required"}, ""},
		{"origin with a path", map[string]string{"PASSKEY_ORIGIN": "https://app.example.com/login"}, passkeyConfig{}, "PASSKEY_ORIGIN"},
		{"origin without scheme", map[string]string{"PASSKEY_ORIGIN": "app.example.com"}, passkeyConfig{}, "PASSKEY_ORIGIN"},
		{"IP RP ID", map[string]string{"PASSKEY_RP_ID": "10.0.0.1"}, passkeyConfig{}, "PASSKEY_RP_ID"},
		{"unknown user verification", map[string]string{"PASSKEY_USER_VERIFICATION": "always"}, passkeyConfig{}, "PASSKEY_USER_VERIFICATION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["BETTER_AUTH_SECRET"] = testSecret
			cfg, err := loadConfig(nil, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one about %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := must(json.Marshal(cfg.Passkey)), must(json.Marshal(tc.want)); string(got) != string(want) {
				t.Fatalf("config = %s, want %s", got, want)
			}
		})
	}
}

// TestPasskeyClonedCounterRaceSignsInOnce ensures that sign-ins racing on separate challenges
// with one sign counter value (copies of one key) yield one session: the counter moves in one
// guarded statement, so the losers are refused even after their signature checked out.
func TestPasskeyClonedCounterRaceSignsInOnce(t *testing.T) {
	t.Parallel()
	ts := newPasskeyServer(t)
	auth := newSoftAuthenticator(t)
	userID := userWithPasskey(t, ts, "clone-race@example.com", auth)
	before := ts.userSessions(t, userID)
	const n = 20
	browsers := make([]*testClient, n)
	bodies := make([]map[string]any, n)
	seven := uint32(7)
	for i := range n {
		browsers[i] = ts.client(t)
		opts := browsers[i].get(passkeyAuthenticateOptions).wantStatus(t, http.StatusOK).object(t)
		bodies[i] = map[string]any{"response": auth.assert(t, opts, ceremony{origin: ts.URL, counter: &seven})}
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = browsers[i].post(passkeyVerifyAuthentication, bodies[i]).Status
		}()
	}
	wg.Wait()
	ok := 0
	for i, status := range statuses {
		switch status {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("request %d: %d", i, status)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ins succeeded, want 1", ok)
	}
	if got := ts.userSessions(t, userID); got != before+1 {
		t.Fatalf("sessions %d -> %d, want one more", before, got)
	}
}

// FuzzPasskeyResponses ensures arbitrary registration and sign-in responses never panic the
// WebAuthn checks, that a refused one yields nothing, and that a sign-in passes only with the
// authenticator data and client data the authenticator signed. The fuzzer varies the decoded
// parts (client data JSON, CBOR attestation object, authenticator data, signature) directly.
func FuzzPasskeyResponses(f *testing.F) {
	s := fuzzServer()
	s.cfg.Passkey = passkeyConfig{RPID: "app.example.com", RPName: "Fuzz", UserVerification: protocol.VerificationPreferred}
	origins := []string{"https://app.example.com"}
	challenge := b64url(bytes.Repeat([]byte{1}, 32))
	auth := newSoftAuthenticator(f)
	reg := auth.register(f, map[string]any{"challenge": challenge, "rp": map[string]any{"id": "app.example.com"}, "user": map[string]any{"id": b64url([]byte("handle"))}}, ceremony{origin: origins[0]})
	assertion := auth.assert(f, map[string]any{"challenge": challenge, "rpId": "app.example.com"}, ceremony{origin: origins[0]})
	pk := &passkey{CredentialID: auth.id(), PublicKey: base64.StdEncoding.EncodeToString(auth.cosePublicKey()), DeviceType: "singleDevice", Counter: 1}
	decoded := func(m map[string]any, key string) []byte {
		return must(base64.RawURLEncoding.DecodeString(m["response"].(map[string]any)[key].(string)))
	}
	signedClientData, signedAuthData := decoded(assertion, "clientDataJSON"), decoded(assertion, "authenticatorData")
	f.Add(decoded(reg, "clientDataJSON"), decoded(reg, "attestationObject"), signedAuthData, decoded(assertion, "signature"))
	f.Add(signedClientData, []byte{0xa0}, signedAuthData, []byte{0x30, 0})
	f.Fuzz(func(t *testing.T, clientData, attestationObject, authData, signature []byte) {
		response := func(fields map[string]any) []byte {
			return must(json.Marshal(map[string]any{"id": auth.id(), "rawId": auth.id(), "type": "public-key", "response": fields}))
		}
		cred, err := s.verifyRegistration(t.Context(), origins, challenge, response(map[string]any{"clientDataJSON": b64url(clientData), "attestationObject": b64url(attestationObject)}))
		if (err == nil) != (cred != nil) || err == nil && (len(cred.ID) == 0 || len(cred.PublicKey) == 0) {
			t.Fatalf("registration: err %v, credential %+v", err, cred)
		}
		counter, err := s.verifyAssertion(t.Context(), origins, challenge, pk, response(map[string]any{"clientDataJSON": b64url(clientData), "authenticatorData": b64url(authData), "signature": b64url(signature)}))
		if err != nil {
			if counter != 0 {
				t.Fatalf("refused assertion returned counter %d", counter)
			}
			return
		}
		if !bytes.Equal(clientData, signedClientData) || !bytes.Equal(authData, signedAuthData) || counter <= 1 {
			t.Fatalf("accepted an assertion the authenticator did not sign: client data %q, authenticator data %x", clientData, authData)
		}
	})
}
