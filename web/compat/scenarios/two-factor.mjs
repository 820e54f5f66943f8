// Two-factor (twoFactor plugin) through the official client and twoFactorClient: TOTP, codes by
// email, backup codes, trusted devices, the limits, and enrolments used across servers.
//
// TOTP codes are RFC 6238 computed here from the URI's secret. authsidecar accepts a code once per
// time step (deviation totp-replay), so a scenario never sends one step's code twice, except where
// it asserts that deviation: the code confirming an enrolment is the current step's, the next one
// the following step's, which both servers accept (a window of one step either side).
import { createHmac } from "node:crypto";
import { twoFactorClient } from "better-auth/client/plugins";
import { deviation, interop, scenario } from "../lib/scenario.mjs";
import { password, sessionOf, signedOut, signUp } from "../lib/steps.mjs";

const plugins = [twoFactorClient()];

// totp is the RFC 6238 code (HMAC-SHA1, six digits) of an otpauth URI's secret for the current
// 30-second step plus offset.
function totp(uri, offset = 0) {
  const secret = new URL(uri).searchParams.get("secret");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = createHmac("sha1", key).update(msg).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, "0");
}

// wrongCode is a six-digit code that is not one of the window's right ones, whichever step the
// server is at when it arrives: this one or, past a 30-second boundary, the next, whose window
// reaches one step further.
function wrongCode(uri) {
  const right = new Set([-1, 0, 1, 2].map((o) => totp(uri, o)));
  return ["000000", "111111", "222222", "333333"].find((c) => !right.has(c));
}

// enrol signs up local on client c, enables TOTP and confirms it with the current code.
async function enrol(t, c, local) {
  await signUp(t, c, local);
  const enabled = t.ok(await c.twoFactor.enable({ password }), "enable");
  t.ok(await c.twoFactor.verifyTotp({ code: totp(enabled.totpURI) }), "first code");
  return { email: t.email(local), ...enabled };
}

// challenged signs in with the password on c and asserts the second factor is asked for.
async function challenged(t, c, email, methods = ["totp", "otp"], extra = {}) {
  const data = t.ok(await c.signIn.email({ email, password, ...extra }), "sign-in");
  t.equal(data, { twoFactorRedirect: true, twoFactorMethods: methods }, "sign-in answer");
  return data;
}

export default [
  scenario("TOTP: enable, confirm with the first code, then sign in with a code and trust the device", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "tina");
    t.fails(await c.twoFactor.enable({ password: "wrong-password-1" }), 400, "INVALID_PASSWORD", "enable with a wrong password");
    const enabled = t.ok(await c.twoFactor.enable({ password }), "enable");
    t.equal(enabled.backupCodes.length, 10, "backup codes");
    t.assert(enabled.totpURI.startsWith("otpauth://totp/authsidecar:"), `totpURI ${enabled.totpURI}`);
    t.equal((await sessionOf(t, c)).user.twoFactorEnabled, false, "twoFactorEnabled before the first code");
    t.fails(await c.twoFactor.verifyTotp({ code: wrongCode(enabled.totpURI) }), 401, "INVALID_CODE", "a wrong first code");
    t.ok(await c.twoFactor.verifyTotp({ code: totp(enabled.totpURI) }), "first code");
    t.equal((await sessionOf(t, c)).user.twoFactorEnabled, true, "twoFactorEnabled after the first code");
    t.fails(await c.twoFactor.enable({ password }), 400, "TOTP_ALREADY_ENABLED", "enable again");
    t.ok(await c.signOut(), "sign-out");

    await challenged(t, c, t.email("tina"), ["totp", "otp"], { rememberMe: false });
    await signedOut(t, c, "get-session during the challenge");
    t.ok(await c.twoFactor.verifyTotp({ code: totp(enabled.totpURI, 1), trustDevice: true }), "verify-totp at sign-in");
    await sessionOf(t, c);
    t.ok(await c.signOut(), "sign-out");
    t.assert(t.ok(await c.signIn.email({ email: t.email("tina"), password }), "sign-in on the trusted device").token, "a session at once");
  }),

  scenario("TOTP: re-enrolling before the first code replaces the secret, which the URI then shows", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "rhea");
    t.fails(await c.twoFactor.getTotpUri({ password }), 400, "TOTP_NOT_ENABLED", "get-totp-uri before enable");
    const first = t.ok(await c.twoFactor.enable({ password, issuer: "Custom Issuer" }), "enable with an issuer");
    t.assert(first.totpURI.startsWith("otpauth://totp/Custom%20Issuer:") && first.totpURI.includes("&issuer=Custom+Issuer&"), first.totpURI);
    const second = t.ok(await c.twoFactor.enable({ password }), "enable again before the first code");
    const uri = t.ok(await c.twoFactor.getTotpUri({ password }), "get-totp-uri");
    t.equal(uri.totpURI, second.totpURI, "the second secret");
    t.fails(await c.twoFactor.getTotpUri({ password: "wrong-password-1" }), 400, "INVALID_PASSWORD", "get-totp-uri with a wrong password");
    t.fails(await c.twoFactor.verifyTotp({ code: totp(first.totpURI) }), 401, "INVALID_CODE", "the first secret's code");
    t.ok(await c.signOut(), "sign-out");
    t.ok(await c.signIn.email({ email: t.email("rhea"), password }), "sign-in: no second factor before the first code");
  }),

  scenario("backup codes: each signs in once; disableSession checks one without signing in", async (t) => {
    const c = t.client({ plugins });
    const u = await enrol(t, c, "bo");
    t.ok(await c.signOut(), "sign-out");
    await challenged(t, c, u.email);
    t.ok(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), "a backup code");
    await sessionOf(t, c);
    t.ok(await c.signOut(), "sign-out");

    await challenged(t, c, u.email);
    t.fails(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), 401, "INVALID_BACKUP_CODE", "the same code again");
    t.ok(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[1], disableSession: true }), "disableSession");
    await signedOut(t, c, "get-session after disableSession");
    t.fails(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[2] }), 401, "INVALID_TWO_FACTOR_COOKIE", "the challenge after disableSession");

    await challenged(t, c, u.email);
    t.ok(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[2] }), "a third code");
    t.fails(await c.twoFactor.generateBackupCodes({ password: "wrong-password-1" }), 400, "INVALID_PASSWORD", "generate with a wrong password");
    const fresh = t.ok(await c.twoFactor.generateBackupCodes({ password }), "generate-backup-codes");
    t.equal(fresh.backupCodes.length, 10, "new codes");
    t.fails(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[3], disableSession: true }), 401, "INVALID_BACKUP_CODE", "an old code");
    t.ok(await c.twoFactor.verifyBackupCode({ code: fresh.backupCodes[0], disableSession: true }), "a new code");
  }),

  scenario("codes by email: enable the method, then sign in with a mailed code", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "otto");
    t.equal(t.ok(await c.twoFactor.enable({ password, method: "otp" }), "enable otp"), { method: "otp" }, "enable answer");
    t.equal((await sessionOf(t, c)).user.twoFactorEnabled, true, "twoFactorEnabled at once");
    t.ok(await c.signOut(), "sign-out");
    await challenged(t, c, t.email("otto"), ["otp"]);
    t.fails(await c.twoFactor.verifyOtp({ code: "123456" }), 400, "OTP_HAS_EXPIRED", "verify before send");
    t.ok(await c.twoFactor.sendOtp(), "send-otp");
    const { otp } = await t.mail("two-factor-otp", t.email("otto"));
    t.fails(await c.twoFactor.verifyOtp({ code: otp === "000000" ? "111111" : "000000" }), 401, "INVALID_CODE", "a wrong code");
    t.ok(await c.twoFactor.verifyOtp({ code: otp }), "the mailed code");
    await sessionOf(t, c);
    t.fails(await c.twoFactor.verifyOtp({ code: otp }), 400, "OTP_HAS_EXPIRED", "the code again");
  }),

  scenario("a sign-in challenge takes five wrong codes, then ends with its cookie", async (t) => {
    const c = t.client({ plugins });
    const u = await enrol(t, c, "fay");
    t.ok(await c.signOut(), "sign-out");
    await challenged(t, c, u.email);
    for (let i = 1; i <= 5; i++) t.fails(await c.twoFactor.verifyTotp({ code: wrongCode(u.totpURI) }), 401, "INVALID_CODE", `wrong code ${i}`);
    t.fails(await c.twoFactor.verifyTotp({ code: totp(u.totpURI, 1) }), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "a sixth code");
    t.fails(await c.twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), 401, "INVALID_TWO_FACTOR_COOKIE", "after the challenge ended");
  }),

  scenario("ten wrong codes in a row, across challenges and factors, lock the account", async (t) => {
    const c = t.client({ plugins });
    const u = await enrol(t, c, "lou");
    t.ok(await c.signOut(), "sign-out");
    await challenged(t, c, u.email);
    for (let i = 1; i <= 5; i++) t.fails(await c.twoFactor.verifyBackupCode({ code: "aaaaa-bbbbb" }), 401, "INVALID_BACKUP_CODE", `wrong backup code ${i}`);
    await challenged(t, c, u.email);
    t.ok(await c.twoFactor.sendOtp(), "send-otp");
    const { otp } = await t.mail("two-factor-otp", u.email);
    for (let i = 1; i <= 5; i++) t.fails(await c.twoFactor.verifyOtp({ code: "x" }), 401, "INVALID_CODE", `wrong mailed code ${i}`);
    t.fails(await c.twoFactor.verifyOtp({ code: otp }), 429, "ACCOUNT_TEMPORARILY_LOCKED", "the right code after ten wrong ones");
    await challenged(t, c, u.email);
    t.fails(await c.twoFactor.verifyTotp({ code: totp(u.totpURI, 1) }), 429, "ACCOUNT_TEMPORARILY_LOCKED", "a right code while locked");
  }),

  scenario("disable needs the password and turns two-factor off", async (t) => {
    const c = t.client({ plugins });
    const u = await enrol(t, c, "dee");
    t.fails(await c.twoFactor.disable({ password: "wrong-password-1" }), 400, "INVALID_PASSWORD", "disable with a wrong password");
    t.equal(t.ok(await c.twoFactor.disable({ password }), "disable"), { status: true }, "disable answer");
    t.equal((await sessionOf(t, c)).user.twoFactorEnabled, false, "twoFactorEnabled");
    t.fails(await c.twoFactor.getTotpUri({ password }), 400, "TOTP_NOT_ENABLED", "get-totp-uri after disable");
    t.ok(await c.signOut(), "sign-out");
    t.assert(t.ok(await c.signIn.email({ email: u.email, password }), "sign-in").token, "a session without a second factor");
  }),

  scenario("verify endpoints without a session or challenge, and bad bodies, are refused", async (t) => {
    const c = t.client({ plugins });
    t.fails(await c.twoFactor.verifyTotp({ code: "123456" }), 401, "INVALID_TWO_FACTOR_COOKIE", "verify-totp");
    t.fails(await c.twoFactor.verifyOtp({ code: "123456" }), 401, "INVALID_TWO_FACTOR_COOKIE", "verify-otp");
    t.fails(await c.twoFactor.verifyBackupCode({ code: "aaaaa-bbbbb" }), 401, "INVALID_TWO_FACTOR_COOKIE", "verify-backup-code");
    t.fails(await c.twoFactor.sendOtp(), 401, "INVALID_TWO_FACTOR_COOKIE", "send-otp");
    t.fails(await c.twoFactor.enable({ password }), 401, "UNAUTHORIZED", "enable");
    const forged = await t.request("POST", "/two-factor/verify-totp", { json: { code: "123456" }, headers: { cookie: "better-auth.two_factor=2fa-aaaaaaaaaaaaaaaaaaaa" } });
    t.status(forged, 401, "INVALID_TWO_FACTOR_COOKIE", "an unsigned challenge cookie");
    await signUp(t, c, "val");
    t.fails(await c.twoFactor.enable({ password, method: "sms" }), 400, "VALIDATION_ERROR", "an unknown method");
    t.fails(await c.twoFactor.verifyTotp({ code: 123456 }), 400, "VALIDATION_ERROR", "a numeric code");
    t.fails(await c.twoFactor.generateBackupCodes({ password }), 400, "TWO_FACTOR_NOT_ENABLED", "generate-backup-codes before enable");
    t.fails(await c.twoFactor.verifyBackupCode({ code: "aaaaa-bbbbb" }), 400, "BACKUP_CODES_NOT_ENABLED", "verify-backup-code before enable");
  }),

  deviation("totp-replay", "a TOTP code is accepted once", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "rey");
    const enabled = t.ok(await c.twoFactor.enable({ password }), "enable");
    const code = totp(enabled.totpURI);
    t.ok(await c.twoFactor.verifyTotp({ code }), "first use");
    const again = await c.twoFactor.verifyTotp({ code });
    if (t.ours) t.fails(again, 401, "INVALID_CODE", "second use");
    else t.ok(again, "second use");
  }),

  deviation("disable-forgets-trusted-devices", "disable forgets every trusted device of the user", async (t) => {
    const c = t.client({ plugins });
    const u = await enrol(t, c, "tad");
    const other = t.client({ plugins, browser: t.browser() });
    await challenged(t, other, u.email);
    t.ok(await other.twoFactor.verifyBackupCode({ code: u.backupCodes[0], trustDevice: true }), "trust the other device");
    t.ok(await other.signOut(), "sign-out on the other device");
    t.ok(await c.twoFactor.disable({ password }), "disable on this device");
    t.ok(await c.twoFactor.enable({ password, method: "otp" }), "turn it on again");
    const back = t.ok(await other.signIn.email({ email: u.email, password }), "sign-in on the other device");
    if (t.ours) t.equal(back, { twoFactorRedirect: true, twoFactorMethods: ["otp"] }, "the other device is asked again");
    else t.assert(back.token, "the other device is still trusted");
  }),

  interop("a TOTP enrolment made on one server signs in on the other", async (t) => {
    const onA = t.client({ server: t.a, plugins });
    const u = await enrol(t, onA, "ivy");
    const onB = t.client({ server: t.b, plugins, browser: t.browser() });
    await challenged(t, onB, u.email);
    t.ok(await onB.twoFactor.verifyTotp({ code: totp(u.totpURI, 1) }), "a's secret verifies on b");
    t.equal(t.ok(await onB.twoFactor.getTotpUri({ password }), "get-totp-uri on b").totpURI, u.totpURI, "the same URI");
    const backupOnB = t.client({ server: t.b, plugins, browser: t.browser() });
    await challenged(t, backupOnB, u.email);
    t.ok(await backupOnB.twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), "a's backup code on b");
    const backupOnA = t.client({ server: t.a, plugins, browser: t.browser() });
    await challenged(t, backupOnA, u.email);
    t.fails(await backupOnA.twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), 401, "INVALID_BACKUP_CODE", "the code b spent, on a");
    t.ok(await backupOnA.twoFactor.verifyBackupCode({ code: u.backupCodes[1] }), "the codes b left, on a");
  }),

  interop("a challenge started on one server is finished on the other, and the trusted device carries over", async (t) => {
    const u = await enrol(t, t.client({ server: t.a, plugins }), "cal");
    const browser = t.browser();
    const onA = t.client({ server: t.a, plugins, browser });
    const onB = t.client({ server: t.b, plugins, browser });
    await challenged(t, onA, u.email);
    t.ok(await onB.twoFactor.verifyTotp({ code: totp(u.totpURI, 1), trustDevice: true }), "a's challenge verified on b");
    t.ok(await onB.signOut(), "sign-out on b");
    t.assert(t.ok(await onA.signIn.email({ email: u.email, password }), "sign-in on a").token, "b's trusted device skips the second factor on a");

    const mailed = t.browser();
    const otpOnB = t.client({ server: t.b, plugins, browser: mailed });
    const otpOnA = t.client({ server: t.a, plugins, browser: mailed });
    await challenged(t, otpOnB, u.email);
    t.ok(await otpOnA.twoFactor.sendOtp(), "send-otp on a");
    const { otp } = await t.mail("two-factor-otp", u.email, { server: t.a });
    t.ok(await otpOnB.twoFactor.verifyOtp({ code: otp }), "a's mailed code on b");
  }),
];
