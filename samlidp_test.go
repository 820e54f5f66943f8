package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// An in-process SAML identity provider (crewjam/saml's IdentityProvider) that issues real signed,
// optionally encrypted, assertions, driven over HTTP as a browser would: the sidecar's redirect to
// its SSO URL, its auto-submitting form posted back to the ACS.

// samlKeyPair is an RSA key and a self-signed certificate for it.
type samlKeyPair struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM string
	keyPEM  string
}

var (
	samlKeysOnce sync.Once
	samlKeys     [3]samlKeyPair // the IdP's, an impostor's, a service provider's
)

// testSAMLKeys generates the keys once per test binary: RSA key generation is slow under -race.
func testSAMLKeys(t testing.TB) [3]samlKeyPair {
	t.Helper()
	samlKeysOnce.Do(func() {
		for i := range samlKeys {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "saml test"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
				KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				panic(err)
			}
			cert, _ := x509.ParseCertificate(der)
			samlKeys[i] = samlKeyPair{key: key, cert: cert,
				certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
				keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
		}
	})
	return samlKeys
}

// testIdP is the identity provider and the user signed in at it.
type testIdP struct {
	*saml.IdentityProvider
	URL      string
	EntityID string
	keys     samlKeyPair
	mu       sync.Mutex
	session  saml.Session
	// spMetadata returns the metadata of the service provider asking (the sidecar's, fetched).
	spMetadata func(r *http.Request, id string) (*saml.EntityDescriptor, error)
	// tamper changes each assertion before it is signed.
	tamper func(req *saml.IdpAuthnRequest)
}

// newTestIdP starts an identity provider signing with keys, whose user is email.
func newTestIdP(t testing.TB, keys samlKeyPair, email string) *testIdP {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	idp := &testIdP{URL: srv.URL, EntityID: srv.URL + "/metadata", keys: keys}
	idp.setUser(email, "Ada", "Lovelace")
	meta, _ := url.Parse(srv.URL + "/metadata")
	sso, _ := url.Parse(srv.URL + "/sso")
	idp.IdentityProvider = &saml.IdentityProvider{
		Key: keys.key, Certificate: keys.cert, MetadataURL: *meta, SSOURL: *sso,
		ServiceProviderProvider: idp, SessionProvider: idp, AssertionMaker: idp,
		Logger: log.New(io.Discard, "", 0), // its errors reach the test as the IdP's 400
	}
	srv.Config.Handler = idp.Handler()
	return idp
}

func (idp *testIdP) setUser(email, given, family string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.session = saml.Session{ID: "s-" + email, NameID: email, NameIDFormat: string(saml.EmailAddressNameIDFormat),
		CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "idx-" + email,
		UserEmail: email, UserGivenName: given, UserSurname: family,
		CustomAttributes: []saml.Attribute{
			{Name: "email", Values: []saml.AttributeValue{{Type: "xs:string", Value: email}}},
			{Name: "givenName", Values: []saml.AttributeValue{{Type: "xs:string", Value: given}}},
			{Name: "surname", Values: []saml.AttributeValue{{Type: "xs:string", Value: family}}},
		}}
}

func (idp *testIdP) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	s := idp.session
	return &s
}

func (idp *testIdP) GetServiceProvider(r *http.Request, id string) (*saml.EntityDescriptor, error) {
	return idp.spMetadata(r, id)
}

func (idp *testIdP) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	idp.mu.Lock()
	tamper := idp.tamper
	idp.mu.Unlock()
	if tamper != nil {
		tamper(req)
	}
	return nil
}

// certBody is the certificate as IdP admin consoles show it: base64 DER without PEM armor.
func (k samlKeyPair) certBody() string { return base64.StdEncoding.EncodeToString(k.cert.Raw) }

// metadataXML is the IdP's metadata document.
func (idp *testIdP) metadataXML(t testing.TB) string {
	t.Helper()
	b, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samlPost is what the IdP's auto-submitting form would post to the ACS.
type samlPost struct {
	action, response, relayState string
}

var formInput = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
var formAction = regexp.MustCompile(`action="([^"]*)"`)

// readSAMLForm reads the IdP's HTML form.
func readSAMLForm(t testing.TB, page string) samlPost {
	t.Helper()
	var p samlPost
	if m := formAction.FindStringSubmatch(page); m != nil {
		p.action = html.UnescapeString(m[1])
	}
	for _, m := range formInput.FindAllStringSubmatch(page, -1) {
		v := html.UnescapeString(m[2])
		if m[1] == "SAMLResponse" {
			p.response = v
		} else {
			p.relayState = v
		}
	}
	if p.response == "" {
		t.Fatalf("no SAMLResponse in the IdP's page: %.500s", page)
	}
	return p
}

// visit follows the sidecar's redirect to the IdP as a browser and returns the IdP's form.
func (idp *testIdP) visit(t testing.TB, authURL string) samlPost {
	t.Helper()
	if !strings.HasPrefix(authURL, idp.URL+"/sso?") {
		t.Fatalf("sign-in went to %s, want the IdP's SSO URL", authURL)
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP answered %d: %s", resp.StatusCode, page)
	}
	return readSAMLForm(t, string(page))
}

// initiate makes an IdP-initiated response for the service provider spEntityID.
func (idp *testIdP) initiate(t testing.TB, spEntityID string) samlPost {
	t.Helper()
	rec := httptest.NewRecorder()
	idp.ServeIDPInitiated(rec, httptest.NewRequest(http.MethodGet, idp.URL+"/login", nil), spEntityID, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("IdP-initiated login answered %d: %s", rec.Code, rec.Body)
	}
	return readSAMLForm(t, rec.Body.String())
}

// postToACS posts the form cross-site, as the browser does: from the IdP's origin, with none of
// the sidecar's SameSite=Lax cookies.
func (c *testClient) postToACS(t testing.TB, path string, p samlPost) *testResponse {
	t.Helper()
	form := url.Values{"SAMLResponse": {p.response}}
	if p.relayState != "" {
		form.Set("RelayState", p.relayState)
	}
	saved := c.cookies
	c.cookies = map[string]string{}
	defer func() {
		for k, v := range c.cookies {
			saved[k] = v
		}
		c.cookies = saved
	}()
	return c.do(http.MethodPost, path, form.Encode(), "Origin", "https://idp.example", "Sec-Fetch-Site", "cross-site",
		"Content-Type", "application/x-www-form-urlencoded")
}
