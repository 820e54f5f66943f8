// Unit tests of the client's pure parts: JSON and dates, base64url, request mapping, the session
// store's error semantics, WebAuthn conversions, access control and the middleware.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  checkRolePermission,
  createAuthClient,
  fromBase64url,
  parseDate,
  parseJSON,
  toBase64url,
  twoFactorClient,
} from "../dist/index.js";
import { authMiddleware, parseCookies } from "../dist/next.js";
import { authenticationJSON, creationOptions, registrationJSON, requestOptions } from "../dist/webauthn.js";

// upstream's toKebabCase (@better-auth/core utils/string), the rule its client proxy maps names with.
const kebab = (s) =>
  (s.replace(/['\u2019]/g, "").match(/[\p{Ll}\d]+|\p{Lu}+(?!\p{Ll})|\p{Lu}[\p{Ll}\d]+|\p{Lo}+/gu) ?? [])
    .map((w) => w.toLowerCase())
    .join("-");

/** recorder is a fetch that answers every request with reply() and remembers what was asked. */
function recorder(reply = () => new Response("{}", { status: 200, headers: { "content-type": "application/json" } })) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url: new URL(url), method: init.method, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    return reply(url, init);
  };
  f.calls = calls;
  return f;
}

const statusTexts = { 200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error" };
const json = (status, body) =>
  new Response(body === undefined ? "" : JSON.stringify(body), {
    status,
    statusText: statusTexts[status],
    headers: { "content-type": "application/json" },
  });

describe("parseJSON", () => {
  it("revives ISO timestamps anywhere in the tree and leaves other strings alone", () => {
    const v = parseJSON('{"a":"2026-11-26T19:02:48.278Z","b":[{"c":"2026-01-02T03:04:05Z"}],"d":"2026-11-26","e":"hello"}');
    assert.ok(v.a instanceof Date);
    assert.equal(v.a.toISOString(), "2026-11-26T19:02:48.278Z");
    assert.equal(v.b[0].c.toISOString(), "2026-01-02T03:04:05.000Z");
    assert.equal(v.d, "2026-11-26");
    assert.equal(v.e, "hello");
  });
  it("applies zone offsets and truncates sub-millisecond digits", () => {
    assert.equal(parseDate("2026-01-01T10:00:00.1234567+02:30").toISOString(), "2026-01-01T07:30:00.123Z");
    assert.equal(parseDate("2026-01-01T00:00:00-01:00").toISOString(), "2026-01-01T01:00:00.000Z");
    assert.equal(parseDate("2026-01-01T00:00:00"), null, "a timestamp without a zone stays a string");
    assert.equal(parseDate("not a date"), null);
  });
  it("reads an empty body as null and non-JSON as the text itself", () => {
    assert.equal(parseJSON(""), null);
    assert.equal(parseJSON("  "), null);
    assert.equal(parseJSON("null"), null);
    assert.equal(parseJSON("Not Found"), "Not Found");
  });
  it("drops __proto__ keys instead of polluting prototypes", () => {
    const v = parseJSON('{"__proto__":{"polluted":true},"ok":1}');
    assert.equal(v.ok, 1);
    assert.equal({}.polluted, undefined);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });
});

describe("base64url", () => {
  it("matches RFC 4648 vectors without padding", () => {
    const vectors = { "": "", f: "Zg", fo: "Zm8", foo: "Zm9v", foob: "Zm9vYg", fooba: "Zm9vYmE", foobar: "Zm9vYmFy" };
    for (const [text, want] of Object.entries(vectors)) {
      assert.equal(toBase64url(new TextEncoder().encode(text)), want);
      assert.equal(new TextDecoder().decode(fromBase64url(want)), text);
    }
  });
  it("uses - and _ and round-trips every length", () => {
    assert.equal(toBase64url(new Uint8Array([0xfb, 0xff, 0xbf])), "-_-_");
    for (let n = 0; n < 70; n++) {
      const bytes = randomBytes(n);
      const enc = toBase64url(bytes);
      assert.doesNotMatch(enc, /[+/=]/);
      assert.deepEqual(new Uint8Array(fromBase64url(enc)), new Uint8Array(bytes));
      assert.equal(enc, bytes.toString("base64url"));
    }
  });
  it("encodes views of a larger buffer by their own bytes", () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5]);
    assert.equal(toBase64url(buf.subarray(1, 3)), Buffer.from([2, 3]).toString("base64url"));
  });
  it("accepts padded input and refuses characters outside the alphabet", () => {
    assert.deepEqual(new Uint8Array(fromBase64url("Zm8=")), new TextEncoder().encode("fo"));
    assert.throws(() => fromBase64url("a*b"), TypeError);
    assert.throws(() => fromBase64url("abcde"), TypeError);
  });
});

describe("request mapping", () => {
  // Every endpoint is called with a body field so that the method rule is visible too; the path
  // must equal what upstream's proxy derives from the property names.
  const ceremonies = new Set(["signIn.passkey", "passkey.addPasskey", "organization.checkRolePermission"]);
  it("sends every method to the path upstream's proxy derives from its name", async () => {
    const f = recorder();
    const client = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f } });
    const walk = async (obj, prefix) => {
      for (const [key, value] of Object.entries(obj)) {
        const name = prefix ? `${prefix}.${key}` : key;
        if (key.startsWith("$") || key === "baseURL" || ceremonies.has(name)) continue;
        if (typeof value === "function") {
          await value({ query: { id: "x" } });
          const { url } = f.calls.at(-1);
          assert.equal(url.pathname, "/api/auth/" + name.split(".").map(kebab).join("/"), name);
        } else {
          await walk(value, name);
        }
      }
    };
    await walk(client, "");
    assert.ok(f.calls.length > 60, `only ${f.calls.length} endpoints walked`);
  });

  it("picks GET without body fields, POST with them, and the fixed method for fixed paths", async () => {
    const f = recorder();
    const c = createAuthClient({ baseURL: "http://app.test/api/auth", fetchOptions: { customFetchImpl: f } });
    const cases = [
      [() => c.getSession(), "GET", "/get-session", undefined],
      [() => c.getSession({ query: { disableCookieCache: true } }), "GET", "/get-session?disableCookieCache=true", undefined],
      [() => c.listSessions(), "GET", "/list-sessions", undefined],
      [() => c.signOut(), "POST", "/sign-out", {}],
      [() => c.revokeSessions(), "POST", "/revoke-sessions", {}],
      [() => c.revokeOtherSessions(), "POST", "/revoke-other-sessions", {}],
      [() => c.signIn.email({ email: "a@b.c", password: "p" }), "POST", "/sign-in/email", { email: "a@b.c", password: "p" }],
      [() => c.twoFactor.sendOtp(), "POST", "/two-factor/send-otp", {}],
      [() => c.organization.getFullOrganization({ query: { organizationId: "o1" } }), "GET", "/organization/get-full-organization?organizationId=o1", undefined],
      [() => c.organization.setActive({ organizationId: null }), "POST", "/organization/set-active", { organizationId: null }],
      [() => c.organization.listMembers({ query: { limit: 5 } }), "GET", "/organization/list-members?limit=5", undefined],
      [() => c.verifyEmail({ query: { token: "t/k" } }), "GET", "/verify-email?token=t%2Fk", undefined],
      [() => c.updateUser({ name: "n" }, { body: { image: "i" } }), "POST", "/update-user", { name: "n", image: "i" }],
      [() => c.getSession({ fetchOptions: { method: "POST" } }), "POST", "/get-session", {}],
    ];
    for (const [call, method, path, body] of cases) {
      await call();
      const got = f.calls.at(-1);
      assert.equal(got.method, method, path);
      assert.equal(got.url.pathname.replace("/api/auth", "") + got.url.search, path);
      assert.deepEqual(got.body, body, path);
    }
  });

  it("returns {data, error} with the server's error JSON spread and the status added", async () => {
    const f = recorder(() => json(401, { code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password" }));
    const c = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f } });
    const res = await c.signIn.email({ email: "a@b.c", password: "x" });
    assert.equal(res.data, null);
    assert.deepEqual(res.error, { code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password", status: 401, statusText: "Unauthorized" });
    const empty = await createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: recorder(() => json(404)) } }).getSession();
    assert.deepEqual(empty, { data: null, error: { status: 404, statusText: "Not Found" } });
  });

  it("rejects on network failure, as upstream's client does", async () => {
    const c = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: async () => { throw new TypeError("fetch failed"); } } });
    await assert.rejects(c.getSession(), TypeError);
  });

  it("appends /api/auth to a bare origin and keeps an explicit path", () => {
    assert.equal(createAuthClient({ baseURL: "http://app.test" }).baseURL, "http://app.test/api/auth");
    assert.equal(createAuthClient({ baseURL: "http://app.test/" }).baseURL, "http://app.test/api/auth");
    assert.equal(createAuthClient({ baseURL: "http://app.test/auth" }).baseURL, "http://app.test/auth");
    assert.equal(createAuthClient({ baseURL: "http://app.test", basePath: "/a" }).baseURL, "http://app.test/a");
  });

  it("hands a two-factor challenge to onTwoFactorRedirect", async () => {
    const f = recorder(() => json(200, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] }));
    const seen = [];
    const c = createAuthClient({
      baseURL: "http://app.test",
      fetchOptions: { customFetchImpl: f },
      plugins: [twoFactorClient({ onTwoFactorRedirect: (ctx) => seen.push(ctx) })],
    });
    const res = await c.signIn.email({ email: "a@b.c", password: "p" });
    assert.equal(res.data.twoFactorRedirect, true);
    assert.deepEqual(seen, [{ twoFactorMethods: ["totp", "otp"] }]);
  });
});

describe("session store", () => {
  const session = { session: { id: "s", token: "t", userId: "u", expiresAt: "2999-01-01T00:00:00.000Z" }, user: { id: "u", name: "Ann" } };
  it("keeps data on server and network errors, clears it on 401", async () => {
    const replies = [json(200, session), json(500, { message: "boom" }), "network", json(401, { code: "UNAUTHORIZED" })];
    const f = recorder(() => {
      const r = replies.shift();
      if (r === "network") throw new TypeError("fetch failed");
      return r;
    });
    const store = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f } }).$session;
    assert.equal(store.get().isPending, true);
    await store.refetch();
    assert.equal(store.get().data.user.name, "Ann");
    assert.ok(store.get().data.session.expiresAt instanceof Date);
    assert.equal(store.get().isPending, false);
    await store.refetch();
    assert.equal(store.get().data.user.name, "Ann");
    assert.equal(store.get().error.status, 500);
    await store.refetch();
    assert.equal(store.get().data.user.name, "Ann");
    assert.ok(store.get().error instanceof TypeError);
    await store.refetch();
    assert.equal(store.get().data, null);
    assert.equal(store.get().error.status, 401);
  });
  it("treats {session: null, user: null} as signed out", async () => {
    const store = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: recorder(() => json(200, { session: null, user: null })) } }).$session;
    await store.refetch();
    assert.equal(store.get().data, null);
    assert.equal(store.get().error, null);
  });
  it("notifies subscribers and keeps the same data object when nothing changed", async () => {
    const store = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: recorder(() => json(200, session)) } }).$session;
    let notified = 0;
    const unsubscribe = store.subscribe(() => notified++);
    await store.refetch();
    const first = store.get().data;
    await store.refetch();
    assert.equal(store.get().data, first);
    assert.ok(notified >= 4, `notified ${notified} times`);
    unsubscribe();
  });
});

describe("webauthn conversions", () => {
  const b = (s) => Buffer.from(s).toString("base64url");
  it("decodes the binary fields of creation and request options", () => {
    const opts = creationOptions({
      challenge: b("challenge"),
      rp: { name: "App", id: "localhost" },
      user: { id: b("user-handle"), name: "a@b.c", displayName: "a@b.c" },
      pubKeyCredParams: [{ alg: -7, type: "public-key" }],
      excludeCredentials: [{ id: b("cred1"), type: "public-key", transports: ["internal"] }],
    });
    assert.equal(Buffer.from(opts.challenge).toString(), "challenge");
    assert.equal(Buffer.from(opts.user.id).toString(), "user-handle");
    assert.equal(opts.user.name, "a@b.c");
    assert.equal(Buffer.from(opts.excludeCredentials[0].id).toString(), "cred1");
    assert.deepEqual(opts.excludeCredentials[0].transports, ["internal"]);
    const req = requestOptions({ challenge: b("c2"), rpId: "localhost", allowCredentials: [{ id: b("cred2"), type: "public-key" }] });
    assert.equal(Buffer.from(req.challenge).toString(), "c2");
    assert.equal(Buffer.from(req.allowCredentials[0].id).toString(), "cred2");
    assert.equal(requestOptions({ challenge: b("c3") }).allowCredentials, undefined);
  });
  it("encodes credentials in the JSON shape the server verifies", () => {
    const ab = (s) => new TextEncoder().encode(s).buffer;
    const reg = registrationJSON({
      id: b("raw"),
      rawId: ab("raw"),
      type: "public-key",
      authenticatorAttachment: "platform",
      response: { clientDataJSON: ab("cd"), attestationObject: ab("ao"), getTransports: () => ["internal", "hybrid"], getPublicKeyAlgorithm: () => -7 },
    });
    assert.deepEqual(reg, {
      id: b("raw"),
      rawId: b("raw"),
      type: "public-key",
      authenticatorAttachment: "platform",
      response: { clientDataJSON: b("cd"), attestationObject: b("ao"), transports: ["internal", "hybrid"], publicKeyAlgorithm: -7 },
    });
    const auth = authenticationJSON({
      id: b("raw"),
      rawId: ab("raw"),
      type: "public-key",
      authenticatorAttachment: null,
      response: { clientDataJSON: ab("cd"), authenticatorData: ab("ad"), signature: ab("sig"), userHandle: ab("uh") },
    });
    assert.deepEqual(auth, {
      id: b("raw"),
      rawId: b("raw"),
      type: "public-key",
      response: { clientDataJSON: b("cd"), authenticatorData: b("ad"), signature: b("sig"), userHandle: b("uh") },
    });
    assert.throws(() => registrationJSON({ id: "x", rawId: ab("x"), type: "public-key", response: { clientDataJSON: ab("c") } }), TypeError);
  });
});

describe("checkRolePermission", () => {
  const cases = [
    ["owner", { organization: ["delete"] }, true],
    ["admin", { organization: ["delete"] }, false],
    ["admin", { organization: ["update"], member: ["create", "delete"] }, true],
    ["member", { member: ["create"] }, false],
    ["member", { ac: ["read"] }, true],
    ["member,admin", { invitation: ["create"] }, true],
    [" admin , ", { team: ["create"] }, true],
    ["owner", {}, false],
    ["owner", { organization: [] }, false],
    ["owner", { billing: ["read"] }, false],
    ["superuser", { ac: ["read"] }, false],
  ];
  for (const [role, permissions, want] of cases) {
    it(`${JSON.stringify(role)} ${JSON.stringify(permissions)} → ${want}`, () => {
      assert.equal(checkRolePermission({ role, permissions }), want);
    });
  }
});

describe("next helpers", () => {
  const mw = authMiddleware({ protect: ["/dashboard", "/settings/"] });
  const req = (url, cookie) => new Request(url, { headers: cookie ? { cookie } : {} });
  it("redirects a signed-out visitor of a protected path to sign-in with the path as callbackURL", () => {
    const res = mw(req("http://app.test/dashboard"));
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), "http://app.test/sign-in?callbackURL=/dashboard");
    const deep = mw(req("http://app.test/settings/sessions?tab=a&b=c d"));
    assert.equal(new URL(deep.headers.get("location")).searchParams.get("callbackURL"), "/settings/sessions?tab=a&b=c%20d");
  });
  it("lets through visitors with a session cookie and paths that are not protected", () => {
    assert.equal(mw(req("http://app.test/dashboard", "better-auth.session_token=abc.def")), undefined);
    assert.equal(mw(req("http://app.test/dashboard", "__Secure-better-auth.session_token=abc")), undefined);
    assert.equal(mw(req("http://app.test/dashboardx")), undefined);
    assert.equal(mw(req("http://app.test/")), undefined);
    assert.equal(mw(req("http://app.test/dashboard", "better-auth.session_data=abc")).status, 307);
  });
  it("reads the first occurrence of a cookie and strips quotes", () => {
    const c = parseCookies('a=1; b="two"; a=3;junk; c=x=y');
    assert.equal(c.get("a"), "1");
    assert.equal(c.get("b"), "two");
    assert.equal(c.get("c"), "x=y");
  });
});
