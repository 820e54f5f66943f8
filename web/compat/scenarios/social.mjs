// Social sign-in through the fake GitLab (lib/fakeidp.mjs) both servers point their GitLab
// provider at: the authorization URL and state cookie, the callback for a new and a returning
// user and its error redirects, linked accounts, access tokens and their refresh.
import { scenario } from "../lib/scenario.mjs";
import { gitlabProfile } from "../lib/fakeidp.mjs";
import { password, sessionOf, signedOut, signUp, verifyEmail } from "../lib/steps.mjs";

// authorize registers local as a user of the fake GitLab and sends the browser through its
// authorization page for the URL a start answered; it returns the server's callback path (as
// t.request takes it) the provider sent the browser back to.
async function authorize(t, authURL, local, { profile = {}, expiresIn, deny = false } = {}) {
  const url = new URL(authURL);
  t.equal(url.origin + url.pathname, t.server.fake.origin + "/oauth/authorize", "authorization endpoint");
  // One key per server: both sides of a diff run at once against the one fake.
  const key = `${t.server.name} ${t.email(local)}`;
  t.server.fake.user(key, gitlabProfile(t.email(local), profile), { expiresIn });
  url.searchParams.set("login_as", key);
  if (deny) url.searchParams.set("deny", "1");
  const res = await fetch(url, { redirect: "manual" });
  const back = new URL(res.headers.get("location"));
  t.equal(back.origin + back.pathname, t.server.origin + "/api/auth/callback/gitlab", "redirect_uri");
  return back.pathname.slice("/api/auth".length) + back.search;
}

// socialSignIn signs local in with GitLab in a browser (t's default one unless given) and returns
// the callback's answer and the browser's client.
async function socialSignIn(t, local, { browser = t.defaultBrowser, body = {}, ...opts } = {}) {
  const c = t.client({ browser });
  const start = t.ok(await c.signIn.social({ provider: "gitlab", callbackURL: "/dashboard", ...body }), "sign-in/social");
  return [await t.request("GET", await authorize(t, start.url, local, opts), { browser }), c];
}

export default [
  scenario("sign-in/social answers GitLab's authorization URL and sets the state cookie", async (t) => {
    const c = t.client();
    const data = t.ok(await c.signIn.social({ provider: "gitlab", callbackURL: "/dashboard", scopes: ["api"], loginHint: "ann@example.com" }), "sign-in/social");
    t.equal(data.redirect, true, "redirect");
    const q = new URL(data.url).searchParams;
    t.equal(
      [q.get("response_type"), q.get("client_id"), q.get("scope"), q.get("redirect_uri"), q.get("code_challenge_method"), q.get("login_hint")],
      ["code", "compat-gitlab-client", "read_user api", t.server.origin + "/api/auth/callback/gitlab", "S256", "ann@example.com"],
      "parameters",
    );
    t.assert(/^[A-Za-z0-9_-]{43}$/.test(q.get("code_challenge")) && q.get("state"), "code_challenge and state");
    t.assert(t.lastCookies()["better-auth.state"], "state cookie");
    const quiet = t.ok(await c.signIn.social({ provider: "gitlab", callbackURL: "/dashboard", disableRedirect: true }), "disableRedirect");
    t.equal(quiet.redirect, false, "redirect with disableRedirect");
  }),

  scenario("sign-in/social refuses an unknown provider and untrusted URLs", async (t) => {
    const c = t.client();
    t.fails(await c.signIn.social({ provider: "github", callbackURL: "/dashboard" }), 404, "PROVIDER_NOT_FOUND", "a provider not configured");
    t.fails(await c.signIn.social({ provider: "gitlab", callbackURL: "https://evil.example/" }), 403, "INVALID_CALLBACK_URL", "callbackURL");
    t.fails(await c.signIn.social({ provider: "gitlab", errorCallbackURL: "https://evil.example/" }), 403, "INVALID_ERROR_CALLBACK_URL", "errorCallbackURL");
    t.fails(await c.signIn.social({ provider: "gitlab", newUserCallbackURL: "https://evil.example/" }), 403, "INVALID_NEW_USER_CALLBACK_URL", "newUserCallbackURL");
    t.status(await t.request("POST", "/sign-in/social", { json: {} }), 400, "VALIDATION_ERROR", "no provider");
  }),

  scenario("a new GitLab user signs up through the callback", async (t) => {
    const [r, c] = await socialSignIn(t, "ann", { body: { newUserCallbackURL: "/welcome" }, profile: { name: "Ann Lee" } });
    t.equal([r.status, r.headers.get("location")], [302, "/welcome"], "to newUserCallbackURL");
    t.assert(t.lastCookies()["better-auth.session_token"], "session cookie");
    const s = await sessionOf(t, c);
    t.equal([s.user.email, s.user.name, s.user.emailVerified], [t.email("ann"), "Ann Lee", true], "user");
    const accounts = t.ok(await c.listAccounts(), "list-accounts");
    t.equal(accounts.map((a) => a.providerId), ["gitlab"], "accounts");
    const info = t.ok(await c.accountInfo({ query: { accountId: accounts[0].id } }), "account-info");
    t.equal([info.user.email, info.data.username], [t.email("ann"), "ann"], "account-info");
    t.fails(await c.accountInfo({ query: { accountId: "not-an-account" } }), 400, "ACCOUNT_NOT_FOUND", "another account");
  }),

  scenario("a returning GitLab user signs in to the same account", async (t) => {
    const [first] = await socialSignIn(t, "bo", { browser: t.browser() });
    t.equal(first.status, 302, "first sign-in");
    const [r, c] = await socialSignIn(t, "bo", { body: { newUserCallbackURL: "/welcome" } });
    t.equal([r.status, r.headers.get("location")], [302, "/dashboard"], "to callbackURL");
    t.equal(t.ok(await c.listSessions(), "list-sessions").length, 2, "two sessions of one user");
  }),

  scenario("a GitLab sign-in with a verified email links the existing verified account", async (t) => {
    const owner = t.client({ browser: t.browser() });
    await signUp(t, owner, "cy");
    await verifyEmail(t, owner, "cy");
    const [r, c] = await socialSignIn(t, "cy");
    t.equal([r.status, r.headers.get("location")], [302, "/dashboard"], "signed in");
    const accounts = (await t.request("GET", "/list-accounts", { browser: t.defaultBrowser })).data;
    t.equal(accounts.map((a) => a.providerId).sort(), ["credential", "gitlab"], "linked");
  }),

  scenario("a GitLab sign-in does not link an unverified account, nor with an unverified email", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "dee");
    for (const profile of [{}, { email_verified: false }]) {
      const [r, c] = await socialSignIn(t, "dee", { profile, browser: t.browser() });
      t.equal(r.status, 302, "status");
      t.assert(r.headers.get("location").includes("error=account_not_linked"), `location ${r.headers.get("location")}`);
      await signedOut(t, c);
    }
  }),

  scenario("the callback sends provider errors and bad states to the error URL", async (t) => {
    const c = t.client();
    const start = t.ok(await c.signIn.social({ provider: "gitlab", callbackURL: "/dashboard", errorCallbackURL: "/sign-in?failed=1" }), "sign-in/social");
    const denied = await t.request("GET", await authorize(t, start.url, "eli", { deny: true }));
    t.equal([denied.status, denied.headers.get("location")], [302, "/sign-in?failed=1&error=access_denied"], "denied at the provider");

    const state = new URL(start.url).searchParams.get("state");
    const cases = {
      "no state": "/callback/gitlab?code=abc",
      "no code": `/callback/gitlab?state=${state}`,
      "unknown state": "/callback/gitlab?code=abc&state=unknown-state",
      "a bad code": `/callback/gitlab?code=not-a-code&state=${state}`,
    };
    for (const [what, path] of Object.entries(cases)) {
      const r = await t.request("GET", path);
      t.equal(r.status, 302, `${what}: status`);
      t.assert(/[?&]error=/.test(r.headers.get("location") || ""), `${what}: location ${r.headers.get("location")}`);
    }
    await signedOut(t, c);
  }),

  scenario("the callback takes a form post by redirecting it to a GET", async (t) => {
    const r = await t.request("POST", "/callback/gitlab", { body: "code=abc&state=xyz", headers: { "content-type": "application/x-www-form-urlencoded" } });
    t.equal([r.status, r.headers.get("location")], [302, t.server.origin + "/api/auth/callback/gitlab?code=abc&state=xyz"], "redirect");
  }),

  scenario("the state is bound to the browser that started the sign-in", async (t) => {
    const start = t.ok(await t.client().signIn.social({ provider: "gitlab", callbackURL: "/dashboard" }), "sign-in/social");
    const path = await authorize(t, start.url, "fay");
    const other = t.browser();
    const r = await t.request("GET", path, { browser: other });
    t.equal(r.status, 302, "status");
    t.assert(r.headers.get("location").includes("error=state_mismatch"), `location ${r.headers.get("location")}`);
    await signedOut(t, t.client({ browser: other }));
  }),

  scenario("unlink-account refuses the last account and unlinks the others", async (t) => {
    const [, social] = await socialSignIn(t, "gia");
    const [only] = t.ok(await social.listAccounts(), "list-accounts");
    t.fails(await social.unlinkAccount({ accountId: only.id }), 400, "FAILED_TO_UNLINK_LAST_ACCOUNT", "the only account");

    const browser = t.browser();
    const c = t.client({ browser });
    await signUp(t, c, "hank");
    const link = t.ok(await c.linkSocial({ provider: "gitlab", callbackURL: "/settings" }), "link-social");
    const r = await t.request("GET", await authorize(t, link.url, "hank"), { browser });
    t.equal([r.status, r.headers.get("location")], [302, "/settings"], "linked");
    // Upstream lists accounts in the database's order (no ORDER BY): the harness compares them as a set.
    const accounts = (await t.request("GET", "/list-accounts", { browser })).data;
    t.equal(accounts.length, 2, "two accounts");
    t.fails(await c.unlinkAccount({ accountId: only.id }), 400, "ACCOUNT_NOT_FOUND", "another user's account");
    t.equal(t.ok(await c.unlinkAccount({ accountId: accounts.find((a) => a.providerId === "gitlab").id }), "unlink-account"), { status: true }, "unlinked");
    t.equal(t.ok(await c.listAccounts(), "list-accounts").map((a) => a.providerId), ["credential"], "one account left");
  }),

  scenario("link-social needs a session and a matching email", async (t) => {
    t.fails(await t.client().linkSocial({ provider: "gitlab", callbackURL: "/settings" }), 401, "UNAUTHORIZED", "signed out");
    const browser = t.browser();
    const c = t.client({ browser });
    await signUp(t, c, "ivy");
    for (const profile of [{ email: t.email("someone-else") }, { email_verified: false }]) {
      const link = t.ok(await c.linkSocial({ provider: "gitlab", callbackURL: "/settings", errorCallbackURL: "/settings?failed=1" }), "link-social");
      const r = await t.request("GET", await authorize(t, link.url, "ivy", { profile }), { browser });
      t.equal(r.status, 302, "status");
      t.assert(r.headers.get("location").startsWith("/settings?failed=1&error="), `location ${r.headers.get("location")}`);
    }
    t.equal(t.ok(await c.listAccounts(), "list-accounts").length, 1, "not linked");
  }),

  scenario("get-access-token hands out the provider token and refreshes it when it expires", async (t) => {
    const [, c] = await socialSignIn(t, "jo", { expiresIn: 3 });
    const [account] = t.ok(await c.listAccounts(), "list-accounts");
    // expires_in 3 s is within upstream's 5 s margin: the token is refreshed before it is handed out.
    const first = t.ok(await c.getAccessToken({ accountId: account.id }), "get-access-token");
    t.assert(first.accessToken, "an access token");
    const again = t.ok(await c.getAccessToken({ accountId: account.id }), "get-access-token again");
    t.assert(again.accessToken && again.accessToken !== first.accessToken, "a refreshed access token");
    const refreshed = t.ok(await c.refreshToken({ accountId: account.id }), "refresh-token");
    t.assert(refreshed.accessToken && refreshed.refreshToken, "refresh-token answers new tokens");
    t.fails(await c.getAccessToken({ accountId: "not-an-account" }), 400, "ACCOUNT_NOT_FOUND", "an unknown account");
    for (const json of [{ providerId: "gitlab" }, { accountId: account.id, a: 1 }, { useAccountCookie: true, a: 1 }, { accountId: 5, a: 1 }]) {
      t.status(await t.request("POST", "/get-access-token", { json }), 400, "VALIDATION_ERROR", JSON.stringify(json));
    }
    for (const q of ["foo=1", `accountId=${account.id}&foo=1`]) t.status(await t.request("GET", `/account-info?${q}`), 400, "VALIDATION_ERROR", q);
    t.fails(await t.client({ browser: t.browser() }).getAccessToken({ accountId: account.id }), 401, undefined, "signed out");
  }),

  scenario("get-access-token keeps a token that is still valid", async (t) => {
    const [, c] = await socialSignIn(t, "kim");
    const [account] = t.ok(await c.listAccounts(), "list-accounts");
    const first = t.ok(await c.getAccessToken({ accountId: account.id }), "get-access-token");
    const again = t.ok(await c.getAccessToken({ accountId: account.id }), "get-access-token again");
    t.equal(again.accessToken, first.accessToken, "the same token");
    t.ok(await c.signOut(), "sign-out");
    await signedOut(t, c);
    t.fails(await c.signIn.email({ email: t.email("kim"), password }), 401, "INVALID_EMAIL_OR_PASSWORD", "no password to sign in with");
  }),
];
