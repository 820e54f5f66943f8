// Data both ways: an account and sessions made by one server are used through the other, on one
// database. Each runs twice, reference→ours and ours→reference, and the two runs must see the same.
// Features add their own interop scenarios in their files (a TOTP secret enrolled on one server
// verified on the other; an organization made on one listed on the other).
import { interop } from "../lib/scenario.mjs";
import { password } from "../lib/steps.mjs";

export default [
  interop("an account made on one server signs in on the other", async (t) => {
    const onA = t.client({ server: t.a });
    const up = t.ok(await onA.signUp.email({ email: t.email("pat"), password, name: "Pat" }), "sign-up on a");
    const onB = t.client({ server: t.b, browser: t.browser() });
    const inB = t.ok(await onB.signIn.email({ email: t.email("pat"), password }), "sign-in on b");
    t.equal(inB.user, up.user, "the same user");
    t.fails(await onB.signIn.email({ email: t.email("pat"), password: "wrong-password-1" }), 401, "INVALID_EMAIL_OR_PASSWORD", "wrong password on b");
    t.fails(await onB.signUp.email({ email: t.email("pat"), password, name: "Pat" }), 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "sign-up again on b");
  }),

  interop("a session made on one server is read and ended on the other", async (t) => {
    const browser = t.browser();
    const onA = t.client({ server: t.a, browser });
    const onB = t.client({ server: t.b, browser });
    const up = t.ok(await onA.signUp.email({ email: t.email("sky"), password, name: "Sky" }), "sign-up on a");
    const s = t.ok(await onB.getSession(), "get-session on b");
    t.equal([s?.session.token, s?.user.id], [up.token, up.user.id], "b reads a's session");
    t.equal(t.ok(await onB.listSessions(), "list-sessions on b").length, 1, "sessions on b");
    t.ok(await onB.updateUser({ name: "Sky B" }), "update-user on b");
    t.equal(t.ok(await onA.getSession(), "get-session on a").user.name, "Sky B", "a sees b's update");
    t.ok(await onB.signOut(), "sign-out on b");
    t.equal(t.ok(await onA.getSession(), "get-session on a"), null, "signed out on a too");
  }),

  interop("a password changed on one server is the password on the other", async (t) => {
    const browser = t.browser();
    const onA = t.client({ server: t.a, browser });
    const onB = t.client({ server: t.b, browser });
    t.ok(await onA.signUp.email({ email: t.email("lee"), password, name: "Lee" }), "sign-up on a");
    t.equal(t.ok(await onB.verifyPassword({ password }), "verify-password on b"), { status: true }, "b checks a's hash");
    const changed = t.ok(await onB.changePassword({ currentPassword: password, newPassword: "new-password-7", revokeOtherSessions: true }), "change-password on b");
    t.equal(t.ok(await onA.getSession(), "get-session on a").session.token, changed.token, "a reads b's new session");
    const fresh = t.client({ server: t.a, browser: t.browser() });
    t.fails(await fresh.signIn.email({ email: t.email("lee"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "old password on a");
    t.ok(await fresh.signIn.email({ email: t.email("lee"), password: "new-password-7" }), "new password on a");
  }),
];
