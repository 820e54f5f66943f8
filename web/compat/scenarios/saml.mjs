// Enterprise SSO (SAML): provider registration and management with a samlConfig, the SP metadata,
// sign-in/sso's redirect to the IdP, and the error answers of the ACS and the logout routes.
//
// Signed responses come from lib/samlidp.mjs (samlify, as the reference uses); the attacks on
// them are proven by the Go suite (samlattacks_test.go). sign-in/sso answers an AuthnRequest with
// a random id and timestamp, so it is started without recording and asserted on each server.
import { ssoClient } from "@better-auth/sso/client";
import { organizationClient } from "better-auth/client/plugins";
import { scenario, deviation, interop } from "../lib/scenario.mjs";
import { signUp, sessionOf } from "../lib/steps.mjs";
import { idpCert as cert, idpOrigin as idp, idpEntityID, authnRequestOf, loginResponse } from "../lib/samlidp.mjs";

const plugins = [ssoClient(), organizationClient()];

// provider is a SAML registration for this run's email domain, its IdP configured by hand.
function provider(t, saml = {}, extra = {}) {
  const id = `${t.slug}${t.tag ? "-" + t.tag : ""}`;
  return {
    providerId: id,
    issuer: `https://sp.example.com/${id}`,
    domain: t.email("x").split("@")[1],
    samlConfig: { entryPoint: `${idp}/sso`, cert, idpMetadata: { entityID: idpEntityID }, ...saml },
    ...extra,
  };
}

// startUnrecorded posts sign-in/sso without recording it and returns the IdP URL's AuthnRequest
// (inflated, and its id) and RelayState, after asserting what both servers must answer.
async function startUnrecorded(t, body, server = t.server, browser = t.browser()) {
  const res = await browser.fetch(
    server.origin + "/api/auth/sign-in/sso",
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
    { origin: server.origin },
  );
  const data = await res.json();
  t.equal(res.status, 200, `sign-in/sso status (${JSON.stringify(data)})`);
  t.equal(data.redirect, true, "sign-in/sso redirect");
  const url = new URL(data.url);
  t.equal(url.origin + url.pathname, `${idp}/sso`, "the IdP's entry point");
  t.assert(url.searchParams.get("RelayState"), "a RelayState");
  const { xml, id, relayState } = authnRequestOf(data.url);
  return { request: xml, id, relayState };
}

// signInAt runs a browser's whole sign-in: sign-in/sso at start (unrecorded), the IdP's signed
// response posted to acsServer's ACS cross-site (recorded); it returns the ACS's answer.
async function signInAt(t, body, email, { start = t.server, acsServer = t.server, browser = t.browser(), change } = {}) {
  const { id, relayState } = await startUnrecorded(t, body, start, browser);
  const SAMLResponse = await loginResponse(acsServer, body.providerId, email, id, change);
  return t.request("POST", acs(body.providerId), { ...form({ SAMLResponse, RelayState: relayState }), origin: idp, server: acsServer, browser });
}

const acs = (id) => `/sso/saml2/sp/acs/${id}`;
const form = (fields) => ({ body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });

export default [
  scenario("a SAML provider is registered, listed, read, updated and deleted by its owner", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = provider(t, { callbackUrl: "/after-saml", wantAssertionsSigned: true, mapping: { email: "mail", name: "cn" } });
    const reg = t.ok(await c.sso.register(body), "register");
    t.equal(reg.samlConfig.issuer, body.issuer, "the stored samlConfig carries the issuer");
    const list = t.ok(await c.sso.providers(), "providers");
    t.equal(list.providers[0].type, "saml", "listed as saml");
    const got = t.ok(await c.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider");
    t.equal(got.samlConfig.certificate.length, 1, "the certificate described");
    const updated = t.ok(await c.sso.updateProvider({ providerId: body.providerId, samlConfig: { audience: "urn:compat", identifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" } }), "update");
    t.equal(updated.samlConfig.audience, "urn:compat", "audience updated");
    t.fails(await c.sso.updateProvider({ providerId: body.providerId, oidcConfig: { clientId: "x" } }), 400, null, "no OIDC config to update");
    t.ok(await c.sso.deleteProvider({ providerId: body.providerId }), "delete");
  }),

  scenario("a user signs in through the SAML IdP, joins the provider's organization, and the response works once", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const org = t.ok(await owner.organization.create({ name: "Acme", slug: `acme-${t.slug}`.slice(0, 40) }), "organization");
    const body = provider(t, {}, { organizationId: org.id });
    t.ok(await owner.sso.register(body), "register");
    const browser = t.browser();
    const { id, relayState } = await startUnrecorded(t, { providerId: body.providerId, callbackURL: "/dashboard", newUserCallbackURL: "/welcome" }, t.server, browser);
    const SAMLResponse = await loginResponse(t.server, body.providerId, t.email("ada"), id);
    const res = await t.request("POST", acs(body.providerId), { ...form({ SAMLResponse, RelayState: relayState }), origin: idp, browser });
    t.equal(res.status, 302, "signed in");
    t.equal(res.headers.get("location"), "/dashboard", "to callbackURL (upstream's SAML flow has no newUserCallbackURL)");
    const ada = t.client({ browser, plugins });
    t.equal((await sessionOf(t, ada)).user.email, t.email("ada"), "ada's session");
    // (list-members is upstream's in no set order; ada's own organizations are one.)
    const orgs = t.ok(await ada.organization.list(), "ada's organizations");
    t.equal(orgs.map((o) => o.id), [org.id], "ada joined the provider's organization");
    const again = await t.request("POST", acs(body.providerId), { ...form({ SAMLResponse, RelayState: relayState }), origin: idp, browser: t.browser() });
    t.assert(/error=invalid_saml_response/.test(again.headers.get("location")), `the response again: ${again.headers.get("location")}`);
  }),

  deviation("saml-subject-confirmation-expiry", "an assertion past its SubjectConfirmationData NotOnOrAfter is refused", async (t) => {
    const owner = t.client({ plugins });
    await signUp(t, owner, "owner");
    const body = provider(t);
    t.ok(await owner.sso.register(body), "register");
    const expired = (v) => ({ ...v, SubjectConfirmationDataNotOnOrAfter: new Date(Date.now() - 10 * 60_000).toISOString() });
    const res = await signInAt(t, { providerId: body.providerId, callbackURL: "/dashboard" }, t.email("ada"), { change: expired });
    t.equal(res.status, 302, "redirected");
    if (t.ours) t.assert(/error=saml_error/.test(res.headers.get("location")), `refused: ${res.headers.get("location")}`);
    else t.equal(res.headers.get("location"), "/dashboard", "signed in with an expired subject confirmation");
  }),

  scenario("a SAML registration is refused without a certificate source, IdP entity id or known algorithm", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const noCert = provider(t);
    delete noCert.samlConfig.cert;
    t.fails(await c.sso.register(noCert), 400, "CERT_SOURCE_MISSING", "no certificate");
    t.fails(await c.sso.register(provider(t, { signatureAlgorithm: "md5" })), 400, "SAML_UNKNOWN_ALGORITHM", "unknown signature algorithm");
    t.fails(await c.sso.register(provider(t, { digestAlgorithm: "md5" })), 400, "SAML_UNKNOWN_ALGORITHM", "unknown digest algorithm");
    t.fails(await c.sso.register(provider(t, { idpMetadata: { metadata: "x".repeat(102401) } })), 400, null, "IdP metadata too large");
    t.equal(t.ok(await c.sso.providers(), "providers").providers.length, 0, "nothing stored");
  }),

  scenario("the SP metadata of a provider with its own metadata document is that document", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = provider(t);
    const metadata =
      `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${body.issuer}"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
      `<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="1"/></SPSSODescriptor></EntityDescriptor>`;
    body.samlConfig.spMetadata = { metadata };
    t.ok(await c.sso.register(body), "register");
    const res = await t.request("GET", `/sso/saml2/sp/metadata?providerId=${body.providerId}`);
    t.equal(res.status, 200, "metadata status");
    t.equal(res.text, metadata, "the configured document");
    t.status(await t.request("GET", "/sso/saml2/sp/metadata?providerId=nobody"), 404, null, "unknown provider");
  }),

  deviation("saml-metadata-headers", "the SP metadata's security headers", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = provider(t);
    t.ok(await c.sso.register(body), "register");
    const res = await t.request("GET", `/sso/saml2/sp/metadata?providerId=${body.providerId}`);
    t.equal(res.status, 200, "metadata status");
    const csp = res.headers.get("content-security-policy");
    if (t.ours) {
      t.assert(csp?.includes("default-src 'none'"), `CSP ${csp}`);
      t.equal(res.headers.get("x-content-type-options"), "nosniff", "nosniff");
    } else {
      t.equal(csp, null, "no CSP");
    }
  }),

  scenario("sign-in/sso sends the browser to the SAML IdP with an AuthnRequest for our ACS", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = provider(t);
    t.ok(await c.sso.register(body), "register");
    const { request } = await startUnrecorded(t, { email: t.email("ada"), callbackURL: "/dashboard" });
    t.assert(request.includes(`${t.server.origin}/api/auth${acs(body.providerId)}`), `the AuthnRequest names our ACS: ${request}`);
    t.assert(request.includes(body.issuer), "the AuthnRequest is from the provider's SP entity id");
    const b = t.client({ browser: t.browser(), plugins });
    t.fails(await b.signIn.sso({ providerId: body.providerId, callbackURL: "/", additionalParams: { prompt: "login" } }), 400, null, "additionalParams");
    t.fails(await b.signIn.sso({ providerId: body.providerId, callbackURL: "/", providerType: "oidc" }), 400, null, "not an OIDC provider");
  }),

  scenario("the ACS and logout routes answer upstream's errors", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const body = provider(t);
    t.ok(await c.sso.register(body), "register");
    t.status(await t.request("POST", acs(body.providerId), { json: {} }), 400, "VALIDATION_ERROR", "a body without SAMLResponse");
    t.status(await t.request("POST", acs(body.providerId)), 400, null, "no body");
    t.status(await t.request("POST", acs("nobody"), form({ SAMLResponse: "PHg+" })), 404, null, "unknown provider");
    for (const [what, response] of [
      ["not base64", "%%%"],
      ["not XML", Buffer.from("hello").toString("base64")],
      ["no assertion", Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>').toString("base64")],
      [
        "two assertions",
        Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion/><saml:Assertion/></samlp:Response>').toString("base64"),
      ],
      ["unsigned", Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1" Version="2.0"><saml:Assertion ID="a1"/></samlp:Response>').toString("base64")],
    ]) {
      const res = await t.request("POST", acs(body.providerId), { ...form({ SAMLResponse: response }), origin: idp });
      t.equal(res.status, 302, `${what}: redirected`);
    }
    const landing = await t.request("GET", acs(body.providerId), { cookies: false });
    t.equal(landing.status, 302, "ACS by GET without a session");
    t.status(await t.request("GET", `/sso/saml2/sp/slo/${body.providerId}?SAMLRequest=x`), 400, "SINGLE_LOGOUT_NOT_ENABLED", "single logout off");
    t.status(await t.request("POST", `/sso/saml2/sp/slo/${body.providerId}`, form({ SAMLRequest: "x" })), 400, "SINGLE_LOGOUT_NOT_ENABLED", "single logout off (POST)");
    t.fails(await c.$fetch(`/sso/saml2/logout/${body.providerId}`, { method: "POST", body: {} }), 400, "SINGLE_LOGOUT_NOT_ENABLED", "logout with single logout off");
  }),

  deviation("saml-config-readable", "a SAML registration must hold readable certificates, keys and metadata", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "owner");
    const res = await c.sso.register(provider(t, { cert: "not a certificate" }));
    if (t.ours) t.fails(res, 400, "SAML_INVALID_CERTIFICATE", "unreadable certificate");
    else t.ok(res, "registered with an unreadable certificate");
  }),

  deviation(
    "saml-slo-signed",
    "a single-logout request must be signed by the IdP",
    async (t) => {
      const c = t.client({ plugins });
      await signUp(t, c, "owner");
      const body = provider(t, { idpMetadata: { entityID: `${idp}/entity`, singleLogoutService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: `${idp}/slo` }] } });
      t.ok(await c.sso.register(body), "register");
      const request =
        `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr${Date.now()}" Version="2.0" ` +
        `IssueInstant="${new Date().toISOString()}" Destination="${t.server.origin}/api/auth/sso/saml2/sp/slo/${body.providerId}">` +
        `<saml:Issuer>${idp}/entity</saml:Issuer><saml:NameID>${t.email("ada")}</saml:NameID></samlp:LogoutRequest>`;
      const res = await t.request("POST", `/sso/saml2/sp/slo/${body.providerId}`, { ...form({ SAMLRequest: Buffer.from(request).toString("base64") }), origin: idp });
      if (t.ours) t.status(res, 400, "INVALID_LOGOUT_REQUEST", "unsigned LogoutRequest");
      else t.assert(res.status < 400, `unsigned LogoutRequest accepted (${res.status} ${res.text.slice(0, 200)})`);
    },
    { config: "options" },
  ),

  interop("a SAML provider registered through one server signs in through the other", async (t) => {
    const a = t.client({ server: t.a, plugins });
    await signUp(t, a, "owner");
    const b = t.client({ server: t.b, plugins });
    const body = provider(t);
    t.ok(await a.sso.register(body), "register at a");
    t.equal(t.ok(await b.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider at b").type, "saml", "a saml provider at b");
    const { request } = await startUnrecorded(t, { providerId: body.providerId, callbackURL: "/" }, t.b);
    t.assert(request.includes(body.issuer), "b's AuthnRequest is from the SP entity id a stored");
    const meta = await fetch(`${t.b.origin}/api/auth/sso/saml2/sp/metadata?providerId=${body.providerId}`);
    t.equal(meta.status, 200, "b serves the SP metadata");
    t.assert((await meta.text()).includes(body.issuer), "b's metadata names the SP entity id a stored");
    // A sign-in b started (its AuthnRequest and relay state) completes at a's ACS.
    const browser = t.browser();
    const res = await signInAt(t, { providerId: body.providerId, callbackURL: "/dashboard" }, t.email("ada"), { start: t.b, acsServer: t.a, browser });
    t.equal(res.headers.get("location"), "/dashboard", "signed in at a");
    t.equal((await sessionOf(t, t.client({ server: t.b, browser, plugins }))).user.email, t.email("ada"), "the session works at b");
    const format = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    t.fails(await b.sso.updateProvider({ providerId: body.providerId, samlConfig: { identifierFormat: format } }), 409, null, "identity fixed at b once accounts exist");
    t.ok(await b.sso.updateProvider({ providerId: body.providerId, samlConfig: { signatureAlgorithm: "rsa-sha512" } }), "update at b");
    t.equal(t.ok(await a.sso.getProvider({ query: { providerId: body.providerId } }), "get-provider at a").samlConfig.signatureAlgorithm, "rsa-sha512", "a sees b's update");
    t.ok(await b.sso.deleteProvider({ providerId: body.providerId }), "delete at b");
  }),
];
