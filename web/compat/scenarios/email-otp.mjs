// Email OTP: six-digit codes by mail for sign-in, email verification, password reset and (with
// EMAIL_OTP_CHANGE_EMAIL, the "options" configuration; the reference with changeEmail.enabled)
// a change of address. Codes are aliased in observations (<code#1>), so both sides compare.
import { emailOTPClient } from "better-auth/client/plugins";
import { scenario, deviation } from "../lib/scenario.mjs";
import { elapsed, password, sessionOf, signedOut, signUp } from "../lib/steps.mjs";

const plugins = [emailOTPClient()];
const success = { success: true };

// code asks for a code of a type and returns it from the mail.
async function code(t, c, local, type) {
  t.equal(t.ok(await c.emailOtp.sendVerificationOtp({ email: t.email(local), type }), `send ${type}`), success, `send ${type}`);
  const m = await t.mail("email-otp", t.email(local));
  t.equal(m.otpType, type, "otpType");
  return m.otp;
}

const wrong = (otp) => (otp === "000000" ? "111111" : "000000");

export default [
  scenario("an email code signs a new user up, once", async (t) => {
    const c = t.client({ plugins });
    const otp = await code(t, c, "pam", "sign-in");
    const data = t.ok(await c.signIn.emailOtp({ email: t.email("PAM"), otp, name: "Pam" }), "sign-in/email-otp");
    t.equal([data.user.email, data.user.name, data.user.emailVerified], [t.email("pam"), "Pam", true], "new user");
    t.equal((await sessionOf(t, c)).session.token, data.token, "session");
    t.fails(await t.client({ plugins, browser: t.browser() }).signIn.emailOtp({ email: t.email("pam"), otp }), 400, "INVALID_OTP", "the code again");
  }),

  scenario("an email code signs an existing user in", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "ray");
    const c = t.client({ plugins });
    const otp = await code(t, c, "ray", "sign-in");
    const data = t.ok(await c.signIn.emailOtp({ email: t.email("ray"), otp }), "sign-in/email-otp");
    t.equal([data.user.name, data.user.emailVerified], ["ray", true], "existing user, now verified");
  }),

  scenario("three wrong codes lock the code out", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "sue");
    const c = t.client({ plugins });
    const otp = await code(t, c, "sue", "sign-in");
    for (let i = 1; i <= 3; i++) t.fails(await c.signIn.emailOtp({ email: t.email("sue"), otp: wrong(otp) }), 400, "INVALID_OTP", `wrong code ${i}`);
    t.fails(await c.signIn.emailOtp({ email: t.email("sue"), otp }), 403, "TOO_MANY_ATTEMPTS", "the right code after three wrong ones");
    t.fails(await c.signIn.emailOtp({ email: t.email("sue"), otp }), 400, "INVALID_OTP", "and then");
    await signedOut(t, c);
  }),

  scenario("check-verification-otp leaves the code for verify-email", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "ted");
    const otp = await code(t, c, "ted", "email-verification");
    const check = { email: t.email("ted"), type: "email-verification", otp };
    t.equal(t.ok(await c.emailOtp.checkVerificationOtp(check), "check"), success, "check");
    t.ok(await c.emailOtp.checkVerificationOtp(check), "check again");
    t.fails(await c.emailOtp.checkVerificationOtp({ ...check, otp: wrong(otp) }), 400, "INVALID_OTP", "check a wrong code");
    const v = t.ok(await c.emailOtp.verifyEmail({ email: t.email("ted"), otp }), "verify-email");
    t.equal([v.status, v.token, v.user.emailVerified], [true, null, true], "verified");
    t.equal((await sessionOf(t, c)).user.emailVerified, true, "session user");
    t.fails(await c.emailOtp.verifyEmail({ email: t.email("ted"), otp }), 400, "INVALID_OTP", "the code again");
    t.fails(await c.emailOtp.checkVerificationOtp(check), 400, "INVALID_OTP", "check a spent code");
  }),

  scenario("a password is reset by code", async (t) => {
    const owner = t.client({ browser: t.browser() });
    await signUp(t, owner, "uma");
    const c = t.client({ plugins });
    t.equal(t.ok(await c.emailOtp.requestPasswordReset({ email: t.email("uma") }), "request-password-reset"), success, "request");
    const { otp } = await t.mail("email-otp", t.email("uma"));
    const reset = { email: t.email("uma"), otp, password: "new-password-8" };
    t.fails(await c.emailOtp.resetPassword({ ...reset, password: "short" }), 400, "PASSWORD_TOO_SHORT", "short password");
    t.fails(await c.emailOtp.resetPassword({ ...reset, otp: wrong(otp) }), 400, "INVALID_OTP", "wrong code");
    t.equal(t.ok(await c.emailOtp.resetPassword(reset), "reset-password"), success, "reset");
    t.fails(await c.emailOtp.resetPassword(reset), 400, "INVALID_OTP", "the code again");
    const s = t.ok(await c.signIn.email({ email: t.email("uma"), password: "new-password-8" }), "new password");
    t.equal(s.user.emailVerified, true, "the code proved the address");
    t.ok(await owner.getSession(), "other sessions stay");
  }),

  scenario("the deprecated forget-password/email-otp mails a reset code too", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "vic");
    const c = t.client({ plugins });
    t.equal(t.ok(await c.forgetPassword.emailOtp({ email: t.email("vic") }), "forget-password/email-otp"), success, "request");
    const m = await t.mail("email-otp", t.email("vic"));
    t.equal(m.otpType, "forget-password", "otpType");
    t.ok(await c.emailOtp.resetPassword({ email: t.email("vic"), otp: m.otp, password: "new-password-8" }), "reset-password");
  }),

  scenario("codes are mailed only to accounts, except sign-in codes", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "wes");
    const c = t.client({ plugins });
    for (const type of ["email-verification", "forget-password"]) {
      t.equal(t.ok(await c.emailOtp.sendVerificationOtp({ email: t.email("nobody"), type }), type), success, type);
    }
    t.ok(await c.emailOtp.requestPasswordReset({ email: t.email("nobody") }), "request-password-reset");
    t.ok(await c.forgetPassword.emailOtp({ email: t.email("nobody") }), "forget-password/email-otp");
    t.fails(await c.emailOtp.verifyEmail({ email: t.email("nobody"), otp: "123456" }), 400, "INVALID_OTP", "verify-email without a code");
    t.fails(await c.emailOtp.resetPassword({ email: t.email("nobody"), otp: "123456", password: "new-password-8" }), 400, "INVALID_OTP", "reset-password without a code");
    await t.noMail("email-otp", t.email("nobody"));
    await code(t, c, "nobody", "sign-in");
  }),

  scenario("the email OTP endpoints refuse bad input", async (t) => {
    const c = t.client({ plugins });
    t.fails(await c.emailOtp.sendVerificationOtp({ email: t.email("x"), type: "bogus" }), 400, "VALIDATION_ERROR", "bad type");
    t.fails(await c.emailOtp.sendVerificationOtp({ email: t.email("x") }), 400, "VALIDATION_ERROR", "no type");
    t.fails(await c.emailOtp.sendVerificationOtp({ email: "not-an-email", type: "sign-in" }), 400, "INVALID_EMAIL", "bad email");
    const changeType = await c.emailOtp.sendVerificationOtp({ email: t.email("x"), type: "change-email" });
    t.fails(changeType, 400, null, "type change-email");
    t.equal(changeType.error.message, "Invalid OTP type", "message");
    t.fails(await c.emailOtp.checkVerificationOtp({ email: t.email("x"), type: "sign-in" }), 400, "VALIDATION_ERROR", "check without a code");
    t.fails(await c.emailOtp.checkVerificationOtp({ email: "bad", type: "sign-in", otp: "123456" }), 400, "INVALID_EMAIL", "check a bad email");
    t.fails(await c.emailOtp.verifyEmail({ email: "bad", otp: "123456" }), 400, "INVALID_EMAIL", "verify a bad email");
    t.fails(await c.emailOtp.requestPasswordReset({ email: "bad" }), 400, "INVALID_EMAIL", "reset a bad email");
    t.fails(await c.emailOtp.resetPassword({ email: t.email("x"), otp: "123456", password: "x".repeat(129) }), 400, "PASSWORD_TOO_LONG", "long password");
  }),

  scenario("change email by code is off as shipped", async (t) => {
    const c = t.client({ plugins });
    t.fails(await c.emailOtp.requestEmailChange({ newEmail: t.email("new") }), 401, "UNAUTHORIZED", "signed out");
    t.status(await t.request("POST", "/email-otp/change-email", { json: { newEmail: t.email("new") } }), 400, "VALIDATION_ERROR", "no code");
    await signUp(t, c, "xia");
    const r = await c.emailOtp.requestEmailChange({ newEmail: t.email("new") });
    t.fails(r, 400, null, "request-email-change");
    t.equal(r.error.message, "Change email with OTP is disabled", "message");
    t.fails(await c.emailOtp.changeEmail({ newEmail: t.email("new"), otp: "123456" }), 400, null, "change-email");
    await t.noMail("email-otp", t.email("new"));
  }),

  scenario(
    "a code mailed to the new address changes the email",
    async (t) => {
      const c = t.client({ plugins });
      await signUp(t, c, "yan");
      t.fails(await c.emailOtp.requestEmailChange({ newEmail: t.email("YAN") }), 400, null, "the same address");
      t.fails(await c.emailOtp.requestEmailChange({ newEmail: "not-an-email" }), 400, "INVALID_EMAIL", "bad address");
      t.equal(t.ok(await c.emailOtp.requestEmailChange({ newEmail: t.email("Yan.New") }), "request-email-change"), success, "request");
      const m = await t.mail("email-otp", t.email("yan.new"));
      t.equal(m.otpType, "change-email", "otpType");
      t.fails(await c.emailOtp.changeEmail({ newEmail: t.email("yan.new"), otp: wrong(m.otp) }), 400, "INVALID_OTP", "wrong code");
      t.fails(await c.emailOtp.changeEmail({ newEmail: t.email("yan.other"), otp: m.otp }), 400, "INVALID_OTP", "another address");
      t.equal(t.ok(await c.emailOtp.changeEmail({ newEmail: t.email("yan.new"), otp: m.otp }), "change-email"), success, "change-email");
      const s = await sessionOf(t, c);
      t.equal([s.user.email, s.user.emailVerified], [t.email("yan.new"), true], "moved and verified");
      t.ok(await t.client({ browser: t.browser() }).signIn.email({ email: t.email("yan.new"), password }), "sign-in at the new address");
    },
    { config: "options" },
  ),

  scenario(
    "a code for a taken address is never mailed, and an address taken meanwhile is refused",
    async (t) => {
      await signUp(t, t.client({ browser: t.browser() }), "zed");
      const c = t.client({ plugins });
      await signUp(t, c, "zoe");
      t.equal(t.ok(await c.emailOtp.requestEmailChange({ newEmail: t.email("zed") }), "taken"), success, "taken");
      t.ok(await c.emailOtp.requestEmailChange({ newEmail: t.email("zoe.new") }), "free");
      const m = await t.mail("email-otp", t.email("zoe.new"));
      await signUp(t, t.client({ browser: t.browser() }), "zoe.new");
      const r = await c.emailOtp.changeEmail({ newEmail: t.email("zoe.new"), otp: m.otp });
      t.fails(r, 400, null, "taken meanwhile");
      t.equal(r.error.message, "Email already in use", "message");
      await t.noMail("email-otp", t.email("zed"), { ms: 0 });
      t.equal((await sessionOf(t, c)).user.email, t.email("zoe"), "not moved");
    },
    { config: "options" },
  ),

  deviation("answer-floor", "the email OTP requests take 500 ms whether or not the email has an account", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "abe");
    const c = t.client({ plugins });
    const calls = {
      "send-verification-otp": (email) => c.emailOtp.sendVerificationOtp({ email, type: "forget-password" }),
      "request-password-reset": (email) => c.emailOtp.requestPasswordReset({ email }),
      "forget-password/email-otp": (email) => c.forgetPassword.emailOtp({ email }),
    };
    for (const [name, call] of Object.entries(calls)) {
      for (const local of ["abe", "nobody"]) {
        const [res, ms] = await elapsed(() => call(t.email(local)));
        t.equal(t.ok(res, `${name} ${local}`), success, `${name} ${local}`);
        if (t.ours) t.assert(ms >= 490, `${name} ${local}: answered after ${ms} ms, want at least 500`);
      }
    }
  }),

  deviation(
    "answer-floor",
    "request-email-change takes 500 ms whether or not the new address is taken",
    async (t) => {
      await signUp(t, t.client({ browser: t.browser() }), "bea");
      const c = t.client({ plugins });
      await signUp(t, c, "cal");
      for (const local of ["bea", "cal.new"]) {
        const [res, ms] = await elapsed(() => c.emailOtp.requestEmailChange({ newEmail: t.email(local) }));
        t.equal(t.ok(res, local), success, local);
        if (t.ours) t.assert(ms >= 490, `${local}: answered after ${ms} ms, want at least 500`);
      }
    },
    { config: "options" },
  ),
];
