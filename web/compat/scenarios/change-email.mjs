// Change email, as authsidecar ships it (CHANGE_EMAIL_ENABLED and CHANGE_EMAIL_CONFIRMATION on,
// CHANGE_EMAIL_WITHOUT_VERIFICATION off; the reference has changeEmail.enabled with
// sendChangeEmailConfirmation): an unverified user's new address is verified by a link mailed to
// it; a verified user first confirms from the old address.
import { scenario, deviation } from "../lib/scenario.mjs";
import { elapsed, follow, linkPath, password, sessionOf, signUp, verifyEmail, withoutParam } from "../lib/steps.mjs";

export default [
  scenario("change-email of an unverified user moves it when the new address opens its link", async (t) => {
    const c = t.client();
    await signUp(t, c, "cam");
    t.equal(t.ok(await c.changeEmail({ newEmail: t.email("Cam.New") }), "change-email"), { status: true }, "change-email");
    const m = await t.mail("verify-email", t.email("cam.new"));
    const link = withoutParam(linkPath(t, m.url), "callbackURL");
    const r = await t.request("GET", link);
    t.status(r, 200);
    t.equal([r.data.user.email, r.data.user.emailVerified], [t.email("cam.new"), false], "moved, still unverified");
    t.equal((await sessionOf(t, c)).user.email, t.email("cam.new"), "session user");
    // The token is bound to the old address: once moved, no copy of it works again.
    t.status(await t.request("GET", link), 401, "INVALID_TOKEN", "the link again");
    t.ok(await t.client({ browser: t.browser() }).signIn.email({ email: t.email("cam.new"), password }), "sign-in at the new address");
  }),

  scenario("change-email of a verified user is confirmed from the old address first", async (t) => {
    const c = t.client();
    await signUp(t, c, "dora");
    await verifyEmail(t, c, "dora");
    t.ok(await c.changeEmail({ newEmail: t.email("dora.new"), callbackURL: "/settings" }), "change-email");
    const confirm = await t.mail("change-email", t.email("dora"));
    t.equal(confirm.newEmail, t.email("dora.new"), "newEmail");
    const r = await follow(t, confirm.url);
    t.equal([r.status, r.headers.get("location")], [302, "/settings"], "confirmation redirect");
    t.equal((await sessionOf(t, c)).user.email, t.email("dora"), "not moved yet");
    const m = await t.mail("verify-email", t.email("dora.new"));
    const moved = await follow(t, m.url);
    t.equal([moved.status, moved.headers.get("location")], [302, "/settings"], "verification redirect");
    const s = await sessionOf(t, c);
    t.equal([s.user.email, s.user.emailVerified], [t.email("dora.new"), true], "moved and still verified");
  }),

  scenario("a change link opened in another user's session is refused", async (t) => {
    const c = t.client({ browser: t.browser() });
    await signUp(t, c, "eli");
    t.ok(await c.changeEmail({ newEmail: t.email("eli.new") }), "change-email");
    const m = await t.mail("verify-email", t.email("eli.new"));
    await signUp(t, t.client(), "other");
    const r = await t.request("GET", withoutParam(linkPath(t, m.url), "callbackURL"));
    t.status(r, 401, "INVALID_USER");
    const redirected = await t.request("GET", linkPath(t, m.url));
    t.equal(redirected.headers.get("location"), "/?error=INVALID_USER", "redirect");
    t.equal((await sessionOf(t, c)).user.email, t.email("eli"), "not moved");
  }),

  scenario("change-email refuses the same address, bad input and strangers", async (t) => {
    const c = t.client();
    await signUp(t, c, "fay");
    t.fails(await c.changeEmail({ newEmail: t.email("FAY") }), 400, null, "the same address");
    t.fails(await c.changeEmail({ newEmail: "not-an-email" }), 400, "VALIDATION_ERROR", "bad address");
    t.status(await t.request("POST", "/change-email", { json: {} }), 400, "VALIDATION_ERROR", "no address");
    t.fails(await c.changeEmail({ newEmail: t.email("fay.new"), callbackURL: "https://evil.example/" }), 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
    t.fails(await t.client({ browser: t.browser() }).changeEmail({ newEmail: t.email("fay.new") }), 401, "UNAUTHORIZED", "signed out");
  }),

  scenario("change-email to a taken address answers as usual and mails nothing", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "gus");
    const c = t.client();
    await signUp(t, c, "hal");
    t.equal(t.ok(await c.changeEmail({ newEmail: t.email("gus") }), "change-email"), { status: true }, "taken");
    await t.noMail("verify-email", t.email("gus"));
    t.equal((await sessionOf(t, c)).user.email, t.email("hal"), "not moved");
  }),

  deviation("answer-floor", "change-email takes 500 ms whether or not the new address is taken", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "ivo");
    const c = t.client();
    await signUp(t, c, "jan");
    for (const local of ["ivo", "jan.new"]) {
      const [res, ms] = await elapsed(() => c.changeEmail({ newEmail: t.email(local) }));
      t.equal(t.ok(res, local), { status: true }, local);
      if (t.ours) t.assert(ms >= 490, `${local}: answered after ${ms} ms, want at least 500`);
    }
  }),
];
