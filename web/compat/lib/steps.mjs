// Steps that scenarios of every feature share.
import { createHmac } from "node:crypto";

// password is every scenario account's password.
export const password = "correct-horse-1";

// signUp creates an account through client c (its browser is then signed in) and returns the data.
export async function signUp(t, c, local, extra = {}) {
  const email = t.email(local);
  const data = t.ok(await c.signUp.email({ email, password, name: local, ...extra }), "sign-up");
  t.equal(data.user.email, email, "signed-up email");
  return data;
}

// signUpRaw does the same over raw HTTP with t's default browser.
export async function signUpRaw(t, local) {
  const r = await t.request("POST", "/sign-up/email", { json: { email: t.email(local), password, name: local } });
  t.status(r, 200, undefined, "sign-up");
  return r.data;
}

// sessionOf asserts c's browser is signed in and returns its session.
export async function sessionOf(t, c, what = "get-session") {
  const data = t.ok(await c.getSession(), what);
  t.assert(data && data.session && data.user, `${what}: want a session, got ${JSON.stringify(data)}`);
  return data;
}

// signedOut asserts c's browser has no session.
export async function signedOut(t, c, what = "get-session") {
  t.equal(t.ok(await c.getSession(), what), null, `${what}: want no session`);
}

// linkPath is a mailed link's path relative to /api/auth, to be sent through t.request; it must
// point at server.
export function linkPath(t, url, server = t.server) {
  const prefix = server.origin + "/api/auth";
  t.assert(url.startsWith(prefix), `link ${url} does not point at ${prefix}`);
  return url.slice(prefix.length);
}

// follow opens a mailed link in t's default browser (or another one) without following redirects.
export function follow(t, url, { server = t.server, browser } = {}) {
  return t.request("GET", linkPath(t, url, server), { server, browser });
}

// withoutParam removes a query parameter from a link path ("/verify-email?token=x&callbackURL=%2F").
export function withoutParam(path, name) {
  const [p, q = ""] = path.split("?");
  const kept = q.split("&").filter((pair) => pair && pair.split("=")[0] !== name);
  return kept.length ? `${p}?${kept.join("&")}` : p;
}

// signJWT makes an HS256 token with the servers' shared secret, as an email verification token
// is made; header defaults to upstream's {"alg":"HS256"}.
export function signJWT(t, claims, header = { alg: "HS256" }) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${createHmac("sha256", t.server.secret).update(input).digest("base64url")}`;
}

// elapsed runs fn and returns [its result, the milliseconds it took].
export async function elapsed(fn) {
  const start = Date.now();
  const result = await fn();
  return [result, Date.now() - start];
}

// verifyEmail makes a signed-up user's email verified through the mailed link, opened in another
// browser; c is the user's client.
export async function verifyEmail(t, c, local) {
  t.ok(await c.sendVerificationEmail({ email: t.email(local) }), "send-verification-email");
  const m = await t.mail("verify-email", t.email(local));
  t.status(await t.request("GET", withoutParam(linkPath(t, m.url), "callbackURL"), { browser: t.browser() }), 200, undefined, "verify-email");
}
