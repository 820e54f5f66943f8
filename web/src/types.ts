// The shapes the sidecar sends, with timestamps already revived as Dates.

/** The user as upstream's core sends it; a client's own adds its plugins' and declared fields ($Infer.Session.user). */
export interface BaseUser {
  id: string;
  name: string;
  email: string;
  emailVerified: boolean;
  image?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The session as upstream's core sends it; a client's own adds its plugins' and declared fields ($Infer.Session.session). */
export interface BaseSession {
  id: string;
  token: string;
  userId: string;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
  ipAddress?: string | null;
  userAgent?: string | null;
}

/** The fields the two-factor plugin adds to the user. */
export interface TwoFactorUserFields {
  twoFactorEnabled?: boolean | null;
}

/** The admin plugin's fields: comma-joined roles, and the ban; on the session, the impersonator. */
export interface AdminUserFields {
  role?: string | null;
  banned?: boolean | null;
  banReason?: string | null;
  banExpires?: Date | null;
}
export interface AdminSessionFields {
  /** The admin's user id while an admin acts as this session's user (admin.impersonateUser). */
  impersonatedBy?: string | null;
}

/** The organization plugin's fields on the session. */
export interface OrganizationSessionFields {
  activeOrganizationId?: string | null;
  activeTeamId?: string | null;
}

/** A user with the fields of every plugin the sidecar ships but username's, each optional. */
export interface User extends BaseUser, TwoFactorUserFields, AdminUserFields {}

/** A session with the fields of every plugin the sidecar ships, each optional. */
export interface Session extends BaseSession, AdminSessionFields, OrganizationSessionFields {}

/** The username plugin's fields: the normalised username and the one as typed. */
export interface UsernameUserFields {
  username?: string | null;
  displayUsername?: string | null;
}

/** SessionData is the body of get-session when signed in (the base fields; a client's own is `$Infer.Session`). */
export interface SessionData<U = User, S = Session> {
  session: S;
  user: U;
}

/**
 * AuthError is a non-2xx reply: the server's JSON ({message, code}, sometimes more) spread out,
 * plus the HTTP status. code is absent on the few errors upstream sends without one.
 */
export interface AuthError {
  status: number;
  statusText: string;
  message?: string;
  code?: string;
  [field: string]: unknown;
}

export type Result<T> = { data: T; error: null } | { data: null; error: AuthError };

/** The request about to be sent, as onRequest sees it; what onRequest returns is merged into it. */
export interface RequestContext {
  url: string;
  method: string;
  headers: Headers;
  /** The JSON text of the body, or undefined for GET and HEAD. */
  body: string | undefined;
  signal?: AbortSignal | undefined;
  credentials?: RequestCredentials | undefined;
}

export interface ResponseContext {
  response: Response;
  request: RequestContext;
}

export interface SuccessContext<Data> {
  data: Data;
  response: Response;
  request: RequestContext;
}

export interface ErrorContext {
  error: AuthError;
  response: Response;
  request: RequestContext;
}

/**
 * FetchOptions are per-call (or, in createAuthClient, default) options, the subset of upstream's
 * better-fetch options the sidecar's calls use. Data is the call's success data.
 */
export interface FetchOptions<Data = unknown> {
  method?: string;
  headers?: HeadersInit;
  body?: Record<string, unknown>;
  query?: Record<string, unknown>;
  signal?: AbortSignal;
  credentials?: RequestCredentials;
  /** Skip the session refetch this call would trigger. */
  disableSignal?: boolean;
  /** Called before the request is sent; a returned object is merged into the request. */
  onRequest?: (ctx: RequestContext) => Partial<RequestContext> | void | Promise<Partial<RequestContext> | void>;
  /** Called with every reply before it is read; a returned Response replaces it. */
  onResponse?: (ctx: ResponseContext) => Response | void | Promise<Response | void>;
  /** Called with the parsed data after a 2xx reply. */
  onSuccess?: (ctx: SuccessContext<Data>) => void | Promise<void>;
  /** Called with the error after a non-2xx reply. */
  onError?: (ctx: ErrorContext) => void | Promise<void>;
  /** Replaces the global fetch (tests, cookie jars on the server). */
  customFetchImpl?: typeof fetch;
}

/** The argument every endpoint takes: body fields, plus optional query and fetchOptions. */
export type Input<Body, Query = Record<string, unknown>, Data = unknown> = Body & {
  query?: Query;
  fetchOptions?: FetchOptions<Data>;
};

/**
 * The providers the sidecar has built in (README, "Social sign-in"). A generic OpenID provider's
 * id joins the union when the client declares it: createAuthClient({ oidcProviders: ["okta"] }).
 */
export type BuiltinSocialProvider = "apple" | "discord" | "facebook" | "github" | "gitlab" | "google" | "microsoft";


export interface Passkey {
  id: string;
  name?: string | null;
  publicKey: string;
  userId: string;
  credentialID: string;
  counter: number;
  deviceType: string;
  backedUp: boolean;
  transports?: string | null;
  createdAt?: Date | null;
  aaguid?: string | null;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  logo?: string | null;
  createdAt: Date;
  /** An object on create and update, the stored JSON string elsewhere (as upstream). */
  metadata?: unknown;
  [field: string]: unknown;
}

export interface Member {
  id: string;
  organizationId: string;
  userId: string;
  role: string;
  createdAt: Date;
  user?: Pick<User, "id" | "name" | "email" | "image">;
  [field: string]: unknown;
}

export interface Invitation {
  id: string;
  organizationId: string;
  email: string;
  role: string | null;
  status: "pending" | "accepted" | "rejected" | "canceled";
  expiresAt: Date;
  createdAt?: Date;
  inviterId: string;
  teamId?: string | null;
  [field: string]: unknown;
}

export interface Team {
  id: string;
  name: string;
  organizationId: string;
  createdAt: Date;
  updatedAt?: Date | null;
  memberCount?: number;
  [field: string]: unknown;
}

export interface FullOrganization extends Organization {
  members: Member[];
  invitations: Invitation[];
  teams?: Team[];
}

/** The query of admin.listUsers, as upstream's list-users takes it. */
export interface ListUsersQuery {
  searchValue?: string;
  searchField?: "email" | "name";
  searchOperator?: "contains" | "starts_with" | "ends_with";
  limit?: number | string;
  offset?: number | string;
  sortBy?: string;
  sortDirection?: "asc" | "desc";
  filterField?: string;
  filterValue?: string | number | boolean | string[] | number[];
  filterOperator?: "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "in" | "not_in" | "contains" | "starts_with" | "ends_with";
}

/** The answer of admin.listUsers: limit and offset are echoed when given. */
export interface UserList {
  users: User[];
  total: number;
  limit?: number;
  offset?: number;
}
