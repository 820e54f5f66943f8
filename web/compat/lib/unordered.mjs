// The lists upstream answers in the database's order. Better Auth's Kysely adapter adds ORDER BY
// only when a caller passes sortBy (upstream: packages/kysely-adapter/src/kysely-adapter.ts,
// findMany), and none of these callers does, so Postgres returns heap order: insertion order until
// an UPDATE moves a row or a vacuumed page takes a new one. A scenario that compares such a list
// position by position passes by luck and flakes under load; the harness compares each of them as
// a set instead (observe.mjs sorts the items before aliasing). Audited against the pinned
// better-auth 1.7.25 in node_modules; every other list an endpoint answers has a defined order.
//
// path (without the query) -> where the unordered lists sit in the JSON body ("" is the body itself).
export const unorderedLists = {
  // upstream: packages/better-auth/src/db/internal-adapter.ts, listSessions (findMany, no sortBy)
  "/list-sessions": [""],
  // upstream: packages/better-auth/src/db/internal-adapter.ts, findAccounts
  "/list-accounts": [""],
  // upstream: packages/passkey/src/routes.ts, listPasskeys
  "/passkey/list-user-passkeys": [""],
  // upstream: packages/sso/src/routes/providers.ts, listSSOProviders (findMany of every provider,
  // the user's own then those of organizations it administers, each in the database's order)
  "/sso/providers": ["providers"],
  // upstream: packages/better-auth/src/plugins/organization/adapter.ts, listOrganizations,
  // listInvitations, listUserInvitations, listTeams, listTeamsByUser, listTeamMembers
  "/organization/list": [""],
  "/organization/list-invitations": [""],
  "/organization/list-user-invitations": [""],
  "/organization/list-teams": [""],
  "/organization/list-user-teams": [""],
  "/organization/list-team-members": [""],
  // upstream: same file, findFullOrganization (left joins of members, invitations and teams)
  "/organization/get-full-organization": ["members", "invitations", "teams"],
  // upstream: same file, listMembers: ordered only when the query names sortBy
  "/organization/list-members": (query) => (query.has("sortBy") ? [] : ["members"]),
};

// unorderedAt names the body locations of a request path ("/x?y=1") that hold unordered lists.
export function unorderedAt(path) {
  const u = new URL(path, "http://x");
  const entry = unorderedLists[u.pathname];
  if (!entry) return [];
  return typeof entry === "function" ? entry(u.searchParams) : entry;
}
