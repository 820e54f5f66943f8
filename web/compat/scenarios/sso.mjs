// Enterprise SSO (OIDC): provider registration and management through the official ssoClient, and
// sign-in through the fake OpenID provider the harness runs (lib/fakeoidc.mjs), whose origin
// both servers trust.
//
// sign-in/sso answers a different authorization URL on each server (deviation sso-oidc-nonce), so
// the flows below start it without recording it (`startUnrecorded`, asserted there) and compare
// everything from the callback on.
import { ssoClient } from "@better-auth/sso/client";
import { organizationClient } from "better-auth/client/plugins";
import { scenario, deviation, interop } from "../lib/scenario.mjs";
import { signUp, sessionOf } from "../lib/steps.mjs";
import { startFakeOIDC } from "../lib/fakeoidc.mjs";

const plugins = [ssoClient(), organizationClient()];

// provider is a registration of the fake IdP for this run's email domain.
async function provider(t, extra = {}) {
  const idp = await startFakeOIDC();
  // Every scenario of a side shares its server's database: ids are the scenario's own.
  const id = `${t.slug}${t.tag ? "-" + t.tag : ""}`;
  return {
    providerId: id,
    issuer: idp.origin,
    domain: t.email("x").split("@")[1],
    oidcConfig: { clientId: `${id}-client`, clientSecret: `${id}-client-secret` },
    ...extra,
  };
}

// startUnrecorded posts sign-in/sso through a browser without recording the exchange and lets the
// provider authenticate; it returns the callback path (below /api/auth) the provider redirects to.
// The server's state is drawn from [A-Za-z0-9_-]; the harness aliases only alphanumeric runs, so a
// flow whose state has "-" or "_" is started again (the state is in the recorded callback path).
async function startUnrecorded(t, browser, body, server = t.server) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const res = await browser.fetch(
      server.origin + "/api/auth/sign-in/sso",
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
      { origin: server.origin },
    );
    const data = await res.json();
    t.equal(res.status, 200, `sign-in/sso status (${JSON.stringify(data)})`);
    t.equal(data.redirect, true, "sign-in/sso redirect");
    const url = new URL(data.url);
    t.assert(url.searchParams.get("redirect_uri").startsWith(`${server.origin}/api/auth/sso/callback/`), `redirect_uri of ${url}`);
    if (!/^[A-Za-z0-9]+$/.test(url.searchParams.get("state"))) continue;
    const back = await fetch(url, { redirect: "manual" });
    t.equal(back.status, 302, "the provider redirects back");
    const location = new URL(back.headers.get("location"));
    t.equal(location.origin, server.origin, "the provider returns to the server");
    return location.pathname.replace(/^\/api\/auth/, "") + location.search;
  }
  t.fail("no alphanumeric state in 40 sign-ins");
}

export default [
  scenario("a provider is registered, listed, read, updated and deleted by its owner", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = await provider(t);
    const reg = t.ok(await c.sso.register(body), "register with discovery");
    t.equal(reg.oidcConfig.clientSecret, body.oidcConfig.clientSecret, "registration answers the secret");
    t.equal(reg.oidcConfig.tokenEndpoint, body.issuer + "/token", "discovered token endpoint");
    const manual = await provider(t, {
      providerId: body.providerId + "-manual",
      domain: "manual." + body.domain,
      oidcConfig: {
        clientId: "manual-client",
        clientSecret: "manual-client-secret",
        skipDiscovery: true,
        authorizationEndpoint: body.issuer + "/authorize",
        tokenEndpoint: body.issuer + "/token",
        jwksEndpoint: body.issuer + "/jwks",
        scopes: ["openid", "email"],
        mapping: { email: "email", name: "name" },
      },
    });
    t.ok(await c.sso.register(manual), "register with skipDiscovery");
    const list = t.ok(await c.sso.providers(), "providers");
    t.equal(list.providers.length, 2, "both providers listed");
    const got = t.ok(await c.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider");
    t.equal(got.oidcConfig.clientIdLastFour, "****ient", "client id masked");
    const updated = t.ok(await c.sso.updateProvider({ providerId: body.providerId, domain: "new." + body.domain, oidcConfig: { scopes: ["openid"] } }), "update-provider");
    t.equal(updated.domain, "new." + body.domain, "updated domain");
    t.fails(await c.sso.updateProvider({ providerId: body.providerId }), 400, null, "empty update");
    t.equal(t.ok(await c.sso.deleteProvider({ providerId: manual.providerId }), "delete-provider").success, true, "deleted");
    t.fails(await c.sso.getProvider({ query: { providerId: manual.providerId } }), 404, null, "deleted provider");
  }),

  scenario("registration refuses bad, untrusted and duplicate providers", async (t) => {
    const c = t.client({ plugins });
    t.fails(await c.sso.register(await provider(t)), 401, "UNAUTHORIZED", "no session");
    await signUp(t, c, "owner");
    const body = await provider(t);
    t.fails(await c.sso.register({ ...body, issuer: "not a url" }), 400, "VALIDATION_ERROR", "issuer not a URL");
    t.fails(await c.sso.register({ ...body, providerId: "credential" }), 422, null, "reserved providerId");
    t.fails(await c.sso.register({ ...body, issuer: "https://idp.untrusted.example" }), 400, "discovery_untrusted_origin", "untrusted discovery");
    const privateHost = { ...body.oidcConfig, skipDiscovery: true, tokenEndpoint: "http://10.0.0.1/token" };
    t.fails(await c.sso.register({ ...body, issuer: "https://idp.untrusted.example", oidcConfig: privateHost }), 400, "discovery_private_host", "private endpoint");
    t.fails(await c.sso.register({ ...body, issuer: body.issuer + "/tenant", oidcConfig: { ...body.oidcConfig, discoveryEndpoint: body.issuer + "/.well-known/openid-configuration" } }), 400, "issuer_mismatch", "issuer mismatch");
    t.fails(await c.sso.register({ ...body, oidcConfig: { clientId: "c", skipDiscovery: true } }), 400, null, "no client secret");
    const org = t.ok(await c.organization.create({ name: "Acme", slug: t.slug }), "create organization");
    const outsider = t.client({ browser: t.browser(), plugins });
    await signUp(t, outsider, "outsider");
    t.fails(await outsider.sso.register({ ...body, organizationId: org.id }), 400, null, "not a member");
    t.ok(await c.sso.register(body), "register");
    t.fails(await c.sso.register(body), 422, null, "duplicate providerId");
  }),

  scenario("only a provider's owner reads, changes or deletes it", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const body = await provider(t);
    t.ok(await owner.sso.register(body), "register");
    const other = t.client({ browser: t.browser(), plugins });
    await signUp(t, other, "other");
    t.fails(await other.sso.getProvider({ query: { providerId: body.providerId } }), 403, null, "get");
    t.fails(await other.sso.updateProvider({ providerId: body.providerId, domain: "evil.example" }), 403, null, "update");
    t.fails(await other.sso.deleteProvider({ providerId: body.providerId }), 403, null, "delete");
    t.fails(await other.sso.getProvider({ query: { providerId: "nobody" } }), 404, null, "unknown provider");
    t.equal(t.ok(await other.sso.providers(), "providers").providers, [], "others see none");
  }),

  scenario("sign-in by email domain lands in the provider's organization", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const org = t.ok(await owner.organization.create({ name: "Acme", slug: t.slug }), "create organization");
    const body = await provider(t, { organizationId: org.id });
    t.ok(await owner.sso.register(body), "register");

    const browser = t.browser();
    const signIn = { email: t.email("bob"), callbackURL: "/dashboard", newUserCallbackURL: "/welcome" };
    const res = await t.request("GET", await startUnrecorded(t, browser, signIn), { browser });
    t.equal(res.headers.get("location"), "/welcome", "a new user goes to newUserCallbackURL");
    const bob = t.client({ browser, plugins });
    const s = await sessionOf(t, bob);
    t.equal(s.user.email, t.email("bob"), "signed in as the provider's user");
    t.equal(s.user.emailVerified, false, "the provider's email_verified is not trusted by default");
    const members = t.ok(await owner.organization.listMembers({ query: { organizationId: org.id, sortBy: "createdAt" } }), "list-members");
    t.equal(members.members.find((m) => m.user.email === t.email("bob"))?.role, "member", "provisioned as member");

    const again = t.browser();
    const second = await t.request("GET", await startUnrecorded(t, again, { ...signIn, email: t.email("bob") }), { browser: again });
    t.equal(second.headers.get("location"), "/dashboard", "a returning user goes to callbackURL");
  }),

  scenario("the callback's state works once", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const body = await provider(t);
    t.ok(await owner.sso.register(body), "register");
    const browser = t.browser();
    const path = await startUnrecorded(t, browser, { providerId: body.providerId, loginHint: t.email("bob"), callbackURL: "/dashboard" });
    t.equal((await t.request("GET", path, { browser })).status, 302, "first callback");
    const replay = await t.request("GET", path, { browser });
    t.assert(/error=state_mismatch/.test(replay.headers.get("location")), `replay: ${replay.headers.get("location")}`);
  }),

  scenario("sign-in/sso and the callback refuse what they cannot use", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const body = await provider(t);
    t.ok(await owner.sso.register(body), "register");
    t.ok(await owner.sso.register({ providerId: body.providerId + "-bare", issuer: body.issuer, domain: "bare." + body.domain }), "register without OIDC");
    const c = t.client({ browser: t.browser(), plugins });
    t.fails(await c.signIn.sso({ callbackURL: "/" }), 400, null, "nothing to find a provider by");
    t.fails(await c.signIn.sso({ email: "bob@elsewhere.example", callbackURL: "/" }), 404, null, "unknown domain");
    t.fails(await c.signIn.sso({ organizationSlug: "nobody", callbackURL: "/" }), 400, null, "unknown organization");
    t.fails(await c.signIn.sso({ providerId: body.providerId + "-bare", callbackURL: "/" }), 400, null, "provider without OIDC");
    t.fails(await c.signIn.sso({ providerId: body.providerId, callbackURL: "https://evil.example/" }), 403, "INVALID_CALLBACK_URL", "foreign callbackURL");
    t.fails(await c.signIn.sso({ providerId: body.providerId, callbackURL: "/", additionalParams: { nonce: "x" } }), 400, "VALIDATION_ERROR", "reserved parameter");
    t.fails(await c.signIn.sso({ providerId: body.providerId, callbackURL: "/", providerType: "saml" }), 400, null, "no SAML");

    const state = await t.request("GET", `/sso/callback/${body.providerId}?code=x`);
    t.assert(/error=state_not_found/.test(state.headers.get("location")), "no state");
    const bogus = await t.request("GET", `/sso/callback?state=bogus&code=x`);
    t.assert(/error=state_mismatch/.test(bogus.headers.get("location")), "unknown state at the shared callback");

    // The user refuses at the provider: its error reaches errorCallbackURL.
    const browser = t.browser();
    const path = await startUnrecorded(t, browser, { providerId: body.providerId, loginHint: t.email("bob"), callbackURL: "/", errorCallbackURL: "/sso-error" });
    const state2 = new URLSearchParams(path.split("?")[1]).get("state");
    const denied = await t.request("GET", `/sso/callback/${body.providerId}?state=${state2}&error=access_denied`, { browser });
    t.equal(denied.headers.get("location"), "/sso-error?error=access_denied&error_description=access_denied", "provider error");
  }),

  deviation("sso-oidc-nonce", "sign-in/sso sends a nonce only from authsidecar", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const body = await provider(t);
    t.ok(await owner.sso.register(body), "register");
    const c = t.client({ browser: t.browser(), plugins });
    const data = t.ok(await c.signIn.sso({ email: t.email("bob"), callbackURL: "/dashboard" }), "sign-in/sso");
    const url = new URL(data.url);
    const q = Object.fromEntries(url.searchParams);
    t.equal(url.origin + url.pathname, body.issuer + "/authorize", "authorization endpoint");
    t.equal(q.client_id, body.oidcConfig.clientId, "client_id");
    t.equal(q.scope, "openid email profile offline_access", "scope");
    t.equal(q.login_hint, t.email("bob"), "login_hint");
    t.equal(q.code_challenge_method, "S256", "PKCE");
    t.equal(t.ours, "nonce" in q, "a nonce exactly from authsidecar");
    const order = ["response_type", "client_id", "state", "scope", "redirect_uri", "login_hint", ...(t.ours ? ["nonce"] : []), "code_challenge_method", "code_challenge"];
    t.equal([...url.searchParams.keys()].join(","), order.join(","), "parameter order");
  }),

  interop("a provider registered through one server is managed through the other", async (t) => {
    const a = t.client({ server: t.a, plugins });
    await signUp(t, a, "owner");
    const b = t.client({ server: t.b, plugins });
    const body = await provider(t);
    t.ok(await a.sso.register(body), "register at a");
    t.equal(t.ok(await b.sso.providers(), "providers at b").providers.length, 1, "listed at b");
    t.ok(await b.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider at b");
    t.ok(await b.sso.updateProvider({ providerId: body.providerId, oidcConfig: { scopes: ["openid", "email"] } }), "update at b");
    t.equal(t.ok(await a.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider at a").oidcConfig.scopes, ["openid", "email"], "a sees b's update");
    // b starts a sign-in with the configuration a stored (not recorded: see sso-oidc-nonce).
    await startUnrecorded(t, t.browser(), { providerId: body.providerId, loginHint: t.email("bob"), callbackURL: "/" }, t.b);
    t.ok(await b.sso.deleteProvider({ providerId: body.providerId }), "delete at b");
    t.fails(await a.sso.getProvider({ query: { providerId: body.providerId } }), 404, null, "gone at a");
  }),
];
