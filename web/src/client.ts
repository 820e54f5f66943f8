// createAuthClient: the same method names, paths and {data, error} results as upstream's
// createAuthClient (upstream packages/better-auth/src/client/vanilla.ts). The plugins passed in
// decide which namespaces exist, at run time and in the types, as upstream's do: core calls are
// here, each plugin's in its own module (plugins.ts, organization.ts, passkey.ts), so a bundler
// leaves out the plugins an app does not use. Each method is spelled out (no Proxy), so every path
// is typed and greppable; a unit test checks each path against upstream's kebab-case rule
// (upstream packages/better-auth/src/client/proxy.ts).

import { createFetch, navigate, type Fetch } from "./fetch.js";
import type { AdditionalFields, FieldsInput, FieldsOutput, FieldsUpdate, UnionToIntersection } from "./infer.js";
import type { OrganizationAPI, OrganizationInfer } from "./organization.js";
import type { PasskeyAPI } from "./passkey.js";
import type { AdminAPI, EmailOTPAPI, MagicLinkAPI, TwoFactorAPI, UsernameAPI } from "./plugins.js";
import { createSessionStore, type SessionOptions, type SessionStore } from "./session.js";
import type {
  AdminSessionFields,
  AdminUserFields,
  BaseSession,
  BaseUser,
  BuiltinSocialProvider,
  FetchOptions,
  Input,
  OrganizationSessionFields,
  Result,
  SessionData,
  TwoFactorUserFields,
  UsernameUserFields,
} from "./types.js";

/** A call: its argument is the body's fields plus `query` and `fetchOptions`, its answer {data, error}. */
export type Endpoint<Body, Data, Query = Record<string, unknown>> = {} extends Body
  ? (input?: Input<Body, Query, Data>, fetchOptions?: FetchOptions<Data>) => Promise<Result<Data>>
  : (input: Input<Body, Query, Data>, fetchOptions?: FetchOptions<Data>) => Promise<Result<Data>>;

/** What a plugin's calls are built with. */
export interface PluginContext {
  /** endpoint maps a call to a request exactly as upstream's proxy does (see createAuthClient). */
  endpoint<Body, Data, Query = Record<string, unknown>>(path: string): Endpoint<Body, Data, Query>;
  $fetch: Fetch;
  session: SessionStore<unknown>;
  /** onCall runs listener with the path of every successful call (not the stores' own loads). */
  onCall(listener: (path: string) => void): void;
}

/**
 * A client plugin, as upstream's `plugins: [twoFactorClient(...)]` entries: its id decides the
 * namespaces the client's type has; actions builds them at run time.
 */
export interface ClientPlugin<Id extends string = string> {
  id: Id;
  options?: Record<string, unknown>;
  actions?: (ctx: PluginContext) => Record<string, unknown>;
}

export interface TwoFactorClientOptions {
  /** Called when sign-in needs a second factor; the session is not created yet. */
  onTwoFactorRedirect?: (ctx: { twoFactorMethods: string[] }) => void | Promise<void>;
  /** Page to navigate to when sign-in needs a second factor and no callback is given. */
  twoFactorPage?: string;
}

export interface ClientOptions<P extends readonly ClientPlugin[] = readonly ClientPlugin[], OIDC extends string = string> {
  /** The app's origin (then /api/auth is appended) or the full auth URL. Default: this page's origin. */
  baseURL?: string;
  basePath?: string;
  /** Defaults for every request; onRequest/onResponse/onSuccess/onError run for every call. */
  fetchOptions?: FetchOptions;
  sessionOptions?: SessionOptions;
  plugins?: P;
  /**
   * The ids of the sidecar's generic OpenID providers (AUTH_OIDC_<ID>_*), for the types only:
   * they join the built-in ids that signIn.social and linkSocial take.
   */
  oidcProviders?: readonly OIDC[];
  twoFactor?: TwoFactorClientOptions;
  /** Turn off following {redirect: true, url} replies. */
  disableDefaultFetchPlugins?: boolean;
}

/** The types a client's calls are written with: its user and session, and the provider ids. */
export interface Types {
  user: object;
  session: object;
  provider: string;
  userInput: unknown;
  userUpdate: unknown;
}

type Flatten<T> = { [K in keyof T]: T[K] } & {};
type Ids<P> = P extends readonly (infer E)[] ? (E extends { id: infer I } ? I : never) : never;
type PluginUser<Id> = Id extends "two-factor" ? TwoFactorUserFields : Id extends "admin" ? AdminUserFields : Id extends "username" ? UsernameUserFields : never;
type PluginSession<Id> = Id extends "admin" ? AdminSessionFields : Id extends "organization" ? OrganizationSessionFields : never;
type Declared<P> = P extends readonly (infer E)[] ? (E extends { $fields?: infer F } ? F : never) : never;
type DeclaredOf<P, K extends keyof AdditionalFields> = Declared<P> extends infer D ? (D extends { [k in K]?: infer F } ? F : never) : never;
// Each part is never when no plugin adds it, so [X] extends [never] leaves it out.
type And<X> = [X] extends [never] ? unknown : UnionToIntersection<X>;
type Out<F> = [F] extends [never] ? unknown : FieldsOutput<F>;
type In<F> = [F] extends [never] ? unknown : FieldsInput<F>;
type Update<F> = [F] extends [never] ? unknown : FieldsUpdate<F>;

/** The user of a client with plugins P: upstream's base user plus each plugin's and the declared fields. */
export type InferUser<P> = Flatten<BaseUser & And<PluginUser<Ids<P>>> & Out<DeclaredOf<P, "user">>>;
export type InferSession<P> = Flatten<BaseSession & And<PluginSession<Ids<P>>> & Out<DeclaredOf<P, "session">>>;
type UserInput<P> = In<DeclaredOf<P, "user">> & ("username" extends Ids<P> ? { username?: string; displayUsername?: string } : unknown);
type UserUpdate<P> = Update<DeclaredOf<P, "user">> & ("username" extends Ids<P> ? { username?: string; displayUsername?: string } : unknown);

export type TypesOf<P, OIDC extends string> = {
  user: InferUser<P>;
  session: InferSession<P>;
  provider: BuiltinSocialProvider | OIDC;
  userInput: UserInput<P>;
  userUpdate: UserUpdate<P>;
};

type Status = { status: boolean };
type Success = { success: boolean };
type Extra = Record<string, unknown>;

// Paths upstream's client always sends as POST or GET, whatever the body (upstream packages/better-auth/src/client/proxy.ts, pathMethods of the plugins).
const fixedMethods: Record<string, "GET" | "POST"> = {
  "/sign-out": "POST",
  "/revoke-sessions": "POST",
  "/revoke-other-sessions": "POST",
  "/delete-user": "POST",
  "/two-factor/enable": "POST",
  "/two-factor/disable": "POST",
  "/two-factor/send-otp": "POST",
  "/two-factor/generate-backup-codes": "POST",
  "/two-factor/get-totp-uri": "POST",
  "/two-factor/verify-totp": "POST",
  "/two-factor/verify-otp": "POST",
  "/two-factor/verify-backup-code": "POST",
  "/organization/get-full-organization": "GET",
  "/organization/list-user-teams": "GET",
  "/admin/list-users": "GET",
  "/admin/impersonate-user": "POST",
  "/admin/stop-impersonating": "POST",
};

const sessionPaths = new Set([
  "/sign-out",
  "/update-user",
  "/update-session",
  "/sign-up/email",
  "/sign-in/email",
  "/sign-in/username",
  "/delete-user",
  "/verify-email",
  "/revoke-sessions",
  "/revoke-session",
  "/revoke-other-sessions",
  "/change-email",
  "/change-password",
  "/passkey/verify-authentication",
  "/email-otp/verify-email",
  "/sign-in/email-otp",
  "/email-otp/request-email-change",
  "/organization/create",
  "/organization/delete",
  "/organization/remove-member",
  "/organization/leave",
  "/organization/accept-invitation",
  "/admin/impersonate-user",
  "/admin/stop-impersonating",
]);

/** changesSession tells whether a successful call to path makes useSession refetch. */
export function changesSession(path: string): boolean {
  return sessionPaths.has(path) || path.startsWith("/two-factor/") || path.startsWith("/organization/set-active");
}

// Typed here rather than through @types/node: the package runs in browsers too. The literal
// process.env.NAME reads stay, so bundlers can inline NEXT_PUBLIC_ values.
declare const process: { env: Record<string, string | undefined> } | undefined;

export function resolveBaseURL(baseURL?: string, basePath = "/api/auth"): string {
  const hasEnv = typeof process !== "undefined" && process.env !== undefined;
  const given =
    baseURL ??
    (hasEnv ? process.env.BETTER_AUTH_URL ?? process.env.NEXT_PUBLIC_BETTER_AUTH_URL ?? process.env.NEXT_PUBLIC_AUTH_URL : undefined) ??
    (typeof window !== "undefined" && window.location ? window.location.origin : undefined);
  if (!given) return basePath;
  const trimmed = given.replace(/\/+$/, "");
  try {
    const u = new URL(trimmed);
    return u.pathname === "/" || u.pathname === "" ? u.origin + basePath : trimmed;
  } catch {
    return trimmed;
  }
}

/** coreActions are the calls of upstream's client without plugins. */
export function coreActions<T extends Types>(endpoint: PluginContext["endpoint"]) {
  const socialSignIn = endpoint<
    {
      provider: T["provider"];
      callbackURL?: string;
      newUserCallbackURL?: string;
      errorCallbackURL?: string;
      disableRedirect?: boolean;
      scopes?: string[];
      requestSignUp?: boolean;
      loginHint?: string;
      idToken?: { token: string; nonce?: string; accessToken?: string; refreshToken?: string };
    },
    { url?: string; redirect: boolean; token?: string; user?: T["user"] }
  >("/sign-in/social");

  return {
    signUp: {
      email: endpoint<
        { email: string; password: string; name: string; image?: string; callbackURL?: string; rememberMe?: boolean } & T["userInput"] & Extra,
        { token: string | null; user: T["user"] }
      >("/sign-up/email"),
    },
    signIn: {
      email: endpoint<
        { email: string; password: string; rememberMe?: boolean; callbackURL?: string },
        { redirect: boolean; token: string; url?: string; user: T["user"]; twoFactorRedirect?: boolean; twoFactorMethods?: string[] }
      >("/sign-in/email"),
      social: socialSignIn,
    },
    signOut: endpoint<{}, Success>("/sign-out"),
    getSession: endpoint<{}, SessionData<T["user"], T["session"]> | null, { disableCookieCache?: boolean; disableRefresh?: boolean }>("/get-session"),
    listSessions: endpoint<{}, T["session"][]>("/list-sessions"),
    revokeSession: endpoint<{ token: string }, Status>("/revoke-session"),
    revokeSessions: endpoint<{}, Status>("/revoke-sessions"),
    revokeOtherSessions: endpoint<{}, Status>("/revoke-other-sessions"),
    updateUser: endpoint<{ name?: string; image?: string | null } & T["userUpdate"] & Extra, Status>("/update-user"),
    updateSession: endpoint<Extra, { session: T["session"] }>("/update-session"),
    changePassword: endpoint<
      { newPassword: string; currentPassword: string; revokeOtherSessions?: boolean },
      { token: string | null; user: T["user"] }
    >("/change-password"),
    changeEmail: endpoint<{ newEmail: string; callbackURL?: string }, Status>("/change-email"),
    deleteUser: endpoint<{ password?: string; token?: string; callbackURL?: string }, Success & { message: string }>("/delete-user"),
    requestPasswordReset: endpoint<{ email: string; redirectTo?: string }, Status & { message: string }>("/request-password-reset"),
    resetPassword: endpoint<{ newPassword: string; token?: string }, Status>("/reset-password"),
    sendVerificationEmail: endpoint<{ email: string; callbackURL?: string }, Status>("/send-verification-email"),
    verifyEmail: endpoint<{ query: { token: string; callbackURL?: string } }, Status & { user?: T["user"] | null }>("/verify-email"),
    verifyPassword: endpoint<{ password: string }, Status>("/verify-password"),
    listAccounts: endpoint<{}, { id: string; providerId: string; accountId: string; userId: string; scopes: string[]; createdAt: Date; updatedAt: Date }[]>(
      "/list-accounts",
    ),
    linkSocial: endpoint<{ provider: T["provider"]; callbackURL?: string; errorCallbackURL?: string; scopes?: string[] }, { url: string; redirect: boolean }>(
      "/link-social",
    ),
    unlinkAccount: endpoint<{ providerId: string; accountId?: string }, Status>("/unlink-account"),
  };
}

type CoreAPI<T extends Types> = ReturnType<typeof coreActions<T>>;

/** The namespaces (and signIn methods) each plugin adds, by its id. */
type PluginAPI<Id, T extends Types> = Id extends "two-factor"
  ? TwoFactorAPI<T>
  : Id extends "passkey"
    ? PasskeyAPI<T>
    : Id extends "organization"
      ? OrganizationAPI
      : Id extends "magic-link"
        ? MagicLinkAPI<T>
        : Id extends "email-otp"
          ? EmailOTPAPI<T>
          : Id extends "admin"
            ? AdminAPI<T>
            : Id extends "username"
              ? UsernameAPI<T>
              : never;

/** The client createAuthClient returns for plugins P and declared OpenID provider ids OIDC. */
export type AuthClient<P extends readonly ClientPlugin[] = DefaultPlugins, OIDC extends string = never> = CoreAPI<TypesOf<P, OIDC>> &
  And<PluginAPI<Ids<P>, TypesOf<P, OIDC>>> & {
    baseURL: string;
    $fetch: Fetch;
    /** The session store behind useSession, for other frameworks. */
    $session: SessionStore<SessionData<InferUser<P>, InferSession<P>>>;
    /** The stores behind the plugins' hooks (useActiveOrganization, useListPasskeys, …); each plugin adds its own. */
    $stores: {};
    /** Types only, as upstream's: `typeof authClient.$Infer.Session` is what getSession answers. */
    $Infer: Flatten<{ Session: SessionData<InferUser<P>, InferSession<P>> } & ("organization" extends Ids<P> ? OrganizationInfer : unknown)>;
  };

/** The plugins a client is typed with when none are named: all of ours but username. */
export type DefaultPlugins = [
  ClientPlugin<"two-factor">,
  ClientPlugin<"passkey">,
  ClientPlugin<"organization">,
  ClientPlugin<"magic-link">,
  ClientPlugin<"email-otp">,
  ClientPlugin<"admin">,
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** merge adds a plugin's calls to the client; namespaces both have (signIn, $stores) are joined. */
function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    const had = into[key];
    into[key] = isRecord(had) && isRecord(value) ? { ...had, ...value } : value;
  }
}

export function createAuthClient<const P extends readonly ClientPlugin[] = [], const OIDC extends string = never>(
  options: ClientOptions<P, OIDC> = {},
): AuthClient<P, OIDC> {
  const baseURL = resolveBaseURL(options.baseURL, options.basePath);
  const twoFactorOptions: TwoFactorClientOptions = { ...options.plugins?.find((p) => p.id === "two-factor")?.options, ...options.twoFactor };

  let store: SessionStore<unknown> | undefined;
  const $fetch: Fetch = createFetch(baseURL, options.fetchOptions ?? {}, [
    async (path, data, callOptions) => {
      const d = (data ?? {}) as { url?: unknown; redirect?: unknown; twoFactorRedirect?: unknown; twoFactorMethods?: unknown };
      if (!options.disableDefaultFetchPlugins && typeof d.url === "string" && d.redirect) navigate(d.url);
      if (d.twoFactorRedirect) {
        if (twoFactorOptions.onTwoFactorRedirect) {
          await twoFactorOptions.onTwoFactorRedirect({ twoFactorMethods: d.twoFactorMethods as string[] });
        } else if (twoFactorOptions.twoFactorPage) {
          navigate(twoFactorOptions.twoFactorPage);
        }
      }
      if (callOptions.disableSignal || !store || !changesSession(path)) return;
      store.signal();
      if (path === "/sign-out") store.broadcast("signout");
      if (path === "/update-user" || path === "/update-session") store.broadcast("updateUser");
    },
  ]);
  store = createSessionStore($fetch, options.sessionOptions);
  const listeners: ((path: string) => void)[] = [];

  // endpoint maps a call to a request exactly as upstream's proxy does: the argument's query and
  // fetchOptions are taken out, every other field is the JSON body, and the method is the path's
  // fixed one, else fetchOptions.method, else POST when there is a body field and GET otherwise.
  function endpoint<Body, Data, Query = Record<string, unknown>>(path: string): Endpoint<Body, Data, Query> {
    const call = async (input: Record<string, unknown> = {}, fetchOptions: FetchOptions = {}) => {
      const { query, fetchOptions: inputFetchOptions, ...body } = input;
      const opts: FetchOptions = { ...fetchOptions, ...(inputFetchOptions as FetchOptions | undefined) };
      const method = fixedMethods[path] ?? opts.method ?? (Object.keys(body).length > 0 ? "POST" : "GET");
      const res = await $fetch<Data>(path, {
        ...opts,
        method,
        body: method === "GET" || method === "HEAD" ? undefined : { ...body, ...opts.body },
        query: (query as Record<string, unknown> | undefined) ?? opts.query,
      });
      // Only calls signal, not the stores' own loads (which would then reload themselves).
      if (!res.error && !opts.disableSignal) for (const l of listeners) l(path);
      return res;
    };
    return call as unknown as Endpoint<Body, Data, Query>;
  }

  const ctx: PluginContext = { endpoint, $fetch, session: store, onCall: (l) => listeners.push(l) };
  const client: Record<string, unknown> = { baseURL, $fetch, $session: store, $stores: {}, $Infer: {}, ...coreActions(endpoint) };
  for (const plugin of options.plugins ?? []) if (plugin.actions) merge(client, plugin.actions(ctx));
  return client as AuthClient<P, OIDC>;
}
