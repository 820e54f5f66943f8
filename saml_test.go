package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"
)

// samlEnv is the sidecar, an in-process IdP whose user is ada@acme.com, and an owner who
// registers SAML providers.
type samlEnv struct {
	*testServer
	idp   *testIdP
	owner *testClient
}

func newSAMLEnv(t *testing.T, opts ...func(*config)) *samlEnv {
	t.Helper()
	keys := testSAMLKeys(t)
	ts := newTestServer(t, opts...)
	e := &samlEnv{testServer: ts, idp: newTestIdP(t, keys[0], "ada@acme.com")}
	e.idp.spMetadata = e.fetchSPMetadata
	e.owner = ts.client(t)
	e.owner.signUp("owner@example.com", ssoPassword, "Owner")
	return e
}

// spIssuer is the issuer (and so the SP entity id) of the provider registered as id.
func spIssuer(id string) string { return "https://app.example.com/saml/" + id }

// fetchSPMetadata is how the IdP learns about the sidecar: its metadata route.
func (e *samlEnv) fetchSPMetadata(_ *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	id := strings.TrimPrefix(entityID, spIssuer(""))
	resp, err := http.Get(e.URL + "/api/auth/sso/saml2/sp/metadata?providerId=" + url.QueryEscape(id))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(body, &ed); err != nil {
		return nil, err
	}
	return &ed, nil
}

// samlProviderBody registers the IdP manually (entry point, certificate, entity id) as id.
func (e *samlEnv) samlProviderBody(id string, saml map[string]any, extra map[string]any) map[string]any {
	cfg := map[string]any{"entryPoint": e.idp.URL + "/sso", "cert": e.idp.keys.certPEM, "idpMetadata": map[string]any{"entityID": e.idp.EntityID}}
	for k, v := range saml {
		cfg[k] = v
	}
	b := map[string]any{"providerId": id, "issuer": spIssuer(id), "domain": "acme.com", "samlConfig": cfg}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (e *samlEnv) registerSAML(t *testing.T, id string, saml map[string]any, extra map[string]any) map[string]any {
	t.Helper()
	return e.owner.post("/api/auth/sso/register", e.samlProviderBody(id, saml, extra)).wantStatus(t, http.StatusOK).object(t)
}

// startSAML posts sign-in/sso for the provider and returns the IdP's form for it.
func (e *samlEnv) startSAML(t *testing.T, c *testClient, id string) samlPost {
	t.Helper()
	return e.idp.visit(t, c.startSSO(t, map[string]any{"providerId": id, "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}))
}

func acsPath(id string) string { return "/api/auth/sso/saml2/sp/acs/" + id }

// wantSAMLError fails unless the ACS sent the browser to the error URL with this error and made
// no session.
func (r *testResponse) wantSAMLError(t *testing.T, code string) {
	t.Helper()
	r.wantStatus(t, http.StatusFound)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Query().Get("error") != code {
		t.Fatalf("Location = %q, want error=%s", r.Header.Get("Location"), code)
	}
	if r.setCookie("better-auth.session_token") != "" {
		t.Fatal("a refused response made a session")
	}
}

// TestSAMLSignInCreatesTheUserAndJoinsTheProvidersOrganization runs the whole browser flow:
// sign-in/sso answers the IdP's URL with a stored AuthnRequest, the IdP's signed response posted
// cross-site to the ACS signs the user in (to callbackURL: upstream's SAML flow has no
// newUserCallbackURL), creates them with the SAML account and makes them a member of the
// provider's organization; a second sign-in finds the same user.
func TestSAMLSignInCreatesTheUserAndJoinsTheProvidersOrganization(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t, func(c *config) { c.SSO.DefaultRole = "admin" })
	orgID := createOrg(t, e.owner, "acme-inc")
	e.registerSAML(t, "acme", nil, map[string]any{"organizationId": orgID})

	c := e.client(t)
	authURL := c.startSSO(t, map[string]any{"email": "ada@acme.com", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"})
	u, _ := url.Parse(authURL)
	if u.Query().Get("SAMLRequest") == "" || u.Query().Get("RelayState") == "" {
		t.Fatalf("IdP URL %s lacks SAMLRequest or RelayState", authURL)
	}
	if got := e.count(t, `SELECT count(*) FROM verification WHERE identifier LIKE 'saml-authn-request:%'`); got != 1 {
		t.Fatalf("stored AuthnRequests = %d, want 1", got)
	}
	form := e.idp.visit(t, authURL)
	if form.action != e.URL+acsPath("acme") {
		t.Fatalf("IdP posts to %s, want our ACS", form.action)
	}
	c.postToACS(t, acsPath("acme"), form).wantRedirect(t, "/dashboard")
	if got := c.sessionUser(t); got != "ada@acme.com" {
		t.Fatalf("signed in as %q, want ada@acme.com", got)
	}
	var name, role string
	err := e.db.QueryRow(context.Background(), `SELECT u.name, m.role FROM "user" u JOIN member m ON m."userId" = u.id
		WHERE u.email = 'ada@acme.com' AND m."organizationId" = $1`, orgID).Scan(&name, &role)
	if err != nil || name != "Ada Lovelace" || role != "admin" {
		t.Fatalf("user %q with role %q (%v), want Ada Lovelace as admin", name, role, err)
	}
	if got := e.count(t, `SELECT count(*) FROM account WHERE "providerId" = 'acme' AND "accountId" = 'ada@acme.com'`); got != 1 {
		t.Fatalf("acme accounts = %d, want 1", got)
	}
	if got := e.count(t, `SELECT count(*) FROM verification WHERE identifier LIKE 'saml-authn-request:%'`); got != 0 {
		t.Fatalf("stored AuthnRequests after the response = %d, want it used up", got)
	}

	again := e.client(t)
	again.postToACS(t, acsPath("acme"), e.startSAML(t, again, "acme")).wantRedirect(t, "/dashboard")
	if got := e.count(t, `SELECT count(*) FROM "user" WHERE email = 'ada@acme.com'`); got != 1 {
		t.Fatalf("users = %d, want the same user again", got)
	}
	// Back at the ACS by GET (upstream's post-login landing): a signed-in user goes on.
	again.get(acsPath("acme")+"?RelayState=%2Fdashboard").wantRedirect(t, "/dashboard")
	e.client(t).get(acsPath("acme")).wantStatus(t, http.StatusFound)
}

// TestSAMLProviderFromIdPMetadataSignsIn registers the IdP by its metadata XML alone.
func TestSAMLProviderFromIdPMetadataSignsIn(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	body := e.samlProviderBody("meta", map[string]any{"idpMetadata": map[string]any{"metadata": e.idp.metadataXML(t)}}, nil)
	delete(body["samlConfig"].(map[string]any), "cert")
	e.owner.post("/api/auth/sso/register", body).wantStatus(t, http.StatusOK)
	c := e.client(t)
	c.postToACS(t, acsPath("meta"), e.startSAML(t, c, "meta")).wantRedirect(t, "/dashboard")
	if got := c.sessionUser(t); got != "ada@acme.com" {
		t.Fatalf("signed in as %q", got)
	}
}

// TestSAMLRegistrationStoresUpstreamsColumns ensures a SAML registration is stored as upstream
// stores it (samlConfig JSON text with the issuer, oidcConfig NULL), answered with the stored
// configuration, and listed as a saml provider with its certificate described, not shown.
func TestSAMLRegistrationStoresUpstreamsColumns(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	out := e.registerSAML(t, "acme", map[string]any{"audience": "urn:acme", "wantAssertionsSigned": true}, nil)
	cfg, _ := out["samlConfig"].(map[string]any)
	if cfg["issuer"] != spIssuer("acme") || cfg["entryPoint"] != e.idp.URL+"/sso" || out["oidcConfig"] != nil {
		t.Fatalf("register answered %v", out)
	}
	var stored string
	var oidc *string
	if err := e.db.QueryRow(context.Background(), `SELECT "samlConfig", "oidcConfig" FROM "ssoProvider" WHERE "providerId" = 'acme'`).Scan(&stored, &oidc); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stored), &m); err != nil || m["audience"] != "urn:acme" || m["cert"] != e.idp.keys.certPEM || oidc != nil {
		t.Fatalf("stored samlConfig %s, oidcConfig %v", stored, oidc)
	}
	got := e.owner.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusOK).object(t)
	sc, _ := got["samlConfig"].(map[string]any)
	certs, _ := sc["certificate"].([]any)
	if got["type"] != "saml" || len(certs) != 1 || strings.Contains(string(mustJSON(t, got)), "BEGIN CERTIFICATE") {
		t.Fatalf("get-provider = %v", got)
	}
	if fp, _ := certs[0].(map[string]any)["fingerprintSha256"].(string); len(fp) != 95 {
		t.Fatalf("certificate fingerprint %q", fp)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSAMLRegistrationRefusesUnusableConfigurations covers upstream's checks and ours.
func TestSAMLRegistrationRefusesUnusableConfigurations(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	tests := []struct {
		name   string
		change func(cfg map[string]any)
		status int
		code   string
	}{
		{"no entry point", func(c map[string]any) { delete(c, "entryPoint") }, 400, "VALIDATION_ERROR"},
		{"entry point not a URL", func(c map[string]any) { c["entryPoint"] = "idp" }, 400, "VALIDATION_ERROR"},
		{"no idp entity id", func(c map[string]any) { c["idpMetadata"] = map[string]any{} }, 400, "VALIDATION_ERROR"},
		{"no certificate source", func(c map[string]any) { delete(c, "cert") }, 400, "CERT_SOURCE_MISSING"},
		{"unknown signature algorithm", func(c map[string]any) { c["signatureAlgorithm"] = "md5" }, 400, "SAML_UNKNOWN_ALGORITHM"},
		{"unreadable certificate", func(c map[string]any) { c["cert"] = "not a certificate" }, 400, "SAML_INVALID_CERTIFICATE"},
		{"unreadable idp metadata", func(c map[string]any) {
			c["idpMetadata"] = map[string]any{"metadata": "<x/>"}
		}, 400, "SAML_INVALID_IDP_METADATA"},
		{"idp metadata with a DTD", func(c map[string]any) {
			c["idpMetadata"] = map[string]any{"metadata": `<!DOCTYPE x [<!ENTITY a "aaaa">]><EntityDescriptor entityID="&a;"/>`}
		}, 400, "SAML_INVALID_IDP_METADATA"},
		{"idp metadata too large", func(c map[string]any) {
			c["idpMetadata"] = map[string]any{"metadata": strings.Repeat("x", samlMaxMetadataBytes+1)}
		}, 400, ""},
		{"unreadable sp key", func(c map[string]any) { c["privateKey"] = "-----BEGIN KEY-----" }, 400, "SAML_INVALID_PRIVATE_KEY"},
		{"sp metadata not requiring signed assertions", func(c map[string]any) {
			c["wantAssertionsSigned"] = true
			c["spMetadata"] = map[string]any{"metadata": `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://x/acs" index="1"/></SPSSODescriptor></EntityDescriptor>`}
		}, 400, "SAML_SP_METADATA_ASSERTION_SIGNATURE_MISMATCH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := e.samlProviderBody("bad", nil, nil)
			tc.change(body["samlConfig"].(map[string]any))
			e.owner.post("/api/auth/sso/register", body).wantError(t, tc.status, tc.code)
		})
	}
	if got := e.count(t, `SELECT count(*) FROM "ssoProvider"`); got != 0 {
		t.Fatalf("providers stored = %d, want none", got)
	}
}

// TestSAMLUpdateProviderMergesSAMLConfig ensures update-provider merges samlConfig into the
// stored one, and that the audience, which decides whose accounts the provider signs in, is fixed
// once accounts exist.
func TestSAMLUpdateProviderMergesSAMLConfig(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	e.registerSAML(t, "acme", nil, nil)
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "samlConfig": map[string]any{
		"identifierFormat": string(saml.EmailAddressNameIDFormat), "idpMetadata": map[string]any{"singleLogoutService": []any{
			map[string]any{"Binding": saml.HTTPRedirectBinding, "Location": e.idp.URL + "/slo"}}}}}).wantStatus(t, http.StatusOK)
	var stored string
	_ = e.db.QueryRow(context.Background(), `SELECT "samlConfig" FROM "ssoProvider"`).Scan(&stored)
	var m struct {
		IdentifierFormat string          `json:"identifierFormat"`
		Cert             string          `json:"cert"`
		IDPMetadata      samlIDPMetadata `json:"idpMetadata"`
	}
	if err := json.Unmarshal([]byte(stored), &m); err != nil || m.IdentifierFormat == "" || m.Cert == "" ||
		deref(m.IDPMetadata.EntityID) != e.idp.EntityID || len(m.IDPMetadata.SingleLogoutService) != 1 {
		t.Fatalf("merged samlConfig %s", stored)
	}
	c := e.client(t)
	c.postToACS(t, acsPath("acme"), e.startSAML(t, c, "acme")).wantRedirect(t, "/dashboard")
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "samlConfig": map[string]any{"audience": "urn:other"}}).
		wantError(t, http.StatusConflict, "")
}

// TestSAMLMetadataDescribesTheServiceProvider ensures the SP metadata names the provider's entity
// id and our ACS, and is refused for an unknown provider.
func TestSAMLMetadataDescribesTheServiceProvider(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	e.registerSAML(t, "acme", map[string]any{"wantAssertionsSigned": true}, nil)
	resp := e.client(t).get("/api/auth/sso/saml2/sp/metadata?providerId=acme").wantStatus(t, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(resp.Body, &ed); err != nil || len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("metadata %s: %v", resp.Body, err)
	}
	sp := ed.SPSSODescriptors[0]
	if ed.EntityID != spIssuer("acme") || sp.AssertionConsumerServices[0].Location != e.URL+acsPath("acme") ||
		sp.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding || !*sp.WantAssertionsSigned || len(sp.SingleLogoutServices) != 0 {
		t.Fatalf("metadata %s", resp.Body)
	}
	e.client(t).get("/api/auth/sso/saml2/sp/metadata?providerId=nope").wantError(t, http.StatusNotFound, "")
}

// TestSAMLMetadataDocumentCannotRunScript: the SP metadata document anyone signed in may register
// is served as given, on the auth server's origin and to anyone, so it is served as the error
// page is: under a CSP that runs no script (an XHTML script element in it would otherwise run
// with the visitor's cookies) and without MIME sniffing.
func TestSAMLMetadataDocumentCannotRunScript(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	metadata := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://x/acs" index="1"/></SPSSODescriptor>` +
		`<script xmlns="http://www.w3.org/1999/xhtml">fetch("/api/auth/list-sessions")</script></EntityDescriptor>`
	e.registerSAML(t, "acme", map[string]any{"spMetadata": map[string]any{"metadata": metadata}}, nil)
	resp := e.client(t).get("/api/auth/sso/saml2/sp/metadata?providerId=acme").wantStatus(t, http.StatusOK)
	if string(resp.Body) != metadata {
		t.Fatalf("metadata %s, want the registered document", resp.Body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("metadata served with headers %v", resp.Header)
	}
}
