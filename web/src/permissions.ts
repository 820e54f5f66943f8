// Upstream's organization access control, run locally for checkRolePermission (upstream
// packages/better-auth/src/plugins/access/access.ts): a member passes when any one of its comma-separated roles allows the whole request.
// A role is a statement ({resource: [actions]}); a request names, per resource, the actions it
// needs, all of them by default or any one with {actions, connector: "OR"}.

export type Statements = Record<string, readonly string[]>;

/** A resource's requested actions: all of the list, or with connector "OR" any one of them. */
export type ActionRequest = readonly string[] | { actions: readonly string[]; connector?: "AND" | "OR" };
export type PermissionRequest = Record<string, ActionRequest>;

export interface AuthorizeResult {
  success: boolean;
  error?: string;
}

/** A role as upstream's createAccessControl(...).newRole(...) makes it. */
export interface Role {
  statements: Statements;
  authorize(request: PermissionRequest, connector?: "AND" | "OR"): AuthorizeResult;
}

/** Roles given to organizationClient: our plain statements, or upstream's role objects. */
export type RoleDefinition = Statements | Role;

export const defaultRoles: Record<string, Statements> = {
  owner: {
    organization: ["update", "delete"],
    member: ["create", "update", "delete"],
    invitation: ["create", "cancel"],
    team: ["create", "update", "delete"],
    ac: ["create", "read", "update", "delete"],
  },
  admin: {
    organization: ["update"],
    member: ["create", "update", "delete"],
    invitation: ["create", "cancel"],
    team: ["create", "update", "delete"],
    ac: ["create", "read", "update", "delete"],
  },
  member: { ac: ["read"] },
};

/** The admin plugin's default roles (upstream's adminAc and userAc). */
export const defaultAdminRoles: Record<string, Statements> = {
  admin: {
    user: ["create", "list", "set-role", "ban", "impersonate", "delete", "set-password", "set-email", "set-phone", "get", "update"],
    session: ["list", "revoke", "delete"],
  },
  user: { user: [], session: [] },
};

function normalize(request: ActionRequest): { actions: readonly unknown[]; any: boolean } {
  if (Array.isArray(request)) return { actions: request, any: false };
  if (!request || typeof request !== "object") throw new Error("Invalid access control request");
  const { actions, connector } = request as { actions?: unknown; connector?: unknown };
  return { actions: Array.isArray(actions) ? actions : [], any: connector === "OR" };
}

function allowsResource(allowed: readonly string[], request: ActionRequest): boolean {
  const { actions, any } = normalize(request);
  if (actions.length === 0) return false;
  const ok = (a: unknown) => typeof a === "string" && allowed.includes(a);
  return any ? actions.some(ok) : actions.every(ok);
}

/**
 * authorize is upstream's role.authorize: with connector "AND" (the default) every requested
 * resource must be allowed, with "OR" one is enough; an empty request is never allowed.
 */
export function authorize(statements: Statements, request: PermissionRequest, connector: "AND" | "OR" = "AND"): AuthorizeResult {
  let allowedAny = false;
  for (const [resource, actions] of Object.entries(request)) {
    const allowed = Object.hasOwn(statements, resource) ? statements[resource] : undefined;
    if (!allowed) {
      if (connector === "AND") return { success: false, error: `You are not allowed to access resource: ${resource}` };
      continue;
    }
    const ok = allowsResource(allowed, actions);
    if (ok && connector === "OR") return { success: true };
    if (!ok && connector === "AND") return { success: false, error: `unauthorized to access resource "${resource}"` };
    allowedAny ||= ok;
  }
  return allowedAny ? { success: true } : { success: false, error: "Not authorized" };
}

/** createAccessControl mirrors upstream's: ac.newRole(statements) makes a role organizationClient takes. */
export function createAccessControl<S extends Statements>(statements: S) {
  return {
    statements,
    newRole(roleStatements: Statements): Role {
      return { statements: roleStatements, authorize: (request, connector) => authorize(roleStatements, request, connector) };
    },
  };
}

function roleAllows(role: RoleDefinition, request: PermissionRequest): boolean {
  if (typeof (role as Role).authorize === "function") return (role as Role).authorize(request).success;
  return authorize(role as Statements, request).success;
}

export function checkRolePermission(
  input: { role: string | readonly string[]; permissions: PermissionRequest },
  roles: Record<string, RoleDefinition> = defaultRoles,
): boolean {
  if (!input.permissions) return false;
  const names = (Array.isArray(input.role) ? input.role : [input.role]) as string[];
  return names
    .flatMap((r) => r.split(","))
    .map((r) => r.trim())
    .filter(Boolean)
    .some((name) => {
      const role = Object.hasOwn(roles, name) ? roles[name] : undefined;
      return role !== undefined && roleAllows(role, input.permissions);
    });
}
