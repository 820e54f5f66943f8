// Upstream's organization access-control check, run locally for checkRolePermission (plugins
// spec §3.3): a member passes when any one of its comma-separated roles allows every requested
// action on every requested resource.

export type Statements = Record<string, readonly string[]>;

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

function authorizes(role: Statements, request: Statements): boolean {
  const resources = Object.keys(request);
  if (resources.length === 0) return false;
  return resources.every((resource) => {
    const allowed = role[resource];
    const wanted = request[resource] ?? [];
    return allowed !== undefined && wanted.length > 0 && wanted.every((a) => allowed.includes(a));
  });
}

export function checkRolePermission(
  input: { role: string; permissions: Statements },
  roles: Record<string, Statements> = defaultRoles,
): boolean {
  return input.role
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean)
    .some((name) => {
      const role = roles[name];
      return role !== undefined && authorizes(role, input.permissions);
    });
}
