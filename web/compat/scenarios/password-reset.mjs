// Password reset: request-password-reset mails a link, GET /reset-password/:token sends the browser
// to the app's page with the token, POST /reset-password spends it.
import { scenario, deviation } from "../lib/scenario.mjs";
import { elapsed, follow, password, signedOut, signUp } from "../lib/steps.mjs";

const answer = { status: true, message: "If this email exists in our system, check your email for the reset link" };

export default [
  scenario("a reset link sets a new password, once", async (t) => {
    const owner = t.client({ browser: t.browser() });
    await signUp(t, owner, "pia");
    const c = t.client();
    t.equal(t.ok(await c.requestPasswordReset({ email: t.email("pia"), redirectTo: "/reset?step=2" }), "request"), answer, "request");
    const m = await t.mail("reset-password", t.email("pia"));
    const r = await follow(t, m.url);
    t.status(r, 302);
    const to = new URL(r.headers.get("location"));
    t.equal([to.origin, to.pathname, to.searchParams.get("step")], [t.server.origin, "/reset", "2"], "redirect target");
    const token = to.searchParams.get("token");
    t.equal(token, m.token, "token in the redirect");

    t.fails(await c.resetPassword({ newPassword: "short", token }), 400, "PASSWORD_TOO_SHORT", "short password");
    t.equal(t.ok(await c.resetPassword({ newPassword: "new-password-8", token }), "reset"), { status: true }, "reset");
    t.fails(await c.resetPassword({ newPassword: "new-password-9", token }), 400, "INVALID_TOKEN", "the token again");
    const again = await follow(t, m.url);
    t.equal(new URL(again.headers.get("location")).searchParams.get("error"), "INVALID_TOKEN", "the link again");

    t.fails(await c.signIn.email({ email: t.email("pia"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "old password");
    t.ok(await c.signIn.email({ email: t.email("pia"), password: "new-password-8" }), "new password");
    // Sessions are kept: revokeSessionsOnPasswordReset is off, as we ship it.
    t.ok(await owner.getSession(), "the owner's session");
  }),

  scenario("reset-password takes the token from the query too", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "quin");
    const c = t.client();
    t.ok(await c.requestPasswordReset({ email: t.email("quin") }), "request without redirectTo");
    const m = await t.mail("reset-password", t.email("quin"));
    const r = await t.request("POST", `/reset-password?token=${m.token}`, { json: { newPassword: "new-password-8" } });
    t.status(r, 200);
    t.ok(await c.signIn.email({ email: t.email("quin"), password: "new-password-8" }), "new password");
    await signedOut(t, t.client({ browser: t.browser() }));
  }),

  scenario("reset-password refuses a missing or unknown token", async (t) => {
    const c = t.client();
    t.fails(await c.resetPassword({ newPassword: "new-password-8" }), 400, "INVALID_TOKEN", "no token");
    t.fails(await c.resetPassword({ newPassword: "new-password-8", token: "not-a-token" }), 400, "INVALID_TOKEN", "unknown token");
    t.fails(await c.resetPassword({ newPassword: "short", token: "not-a-token" }), 400, "PASSWORD_TOO_SHORT", "short password first");
    t.fails(await c.resetPassword({ token: "not-a-token" }), 400, "VALIDATION_ERROR", "no password");
  }),

  scenario("the reset link refuses an unknown token and an untrusted callback", async (t) => {
    for (const q of ["?callbackURL=%2Freset", "?callbackURL=" + encodeURIComponent(t.server.origin + "/reset?a=1&token=old"), "?callbackURL="]) {
      const r = await t.request("GET", `/reset-password/not-a-token${q}`);
      t.status(r, 302, undefined, q);
      t.assert(r.headers.get("location").includes("error=INVALID_TOKEN"), `${q}: ${r.headers.get("location")}`);
    }
    t.status(await t.request("GET", `/reset-password/x?callbackURL=${encodeURIComponent("https://evil.example/reset")}`), 403, "INVALID_CALLBACK_URL", "foreign");
    t.status(await t.request("GET", "/reset-password/x"), 400, "VALIDATION_ERROR", "no callbackURL");
  }),

  scenario("request-password-reset answers alike for every email", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "rex");
    const c = t.client();
    t.equal(t.ok(await c.requestPasswordReset({ email: t.email("rex") }), "known"), answer, "known");
    t.equal(t.ok(await c.requestPasswordReset({ email: t.email("nobody") }), "unknown"), answer, "unknown");
    await t.mail("reset-password", t.email("rex"));
    await t.noMail("reset-password", t.email("nobody"));
    t.fails(await c.requestPasswordReset({ email: "not-an-email" }), 400, "VALIDATION_ERROR", "bad email");
    t.fails(await c.requestPasswordReset({ email: t.email("rex"), redirectTo: "https://evil.example/" }), 403, "INVALID_REDIRECT_URL", "foreign redirectTo");
  }),

  deviation("answer-floor", "request-password-reset takes 500 ms whether or not the email has an account", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "sal");
    const c = t.client();
    for (const local of ["sal", "nobody"]) {
      const [res, ms] = await elapsed(() => c.requestPasswordReset({ email: t.email(local) }));
      t.equal(t.ok(res, local), answer, local);
      if (t.ours) t.assert(ms >= 490, `${local}: answered after ${ms} ms, want at least 500`);
    }
  }),
];
