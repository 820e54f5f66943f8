// Where a stolen session must stop working: both servers with the session_data cookie cache on.
import { deviation } from "../lib/scenario.mjs";
import { password, signUpRaw } from "../lib/steps.mjs";

const cache = { config: "cache" };

// stolenAfterRevocation signs a user up in the default browser (the thief copies its cookies),
// signs in again from another browser (the victim) and revokes every session from there. It
// returns the thief's Cookie header, cache included.
async function stolenAfterRevocation(t, local) {
  await signUpRaw(t, local);
  const stolen = t.defaultBrowser.cookieHeader();
  t.assert(stolen.includes("session_data"), "the cookie cache is on");
  const victim = t.browser();
  t.status(await t.request("POST", "/sign-in/email", { json: { email: t.email(local), password }, browser: victim }), 200, undefined, "victim signs in");
  t.status(await t.request("POST", "/revoke-sessions", { json: {}, browser: victim }), 200, undefined, "victim revokes every session");
  return stolen;
}

export default [
  deviation(
    "cache-reads-only",
    "a revoked session's cached cookie cannot write or get credentials",
    async (t) => {
      const stolen = await stolenAfterRevocation(t, "thief");
      const as = { headers: { cookie: stolen }, browser: t.browser() };
      const update = await t.request("POST", "/update-user", { json: { name: "Thief" }, ...as });
      const options = await t.request("GET", "/passkey/generate-register-options", as);
      const list = await t.request("GET", "/list-sessions", as);
      if (t.ours) {
        t.status(update, 401, "UNAUTHORIZED", "update-user");
        t.status(options, 401, "UNAUTHORIZED", "passkey options");
        t.status(list, 401, "UNAUTHORIZED", "list-sessions");
      } else {
        t.status(update, 200, undefined, "update-user from the cache");
        t.status(options, 200, undefined, "passkey options from the cache");
        t.status(list, 200, undefined, "list-sessions from the cache");
      }
    },
    cache,
  ),

  deviation(
    "instant-revocation",
    "get-session refuses a revoked session's cached cookie at once",
    async (t) => {
      const stolen = await stolenAfterRevocation(t, "revoked");
      const get = () => t.request("GET", "/get-session", { headers: { cookie: stolen }, browser: t.browser() });
      if (!t.ours) {
        t.assert((await get()).data?.user?.email === t.email("revoked"), "the reference answers from the cache");
        return;
      }
      // The NOTIFY lands within milliseconds; the loop only absorbs a loaded machine.
      const deadline = Date.now() + 5000;
      let r = await get();
      while (r.data !== null && Date.now() < deadline) r = await get();
      t.assert(r.status === 200 && r.data === null, "ours answers null for the revoked session's cache");
    },
    cache,
  ),

  deviation("forwarded-chain", "a session's ipAddress from a two-entry X-Forwarded-For", async (t) => {
    const b = t.browser({ ip: "6.6.6.6, 203.0.113.5" });
    t.status(await t.request("POST", "/sign-up/email", { json: { email: t.email("chain"), password, name: "chain" }, browser: b }), 200);
    const s = await t.request("GET", "/get-session", { browser: b });
    t.equal(s.data.session.ipAddress, t.ours ? "203.0.113.5" : "", "ipAddress");
  }),

  deviation("bounded-fields", "a name, slug or organization metadata over its bound", async (t) => {
    const long = await t.request("POST", "/sign-up/email", { json: { email: t.email("long"), password, name: "n".repeat(257) } });
    await signUpRaw(t, "bounded");
    const slug = await t.request("POST", "/organization/create", { json: { name: "Org", slug: "s".repeat(257) } });
    const rename = await t.request("POST", "/update-user", { json: { name: "é".repeat(257) } });
    if (t.ours) {
      t.status(long, 400, "VALIDATION_ERROR", "sign-up name");
      t.assert(long.data.message.includes("[body.name] Too big"), "the message names the field");
      t.status(slug, 400, "VALIDATION_ERROR", "organization slug");
      t.status(rename, 400, "VALIDATION_ERROR", "update-user name");
    } else {
      t.status(long, 200, undefined, "sign-up name");
      t.status(slug, 200, undefined, "organization slug");
      t.status(rename, 200, undefined, "update-user name");
    }
  }),

  deviation(
    "cache-one-cookie",
    "a session too large for one cookie",
    async (t) => {
      // Within our bounds, but over one cookie once escaped: 256 control characters (six bytes each) and a long image URL.
      const json = { email: t.email("large"), password, name: "\u0007".repeat(256), image: `https://img.example.com/${"i".repeat(2000)}` };
      const r = await t.request("POST", "/sign-up/email", { json });
      t.status(r, 200);
      const names = r.headers.getSetCookie().map((l) => l.split("=")[0]);
      if (t.ours) t.assert(!names.some((n) => n.includes("session_data")), `no cache cookie: ${names}`);
      else t.assert(names.includes("better-auth.session_data.0") && names.includes("better-auth.session_data.1"), `chunks: ${names}`);
    },
    cache,
  ),

  deviation("error-page-headers", "the error page's security headers", async (t) => {
    const r = await t.request("GET", "/error?error=access_denied");
    t.status(r, 200);
    const csp = r.headers.get("content-security-policy");
    if (t.ours) {
      t.assert(csp?.includes("default-src 'none'") && csp.includes("frame-ancestors 'none'"), `CSP ${csp}`);
      t.equal(r.headers.get("x-content-type-options"), "nosniff", "nosniff");
    } else {
      t.equal(csp, null, "no CSP");
    }
  }),
];
