// Redis secondary storage both ways: the Node server with @better-auth/redis-storage and ours
// share one Redis (the same key prefix), one database and one secret; what one writes the other
// reads, with sessions and verification values only in Redis ("redis", upstream's default) and
// in Postgres too ("redis-db"). The data-both-ways and two-factor interop scenarios run again in
// both, beside the flows below: a reset link, an email OTP and a revoke-all issued by one server
// used on the other.
import { emailOTPClient } from "better-auth/client/plugins";
import { interop } from "../lib/scenario.mjs";
import { password } from "../lib/steps.mjs";
import bothWays from "./data-both-ways.mjs";
import twoFactor from "./two-factor.mjs";

const plugins = [emailOTPClient()];

const flows = [
  interop("a password-reset link issued by one server is consumed by the other", async (t) => {
    const onA = t.client({ server: t.a });
    t.ok(await onA.signUp.email({ email: t.email("rex"), password, name: "Rex" }), "sign-up on a");
    t.ok(await onA.requestPasswordReset({ email: t.email("rex"), redirectTo: "/reset" }), "request on a");
    const { token } = await t.mail("reset-password", t.email("rex"), { server: t.a });
    const onB = t.client({ server: t.b, browser: t.browser() });
    t.equal(t.ok(await onB.resetPassword({ newPassword: "new-password-8", token }), "reset on b"), { status: true }, "reset on b");
    t.fails(await onA.resetPassword({ newPassword: "new-password-9", token }), 400, "INVALID_TOKEN", "the token again, on a");
    t.ok(await t.client({ server: t.a, browser: t.browser() }).signIn.email({ email: t.email("rex"), password: "new-password-8" }), "new password on a");
  }),

  interop("an email OTP issued by one server signs in on the other, once", async (t) => {
    const onA = t.client({ server: t.a, plugins });
    t.ok(await onA.emailOtp.sendVerificationOtp({ email: t.email("ola"), type: "sign-in" }), "send on a");
    const { otp } = await t.mail("email-otp", t.email("ola"), { server: t.a });
    const onB = t.client({ server: t.b, plugins, browser: t.browser() });
    t.ok(await onB.signIn.emailOtp({ email: t.email("ola"), otp, name: "Ola" }), "sign-in on b");
    t.fails(await t.client({ server: t.a, plugins, browser: t.browser() }).signIn.emailOtp({ email: t.email("ola"), otp }), 400, "INVALID_OTP", "the code again, on a");
  }),

  interop("revoke-sessions on one server signs out every device on the other", async (t) => {
    const onA = t.client({ server: t.a });
    t.ok(await onA.signUp.email({ email: t.email("vic"), password, name: "Vic" }), "sign-up on a");
    const other = t.client({ server: t.a, browser: t.browser() });
    t.ok(await other.signIn.email({ email: t.email("vic"), password }), "second device on a");
    const onB = t.client({ server: t.b, browser: t.browser() });
    t.ok(await onB.signIn.email({ email: t.email("vic"), password }), "sign-in on b");
    t.equal(t.ok(await onB.listSessions(), "list-sessions on b").length, 3, "b lists a's sessions");
    t.ok(await onB.revokeOtherSessions(), "revoke-other-sessions on b");
    t.equal(t.ok(await other.getSession(), "get-session on a"), null, "a's device signed out");
    t.ok(await onB.revokeSessions(), "revoke-sessions on b");
    t.equal(t.ok(await onB.getSession(), "get-session on b"), null, "signed out everywhere");
  }),
];

// With sessions only in Redis the stored value is the whole session object, riskLevel (declared
// returned: false in testdata/config/fields.json) included; no answer of either server shows it,
// whichever server wrote the session or last updated it.
const unreturned = interop("a session field declared returned: false is answered by neither server (redis-fields)", async (t) => {
  const browser = t.browser();
  const onA = t.client({ server: t.a, browser });
  const onB = t.client({ server: t.b, browser });
  const hidden = (s) => s && !("riskLevel" in s.session);
  t.ok(await onA.signUp.email({ email: t.email("rho"), password, name: "Rho" }), "sign-up on a");
  const read = t.ok(await onB.getSession(), "get-session on b");
  t.assert(hidden(read) && read.session.theme === "light", "b answers a's session, without riskLevel");
  const updated = t.ok(await onB.updateSession({ device: "tablet" }), "update-session on b");
  t.assert(!("riskLevel" in updated.session), "update-session on b answers no riskLevel");
  const again = t.ok(await onA.getSession(), "get-session on a");
  t.assert(hidden(again) && again.session.device === "tablet", "a reads b's update, without riskLevel");
  const listed = t.ok(await onB.listSessions(), "list-sessions on b");
  t.assert(listed.length === 1 && !("riskLevel" in listed[0]), "b lists the session without riskLevel");
});

const interops = [...bothWays, ...twoFactor, ...flows].filter((s) => s.kind === "interop");
export default [
  ...["redis", "redis-db"].flatMap((config) => interops.map((s) => ({ ...s, name: `${s.name} (${config})`, config }))),
  { ...unreturned, config: "redis-fields" },
];
