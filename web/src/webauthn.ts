// The browser half of the passkey ceremonies, written against the WebAuthn API directly: the
// server sends options as JSON with base64url binary fields, and wants the credential back in the
// same JSON form (the shapes @simplewebauthn/browser produces, plugins spec §2.4).

import { fromBase64url, toBase64url } from "./base64url.js";

type Json = Record<string, unknown>;

interface CredentialDescriptorJSON {
  id: string;
  type: string;
  transports?: string[];
}

function descriptors(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as CredentialDescriptorJSON[]).map((c) => ({
    id: fromBase64url(c.id),
    type: "public-key",
    ...(c.transports ? { transports: c.transports as AuthenticatorTransport[] } : {}),
  }));
}

/** creationOptions turns generate-register-options' JSON into what navigator.credentials.create takes. */
export function creationOptions(json: Json): PublicKeyCredentialCreationOptions {
  const user = json.user as { id: string; name: string; displayName: string };
  const out = {
    ...json,
    challenge: fromBase64url(json.challenge as string),
    user: { ...user, id: fromBase64url(user.id) },
  } as unknown as PublicKeyCredentialCreationOptions;
  const exclude = descriptors(json.excludeCredentials);
  if (exclude) out.excludeCredentials = exclude;
  return out;
}

/** requestOptions turns generate-authenticate-options' JSON into what navigator.credentials.get takes. */
export function requestOptions(json: Json): PublicKeyCredentialRequestOptions {
  const out = { ...json, challenge: fromBase64url(json.challenge as string) } as unknown as PublicKeyCredentialRequestOptions;
  const allow = descriptors(json.allowCredentials);
  if (allow) out.allowCredentials = allow;
  return out;
}

// Minimal views of the credential objects, so the converters also run on plain test objects.
interface CredentialLike {
  id: string;
  rawId: ArrayBuffer;
  type: string;
  authenticatorAttachment?: string | null;
  response: {
    clientDataJSON: ArrayBuffer;
    attestationObject?: ArrayBuffer;
    authenticatorData?: ArrayBuffer;
    signature?: ArrayBuffer;
    userHandle?: ArrayBuffer | null;
    getTransports?: () => string[];
    getPublicKeyAlgorithm?: () => number;
    getPublicKey?: () => ArrayBuffer | null;
    getAuthenticatorData?: () => ArrayBuffer;
  };
}

function base(cred: CredentialLike): Json {
  const out: Json = { id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type };
  if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
  return out;
}

/** registrationJSON is the body's `response` for verify-registration. */
export function registrationJSON(cred: CredentialLike): Json {
  const r = cred.response;
  if (!r.attestationObject) throw new TypeError("not a registration credential");
  const response: Json = {
    clientDataJSON: toBase64url(r.clientDataJSON),
    attestationObject: toBase64url(r.attestationObject),
  };
  // These getters are missing in older browsers; the server works without them.
  const transports = r.getTransports?.();
  if (transports) response.transports = transports;
  const alg = r.getPublicKeyAlgorithm?.();
  if (alg !== undefined) response.publicKeyAlgorithm = alg;
  const key = r.getPublicKey?.();
  if (key) response.publicKey = toBase64url(key);
  const authData = r.getAuthenticatorData?.();
  if (authData) response.authenticatorData = toBase64url(authData);
  return { ...base(cred), response };
}

/** authenticationJSON is the body's `response` for verify-authentication. */
export function authenticationJSON(cred: CredentialLike): Json {
  const r = cred.response;
  if (!r.authenticatorData || !r.signature) throw new TypeError("not an assertion credential");
  const response: Json = {
    clientDataJSON: toBase64url(r.clientDataJSON),
    authenticatorData: toBase64url(r.authenticatorData),
    signature: toBase64url(r.signature),
  };
  if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  return { ...base(cred), response };
}

/** A ceremony failure, with the code upstream's client reports for it. */
export class CeremonyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function ceremonyError(err: unknown, registering: boolean): CeremonyError {
  const name = err instanceof Error ? err.name : "";
  if (name === "InvalidStateError" && registering) {
    return new CeremonyError("ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED", "Previously registered");
  }
  if (name === "NotAllowedError" || name === "AbortError") {
    return new CeremonyError(
      registering ? "ERROR_CEREMONY_ABORTED" : "AUTH_CANCELLED",
      registering ? "Registration cancelled" : "Auth cancelled",
    );
  }
  return new CeremonyError(registering ? "UNKNOWN_ERROR" : "AUTH_CANCELLED", err instanceof Error ? err.message : String(err));
}

// Only one ceremony may be pending: a button click must cancel a waiting autofill request first.
let pending: AbortController | undefined;

function nextSignal(): AbortSignal {
  pending?.abort(new DOMException("superseded by a new ceremony", "AbortError"));
  pending = new AbortController();
  return pending.signal;
}

function webauthn(): CredentialsContainer {
  if (typeof navigator === "undefined" || !navigator.credentials || typeof PublicKeyCredential === "undefined") {
    throw new CeremonyError("ERROR_WEBAUTHN_NOT_SUPPORTED", "WebAuthn is not supported in this browser");
  }
  return navigator.credentials;
}

export async function createCredential(options: Json, autoRegister = false): Promise<Json> {
  const container = webauthn();
  const init: CredentialCreationOptions = { publicKey: creationOptions(options), signal: nextSignal() };
  // Conditional create lets a password manager add a passkey without a dialog (Chrome 136+).
  if (autoRegister) (init as { mediation?: string }).mediation = "conditional";
  let cred: Credential | null;
  try {
    cred = await container.create(init);
  } catch (err) {
    throw ceremonyError(err, true);
  }
  if (!cred) throw new CeremonyError("ERROR_CEREMONY_ABORTED", "Registration cancelled");
  return registrationJSON(cred as unknown as CredentialLike);
}

/** getCredential runs the sign-in ceremony; autoFill waits for the user to pick a passkey from the field's autofill list. */
export async function getCredential(options: Json, autoFill = false): Promise<Json> {
  const container = webauthn();
  const init: CredentialRequestOptions = { publicKey: requestOptions(options), signal: nextSignal() };
  if (autoFill) {
    const available = await PublicKeyCredential.isConditionalMediationAvailable?.();
    if (!available) throw new CeremonyError("ERROR_AUTOFILL_NOT_SUPPORTED", "Browser does not support WebAuthn autofill");
    init.mediation = "conditional";
    // Conditional UI lists every passkey for the site: an allow list would hide them.
    if (init.publicKey) delete init.publicKey.allowCredentials;
  }
  let cred: Credential | null;
  try {
    cred = await container.get(init);
  } catch (err) {
    throw ceremonyError(err, false);
  }
  if (!cred) throw new CeremonyError("AUTH_CANCELLED", "Auth cancelled");
  return authenticationJSON(cred as unknown as CredentialLike);
}
