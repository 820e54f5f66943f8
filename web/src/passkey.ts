// The passkey client plugin (upstream @better-auth/passkey's client): authClient.passkey, with the
// WebAuthn ceremonies run through the browser's API directly, signIn.passkey, and the store
// behind useListPasskeys.

import type { ClientPlugin, PluginContext, Types } from "./client.js";
import { SidecarError } from "./errors.js";
import type { Fetch } from "./fetch.js";
import { createQueryStore, type QueryStore } from "./query.js";
import type { SessionStore } from "./session.js";
import type { FetchOptions, Passkey, Result } from "./types.js";
import { CeremonyError, createCredential, getCredential, type CeremonyResult } from "./webauthn.js";

type Status = { status: boolean };

/** What a ceremony needs of the client. */
interface Ceremonies {
  $fetch: Fetch;
  session: SessionStore<unknown>;
  listPasskeys: QueryStore<Passkey[]>;
}

// A failed passkey ceremony as upstream's passkey client reports it: status 400 with the
// WebAuthn error's code, or its fallback for errors the browser's error does not explain.
function failure(code: string, message: string, status = 400): Result<never> {
  return { data: null, error: { code, message, status, statusText: status === 400 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR" } };
}

function mergeExtensions(server: unknown, mine: unknown): Record<string, unknown> | undefined {
  if (!server && !mine) return undefined;
  return { ...(server as object), ...(mine as object) };
}

// returnWebAuthnResponse's extra: the credential as upstream's client returns it.
const webauthnResult = (c: CeremonyResult) => ({
  response: { ...c.response, clientExtensionResults: c.clientExtensionResults },
  clientExtensionResults: c.clientExtensionResults,
});

export type PasskeySignIn<D> = {
  autoFill?: boolean;
  extensions?: Record<string, unknown>;
  fetchOptions?: FetchOptions<D>;
  returnWebAuthnResponse?: boolean;
};

async function signInPasskey<D>(c: Ceremonies, opts: PasskeySignIn<D> = {}, fetchOptions: FetchOptions<D> = {}): Promise<Result<D>> {
  const challenge = await c.$fetch<Record<string, unknown>>("/passkey/generate-authenticate-options", { method: "GET" });
  if (!challenge.data) return challenge as Result<never>;
  // Every sign-in failure reads "Auth cancelled"; the code tells why.
  const cancelled = (code: string) => failure(code, "Auth cancelled");
  let ceremony: CeremonyResult;
  try {
    const extensions = mergeExtensions(challenge.data.extensions, opts.extensions);
    ceremony = await getCredential({ ...challenge.data, extensions }, opts.autoFill);
  } catch (err) {
    return cancelled(err instanceof CeremonyError ? err.code : "AUTH_CANCELLED");
  }
  try {
    const verified = await c.$fetch<D>("/passkey/verify-authentication", {
      ...opts.fetchOptions,
      ...fetchOptions,
      method: "POST",
      body: { response: ceremony.response },
    });
    c.listPasskeys.signal(); // as upstream, whatever the answer (it updates the counter)
    if (opts.returnWebAuthnResponse) return { ...verified, webauthn: webauthnResult(ceremony) } as unknown as Result<D>;
    return verified;
  } catch {
    return cancelled("AUTH_CANCELLED"); // the network failed: upstream reports a cancel here too
  }
}

export type AddPasskey<D> = {
  name?: string;
  authenticatorAttachment?: "platform" | "cross-platform";
  useAutoRegister?: boolean;
  createSession?: boolean;
  context?: string;
  extensions?: Record<string, unknown>;
  fetchOptions?: FetchOptions<D>;
  returnWebAuthnResponse?: boolean;
};

async function addPasskey<D>(c: Ceremonies, opts: AddPasskey<D> = {}, fetchOptions: FetchOptions<D> = {}): Promise<Result<D>> {
  const query: Record<string, unknown> = {};
  if (opts.authenticatorAttachment) query.authenticatorAttachment = opts.authenticatorAttachment;
  if (opts.name) query.name = opts.name;
  if (opts.context) query.context = opts.context;
  const challenge = await c.$fetch<Record<string, unknown>>("/passkey/generate-register-options", { method: "GET", query });
  if (!challenge.data) return challenge as Result<never>;
  try {
    const extensions = mergeExtensions(challenge.data.extensions, opts.extensions);
    const ceremony = await createCredential({ ...challenge.data, extensions }, opts.useAutoRegister);
    const verified = await c.$fetch<D>("/passkey/verify-registration", {
      ...opts.fetchOptions,
      ...fetchOptions,
      method: "POST",
      body: { response: ceremony.response, name: opts.name, ...(opts.createSession ? { createSession: true } : {}) },
    });
    if (verified.data) c.listPasskeys.signal();
    if ((verified.data as { session?: unknown } | null)?.session) c.session.signal();
    if (opts.returnWebAuthnResponse && verified.data) return { ...verified, webauthn: webauthnResult(ceremony) } as unknown as typeof verified;
    return verified;
  } catch (err) {
    if (!(err instanceof CeremonyError)) {
      // Unexplained failures, the network's included, are a 500 with their own message (the
      // network's own, as upstream's client reports it, not our SidecarError's).
      const why = err instanceof SidecarError && err.cause instanceof Error ? err.cause : err;
      return failure("UNKNOWN_ERROR", why instanceof Error ? why.message : "Unknown error", 500);
    }
    const messages: Record<string, string> = {
      ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: "Previously registered",
      ERROR_CEREMONY_ABORTED: "Registration cancelled",
    };
    return failure(err.code, messages[err.code] ?? err.message);
  }
}

const passkeyChanges = new Set(["/passkey/verify-registration", "/passkey/delete-passkey", "/passkey/update-passkey", "/sign-out"]);

function passkeyActions<T extends Types>({ endpoint, $fetch, session, onCall }: PluginContext) {
  const listPasskeys = createQueryStore<Passkey[]>($fetch, "/passkey/list-user-passkeys");
  onCall((path) => {
    if (passkeyChanges.has(path)) listPasskeys.signal();
  });
  const c: Ceremonies = { $fetch, session, listPasskeys };
  type Signed = { session: T["session"]; user: T["user"] };
  return {
    $stores: { listPasskeys },
    signIn: {
      passkey: (opts?: PasskeySignIn<Signed>, fetchOptions?: FetchOptions<Signed>) => signInPasskey<Signed>(c, opts, fetchOptions),
    },
    passkey: {
      addPasskey: (opts?: AddPasskey<Passkey & Partial<Signed>>, fetchOptions?: FetchOptions<Passkey & Partial<Signed>>) =>
        addPasskey<Passkey & Partial<Signed>>(c, opts, fetchOptions),
      listUserPasskeys: endpoint<{}, Passkey[]>("/passkey/list-user-passkeys"),
      deletePasskey: endpoint<{ id: string }, Status>("/passkey/delete-passkey"),
      updatePasskey: endpoint<{ id: string; name: string }, { passkey: Passkey }>("/passkey/update-passkey"),
    },
  };
}
export type PasskeyAPI<T extends Types> = ReturnType<typeof passkeyActions<T>>;

/** passkeyClient adds authClient.passkey, signIn.passkey and useListPasskeys. */
export const passkeyClient = (): ClientPlugin<"passkey"> => ({ id: "passkey", actions: passkeyActions });
