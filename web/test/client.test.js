// The client against a real sidecar on a fresh Postgres database: the calls a Next.js app makes,
// their {data, error} results, the session store's refetch after session-changing calls, and the
// Next.js getSession helper with and without the cookie cache.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createAuthClient } from "../dist/index.js";
import { SidecarError, getSession, readCookieCache } from "../dist/next.js";
import { cookieFetch, eventually, freePort, missingTools, secret, startSidecar } from "./harness.js";

const skip = await missingTools("go", "psql");

describe("client against the sidecar", { skip }, () => {
  let sidecar;
  before(async () => {
    // The cookie cache is on so that getSession's local path meets the server's real cookie.
    sidecar = await startSidecar({ env: { COOKIE_CACHE_MAX_AGE: "300" } });
  });
  after(async () => {
    await sidecar?.stop();
  });

  let n = 0;
  const newClient = () => {
    const jar = cookieFetch(sidecar.appOrigin);
    const client = createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: jar } });
    return { client, jar };
  };
  const email = () => `user${++n}-${Date.now()}@example.com`;

  it("signs up, reads the session with revived dates, and signs out", async () => {
    const { client, jar } = newClient();
    const addr = email();
    const up = await client.signUp.email({ email: addr, password: "password1234", name: "Ann Example" });
    assert.equal(up.error, null);
    assert.equal(up.data.user.email, addr);
    assert.ok(up.data.user.createdAt instanceof Date);
    assert.equal(typeof up.data.token, "string");
    assert.ok(jar.jar.has("better-auth.session_token"));

    const s = await client.getSession();
    assert.equal(s.data.user.name, "Ann Example");
    assert.ok(s.data.session.expiresAt instanceof Date);
    assert.ok(s.data.session.expiresAt.getTime() > Date.now() + 6 * 86400_000);

    const out = await client.signOut();
    assert.deepEqual(out, { data: { success: true }, error: null });
    assert.equal(jar.jar.has("better-auth.session_token"), false);
    assert.deepEqual(await client.getSession(), { data: null, error: null });
  });

  it("reports the server's code and message for bad credentials and taken emails", async () => {
    const { client } = newClient();
    const addr = email();
    await client.signUp.email({ email: addr, password: "password1234", name: "Bo" });
    const wrong = await newClient().client.signIn.email({ email: addr, password: "wrong-password" });
    assert.equal(wrong.data, null);
    assert.equal(wrong.error.status, 401);
    assert.equal(wrong.error.code, "INVALID_EMAIL_OR_PASSWORD");
    assert.equal(wrong.error.message, "Invalid email or password");
    const taken = await newClient().client.signUp.email({ email: addr, password: "password1234", name: "Bo" });
    assert.equal(taken.error.status, 422);
    assert.equal(taken.error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
    const short = await newClient().client.signUp.email({ email: email(), password: "short", name: "Bo" });
    assert.equal(short.error.code, "PASSWORD_TOO_SHORT");
  });

  it("signs in with a callbackURL and gets redirect and url back", async () => {
    const addr = email();
    await newClient().client.signUp.email({ email: addr, password: "password1234", name: "Cy" });
    const res = await newClient().client.signIn.email({ email: addr, password: "password1234", callbackURL: "/dashboard" });
    assert.equal(res.error, null);
    assert.equal(res.data.redirect, true);
    assert.equal(res.data.url, "/dashboard");
    assert.equal(res.data.user.email, addr);
  });

  it("lists and revokes sessions", async () => {
    const addr = email();
    const a = newClient();
    await a.client.signUp.email({ email: addr, password: "password1234", name: "Di" });
    const b = newClient();
    const c = newClient();
    await b.client.signIn.email({ email: addr, password: "password1234" });
    await c.client.signIn.email({ email: addr, password: "password1234" });

    const list = await a.client.listSessions();
    assert.equal(list.data.length, 3);
    assert.ok(list.data.every((s) => s.createdAt instanceof Date));

    const bToken = (await b.client.getSession()).data.session.token;
    assert.deepEqual((await a.client.revokeSession({ token: bToken })).data, { status: true });
    assert.equal((await b.client.getSession({ query: { disableCookieCache: true } })).data, null);

    assert.deepEqual((await a.client.revokeOtherSessions()).data, { status: true });
    assert.equal((await c.client.getSession({ query: { disableCookieCache: true } })).data, null);
    assert.equal((await a.client.listSessions()).data.length, 1);

    assert.deepEqual((await a.client.revokeSessions()).data, { status: true });
    assert.equal((await a.client.getSession()).data, null);
  });

  it("updates the user and changes the password", async () => {
    const addr = email();
    const { client } = newClient();
    await client.signUp.email({ email: addr, password: "password1234", name: "Ed" });
    assert.deepEqual((await client.updateUser({ name: "Edward" })).data, { status: true });
    assert.equal((await client.getSession()).data.user.name, "Edward");

    const bad = await client.changePassword({ currentPassword: "nope-nope-nope", newPassword: "newpassword99" });
    assert.equal(bad.error.code, "INVALID_PASSWORD");
    const ok = await client.changePassword({ currentPassword: "password1234", newPassword: "newpassword99", revokeOtherSessions: true });
    assert.equal(ok.error, null);
    assert.equal(typeof ok.data.token, "string");
    assert.equal((await client.getSession()).data.user.email, addr);
    assert.equal((await newClient().client.signIn.email({ email: addr, password: "password1234" })).error.status, 401);
    assert.equal((await newClient().client.signIn.email({ email: addr, password: "newpassword99" })).error, null);
  });

  it("refetches the shared session store after sign-in and sign-out", async () => {
    const addr = email();
    await newClient().client.signUp.email({ email: addr, password: "password1234", name: "Flo" });
    const { client } = newClient();
    const store = client.$session;
    const unsubscribe = store.subscribe(() => {});
    try {
      await store.refetch();
      assert.equal(store.get().data, null);
      assert.equal(store.get().isPending, false);
      await client.signIn.email({ email: addr, password: "password1234" });
      await eventually(() => assert.equal(store.get().data?.user.name, "Flo"));
      await client.signOut();
      await eventually(() => assert.equal(store.get().data, null));
      assert.equal(store.get().error, null);
    } finally {
      unsubscribe();
    }
  });

  it("getSession for Next.js forwards the cookie and reads the cookie cache", async () => {
    const addr = email();
    const { client, jar } = newClient();
    await client.signUp.email({ email: addr, password: "password1234", name: "Gil" });
    const headers = new Headers({ cookie: jar.cookieHeader() });
    assert.ok(jar.jar.has("better-auth.session_data"), "the sidecar set the cookie cache");

    // Through the sidecar (no secret given, none in the env).
    const viaSidecar = await getSession(headers, { sidecarURL: sidecar.url, secret: "" });
    assert.equal(viaSidecar.user.email, addr);
    assert.ok(viaSidecar.session.expiresAt instanceof Date);

    // With the secret the cache answers alone: a dead sidecar address proves no request is made.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cached = await getSession(headers, { sidecarURL: dead, secret });
    assert.equal(cached.user.email, addr);
    assert.equal(cached.session.token, viaSidecar.session.token);
    assert.ok(cached.user.createdAt instanceof Date);

    // A wrong secret must not trust the cookie: it falls back to the (dead) sidecar and fails loudly.
    await assert.rejects(getSession(headers, { sidecarURL: dead, secret: "x".repeat(40) }), TypeError);
    assert.equal(await readCookieCache(jar.cookieHeader(), "x".repeat(40)), null);

    // A tampered cache is refused.
    const tampered = jar.cookieHeader().replace(/better-auth\.session_data=([^;]+)/, (_, v) => {
      const obj = JSON.parse(Buffer.from(v, "base64url").toString());
      obj.session.user.name = "Mallory";
      return `better-auth.session_data=${Buffer.from(JSON.stringify(obj)).toString("base64url")}`;
    });
    assert.equal(await readCookieCache(tampered, secret), null);

    // No cookie, or a forged one: signed out.
    assert.equal(await getSession(new Headers(), { sidecarURL: sidecar.url }), null);
    const forged = new Headers({ cookie: "better-auth.session_token=abc.def" });
    assert.equal(await getSession(forged, { sidecarURL: sidecar.url, secret: "" }), null);

    await client.signOut();
    assert.equal(await getSession(headers, { sidecarURL: sidecar.url, secret: "", query: { disableCookieCache: true } }), null);
  });

  it("getSession throws SidecarError on a server error", async () => {
    const failing = async () => new Response('{"message":"Service temporarily unavailable","code":"SERVICE_UNAVAILABLE"}', { status: 503 });
    const headers = new Headers({ cookie: "better-auth.session_token=abc" });
    await assert.rejects(getSession(headers, { fetch: failing, secret: "" }), (err) => {
      assert.ok(err instanceof SidecarError);
      assert.equal(err.status, 503);
      assert.equal(err.code, "SERVICE_UNAVAILABLE");
      return true;
    });
  });
});
