// Core email + password and session flows, through the official client.
import { scenario } from "../lib/scenario.mjs";
import { password, sessionOf, signedOut, signUp } from "../lib/steps.mjs";

export default [
  scenario("sign-up signs the new user in", async (t) => {
    const c = t.client();
    const data = await signUp(t, c, "alice", { image: "https://example.com/a.png" });
    t.equal(data.user.emailVerified, false, "emailVerified");
    t.equal(data.user.image, "https://example.com/a.png", "image");
    t.assert(t.lastCookies()["better-auth.session_token"], "sign-up sets session_token");
    const s = await sessionOf(t, c);
    t.equal(s.session.token, data.token, "session token");
    t.equal(s.user.id, data.user.id, "session user");
  }),

  scenario("sign-up lowercases the email and refuses it a second time", async (t) => {
    const c = t.client();
    const first = t.ok(await c.signUp.email({ email: t.email("Bob.Mixed"), password, name: "Bob" }), "sign-up");
    t.equal(first.user.email, t.email("bob.mixed"), "stored email");
    const again = await t.client({ browser: t.browser() }).signUp.email({ email: t.email("bob.mixed"), password, name: "Bob" });
    t.fails(again, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "second sign-up");
  }),

  scenario("sign-up refuses a short or long password and a bad email", async (t) => {
    const c = t.client();
    t.fails(await c.signUp.email({ email: t.email("short"), password: "1234567", name: "S" }), 400, "PASSWORD_TOO_SHORT", "short password");
    t.fails(await c.signUp.email({ email: t.email("long"), password: "x".repeat(129), name: "L" }), 400, "PASSWORD_TOO_LONG", "long password");
    t.fails(await c.signUp.email({ email: "not-an-email", password, name: "E" }), 400, "VALIDATION_ERROR", "bad email");
    t.fails(await c.signUp.email({ email: t.email("noname"), password }), 400, "VALIDATION_ERROR", "no name");
    const foreign = await c.signUp.email({ email: t.email("foreign"), password, name: "F", callbackURL: "https://evil.example/welcome" });
    t.fails(foreign, 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
    await signedOut(t, c);
    t.ok(await c.signUp.email({ email: t.email("welcome"), password, name: "W", callbackURL: "/welcome" }), "relative callbackURL");
  }),

  scenario("sign-up with rememberMe false makes a browser-session cookie", async (t) => {
    const c = t.client();
    await signUp(t, c, "una", { rememberMe: false });
    const cookies = t.lastCookies();
    t.assert(!/Max-Age/.test(cookies["better-auth.session_token"]), `session_token has no Max-Age: ${cookies["better-auth.session_token"]}`);
    t.assert(cookies["better-auth.dont_remember"], "dont_remember is set");
    await sessionOf(t, c);
    t.ok(await c.signOut(), "sign-out");
    t.assert(/Max-Age=0/.test(t.lastCookies()["better-auth.dont_remember"] || ""), "sign-out expires dont_remember");
  }),

  scenario("sign-in finds the account whatever the email's case", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "vera");
    t.ok(await t.client().signIn.email({ email: t.email("VERA").toUpperCase(), password }), "upper-case sign-in");
  }),

  scenario("sign-in remembers the session for seven days by default", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "carol");
    const c = t.client();
    const data = t.ok(await c.signIn.email({ email: t.email("carol"), password }), "sign-in");
    t.equal(data.redirect, false, "redirect");
    t.assert(!("url" in data), "no url without callbackURL");
    const cookie = t.lastCookies()["better-auth.session_token"];
    t.assert(/Max-Age=604800/.test(cookie), `session_token Max-Age: ${cookie}`);
    const s = await sessionOf(t, c);
    t.equal(s.session.token, data.token, "session token");
  }),

  scenario("sign-in with rememberMe false makes a one-day browser-session cookie", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "dave");
    const c = t.client();
    t.ok(await c.signIn.email({ email: t.email("dave"), password, rememberMe: false }), "sign-in");
    const cookies = t.lastCookies();
    t.assert(!/Max-Age/.test(cookies["better-auth.session_token"]), `session_token has no Max-Age: ${cookies["better-auth.session_token"]}`);
    t.assert(cookies["better-auth.dont_remember"], "dont_remember is set");
    const s = await sessionOf(t, c);
    const days = (new Date(s.session.expiresAt) - Date.now()) / 86400e3;
    t.assert(days > 0.9 && days < 1.1, `session expires in ${days} days, want 1`);
    // A later sign-in that remembers replaces the dont_remember cookie.
    t.ok(await c.signIn.email({ email: t.email("dave"), password, rememberMe: true }), "sign-in again");
    t.assert(/Max-Age=0/.test(t.lastCookies()["better-auth.dont_remember"] || ""), "dont_remember expired");
  }),

  scenario("sign-in with a callbackURL answers redirect and url", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "erin");
    const c = t.client();
    const rel = t.ok(await c.signIn.email({ email: t.email("erin"), password, callbackURL: "/dashboard?tab=1" }), "relative callbackURL");
    t.equal([rel.redirect, rel.url], [true, "/dashboard?tab=1"], "redirect, url");
    const abs = t.ok(await c.signIn.email({ email: t.email("erin"), password, callbackURL: t.server.origin + "/home" }), "absolute callbackURL");
    t.equal([abs.redirect, abs.url], [true, t.server.origin + "/home"], "redirect, url");
    const foreign = await c.signIn.email({ email: t.email("erin"), password, callbackURL: "https://evil.example/steal" });
    t.fails(foreign, 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
  }),

  scenario("sign-in refuses a wrong password and an unknown email alike", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "frank");
    const c = t.client();
    t.fails(await c.signIn.email({ email: t.email("frank"), password: "wrong-password-1" }), 401, "INVALID_EMAIL_OR_PASSWORD", "wrong password");
    t.fails(await c.signIn.email({ email: t.email("nobody"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "unknown email");
    t.fails(await c.signIn.email({ email: "not-an-email", password }), 400, "INVALID_EMAIL", "bad email");
    await signedOut(t, c);
  }),

  scenario("get-session answers null without a valid session cookie", async (t) => {
    const c = t.client();
    await signedOut(t, c, "no cookie");
    const r = await t.request("GET", "/get-session", { headers: { cookie: "better-auth.session_token=forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D" } });
    t.status(r, 200);
    t.equal(r.data, null, "forged cookie");
    await signUp(t, c, "gina");
    const r2 = await t.request("GET", "/get-session?disableRefresh=true&disableCookieCache=true");
    t.status(r2, 200);
    t.assert(r2.data?.session, "session with query flags");
  }),

  scenario("get-session by POST needs deferSessionRefresh", async (t) => {
    const c = t.client();
    await signUp(t, c, "hank");
    t.fails(await c.getSession({ fetchOptions: { method: "POST" } }), 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST get-session");
  }),

  scenario("list-sessions lists every device's session", async (t) => {
    const laptop = t.client();
    await signUp(t, laptop, "ivy");
    const phone = t.client({ browser: t.browser() });
    t.ok(await phone.signIn.email({ email: t.email("ivy"), password }), "second sign-in");
    const list = t.ok(await laptop.listSessions(), "list-sessions");
    t.equal(list.length, 2, "session count");
    t.fails(await t.client({ browser: t.browser() }).listSessions(), 401, "UNAUTHORIZED", "list-sessions signed out");
  }),

  scenario("revoke-session signs one device out", async (t) => {
    const laptop = t.client();
    await signUp(t, laptop, "jack");
    const phone = t.client({ browser: t.browser() });
    const p = t.ok(await phone.signIn.email({ email: t.email("jack"), password }), "phone sign-in");
    t.equal(t.ok(await laptop.revokeSession({ token: p.token }), "revoke-session"), { status: true }, "revoke-session");
    await signedOut(t, phone, "phone");
    await sessionOf(t, laptop, "laptop");
    // Revoking a token that is not the caller's changes nothing and still answers true.
    t.equal(t.ok(await laptop.revokeSession({ token: "not-a-session-token" }), "revoke unknown"), { status: true }, "revoke unknown");
    const r = await t.request("POST", "/revoke-session", { json: {} });
    t.status(r, 400, "VALIDATION_ERROR", "revoke-session without token");
  }),

  scenario("revoke-session cannot end another user's session", async (t) => {
    const mallory = t.client();
    await signUp(t, mallory, "mallory");
    const victim = t.client({ browser: t.browser() });
    const v = await signUp(t, victim, "victim");
    t.equal(t.ok(await mallory.revokeSession({ token: v.token }), "revoke another's session"), { status: true }, "answer");
    await sessionOf(t, victim, "victim keeps the session");
  }),

  scenario("revoke-session of the current session clears its cookies", async (t) => {
    const c = t.client();
    const d = await signUp(t, c, "kate");
    t.ok(await c.revokeSession({ token: d.token }), "revoke own session");
    await signedOut(t, c);
  }),

  scenario("revoke-sessions signs every device out", async (t) => {
    const laptop = t.client();
    await signUp(t, laptop, "liam");
    const phone = t.client({ browser: t.browser() });
    t.ok(await phone.signIn.email({ email: t.email("liam"), password }), "phone sign-in");
    t.equal(t.ok(await laptop.revokeSessions(), "revoke-sessions"), { status: true }, "revoke-sessions");
    await signedOut(t, laptop, "laptop");
    await signedOut(t, phone, "phone");
    t.fails(await laptop.revokeSessions(), 401, "UNAUTHORIZED", "revoke-sessions signed out");
  }),

  scenario("revoke-other-sessions keeps the current one", async (t) => {
    const laptop = t.client();
    await signUp(t, laptop, "mia");
    const phone = t.client({ browser: t.browser() });
    t.ok(await phone.signIn.email({ email: t.email("mia"), password }), "phone sign-in");
    t.equal(t.ok(await laptop.revokeOtherSessions(), "revoke-other-sessions"), { status: true }, "revoke-other-sessions");
    await sessionOf(t, laptop, "laptop");
    await signedOut(t, phone, "phone");
    t.equal(t.ok(await laptop.listSessions(), "list-sessions").length, 1, "sessions left");
  }),

  scenario("update-user changes name and image, not email", async (t) => {
    const c = t.client();
    await signUp(t, c, "noah");
    t.equal(t.ok(await c.updateUser({ name: "Noah N", image: "https://example.com/n.png" }), "update-user"), { status: true }, "update-user");
    const s = await sessionOf(t, c);
    t.equal([s.user.name, s.user.image], ["Noah N", "https://example.com/n.png"], "updated user");
    t.ok(await c.updateUser({ image: null }), "clear image");
    t.equal((await sessionOf(t, c)).user.image, null, "cleared image");
    t.fails(await c.updateUser({ email: t.email("other") }), 400, "EMAIL_CAN_NOT_BE_UPDATED", "update email");
    t.fails(await t.client({ browser: t.browser() }).updateUser({ name: "x" }), 401, "UNAUTHORIZED", "signed out");
  }),

  scenario("update-user and update-session with nothing to update", async (t) => {
    const c = t.client();
    await signUp(t, c, "olga");
    t.fails(await c.updateUser({ fetchOptions: { method: "POST", body: {} } }), 400, null, "update-user {}");
    t.fails(await c.updateSession({ fetchOptions: { method: "POST", body: {} } }), 400, null, "update-session {}");
  }),

  scenario("change-password keeps other sessions unless asked", async (t) => {
    const laptop = t.client();
    await signUp(t, laptop, "paul");
    const phone = t.client({ browser: t.browser() });
    t.ok(await phone.signIn.email({ email: t.email("paul"), password }), "phone sign-in");
    const d = t.ok(await laptop.changePassword({ currentPassword: password, newPassword: "new-password-2" }), "change-password");
    t.equal(d.token, null, "token without revokeOtherSessions");
    await sessionOf(t, phone, "phone keeps its session");
    const fresh = t.client({ browser: t.browser() });
    t.fails(await fresh.signIn.email({ email: t.email("paul"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "old password");
    t.ok(await fresh.signIn.email({ email: t.email("paul"), password: "new-password-2" }), "new password");
  }),

  scenario("change-password with revokeOtherSessions signs the others out", async (t) => {
    const laptop = t.client();
    const first = await signUp(t, laptop, "quinn");
    const phone = t.client({ browser: t.browser() });
    t.ok(await phone.signIn.email({ email: t.email("quinn"), password }), "phone sign-in");
    const d = t.ok(await laptop.changePassword({ currentPassword: password, newPassword: "new-password-3", revokeOtherSessions: true }), "change-password");
    t.assert(d.token && d.token !== first.token, "a new session token");
    const s = await sessionOf(t, laptop, "laptop has the new session");
    t.equal(s.session.token, d.token, "laptop session");
    await signedOut(t, phone, "phone");
  }),

  scenario("change-password refuses a wrong current or a short new password", async (t) => {
    const c = t.client();
    await signUp(t, c, "rosa");
    t.fails(await c.changePassword({ currentPassword: "wrong-password-9", newPassword: "new-password-4" }), 400, "INVALID_PASSWORD", "wrong current");
    t.fails(await c.changePassword({ currentPassword: password, newPassword: "short" }), 400, "PASSWORD_TOO_SHORT", "short new");
    t.fails(await c.changePassword({ currentPassword: password }), 400, "VALIDATION_ERROR", "no new password");
    t.fails(await t.client({ browser: t.browser() }).changePassword({ currentPassword: password, newPassword: "new-password-4" }), 401, "UNAUTHORIZED", "signed out");
  }),

  scenario("verify-password checks the current password", async (t) => {
    const c = t.client();
    await signUp(t, c, "sam");
    t.equal(t.ok(await c.verifyPassword({ password }), "verify-password"), { status: true }, "right password");
    t.fails(await c.verifyPassword({ password: "wrong-password-5" }), 400, "INVALID_PASSWORD", "wrong password");
    t.fails(await t.client({ browser: t.browser() }).verifyPassword({ password }), 401, "UNAUTHORIZED", "signed out");
  }),

  scenario("sign-out ends the session and clears its cookies", async (t) => {
    const c = t.client();
    await signUp(t, c, "tara", {});
    t.equal(t.ok(await c.signOut(), "sign-out"), { success: true }, "sign-out");
    await signedOut(t, c);
    t.equal(t.ok(await c.signOut(), "sign-out again"), { success: true }, "sign-out without a session");
  }),

  scenario("ok answers ok", async (t) => {
    const r = await t.request("GET", "/ok");
    t.status(r, 200);
    t.equal(r.data, { ok: true }, "body");
  }),
];
