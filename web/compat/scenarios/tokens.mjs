// Upstream's bearer() and jwt() plugins (config "tokens"): the session as an Authorization header
// and set-auth-token, and as a JWT (GET /token, set-auth-jwt on get-session) that verifies against
// GET /jwks, across servers too.
import { createLocalJWKSet, jwtVerify } from "jose";
import { scenario, deviation, interop } from "../lib/scenario.mjs";
import { password, signUpRaw } from "../lib/steps.mjs";

const tokens = { config: "tokens" };

// signUpToken signs a user up in a fresh browser and returns the set-auth-token it answered with.
async function signUpToken(t, local) {
  const r = await t.request("POST", "/sign-up/email", { json: { email: t.email(local), password, name: local }, browser: t.browser() });
  t.status(r, 200, undefined, `sign-up ${local}`);
  const token = r.headers.get("set-auth-token");
  t.assert(token && token.includes("."), `sign-up ${local}: set-auth-token ${token}`);
  return token;
}

// bearer asks path with only an Authorization header (no cookies) from a fresh browser.
function bearer(t, method, path, auth, opts = {}) {
  return t.request(method, path, { ...opts, headers: { authorization: auth, ...opts.headers }, cookies: false, browser: t.browser() });
}

// verifiedBy checks a JWT's signature, issuer and audience against a server's JWKS, as a service
// with the jose library would; it returns the claims.
async function verifiedBy(t, server, token, issuer, what) {
  const jwks = await (await fetch(server.origin + "/api/auth/jwks")).json();
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: issuer });
    return payload;
  } catch (err) {
    t.fail(`${what}: does not verify against ${server.name}'s JWKS: ${err.message}`);
  }
}

export default [
  scenario(
    "sign-up, sign-in and get-session answer set-auth-token and set-auth-jwt",
    async (t) => {
      await signUpRaw(t, "headers");
      const signIn = await t.request("POST", "/sign-in/email", { json: { email: t.email("headers"), password } });
      t.status(signIn, 200, undefined, "sign-in");
      t.equal(signIn.headers.get("access-control-expose-headers"), "set-auth-token", "sign-in exposes");
      const session = await t.request("GET", "/get-session");
      t.assert(session.headers.get("set-auth-jwt")?.split(".").length === 3, "get-session set-auth-jwt");
      t.status(await t.request("POST", "/sign-out", { json: {} }), 200, undefined, "sign-out");
      const after = await t.request("GET", "/get-session");
      t.equal(after.headers.get("set-auth-jwt"), null, "no JWT without a session");
    },
    tokens,
  ),

  scenario(
    "a bearer token stands for the session cookie in each form upstream takes",
    async (t) => {
      const signed = await signUpToken(t, "forms");
      const value = signed.slice(0, signed.indexOf("."));
      const forms = [
        ["signed", `Bearer ${signed}`],
        ["percent-encoded", `Bearer ${encodeURIComponent(signed)}`],
        ["bare", `Bearer ${value}`],
        ["lowercase scheme", `bearer ${signed}`],
      ];
      for (const [what, auth] of forms) {
        const r = await bearer(t, "GET", "/get-session", auth);
        t.equal(r.data?.user?.email, t.email("forms"), what);
      }
      const list = await bearer(t, "GET", "/list-sessions", `Bearer ${signed}`);
      t.status(list, 200, undefined, "list-sessions with a bearer token");
    },
    tokens,
  ),

  scenario(
    "tampered, malformed and revoked bearer tokens are no session",
    async (t) => {
      const signed = await signUpToken(t, "bad");
      const sig = signed.slice(signed.indexOf(".") + 1);
      const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
      const bad = [
        `Bearer ${signed.slice(0, signed.indexOf(".") + 1)}${flipped}`,
        `Bearer ${signed}.x`,
        `Bearer ${"x".repeat(32)}.${sig}`,
        "Bearer",
        "Bearer    ",
        `Basic ${signed}`,
        `Bearer ${signed.slice(0, signed.indexOf("."))}.%zz`,
        "Bearer ...",
      ];
      for (const auth of bad) {
        const r = await bearer(t, "GET", "/get-session", auth);
        t.equal(r.status === 200 && r.text, "null", `get-session with ${auth.slice(0, 20)}…`);
        t.status(await bearer(t, "GET", "/list-sessions", auth), 401, "UNAUTHORIZED", `list-sessions with ${auth.slice(0, 20)}…`);
      }
      t.status(await bearer(t, "POST", "/sign-out", `Bearer ${signed}`, { json: {} }), 200, undefined, "sign-out by bearer");
      t.equal((await bearer(t, "GET", "/get-session", `Bearer ${signed}`)).text, "null", "signed-out token");
      t.status(await bearer(t, "GET", "/token", `Bearer ${signed}`), 401, "UNAUTHORIZED", "token with a signed-out bearer");
    },
    tokens,
  ),

  scenario(
    "a bearer token wins over another user's cookie; a bad one leaves the cookie",
    async (t) => {
      const b = await signUpToken(t, "bearer-user");
      await signUpRaw(t, "cookie-user"); // t's default browser holds this user's cookies
      const both = await t.request("GET", "/get-session", { headers: { authorization: `Bearer ${b}` } });
      t.equal(both.data?.user?.email, t.email("bearer-user"), "cookie + bearer");
      const tampered = await t.request("GET", "/get-session", { headers: { authorization: `Bearer ${b.slice(0, -3)}AA=` } });
      t.equal(tampered.data?.user?.email, t.email("cookie-user"), "cookie + tampered bearer");
    },
    tokens,
  ),

  scenario(
    "a bearer-only request is not origin-checked; one with cookies is",
    async (t) => {
      const b = await signUpToken(t, "csrf");
      const evil = { json: { name: "renamed" }, origin: "https://evil.example" };
      t.status(await bearer(t, "POST", "/update-user", `Bearer ${b}`, evil), 200, undefined, "bearer only, foreign origin");
      await signUpRaw(t, "csrf-cookie");
      const withCookie = await t.request("POST", "/update-user", { ...evil, headers: { authorization: `Bearer ${b}` } });
      t.status(withCookie, 403, "INVALID_ORIGIN", "cookie and bearer, foreign origin");
    },
    tokens,
  ),

  scenario(
    "GET /token is the session's JWT, verified by /jwks; signed out it is 401",
    async (t) => {
      t.status(await t.request("GET", "/token"), 401, "UNAUTHORIZED", "signed out");
      await signUpRaw(t, "jwt");
      const r = await t.request("GET", "/token");
      t.status(r, 200, undefined, "token");
      const claims = await verifiedBy(t, t.server, r.data.token, t.server.origin, "/token");
      t.equal([claims.email, claims.sub === claims.id, claims.exp - claims.iat], [t.email("jwt"), true, 900], "claims");
      const jwks = await t.request("GET", "/jwks");
      t.status(jwks, 200, undefined, "jwks");
      t.equal(jwks.data.keys.map((k) => [k.alg, k.crv, k.kty]), [["EdDSA", "Ed25519", "OKP"]], "one Ed25519 key");
    },
    tokens,
  ),

  deviation(
    "jwks-cache-headers",
    "the JWKS answer carries Cache-Control",
    async (t) => {
      const r = await t.request("GET", "/jwks");
      t.status(r, 200, undefined, "jwks");
      t.equal(r.headers.get("cache-control"), t.ours ? "public, max-age=300" : null, "Cache-Control");
    },
    tokens,
  ),

  interop(
    "a JWT signed by either server verifies against the other's JWKS",
    async (t) => {
      const a = t.client({ server: t.a });
      t.ok(await a.signUp.email({ email: t.email("cross"), password, name: "cross" }), "sign-up on a");
      const r = await t.request("GET", "/token", { server: t.a });
      t.status(r, 200, undefined, "token from a");
      const claims = await verifiedBy(t, t.b, r.data.token, t.a.origin, "a's JWT");
      t.equal(claims.email, t.email("cross"), "a's JWT verified by b's JWKS");
      // b signs for the same session (the cookie works there too) and a's JWKS verifies it.
      const s = await t.request("GET", "/get-session", { server: t.b });
      await verifiedBy(t, t.a, s.headers.get("set-auth-jwt"), t.b.origin, "b's set-auth-jwt");
      // Both signed with the one key of the shared table, which ours made (lib/servers.mjs).
      const kid = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url")).kid;
      t.equal(kid(r.data.token), kid(s.headers.get("set-auth-jwt")), "one shared signing key");
    },
    tokens,
  ),
];
