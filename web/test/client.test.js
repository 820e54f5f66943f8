// The client against a real sidecar on a fresh Postgres database: the calls a Next.js app makes,
// their {data, error} results, the session store's refetch after session-changing calls, the
// Next.js getSession helper with and without the cookie cache, and the passkey namespace.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createAuthClient, inferAdditionalFields, passkeyClient, usernameClient } from "../dist/index.js";
import { SidecarError, authMiddleware, getSession, readCookieCache } from "../dist/next.js";
import { jwtCookieName, verifyJWT } from "../dist/edge.js";
import { cookieFetch, eventually, freePort, missingTools, psql, repoRoot, secret, startSidecar } from "./harness.js";

const skip = await missingTools("go", "psql");

// A passkey as the sidecar stored it when a Chromium virtual authenticator registered it (an
// EdDSA key, "none" attestation). The management endpoints never read the key itself.
const recorded = {
  publicKey: "pAEBAycgBiFYIB3hFR3UKnJYiE/PBGhLBLBkrEC0UUBg9uS/LxhqQqSs",
  counter: 1,
  deviceType: "singleDevice",
  backedUp: false,
  transports: "internal",
  aaguid: "01020304-0506-0708-0102-030405060708",
};

describe("client against the sidecar", { skip }, () => {
  let sidecar;
  before(async () => {
    // The cookie cache is on so that getSession's local path meets the server's real cookie; the
    // jwt plugin for authMiddleware's "jwt" mode.
    sidecar = await startSidecar({ env: { COOKIE_CACHE_MAX_AGE: "300", JWT_ENABLED: "true" } });
  });
  after(async () => {
    await sidecar?.stop();
  });

  let n = 0;
  const newClient = () => {
    const jar = cookieFetch(sidecar.appOrigin);
    const client = createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: jar }, plugins: [passkeyClient()] });
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
    await assert.rejects(getSession(headers, { sidecarURL: dead, secret: "x".repeat(40) }), (err) => err instanceof SidecarError && err.status === 0);
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

  // The passkey namespace: the options endpoints' JSON, which the browser ceremony consumes, and the
  // management calls. The ceremonies themselves (addPasskey, signIn.passkey) need a browser and an
  // authenticator; e2e.test.js runs them in Chromium.
  describe("passkeys", () => {
    /** userWithPasskey signs up a user and stores one passkey for them, as a registration would. */
    async function userWithPasskey() {
      const { client, jar } = newClient();
      const addr = email();
      const up = await client.signUp.email({ email: addr, password: "password1234", name: "Pat Key" });
      assert.equal(up.error, null);
      const p = {
        ...recorded,
        id: randomBytes(16).toString("hex"),
        name: "Laptop",
        userId: up.data.user.id,
        credentialID: randomBytes(32).toString("base64url"),
      };
      // Every value is generated above or fixed, so plain quoting is safe.
      const values = [p.id, p.name, p.publicKey, p.userId, p.credentialID, p.counter, p.deviceType, p.backedUp, p.transports, p.aaguid];
      await psql(
        sidecar.databaseURL,
        `INSERT INTO passkey (id, name, "publicKey", "userId", "credentialID", counter, "deviceType", "backedUp", transports, aaguid, "createdAt")
         VALUES (${values.map((v) => (typeof v === "string" ? `'${v}'` : v)).join(", ")}, now())`,
      );
      return { client, jar, email: addr, passkey: p };
    }

    const descriptor = (p) => ({ id: p.credentialID, transports: [p.transports], type: "public-key" });

    it("answers register options as SimpleWebAuthn's creation options, with the challenge cookie", async () => {
      const { client, jar, email, passkey } = await userWithPasskey();
      const res = await client.$fetch("/passkey/generate-register-options", {
        method: "GET",
        query: { name: "Work laptop", authenticatorAttachment: "platform" },
      });
      assert.equal(res.error, null);
      const o = res.data;
      assert.deepEqual(Object.keys(o), [
        "challenge",
        "rp",
        "user",
        "pubKeyCredParams",
        "timeout",
        "attestation",
        "excludeCredentials",
        "authenticatorSelection",
        "extensions",
        "hints",
      ]);
      assert.match(o.challenge, /^[A-Za-z0-9_-]{43}$/);
      // BETTER_AUTH_URL's host is an IP address, which cannot be an RP ID: localhost stands in.
      assert.deepEqual(o.rp, { name: "Better Auth", id: "localhost" });
      // The user handle is random, so the authenticator never learns the account's id.
      assert.match(Buffer.from(o.user.id, "base64url").toString(), /^[a-z0-9]{32}$/);
      assert.deepEqual({ name: o.user.name, displayName: o.user.displayName }, { name: "Work laptop", displayName: email });
      assert.deepEqual(o.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257]);
      assert.equal(o.timeout, 60000);
      assert.equal(o.attestation, "none");
      assert.deepEqual(o.excludeCredentials, [descriptor(passkey)], "an authenticator cannot register the same key twice");
      assert.deepEqual(o.authenticatorSelection, {
        residentKey: "preferred",
        userVerification: "preferred",
        authenticatorAttachment: "platform",
        requireResidentKey: false,
      });
      assert.deepEqual(o.extensions, { credProps: true });
      assert.deepEqual(o.hints, []);
      assert.match(jar.jar.get("better-auth.better-auth-passkey") ?? "", /^[A-Za-z0-9_-]{32}\.[A-Za-z0-9%_+/=-]+$/);

      const signedOut = await newClient().client.$fetch("/passkey/generate-register-options", { method: "GET" });
      assert.equal(signedOut.error.status, 401);
    });

    it("offers any passkey to a signed-out visitor and only the user's own when signed in", async () => {
      const visitor = newClient();
      const open = await visitor.client.$fetch("/passkey/generate-authenticate-options", { method: "GET" });
      assert.equal(open.error, null);
      // No allowCredentials: discoverable credentials and autofill need the browser to choose.
      assert.deepEqual(Object.keys(open.data), ["rpId", "challenge", "timeout", "userVerification"]);
      assert.equal(open.data.rpId, "localhost");
      assert.match(open.data.challenge, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(open.data.userVerification, "preferred");
      assert.ok(visitor.jar.jar.has("better-auth.better-auth-passkey"));

      const { client, passkey } = await userWithPasskey();
      await userWithPasskey(); // someone else's passkey, not to be offered
      const mine = await client.$fetch("/passkey/generate-authenticate-options", { method: "GET" });
      assert.deepEqual(mine.data.allowCredentials, [descriptor(passkey)]);
      assert.notEqual(mine.data.challenge, open.data.challenge);
    });

    it("lists, renames and deletes the user's passkeys", async () => {
      const { client, passkey } = await userWithPasskey();
      const list = await client.passkey.listUserPasskeys();
      assert.equal(list.error, null);
      assert.equal(list.data.length, 1);
      const { createdAt, ...row } = list.data[0];
      assert.deepEqual(row, passkey);
      assert.ok(createdAt instanceof Date && Math.abs(createdAt.getTime() - Date.now()) < 60_000);

      const renamed = await client.passkey.updatePasskey({ id: passkey.id, name: "  Phone  " });
      assert.equal(renamed.error, null);
      assert.deepEqual(renamed.data.passkey, { ...list.data[0], name: "Phone" });
      const empty = await client.passkey.updatePasskey({ id: passkey.id, name: "   " });
      assert.equal(empty.error.status, 400);
      assert.equal(empty.error.code, "VALIDATION_ERROR");
      assert.equal((await client.passkey.listUserPasskeys()).data[0].name, "Phone");

      assert.deepEqual(await client.passkey.deletePasskey({ id: passkey.id }), { data: { status: true }, error: null });
      assert.deepEqual(await client.passkey.listUserPasskeys(), { data: [], error: null });
    });

    it("refuses changes to another user's passkey and to one that does not exist", async () => {
      const owner = await userWithPasskey();
      const { client } = await userWithPasskey();
      const { id } = owner.passkey;

      const rename = await client.passkey.updatePasskey({ id, name: "Mine now" });
      assert.equal(rename.error.status, 401);
      assert.equal(rename.error.code, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY");
      assert.deepEqual((await client.passkey.deletePasskey({ id })).error, { status: 401, statusText: "Unauthorized" });
      assert.equal((await owner.client.passkey.listUserPasskeys()).data[0].name, "Laptop", "the owner's passkey is untouched");

      const missing = [
        await client.passkey.updatePasskey({ id: "no-such-passkey", name: "X" }),
        await client.passkey.deletePasskey({ id: "no-such-passkey" }),
      ];
      for (const res of missing) {
        assert.equal(res.error.status, 404);
        assert.equal(res.error.code, "PASSKEY_NOT_FOUND");
        assert.equal(res.error.message, "Passkey not found");
      }

      const signedOut = newClient().client;
      assert.equal((await signedOut.passkey.listUserPasskeys()).error.status, 401);
      assert.equal((await signedOut.passkey.deletePasskey({ id })).error.status, 401);
      assert.equal((await owner.client.passkey.listUserPasskeys()).data.length, 1);
    });
  });

  it("authMiddleware decides locally with a JWT or the cookie cache after one sidecar answer, and falls back", async () => {
    const { client, jar } = newClient();
    await client.signUp.email({ email: email(), password: "password1234", name: "Edge" });
    let sessionCalls = 0;
    const counted = (input, init) => (String(input).endsWith("/get-session") && sessionCalls++, fetch(input, init));
    const options = { protect: ["/dashboard"], sidecarURL: sidecar.url, issuer: sidecar.url, fetch: counted };
    const visit = (mw, cookie) => mw(new Request("http://app.test/dashboard", { headers: cookie ? { cookie } : {} }));
    const decision = (res) => res?.headers.get("x-authsidecar-decision");
    const jwtCookie = (res) => res.headers.getSetCookie().find((c) => c.startsWith(`${jwtCookieName}=`))?.split(";")[0];

    // jwt: the first visit asks the sidecar and keeps its JWT in a cookie; the next is local.
    const jwtMw = authMiddleware({ ...options, verify: "jwt" });
    const first = await visit(jwtMw, jar.cookieHeader());
    assert.equal(first.headers.get("x-middleware-next"), "1");
    assert.equal(decision(first), "sidecar");
    const held = jwtCookie(first);
    assert.match(first.headers.getSetCookie().find((c) => c.startsWith(jwtCookieName)), /; Max-Age=(89\d|900); Path=\/; HttpOnly; SameSite=Lax$/);
    const calls = sessionCalls;
    const withJWT = `${jar.cookieHeader()}; ${held}`;
    assert.equal(decision(await visit(jwtMw, withJWT)), "jwt");
    assert.equal(sessionCalls, calls, "a local decision asks the sidecar nothing");

    // The JWT is bound to its session cookie: another user's cookie with it asks the sidecar.
    const other = newClient();
    await other.client.signUp.email({ email: email(), password: "password1234", name: "Other" });
    assert.equal(decision(await visit(jwtMw, `${other.jar.cookieHeader()}; ${held}`)), "sidecar");
    // A tampered, alg none, expired or foreign-issuer JWT is not taken.
    const jwt = held.slice(held.indexOf("=") + 1).split(".").slice(1).join(".");
    const [h, p, sig] = jwt.split(".");
    const binding = held.slice(held.indexOf("=") + 1).split(".")[0];
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: JSON.parse(Buffer.from(h, "base64url")).kid })).toString("base64url")}.${p}.`;
    const flipped = `${h}.${p}.${(sig[0] === "A" ? "B" : "A") + sig.slice(1)}`;
    for (const bad of [none, flipped]) {
      assert.equal(decision(await visit(jwtMw, `${jar.cookieHeader()}; ${jwtCookieName}=${binding}.${bad}`)), "sidecar", bad.slice(0, 30));
    }
    const url = new URL("http://app.test/dashboard");
    assert.ok(await verifyJWT(jwt, options, url));
    assert.equal(await verifyJWT(jwt, options, url, Date.now() + 16 * 60_000), undefined, "expired");
    assert.equal(await verifyJWT(jwt, { ...options, issuer: "https://other.example" }, url), undefined, "issuer");

    // cookie-cache: the sidecar's signed session_data cookie answers alone; a wrong secret does not.
    const cacheMw = authMiddleware({ ...options, verify: "cookie-cache", secret });
    const before = sessionCalls;
    assert.equal(decision(await visit(cacheMw, jar.cookieHeader())), "cookie-cache");
    assert.equal(sessionCalls, before);
    assert.equal(decision(await visit(authMiddleware({ ...options, verify: "cookie-cache", secret: "x".repeat(40) }), jar.cookieHeader())), "sidecar");

    // sidecar: asks every time, and sees a revoked session at once.
    const sidecarMw = authMiddleware({ ...options, verify: "sidecar" });
    assert.equal(decision(await visit(sidecarMw, jar.cookieHeader())), "sidecar");
    const stale = jar.cookieHeader().replace(/; better-auth\.session_data=[^;]+/, "");
    await client.signOut();
    const out = await visit(sidecarMw, stale);
    assert.equal(out.status, 307);
    assert.equal(out.headers.get("location"), "http://app.test/sign-in?callbackURL=/dashboard");
    // In jwt mode a signed-out session's stale cookie asks the sidecar once its JWT is gone, and is refused.
    const refused = await visit(jwtMw, stale);
    assert.equal(refused.status, 307);

    // No session cookie: straight to sign-in; a dead sidecar lets the request on (the page decides).
    assert.equal((await visit(jwtMw, "")).status, 307);
    const dead = authMiddleware({ ...options, verify: "jwt", sidecarURL: `http://127.0.0.1:${await freePort()}` });
    assert.equal(decision(await visit(dead, other.jar.cookieHeader())), "sidecar-unreachable");
  });
});

// A sidecar with advanced.cookiePrefix set (COOKIE_PREFIX): the Next.js helpers told the same
// prefix find its cookies, locally (cookie cache, JWT) and through get-session; told nothing they see none.
describe("the Next.js helpers with a cookie prefix", { skip }, () => {
  let sidecar;
  before(async () => {
    sidecar = await startSidecar({ env: { COOKIE_PREFIX: "acme", COOKIE_CACHE_MAX_AGE: "300", JWT_ENABLED: "true" } });
  });
  after(async () => {
    await sidecar?.stop();
  });

  it("read acme.session_token and acme.session_data when given cookiePrefix, and nothing without it", async () => {
    const jar = cookieFetch(sidecar.appOrigin);
    const client = createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: jar } });
    const addr = `prefix-${Date.now()}@example.com`;
    assert.equal((await client.signUp.email({ email: addr, password: "password1234", name: "Pre" })).error, null);
    assert.ok(jar.jar.has("acme.session_token") && jar.jar.has("acme.session_data"), [...jar.jar.keys()].join(", "));
    const headers = new Headers({ cookie: jar.cookieHeader() });

    const options = { sidecarURL: sidecar.url, cookiePrefix: "acme" };
    assert.equal((await getSession(headers, { ...options, secret: "" })).user.email, addr, "through get-session");
    const dead = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await getSession(headers, { ...options, sidecarURL: dead, secret })).user.email, addr, "from the cookie cache alone");
    assert.equal(await getSession(headers, { sidecarURL: sidecar.url, secret }), null, "the default prefix finds no session cookie");

    const visit = (mw) => mw(new Request("http://app.test/dashboard", { headers: { cookie: jar.cookieHeader() } }));
    const decision = (res) => res?.headers.get("x-authsidecar-decision");
    const mw = { protect: ["/dashboard"], sidecarURL: sidecar.url, issuer: sidecar.url, cookiePrefix: "acme" };
    assert.equal(await visit(authMiddleware(mw)), undefined, "the optimistic check lets the visitor on");
    assert.equal(decision(await visit(authMiddleware({ ...mw, verify: "cookie-cache", secret }))), "cookie-cache");
    const jwtFirst = await visit(authMiddleware({ ...mw, verify: "jwt" }));
    assert.equal(decision(jwtFirst), "sidecar");
    assert.ok(jwtFirst.headers.getSetCookie().some((c) => c.startsWith(`${jwtCookieName}=`)), "the JWT is kept for the next visit");
    assert.equal((await visit(authMiddleware({ protect: ["/dashboard"] }))).status, 307, "without the prefix: no session cookie");
  });
});

// A sidecar started with testdata/config/fields.json (the username plugin and additional fields):
// usernameClient's calls and inferAdditionalFields' fields at run time, not only in the types.
describe("usernameClient and additional fields against the sidecar", { skip }, () => {
  let sidecar;
  before(async () => {
    sidecar = await startSidecar({ env: { AUTH_CONFIG: `${repoRoot}/testdata/config/fields.json` } });
  });
  after(async () => {
    await sidecar?.stop();
  });

  const make = () => {
    const jar = cookieFetch(sidecar.appOrigin);
    const fields = inferAdditionalFields({ user: { age: { type: "number", required: false } }, session: { device: { type: "string", required: false } } });
    return createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: jar }, plugins: [usernameClient(), fields] });
  };

  it("signs up with a username and fields, then signs in by the username in another case", async () => {
    const name = `ann_${randomBytes(3).toString("hex")}`;
    const a = make();
    assert.deepEqual((await a.isUsernameAvailable({ username: name })).data, { available: true });
    const up = await a.signUp.email({ email: `${name}@example.com`, password: "password1234", name: "Ann", username: name.toUpperCase(), age: 41 });
    assert.equal(up.error, null, JSON.stringify(up.error));
    assert.equal(up.data.user.username, name, "stored normalised");
    assert.equal(up.data.user.displayUsername, name.toUpperCase());
    assert.equal(up.data.user.age, 41);
    assert.equal(up.data.user.plan, "free", "a server-side default is returned");
    assert.equal("internalNote" in up.data.user, false, "returned: false stays out");
    assert.deepEqual((await a.isUsernameAvailable({ username: name })).data, { available: false });

    const b = make();
    const signedIn = await b.signIn.username({ username: name.toUpperCase(), password: "password1234" });
    assert.equal(signedIn.error, null, JSON.stringify(signedIn.error));
    const s = await b.getSession();
    assert.equal(s.data.user.username, name);
    assert.equal(s.data.user.age, 41);
    assert.equal(s.data.session.theme, "light");

    const wrong = await make().signIn.username({ username: name, password: "wrong-password-1" });
    assert.equal(wrong.error?.code, "INVALID_USERNAME_OR_PASSWORD");
    assert.equal(wrong.data, null);
  });
});
