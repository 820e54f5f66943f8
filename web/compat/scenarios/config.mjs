// A non-default auth.ts: both servers read one file of betterAuth() options (reference/testdata/
// config-*.json; ours as AUTH_CONFIG, see README "The config file"), and answer alike: a custom
// cookie prefix, cross-subdomain cookies, a short session, password bounds, a verification link's
// lifetime and custom rate-limit rules ("custom"), sign-up
// turned off for email and password and for email OTP while existing users still sign in ("closed").
import { emailOTPClient, magicLinkClient } from "better-auth/client/plugins";
import { scenario } from "../lib/scenario.mjs";
import { follow, password, sessionOf, signedOut, signUp } from "../lib/steps.mjs";

const custom = { config: "custom" };
const closed = { config: "closed" };

export default [
  scenario("a custom cookie prefix, Domain and a one-hour session reach the cookies and the session", async (t) => {
    const c = t.client();
    const data = await signUp(t, c, "prefix");
    const cookies = t.lastCookies();
    t.assert(cookies["acme.session_token"], "sign-up sets acme.session_token");
    t.assert(!cookies["better-auth.session_token"], "and no better-auth.session_token");
    const s = await sessionOf(t, c);
    t.equal(s.session.token, data.token, "the session is read from the prefixed cookie");
    t.ok(await c.signOut(), "sign-out");
    await signedOut(t, c);
    t.ok(await c.signIn.email({ email: t.email("prefix"), password }), "sign-in");
    await sessionOf(t, c, "after sign-in");
  }, custom),

  scenario("the configured password bounds apply at sign-up", async (t) => {
    const c = t.client();
    t.fails(await c.signUp.email({ email: t.email("short"), password: "123456789", name: "S" }), 400, "PASSWORD_TOO_SHORT", "9 characters");
    t.fails(await c.signUp.email({ email: t.email("long"), password: "x".repeat(41), name: "L" }), 400, "PASSWORD_TOO_LONG", "41 characters");
    t.ok(await c.signUp.email({ email: t.email("ten"), password: "1234567890", name: "T" }), "10 characters");
  }, custom),

  scenario("emailVerification.expiresIn is the verification link's lifetime", async (t) => {
    const c = t.client();
    await signUp(t, c, "expires");
    t.ok(await c.sendVerificationEmail({ email: t.email("expires"), callbackURL: "/" }), "send a verification link");
    const { token } = await t.mail("verify-email", t.email("expires"));
    const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
    t.equal(claims.exp - claims.iat, 1800, "exp - iat of the link's token");
  }, custom),

  scenario("rateLimit.customRules: false lifts a path's limit, a rule sets another's", async (t) => {
    const c = t.client();
    // "/sign-up/email": false; the special rule would refuse the fourth within 10 s.
    for (const n of [1, 2, 3, 4, 5]) t.ok(await c.signUp.email({ email: t.email(`limit${n}`), password, name: "L" }), `sign-up ${n}`);
    // "/request-password-reset": { window: 60, max: 1 }; the special rule would allow three.
    t.ok(await c.requestPasswordReset({ email: t.email("limit1"), redirectTo: "/reset" }), "a reset request");
    const again = await t.request("POST", "/request-password-reset", { json: { email: t.email("limit1"), redirectTo: "/reset" } });
    t.status(again, 429, null, "a second reset request");
    t.equal(again.headers.get("x-retry-after"), "60", "X-Retry-After");
  }, custom),

  scenario("with sign-up disabled, sign-up is refused and an existing user still signs in", async (t) => {
    const c = t.client({ plugins: [magicLinkClient(), emailOTPClient()] });
    t.fails(await c.signUp.email({ email: t.email("closed"), password, name: "C" }), 400, "EMAIL_PASSWORD_SIGN_UP_DISABLED", "sign-up");
    t.fails(await c.signIn.email({ email: t.email("closed"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "sign-in before any account");
    // Email OTP sign-up is off too: an unknown address gets the same answer and no code.
    t.ok(await c.emailOtp.sendVerificationOtp({ email: t.email("otp"), type: "sign-in" }), "send a sign-in code");
    await t.noMail("email-otp", t.email("otp"));
    // Magic link sign-up is on: it makes the account, which then gets a password.
    t.ok(await c.signIn.magicLink({ email: t.email("closed"), name: "C" }), "magic link");
    t.status(await follow(t, (await t.mail("magic-link", t.email("closed"))).url), 302);
    await sessionOf(t, c, "signed up by the magic link");
    t.ok(await c.requestPasswordReset({ email: t.email("closed"), redirectTo: "/reset" }), "request a password");
    const m = await t.mail("reset-password", t.email("closed"));
    t.ok(await c.resetPassword({ newPassword: password, token: m.token }), "set the password");
    const other = t.client({ browser: t.browser() });
    t.ok(await other.signIn.email({ email: t.email("closed"), password }), "the existing user signs in");
    t.assert(t.lastCookies()["closed.session_token"], "with the closed. cookie prefix");
  }, closed),
];
