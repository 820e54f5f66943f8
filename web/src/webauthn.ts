// The browser half of the passkey ceremonies, written against the WebAuthn API directly: the
// server sends options as JSON with base64url binary fields, and wants the credential back in the
// same JSON form (the shapes @simplewebauthn/browser produces, upstream packages/passkey/src/client.ts).

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
  // An empty allow list is left out, as @simplewebauthn/browser does: some platforms then find no key.
  const allow = descriptors(json.allowCredentials);
  if (allow?.length) out.allowCredentials = allow;
  else delete out.allowCredentials;
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
  // Only the two values WebAuthn defines are passed on, as @simplewebauthn/browser does.
  if (cred.authenticatorAttachment === "platform" || cred.authenticatorAttachment === "cross-platform") {
    out.authenticatorAttachment = cred.authenticatorAttachment;
  }
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

/**
 * A failed ceremony whose cause the browser's error tells: the codes and messages of
 * @simplewebauthn/browser's WebAuthnError, which upstream's passkey client reports. Any other
 * failure is thrown as it came; the client reports it as upstream does (AUTH_CANCELLED when
 * signing in, UNKNOWN_ERROR when registering).
 */
export class CeremonyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a ceremony returns: the body's `response`, and the extensions' results kept out of it. */
export interface CeremonyResult {
  response: Json;
  clientExtensionResults: Json;
}

// WebAuthn allows localhost and domain names, never an IP address, as the page's effective domain.
const validDomain = /^((xn--[a-z0-9-]+|[a-z0-9]+(-[a-z0-9]+)*)\.)+([a-z]{2,}|xn--[a-z0-9-]+)$/i;

function domainError(err: DOMException, rpId: string | undefined): CeremonyError | undefined {
  const host = globalThis.location?.hostname ?? "";
  if (host !== "localhost" && !validDomain.test(host)) {
    return new CeremonyError("ERROR_INVALID_DOMAIN", `${host} is an invalid domain`, { cause: err });
  }
  if (rpId !== host) return new CeremonyError("ERROR_INVALID_RP_ID", `The RP ID "${rpId}" is invalid for this domain`, { cause: err });
  return undefined;
}

// The browser's errors that tell what went wrong in either ceremony (WebAuthn's "the user or the
// platform said no" is passed through with the browser's own message).
function commonError(err: DOMException, ceremony: "Authentication" | "Registration"): CeremonyError | undefined {
  switch (err.name) {
    case "AbortError":
      return new CeremonyError("ERROR_CEREMONY_ABORTED", `${ceremony} ceremony was sent an abort signal`, { cause: err });
    case "NotAllowedError":
      return new CeremonyError("ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY", err.message, { cause: err });
    case "UnknownError":
      return new CeremonyError(
        "ERROR_AUTHENTICATOR_GENERAL_ERROR",
        ceremony === "Registration"
          ? "The authenticator was unable to process the specified options, or could not create a new credential"
          : "The authenticator was unable to process the specified options, or could not create a new assertion signature",
        { cause: err },
      );
  }
  return undefined;
}

/** registrationError names why navigator.credentials.create failed, when the error tells. */
export function registrationError(err: unknown, init: CredentialCreationOptions): unknown {
  if (typeof err !== "object" || err === null || !init.publicKey) return err;
  const e = err as DOMException;
  const publicKey = init.publicKey;
  const selection = publicKey.authenticatorSelection;
  switch (e.name) {
    case "ConstraintError":
      if (selection?.requireResidentKey === true) {
        return new CeremonyError(
          "ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT",
          "Discoverable credentials were required but no available authenticator supported it",
          { cause: e },
        );
      }
      if ((init as { mediation?: string }).mediation === "conditional" && selection?.userVerification === "required") {
        return new CeremonyError(
          "ERROR_AUTO_REGISTER_USER_VERIFICATION_FAILURE",
          "User verification was required during automatic registration but it could not be performed",
          { cause: e },
        );
      }
      if (selection?.userVerification === "required") {
        return new CeremonyError(
          "ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT",
          "User verification was required but no available authenticator supported it",
          { cause: e },
        );
      }
      return err;
    case "InvalidStateError":
      return new CeremonyError("ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED", "The authenticator was previously registered", { cause: e });
    case "NotSupportedError":
      if (!publicKey.pubKeyCredParams.some((p) => p.type === "public-key")) {
        return new CeremonyError("ERROR_MALFORMED_PUBKEYCREDPARAMS", 'No entry in pubKeyCredParams was of type "public-key"', { cause: e });
      }
      return new CeremonyError(
        "ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG",
        "No available authenticator supported any of the specified pubKeyCredParams algorithms",
        { cause: e },
      );
    case "SecurityError":
      return domainError(e, publicKey.rp.id) ?? err;
    case "TypeError": {
      const idLength = (publicKey.user.id as ArrayBuffer | ArrayBufferView).byteLength;
      if (idLength < 1 || idLength > 64) {
        return new CeremonyError("ERROR_INVALID_USER_ID_LENGTH", "User ID was not between 1 and 64 characters", { cause: e });
      }
      return err;
    }
  }
  return commonError(e, "Registration") ?? err;
}

/** authenticationError names why navigator.credentials.get failed, when the error tells. */
export function authenticationError(err: unknown, init: CredentialRequestOptions): unknown {
  if (typeof err !== "object" || err === null || !init.publicKey) return err;
  const e = err as DOMException;
  if (e.name === "SecurityError") return domainError(e, init.publicKey.rpId) ?? err;
  return commonError(e, "Authentication") ?? err;
}

// Only one ceremony may be pending: a button click must cancel a waiting autofill request first.
let pending: AbortController | undefined;

function nextSignal(): AbortSignal {
  pending?.abort(new DOMException("Cancelling existing WebAuthn API call for new one", "AbortError"));
  pending = new AbortController();
  return pending.signal;
}

function webauthn(): CredentialsContainer {
  if (typeof PublicKeyCredential !== "function" || typeof navigator === "undefined" || !navigator.credentials) {
    throw new Error("WebAuthn is not supported in this browser");
  }
  return navigator.credentials;
}

function extensionResults(cred: Credential): Json {
  const c = cred as { getClientExtensionResults?: () => Json };
  return typeof c.getClientExtensionResults === "function" ? c.getClientExtensionResults() : {};
}

export async function createCredential(options: Json, autoRegister = false): Promise<CeremonyResult> {
  const container = webauthn();
  const init: CredentialCreationOptions = { publicKey: creationOptions(options), signal: nextSignal() };
  // Conditional create lets a password manager add a passkey without a dialog (Chrome 136+).
  if (autoRegister) (init as { mediation?: string }).mediation = "conditional";
  let cred: Credential | null;
  try {
    cred = await container.create(init);
  } catch (err) {
    throw registrationError(err, init);
  }
  if (!cred) throw new Error("Registration was not completed");
  return { response: registrationJSON(cred as unknown as CredentialLike), clientExtensionResults: extensionResults(cred) };
}

/** getCredential runs the sign-in ceremony; autoFill waits for the user to pick a passkey from the field's autofill list. */
export async function getCredential(options: Json, autoFill = false): Promise<CeremonyResult> {
  const container = webauthn();
  const init: CredentialRequestOptions = { publicKey: requestOptions(options) };
  if (autoFill) {
    const available = await PublicKeyCredential.isConditionalMediationAvailable?.();
    if (!available) throw new Error("Browser does not support WebAuthn autofill");
    // The browser offers passkeys in the autofill list of a field marked for them, so one must exist.
    if (typeof document === "undefined" || document.querySelectorAll("input[autocomplete$='webauthn']").length < 1) {
      throw new Error('No <input> with "webauthn" as the only or last value in its `autocomplete` attribute was detected');
    }
    init.mediation = "conditional";
    // Conditional UI lists every passkey for the site: an allow list would hide them.
    if (init.publicKey) delete init.publicKey.allowCredentials;
  }
  init.signal = nextSignal();
  let cred: Credential | null;
  try {
    cred = await container.get(init);
  } catch (err) {
    throw authenticationError(err, init);
  }
  if (!cred) throw new Error("Authentication was not completed");
  return { response: authenticationJSON(cred as unknown as CredentialLike), clientExtensionResults: extensionResults(cred) };
}
