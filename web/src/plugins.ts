// The client plugins but organization's and passkey's (organization.ts, passkey.ts): each a
// function returning a ClientPlugin whose id decides the namespaces the client is typed with and
// whose actions build them, as upstream's twoFactorClient, magicLinkClient, emailOTPClient,
// adminClient, usernameClient and inferAdditionalFields.

import type { ClientPlugin, PluginContext, Types, TwoFactorClientOptions } from "./client.js";
import type { AdditionalFields } from "./infer.js";
import { checkRolePermission, defaultAdminRoles, type PermissionRequest, type RoleDefinition } from "./permissions.js";
import type { ListUsersQuery } from "./types.js";

type Status = { status: boolean };
type Success = { success: boolean };
type Extra = Record<string, unknown>;

function twoFactorActions<T extends Types>({ endpoint }: PluginContext) {
  return {
    twoFactor: {
      enable: endpoint<{ password?: string; issuer?: string; method?: "totp" | "otp" }, { method?: string; totpURI?: string; backupCodes?: string[] }>(
        "/two-factor/enable",
      ),
      disable: endpoint<{ password?: string }, Status>("/two-factor/disable"),
      getTotpUri: endpoint<{ password?: string }, { totpURI: string }>("/two-factor/get-totp-uri"),
      verifyTotp: endpoint<{ code: string; trustDevice?: boolean }, { token: string; user: T["user"] }>("/two-factor/verify-totp"),
      sendOtp: endpoint<{ trustDevice?: boolean }, Status>("/two-factor/send-otp"),
      verifyOtp: endpoint<{ code: string; trustDevice?: boolean }, { token: string; user: T["user"] }>("/two-factor/verify-otp"),
      generateBackupCodes: endpoint<{ password?: string }, Status & { backupCodes: string[] }>("/two-factor/generate-backup-codes"),
      verifyBackupCode: endpoint<{ code: string; disableSession?: boolean; trustDevice?: boolean }, { token?: string; user: T["user"] }>(
        "/two-factor/verify-backup-code",
      ),
    },
  };
}
export type TwoFactorAPI<T extends Types> = ReturnType<typeof twoFactorActions<T>>;

/** twoFactorClient adds authClient.twoFactor; onTwoFactorRedirect or twoFactorPage take over a sign-in that needs a second factor. */
export const twoFactorClient = (options: TwoFactorClientOptions = {}): ClientPlugin<"two-factor"> => ({
  id: "two-factor",
  options: { ...options },
  actions: twoFactorActions,
});

function magicLinkActions<T extends Types>({ endpoint }: PluginContext) {
  return {
    signIn: {
      magicLink: endpoint<
        { email: string; name?: string; callbackURL?: string; newUserCallbackURL?: string; errorCallbackURL?: string; metadata?: Extra },
        Status
      >("/sign-in/magic-link"),
    },
    magicLink: {
      verify: endpoint<
        { query: { token: string; callbackURL?: string; errorCallbackURL?: string; newUserCallbackURL?: string } },
        { token: string; user: T["user"]; session: T["session"] }
      >("/magic-link/verify"),
    },
  };
}
export type MagicLinkAPI<T extends Types> = ReturnType<typeof magicLinkActions<T>>;
export const magicLinkClient = (): ClientPlugin<"magic-link"> => ({ id: "magic-link", actions: magicLinkActions });

function emailOTPActions<T extends Types>({ endpoint }: PluginContext) {
  return {
    signIn: {
      emailOtp: endpoint<{ email: string; otp: string; name?: string; image?: string } & Extra, { token: string; user: T["user"] }>(
        "/sign-in/email-otp",
      ),
    },
    emailOtp: {
      sendVerificationOtp: endpoint<{ email: string; type: "email-verification" | "sign-in" | "forget-password" }, Success>(
        "/email-otp/send-verification-otp",
      ),
      checkVerificationOtp: endpoint<{ email: string; type: string; otp: string }, Success>("/email-otp/check-verification-otp"),
      verifyEmail: endpoint<{ email: string; otp: string }, Status & { token: string | null; user: T["user"] }>("/email-otp/verify-email"),
      requestPasswordReset: endpoint<{ email: string }, Success>("/email-otp/request-password-reset"),
      resetPassword: endpoint<{ email: string; otp: string; password: string }, Success>("/email-otp/reset-password"),
      requestEmailChange: endpoint<{ newEmail: string; otp?: string }, Success>("/email-otp/request-email-change"),
      changeEmail: endpoint<{ newEmail: string; otp: string }, Success>("/email-otp/change-email"),
    },
  };
}
export type EmailOTPAPI<T extends Types> = ReturnType<typeof emailOTPActions<T>>;
export const emailOTPClient = (): ClientPlugin<"email-otp"> => ({ id: "email-otp", actions: emailOTPActions });

export interface AdminClientOptions {
  /** Roles for admin.checkRolePermission, added to (or replacing same-named) admin and user. */
  roles?: Record<string, RoleDefinition>;
  /** Accepted for code written against upstream; the roles alone decide. */
  ac?: unknown;
}

function adminActions<T extends Types>({ endpoint }: PluginContext, adminRoles: Record<string, RoleDefinition>) {
  return {
    admin: {
      createUser: endpoint<
        { email: string; password?: string; name: string; role?: string | string[]; data?: Extra },
        { user: T["user"] }
      >("/admin/create-user"),
      getUser: endpoint<{ query: { id: string } }, T["user"]>("/admin/get-user"),
      updateUser: endpoint<{ userId: string; data: Extra }, T["user"]>("/admin/update-user"),
      listUsers: endpoint<{ query: ListUsersQuery }, { users: T["user"][]; total: number; limit?: number; offset?: number }>("/admin/list-users"),
      setRole: endpoint<{ userId: string; role: string | string[] }, { user: T["user"] }>("/admin/set-role"),
      banUser: endpoint<{ userId: string; banReason?: string; banExpiresIn?: number }, { user: T["user"] }>("/admin/ban-user"),
      unbanUser: endpoint<{ userId: string }, { user: T["user"] }>("/admin/unban-user"),
      listUserSessions: endpoint<{ userId: string }, { sessions: T["session"][] }>("/admin/list-user-sessions"),
      revokeUserSession: endpoint<{ sessionToken: string }, Success>("/admin/revoke-user-session"),
      revokeUserSessions: endpoint<{ userId: string }, Success>("/admin/revoke-user-sessions"),
      impersonateUser: endpoint<{ userId: string }, { session: T["session"]; user: T["user"] }>("/admin/impersonate-user"),
      stopImpersonating: endpoint<{}, { session: T["session"]; user: T["user"] }>("/admin/stop-impersonating"),
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
export type AdminAPI<T extends Types> = ReturnType<typeof adminActions<T>>;

/** adminClient adds authClient.admin; checkRolePermission answers locally from the default roles and options.roles. */
export const adminClient = (options: AdminClientOptions = {}): ClientPlugin<"admin"> => {
  // As upstream's adminClient: the configured roles go over the default ones.
  const roles: Record<string, RoleDefinition> = { ...defaultAdminRoles, ...options.roles };
  return { id: "admin", options: { ...options }, actions: (ctx) => adminActions(ctx, roles) };
};

function usernameActions<T extends Types>({ endpoint }: PluginContext) {
  return {
    signIn: {
      username: endpoint<
        { username: string; password: string; rememberMe?: boolean; callbackURL?: string },
        { token: string; user: T["user"]; redirect?: boolean; url?: string; twoFactorRedirect?: boolean; twoFactorMethods?: string[] }
      >("/sign-in/username"),
    },
    isUsernameAvailable: endpoint<{ username: string }, { available: boolean }>("/is-username-available"),
  };
}
export type UsernameAPI<T extends Types> = ReturnType<typeof usernameActions<T>>;

/**
 * usernameClient adds signIn.username and isUsernameAvailable (the sidecar's username plugin:
 * USERNAME_ENABLED=true or a {"id": "username"} plugin entry), and username/displayUsername to the
 * user, as upstream's usernameClient.
 */
export const usernameClient = (): ClientPlugin<"username"> => ({ id: "username", actions: usernameActions });

/**
 * inferAdditionalFields types the additionalFields the sidecar's config file declares: pass its
 * `user` and `session` blocks as written there, e.g. inferAdditionalFields({ user: { age: { type:
 * "number", required: true } } }). They then appear on the user and session of getSession,
 * useSession and every call answering a user, and sign-up and updateUser take them. Types only:
 * nothing is sent or checked in the browser.
 */
export const inferAdditionalFields = <const F extends AdditionalFields>(fields?: F): ClientPlugin<"additional-fields"> & { $fields?: F } => ({
  id: "additional-fields",
  options: { ...fields },
});
