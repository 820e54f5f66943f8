// Passkeys: the ceremonies over raw HTTP with a software authenticator (lib/authenticator.mjs; the
// official client needs a browser's navigator.credentials for them), management through the
// official @better-auth/passkey client, and a passkey registered on one server signing in on the
// other. Both servers have the relying party ID "localhost" (lib/servers.mjs).
import { passkeyClient } from "@better-auth/passkey/client";
import { scenario, deviation, interop } from "../lib/scenario.mjs";
import { SoftAuthenticator } from "../lib/authenticator.mjs";
import { sessionOf, signedOut, signUp } from "../lib/steps.mjs";

const plugins = [passkeyClient()];

// register makes a passkey for the signed-in browser on server and returns it as verify-registration
// answered.
async function register(t, authenticator, { server = t.server, browser, name } = {}) {
  const options = await t.request("GET", "/passkey/generate-register-options", { server, browser });
  t.status(options, 200, undefined, "generate-register-options");
  const response = authenticator.register(options.data, server.origin);
  const r = await t.request("POST", "/passkey/verify-registration", { server, browser, json: { response, ...(name && { name }) } });
  t.status(r, 200, undefined, "verify-registration");
  return r.data;
}

// signIn signs in with a passkey on server in browser and returns verify-authentication's answer.
async function signIn(t, authenticator, { server = t.server, browser } = {}) {
  const options = await t.request("GET", "/passkey/generate-authenticate-options", { server, browser });
  t.status(options, 200, undefined, "generate-authenticate-options");
  return t.request("POST", "/passkey/verify-authentication", { server, browser, json: { response: authenticator.assert(options.data, server.origin) } });
}

export default [
  scenario("a passkey is registered and signs in", async (t) => {
    const authenticator = new SoftAuthenticator();
    await signUp(t, t.client(), "pat");
    const created = await register(t, authenticator, { name: "laptop" });
    t.equal([created.name, created.credentialID, created.counter], ["laptop", authenticator.id, 1], "the passkey");

    const browser = t.browser();
    const r = await signIn(t, authenticator, { browser });
    t.status(r, 200, undefined, "verify-authentication");
    t.equal(r.data.user?.email, t.email("pat"), "signed-in user");
    const s = await sessionOf(t, t.client({ browser }));
    t.equal(s.user.email, t.email("pat"), "session");
  }),

  scenario("registration options name the user and exclude its passkeys", async (t) => {
    await signUp(t, t.client(), "quo");
    const first = await t.request("GET", "/passkey/generate-register-options?authenticatorAttachment=platform&name=Quo%20K");
    t.status(first, 200);
    t.equal([first.data.rp, first.data.user.name, first.data.excludeCredentials], [{ name: "Better Auth", id: "localhost" }, "Quo K", []], "options");
    t.assert(t.lastCookies()["better-auth.better-auth-passkey"], "challenge cookie");
    const authenticator = new SoftAuthenticator();
    await register(t, authenticator);
    const second = await t.request("GET", "/passkey/generate-register-options");
    t.equal(second.data.excludeCredentials.map((c) => c.id), [authenticator.id], "excluded");
    t.status(await t.request("GET", "/passkey/generate-register-options?authenticatorAttachment=usb"), 400, "VALIDATION_ERROR", "a bad attachment");
    t.status(await t.request("GET", "/passkey/generate-register-options", { browser: t.browser() }), 401, undefined, "signed out");
  }),

  scenario("authentication options list the signed-in user's passkeys", async (t) => {
    const anonymous = await t.request("GET", "/passkey/generate-authenticate-options", { browser: t.browser() });
    t.status(anonymous, 200);
    t.equal([anonymous.data.rpId, anonymous.data.userVerification, anonymous.data.allowCredentials], ["localhost", "preferred", undefined], "without a session");
    await signUp(t, t.client(), "rae");
    const authenticator = new SoftAuthenticator();
    await register(t, authenticator);
    const mine = await t.request("GET", "/passkey/generate-authenticate-options");
    t.equal(mine.data.allowCredentials?.map((c) => c.id), [authenticator.id], "with a session");
  }),

  scenario("verify-registration refuses a bad answer", async (t) => {
    await signUp(t, t.client(), "sid");
    const authenticator = new SoftAuthenticator();
    t.status(await t.request("POST", "/passkey/verify-registration", { json: { response: authenticator.register({ challenge: "x", rp: { id: "localhost" }, user: { id: "dQ" } }, t.server.origin) } }), 400, "CHALLENGE_NOT_FOUND", "no challenge asked for");
    t.status(await t.request("POST", "/passkey/verify-registration", { json: {} }), 400, "VALIDATION_ERROR", "no response");
    t.equal(t.ok(await t.client({ plugins }).passkey.listUserPasskeys(), "list").length, 0, "nothing stored");
  }),

  deviation("no-500-for-bad-input", "verify-registration answers a credential it cannot verify with 400, not 500", async (t) => {
    await signUp(t, t.client(), "sol");
    const authenticator = new SoftAuthenticator();
    const cases = {
      "another RP ID": (o) => authenticator.register({ ...o, rp: { id: "evil.example" } }, t.server.origin),
      "another origin": (o) => authenticator.register(o, "https://evil.example"),
      "another challenge": (o) => authenticator.register({ ...o, challenge: "AAAA" }, t.server.origin),
    };
    for (const [what, answer] of Object.entries(cases)) {
      const options = await t.request("GET", "/passkey/generate-register-options");
      const r = await t.request("POST", "/passkey/verify-registration", { json: { response: answer(options.data) } });
      t.status(r, t.ours ? 400 : 500, "FAILED_TO_VERIFY_REGISTRATION", what);
    }
    t.equal(t.ok(await t.client({ plugins }).passkey.listUserPasskeys(), "list").length, 0, "nothing stored");
  }),

  scenario("verify-authentication refuses an unknown passkey, a wrong challenge and a replayed answer", async (t) => {
    await signUp(t, t.client({ browser: t.browser() }), "tia");
    const stranger = new SoftAuthenticator();
    const unknown = await signIn(t, stranger);
    t.status(unknown, 401, "PASSKEY_NOT_FOUND", "unknown passkey");

    const browser = t.browser();
    const owner = t.client({ browser });
    t.ok(await owner.signIn.email({ email: t.email("tia"), password: "correct-horse-1" }), "sign-in");
    const authenticator = new SoftAuthenticator();
    await register(t, authenticator, { browser });

    const other = t.browser();
    const options = await t.request("GET", "/passkey/generate-authenticate-options", { browser: other });
    const wrongChallenge = authenticator.assert(options.data, t.server.origin, { challenge: "AAAA" });
    t.status(await t.request("POST", "/passkey/verify-authentication", { browser: other, json: { response: wrongChallenge } }), 400, "AUTHENTICATION_FAILED", "wrong challenge");
    const fresh = await t.request("GET", "/passkey/generate-authenticate-options", { browser: other });
    const answer = authenticator.assert(fresh.data, t.server.origin);
    t.status(await t.request("POST", "/passkey/verify-authentication", { browser: other, json: { response: answer } }), 200, undefined, "the right answer");
    t.status(await t.request("POST", "/passkey/verify-authentication", { browser: other, json: { response: answer } }), 400, "CHALLENGE_NOT_FOUND", "the same answer again");
    await signedOut(t, t.client({ browser: t.browser() }));
  }),

  scenario("passkeys are listed, renamed and deleted through the official client", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "uli");
    const authenticator = new SoftAuthenticator();
    const created = await register(t, authenticator, { name: "phone" });
    const list = t.ok(await c.passkey.listUserPasskeys(), "list-user-passkeys");
    t.equal(list.map((p) => [p.id, p.name]), [[created.id, "phone"]], "listed");
    const updated = t.ok(await c.passkey.updatePasskey({ id: created.id, name: "old phone" }), "update-passkey");
    t.equal(updated.passkey.name, "old phone", "renamed");
    t.fails(await c.passkey.updatePasskey({ id: "nope", name: "x" }), 404, "PASSKEY_NOT_FOUND", "rename an unknown passkey");
    t.fails(await c.passkey.deletePasskey({ id: "nope" }), 404, "PASSKEY_NOT_FOUND", "delete an unknown passkey");

    const other = t.client({ plugins, browser: t.browser() });
    await signUp(t, other, "vik");
    t.fails(await other.passkey.updatePasskey({ id: created.id, name: "mine now" }), 401, undefined, "rename another user's passkey");
    t.fails(await other.passkey.deletePasskey({ id: created.id }), 401, undefined, "delete another user's passkey");

    t.equal(t.ok(await c.passkey.deletePasskey({ id: created.id }), "delete-passkey"), { status: true }, "deleted");
    t.equal(t.ok(await c.passkey.listUserPasskeys(), "list-user-passkeys").length, 0, "none left");
    t.status(await signIn(t, authenticator, { browser: t.browser() }), 401, "PASSKEY_NOT_FOUND", "a deleted passkey");
    t.fails(await t.client({ plugins, browser: t.browser() }).passkey.listUserPasskeys(), 401, "UNAUTHORIZED", "signed out");
  }),

  interop("a passkey registered on one server signs in on the other", async (t) => {
    const authenticator = new SoftAuthenticator();
    const browser = t.browser();
    t.ok(await t.client({ server: t.a, browser }).signUp.email({ email: t.email("wyn"), password: "correct-horse-1", name: "wyn" }), "sign-up on a");
    const created = await register(t, authenticator, { server: t.a, browser });
    const other = t.browser();
    const r = await signIn(t, authenticator, { server: t.b, browser: other });
    t.status(r, 200, undefined, "verify-authentication on b");
    t.equal(r.data.user.email, t.email("wyn"), "the user");
    const list = t.ok(await t.client({ server: t.b, browser: other, plugins }).passkey.listUserPasskeys(), "list on b");
    t.equal(list.map((p) => [p.id, p.counter]), [[created.id, 2]], "b counted the use");
    t.status(await signIn(t, authenticator, { server: t.a, browser: t.browser() }), 200, undefined, "and again on a");
  }),
];
