package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// softAuthenticator is a WebAuthn authenticator in software (WebAuthn section 6): one ES256 credential
// whose authenticator data, attestation objects (CBOR, section 6.5) and assertion signatures are built
// byte by byte as a hardware authenticator builds them, with no help from the library under test.
// It answers with the JSON that @simplewebauthn/browser's startRegistration and
// startAuthentication return, less clientExtensionResults, which the npm client strips.
type softAuthenticator struct {
	key        *ecdsa.PrivateKey
	credID     []byte
	userHandle []byte
	aaguid     []byte
	counter    uint32
	flags      byte // extra authenticator-data flags beyond UP/AT: flagUV, flagBE, flagBS
	transports []string
}

// Authenticator data flags (WebAuthn section 6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func newSoftAuthenticator(t testing.TB) *softAuthenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	credID := make([]byte, 20)
	rand.Read(credID)
	return &softAuthenticator{
		key:        key,
		credID:     credID,
		aaguid:     []byte{0x08, 0x98, 0x70, 0x58, 0xca, 0xdc, 0x4b, 0x81, 0xb6, 0xe1, 0x30, 0xde, 0x50, 0xdc, 0xbe, 0x96},
		flags:      flagUV,
		transports: []string{"internal", "hybrid"},
	}
}

// id is the credential ID as the WebAuthn JSON carries it.
func (a *softAuthenticator) id() string { return b64url(a.credID) }

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// ceremony is what the browser would put around the authenticator's answer; a test changes a
// field to play an attacker or a broken client.
type ceremony struct {
	origin    string // clientDataJSON origin
	rpID      string // hashed into the authenticator data; default: the options' RP ID
	format    string // attestation statement format: "none" (default) or "packed" (self attestation)
	counter   *uint32
	challenge string            // default: the options' challenge
	typ       string            // clientDataJSON type; default webauthn.create / webauthn.get
	attester  *ecdsa.PrivateKey // signs a packed attestation; default the credential key
}

// register answers PublicKeyCredentialCreationOptionsJSON as navigator.credentials.create would.
func (a *softAuthenticator) register(t testing.TB, options map[string]any, c ceremony) map[string]any {
	t.Helper()
	rp, _ := options["rp"].(map[string]any)
	if c.rpID == "" {
		c.rpID, _ = rp["id"].(string)
	}
	if u, ok := options["user"].(map[string]any); ok {
		handle, err := base64.RawURLEncoding.DecodeString(u["id"].(string))
		if err != nil {
			t.Fatalf("user.id is not base64url: %v", err)
		}
		a.userHandle = handle
	}
	clientData := a.clientData(t, options, c, "webauthn.create")
	authData := a.authData(c, true)
	var attStmt cborMap
	switch c.format {
	case "", "none":
		c.format = "none"
	case "packed":
		// Self attestation (WebAuthn section 8.2): signed by the credential key itself.
		signer := *a
		if c.attester != nil {
			signer.key = c.attester
		}
		attStmt = cborMap{{"alg", -7}, {"sig", signer.sign(t, authData, clientData)}}
	default:
		t.Fatalf("unknown attestation format %q", c.format)
	}
	attObj := cborEncode(cborMap{{"fmt", c.format}, {"attStmt", attStmt}, {"authData", authData}})
	spki, err := x509.MarshalPKIXPublicKey(&a.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"id":    a.id(),
		"rawId": a.id(),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":     b64url(clientData),
			"attestationObject":  b64url(attObj),
			"transports":         a.transports,
			"publicKeyAlgorithm": -7,
			"publicKey":          b64url(spki),
			"authenticatorData":  b64url(authData),
		},
		"authenticatorAttachment": "platform",
	}
}

// assert answers PublicKeyCredentialRequestOptionsJSON as navigator.credentials.get would.
func (a *softAuthenticator) assert(t testing.TB, options map[string]any, c ceremony) map[string]any {
	t.Helper()
	if c.rpID == "" {
		c.rpID, _ = options["rpId"].(string)
	}
	clientData := a.clientData(t, options, c, "webauthn.get")
	authData := a.authData(c, false)
	resp := map[string]any{
		"clientDataJSON":    b64url(clientData),
		"authenticatorData": b64url(authData),
		"signature":         b64url(a.sign(t, authData, clientData)),
	}
	if a.userHandle != nil {
		resp["userHandle"] = b64url(a.userHandle)
	}
	return map[string]any{
		"id":                      a.id(),
		"rawId":                   a.id(),
		"type":                    "public-key",
		"response":                resp,
		"authenticatorAttachment": "platform",
	}
}

func (a *softAuthenticator) clientData(t testing.TB, options map[string]any, c ceremony, typ string) []byte {
	t.Helper()
	if c.challenge == "" {
		c.challenge, _ = options["challenge"].(string)
	}
	if c.typ != "" {
		typ = c.typ
	}
	b, err := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, c.challenge, c.origin, false})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authData builds authenticator data (WebAuthn section 6.1): rpIdHash, flags, signCount and, at
// registration, the attested credential data with the COSE public key (section 6.5.1).
func (a *softAuthenticator) authData(c ceremony, attested bool) []byte {
	if c.counter != nil {
		a.counter = *c.counter
	} else {
		a.counter++
	}
	rpIDHash := sha256.Sum256([]byte(c.rpID))
	flags := byte(flagUP) | a.flags
	if attested {
		flags |= flagAT
	}
	b := append(rpIDHash[:], flags)
	b = binary.BigEndian.AppendUint32(b, a.counter)
	if !attested {
		return b
	}
	b = append(b, a.aaguid...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.credID)))
	b = append(b, a.credID...)
	return append(b, a.cosePublicKey()...)
}

// cosePublicKey is the credential key as a COSE_Key (RFC 9053 section 7.1.1): EC2, ES256, P-256.
func (a *softAuthenticator) cosePublicKey() []byte {
	x := make([]byte, 32)
	y := make([]byte, 32)
	a.key.PublicKey.X.FillBytes(x)
	a.key.PublicKey.Y.FillBytes(y)
	return cborEncode(cborMap{{1, 2}, {3, -7}, {-1, 1}, {-2, x}, {-3, y}})
}

// sign is the ES256 signature over authData || SHA-256(clientDataJSON), DER-encoded (WebAuthn
// section 6.3.3).
func (a *softAuthenticator) sign(t testing.TB, authData, clientData []byte) []byte {
	t.Helper()
	clientHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), clientHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// cborMap is a CBOR map whose pairs are encoded in the order given (CTAP2 canonical order is the
// caller's job).
type cborMap []cborPair

type cborPair struct {
	key, value any
}

// cborEncode writes the few CBOR types (RFC 8949 section 3) an authenticator uses: integers, byte and
// text strings, and maps.
func cborEncode(v any) []byte {
	switch v := v.(type) {
	case int:
		if v >= 0 {
			return cborHead(0, uint64(v))
		}
		return cborHead(1, uint64(-1-v))
	case []byte:
		return append(cborHead(2, uint64(len(v))), v...)
	case string:
		return append(cborHead(3, uint64(len(v))), v...)
	case cborMap:
		b := cborHead(5, uint64(len(v)))
		for _, p := range v {
			b = append(b, cborEncode(p.key)...)
			b = append(b, cborEncode(p.value)...)
		}
		return b
	}
	panic("cborEncode: unsupported type")
}

func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}
