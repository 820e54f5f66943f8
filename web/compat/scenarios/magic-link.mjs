// Magic link: sign-in/magic-link mails a single-use link; magic-link/verify signs in (signing up
// an unknown email, as PASSWORDLESS_SIGN_UP ships on) and redirects, or answers JSON.
import { magicLinkClient } from "better-auth/client/plugins";
import { scenario } from "../lib/scenario.mjs";
import { follow, linkPath, password, sessionOf, signedOut, signUp, withoutParam } from "../lib/steps.mjs";

const plugins = [magicLinkClient()];

export default [
  scenario("a magic link signs a new user up and goes to newUserCallbackURL", async (t) => {
    const c = t.client({ plugins });
    const sent = await c.signIn.magicLink({ email: t.email("Mo"), name: "Mo", callbackURL: "/home", newUserCallbackURL: "/welcome", errorCallbackURL: "/oops" });
    t.equal(t.ok(sent, "sign-in/magic-link"), { status: true }, "answer");
    const m = await t.mail("magic-link", t.email("Mo"));
    const r = await follow(t, m.url);
    t.equal([r.status, r.headers.get("location")], [302, t.server.origin + "/welcome"], "redirect");
    t.assert(t.lastCookies()["better-auth.session_token"], "session cookie");
    const s = await sessionOf(t, c);
    t.equal([s.user.email, s.user.name, s.user.emailVerified], [t.email("mo"), "Mo", true], "new user");
    // Used once: the second time goes to errorCallbackURL.
    const again = await follow(t, m.url, { browser: t.browser() });
    t.equal([again.status, again.headers.get("location")], [302, t.server.origin + "/oops?error=INVALID_TOKEN"], "reused");
  }),

  scenario("a magic link signs an existing user in and goes to callbackURL", async (t) => {
    const other = t.client({ browser: t.browser() });
    await signUp(t, other, "nia");
    const c = t.client({ plugins });
    t.ok(await c.signIn.magicLink({ email: t.email("nia"), callbackURL: "/home?tab=2" }), "sign-in/magic-link");
    const m = await t.mail("magic-link", t.email("nia"));
    const r = await follow(t, m.url);
    t.equal([r.status, r.headers.get("location")], [302, t.server.origin + "/home?tab=2"], "redirect");
    const s = await sessionOf(t, c);
    t.equal([s.user.email, s.user.name, s.user.emailVerified], [t.email("nia"), "nia", true], "existing user, now verified");
    // The address was not proven before: its password and other sessions go, as upstream's
    // revokeUnprovenAccountAccess does.
    await signedOut(t, other, "the session made before the proof");
    t.fails(await t.client({ browser: t.browser() }).signIn.email({ email: t.email("nia"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "the old password");
  }),

  scenario("a magic link without callbackURL answers JSON", async (t) => {
    const c = t.client({ plugins });
    t.ok(await c.signIn.magicLink({ email: t.email("ola") }), "sign-in/magic-link");
    const m = await t.mail("magic-link", t.email("ola"));
    const r = await t.request("GET", withoutParam(linkPath(t, m.url), "callbackURL"));
    t.status(r, 200);
    t.equal(Object.keys(r.data).sort(), ["session", "token", "user"], "keys");
    t.equal((await sessionOf(t, c)).session.token, r.data.token, "session");
    const again = await t.request("GET", `/magic-link/verify?token=${m.token}`, { browser: t.browser() });
    t.equal([again.status, again.headers.get("location")], [302, t.server.origin + "/?error=INVALID_TOKEN"], "reused");
  }),

  scenario("magic-link/verify refuses unknown tokens and untrusted URLs", async (t) => {
    const c = t.client({ plugins });
    for (const q of ["token=nothing", "token=nothing&callbackURL=%2Fhome", "token=nothing&callbackURL=%2Fhome&errorCallbackURL=%2Foops%3Fa%3D1"]) {
      const r = await t.request("GET", `/magic-link/verify?${q}`);
      t.status(r, 302, undefined, q);
      t.assert(r.headers.get("location").endsWith("error=INVALID_TOKEN"), `${q}: ${r.headers.get("location")}`);
    }
    t.status(await t.request("GET", "/magic-link/verify"), 400, "VALIDATION_ERROR", "no token");
    for (const name of ["callbackURL", "newUserCallbackURL", "errorCallbackURL"]) {
      const r = await t.request("GET", `/magic-link/verify?token=x&${name}=${encodeURIComponent("https://evil.example/")}`);
      t.equal(r.status, 403, `foreign ${name}`);
    }
    t.fails(await c.signIn.magicLink({ email: "not-an-email" }), 400, "VALIDATION_ERROR", "bad email");
    t.fails(await c.signIn.magicLink({ email: t.email("x"), callbackURL: "https://evil.example/" }), 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
    t.fails(await c.signIn.magicLink({ email: t.email("x"), newUserCallbackURL: "https://evil.example/" }), 403, "INVALID_NEW_USER_CALLBACK_URL", "foreign newUserCallbackURL");
    t.fails(await c.signIn.magicLink({ email: t.email("x"), errorCallbackURL: "https://evil.example/" }), 403, "INVALID_ERROR_CALLBACK_URL", "foreign errorCallbackURL");
    await t.noMail("magic-link", t.email("x"));
  }),
];
