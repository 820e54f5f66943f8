// The admin plugin through the official client and adminClient: user management, list-users,
// bans (and that they hold at sign-in), sessions, impersonation with its admin_session cookie,
// permissions, the refusals, and bans and impersonations that cross from one server to the other.
//
// An admin is made as an operator seeds the first one: role "admin" written into the user row.
// Scenarios of one file share a database per server, so list-users always searches for this
// scenario's own addresses.
import pg from "pg";
import { adminClient } from "better-auth/client/plugins";
import { deviation, interop, scenario } from "../lib/scenario.mjs";
import { password, sessionOf, signedOut, signUp } from "../lib/steps.mjs";

const plugins = [adminClient()];

// promote gives a user a role (admin unless named) in the server's database.
async function promote(t, email, server = t.server, role = "admin") {
  const c = new pg.Client({ connectionString: server.databaseURL });
  await c.connect();
  try {
    await c.query(`UPDATE "user" SET role = $2 WHERE email = $1`, [email, role]);
  } finally {
    await c.end();
  }
}

// adminOf signs local up on a browser of its own and makes it an admin (admin routes read the
// session's user from the database, so the session in hand carries the role at once); it
// returns the admin's client, browser and user.
async function adminOf(t, local, server = t.server) {
  const browser = t.browser();
  const c = t.client({ server, plugins, browser });
  const { user } = await signUp(t, c, local);
  await promote(t, user.email, server);
  return { c, browser, user };
}

// userOf signs local up on a browser of its own.
async function userOf(t, local, server = t.server) {
  const browser = t.browser();
  const c = t.client({ server, plugins, browser });
  const { user } = await signUp(t, c, local);
  return { c, browser, user };
}

export default [
  scenario("create-user, get-user, update-user, set-role, set-user-password and remove-user", async (t) => {
    const { c } = await adminOf(t, "ada");
    const created = t.ok(await c.admin.createUser({ email: t.email("New.User"), password, name: "New", data: { emailVerified: true } }), "create-user").user;
    t.equal([created.email, created.role, created.banned, created.emailVerified], [t.email("new.user"), "user", false, true], "created user");
    t.fails(await c.admin.createUser({ email: t.email("new.user"), name: "Again" }), 400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "create-user twice");
    t.fails(await c.admin.createUser({ email: "nope", name: "Bad" }), 400, "INVALID_EMAIL", "create-user with a bad email");
    const nopw = t.ok(await c.admin.createUser({ email: t.email("nopw"), name: "No Password", role: "admin" }), "create-user without a password").user;
    t.equal(nopw.role, "admin", "role given at creation");
    const got = t.ok(await c.admin.getUser({ query: { id: created.id } }), "get-user");
    t.equal(got.id, created.id, "get-user answers the user itself");
    t.fails(await c.admin.getUser({ query: { id: "nobody" } }), 404, "USER_NOT_FOUND", "get-user of no one");
    const upd = t.ok(await c.admin.updateUser({ userId: created.id, data: { name: "Renamed", email: t.email("Renamed"), image: "https://example.com/r.png" } }), "update-user");
    t.equal([upd.name, upd.email, upd.image], ["Renamed", t.email("renamed"), "https://example.com/r.png"], "updated fields");
    t.fails(await c.admin.updateUser({ userId: created.id, data: {} }), 400, "NO_DATA_TO_UPDATE", "update-user without data");
    t.fails(await c.admin.updateUser({ userId: created.id, data: { password: "new-password-1" } }), 400, "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER", "update-user with a password");
    t.fails(await c.admin.updateUser({ userId: created.id, data: { role: 5 } }), 400, "INVALID_ROLE_TYPE", "update-user with a numeric role");
    const roled = t.ok(await c.admin.setRole({ userId: created.id, role: ["user", "admin"] }), "set-role").user;
    t.equal(roled.role, "user,admin", "roles joined");
    t.fails(await c.admin.setRole({ userId: "nobody", role: "user" }), 404, "USER_NOT_FOUND", "set-role of no one");
    t.equal(t.ok(await c.admin.setUserPassword({ userId: created.id, newPassword: "another-password-2" }), "set-user-password"), { status: true }, "set-user-password answer");
    t.fails(await c.admin.setUserPassword({ userId: created.id, newPassword: "short" }), 400, "PASSWORD_TOO_SHORT", "set-user-password too short");
    const other = t.client({ plugins, browser: t.browser() });
    t.ok(await other.signIn.email({ email: t.email("renamed"), password: "another-password-2" }), "sign-in with the set password");
    t.equal(t.ok(await c.admin.removeUser({ userId: created.id }), "remove-user"), { success: true }, "remove-user answer");
    t.fails(await c.admin.removeUser({ userId: created.id }), 404, "USER_NOT_FOUND", "remove-user twice");
    await signedOut(t, other);
  }),

  scenario("list-users searches, filters, sorts and pages", async (t) => {
    const { c } = await adminOf(t, "lena");
    for (const n of ["m1", "m2", "m3", "m4"]) t.ok(await c.admin.createUser({ email: t.email(n), name: `Member ${n}` }), `create ${n}`);
    const domain = t.email("x").split("@")[1];
    const list = async (query, what) => t.ok(await c.admin.listUsers({ query: { searchValue: domain, searchField: "email", searchOperator: "ends_with", ...query } }), what);
    const all = await list({ sortBy: "email" }, "sorted by email");
    t.equal([all.users.map((u) => u.email.split("@")[0]), all.total, all.limit, all.offset], [["lena", "m1", "m2", "m3", "m4"], 5, undefined, undefined], "all");
    const page = await list({ sortBy: "email", sortDirection: "desc", limit: 2, offset: 1 }, "a page");
    t.equal([page.users.map((u) => u.email.split("@")[0]), page.total, page.limit, page.offset], [["m3", "m2"], 5, 2, 1], "page");
    const named = t.ok(await c.admin.listUsers({ query: { searchValue: "Member m", searchField: "name", searchOperator: "starts_with", sortBy: "name", filterField: "email", filterValue: t.email("m2"), filterOperator: "ne" } }), "name search with a filter");
    t.equal(named.users.filter((u) => u.email.endsWith(domain)).map((u) => u.name), ["Member m1", "Member m3", "Member m4"], "filtered");
    const wild = t.ok(await c.admin.listUsers({ query: { searchValue: `m_@${domain}`, searchOperator: "ends_with", sortBy: "email" } }), "a search with a wildcard");
    t.equal([wild.users.map((u) => u.email.split("@")[0]), wild.total], [["m1", "m2", "m3", "m4"], 4], "_ is a wildcard, as in upstream's LIKE");
    const short = await list({ sortBy: "email", limit: 3, offset: 3 }, "a short last page");
    t.equal([short.users.map((u) => u.email.split("@")[0]), short.total, short.limit, short.offset], [["m3", "m4"], 5, 3, 3], "total of a short page");
    const past = await list({ sortBy: "email", offset: 9 }, "a page past the end");
    t.equal([past.users, past.total], [[], 5], "total past the end");
    const admins = await list({ filterField: "role", filterValue: "admin" }, "filter by role");
    t.equal([admins.users.map((u) => u.email), admins.total], [[t.email("lena")], 1], "admins");
    const none = await list({ filterField: "banned", filterValue: "true" }, "filter by banned");
    t.equal(none, { users: [], total: 0 }, "no banned users");
  }),

  scenario("ban-user revokes the user's sessions, sign-in is refused, unban-user lets them back", async (t) => {
    const { c, user: admin } = await adminOf(t, "bea");
    const { c: victim, user } = await userOf(t, "vic");
    const sessions = t.ok(await c.admin.listUserSessions({ userId: user.id }), "list-user-sessions");
    t.equal(sessions.sessions.length, 1, "one session");
    const banned = t.ok(await c.admin.banUser({ userId: user.id, banReason: "spam", banExpiresIn: 3600 }), "ban-user").user;
    t.equal([banned.banned, banned.banReason], [true, "spam"], "ban fields");
    t.assert(banned.banExpires, "banExpires set");
    await signedOut(t, victim, "get-session of the banned user");
    t.fails(await victim.signIn.email({ email: user.email, password }), 403, "BANNED_USER", "sign-in while banned");
    t.fails(await c.admin.banUser({ userId: admin.id }), 400, "YOU_CANNOT_BAN_YOURSELF", "ban oneself");
    const noReason = t.ok(await c.admin.banUser({ userId: user.id }), "ban-user again without a reason").user;
    t.equal([noReason.banReason, noReason.banExpires], ["No reason", null], "default reason, no expiry");
    const unbanned = t.ok(await c.admin.unbanUser({ userId: user.id }), "unban-user").user;
    t.equal([unbanned.banned, unbanned.banReason, unbanned.banExpires], [false, null, null], "unbanned");
    t.ok(await victim.signIn.email({ email: user.email, password }), "sign-in after unban");
    const again = t.ok(await c.admin.listUserSessions({ userId: user.id }), "list-user-sessions after sign-in").sessions;
    t.equal(t.ok(await c.admin.revokeUserSession({ sessionToken: again[0].token }), "revoke-user-session"), { success: true }, "revoke-user-session answer");
    await signedOut(t, victim, "get-session after revoke-user-session");
    t.ok(await victim.signIn.email({ email: user.email, password }), "sign-in again");
    t.equal(t.ok(await c.admin.revokeUserSessions({ userId: user.id }), "revoke-user-sessions"), { success: true }, "revoke-user-sessions answer");
    await signedOut(t, victim, "get-session after revoke-user-sessions");
  }),

  scenario("impersonate-user keeps the admin session aside and stop-impersonating restores it", async (t) => {
    const { c, user: admin } = await adminOf(t, "ivy");
    const { c: own, user } = await userOf(t, "ian");
    const imp = t.ok(await c.admin.impersonateUser({ userId: user.id }), "impersonate-user");
    t.equal([imp.user.id, imp.session.userId, imp.session.impersonatedBy], [user.id, user.id, admin.id], "impersonation session");
    const cookies = t.lastCookies();
    t.assert(cookies["better-auth.admin_session"], "admin_session is set");
    const s = await sessionOf(t, c, "get-session while impersonating");
    t.equal([s.user.id, s.session.impersonatedBy], [user.id, admin.id], "acting as the user");
    t.equal(t.ok(await own.listSessions(), "the user's list-sessions").length, 1, "the impersonation is hidden from the user");
    t.fails(await c.admin.impersonateUser({ userId: admin.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", "impersonate from an impersonation");
    const back = t.ok(await c.admin.stopImpersonating(), "stop-impersonating");
    t.equal([back.user.id, back.session.userId], [admin.id, admin.id], "the admin's session");
    t.equal((await sessionOf(t, c, "get-session after stop")).user.id, admin.id, "back as the admin");
    t.fails(await c.admin.stopImpersonating(), 400, null, "stop without an impersonation");
    const other = await adminOf(t, "ike");
    t.fails(await c.admin.impersonateUser({ userId: other.user.id }), 403, "YOU_CANNOT_IMPERSONATE_ADMINS", "impersonate an admin");
  }),

  scenario("admin routes refuse a user without the permission and a request without a session", async (t) => {
    const { c, user } = await userOf(t, "una");
    const anon = t.client({ plugins, browser: t.browser() });
    t.fails(await c.admin.listUsers({ query: {} }), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS", "list-users");
    t.fails(await c.admin.createUser({ email: t.email("x"), name: "X" }), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS", "create-user");
    t.fails(await c.admin.getUser({ query: { id: user.id } }), 403, "YOU_ARE_NOT_ALLOWED_TO_GET_USER", "get-user");
    t.fails(await c.admin.updateUser({ userId: user.id, data: { name: "x" } }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS", "update-user");
    t.fails(await c.admin.setRole({ userId: user.id, role: "admin" }), 403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE", "set-role");
    t.fails(await c.admin.banUser({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS", "ban-user");
    t.fails(await c.admin.unbanUser({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS", "unban-user");
    t.fails(await c.admin.listUserSessions({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS", "list-user-sessions");
    t.fails(await c.admin.revokeUserSession({ sessionToken: "x" }), 403, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS", "revoke-user-session");
    t.fails(await c.admin.revokeUserSessions({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS", "revoke-user-sessions");
    t.fails(await c.admin.impersonateUser({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", "impersonate-user");
    t.fails(await c.admin.removeUser({ userId: user.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS", "remove-user");
    t.fails(await c.admin.setUserPassword({ userId: user.id, newPassword: "new-password-1" }), 403, "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD", "set-user-password");
    t.fails(await anon.admin.listUsers({ query: {} }), 401, undefined, "list-users without a session");
    t.fails(await anon.admin.createUser({ email: t.email("y"), name: "Y" }), 401, undefined, "create-user without a session");
    t.fails(await anon.admin.stopImpersonating(), 401, undefined, "stop-impersonating without a session");
    t.fails(await anon.admin.hasPermission({ permissions: { user: ["list"] } }), 401, undefined, "has-permission without a session");
  }),

  scenario("has-permission answers for the caller's role", async (t) => {
    const { c } = await adminOf(t, "hal");
    const { c: plain } = await userOf(t, "hue");
    const check = async (client, permissions, what) => t.ok(await client.admin.hasPermission({ permissions }), what);
    t.equal(await check(c, { user: ["ban", "list"], session: ["revoke"] }), { error: null, success: true }, "admin may ban");
    t.equal(await check(c, { user: ["impersonate-admins"] }), { error: null, success: false }, "admin may not impersonate admins");
    t.equal(await check(plain, { user: ["list"] }), { error: null, success: false }, "a user may not list");
    t.fails(await c.admin.hasPermission({ permission: { user: ["list"] } }), 400, null, "the deprecated permission key");
    t.status(await t.request("POST", "/admin/has-permission", { json: {} }), 400, "VALIDATION_ERROR", "neither key");
  }),

  deviation("admin-unknown-roles", "set-role with a role no one defined", async (t) => {
    const { c } = await adminOf(t, "rho");
    const { user } = await userOf(t, "rex");
    const res = await c.admin.setRole({ userId: user.id, role: "superuser" });
    if (t.ours) t.fails(res, 400, "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE", "unknown role");
    else t.equal(t.ok(res, "unknown role").user.role, "superuser", "upstream stores it");
  }),

  deviation("admin-ban-expires-in", "ban-user with a negative banExpiresIn", async (t) => {
    const { c } = await adminOf(t, "neg");
    const { user } = await userOf(t, "nil");
    const res = await c.admin.banUser({ userId: user.id, banExpiresIn: -3600 });
    if (t.ours) t.fails(res, 400, "VALIDATION_ERROR", "negative banExpiresIn");
    else t.assert(new Date(t.ok(res, "negative banExpiresIn").user.banExpires) < new Date(), "upstream stores a ban that has already ended");
  }),

  deviation("admin-list-users-input", "list-users with a sort or filter field the user has not", async (t) => {
    const { c } = await adminOf(t, "sol");
    for (const query of [{ sortBy: "password" }, { filterField: "password", filterValue: "x" }, { limit: 5000 }]) {
      const res = await c.admin.listUsers({ query });
      if (t.ours) t.fails(res, 400, "VALIDATION_ERROR", JSON.stringify(query));
      else if (query.limit) t.ok(res, "upstream has no cap");
      else t.equal(t.ok(res, JSON.stringify(query)), { users: [], total: 0 }, "upstream answers an empty list");
    }
  }),

  // The one scenario of the "admin-roles" configuration (custom roles: "support" may delete users,
  // admins may impersonate admins), so that no other scenario adds admins to its database.
  deviation(
    "admin-stricter-with-custom-roles",
    "removing the last admin, and impersonating from an impersonation",
    async (t) => {
      const { c: boss, user: bossUser } = await adminOf(t, "boss");
      const { c: support, user: supportUser } = await userOf(t, "sue");
      await promote(t, supportUser.email, t.server, "support");
      const removed = await support.admin.removeUser({ userId: bossUser.id });
      if (t.ours) t.fails(removed, 400, "YOU_CANNOT_REMOVE_THE_LAST_ADMIN", "remove the last admin");
      else t.equal(t.ok(removed, "remove the last admin"), { success: true }, "upstream removes the last admin");
      if (!t.ours) return;
      const { user: other } = await adminOf(t, "ada2");
      const { user: third } = await userOf(t, "tia");
      t.ok(await boss.admin.impersonateUser({ userId: other.id }), "impersonate an admin (impersonate-admins)");
      const nested = await boss.admin.impersonateUser({ userId: third.id });
      t.fails(nested, 403, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", "impersonate from an impersonation");
      t.equal(t.ok(await boss.admin.stopImpersonating(), "stop-impersonating").user.id, bossUser.id, "back as the first admin");
    },
    { config: "admin-roles" },
  ),

  interop("a user banned on one server cannot sign in on the other, and unbanned there signs in on the first", async (t) => {
    const { c } = await adminOf(t, "ana", t.a);
    const { user } = await userOf(t, "bud", t.a);
    t.ok(await c.admin.banUser({ userId: user.id, banReason: "spam" }), "ban-user on a");
    const onB = t.client({ server: t.b, plugins, browser: t.browser() });
    t.fails(await onB.signIn.email({ email: user.email, password }), 403, "BANNED_USER", "sign-in on b");
    const adminOnB = t.client({ server: t.b, plugins, browser: t.browser() });
    t.ok(await adminOnB.signIn.email({ email: t.email("ana"), password }), "the admin signs in on b");
    t.ok(await adminOnB.admin.unbanUser({ userId: user.id }), "unban-user on b");
    t.ok(await t.client({ server: t.a, plugins, browser: t.browser() }).signIn.email({ email: user.email, password }), "sign-in on a");
  }),

  interop("an impersonation started on one server is stopped on the other", async (t) => {
    const { user: admin, browser } = await adminOf(t, "amy", t.a);
    const { user } = await userOf(t, "ben", t.a);
    const onA = t.client({ server: t.a, plugins, browser });
    t.ok(await onA.signIn.email({ email: admin.email, password }), "the admin signs in on a");
    t.ok(await onA.admin.impersonateUser({ userId: user.id }), "impersonate-user on a");
    const onB = t.client({ server: t.b, plugins, browser });
    t.equal((await sessionOf(t, onB, "get-session on b")).session.impersonatedBy, admin.id, "b reads the impersonation");
    const back = t.ok(await onB.admin.stopImpersonating(), "stop-impersonating on b");
    t.equal(back.user.id, admin.id, "b restores the admin");
    t.equal((await sessionOf(t, onA, "get-session on a")).user.id, admin.id, "a sees the admin back");
  }),
];
