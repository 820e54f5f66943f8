// createAuthClient: the same method names, paths and {data, error} results as upstream's
// createAuthClient with the twoFactor, passkey, organization, magicLink, emailOTP and admin client plugins.
// Each method is spelled out (no Proxy), so every path is typed and greppable; a unit test checks
// each path against upstream's kebab-case rule (upstream packages/better-auth/src/client/proxy.ts).

import { createFetch, navigate, type Fetch } from "./fetch.js";
import { checkRolePermission, defaultAdminRoles, defaultRoles, type PermissionRequest, type RoleDefinition } from "./permissions.js";
import { createQueryStore } from "./query.js";
import { createSessionStore, type SessionOptions, type SessionStore } from "./session.js";
import type {
  FetchOptions,
  FullOrganization,
  Input,
  Invitation,
  ListUsersQuery,
  Member,
  Organization,
  Passkey,
  Result,
  Session,
  SessionData,
  SocialProvider,
  Team,
  User,
  UserList,
} from "./types.js";
import { CeremonyError, createCredential, getCredential, type CeremonyResult } from "./webauthn.js";

/** A plugin entry, for code written against upstream's `plugins: [twoFactorClient(...)]`. */
export interface ClientPlugin {
  id: string;
  options?: Record<string, unknown>;
}

export interface TwoFactorClientOptions {
  /** Called when sign-in needs a second factor; the session is not created yet. */
  onTwoFactorRedirect?: (ctx: { twoFactorMethods: string[] }) => void | Promise<void>;
  /** Page to navigate to when sign-in needs a second factor and no callback is given. */
  twoFactorPage?: string;
}

export const twoFactorClient = (options: TwoFactorClientOptions = {}): ClientPlugin => ({ id: "two-factor", options: { ...options } });
export const passkeyClient = (): ClientPlugin => ({ id: "passkey" });
export interface OrganizationClientOptions {
  /** Roles for checkRolePermission, added to (or replacing same-named) owner, admin and member. */
  roles?: Record<string, RoleDefinition>;
  /** Accepted for code written against upstream; the roles alone decide. */
  ac?: unknown;
  teams?: { enabled?: boolean };
  dynamicAccessControl?: { enabled?: boolean };
  schema?: unknown;
}

export const organizationClient = (options: OrganizationClientOptions = {}): ClientPlugin => ({ id: "organization", options: { ...options } });
export const magicLinkClient = (): ClientPlugin => ({ id: "magic-link" });
export interface AdminClientOptions {
  /** Roles for admin.checkRolePermission, added to (or replacing same-named) admin and user. */
  roles?: Record<string, RoleDefinition>;
  /** Accepted for code written against upstream; the roles alone decide. */
  ac?: unknown;
}
export const adminClient = (options: AdminClientOptions = {}): ClientPlugin => ({ id: "admin", options: { ...options } });
export const emailOTPClient = (): ClientPlugin => ({ id: "email-otp" });

export interface ClientOptions {
  /** The app's origin (then /api/auth is appended) or the full auth URL. Default: this page's origin. */
  baseURL?: string;
  basePath?: string;
  /** Defaults for every request; onSuccess/onError run for every call. */
  fetchOptions?: FetchOptions;
  sessionOptions?: SessionOptions;
  plugins?: ClientPlugin[];
  twoFactor?: TwoFactorClientOptions;
  /** Turn off following {redirect: true, url} replies. */
  disableDefaultFetchPlugins?: boolean;
}

type Endpoint<Body, Data, Query = Record<string, unknown>> = {} extends Body
  ? (input?: Input<Body, Query>, fetchOptions?: FetchOptions) => Promise<Result<Data>>
  : (input: Input<Body, Query>, fetchOptions?: FetchOptions) => Promise<Result<Data>>;

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

export function createAuthClient(options: ClientOptions = {}) {
  const baseURL = resolveBaseURL(options.baseURL, options.basePath);
  const pluginOptions = (id: string) => options.plugins?.find((p) => p.id === id)?.options ?? {};
  const twoFactorOptions: TwoFactorClientOptions = { ...pluginOptions("two-factor"), ...options.twoFactor };
  // As upstream's organizationClient: the configured roles go over the default ones.
  const roles: Record<string, RoleDefinition> = { ...defaultRoles, ...(pluginOptions("organization") as OrganizationClientOptions).roles };
  const adminRoles: Record<string, RoleDefinition> = { ...defaultAdminRoles, ...(pluginOptions("admin") as AdminClientOptions).roles };

  let store: SessionStore | undefined;
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
  const session = store;

  // The stores behind upstream's other hooks, and the calls after which each reloads (upstream's
  // atomListeners; the active organization's also follow every session change).
  const stores = {
    activeOrganization: createQueryStore<FullOrganization>($fetch, "/organization/get-full-organization"),
    listOrganizations: createQueryStore<Organization[]>($fetch, "/organization/list"),
    activeMember: createQueryStore<Member>($fetch, "/organization/get-active-member"),
    activeMemberRole: createQueryStore<{ role: string }>($fetch, "/organization/get-active-member-role"),
    listPasskeys: createQueryStore<Passkey[]>($fetch, "/passkey/list-user-passkeys"),
  };
  const listChanges = new Set(["/organization/create", "/organization/delete", "/organization/update"]);
  const passkeyChanges = new Set(["/passkey/verify-registration", "/passkey/delete-passkey", "/passkey/update-passkey", "/sign-out"]);
  function signalStores(path: string) {
    if (listChanges.has(path)) stores.listOrganizations.signal();
    if (changesSession(path) || path.startsWith("/organization")) {
      stores.activeOrganization.signal();
      stores.activeMember.signal();
      stores.activeMemberRole.signal();
    }
    if (passkeyChanges.has(path)) stores.listPasskeys.signal();
  }

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
      if (!res.error && !opts.disableSignal) signalStores(path);
      return res;
    };
    return call as unknown as Endpoint<Body, Data, Query>;
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

  type PasskeySignIn = {
    autoFill?: boolean;
    extensions?: Record<string, unknown>;
    fetchOptions?: FetchOptions;
    returnWebAuthnResponse?: boolean;
  };

  async function signInPasskey(opts: PasskeySignIn = {}, fetchOptions: FetchOptions = {}): Promise<Result<SessionData>> {
    const challenge = await $fetch<Record<string, unknown>>("/passkey/generate-authenticate-options", { method: "GET" });
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
      const verified = await $fetch<SessionData>("/passkey/verify-authentication", {
        ...opts.fetchOptions,
        ...fetchOptions,
        method: "POST",
        body: { response: ceremony.response },
      });
      stores.listPasskeys.signal(); // as upstream, whatever the answer (it updates the counter)
      if (opts.returnWebAuthnResponse) return { ...verified, webauthn: webauthnResult(ceremony) } as unknown as Result<SessionData>;
      return verified;
    } catch {
      return cancelled("AUTH_CANCELLED"); // the network failed: upstream reports a cancel here too
    }
  }

  type AddPasskey = {
    name?: string;
    authenticatorAttachment?: "platform" | "cross-platform";
    useAutoRegister?: boolean;
    createSession?: boolean;
    context?: string;
    extensions?: Record<string, unknown>;
    fetchOptions?: FetchOptions;
    returnWebAuthnResponse?: boolean;
  };

  async function addPasskey(
    opts: AddPasskey = {},
    fetchOptions: FetchOptions = {},
  ): Promise<Result<Passkey & Partial<SessionData>>> {
    const query: Record<string, unknown> = {};
    if (opts.authenticatorAttachment) query.authenticatorAttachment = opts.authenticatorAttachment;
    if (opts.name) query.name = opts.name;
    if (opts.context) query.context = opts.context;
    const challenge = await $fetch<Record<string, unknown>>("/passkey/generate-register-options", { method: "GET", query });
    if (!challenge.data) return challenge as Result<never>;
    try {
      const extensions = mergeExtensions(challenge.data.extensions, opts.extensions);
      const ceremony = await createCredential({ ...challenge.data, extensions }, opts.useAutoRegister);
      const verified = await $fetch<Passkey & Partial<SessionData>>("/passkey/verify-registration", {
        ...opts.fetchOptions,
        ...fetchOptions,
        method: "POST",
        body: { response: ceremony.response, name: opts.name, ...(opts.createSession ? { createSession: true } : {}) },
      });
      if (verified.data) stores.listPasskeys.signal();
      if (verified.data?.session) session.signal();
      if (opts.returnWebAuthnResponse && verified.data) return { ...verified, webauthn: webauthnResult(ceremony) } as unknown as typeof verified;
      return verified;
    } catch (err) {
      if (!(err instanceof CeremonyError)) {
        // Unexplained failures, the network's included, are a 500 with their own message.
        return failure("UNKNOWN_ERROR", err instanceof Error ? err.message : "Unknown error", 500);
      }
      const messages: Record<string, string> = {
        ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: "Previously registered",
        ERROR_CEREMONY_ABORTED: "Registration cancelled",
      };
      return failure(err.code, messages[err.code] ?? err.message);
    }
  }

  const socialSignIn = endpoint<
    {
      provider: SocialProvider;
      callbackURL?: string;
      newUserCallbackURL?: string;
      errorCallbackURL?: string;
      disableRedirect?: boolean;
      scopes?: string[];
      requestSignUp?: boolean;
      loginHint?: string;
      idToken?: { token: string; nonce?: string; accessToken?: string; refreshToken?: string };
    },
    { url?: string; redirect: boolean; token?: string; user?: User }
  >("/sign-in/social");

  return {
    baseURL,
    $fetch,
    /** The stores behind useActiveOrganization, useListOrganizations, useActiveMember, useActiveMemberRole and useListPasskeys. */
    $stores: stores,
    /** The session store behind useSession, for other frameworks. */
    $session: session,

    signUp: {
      email: endpoint<
        { email: string; password: string; name: string; image?: string; callbackURL?: string; rememberMe?: boolean } & Extra,
        { token: string | null; user: User }
      >("/sign-up/email"),
    },
    signIn: {
      email: endpoint<
        { email: string; password: string; rememberMe?: boolean; callbackURL?: string },
        { redirect: boolean; token: string; url?: string; user: User; twoFactorRedirect?: boolean; twoFactorMethods?: string[] }
      >("/sign-in/email"),
      social: socialSignIn,
      magicLink: endpoint<
        { email: string; name?: string; callbackURL?: string; newUserCallbackURL?: string; errorCallbackURL?: string; metadata?: Extra },
        Status
      >("/sign-in/magic-link"),
      emailOtp: endpoint<{ email: string; otp: string; name?: string; image?: string } & Extra, { token: string; user: User }>(
        "/sign-in/email-otp",
      ),
      passkey: signInPasskey,
    },
    signOut: endpoint<{}, Success>("/sign-out"),
    getSession: endpoint<{}, SessionData | null, { disableCookieCache?: boolean; disableRefresh?: boolean }>("/get-session"),
    listSessions: endpoint<{}, Session[]>("/list-sessions"),
    revokeSession: endpoint<{ token: string }, Status>("/revoke-session"),
    revokeSessions: endpoint<{}, Status>("/revoke-sessions"),
    revokeOtherSessions: endpoint<{}, Status>("/revoke-other-sessions"),
    updateUser: endpoint<{ name?: string; image?: string | null } & Extra, Status>("/update-user"),
    updateSession: endpoint<Extra, { session: Session }>("/update-session"),
    changePassword: endpoint<
      { newPassword: string; currentPassword: string; revokeOtherSessions?: boolean },
      { token: string | null; user: User }
    >("/change-password"),
    changeEmail: endpoint<{ newEmail: string; callbackURL?: string }, Status>("/change-email"),
    deleteUser: endpoint<{ password?: string; token?: string; callbackURL?: string }, Success & { message: string }>("/delete-user"),
    requestPasswordReset: endpoint<{ email: string; redirectTo?: string }, Status & { message: string }>("/request-password-reset"),
    resetPassword: endpoint<{ newPassword: string; token?: string }, Status>("/reset-password"),
    sendVerificationEmail: endpoint<{ email: string; callbackURL?: string }, Status>("/send-verification-email"),
    verifyEmail: endpoint<{ query: { token: string; callbackURL?: string } }, Status & { user?: User | null }>("/verify-email"),
    verifyPassword: endpoint<{ password: string }, Status>("/verify-password"),
    listAccounts: endpoint<{}, { id: string; providerId: string; accountId: string; userId: string; scopes: string[]; createdAt: Date; updatedAt: Date }[]>(
      "/list-accounts",
    ),
    linkSocial: endpoint<{ provider: SocialProvider; callbackURL?: string; errorCallbackURL?: string; scopes?: string[] }, { url: string; redirect: boolean }>(
      "/link-social",
    ),
    unlinkAccount: endpoint<{ providerId: string; accountId?: string }, Status>("/unlink-account"),

    twoFactor: {
      enable: endpoint<{ password?: string; issuer?: string; method?: "totp" | "otp" }, { method?: string; totpURI?: string; backupCodes?: string[] }>(
        "/two-factor/enable",
      ),
      disable: endpoint<{ password?: string }, Status>("/two-factor/disable"),
      getTotpUri: endpoint<{ password?: string }, { totpURI: string }>("/two-factor/get-totp-uri"),
      verifyTotp: endpoint<{ code: string; trustDevice?: boolean }, { token: string; user: User }>("/two-factor/verify-totp"),
      sendOtp: endpoint<{ trustDevice?: boolean }, Status>("/two-factor/send-otp"),
      verifyOtp: endpoint<{ code: string; trustDevice?: boolean }, { token: string; user: User }>("/two-factor/verify-otp"),
      generateBackupCodes: endpoint<{ password?: string }, Status & { backupCodes: string[] }>("/two-factor/generate-backup-codes"),
      verifyBackupCode: endpoint<{ code: string; disableSession?: boolean; trustDevice?: boolean }, { token?: string; user: User }>(
        "/two-factor/verify-backup-code",
      ),
    },

    passkey: {
      addPasskey,
      listUserPasskeys: endpoint<{}, Passkey[]>("/passkey/list-user-passkeys"),
      deletePasskey: endpoint<{ id: string }, Status>("/passkey/delete-passkey"),
      updatePasskey: endpoint<{ id: string; name: string }, { passkey: Passkey }>("/passkey/update-passkey"),
    },

    magicLink: {
      verify: endpoint<
        { query: { token: string; callbackURL?: string; errorCallbackURL?: string; newUserCallbackURL?: string } },
        { token: string; user: User; session: Session }
      >("/magic-link/verify"),
    },

    emailOtp: {
      sendVerificationOtp: endpoint<{ email: string; type: "email-verification" | "sign-in" | "forget-password" }, Success>(
        "/email-otp/send-verification-otp",
      ),
      checkVerificationOtp: endpoint<{ email: string; type: string; otp: string }, Success>("/email-otp/check-verification-otp"),
      verifyEmail: endpoint<{ email: string; otp: string }, Status & { token: string | null; user: User }>("/email-otp/verify-email"),
      requestPasswordReset: endpoint<{ email: string }, Success>("/email-otp/request-password-reset"),
      resetPassword: endpoint<{ email: string; otp: string; password: string }, Success>("/email-otp/reset-password"),
      requestEmailChange: endpoint<{ newEmail: string; otp?: string }, Success>("/email-otp/request-email-change"),
      changeEmail: endpoint<{ newEmail: string; otp: string }, Success>("/email-otp/change-email"),
    },

    organization: {
      create: endpoint<
        { name: string; slug: string; logo?: string | null; metadata?: Extra; keepCurrentActiveOrganization?: boolean } & Extra,
        Organization & { members: Member[] }
      >("/organization/create"),
      checkSlug: endpoint<{ slug: string }, Status>("/organization/check-slug"),
      update: endpoint<{ data: Extra; organizationId?: string }, Organization>("/organization/update"),
      delete: endpoint<{ organizationId: string }, Organization>("/organization/delete"),
      setActive: endpoint<{ organizationId?: string | null; organizationSlug?: string }, Organization | null>("/organization/set-active"),
      getOrganization: endpoint<{}, Organization | null, { organizationId?: string; organizationSlug?: string }>("/organization/get-organization"),
      getFullOrganization: endpoint<
        {},
        FullOrganization | null,
        { organizationId?: string; organizationSlug?: string; membersLimit?: number }
      >("/organization/get-full-organization"),
      list: endpoint<{}, Organization[]>("/organization/list"),
      inviteMember: endpoint<
        { email: string; role: string | string[]; organizationId?: string; resend?: boolean; teamId?: string | string[] } & Extra,
        Invitation
      >("/organization/invite-member"),
      acceptInvitation: endpoint<{ invitationId: string }, { invitation: Invitation; member: Member }>("/organization/accept-invitation"),
      rejectInvitation: endpoint<{ invitationId: string }, { invitation: Invitation; member: null }>("/organization/reject-invitation"),
      cancelInvitation: endpoint<{ invitationId: string }, Invitation>("/organization/cancel-invitation"),
      getInvitation: endpoint<
        { query: { id: string } },
        Invitation & { organizationName: string; organizationSlug: string; inviterEmail: string }
      >("/organization/get-invitation"),
      listInvitations: endpoint<{}, Invitation[], { organizationId?: string }>("/organization/list-invitations"),
      listUserInvitations: endpoint<{}, (Invitation & { organizationName: string })[]>("/organization/list-user-invitations"),
      removeMember: endpoint<{ memberIdOrEmail: string; organizationId?: string }, { member: Member }>("/organization/remove-member"),
      updateMemberRole: endpoint<{ memberId: string; role: string | string[]; organizationId?: string }, Member>(
        "/organization/update-member-role",
      ),
      getActiveMember: endpoint<{}, Member>("/organization/get-active-member"),
      getActiveMemberRole: endpoint<{}, { role: string }, { userId?: string; organizationId?: string; organizationSlug?: string }>(
        "/organization/get-active-member-role",
      ),
      leave: endpoint<{ organizationId: string }, Member>("/organization/leave"),
      listMembers: endpoint<{}, { members: Member[]; total: number }, Record<string, string | number | undefined>>("/organization/list-members"),
      hasPermission: endpoint<{ permissions: Record<string, string[]>; organizationId?: string }, { error: null; success: boolean }>(
        "/organization/has-permission",
      ),
      /** Runs the access-control check locally against the default (or configured) roles; no request. */
      checkRolePermission: (input: { role: string | string[]; permissions: PermissionRequest }) => checkRolePermission(input, roles),
      createTeam: endpoint<{ name: string; organizationId?: string } & Extra, Team>("/organization/create-team"),
      listTeams: endpoint<{}, Team[], { organizationId?: string }>("/organization/list-teams"),
      updateTeam: endpoint<{ teamId: string; data: Extra }, Team>("/organization/update-team"),
      removeTeam: endpoint<{ teamId: string; organizationId?: string }, { message: string }>("/organization/remove-team"),
      setActiveTeam: endpoint<{ teamId?: string | null }, Team | null>("/organization/set-active-team"),
      listUserTeams: endpoint<{}, Team[], { userId?: string; organizationId?: string }>("/organization/list-user-teams"),
      listTeamMembers: endpoint<{}, { id: string; teamId: string; userId: string; createdAt: Date }[], { teamId?: string }>(
        "/organization/list-team-members",
      ),
      addTeamMember: endpoint<{ teamId: string; userId: string; organizationId?: string }, { id: string; teamId: string; userId: string }>(
        "/organization/add-team-member",
      ),
      removeTeamMember: endpoint<{ teamId: string; userId: string; organizationId?: string }, { message: string }>(
        "/organization/remove-team-member",
      ),
    },

    admin: {
      createUser: endpoint<
        { email: string; password?: string; name: string; role?: string | string[]; data?: Extra },
        { user: User }
      >("/admin/create-user"),
      getUser: endpoint<{ query: { id: string } }, User>("/admin/get-user"),
      updateUser: endpoint<{ userId: string; data: Extra }, User>("/admin/update-user"),
      listUsers: endpoint<{ query: ListUsersQuery }, UserList>("/admin/list-users"),
      setRole: endpoint<{ userId: string; role: string | string[] }, { user: User }>("/admin/set-role"),
      banUser: endpoint<{ userId: string; banReason?: string; banExpiresIn?: number }, { user: User }>("/admin/ban-user"),
      unbanUser: endpoint<{ userId: string }, { user: User }>("/admin/unban-user"),
      listUserSessions: endpoint<{ userId: string }, { sessions: Session[] }>("/admin/list-user-sessions"),
      revokeUserSession: endpoint<{ sessionToken: string }, Success>("/admin/revoke-user-session"),
      revokeUserSessions: endpoint<{ userId: string }, Success>("/admin/revoke-user-sessions"),
      impersonateUser: endpoint<{ userId: string }, SessionData>("/admin/impersonate-user"),
      stopImpersonating: endpoint<{}, SessionData>("/admin/stop-impersonating"),
      removeUser: endpoint<{ userId: string }, Success>("/admin/remove-user"),
      setUserPassword: endpoint<{ userId: string; newPassword: string }, Status>("/admin/set-user-password"),
      hasPermission: endpoint<{ permissions: Record<string, string[]>; userId?: string; role?: string }, { error: null; success: boolean }>(
        "/admin/has-permission",
      ),
      /** Runs the admin access-control check locally against the default (or configured) roles; no request. */
      checkRolePermission: (input: { role: string | string[]; permissions: PermissionRequest }) => checkRolePermission(input, adminRoles),
    },
  };
}

export type AuthClient = ReturnType<typeof createAuthClient>;
