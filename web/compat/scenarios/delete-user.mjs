// Delete user. As authsidecar ships it (DELETE_USER_ENABLED on, DELETE_USER_VERIFICATION off) a
// fresh session or the password deletes at once; with DELETE_USER_VERIFICATION (the "options"
// configuration, the reference with sendDeleteAccountVerification) a mailed link does, in the
// session of the account.
import { scenario } from "../lib/scenario.mjs";
import { follow, linkPath, password, signedOut, signUp } from "../lib/steps.mjs";

const deleted = { success: true, message: "User deleted" };
const options = { config: "options" };

export default [
  scenario("delete-user with a fresh session deletes the account at once", async (t) => {
    const c = t.client();
    await signUp(t, c, "ada");
    const other = t.client({ browser: t.browser() });
    t.ok(await other.signIn.email({ email: t.email("ada"), password }), "a second session");
    t.equal(t.ok(await c.deleteUser(), "delete-user"), deleted, "delete-user");
    await signedOut(t, c);
    await signedOut(t, other, "the other session");
    t.fails(await c.signIn.email({ email: t.email("ada"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "sign-in");
  }),

  scenario("delete-user with the password checks it", async (t) => {
    const c = t.client();
    await signUp(t, c, "ben");
    t.fails(await c.deleteUser({ password: "wrong-password-1" }), 400, "INVALID_PASSWORD", "wrong password");
    t.equal(t.ok(await c.deleteUser({ password, callbackURL: "/bye" }), "delete-user"), deleted, "right password");
    await signedOut(t, c);
  }),

  scenario("delete-user and its callback refuse strangers and unknown tokens", async (t) => {
    const c = t.client();
    t.fails(await c.deleteUser(), 401, "UNAUTHORIZED", "signed out");
    t.status(await t.request("GET", "/delete-user/callback?token=nothing"), 404, "FAILED_TO_GET_USER_INFO", "callback signed out");
    t.status(await t.request("GET", "/delete-user/callback"), 400, "VALIDATION_ERROR", "callback without token");
    await signUp(t, c, "cid");
    t.fails(await c.deleteUser({ token: "nothing" }), 404, "INVALID_TOKEN", "unknown token");
    t.status(await t.request("GET", "/delete-user/callback?token=nothing"), 404, "INVALID_TOKEN", "callback with an unknown token");
    t.status(await t.request("GET", `/delete-user/callback?token=nothing&callbackURL=${encodeURIComponent("https://evil.example/")}`), 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
    t.ok(await c.getSession(), "still there");
  }),

  scenario(
    "delete-user mails a link that deletes the account in its session",
    async (t) => {
      const c = t.client();
      await signUp(t, c, "dan");
      t.equal(t.ok(await c.deleteUser({ callbackURL: "/goodbye" }), "delete-user"), { success: true, message: "Verification email sent" }, "delete-user");
      const m = await t.mail("delete-account", t.email("dan"));
      t.status(await follow(t, m.url, { browser: t.browser() }), 404, "FAILED_TO_GET_USER_INFO", "the link without a session");
      const r = await follow(t, m.url);
      t.equal([r.status, r.headers.get("location")], [302, "/goodbye"], "the link");
      await signedOut(t, c);
      t.fails(await c.signIn.email({ email: t.email("dan"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "sign-in");
    },
    options,
  ),

  scenario(
    "a delete link answers JSON without a callbackURL, and works once",
    async (t) => {
      const c = t.client();
      await signUp(t, c, "eve");
      t.ok(await c.deleteUser(), "delete-user");
      const m = await t.mail("delete-account", t.email("eve"));
      const token = new URL(m.url).searchParams.get("token");
      const r = await t.request("GET", `/delete-user/callback?token=${token}`);
      t.status(r, 200);
      t.equal(r.data, deleted, "callback");
      await signUp(t, c, "eve");
      t.status(await t.request("GET", `/delete-user/callback?token=${token}`), 404, "INVALID_TOKEN", "the link again");
    },
    options,
  ),

  scenario(
    "a delete link opened in another user's session deletes no one",
    async (t) => {
      const owner = t.client({ browser: t.browser() });
      await signUp(t, owner, "fin");
      t.ok(await owner.deleteUser(), "delete-user");
      const m = await t.mail("delete-account", t.email("fin"));
      const c = t.client();
      await signUp(t, c, "gil");
      t.status(await follow(t, m.url), 404, "INVALID_TOKEN", "another user's session");
      t.ok(await c.getSession(), "the other user stays");
      t.ok(await owner.getSession(), "the owner stays");
      // The token was spent by that attempt, as upstream consumes it before checking whose it is.
      t.fails(await owner.deleteUser({ token: new URL(m.url).searchParams.get("token") }), 404, "INVALID_TOKEN", "the owner's token afterwards");
    },
    options,
  ),

  scenario(
    "delete-user with the mailed token in the body",
    async (t) => {
      const c = t.client();
      await signUp(t, c, "hugo");
      t.ok(await c.deleteUser(), "delete-user");
      const m = await t.mail("delete-account", t.email("hugo"));
      t.equal(t.ok(await c.deleteUser({ token: new URL(m.url).searchParams.get("token") }), "delete-user with token"), deleted, "deleted");
      await signedOut(t, c);
      t.assert(linkPath(t, m.url).startsWith("/delete-user/callback?token="), "link");
    },
    options,
  ),
];
