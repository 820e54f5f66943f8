export {
  createAuthClient,
  changesSession,
  resolveBaseURL,
  twoFactorClient,
  passkeyClient,
  organizationClient,
  magicLinkClient,
  emailOTPClient,
  type AuthClient,
  type ClientOptions,
  type ClientPlugin,
  type TwoFactorClientOptions,
} from "./client.js";
export { parseJSON, parseDate } from "./json.js";
export { toBase64url, fromBase64url } from "./base64url.js";
export { checkRolePermission, defaultRoles, type Statements } from "./permissions.js";
export type { SessionState, SessionOptions, SessionStore } from "./session.js";
export type {
  AuthError,
  FetchOptions,
  FullOrganization,
  Input,
  Invitation,
  Member,
  Organization,
  Passkey,
  Result,
  Session,
  SessionData,
  SocialProvider,
  Team,
  User,
} from "./types.js";
