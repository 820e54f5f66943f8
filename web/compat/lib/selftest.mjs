// Checks of the harness's own comparison, run before the scenarios: a diff that could not fail
// would prove nothing.
import { createHmac } from "node:crypto";
import { normalize, diff } from "./observe.mjs";

const secret = "selftest-secret-0123456789-abcdefghijk";
const origin = "http://127.0.0.1:1";
const day = 86400e3;

const signed = (value, key = secret) => encodeURIComponent(`${value}.${createHmac("sha256", key).update(value).digest("base64")}`);

// exchange builds a recorded sign-in answer for user id `id` with session token `token`.
function exchange({ id, token, userIdInSession = id, status = 200, maxAge = 604800, expiresIn = 7 * day, key = secret, extra = {} }) {
  const at = Date.parse("2026-01-01T00:00:00.000Z");
  return {
    method: "POST",
    path: "/sign-in/email",
    status,
    contentType: "application/json",
    location: null,
    setCookies: [`better-auth.session_token=${signed(token, key)}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax`],
    text: JSON.stringify({
      token,
      user: { id, email: "a@example.com", createdAt: new Date(at).toISOString(), ...extra },
      session: { userId: userIdInSession, expiresAt: new Date(at + expiresIn).toISOString() },
    }),
    at,
  };
}

// mail builds a recorded verification mail whose link carries a JWT with claims, and a code.
function mail({ claims, otp = "123456", again = otp, key = secret }) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${part({ alg: "HS256" })}.${part({ iat: 1767225600, exp: 1767229200, ...claims })}`;
  const token = `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
  const at = Date.parse("2026-01-01T00:00:00.000Z");
  return { mail: { type: "verify-email", url: `${origin}/api/auth/verify-email?token=${token}`, token, otp, resent: { otp: again } }, at, method: "GET", path: "/" };
}

// list builds a recorded answer of path whose body is items; ids seen before in the same run
// (a sign-in answer with them) are aliased before the list is read.
function list(path, items, seen = []) {
  const at = Date.parse("2026-01-01T00:00:00.000Z");
  const answer = (text) => ({ method: "GET", path, status: 200, contentType: "application/json", location: null, setCookies: [], text, at });
  return [answer(JSON.stringify({ seen })), answer(JSON.stringify(items))];
}
const compareLists = (a, b) => diff(normalize(a, { origins: { main: origin }, secret }), normalize(b, { origins: { main: origin }, secret }));

const compare = (a, b) => diff(normalize([a], { origins: { main: origin }, secret }), normalize([b], { origins: { main: origin }, secret }));

const A = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
const B = "Zy4xWv1uTs8rQp5oNm2lKj9iHg6fEd3c";
const T1 = "Tk1aBcDeFgHiJkLmNoPqRsTuVwXyZ012";
const T2 = "Tk2zYxWvUtSrQpOnMlKjIhGfEdCbA987";

// Interop runs tag their emails and slugs by direction (r2o, o2r), the same shape on both sides.
const compareTagged = (a, tagA, b, tagB) =>
  diff(normalize([a], { origins: { main: origin }, tags: [tagA], secret }), normalize([b], { origins: { main: origin }, tags: [tagB], secret }));

export const selfChecks = [
  ["harness: emails tagged by direction compare equal", () => compareTagged(exchange({ id: A, token: T1, extra: { mail: "a@r2o.pk.example.com", uri: "otpauth://totp/x:a%40r2o.pk.example.com" } }), "r2o", exchange({ id: B, token: T2, extra: { mail: "a@o2r.pk.example.com", uri: "otpauth://totp/x:a%40o2r.pk.example.com" } }), "o2r"), 0],
  ["harness: a random value holding a tag's letters is still one random value", () => compareTagged(exchange({ id: A, token: T1, extra: { challenge: "Xq_9r2oLmN-4pQrStUvWxYz012345678ab" } }), "r2o", exchange({ id: B, token: T2, extra: { challenge: "Kd-7ZyXwVuTs_RqPoNmLkJi98765432cd" } }), "o2r"), 0],
  ["harness: the same behaviour with other generated values compares equal", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2 })), 0],
  ["harness: one id in two places against two ids is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, userIdInSession: A })), 1],
  ["harness: a different status is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, status: 201 })), 1],
  ["harness: a different cookie attribute is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, maxAge: 86400 })), 1],
  ["harness: a cookie signed with another secret is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, key: "another-secret" })), 1],
  ["harness: a one-day expiry seen 20 s later is still a one-day expiry", () => compare(exchange({ id: A, token: T1, expiresIn: day }), exchange({ id: B, token: T2, expiresIn: day - 20e3 })), 0],
  ["harness: a one-day expiry against a seven-day one is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, expiresIn: day })), 1],
  ["harness: an extra body key is a difference", () => compare(exchange({ id: A, token: T1 }), exchange({ id: B, token: T2, extra: { role: "admin" } })), 1],
  ["harness: other two-factor backup codes compare equal", () => compare(exchange({ id: A, token: T1, extra: { codes: ["Ab3dE-f6hIj", "9kLm2-nOp5q"] } }), exchange({ id: B, token: T2, extra: { codes: ["Zy4xW-v1uTs", "8rQp5-oNm2l"] } })), 0],
  ["harness: one backup code twice against two codes is a difference", () => compare(exchange({ id: A, token: T1, extra: { codes: ["Ab3dE-f6hIj", "Ab3dE-f6hIj"] } }), exchange({ id: B, token: T2, extra: { codes: ["Zy4xW-v1uTs", "8rQp5-oNm2l"] } })), 1],
  ["harness: null against an absent key is a difference", () => compare(exchange({ id: A, token: T1, extra: { image: null } }), exchange({ id: B, token: T2 })), 1],
  ["harness: JWTs with the same claims in other bytes compare equal", () => compare(mail({ claims: { email: "a@example.com", userId: A } }), mail({ claims: { userId: B, email: "a@example.com" } })), 0],
  ["harness: a JWT with another claim is a difference", () => compare(mail({ claims: { email: "a@example.com" } }), mail({ claims: { email: "a@example.com", updateTo: "b@example.com" } })), 2],
  ["harness: a JWT signed with another secret is a difference", () => compare(mail({ claims: { email: "a@example.com" } }), mail({ claims: { email: "a@example.com" }, key: "another-secret" })), 2],
  ["harness: other codes compare equal", () => compare(mail({ claims: {}, otp: "123456" }), mail({ claims: {}, otp: "654321" })), 0],
  ["harness: one code twice against two codes is a difference", () => compare(mail({ claims: {}, otp: "123456" }), mail({ claims: {}, otp: "654321", again: "111111" })), 1],
  ["harness: a list upstream leaves unordered compares equal in another order", () => compareLists(list("/list-sessions", [{ id: A, ip: "1" }, { id: B, ip: "2" }], [A, B]), list("/list-sessions", [{ id: T2, ip: "2" }, { id: T1, ip: "1" }], [T1, T2])), 0],
  ["harness: an unordered list of new ids compares equal in another order", () => compareLists(list("/organization/list", [{ id: A, name: "x" }, { id: B, name: "y" }]), list("/organization/list", [{ id: T2, name: "y" }, { id: T1, name: "x" }])), 0],
  ["harness: an unordered list still tells which seen id holds which value", () => compareLists(list("/list-sessions", [{ id: A, ip: "1" }, { id: B, ip: "2" }], [A, B]), list("/list-sessions", [{ id: T1, ip: "2" }, { id: T2, ip: "1" }], [T1, T2])), 2],
  ["harness: a list in another order is a difference where upstream orders it", () => compareLists(list("/organization/list-members?sortBy=createdAt", { members: [{ id: A }, { id: B }] }, [A, B]), list("/organization/list-members?sortBy=createdAt", { members: [{ id: T2 }, { id: T1 }] }, [T1, T2])), 2],
].map(([name, run, want]) => ({
  name,
  problems() {
    const got = run();
    return got.length === want ? [] : [`want ${want} differences, got ${got.length}: ${got.join("; ")}`];
  },
}));
