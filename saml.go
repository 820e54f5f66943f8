package main

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML 2.0 providers of enterprise SSO (upstream: packages/sso/src/routes/sso.ts, the SAML half of
// registerSSOProvider, spMetadata, signInSSO and acsEndpoint). This file holds the stored
// samlConfig, its checks at registration and the service provider built from it; samlacs.go starts
// sign-ins and consumes the IdP's responses, samlslo.go logs out. The XML work (signatures,
// encryption, conditions) is github.com/crewjam/saml's.

// samlMaxMetadataBytes is upstream's saml.maxMetadataSize default: an IdP or SP metadata document
// larger than this is refused at registration.
const samlMaxMetadataBytes = 100 * 1024

// Upstream's SAML registration errors (packages/sso/src/saml/error-codes.ts, routes/helpers.ts).
var (
	errSAMLCertSourceMissing = apiErr(400, "CERT_SOURCE_MISSING", "samlConfig requires either a signing certificate (cert or idpMetadata.cert) or an idpMetadata.metadata XML document.")
	errSAMLIdPAuthority      = apiErr(400, "", "SAML manual IdP configuration requires idpMetadata.entityID; issuer identifies the service provider and cannot identify the IdP")
	errSAMLNoEntryPoint      = apiErr(400, "", "SAML configuration requires either idpMetadata.metadata (IdP metadata XML), idpMetadata.singleSignOnService, or a valid entryPoint URL")
	errSAMLInvalidSPMetadata = apiErr(400, "SAML_INVALID_SP_METADATA", "Invalid SAML service provider metadata")
	errSAMLSPMetadataPolicy  = apiErr(400, "SAML_SP_METADATA_ASSERTION_SIGNATURE_MISMATCH", "SAML service provider metadata must require signed assertions")
	errSAMLNoSAMLConfig      = apiErr(400, "", "Cannot update SAML config for a provider that doesn't have SAML configured")
	errSAMLInvalidConfig     = apiErr(400, "", "Invalid SAML configuration")
	// Ours: upstream stores what it cannot read and fails at the first sign-in instead.
	errSAMLBadCertificate = apiErr(400, "SAML_INVALID_CERTIFICATE", "samlConfig holds a certificate that is not a PEM or base64 X.509 certificate")
	errSAMLBadIdPMetadata = apiErr(400, "SAML_INVALID_IDP_METADATA", "idpMetadata.metadata is not a SAML IdP metadata document")
	errSAMLBadPrivateKey  = apiErr(400, "SAML_INVALID_PRIVATE_KEY", "samlConfig holds a private key that is not an unencrypted PEM RSA or EC key")
)

// samlConfig is the stored samlConfig JSON, its keys in the order upstream's registerSSOProvider
// writes them. Pointers keep "given but empty" apart from "absent", as JSON.stringify does.
type samlConfig struct {
	Issuer                  *string          `json:"issuer,omitempty"`
	EntryPoint              *string          `json:"entryPoint,omitempty"`
	Cert                    *samlCerts       `json:"cert,omitempty"`
	Audience                *string          `json:"audience,omitempty"`
	CallbackURL             *string          `json:"callbackUrl,omitempty"`
	IDPInitiatedCallbackURL *string          `json:"idpInitiatedCallbackUrl,omitempty"`
	IDPMetadata             *samlIDPMetadata `json:"idpMetadata,omitempty"`
	SPMetadata              *samlSPMetadata  `json:"spMetadata,omitempty"`
	WantAssertionsSigned    *bool            `json:"wantAssertionsSigned,omitempty"`
	AuthnRequestsSigned     *bool            `json:"authnRequestsSigned,omitempty"`
	SignatureAlgorithm      *string          `json:"signatureAlgorithm,omitempty"`
	DigestAlgorithm         *string          `json:"digestAlgorithm,omitempty"`
	IdentifierFormat        *string          `json:"identifierFormat,omitempty"`
	PrivateKey              *string          `json:"privateKey,omitempty"`
	Mapping                 *samlMapping     `json:"mapping,omitempty"`
}

// samlIDPMetadata is upstream's samlIdentityProviderMetadataSchema: the IdP's metadata XML, or
// its entity id with endpoints and certificates given one by one.
type samlIDPMetadata struct {
	Metadata *string    `json:"metadata,omitempty"`
	EntityID *string    `json:"entityID,omitempty"`
	Cert     *samlCerts `json:"cert,omitempty"`
	samlKeyFields
	SingleSignOnService []samlEndpoint `json:"singleSignOnService,omitempty"`
	SingleLogoutService []samlEndpoint `json:"singleLogoutService,omitempty"`
}

// samlSPMetadata is how this server presents itself to the IdP: its own metadata XML or entity
// id, and the keys it signs requests and decrypts assertions with.
type samlSPMetadata struct {
	Metadata *string `json:"metadata,omitempty"`
	EntityID *string `json:"entityID,omitempty"`
	Binding  *string `json:"binding,omitempty"`
	samlKeyFields
}

// samlKeyFields are the key fields both metadata objects carry (upstream's schemas repeat them).
// Embedded, encoding/json writes them in place, so the stored key order stays upstream's.
type samlKeyFields struct {
	PrivateKey           *string `json:"privateKey,omitempty"`
	PrivateKeyPass       *string `json:"privateKeyPass,omitempty"`
	IsAssertionEncrypted *bool   `json:"isAssertionEncrypted,omitempty"`
	EncPrivateKey        *string `json:"encPrivateKey,omitempty"`
	EncPrivateKeyPass    *string `json:"encPrivateKeyPass,omitempty"`
}

type samlEndpoint struct {
	Binding  string `json:"Binding"`
	Location string `json:"Location"`
}

// samlMapping names the attributes a SAML user is read from (upstream's samlMappingSchema).
type samlMapping struct {
	Email         string         `json:"email"`
	EmailVerified string         `json:"emailVerified,omitempty"`
	Name          string         `json:"name"`
	FirstName     string         `json:"firstName,omitempty"`
	LastName      string         `json:"lastName,omitempty"`
	ExtraFields   map[string]any `json:"extraFields,omitempty"`
}

// samlCerts is upstream's signingCertSchema: one PEM string, or a non-empty array of them during a
// rotation. The JSON is kept as it came, so the stored text is what the client sent.
type samlCerts struct {
	raw   json.RawMessage
	certs []string
}

func (c *samlCerts) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		c.raw, c.certs = append(json.RawMessage(nil), b...), []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil || len(many) == 0 {
		return fmt.Errorf("want a certificate or a non-empty array of them")
	}
	c.raw, c.certs = append(json.RawMessage(nil), b...), many
	return nil
}

func (c samlCerts) MarshalJSON() ([]byte, error) { return c.raw, nil }

func (samlCerts) jsonKind() string { return "string | array" }

// samlConfig reads the provider's stored SAML configuration, or nil when it has none or it is
// unreadable (upstream's safeJsonParse failing).
func (p *ssoProvider) samlConfig() *samlConfig {
	if !p.hasSAML() {
		return nil
	}
	return safeJSONParse[samlConfig](*p.SAMLConfig)
}

// signingCerts are the IdP certificates upstream's resolveSigningCerts trusts: idpMetadata.cert
// wins over the top-level cert; none means they come from the metadata XML.
func (c *samlConfig) signingCerts() []string {
	if c.IDPMetadata != nil && c.IDPMetadata.Cert != nil {
		return c.IDPMetadata.Cert.certs
	}
	if c.Cert != nil {
		return c.Cert.certs
	}
	return nil
}

// spPrivateKey is the key AuthnRequests are signed with; spEncryptionKey decrypts assertions.
func (c *samlConfig) spPrivateKey() string {
	if c.SPMetadata != nil && deref(c.SPMetadata.PrivateKey) != "" {
		return *c.SPMetadata.PrivateKey
	}
	return deref(c.PrivateKey)
}

func (c *samlConfig) spEncryptionKey() string {
	if c.SPMetadata != nil && deref(c.SPMetadata.EncPrivateKey) != "" {
		return *c.SPMetadata.EncPrivateKey
	}
	return c.spPrivateKey()
}

// Upstream's algorithm tables (packages/sso/src/saml/algorithms.ts): short names normalize to URIs;
// SHA-1 is deprecated (accepted with a warning upstream, as here), anything unknown is refused.
var (
	samlSignatureAlgorithms = map[string]string{
		"sha1": dsig.RSASHA1SignatureMethod, "rsa-sha1": dsig.RSASHA1SignatureMethod,
		"sha256": dsig.RSASHA256SignatureMethod, "rsa-sha256": dsig.RSASHA256SignatureMethod,
		"sha384": dsig.RSASHA384SignatureMethod, "rsa-sha384": dsig.RSASHA384SignatureMethod,
		"sha512": dsig.RSASHA512SignatureMethod, "rsa-sha512": dsig.RSASHA512SignatureMethod,
		"ecdsa-sha256": dsig.ECDSASHA256SignatureMethod, "ecdsa-sha384": dsig.ECDSASHA384SignatureMethod,
		"ecdsa-sha512": dsig.ECDSASHA512SignatureMethod,
	}
	samlKnownSignatureAlgorithms = []string{dsig.RSASHA1SignatureMethod, dsig.RSASHA256SignatureMethod, dsig.RSASHA384SignatureMethod,
		dsig.RSASHA512SignatureMethod, dsig.ECDSASHA256SignatureMethod, dsig.ECDSASHA384SignatureMethod, dsig.ECDSASHA512SignatureMethod}
	samlDigestAlgorithms = map[string]string{
		"sha1": "http://www.w3.org/2000/09/xmldsig#sha1", "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
		"sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384", "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
	}
)

func normalizeSAMLAlgorithm(table map[string]string, alg string) string {
	if uri, ok := table[strings.ToLower(alg)]; ok {
		return uri
	}
	return alg
}

// checkSAMLAlgorithms is upstream's validateConfigAlgorithms without an allow-list.
func checkSAMLAlgorithms(c *samlConfig) error {
	if a := deref(c.SignatureAlgorithm); a != "" && !slices.Contains(samlKnownSignatureAlgorithms, normalizeSAMLAlgorithm(samlSignatureAlgorithms, a)) {
		return apiErr(400, "SAML_UNKNOWN_ALGORITHM", "SAML signature algorithm not recognized: "+a)
	}
	if a := deref(c.DigestAlgorithm); a != "" {
		known := false
		for _, uri := range samlDigestAlgorithms {
			known = known || uri == normalizeSAMLAlgorithm(samlDigestAlgorithms, a)
		}
		if !known {
			return apiErr(400, "SAML_UNKNOWN_ALGORITHM", "SAML digest algorithm not recognized: "+a)
		}
	}
	return nil
}

// checkSAMLConfig applies upstream's registration checks (metadata size, algorithms, a source of
// IdP certificates, an IdP entity id, the SP metadata's signing policy, somewhere to send the user)
// and ours: every certificate, key and metadata document must be readable now, not at the first
// sign-in.
func checkSAMLConfig(c *samlConfig) error {
	idpXML := deref(idpField(c, func(m *samlIDPMetadata) *string { return m.Metadata }))
	for _, doc := range [][2]string{{"IdP", idpXML}, {"SP", deref(spField(c, func(m *samlSPMetadata) *string { return m.Metadata }))}} {
		if len(doc[1]) > samlMaxMetadataBytes {
			return apiErr(400, "", fmt.Sprintf("%s metadata exceeds maximum allowed size (%d bytes)", doc[0], samlMaxMetadataBytes))
		}
	}
	if err := checkSAMLAlgorithms(c); err != nil {
		return err
	}
	if idpXML == "" && c.signingCerts() == nil {
		return errSAMLCertSourceMissing
	}
	if idpXML == "" && deref(idpField(c, func(m *samlIDPMetadata) *string { return m.EntityID })) == "" {
		return errSAMLIdPAuthority
	}
	if err := checkSPMetadataPolicy(c); err != nil {
		return err
	}
	hasSSO := c.IDPMetadata != nil && len(c.IDPMetadata.SingleSignOnService) > 0
	if idpXML == "" && !isURL(deref(c.EntryPoint)) && !hasSSO {
		return errSAMLNoEntryPoint
	}
	return checkSAMLMaterial(c)
}

func idpField(c *samlConfig, f func(*samlIDPMetadata) *string) *string {
	if c.IDPMetadata == nil {
		return nil
	}
	return f(c.IDPMetadata)
}

func spField(c *samlConfig, f func(*samlSPMetadata) *string) *string {
	if c.SPMetadata == nil {
		return nil
	}
	return f(c.SPMetadata)
}

// checkSPMetadataPolicy is upstream's assertSAMLServiceProviderMetadataPolicy: custom SP metadata
// must name a POST assertion consumer service and may not weaken wantAssertionsSigned.
func checkSPMetadataPolicy(c *samlConfig) error {
	doc := deref(spField(c, func(m *samlSPMetadata) *string { return m.Metadata }))
	if doc == "" {
		return nil
	}
	var ed saml.EntityDescriptor
	if err := safeXMLUnmarshal([]byte(doc), &ed); err != nil || len(ed.SPSSODescriptors) == 0 {
		return errSAMLInvalidSPMetadata
	}
	sp := ed.SPSSODescriptors[0]
	if !slices.ContainsFunc(sp.AssertionConsumerServices, func(e saml.IndexedEndpoint) bool { return e.Binding == saml.HTTPPostBinding }) {
		return errSAMLInvalidSPMetadata
	}
	if c.WantAssertionsSigned != nil && *c.WantAssertionsSigned && (sp.WantAssertionsSigned == nil || !*sp.WantAssertionsSigned) {
		return errSAMLSPMetadataPolicy
	}
	return nil
}

// checkSAMLMaterial refuses certificates, keys and IdP metadata this server could not use.
func checkSAMLMaterial(c *samlConfig) error {
	for _, pemText := range c.signingCerts() {
		if _, err := parseSAMLCertificate(pemText); err != nil {
			return errSAMLBadCertificate
		}
	}
	if doc := deref(idpField(c, func(m *samlIDPMetadata) *string { return m.Metadata })); doc != "" {
		if _, err := parseIDPMetadata(doc); err != nil {
			return errSAMLBadIdPMetadata
		}
	}
	for _, key := range []string{c.spPrivateKey(), c.spEncryptionKey()} {
		if key == "" {
			continue
		}
		if _, err := parseSAMLPrivateKey(key); err != nil {
			return errSAMLBadPrivateKey
		}
	}
	return nil
}

// safeXMLUnmarshal reads untrusted XML: no DTD (and so no entity expansion) is accepted.
func safeXMLUnmarshal(doc []byte, v any) error {
	if hasDTD(doc) {
		return fmt.Errorf("xml: document type declarations are not accepted")
	}
	return xml.Unmarshal(doc, v)
}

// hasDTD reports a document type declaration anywhere in an XML document: SAML never needs one,
// and they carry the entity expansion ("billion laughs") and external entity attacks.
func hasDTD(doc []byte) bool {
	return bytes.Contains(doc, []byte("<!DOCTYPE")) || bytes.Contains(doc, []byte("<!ENTITY")) || bytes.Contains(bytes.ToUpper(doc), []byte("<!DOCTYPE"))
}

// parseIDPMetadata reads IdP metadata XML: an EntityDescriptor with an IDPSSODescriptor.
func parseIDPMetadata(doc string) (*saml.EntityDescriptor, error) {
	var ed saml.EntityDescriptor
	if err := safeXMLUnmarshal([]byte(doc), &ed); err != nil {
		return nil, fmt.Errorf("parse idp metadata: %w", err)
	}
	if ed.EntityID == "" || len(ed.IDPSSODescriptors) == 0 {
		return nil, fmt.Errorf("parse idp metadata: no IDPSSODescriptor")
	}
	return &ed, nil
}

// parseSAMLCertificate reads a certificate as upstream's parseCertificate: PEM, or the base64 DER
// body of one.
func parseSAMLCertificate(text string) (*x509.Certificate, error) {
	if block, _ := pem.Decode([]byte(strings.TrimSpace(text))); block != nil {
		return x509.ParseCertificate(block.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// parseSAMLPrivateKey reads an unencrypted PEM key (PKCS#1, PKCS#8 or SEC 1).
func parseSAMLPrivateKey(text string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, fmt.Errorf("parse private key: not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parse private key: %T cannot sign", k)
	}
	return signer, nil
}

// spCertificate makes the certificate that carries the SP key's public half in our metadata and
// signatures. Upstream's configuration has no SP certificate field, so it is derived from the key
// alone: self-signed, with fixed fields, so the same key always gives the same certificate.
func spCertificate(key crypto.Signer) (*x509.Certificate, error) {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("sp certificate: %w", err)
	}
	sum := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:16]),
		Subject:      pkix.Name{CommonName: "authsidecar SAML service provider"},
		NotBefore:    time.Unix(0, 0).UTC(),
		NotAfter:     time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	// RSA PKCS#1 v1.5 signatures are deterministic; an ECDSA one is not, but only its bytes vary.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sp certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// samlPaths are this server's endpoints for a provider, as upstream's createSP names them.
func (s *server) samlACSURL(r *http.Request, providerID string) string {
	return s.baseURL(r) + "/sso/saml2/sp/acs/" + providerID
}

func (s *server) samlSLOURL(r *http.Request, providerID string) string {
	return s.baseURL(r) + "/sso/saml2/sp/slo/" + providerID
}

// samlSP builds the service provider of a stored provider: our entity id (spMetadata.entityID,
// else the provider's issuer, as upstream's createSP), our endpoints, the IdP as its metadata or
// manual configuration describes it, and every check crewjam/saml makes, stricter where
// upstream is loose: SHA-1 signatures refused, the IdP's certificates only those configured.
func (s *server) samlSP(r *http.Request, p *ssoProvider, c *samlConfig) (*saml.ServiceProvider, error) {
	idp, err := samlIDPDescriptor(c)
	if err != nil {
		return nil, err
	}
	entityID := cmp.Or(deref(spField(c, func(m *samlSPMetadata) *string { return m.EntityID })), deref(c.Issuer), p.Issuer)
	acs, _ := url.Parse(s.samlACSURL(r, p.ProviderID))
	slo, _ := url.Parse(s.samlSLOURL(r, p.ProviderID))
	meta, _ := url.Parse(s.baseURL(r) + "/sso/saml2/sp/metadata?providerId=" + url.QueryEscape(p.ProviderID))
	sp := &saml.ServiceProvider{
		EntityID:          entityID,
		AcsURL:            *acs,
		SloURL:            *slo,
		MetadataURL:       *meta,
		IDPMetadata:       idp,
		AuthnNameIDFormat: saml.NameIDFormat(deref(c.IdentifierFormat)),
		// Unsolicited responses are refused after the signature check (samlacs.go), in upstream's
		// order; crewjam/saml would refuse them before it.
		AllowIDPInitiated:                true,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		LogoutBindings:                   []string{saml.HTTPPostBinding, saml.HTTPRedirectBinding},
		RejectSHA1Signatures:             true,
		RejectUnknownConditions:          false,
		MetadataOmitValidUntil:           true,
		Clock:                            dsig.NewFakeClockAt(s.now()),
	}
	if aud := deref(c.Audience); aud != "" {
		sp.ValidateAudienceRestriction = audienceIs(aud)
	}
	if err := s.setSPKeys(sp, c); err != nil {
		return nil, err
	}
	return sp, nil
}

// setSPKeys gives the SP its signing key (and the certificate derived from it) and the key that
// decrypts assertions; assertions are decrypted only with these.
func (s *server) setSPKeys(sp *saml.ServiceProvider, c *samlConfig) error {
	if k := c.spPrivateKey(); k != "" {
		key, err := parseSAMLPrivateKey(k)
		if err != nil {
			return errSAMLInvalidConfig
		}
		if sp.Certificate, err = spCertificate(key); err != nil {
			return err
		}
		sp.Key = key
		if c.AuthnRequestsSigned != nil && *c.AuthnRequestsSigned {
			sp.SignatureMethod = cmp.Or(normalizeSAMLAlgorithm(samlSignatureAlgorithms, deref(c.SignatureAlgorithm)), dsig.RSASHA256SignatureMethod)
		}
	}
	if k := c.spEncryptionKey(); k != "" {
		key, err := parseSAMLPrivateKey(k)
		if err != nil {
			return errSAMLInvalidConfig
		}
		if rk, ok := key.(*rsa.PrivateKey); ok {
			sp.EncryptionKey = rk
		}
	}
	return nil
}

// audienceIs checks the configured audience instead of our entity id (upstream's validateAudience
// with samlConfig.audience): every AudienceRestriction must name it.
func audienceIs(audience string) func(*saml.Assertion) error {
	return func(a *saml.Assertion) error {
		if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
			return fmt.Errorf("assertion has no audience restriction")
		}
		for _, ar := range a.Conditions.AudienceRestrictions {
			if !slices.ContainsFunc(ar.AllAudiences(), func(x saml.Audience) bool { return x.Value == audience }) {
				return fmt.Errorf("assertion is not for audience %q", audience)
			}
		}
		return nil
	}
}

// samlIDPDescriptor describes the IdP: its metadata XML, with the configured certificates (when
// any) replacing the ones it names, or the manual entity id, endpoints and certificates.
func samlIDPDescriptor(c *samlConfig) (*saml.EntityDescriptor, error) {
	var keys []saml.KeyDescriptor
	for _, text := range c.signingCerts() {
		cert, err := parseSAMLCertificate(text)
		if err != nil {
			return nil, errSAMLInvalidConfig
		}
		keys = append(keys, saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
			X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(cert.Raw)}}}}})
	}
	if doc := deref(idpField(c, func(m *samlIDPMetadata) *string { return m.Metadata })); doc != "" {
		ed, err := parseIDPMetadata(doc)
		if err != nil {
			return nil, errSAMLInvalidConfig
		}
		if keys != nil {
			ed.IDPSSODescriptors[0].KeyDescriptors = keys
		}
		return ed, nil
	}
	if len(keys) == 0 {
		return nil, errSAMLInvalidConfig
	}
	sso := c.IDPMetadata.SingleSignOnService
	if len(sso) == 0 {
		sso = []samlEndpoint{{Binding: saml.HTTPRedirectBinding, Location: deref(c.EntryPoint)}}
	}
	desc := saml.IDPSSODescriptor{SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
		ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol", KeyDescriptors: keys}}}
	for _, e := range sso {
		desc.SingleSignOnServices = append(desc.SingleSignOnServices, saml.Endpoint{Binding: e.Binding, Location: e.Location})
	}
	for _, e := range c.IDPMetadata.SingleLogoutService {
		desc.SingleLogoutServices = append(desc.SingleLogoutServices, saml.Endpoint{Binding: e.Binding, Location: e.Location})
	}
	return &saml.EntityDescriptor{EntityID: *c.IDPMetadata.EntityID, IDPSSODescriptors: []saml.IDPSSODescriptor{desc}}, nil
}

// handleSAMLMetadata answers a provider's SP metadata (upstream's spMetadata): the configured
// metadata XML when there is one, else ours.
func (s *server) handleSAMLMetadata(w http.ResponseWriter, r *http.Request) error {
	providerID, err := queryString(r, "providerId", true)
	if err != nil {
		return err
	}
	p, err := ssoProviderByID(r.Context(), s.db, providerID, "")
	if err != nil {
		return err
	}
	if p == nil {
		return apiErr(404, "", "No provider found for the given providerId")
	}
	c := p.samlConfig()
	if c == nil {
		return errSAMLInvalidConfig
	}
	doc := deref(spField(c, func(m *samlSPMetadata) *string { return m.Metadata }))
	if doc == "" {
		sp, err := s.samlSP(r, p, c)
		if err != nil {
			return err
		}
		md := sp.Metadata()
		// As upstream's SPMetadata: what the provider's configuration says, not crewjam's default.
		want := c.WantAssertionsSigned != nil && *c.WantAssertionsSigned
		md.SPSSODescriptors[0].WantAssertionsSigned = &want
		if !s.cfg.SSO.SAMLSingleLogout {
			md.SPSSODescriptors[0].SingleLogoutServices = nil
		}
		out, err := xml.MarshalIndent(md, "", "  ")
		if err != nil {
			return fmt.Errorf("encode sp metadata: %w", err)
		}
		doc = string(out)
	}
	w.Header().Set("Content-Type", "application/xml")
	// A registered document is served as given, on our origin, to anyone: a browser would run an
	// XHTML script element in it with the visitor's cookies, so it gets the error page's lockdown
	// (stricter than upstream, which sends none).
	setPageSecurityHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(doc))
	return nil
}

// decodeSAMLBody decodes body.samlConfig with decode's rules and upstream's refinements
// (samlConfigSchema): a registration needs an entryPoint URL and idpMetadata with its XML or an
// entity id; an update may give any part.
func decodeSAMLBody(raw json.RawMessage, register bool) (*samlConfig, []string, error) {
	var c samlConfig
	if err := decodeNested(raw, &c, "body.samlConfig"); err != nil {
		return nil, nil, err
	}
	var issues []string
	switch {
	case register && c.EntryPoint == nil:
		issues = append(issues, "[body.samlConfig.entryPoint] Invalid input: expected string, received undefined")
	case c.EntryPoint != nil && !isURL(*c.EntryPoint):
		issues = append(issues, "[body.samlConfig.entryPoint] Invalid URL")
	}
	if m := c.IDPMetadata; register && (m == nil || deref(m.Metadata) == "" && deref(m.EntityID) == "") {
		issues = append(issues, "[body.samlConfig.idpMetadata] idpMetadata.entityID is required when IdP metadata XML is not provided")
	}
	if strings.Contains(deref(c.CallbackURL), "#") {
		issues = append(issues, "[body.samlConfig.callbackUrl] callbackUrl must not contain a fragment")
	}
	if u := c.IDPInitiatedCallbackURL; u != nil && !isURL(*u) && !(strings.HasPrefix(*u, "/") && !strings.HasPrefix(*u, "//")) {
		issues = append(issues, "[body.samlConfig.idpInitiatedCallbackUrl] Expected an absolute URL or a relative path starting with /")
	}
	if m := c.Mapping; m != nil && (m.Email == "" || m.Name == "") {
		issues = append(issues, "[body.samlConfig.mapping] Invalid input: email and name are required")
	}
	if m := c.IDPMetadata; m != nil {
		for _, e := range slices.Concat(m.SingleSignOnService, m.SingleLogoutService) {
			if !isURL(e.Location) {
				issues = append(issues, "[body.samlConfig.idpMetadata] Invalid URL")
				break
			}
		}
	}
	return &c, issues, nil
}

// registeredSAMLConfig is the samlConfig a registration stores, as upstream's registerSSOProvider
// writes it: the body's settings with the provider's issuer.
func registeredSAMLConfig(issuer string, c *samlConfig) (string, error) {
	stored := *c
	stored.Issuer = &issuer
	if err := checkSAMLConfig(&stored); err != nil {
		return "", err
	}
	text, err := json.Marshal(stored)
	if err != nil {
		return "", fmt.Errorf("encode saml config: %w", err)
	}
	return string(text), nil
}

// samlIdentity is what decides whose accounts a SAML provider signs in, as upstream's
// samlIdentityBoundaryChanged sees it: the audience and callback URL, the IdP (entity id,
// endpoints, trusted certificates) and the SP (entity id, name id format, metadata, whether
// assertions must be signed).
func samlIdentity(c *samlConfig) string {
	certs := slices.Clone(c.signingCerts())
	for i := range certs {
		certs[i] = strings.Join(strings.Fields(certs[i]), "")
	}
	slices.Sort(certs)
	id := map[string]any{
		"audience": c.Audience, "callbackUrl": c.CallbackURL, "entryPoint": c.EntryPoint, "certs": certs,
		"spEntityID": cmp.Or(deref(spField(c, func(m *samlSPMetadata) *string { return m.EntityID })), deref(c.Issuer)),
		"spMetadata": spField(c, func(m *samlSPMetadata) *string { return m.Metadata }), "identifierFormat": c.IdentifierFormat,
		"wantAssertionsSigned": c.WantAssertionsSigned != nil && *c.WantAssertionsSigned,
	}
	if m := c.IDPMetadata; m != nil {
		id["idpEntityID"], id["idpMetadata"], id["sso"] = m.EntityID, m.Metadata, m.SingleSignOnService
	}
	b, _ := json.Marshal(id)
	return string(b)
}

// mergeSAMLConfig applies an update's samlConfig to p as upstream's mergeSAMLConfig: the update's
// keys over the stored ones, spMetadata and idpMetadata merged key by key, a null
// idpInitiatedCallbackUrl removing it, the issuer following the provider's. It reports whether an
// identity field changed.
func mergeSAMLConfig(p *ssoProvider, issuerUpdated bool, update json.RawMessage) (bool, error) {
	var current, changes map[string]json.RawMessage
	if !p.hasSAML() || json.Unmarshal([]byte(*p.SAMLConfig), &current) != nil || current == nil {
		return false, errSAMLNoSAMLConfig
	}
	if err := json.Unmarshal(update, &changes); err != nil {
		return false, validationError("[body.samlConfig] Invalid input")
	}
	merged := make(map[string]json.RawMessage, len(current)+len(changes))
	for k, v := range current {
		merged[k] = v
	}
	for k, v := range changes {
		switch {
		case k == "idpInitiatedCallbackUrl" && string(v) == "null":
			delete(merged, k)
		case k == "spMetadata" || k == "idpMetadata":
			merged[k] = mergeJSONObjects(current[k], v)
		default:
			merged[k] = v
		}
	}
	var currentIssuer string
	_ = json.Unmarshal(current["issuer"], &currentIssuer)
	if issuerUpdated || currentIssuer == "" {
		currentIssuer = p.Issuer
	}
	merged["issuer"], _ = json.Marshal(currentIssuer)
	text, err := json.Marshal(merged)
	if err != nil {
		return false, fmt.Errorf("encode saml config: %w", err)
	}
	var c samlConfig
	if err := json.Unmarshal(text, &c); err != nil {
		return false, validationError("[body.samlConfig] Invalid input")
	}
	if m := c.IDPMetadata; m == nil || deref(m.Metadata) == "" && deref(m.EntityID) == "" {
		return false, errSAMLIdPAuthority
	}
	if err := checkSAMLConfig(&c); err != nil {
		return false, err
	}
	changed := true
	if before := p.samlConfig(); before != nil {
		changed = samlIdentity(before) != samlIdentity(&c)
	}
	stored := string(text)
	p.SAMLConfig = &stored
	return changed, nil
}

// mergeJSONObjects is {...a, ...b} of two JSON objects; b alone when a is not one.
func mergeJSONObjects(a, b json.RawMessage) json.RawMessage {
	var x, y map[string]json.RawMessage
	if json.Unmarshal(a, &x) != nil || x == nil || json.Unmarshal(b, &y) != nil || y == nil {
		return b
	}
	for k, v := range y {
		x[k] = v
	}
	out, _ := json.Marshal(x)
	return out
}

// storedJSON is a stored JSON text as a value of a JSON answer; null when there is none.
func storedJSON(text *string) json.RawMessage {
	if text == nil || !json.Valid([]byte(*text)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(*text)
}

// samlWithoutPrivateKeys is upstream's withoutSAMLPrivateKeys on the stored samlConfig, for the
// provider's fingerprint: every private key and passphrase dropped, idpMetadata always present.
func samlWithoutPrivateKeys(p *ssoProvider) map[string]any {
	if !p.hasSAML() {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(*p.SAMLConfig))
	dec.UseNumber()
	var c map[string]any
	if dec.Decode(&c) != nil || c == nil {
		return nil
	}
	secrets := []string{"privateKey", "privateKeyPass", "encPrivateKey", "encPrivateKeyPass"}
	delete(c, "privateKey")
	idp, _ := c["idpMetadata"].(map[string]any)
	if idp == nil {
		idp = map[string]any{}
	}
	for _, k := range secrets {
		delete(idp, k)
	}
	c["idpMetadata"] = idp
	if sp, ok := c["spMetadata"].(map[string]any); ok {
		for _, k := range secrets {
			delete(sp, k)
		}
	}
	return c
}

// describeCertificates is upstream's sanitizeSigningCerts: what list and get show of each IdP
// certificate instead of the certificate.
func describeCertificates(certs []string) []map[string]string {
	out := make([]map[string]string, 0, len(certs))
	for _, text := range certs {
		cert, err := parseSAMLCertificate(text)
		if err != nil {
			out = append(out, map[string]string{"error": "Failed to parse certificate"})
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		hexSum := strings.ToUpper(fmt.Sprintf("% x", sum[:]))
		alg := "UNKNOWN"
		switch cert.PublicKeyAlgorithm {
		case x509.RSA:
			alg = "RSA"
		case x509.ECDSA:
			alg = "EC"
		case x509.Ed25519:
			alg = "ED25519"
		}
		// Node's X509Certificate.validFrom format.
		const nodeDate = "Jan _2 15:04:05 2006 GMT"
		out = append(out, map[string]string{
			"fingerprintSha256":  strings.ReplaceAll(hexSum, " ", ":"),
			"notBefore":          cert.NotBefore.UTC().Format(nodeDate),
			"notAfter":           cert.NotAfter.UTC().Format(nodeDate),
			"publicKeyAlgorithm": alg,
		})
	}
	return out
}
