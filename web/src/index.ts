export {
  createAuthClient,
  changesSession,
  resolveBaseURL,
  twoFactorClient,
  passkeyClient,
  organizationClient,
  magicLinkClient,
  emailOTPClient,
  adminClient,
  type AdminClientOptions,
  type AuthClient,
  type ClientOptions,
  type ClientPlugin,
  type OrganizationClientOptions,
  type TwoFactorClientOptions,
} from "./client.js";
export { parseJSON, parseDate } from "./json.js";
export { toBase64url, fromBase64url } from "./base64url.js";
export {
  authorize,
  checkRolePermission,
  createAccessControl,
  defaultRoles,
  defaultAdminRoles,
  type ActionRequest,
  type PermissionRequest,
  type Role,
  type RoleDefinition,
  type Statements,
} from "./permissions.js";
export type { QueryState, QueryStore } from "./query.js";
export type { SessionState, SessionOptions, SessionStore } from "./session.js";
export type {
  AuthError,
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
