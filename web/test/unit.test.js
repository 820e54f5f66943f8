// Unit tests of the client's pure parts: JSON and dates, base64url, request mapping, the session
// store's error semantics, WebAuthn conversions, access control and the middleware.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  SidecarError,
  adminClient,
  checkRolePermission,
  createAccessControl,
  createAuthClient,
  emailOTPClient,
  fromBase64url,
  magicLinkClient,
  organizationClient,
  parseDate,
  parseJSON,
  passkeyClient,
  toBase64url,
  twoFactorClient,
  usernameClient,
} from "../dist/index.js";
import { SidecarError as NextSidecarError, authMiddleware, clientAddress, getSession, hasSessionCookie, parseCookies } from "../dist/next.js";
import { authenticationJSON, creationOptions, registrationJSON, requestOptions } from "../dist/webauthn.js";
import { eventually, freePort, upstreamClient } from "./harness.js";

const upstream = await upstreamClient();

/** Every plugin we ship, and upstream's same list. */
const everyPlugin = () => [twoFactorClient(), passkeyClient(), organizationClient(), magicLinkClient(), emailOTPClient(), adminClient(), usernameClient()];
const everyUpstreamPlugin = (lib) => [
  lib.twoFactorClient(),
  lib.passkeyClient(),
  lib.organizationClient(),
  lib.magicLinkClient(),
  lib.emailOTPClient(),
  lib.adminClient(),
  lib.usernameClient(),
];

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
  const ceremonies = new Set(["signIn.passkey", "passkey.addPasskey", "organization.checkRolePermission", "admin.checkRolePermission"]);
  it("sends every method to the path upstream's proxy derives from its name", async () => {
    const f = recorder();
    const client = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f }, plugins: everyPlugin() });
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

  it("sends the same request as upstream's client for every method, with and without body fields", { skip: !upstream && "upstream's client is not installed" }, async () => {
    const mine = recorder();
    const theirs = recorder();
    const client = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: mine }, plugins: everyPlugin() });
    const up = upstream?.createAuthClient({
      baseURL: "http://app.test",
      fetchOptions: { customFetchImpl: theirs },
      plugins: everyUpstreamPlugin(upstream),
    });
    const inputs = [undefined, { query: { id: "x", n: 2 } }, { name: "n", list: ["a"], query: { id: "x" } }, { fetchOptions: { method: "POST" } }];
    let compared = 0;
    const walk = async (obj, names) => {
      for (const [key, value] of Object.entries(obj)) {
        const name = [...names, key].join(".");
        if (key.startsWith("$") || key === "baseURL" || ceremonies.has(name)) continue;
        if (typeof value !== "function") {
          await walk(value, [...names, key]);
          continue;
        }
        const theirMethod = [...names, key].reduce((o, k) => o[k], up);
        for (const input of inputs) {
          await value(input);
          await theirMethod(input);
          const [a, b] = [mine.calls.at(-1), theirs.calls.at(-1)];
          assert.deepEqual([a.method, a.url.href, a.body], [b.method, b.url.href, b.body ?? undefined], `${name}(${JSON.stringify(input)})`);
          compared++;
        }
      }
    };
    await walk(client, []);
    assert.ok(compared > 240, `only ${compared} calls compared`);
  });

  it("picks GET without body fields, POST with them, and the fixed method for fixed paths", async () => {
    const f = recorder();
    const c = createAuthClient({ baseURL: "http://app.test/api/auth", fetchOptions: { customFetchImpl: f }, plugins: everyPlugin() });
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

  it("rejects with SidecarError, the network's error as cause, when the request fails", async () => {
    const cause = new TypeError("fetch failed");
    const c = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: async () => { throw cause; } } });
    for (const call of [() => c.getSession(), () => c.signIn.email({ email: "a@b.c", password: "p" })]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof SidecarError);
        assert.equal(err.status, 0);
        assert.equal(err.code, "SIDECAR_UNREACHABLE");
        assert.equal(err.cause, cause);
        assert.match(err.message, /http:\/\/app\.test\/api\/auth\/.* could not be reached: fetch failed/);
        return true;
      });
    }
  });

  it("runs onRequest, onResponse, onSuccess and onError, defaults first, as better-fetch", async () => {
    const f = recorder((url) => (new URL(url).pathname.endsWith("/get-session") ? json(200, { session: { id: "s" }, user: { id: "u" } }) : json(401, { code: "X" })));
    const seen = [];
    const c = createAuthClient({
      baseURL: "http://app.test",
      fetchOptions: {
        customFetchImpl: f,
        onRequest: (ctx) => {
          seen.push(`default request ${ctx.method} ${new URL(ctx.url).pathname}`);
          return { headers: new Headers({ "x-added": "1" }) };
        },
        onResponse: (ctx) => void seen.push(`default response ${ctx.response.status}`),
        onSuccess: (ctx) => void seen.push(`default success ${ctx.data.user.id}`),
        onError: (ctx) => void seen.push(`default error ${ctx.error.code} ${ctx.request.method}`),
      },
    });
    const headersSent = [];
    const spy = async (url, init) => (headersSent.push(init.headers.get("x-added")), f(url, init));
    await c.getSession({ fetchOptions: { customFetchImpl: spy, onSuccess: (ctx) => void seen.push(`call success ${ctx.data.session.id}`) } });
    await c.signIn.email(
      { email: "a@b.c", password: "p" },
      {
        onRequest: (ctx) => void seen.push(`call request ${JSON.parse(ctx.body).email}`),
        onResponse: () => new Response(JSON.stringify({ code: "REPLACED" }), { status: 400 }),
        onError: (ctx) => void seen.push(`call error ${ctx.error.code}`),
      },
    );
    assert.deepEqual(headersSent, ["1"]);
    assert.deepEqual(seen, [
      "default request GET /api/auth/get-session",
      "default response 200",
      "default success u",
      "call success s",
      "default request POST /api/auth/sign-in/email",
      "call request a@b.c",
      "default response 401",
      "default error REPLACED POST",
      "call error REPLACED",
    ]);
  });

  it("has the namespaces of the plugins passed in, and only those", () => {
    const bare = createAuthClient({ baseURL: "http://app.test" });
    for (const name of ["twoFactor", "passkey", "organization", "magicLink", "emailOtp", "admin", "isUsernameAvailable"]) assert.equal(bare[name], undefined, name);
    assert.deepEqual(Object.keys(bare.signIn).sort(), ["email", "social"]);
    assert.deepEqual(Object.keys(bare.$stores), []);
    const some = createAuthClient({ baseURL: "http://app.test", plugins: [twoFactorClient(), usernameClient(), passkeyClient()] });
    assert.equal(typeof some.twoFactor.enable, "function");
    assert.equal(typeof some.isUsernameAvailable, "function");
    assert.equal(some.organization, undefined);
    assert.deepEqual(Object.keys(some.signIn).sort(), ["email", "passkey", "social", "username"]);
    // The React client's hooks are one per store (useListPasskeys here).
    assert.deepEqual(Object.keys(some.$stores), ["listPasskeys"]);
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

  it("goes to twoFactorPage on a two-factor challenge, as upstream's client, and never to a script URL", async () => {
    const reply = () => json(200, { twoFactorRedirect: true, twoFactorMethods: ["totp"] });
    const libs = [{ createAuthClient, twoFactorClient }, ...(upstream ? [upstream] : [])];
    const saved = globalThis.window;
    try {
      for (const [i, lib] of libs.entries()) {
        for (const [page, want] of [["/two-factor?x=1", "/two-factor?x=1"], ["javascript:alert(1)", "/sign-in"]]) {
          globalThis.window = { location: { href: "/sign-in" } };
          const c = lib.createAuthClient({
            baseURL: "http://app.test",
            fetchOptions: { customFetchImpl: recorder(reply) },
            plugins: [lib.twoFactorClient({ twoFactorPage: page })],
          });
          await c.signIn.email({ email: "a@b.c", password: "p" });
          assert.equal(globalThis.window.location.href, want, `client ${i}, ${page}`);
        }
      }
    } finally {
      globalThis.window = saved;
    }
  });
});

describe("an unreachable sidecar", () => {
  /** refusedWith checks a rejection is the SidecarError of an unreachable sidecar, with the network's error inside. */
  const unreachable = (code) => (err) => {
    assert.ok(err instanceof SidecarError, `${err} is a SidecarError`);
    assert.equal(err.status, 0);
    assert.equal(err.code, "SIDECAR_UNREACHABLE");
    assert.match(err.message, /could not be reached/);
    assert.ok(err.cause instanceof Error, "the network's error is the cause");
    if (code) {
      assert.equal(err.cause.cause?.code ?? err.cause.code, code);
      assert.match(err.message, new RegExp(`could not be reached: fetch failed \\(${code}\\)$`), "the message names the system error");
    }
    return true;
  };

  it("makes every call reject with SidecarError: a closed port, a name that does not resolve, an abort", async () => {
    const closed = createAuthClient({ baseURL: `http://127.0.0.1:${await freePort()}`, plugins: [twoFactorClient()] });
    await assert.rejects(closed.getSession(), unreachable("ECONNREFUSED"));
    await assert.rejects(closed.signIn.email({ email: "a@b.c", password: "p" }), unreachable("ECONNREFUSED"));
    await assert.rejects(closed.twoFactor.enable({ password: "p" }), unreachable("ECONNREFUSED"));
    // .invalid never resolves (RFC 2606).
    await assert.rejects(createAuthClient({ baseURL: "http://sidecar.invalid" }).getSession(), unreachable("ENOTFOUND"));
    await assert.rejects(closed.getSession({ fetchOptions: { signal: AbortSignal.abort() } }), unreachable());
  });

  it("shows in useSession's store as an error, not as signed out", async () => {
    const store = createAuthClient({ baseURL: `http://127.0.0.1:${await freePort()}` }).$session;
    await store.refetch();
    assert.equal(store.get().data, null);
    assert.ok(unreachable("ECONNREFUSED")(store.get().error));
    assert.equal(store.get().isPending, false);
  });

  it("makes the Next.js getSession throw SidecarError, the one the client throws", async () => {
    assert.equal(NextSidecarError, SidecarError);
    const headers = new Headers({ cookie: "better-auth.session_token=abc.def" });
    await assert.rejects(getSession(headers, { sidecarURL: `http://127.0.0.1:${await freePort()}` }), unreachable("ECONNREFUSED"));
    await assert.rejects(getSession(headers, { sidecarURL: "http://sidecar.invalid" }), unreachable("ENOTFOUND"));
  });
});

describe("cookie prefix", () => {
  it("finds the session cookie under advanced.cookiePrefix, __Secure- or not, and only there", async () => {
    assert.equal(hasSessionCookie("acme.session_token=t"), false, "the default prefix is better-auth");
    assert.equal(hasSessionCookie("better-auth.session_token=t"), true);
    assert.equal(hasSessionCookie("acme.session_token=t", "acme"), true);
    assert.equal(hasSessionCookie("__Secure-acme.session_token=t", "acme"), true);
    assert.equal(hasSessionCookie("better-auth.session_token=t", "acme"), false);
  });

  it("takes the prefix from the app's COOKIE_PREFIX when no option is given, the option first", async () => {
    const saved = process.env.COOKIE_PREFIX;
    process.env.COOKIE_PREFIX = "fromenv";
    try {
      const mw = authMiddleware({ protect: ["/dashboard"] });
      const visit = (cookie) => mw(new Request("http://app.test/dashboard", { headers: { cookie } }));
      assert.equal(visit("fromenv.session_token=t"), undefined);
      assert.equal(visit("better-auth.session_token=t").status, 307);
      const given = authMiddleware({ protect: ["/dashboard"], cookiePrefix: "acme" });
      assert.equal(given(new Request("http://app.test/dashboard", { headers: { cookie: "acme.session_token=t" } })), undefined);
      const sidecar = async () => json(200, { session: { id: "s", token: "t" }, user: { id: "u" } });
      assert.equal((await getSession(new Headers({ cookie: "fromenv.session_token=t" }), { fetch: sidecar, secret: "" })).user.id, "u");
    } finally {
      if (saved === undefined) delete process.env.COOKIE_PREFIX;
      else process.env.COOKIE_PREFIX = saved;
    }
  });

  it("lets authMiddleware and getSession through with the prefixed cookie only", async () => {
    const mw = authMiddleware({ protect: ["/dashboard"], cookiePrefix: "acme" });
    const visit = (cookie) => mw(new Request("http://app.test/dashboard", { headers: { cookie } }));
    assert.equal(visit("acme.session_token=t"), undefined);
    assert.equal(visit("better-auth.session_token=t").status, 307);
    const asked = [];
    const sidecar = async (url, init) => {
      asked.push(init.headers.cookie);
      return json(200, { session: { id: "s", token: "t" }, user: { id: "u" } });
    };
    const headers = (cookie) => new Headers({ cookie });
    assert.equal(await getSession(headers("better-auth.session_token=t"), { cookiePrefix: "acme", fetch: sidecar }), null);
    assert.equal((await getSession(headers("acme.session_token=t"), { cookiePrefix: "acme", fetch: sidecar })).user.id, "u");
    assert.deepEqual(asked, ["acme.session_token=t"]);
    // The verifying middleware asks the sidecar only with the prefixed cookie too.
    const verifying = authMiddleware({ protect: ["/dashboard"], verify: "sidecar", cookiePrefix: "acme", fetch: sidecar });
    const check = (cookie) => verifying(new Request("http://app.test/dashboard", { headers: { cookie } }));
    assert.equal((await check("acme.session_token=t")).headers.get("x-authsidecar-decision"), "sidecar");
    assert.equal((await check("better-auth.session_token=t")).status, 307);
    assert.equal(asked.length, 2);
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
    assert.ok(store.get().error instanceof SidecarError);
    assert.ok(store.get().error.cause instanceof TypeError);
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

describe("organization and passkey stores", () => {
  /** fakeServer answers each GET path with the next of its replies, and every other call with {}. */
  function fakeServer(replies) {
    return recorder((url, init) => {
      const path = new URL(url).pathname.replace("/api/auth", "");
      const list = init.method === "GET" ? replies[path] : undefined;
      if (!list) return json(200, {});
      return list.length > 1 ? list.shift() : list[0];
    });
  }
  const loads = (f, path) => f.calls.filter((c) => c.method === "GET" && c.url.pathname.endsWith(path)).length;

  it("reload after the calls upstream's atom listeners name, and only while someone listens", async () => {
    const f = fakeServer({
      "/organization/get-full-organization": [json(200, { id: "o1", name: "Acme", members: [] }), json(200, { id: "o2", name: "Beta", members: [] })],
      "/organization/list": [json(200, [{ id: "o1" }]), json(200, [{ id: "o1" }, { id: "o2" }])],
      "/passkey/list-user-passkeys": [json(200, [])],
    });
    const c = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f }, plugins: everyPlugin() });
    const { activeOrganization, listOrganizations, listPasskeys } = c.$stores;
    const stop = [activeOrganization, listOrganizations].map((s) => s.subscribe(() => {}));
    try {
      await Promise.all([activeOrganization.refetch(), listOrganizations.refetch()]);
      assert.equal(activeOrganization.get().data.name, "Acme");
      assert.equal(listOrganizations.get().data.length, 1);

      await c.organization.setActive({ organizationId: "o2" });
      await eventually(() => assert.equal(activeOrganization.get().data.name, "Beta"));
      assert.equal(loads(f, "/organization/list"), 1, "setting the active organization leaves the list alone");

      await c.organization.create({ name: "Beta", slug: "beta" });
      await eventually(() => assert.equal(listOrganizations.get().data.length, 2));
      await new Promise((r) => setTimeout(r, 50));
      // Calls with disableSignal, and the stores' own loads, reload nothing.
      const before = f.calls.length;
      await c.organization.create({ name: "Gamma", slug: "gamma", fetchOptions: { disableSignal: true } });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(f.calls.length, before + 1);
      // Nobody listens to the passkey list: a change does not load it.
      await c.passkey.deletePasskey({ id: "p1" });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(loads(f, "/passkey/list-user-passkeys"), 0);
      assert.equal(listPasskeys.get().isPending, true);
    } finally {
      stop.forEach((unsubscribe) => unsubscribe());
    }
  });

  it("exist for each of upstream's plugin atoms, under the names its hooks take", { skip: !upstream && "upstream's client is not installed" }, () => {
    const plugins = [upstream.twoFactorClient(), upstream.passkeyClient(), upstream.organizationClient(), upstream.magicLinkClient(), upstream.emailOTPClient()];
    const atoms = plugins.flatMap((p) => Object.keys(p.getAtoms?.(async () => ({ data: null, error: null })) ?? {})).filter((k) => !k.startsWith("$"));
    const ours = createAuthClient({ baseURL: "http://app.test", plugins: everyPlugin() }).$stores;
    assert.deepEqual(Object.keys(ours).sort(), atoms.sort());
  });

  it("keep data on errors other than 401, and the same object when nothing changed", async () => {
    const org = { id: "o1", name: "Acme", members: [], createdAt: "2026-01-01T00:00:00.000Z" };
    const f = fakeServer({
      "/organization/get-full-organization": [json(200, org), json(200, org), json(500, { message: "boom" }), json(401, {})],
    });
    const store = createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: f }, plugins: [organizationClient()] }).$stores.activeOrganization;
    await store.refetch();
    const first = store.get().data;
    assert.ok(first.createdAt instanceof Date);
    await store.refetch();
    assert.equal(store.get().data, first);
    await store.refetch();
    assert.equal(store.get().data, first);
    assert.equal(store.get().error.status, 500);
    await store.refetch();
    assert.equal(store.get().data, null);
    assert.equal(store.get().error.status, 401);
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

// Passkey ceremonies in a stand-in browser: navigator.credentials answers as the case says, and
// our client and upstream's @better-auth/passkey client (on @simplewebauthn/browser) must report
// the same result, request and error, status and code included.
describe("passkey ceremonies", () => {
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const ab = (s) => new TextEncoder().encode(s).buffer;
  const registerOptions = (over = {}) => ({
    challenge: b64("challenge"),
    rp: { name: "App", id: "localhost" },
    user: { id: b64("user-handle"), name: "a@b.c", displayName: "a@b.c" },
    pubKeyCredParams: [{ alg: -7, type: "public-key" }],
    timeout: 60000,
    attestation: "none",
    excludeCredentials: [],
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred", requireResidentKey: false },
    extensions: { credProps: true },
    ...over,
  });
  const authOptions = (over = {}) => ({ challenge: b64("challenge"), rpId: "localhost", timeout: 60000, userVerification: "preferred", ...over });
  const registration = {
    id: b64("raw"),
    rawId: ab("raw"),
    type: "public-key",
    authenticatorAttachment: "platform",
    response: {
      clientDataJSON: ab("cd"),
      attestationObject: ab("ao"),
      getTransports: () => ["internal"],
      getPublicKeyAlgorithm: () => -7,
      getPublicKey: () => ab("pk"),
      getAuthenticatorData: () => ab("ad"),
    },
    getClientExtensionResults: () => ({ credProps: { rk: true } }),
  };
  const assertion = {
    id: b64("raw"),
    rawId: ab("raw"),
    type: "public-key",
    authenticatorAttachment: "cross-platform",
    response: { clientDataJSON: ab("cd"), authenticatorData: ab("ad"), signature: ab("sig"), userHandle: ab("uh") },
    getClientExtensionResults: () => ({}),
  };
  const refused = () => new DOMException("The operation either timed out or was not allowed.", "NotAllowedError");
  const named = (name, message = `${name} from the browser`) => new DOMException(message, name);

  /** inBrowser runs fn with browser globals standing in, as env describes, and removes them after. */
  async function inBrowser(env, fn) {
    const names = ["PublicKeyCredential", "navigator", "location", "document"];
    const saved = names.map((k) => Object.getOwnPropertyDescriptor(globalThis, k));
    const answer = (outcome) => async () => {
      if (outcome instanceof Error) throw outcome;
      return outcome;
    };
    try {
      if (env.webauthn !== false) {
        globalThis.PublicKeyCredential = function PublicKeyCredential() {};
        globalThis.PublicKeyCredential.isConditionalMediationAvailable = async () => env.conditional ?? true;
      }
      globalThis.navigator = { credentials: { create: answer(env.create), get: answer(env.get) } };
      globalThis.location = { hostname: env.host ?? "localhost" };
      globalThis.document = { querySelectorAll: () => (env.webauthnInput === false ? [] : [{}]) };
      return await fn();
    } finally {
      names.forEach((k, i) => (saved[i] ? Object.defineProperty(globalThis, k, saved[i]) : delete globalThis[k]));
    }
  }

  /** clients makes ours and upstream's on one fake server; verifyFails makes the verify request fail on the network. */
  function clients(options, { verifyFails = false } = {}) {
    const reply = (url) => {
      const path = new URL(url).pathname;
      if (path.endsWith("/generate-register-options") || path.endsWith("/generate-authenticate-options")) return json(200, options);
      if (verifyFails) throw new TypeError("fetch failed");
      return json(200, { verified: true });
    };
    const mine = recorder(reply);
    const theirs = recorder(reply);
    return [
      ["authsidecar", createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: mine }, plugins: [passkeyClient()] }), mine],
      ...(upstream
        ? [["upstream", upstream.createAuthClient({ baseURL: "http://app.test", fetchOptions: { customFetchImpl: theirs }, plugins: [upstream.passkeyClient()] }), theirs]]
        : []),
    ];
  }

  /** same runs call with each client in env and checks that all results equal want. */
  async function same(env, options, call, want, extra) {
    const results = [];
    for (const [name, client, f] of clients(options, extra)) {
      const res = await inBrowser(env, () => call(client));
      results.push(res);
      assert.deepEqual(res, want, name);
      if (!extra?.verifyFails) assert.ok(!f.calls.some((c) => c.url.pathname.includes("/verify-")), `${name}: nothing verified after a failed ceremony`);
    }
    return results;
  }

  const signInFailure = (code) => ({ data: null, error: { code, message: "Auth cancelled", status: 400, statusText: "BAD_REQUEST" } });
  const signInCases = [
    ["the browser refuses", { get: refused() }, {}, "ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY"],
    ["the ceremony is aborted", { get: named("AbortError") }, {}, "ERROR_CEREMONY_ABORTED"],
    ["the page is on an IP address", { get: named("SecurityError"), host: "127.0.0.1" }, {}, "ERROR_INVALID_DOMAIN"],
    ["the RP ID is another site's", { get: named("SecurityError") }, { rpId: "example.com" }, "ERROR_INVALID_RP_ID"],
    ["an unexplained security error", { get: named("SecurityError") }, {}, "AUTH_CANCELLED"],
    ["the authenticator fails", { get: named("UnknownError") }, {}, "ERROR_AUTHENTICATOR_GENERAL_ERROR"],
    ["the browser returns no credential", { get: null }, {}, "AUTH_CANCELLED"],
    ["the browser has no WebAuthn", { webauthn: false }, {}, "AUTH_CANCELLED"],
    ["any other error", { get: new TypeError("bad options") }, {}, "AUTH_CANCELLED"],
  ];
  for (const [name, env, over, code] of signInCases) {
    it(`signIn.passkey reports ${code} when ${name}`, async () => {
      await same(env, authOptions(over), (c) => c.signIn.passkey(), signInFailure(code));
    });
  }

  it("signIn.passkey with autoFill reports AUTH_CANCELLED without autofill support or a webauthn field", async () => {
    for (const env of [{ conditional: false, get: assertion }, { webauthnInput: false, get: assertion }]) {
      await same(env, authOptions(), (c) => c.signIn.passkey({ autoFill: true }), signInFailure("AUTH_CANCELLED"));
    }
  });

  it("signIn.passkey reports AUTH_CANCELLED when the verify request fails on the network", async () => {
    await same({ get: assertion }, authOptions(), (c) => c.signIn.passkey(), signInFailure("AUTH_CANCELLED"), { verifyFails: true });
  });

  const addFailure = (code, message, status = 400) => ({
    data: null,
    error: { code, message, status, statusText: status === 400 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR" },
  });
  const uvRequired = { authenticatorSelection: { residentKey: "preferred", userVerification: "required", requireResidentKey: false } };
  const addCases = [
    [
      "the browser refuses, with the browser's message",
      { create: refused() },
      {},
      addFailure("ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY", "The operation either timed out or was not allowed."),
    ],
    ["the ceremony is aborted", { create: named("AbortError") }, {}, addFailure("ERROR_CEREMONY_ABORTED", "Registration cancelled")],
    ["the key is registered already", { create: named("InvalidStateError") }, {}, addFailure("ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED", "Previously registered")],
    [
      "no authenticator keeps discoverable keys",
      { create: named("ConstraintError") },
      { authenticatorSelection: { requireResidentKey: true } },
      addFailure("ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT", "Discoverable credentials were required but no available authenticator supported it"),
    ],
    [
      "no authenticator verifies the user",
      { create: named("ConstraintError") },
      uvRequired,
      addFailure("ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT", "User verification was required but no available authenticator supported it"),
    ],
    ["an unexplained constraint", { create: named("ConstraintError", "constraint") }, {}, addFailure("UNKNOWN_ERROR", "constraint", 500)],
    [
      "no algorithm is supported",
      { create: named("NotSupportedError") },
      {},
      addFailure("ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG", "No available authenticator supported any of the specified pubKeyCredParams algorithms"),
    ],
    [
      "no parameter is a public key",
      { create: named("NotSupportedError") },
      { pubKeyCredParams: [{ alg: -7, type: "password" }] },
      addFailure("ERROR_MALFORMED_PUBKEYCREDPARAMS", 'No entry in pubKeyCredParams was of type "public-key"'),
    ],
    ["the page is on an IP address", { create: named("SecurityError"), host: "10.0.0.1" }, {}, addFailure("ERROR_INVALID_DOMAIN", "10.0.0.1 is an invalid domain")],
    [
      "the RP ID is another site's",
      { create: named("SecurityError") },
      { rp: { name: "App", id: "example.com" } },
      addFailure("ERROR_INVALID_RP_ID", 'The RP ID "example.com" is invalid for this domain'),
    ],
    ["the user handle is empty", { create: new TypeError("bad id") }, { user: { id: "", name: "a", displayName: "a" } }, addFailure("ERROR_INVALID_USER_ID_LENGTH", "User ID was not between 1 and 64 characters")],
    ["any other type error", { create: new TypeError("bad options") }, {}, addFailure("UNKNOWN_ERROR", "bad options", 500)],
    [
      "the authenticator fails",
      { create: named("UnknownError") },
      {},
      addFailure("ERROR_AUTHENTICATOR_GENERAL_ERROR", "The authenticator was unable to process the specified options, or could not create a new credential"),
    ],
    ["the browser returns no credential", { create: null }, {}, addFailure("UNKNOWN_ERROR", "Registration was not completed", 500)],
    ["the browser has no WebAuthn", { webauthn: false }, {}, addFailure("UNKNOWN_ERROR", "WebAuthn is not supported in this browser", 500)],
  ];
  for (const [name, env, over, want] of addCases) {
    it(`addPasskey reports ${want.error.code} when ${name}`, async () => {
      await same(env, registerOptions(over), (c) => c.passkey.addPasskey(), want);
    });
  }

  it("addPasskey with useAutoRegister reports a failed silent user verification", async () => {
    const want = addFailure("ERROR_AUTO_REGISTER_USER_VERIFICATION_FAILURE", "User verification was required during automatic registration but it could not be performed");
    await same({ create: named("ConstraintError") }, registerOptions(uvRequired), (c) => c.passkey.addPasskey({ useAutoRegister: true }), want);
  });

  it("addPasskey reports the network's failure of the verify request as UNKNOWN_ERROR", async () => {
    await same({ create: registration }, registerOptions(), (c) => c.passkey.addPasskey(), addFailure("UNKNOWN_ERROR", "fetch failed", 500), { verifyFails: true });
  });

  it("sends the same credential and returns the same WebAuthn response as upstream's client", async () => {
    const bodies = (f) => f.calls.filter((c) => c.url.pathname.includes("/verify-")).map((c) => c.body);
    const runs = [];
    for (const [name, client, f] of clients(registerOptions())) {
      const added = await inBrowser({ create: registration }, () => client.passkey.addPasskey({ name: "Laptop", returnWebAuthnResponse: true }));
      runs.push({ name, added, bodies: bodies(f) });
    }
    for (const [name, client, f] of clients(authOptions())) {
      const signedIn = await inBrowser({ get: assertion }, () => client.signIn.passkey({ returnWebAuthnResponse: true }));
      Object.assign(runs.find((r) => r.name === name), { signedIn, bodies: [...runs.find((r) => r.name === name).bodies, ...bodies(f)] });
    }
    const [mine, theirs] = runs;
    assert.deepEqual(mine.bodies, [
      {
        name: "Laptop",
        response: {
          id: b64("raw"),
          rawId: b64("raw"),
          type: "public-key",
          authenticatorAttachment: "platform",
          response: { clientDataJSON: b64("cd"), attestationObject: b64("ao"), transports: ["internal"], publicKeyAlgorithm: -7, publicKey: b64("pk"), authenticatorData: b64("ad") },
        },
      },
      {
        response: {
          id: b64("raw"),
          rawId: b64("raw"),
          type: "public-key",
          authenticatorAttachment: "cross-platform",
          response: { clientDataJSON: b64("cd"), authenticatorData: b64("ad"), signature: b64("sig"), userHandle: b64("uh") },
        },
      },
    ]);
    assert.deepEqual(mine.added.webauthn.clientExtensionResults, { credProps: { rk: true } });
    if (theirs) {
      assert.deepEqual(mine.bodies, theirs.bodies);
      // JSON round trips drop the undefined fields upstream leaves in (userHandle, transports, …).
      const plain = (v) => JSON.parse(JSON.stringify(v));
      assert.deepEqual(plain(mine.added), plain(theirs.added));
      assert.deepEqual(plain(mine.signedIn), plain(theirs.signedIn));
    }
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
  // Upstream's organizationClient answers the same, locally.
  const theirs = (roles) => upstream?.createAuthClient({ baseURL: "http://app.test", plugins: [upstream.organizationClient({ roles })] });
  const mine = (roles) => createAuthClient({ baseURL: "http://app.test", plugins: [organizationClient({ roles })] });
  for (const [role, permissions, want] of cases) {
    it(`${JSON.stringify(role)} ${JSON.stringify(permissions)} → ${want}`, () => {
      assert.equal(checkRolePermission({ role, permissions }), want);
      assert.equal(mine().organization.checkRolePermission({ role, permissions }), want);
      if (upstream) assert.equal(theirs().organization.checkRolePermission({ role, permissions }), want, "upstream");
    });
  }

  it("adds the roles given to organizationClient to the defaults, as plain statements or upstream's role objects", () => {
    const custom = { auditor: { invitation: ["cancel"] }, owner: { organization: ["update"] } };
    const roleObjects = (ac) => Object.fromEntries(Object.entries(custom).map(([name, st]) => [name, ac.newRole(st)]));
    const statements = { organization: ["update", "delete"], invitation: ["create", "cancel"] };
    const clients = [mine(custom), mine(roleObjects(createAccessControl(statements)))];
    if (upstream) clients.push(theirs(roleObjects(upstream.createAccessControl(statements))));
    const checks = [
      ["auditor", { invitation: ["cancel"] }, true],
      ["auditor", { invitation: ["create"] }, false],
      ["owner", { organization: ["update"] }, true],
      ["owner", { organization: ["delete"] }, false],
      ["admin", { member: ["delete"] }, true],
      [["member", "auditor"], { invitation: ["cancel"] }, true],
    ];
    for (const [i, client] of clients.entries()) {
      for (const [role, permissions, want] of checks) {
        assert.equal(client.organization.checkRolePermission({ role, permissions }), want, `client ${i}: ${role} ${JSON.stringify(permissions)}`);
      }
    }
  });

  it("takes {actions, connector} requests as upstream's access control does", () => {
    const requests = [
      [{ member: { actions: ["create", "read"], connector: "OR" } }, true],
      [{ member: { actions: ["create", "read"] } }, false],
      [{ member: { actions: ["read"], connector: "OR" } }, false],
      [{ member: { actions: [], connector: "OR" } }, false],
      [{ member: { connector: "OR" } }, false],
      [{ member: ["create"], ac: { actions: ["nope", "read"], connector: "OR" } }, true],
    ];
    for (const [permissions, want] of requests) {
      assert.equal(checkRolePermission({ role: "admin", permissions }), want, JSON.stringify(permissions));
      if (upstream) assert.equal(theirs().organization.checkRolePermission({ role: "admin", permissions }), want, `upstream ${JSON.stringify(permissions)}`);
    }
    const or = createAccessControl({}).newRole({ a: ["x"], b: ["y"] });
    assert.deepEqual(or.authorize({ a: ["z"], b: ["y"] }, "OR"), { success: true });
    assert.deepEqual(or.authorize({ c: ["y"] }, "OR"), { success: false, error: "Not authorized" });
    assert.deepEqual(or.authorize({ c: ["y"] }), { success: false, error: "You are not allowed to access resource: c" });
    assert.deepEqual(or.authorize({ a: ["z"] }), { success: false, error: 'unauthorized to access resource "a"' });
  });
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
  it("reads the sidecar's COOKIE_PREFIX from the cookiePrefix option", () => {
    const acme = authMiddleware({ protect: ["/dashboard"], cookiePrefix: "acme" });
    assert.equal(acme(req("http://app.test/dashboard", "acme.session_token=abc")), undefined);
    assert.equal(acme(req("http://app.test/dashboard", "__Secure-acme.session_token=abc")), undefined);
    assert.equal(acme(req("http://app.test/dashboard", "better-auth.session_token=abc")).status, 307);
    assert.equal(mw(req("http://app.test/dashboard", "acme.session_token=abc")).status, 307);
  });
  it("reads the first occurrence of a cookie and strips quotes", () => {
    const c = parseCookies('a=1; b="two"; a=3;junk; c=x=y');
    assert.equal(c.get("a"), "1");
    assert.equal(c.get("b"), "two");
    assert.equal(c.get("c"), "x=y");
  });
});

describe("clientAddress (authRouteHandler)", () => {
  const h = (xff, extra = {}) => new Headers({ ...(xff && { "x-forwarded-for": xff }), ...extra });
  it("takes the entry the outermost trusted proxy appended, never one a client wrote to its left", () => {
    assert.equal(clientAddress(h("127.0.0.1"), { trustedProxyHops: 0 }), "127.0.0.1", "direct: what next start filled in");
    assert.equal(clientAddress(h("198.51.100.1, 203.0.113.5"), { trustedProxyHops: 1 }), "203.0.113.5", "one proxy");
    assert.equal(clientAddress(h("6.6.6.6, 203.0.113.5, 10.0.0.2"), { trustedProxyHops: 2 }), "203.0.113.5", "CDN then load balancer");
    assert.equal(clientAddress(h("203.0.113.5"), { trustedProxyHops: 3 }), undefined, "fewer entries than proxies");
    assert.equal(clientAddress(h("not-an-ip"), { trustedProxyHops: 1 }), undefined, "garbage");
  });
  it("reads a platform header whole when one is named", () => {
    const headers = h("6.6.6.6", { "x-real-ip": "203.0.113.9" });
    assert.equal(clientAddress(headers, { clientIPHeader: "x-real-ip" }), "203.0.113.9");
    assert.equal(clientAddress(h("6.6.6.6"), { clientIPHeader: "x-real-ip" }), undefined, "never falls back to X-Forwarded-For");
  });
});
