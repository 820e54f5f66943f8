// The admin namespace against a real sidecar on a fresh database, through our client and through
// upstream's (better-auth/client with adminClient): user management, list-users, ban and its
// refusal at sign-in, impersonation and back, and adminClient's local checkRolePermission. Both
// clients must pass the same assertions. The first admin is seeded as an operator would: role
// "admin" written into the user row.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as ours from "../dist/index.js";
import { cookieFetch, missingTools, psql, startSidecar, upstreamClient } from "./harness.js";

const skip = await missingTools("go", "psql");
const upstream = skip ? null : await upstreamClient();
const password = "password1234";

describe("admin namespace against the sidecar", { skip, concurrency: true }, () => {
  let sidecar;
  before(async () => {
    sidecar = await startSidecar();
  });
  after(async () => {
    await sidecar?.stop();
  });

  let n = 0;
  const email = (local) => `${local}${++n}-${Date.now()}@example.com`;

  for (const [variant, lib] of [["authsidecar", ours], ["upstream", upstream]]) {
    describe(`with the ${variant} client`, { skip: !lib && "upstream's client is not installed" }, () => {
      const newClient = () => lib.createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: cookieFetch(sidecar.appOrigin) }, plugins: [lib.adminClient()] });
      const signUp = async (local) => {
        const client = newClient();
        const addr = email(local);
        const up = await client.signUp.email({ email: addr, password, name: local });
        assert.equal(up.error, null);
        return { client, email: addr, user: up.data.user };
      };
      const admin = async () => {
        const a = await signUp("admin");
        await psql(sidecar.databaseURL, `UPDATE "user" SET role = 'admin' WHERE id = '${a.user.id}'`);
        return a;
      };

      it("creates, lists, updates and removes users", async () => {
        const { client } = await admin();
        const tag = `t${Date.now()}${n}`;
        for (const i of [1, 2, 3]) {
          const r = await client.admin.createUser({ email: `${tag}-${i}@example.com`, password, name: `Listed ${i}` });
          assert.equal(r.error, null);
          assert.equal(r.data.user.role, "user");
        }
        const page = await client.admin.listUsers({ query: { searchValue: tag, searchOperator: "starts_with", sortBy: "email", sortDirection: "desc", limit: 2 } });
        assert.equal(page.error, null);
        assert.deepEqual([page.data.users.map((u) => u.name), page.data.total, page.data.limit], [["Listed 3", "Listed 2"], 3, 2]);
        const target = page.data.users[0];
        const upd = await client.admin.updateUser({ userId: target.id, data: { name: "Renamed" } });
        assert.equal(upd.data.name, "Renamed");
        assert.equal((await client.admin.getUser({ query: { id: target.id } })).data.name, "Renamed");
        assert.equal((await client.admin.setRole({ userId: target.id, role: "admin" })).data.user.role, "admin");
        assert.deepEqual((await client.admin.removeUser({ userId: target.id })).data, { success: true });
        assert.equal((await client.admin.getUser({ query: { id: target.id } })).error.status, 404);
      });

      it("bans a user out of their sessions and sign-in, and unbans them", async () => {
        const { client } = await admin();
        const victim = await signUp("victim");
        assert.equal((await client.admin.listUserSessions({ userId: victim.user.id })).data.sessions.length, 1);
        const ban = await client.admin.banUser({ userId: victim.user.id, banReason: "spam" });
        assert.deepEqual([ban.data.user.banned, ban.data.user.banReason], [true, "spam"]);
        assert.equal((await victim.client.getSession()).data, null);
        const refused = await newClient().signIn.email({ email: victim.email, password });
        assert.deepEqual([refused.error.status, refused.error.code], [403, "BANNED_USER"]);
        assert.equal((await client.admin.unbanUser({ userId: victim.user.id })).data.user.banned, false);
        assert.equal((await newClient().signIn.email({ email: victim.email, password })).error, null);
      });

      it("impersonates a user and stops, back in the admin's session", async () => {
        const a = await admin();
        const target = await signUp("target");
        const imp = await a.client.admin.impersonateUser({ userId: target.user.id });
        assert.equal(imp.error, null);
        assert.equal(imp.data.session.impersonatedBy, a.user.id);
        const acting = await a.client.getSession();
        assert.deepEqual([acting.data.user.id, acting.data.session.impersonatedBy], [target.user.id, a.user.id]);
        const back = await a.client.admin.stopImpersonating();
        assert.equal(back.data.user.id, a.user.id);
        assert.equal((await a.client.getSession()).data.user.id, a.user.id);
      });

      it("refuses a plain user and checks roles locally", async () => {
        const plain = await signUp("plain");
        const r = await plain.client.admin.listUsers({ query: {} });
        assert.deepEqual([r.error.status, r.error.code], [403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"]);
        assert.equal((await plain.client.admin.hasPermission({ permissions: { user: ["list"] } })).data.success, false);
        const c = newClient();
        assert.equal(c.admin.checkRolePermission({ role: "admin", permissions: { user: ["ban"] } }), true);
        assert.equal(c.admin.checkRolePermission({ role: "user", permissions: { user: ["ban"] } }), false);
        assert.equal(c.admin.checkRolePermission({ role: "admin", permissions: { user: ["impersonate-admins"] } }), false);
      });
    });
  }
});
