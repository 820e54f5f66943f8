export {
  createAuthClient,
  changesSession,
  resolveBaseURL,
  type AuthClient,
  type ClientOptions,
  type ClientPlugin,
  type DefaultPlugins,
  type Endpoint,
  type InferSession,
  type InferUser,
  type PluginContext,
  type TwoFactorClientOptions,
} from "./client.js";
export {
  adminClient,
  emailOTPClient,
  inferAdditionalFields,
  magicLinkClient,
  twoFactorClient,
  usernameClient,
  type AdminClientOptions,
} from "./plugins.js";
export { organizationClient, type OrganizationClientOptions } from "./organization.js";
export { passkeyClient } from "./passkey.js";
export { SidecarError } from "./errors.js";
export type { AdditionalFields, FieldAttribute, FieldType } from "./infer.js";
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
  AdminSessionFields,
  AdminUserFields,
  BaseSession,
  BaseUser,
  BuiltinSocialProvider,
  ErrorContext,
  FetchOptions,
  FullOrganization,
  Input,
  Invitation,
  ListUsersQuery,
  Member,
  Organization,
  Passkey,
  RequestContext,
  ResponseContext,
  Result,
  Session,
  SessionData,
  SuccessContext,
  Team,
  TwoFactorUserFields,
  User,
  UserList,
  UsernameUserFields,
  OrganizationSessionFields,
} from "./types.js";
