package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// The classic SAML attacks, each made from a real response of the in-process IdP and refused at
// the ACS without a session: the browser lands on the error URL with upstream's error code.

const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// rewriteResponse decodes a posted response, lets edit change its XML and encodes it again.
func rewriteResponse(t *testing.T, p samlPost, edit func(doc *etree.Document)) samlPost {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(p.response)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	p.response = base64.StdEncoding.EncodeToString(out)
	return p
}

// removeSignature drops el's own ds:Signature child.
func removeSignature(el *etree.Element) {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == nsDSig {
			el.RemoveChild(c)
		}
	}
}

func assertionOf(doc *etree.Document) *etree.Element {
	for _, c := range doc.Root().ChildElements() {
		if c.Tag == "Assertion" {
			return c
		}
	}
	return nil
}

// impersonate makes a copy of the signed assertion that names mallory, unsigned.
func impersonate(signed *etree.Element) *etree.Element {
	evil := signed.Copy()
	removeSignature(evil)
	for _, el := range evil.FindElements(".//NameID") {
		el.SetText("mallory@acme.com")
	}
	for _, el := range evil.FindElements(".//AttributeValue") {
		if strings.Contains(el.Text(), "@") {
			el.SetText("mallory@acme.com")
		}
	}
	return evil
}

// TestSAMLRefusesForgedSignatures covers responses without a valid IdP signature: none at all, a
// key the provider does not trust, and the XML signature wrapping variants where the signed
// element is not the one that would be used.
func TestSAMLRefusesForgedSignatures(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	e.registerSAML(t, "acme", nil, nil)
	tests := []struct {
		name, code string // upstream's error for it
		edit       func(doc *etree.Document)
	}{
		{"unsigned response and assertion", "saml_error", func(doc *etree.Document) {
			removeSignature(doc.Root())
			removeSignature(assertionOf(doc))
		}},
		{"name changed after signing", "saml_error", func(doc *etree.Document) {
			removeSignature(doc.Root())
			assertionOf(doc).FindElement(".//NameID").SetText("mallory@acme.com")
		}},
		{"signature wrapping: forged assertion before the signed one", "saml_multiple_assertions", func(doc *etree.Document) {
			removeSignature(doc.Root())
			signed := assertionOf(doc)
			doc.Root().InsertChildAt(signed.Index(), impersonate(signed))
		}},
		{"signature wrapping: signed assertion hidden inside the forged one", "saml_multiple_assertions", func(doc *etree.Document) {
			removeSignature(doc.Root())
			signed := assertionOf(doc)
			evil := impersonate(signed)
			evil.CreateAttr("ID", "_evil")
			evil.FindElement(".//Subject").AddChild(signed.Copy())
			doc.Root().RemoveChild(signed)
			doc.Root().AddChild(evil)
		}},
		{"signature wrapping: forged assertion carrying the signed one's signature", "saml_error", func(doc *etree.Document) {
			removeSignature(doc.Root())
			signed := assertionOf(doc)
			evil := impersonate(signed)
			evil.InsertChildAt(1, signed.FindElement("./Signature").Copy())
			doc.Root().RemoveChild(signed)
			doc.Root().AddChild(evil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t)
			c.postToACS(t, acsPath("acme"), rewriteResponse(t, e.startSAML(t, c, "acme"), tc.edit)).wantSAMLError(t, tc.code)
		})
	}
	t.Run("signed by an untrusted key", func(t *testing.T) {
		keys := testSAMLKeys(t)
		impostor := newTestIdP(t, keys[1], "mallory@acme.com")
		impostor.spMetadata, impostor.MetadataURL, impostor.SSOURL = e.fetchSPMetadata, e.idp.MetadataURL, e.idp.SSOURL
		c := e.client(t)
		authURL := strings.Replace(c.startSSO(t, map[string]any{"providerId": "acme", "callbackURL": "/dashboard"}), e.idp.URL, impostor.URL, 1)
		c.postToACS(t, acsPath("acme"), impostor.visit(t, authURL)).wantSAMLError(t, "saml_error")
	})
	if got := e.count(t, `SELECT count(*) FROM "user" WHERE email <> 'owner@example.com'`); got != 0 {
		t.Fatalf("users created by forged responses = %d", got)
	}
}

// TestSAMLRefusesAssertionsNotForUs covers signed assertions that are valid but not for this
// service provider, not now, or not from this IdP.
func TestSAMLRefusesAssertionsNotForUs(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	e.registerSAML(t, "acme", nil, nil)
	past, future := time.Now().Add(-10*time.Minute), time.Now().Add(10*time.Minute)
	tests := []struct {
		name   string
		tamper func(req *saml.IdpAuthnRequest)
		code   string
	}{
		{"wrong audience", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Conditions.AudienceRestrictions[0].Audience.Value = "https://other-sp.example.com"
		}, "invalid_saml_response"},
		{"wrong recipient", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://other-sp.example.com/acs"
		}, "invalid_saml_response"},
		{"wrong destination", func(req *saml.IdpAuthnRequest) {
			req.ACSEndpoint = &saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: "https://other-sp.example.com/acs"}
		}, "invalid_saml_response"},
		{"wrong issuer", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Issuer.Value = "https://other-idp.example.com"
		}, "invalid_saml_response"},
		{"expired conditions", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Conditions.NotBefore, req.Assertion.Conditions.NotOnOrAfter = past.Add(-time.Minute), past
		}, "saml_error"},
		{"conditions not yet valid", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Conditions.NotBefore = future
		}, "saml_error"},
		{"expired subject confirmation", func(req *saml.IdpAuthnRequest) {
			req.Assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past
		}, "saml_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.idp.mu.Lock()
			e.idp.tamper = tc.tamper
			e.idp.mu.Unlock()
			c := e.client(t)
			c.postToACS(t, acsPath("acme"), e.startSAML(t, c, "acme")).wantSAMLError(t, tc.code)
		})
	}
}

// TestSAMLRefusesAReplayedAssertion: an accepted assertion is refused the second time, on another
// replica too (the used ids are in Postgres), and a response to a used-up or unknown request is
// refused.
func TestSAMLRefusesAReplayedAssertion(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t, func(c *config) { c.SSO.SAMLAllowIDPInitiated = true })
	e.registerSAML(t, "acme", nil, nil)
	replica := startTestServer(t, e.db, nil, func(c *config) { c.BaseURL = e.URL; c.SSO.SAMLAllowIDPInitiated = true })

	unsolicited := e.idp.initiate(t, spIssuer("acme"))
	e.client(t).postToACS(t, acsPath("acme"), unsolicited).wantStatus(t, http.StatusFound)
	e.client(t).postToACS(t, acsPath("acme"), unsolicited).wantSAMLError(t, "replay_detected")
	replica.client(t).postToACS(t, acsPath("acme"), unsolicited).wantSAMLError(t, "replay_detected")

	c := e.client(t)
	answer := e.startSAML(t, c, "acme")
	c.postToACS(t, acsPath("acme"), answer).wantRedirect(t, "/dashboard")
	c.postToACS(t, acsPath("acme"), answer).wantSAMLError(t, "invalid_saml_response")

	unknown := e.startSAML(t, c, "acme")
	if _, err := e.db.Exec(t.Context(), `DELETE FROM verification WHERE identifier LIKE 'saml-authn-request:%'`); err != nil {
		t.Fatal(err)
	}
	c.postToACS(t, acsPath("acme"), unknown).wantSAMLError(t, "invalid_saml_response")
}

// TestSAMLRefusesIdPInitiatedUnlessAllowed: an unsolicited response is refused unless
// SSO_SAML_ALLOW_IDP_INITIATED is on, as upstream's allowIdpInitiated.
func TestSAMLRefusesIdPInitiatedUnlessAllowed(t *testing.T) {
	t.Parallel()
	for _, allowed := range []bool{false, true} {
		e := newSAMLEnv(t, func(c *config) { c.SSO.SAMLAllowIDPInitiated = allowed })
		e.registerSAML(t, "acme", map[string]any{"callbackUrl": "/home"}, nil)
		c := e.client(t)
		resp := c.postToACS(t, acsPath("acme"), e.idp.initiate(t, spIssuer("acme")))
		if !allowed {
			resp.wantSAMLError(t, "unsolicited_response")
			continue
		}
		resp.wantRedirect(t, "/home")
		if got := c.sessionUser(t); got != "ada@acme.com" {
			t.Fatalf("signed in as %q", got)
		}
	}
}

// TestSAMLDecryptsAssertionsOnlyWithTheSPKey: an assertion encrypted to the provider's SP key
// signs in; one encrypted to another key cannot be read and is refused.
func TestSAMLDecryptsAssertionsOnlyWithTheSPKey(t *testing.T) {
	t.Parallel()
	keys := testSAMLKeys(t)
	e := newSAMLEnv(t)
	e.registerSAML(t, "enc", map[string]any{"spMetadata": map[string]any{"privateKey": keys[2].keyPEM}}, nil)
	c := e.client(t)
	form := e.startSAML(t, c, "enc")
	raw, _ := base64.StdEncoding.DecodeString(form.response)
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) || bytes.Contains(raw, []byte("ada@acme.com")) {
		t.Fatalf("the IdP did not encrypt the assertion: %.300s", raw)
	}
	c.postToACS(t, acsPath("enc"), form).wantRedirect(t, "/dashboard")

	// Encrypted to the impostor's certificate, as if the IdP were told another SP key.
	e.registerSAML(t, "plain", map[string]any{"spMetadata": map[string]any{"privateKey": keys[0].keyPEM}}, nil)
	e.idp.spMetadata = func(r *http.Request, id string) (*saml.EntityDescriptor, error) {
		ed, err := e.fetchSPMetadata(r, id)
		if err == nil {
			ed.SPSSODescriptors[0].KeyDescriptors = []saml.KeyDescriptor{{Use: "encryption", KeyInfo: saml.KeyInfo{
				X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: keys[1].certBody()}}}}}}
		}
		return ed, err
	}
	other := e.client(t)
	other.postToACS(t, acsPath("plain"), e.startSAML(t, other, "plain")).wantSAMLError(t, "saml_error")
}

// TestSAMLRefusesXMLBombsAndOversizedResponses: a DTD (entity expansion, external entities) is
// refused before any parsing, and a response over upstream's size limit is refused outright.
func TestSAMLRefusesXMLBombsAndOversizedResponses(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	e.registerSAML(t, "acme", nil, nil)
	bomb := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
		`<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>` +
		`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&d;</samlp:Response>`
	xxe := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>`
	for _, doc := range []string{bomb, xxe} {
		e.client(t).postToACS(t, acsPath("acme"), samlPost{response: base64.StdEncoding.EncodeToString([]byte(doc))}).wantSAMLError(t, "saml_invalid_xml")
	}
	e.client(t).postToACS(t, acsPath("acme"), samlPost{response: "not base64 at all!"}).wantSAMLError(t, "saml_invalid_encoding")
	huge := samlPost{response: strings.Repeat("A", samlMaxResponseBytes+4)}
	e.client(t).postToACS(t, acsPath("acme"), huge).wantError(t, http.StatusBadRequest, "")
	body := samlPost{response: strings.Repeat("A", 2<<20)}
	e.client(t).postToACS(t, acsPath("acme"), body).wantStatus(t, http.StatusRequestEntityTooLarge)
	e.client(t).postToACS(t, acsPath("nope"), samlPost{response: "PHg+"}).wantError(t, http.StatusNotFound, "")
}

// resign signs the assertion again with the IdP's own key once edit has changed it: what an IdP
// (or its misconfiguration) produces, so only the assertion's content can get it refused.
func (idp *testIdP) resign(t testing.TB, assertion *etree.Element, edit func(*etree.Element)) *etree.Element {
	t.Helper()
	removeSignature(assertion)
	edit(assertion)
	ctx, err := dsig.NewSigningContext(idp.keys.key, [][]byte{idp.keys.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(assertion)
	if err != nil {
		t.Fatal(err)
	}
	// The schema puts the Signature right after the Issuer (first when there is none);
	// SignEnveloped appended it to Child without adopting it, so it is moved by hand.
	sig := signed.Child[len(signed.Child)-1]
	signed.Child = signed.Child[:len(signed.Child)-1]
	at := 0
	if issuer := signed.SelectElement("Issuer"); issuer != nil {
		at = issuer.Index() + 1
	}
	signed.InsertChildAt(at, sig)
	return signed
}

// resigningEncrypter is the test IdP's assertion encrypter that re-signs the assertion after edit
// before encrypting it as crewjam/saml's default does, to send such assertions encrypted.
type resigningEncrypter struct {
	t    testing.TB
	idp  *testIdP
	edit func(*etree.Element)
}

func (r resigningEncrypter) Encrypt(key any, plaintext, nonce []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(plaintext); err != nil {
		return nil, err
	}
	doc.SetRoot(r.idp.resign(r.t, doc.Root(), r.edit))
	buf, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	enc := xmlenc.OAEP()
	enc.DigestMethod, enc.BlockCipher = &xmlenc.SHA1, xmlenc.AES128CBC
	return enc.Encrypt(key, buf, nonce)
}

// withoutIssuer drops the assertion's saml:Issuer, which crewjam/saml's validateAssertion reads
// without a nil check (GO-2026-6909).
func withoutIssuer(a *etree.Element) { a.RemoveChild(a.SelectElement("Issuer")) }

// foreignNameID swaps the Subject's saml:NameID for a NameID in another namespace naming mallory:
// a namespace-blind reader would take it as the subject (GO-2026-6909).
func foreignNameID(a *etree.Element) {
	subject := a.SelectElement("Subject")
	subject.RemoveChild(subject.SelectElement("NameID"))
	evil := etree.NewElement("x:NameID")
	evil.CreateAttr("xmlns:x", "urn:example:not-saml")
	evil.SetText("mallory@acme.com")
	subject.InsertChildAt(0, evil)
}

// sendResigned runs a sign-in whose assertion the IdP re-signs after edit, in plaintext for
// provider "plain" and encrypted to the SP key for provider "enc".
func (e *samlEnv) sendResigned(t *testing.T, provider string, edit func(*etree.Element)) *testResponse {
	t.Helper()
	c := e.client(t)
	form := e.startSAML(t, c, provider)
	if provider == "plain" {
		form = rewriteResponse(t, form, func(doc *etree.Document) {
			removeSignature(doc.Root())
			a := assertionOf(doc)
			at := a.Index()
			doc.Root().RemoveChild(a)
			doc.Root().InsertChildAt(at, e.idp.resign(t, a, edit))
		})
	}
	return c.postToACS(t, acsPath(provider), form)
}

// newResigningSAMLEnv registers "plain" and "enc" (assertions encrypted to its SP key) on an IdP
// whose encrypted assertions are re-signed after edit.
func newResigningSAMLEnv(t *testing.T, edit func(*etree.Element)) *samlEnv {
	e := newSAMLEnv(t)
	keys := testSAMLKeys(t)
	e.registerSAML(t, "plain", nil, nil)
	e.registerSAML(t, "enc", map[string]any{"spMetadata": map[string]any{"privateKey": keys[2].keyPEM}}, nil)
	e.idp.AssertionEncrypter = resigningEncrypter{t: t, idp: e.idp, edit: edit}
	return e
}

// TestSAMLRefusesASignedAssertionWithoutIssuer (GO-2026-6909, first part): a validly signed
// assertion without saml:Issuer, plaintext or encrypted, lands on the error URL as an issuer
// mismatch: no panic, no 500, no session. The same re-signing with the Issuer kept signs in, so
// the refusal is the missing Issuer's.
func TestSAMLRefusesASignedAssertionWithoutIssuer(t *testing.T) {
	t.Parallel()
	var keepIssuer atomic.Bool // read by the IdP's handler
	edit := func(a *etree.Element) {
		if !keepIssuer.Load() {
			withoutIssuer(a)
		}
	}
	e := newResigningSAMLEnv(t, edit)
	for _, provider := range []string{"plain", "enc"} {
		e.idp.setUser("ada-"+provider+"@acme.com", "Ada", "Lovelace") // each provider's own user
		keepIssuer.Store(false)
		e.sendResigned(t, provider, edit).wantSAMLError(t, "invalid_saml_response")
		keepIssuer.Store(true)
		e.sendResigned(t, provider, edit).wantRedirect(t, "/dashboard")
	}
}

// TestSAMLRefusesAForeignNamespaceNameID (GO-2026-6909, second part): a validly signed assertion
// whose Subject names mallory by a NameID outside the SAML namespace, and has no saml:NameID, is
// refused, plaintext or encrypted, and signs nobody in.
func TestSAMLRefusesAForeignNamespaceNameID(t *testing.T) {
	t.Parallel()
	e := newResigningSAMLEnv(t, foreignNameID)
	for _, provider := range []string{"plain", "enc"} {
		e.sendResigned(t, provider, foreignNameID).wantSAMLError(t, "saml_error")
	}
	if got := e.count(t, `SELECT count(*) FROM account WHERE "accountId" = 'mallory@acme.com'`); got != 0 {
		t.Fatalf("accounts for the foreign NameID = %d", got)
	}
}

// TestSAMLAssertionShapeGuard checks parseSAMLResponse's own guard for GO-2026-6909 on its own,
// since crewjam/saml v0.6.3 also refuses the end-to-end attacks above: the Issuer must be the
// Assertion's own saml:Issuer, and a foreign-namespace NameID counts only beside a saml:NameID.
func TestSAMLAssertionShapeGuard(t *testing.T) {
	t.Parallel()
	const (
		open   = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="` + nsAssertion + `" xmlns:x="urn:example:not-saml">`
		issuer = `<saml:Issuer>idp</saml:Issuer>`
		sig    = `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`
	)
	tests := []struct {
		name, assertion string
		refused         bool
	}{
		{"saml Issuer and NameID", `<saml:Assertion>` + issuer + `<saml:Subject><saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, false},
		{"default-namespace NameID", `<saml:Assertion>` + issuer + `<saml:Subject><NameID xmlns="` + nsAssertion + `">ada</NameID></saml:Subject></saml:Assertion>`, false},
		{"foreign NameID beside the saml one", `<saml:Assertion>` + issuer + `<saml:Subject><x:NameID>mallory</x:NameID><saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, false},
		{"encrypted assertion left to the library", `<saml:EncryptedAssertion><x:EncryptedData/></saml:EncryptedAssertion>`, false},
		{"no Issuer, signed", `<saml:Assertion>` + sig + `<saml:Subject><saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, true},
		{"no Issuer, unsigned: the library refuses the missing signature first, as upstream", `<saml:Assertion><saml:Subject><saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, false},
		{"Issuer in a foreign namespace", `<saml:Assertion><x:Issuer>idp</x:Issuer>` + sig + `<saml:Subject><saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, true},
		{"Issuer only nested deeper", `<saml:Assertion>` + sig + `<saml:Subject>` + issuer + `<saml:NameID>ada</saml:NameID></saml:Subject></saml:Assertion>`, true},
		{"only a foreign NameID", `<saml:Assertion>` + issuer + `<saml:Subject><x:NameID>mallory</x:NameID></saml:Subject></saml:Assertion>`, true},
		{"only an unqualified NameID", `<saml:Assertion>` + issuer + `<saml:Subject><NameID>mallory</NameID></saml:Subject></saml:Assertion>`, true},
	}
	for _, tc := range tests {
		err := checkSAMLAssertionShape([]byte(open + issuer + tc.assertion + `</samlp:Response>`))
		if (err != nil) != tc.refused {
			t.Errorf("%s: err = %v, want refused %v", tc.name, err, tc.refused)
		}
	}
}
