// A SAML identity provider for the SAML scenarios: samlify (the library the reference's sso plugin
// is built on, installed with it) signing login responses with the key of lib/saml-idp-*.pem, for
// the service provider a server's metadata route describes.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import samlify from "samlify";

export const idpCert = readFileSync(new URL("./saml-idp-cert.pem", import.meta.url), "utf8");
const idpKey = readFileSync(new URL("./saml-idp-key.pem", import.meta.url), "utf8");
export const idpOrigin = "https://idp.example.com";
export const idpEntityID = `${idpOrigin}/entity`;

// samlify checks what it parses with a schema validator; the IdP here only writes.
samlify.setSchemaValidator({ validate: async () => "SUCCESS_VALIDATE_XML" });

const idp = samlify.IdentityProvider({
  entityID: idpEntityID,
  privateKey: idpKey,
  signingCert: idpCert,
  singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: `${idpOrigin}/sso` }],
  nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
});

// authnRequestOf reads the AuthnRequest id and RelayState of the IdP URL sign-in/sso answered.
export function authnRequestOf(idpURL) {
  const url = new URL(idpURL);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get("SAMLRequest"), "base64")).toString("utf8");
  return { xml, id: /\bID="([^"]+)"/.exec(xml)[1], relayState: url.searchParams.get("RelayState") };
}

// loginResponse is the IdP's signed, base64 Response for email, answering requestID (none: an
// IdP-initiated one) for the service provider whose metadata server serves for providerId.
// change edits the template's values (times, audience) before it is signed.
export async function loginResponse(server, providerId, email, requestID, change = (v) => v) {
  const metadata = await (await fetch(`${server.origin}/api/auth/sso/saml2/sp/metadata?providerId=${encodeURIComponent(providerId)}`)).text();
  const sp = samlify.ServiceProvider({ metadata });
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60_000).toISOString();
  const acs = sp.entityMeta.getAssertionConsumerService("post");
  const values = change({
    ID: "_" + randomBytes(16).toString("hex"),
    AssertionID: "_" + randomBytes(16).toString("hex"),
    Destination: acs,
    Audience: sp.entityMeta.getEntityID(),
    EntityID: sp.entityMeta.getEntityID(),
    SubjectRecipient: acs,
    Issuer: idpEntityID,
    IssueInstant: now.toISOString(),
    AssertionConsumerServiceURL: acs,
    StatusCode: samlify.Constants.StatusCode.Success,
    ConditionsNotBefore: now.toISOString(),
    ConditionsNotOnOrAfter: later,
    SubjectConfirmationDataNotOnOrAfter: later,
    NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    NameID: email,
    InResponseTo: requestID || "",
    AttributeStatement: "",
  });
  // crewjam/saml (ours) requires the AuthnStatement the Web Browser SSO profile asks for, as real
  // IdPs send; samlify escapes tag values, so it goes into the template itself.
  const authn =
    `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${randomBytes(8).toString("hex")}">` +
    "<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>";
  const { context } = await idp.createLoginResponse(sp, { extract: { request: { id: requestID } } }, "post", { email }, {
    customTagReplacement: (template) => ({ id: values.ID, context: samlify.SamlLib.replaceTagsByValue(template.replace("{AuthnStatement}", authn), values) }),
  });
  return context;
}
