// A software WebAuthn authenticator, enough to drive both servers' passkey ceremonies over raw
// HTTP (the official client calls the browser's navigator.credentials): an ES256 (P-256) key,
// "none" attestation, and the structures of WebAuthn Level 3 section 6.1 (authenticator data), 6.5.4
// (attestation object) and 5.8.1 (client data), with the little CBOR (RFC 8949) they need.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const sha256 = (data) => createHash("sha256").update(data).digest();

// Flags of the authenticator data (section 6.1): user present, user verified, attested credential data.
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export class SoftAuthenticator {
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = privateKey;
    this.jwk = publicKey.export({ format: "jwk" });
    this.credentialId = randomBytes(20);
    this.aaguid = Buffer.alloc(16); // "none" attestation: the zero AAGUID
    this.counter = 0;
    this.userHandle = null;
  }

  get id() {
    return b64url(this.credentialId);
  }

  // register answers generate-register-options' options as navigator.credentials.create would,
  // in the JSON form @simplewebauthn/browser posts to verify-registration.
  register(options, origin) {
    this.userHandle = Buffer.from(options.user.id, "base64url");
    const clientData = this.clientData("webauthn.create", options.challenge, origin);
    const authData = this.authData(options.rp.id, true);
    const attestationObject = cbor(new Map([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", authData],
    ]));
    return this.credential({ clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ["internal"] });
  }

  // assert answers generate-authenticate-options' options as navigator.credentials.get would.
  assert(options, origin, { rpId = options.rpId, challenge = options.challenge } = {}) {
    const clientData = this.clientData("webauthn.get", challenge, origin);
    const authData = this.authData(rpId, false);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientData)]), { key: this.privateKey, dsaEncoding: "der" });
    return this.credential({
      clientDataJSON: b64url(clientData),
      authenticatorData: b64url(authData),
      signature: b64url(signature),
      userHandle: this.userHandle ? b64url(this.userHandle) : undefined,
    });
  }

  // credential wraps an authenticator response as a PublicKeyCredential's JSON (section 5.1).
  credential(response) {
    return { id: this.id, rawId: this.id, type: "public-key", response, clientExtensionResults: {}, authenticatorAttachment: "platform" };
  }

  clientData(type, challenge, origin) {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  // authData is section 6.1: rpIdHash, flags, signCount, and at registration the attested credential
  // data (AAGUID, credential id, COSE public key).
  authData(rpId, attested) {
    this.counter++;
    const head = Buffer.alloc(37);
    sha256(rpId).copy(head, 0);
    head[32] = UP | UV | (attested ? AT : 0);
    head.writeUInt32BE(this.counter, 33);
    if (!attested) return head;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    return Buffer.concat([head, this.aaguid, idLength, this.credentialId, this.coseKey()]);
  }

  // coseKey is the credential's public key as a COSE_Key (RFC 9053 section 7.1.1): EC2, ES256, P-256.
  coseKey() {
    return cbor(new Map([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(this.jwk.x, "base64url")],
      [-3, Buffer.from(this.jwk.y, "base64url")],
    ]));
  }
}

// cbor encodes the values WebAuthn needs (RFC 8949 section 3): integers, byte and text strings, maps
// (in insertion order, which CTAP2's canonical order matches for the maps above).
export function cbor(value) {
  const head = (major, n) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (Number.isInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === "string") {
    const b = Buffer.from(value);
    return Buffer.concat([head(3, b.length), b]);
  }
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cbor: cannot encode ${typeof value}`);
}
