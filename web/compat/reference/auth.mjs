// The reference Better Auth instance the harness compares authsidecar with: npm better-auth
// configured the way authsidecar ships (see ../README.md). server.mjs serves it, migrate.mjs
// migrates its schema, ../lib/inventory.mjs reads its router. Everything that varies comes from the
// environment:
//   BETTER_AUTH_SECRET  32+ characters (required)
//   BETTER_AUTH_URL     the origin it is reached at (required)
//   DATABASE_URL        postgres:// URL of its own database (required)
//   MAIL_LOG            file that receives one JSON line per mail, in authsidecar's MAIL_LOG shape
//   APP_NAME            app name and TOTP issuer (default "authsidecar")
// and, for the settings the harness varies, the variables authsidecar reads, with its defaults:
//   DELETE_USER_VERIFICATION, EMAIL_OTP_CHANGE_EMAIL, EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT (false),
//   PASSKEY_RP_ID, PASSKEY_RP_NAME ("Better Auth"), and AUTH_GITLAB_CLIENT_ID, AUTH_GITLAB_CLIENT_SECRET,
//   AUTH_GITLAB_ISSUER (GitLab sign-in, at a self-managed instance when the issuer is set),
//   TRUSTED_ORIGINS (comma-separated; the SSO scenarios' identity provider),
//   COOKIE_CACHE_MAX_AGE (seconds; 0 or unset: the session_data cookie cache off; bench/run.sh),
//   BEARER_ENABLED and JWT_ENABLED (false: bearer() and jwt() are listed only when "true"),
//   ADMIN_ROLES, ADMIN_USER_IDS, ADMIN_DEFAULT_ROLE, ADMIN_IMPERSONATION_SESSION_DURATION,
//   ADMIN_DEFAULT_BAN_REASON, ADMIN_BANNED_USER_MESSAGE, ADMIN_ROLES_FILE (the admin plugin;
//   upstream's defaults; the roles file's roles are laid over admin and user, as authsidecar does),
//   REDIS_URL, REDIS_KEY_PREFIX ("better-auth:"), SESSION_STORE_IN_DATABASE and
//   VERIFICATION_STORE_IN_DATABASE (false): secondaryStorage with @better-auth/redis-storage,
//   RATE_LIMIT (false here, unlike authsidecar) and RATE_LIMIT_STORAGE (upstream's default).
//   AUTH_CONFIG (a JSON file of betterAuth() options, the one authsidecar reads, laid over these;
//   its plugins entries, {"id", …options}, laid over the options of the plugin of that id; a
//   "username" entry turns username() on), USERNAME_ENABLED, USERNAME_MIN_LENGTH,
//   USERNAME_MAX_LENGTH, USERNAME_PATTERN (upstream's username(); the variables win over the file).
import { appendFileSync, readFileSync } from "node:fs";
import pg from "pg";
import { betterAuth } from "better-auth";
import { admin, bearer, emailOTP, jwt, magicLink, organization, twoFactor, username } from "better-auth/plugins";
import { adminAc, defaultAc, userAc } from "better-auth/plugins/admin/access";
import { passkey } from "@better-auth/passkey";
import { sso } from "@better-auth/sso";
import { redisStorage } from "@better-auth/redis-storage";
import { Redis } from "ioredis";

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
}

export const baseURL = required("BETTER_AUTH_URL");
const secret = required("BETTER_AUTH_SECRET");
const appName = process.env.APP_NAME || "authsidecar";
const mailLog = process.env.MAIL_LOG || "";
const cookieCacheMaxAge = Number(process.env.COOKIE_CACHE_MAX_AGE || 0);
const on = (name) => process.env[name] === "true";
// adminRoles reads ADMIN_ROLES_FILE ({"role": {"resource": ["action"]}}) into upstream's roles.
function adminRoles() {
  const file = process.env.ADMIN_ROLES_FILE;
  if (!file) return undefined;
  const custom = JSON.parse(readFileSync(file, "utf8"));
  return { admin: adminAc, user: userAc, ...Object.fromEntries(Object.entries(custom).map(([name, st]) => [name, defaultAc.newRole(st)])) };
}
const list = (name) => (process.env[name] || "").split(",").map((v) => v.trim()).filter(Boolean);

// recordMail writes what authsidecar's development mail sink writes, so scenarios read links, tokens
// and codes the same way from either server.
function recordMail(entry) {
  if (mailLog) appendFileSync(mailLog, JSON.stringify({ at: new Date().toISOString(), ...entry }) + "\n");
}

// secondaryStorage, as authsidecar's REDIS_URL: the same keys under the same prefix.
// lazyConnect: migrate.mjs, which never uses it, must still exit.
const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { lazyConnect: true }) : null;
const secondary = redis && {
  secondaryStorage: redisStorage({ client: redis, keyPrefix: process.env.REDIS_KEY_PREFIX ?? "better-auth:" }),
  verification: { storeInDatabase: on("VERIFICATION_STORE_IN_DATABASE") },
};
// fileOptions is AUTH_CONFIG's betterAuth() options; filePlugin(id) its entry for that plugin.
const { plugins: filePlugins = [], ...fileOptions } = process.env.AUTH_CONFIG ? JSON.parse(readFileSync(process.env.AUTH_CONFIG, "utf8")) : {};
const filePlugin = (id) => {
  const { id: _, ...options } = filePlugins.find((p) => p.id === id) ?? {};
  return options;
};
// usernamePlugin is username() as the file's entry and the USERNAME_* variables configure it;
// usernamePattern and displayUsernamePattern stand for the usernameValidator and
// displayUsernameValidator functions a file cannot hold.
function usernamePlugin() {
  if (!filePlugins.some((p) => p.id === "username") && !on("USERNAME_ENABLED")) return [];
  const { usernamePattern, displayUsernamePattern, ...options } = filePlugin("username");
  const pattern = process.env.USERNAME_PATTERN || usernamePattern;
  return [
    username({
      ...options,
      ...(process.env.USERNAME_MIN_LENGTH && { minUsernameLength: Number(process.env.USERNAME_MIN_LENGTH) }),
      ...(process.env.USERNAME_MAX_LENGTH && { maxUsernameLength: Number(process.env.USERNAME_MAX_LENGTH) }),
      ...(pattern && { usernameValidator: (u) => new RegExp(pattern).test(u) }),
      ...(displayUsernamePattern && { displayUsernameValidator: (d) => new RegExp(displayUsernamePattern).test(d) }),
    }),
  ];
}
// merge lays b over a, object by object.
function merge(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const plain = (x) => x && typeof x === "object" && !Array.isArray(x);
    out[k] = plain(v) && plain(a[k]) ? merge(a[k], v) : v;
  }
  return out;
}

export const pool = new pg.Pool({ connectionString: required("DATABASE_URL"), max: 10 });
// An idle client dropped by Postgres must not crash the process.
pool.on("error", (err) => console.error("pg pool:", err.message));

export const auth = betterAuth(merge({
  appName,
  baseURL,
  secret,
  trustedOrigins: (process.env.TRUSTED_ORIGINS || "").split(",").filter(Boolean),
  database: pool,
  telemetry: { enabled: false },
  session: {
    ...(cookieCacheMaxAge > 0 && { cookieCache: { enabled: true, maxAge: cookieCacheMaxAge } }),
    ...(redis && { storeSessionInDatabase: on("SESSION_STORE_IN_DATABASE") }),
  },
  ...secondary,
  // Off unless RATE_LIMIT=true (bench/run.sh's sign-in with counters in Redis); the harness
  // compares the servers with rate limits off.
  rateLimit: { enabled: on("RATE_LIMIT"), ...(process.env.RATE_LIMIT_STORAGE && { storage: process.env.RATE_LIMIT_STORAGE }) },
  emailAndPassword: {
    enabled: true,
    requireEmailVerification: false,
    sendResetPassword: async ({ user, url, token }) => {
      recordMail({ type: "reset-password", email: user.email, url, token });
    },
  },
  emailVerification: {
    sendVerificationEmail: async ({ user, url, token }) => {
      recordMail({ type: "verify-email", email: user.email, url, token });
    },
  },
  user: {
    changeEmail: {
      enabled: true,
      sendChangeEmailConfirmation: async ({ user, newEmail, url, token }) => {
        recordMail({ type: "change-email", email: user.email, newEmail, url, token });
      },
    },
    deleteUser: {
      enabled: true,
      ...(on("DELETE_USER_VERIFICATION") && {
        sendDeleteAccountVerification: async ({ user, url, token }) => {
          recordMail({ type: "delete-account", email: user.email, url, token });
        },
      }),
    },
  },
  ...(process.env.AUTH_GITLAB_CLIENT_ID && {
    socialProviders: {
      gitlab: {
        clientId: process.env.AUTH_GITLAB_CLIENT_ID,
        clientSecret: process.env.AUTH_GITLAB_CLIENT_SECRET,
        issuer: process.env.AUTH_GITLAB_ISSUER || undefined,
      },
    },
  }),
  plugins: [
    twoFactor({
      issuer: appName,
      otpOptions: {
        sendOTP: async ({ user, otp }) => {
          recordMail({ type: "two-factor-otp", email: user.email, otp, token: otp });
        },
      },
    }),
    organization({
      teams: { enabled: true },
      sendInvitationEmail: async (data) => {
        // The accept link authsidecar mails by default (ORG_INVITATION_URL); upstream leaves it to the app.
        const url = `${new URL(baseURL).origin}/accept-invitation/${data.id}`;
        recordMail({ type: "organization-invitation", email: data.email, id: data.id, token: data.id, url });
      },
    }),
    magicLink({
      ...filePlugin("magic-link"),
      sendMagicLink: async ({ email, url, token }) => {
        recordMail({ type: "magic-link", email, url, token });
      },
    }),
    emailOTP({
      ...filePlugin("email-otp"),
      sendVerificationOTP: async ({ email, otp, type }) => {
        recordMail({ type: "email-otp", email, otp, otpType: type, token: otp });
      },
      changeEmail: { enabled: on("EMAIL_OTP_CHANGE_EMAIL"), verifyCurrentEmail: on("EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT") },
    }),
    passkey({ rpName: process.env.PASSKEY_RP_NAME || "Better Auth", rpID: process.env.PASSKEY_RP_ID || undefined }),
    sso({ saml: { enableSingleLogout: on("SSO_SAML_SINGLE_LOGOUT") } }),
    admin({
      ...(adminRoles() && { roles: adminRoles() }),
      ...(list("ADMIN_ROLES").length && { adminRoles: list("ADMIN_ROLES") }),
      ...(list("ADMIN_USER_IDS").length && { adminUserIds: list("ADMIN_USER_IDS") }),
      ...(process.env.ADMIN_DEFAULT_ROLE && { defaultRole: process.env.ADMIN_DEFAULT_ROLE }),
      ...(process.env.ADMIN_IMPERSONATION_SESSION_DURATION && {
        impersonationSessionDuration: Number(process.env.ADMIN_IMPERSONATION_SESSION_DURATION),
      }),
      ...(process.env.ADMIN_DEFAULT_BAN_REASON && { defaultBanReason: process.env.ADMIN_DEFAULT_BAN_REASON }),
      ...(process.env.ADMIN_BANNED_USER_MESSAGE && { bannedUserMessage: process.env.ADMIN_BANNED_USER_MESSAGE }),
    }),
    ...usernamePlugin(),
    ...(on("BEARER_ENABLED") ? [bearer()] : []),
    ...(on("JWT_ENABLED") ? [jwt()] : []),
  ],
}, fileOptions));
