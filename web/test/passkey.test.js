// The passkey namespace of the client against a real sidecar: the options endpoints' JSON (what
// the browser ceremony consumes) and the management calls. The ceremonies themselves (addPasskey,
// signIn.passkey) need a browser and an authenticator; e2e.test.js runs them in Chromium.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createAuthClient, passkeyClient } from "../dist/index.js";
import { cookieFetch, freePort, missingTools, psql, startSidecar } from "./harness.js";

const skip = await missingTools("go", "psql");

// A passkey as the sidecar stored it when a Chromium virtual authenticator registered it (an
// EdDSA key, "none" attestation). The management endpoints never read the key itself.
const recorded = {
  publicKey: "pAEBAycgBiFYIB3hFR3UKnJYiE/PBGhLBLBkrEC0UUBg9uS/LxhqQqSs",
  counter: 1,
  deviceType: "singleDevice",
  backedUp: false,
  transports: "internal",
  aaguid: "01020304-0506-0708-0102-030405060708",
};

describe("passkey client against the sidecar", { skip }, () => {
  let sidecar;
  before(async () => {
    // The app's origin is localhost, the RP ID browsers accept for a local app.
    const port = await freePort();
    sidecar = await startSidecar({ appOrigin: `http://localhost:${port}`, port, env: { PASSKEY_RP_NAME: "Web Tests" } });
  });
  after(async () => {
    await sidecar?.stop();
  });

  let n = 0;
  const newClient = () => {
    const jar = cookieFetch(sidecar.appOrigin);
    const client = createAuthClient({ baseURL: sidecar.url, plugins: [passkeyClient()], fetchOptions: { customFetchImpl: jar } });
    return { client, jar };
  };

  /** userWithPasskey signs up a user and stores one passkey for them, as a registration would. */
  async function userWithPasskey() {
    const { client, jar } = newClient();
    const email = `passkey${++n}-${Date.now()}@example.com`;
    const up = await client.signUp.email({ email, password: "password1234", name: "Pat Key" });
    assert.equal(up.error, null);
    const p = { ...recorded, id: randomBytes(16).toString("hex"), name: "Laptop", userId: up.data.user.id, credentialID: randomBytes(32).toString("base64url") };
    await psql(
      sidecar.databaseURL,
      `INSERT INTO passkey (id, name, "publicKey", "userId", "credentialID", counter, "deviceType", "backedUp", transports, "createdAt", aaguid)
       VALUES ('${p.id}', '${p.name}', '${p.publicKey}', '${p.userId}', '${p.credentialID}', ${p.counter}, '${p.deviceType}', ${p.backedUp}, '${p.transports}', now(), '${p.aaguid}')`,
    );
    return { client, jar, email, passkey: p };
  }

  const descriptor = (p) => ({ id: p.credentialID, transports: [p.transports], type: "public-key" });

  it("answers register options as SimpleWebAuthn's creation options, with the challenge cookie", async () => {
    const { client, jar, email, passkey } = await userWithPasskey();
    const res = await client.$fetch("/passkey/generate-register-options", {
      method: "GET",
      query: { name: "Work laptop", authenticatorAttachment: "platform" },
    });
    assert.equal(res.error, null);
    const o = res.data;
    assert.deepEqual(Object.keys(o), [
      "challenge",
      "rp",
      "user",
      "pubKeyCredParams",
      "timeout",
      "attestation",
      "excludeCredentials",
      "authenticatorSelection",
      "extensions",
      "hints",
    ]);
    assert.match(o.challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(o.rp, { name: "Web Tests", id: "localhost" });
    // The user handle is random, so the authenticator never learns the account's id.
    assert.match(Buffer.from(o.user.id, "base64url").toString(), /^[a-z0-9]{32}$/);
    assert.deepEqual({ name: o.user.name, displayName: o.user.displayName }, { name: "Work laptop", displayName: email });
    assert.deepEqual(o.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257]);
    assert.equal(o.timeout, 60000);
    assert.equal(o.attestation, "none");
    assert.deepEqual(o.excludeCredentials, [descriptor(passkey)], "an authenticator cannot register the same key twice");
    assert.deepEqual(o.authenticatorSelection, {
      residentKey: "preferred",
      userVerification: "preferred",
      authenticatorAttachment: "platform",
      requireResidentKey: false,
    });
    assert.deepEqual(o.extensions, { credProps: true });
    assert.deepEqual(o.hints, []);
    assert.match(jar.jar.get("better-auth.better-auth-passkey") ?? "", /^[A-Za-z0-9_-]{32}\.[A-Za-z0-9%_+/=-]+$/);

    const signedOut = await newClient().client.$fetch("/passkey/generate-register-options", { method: "GET" });
    assert.equal(signedOut.error.status, 401);
  });

  it("offers any passkey to a signed-out visitor and only the user's own when signed in", async () => {
    const visitor = newClient();
    const open = await visitor.client.$fetch("/passkey/generate-authenticate-options", { method: "GET" });
    assert.equal(open.error, null);
    // No allowCredentials: discoverable credentials and autofill need the browser to choose.
    assert.deepEqual(Object.keys(open.data), ["rpId", "challenge", "timeout", "userVerification"]);
    assert.equal(open.data.rpId, "localhost");
    assert.match(open.data.challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(open.data.userVerification, "preferred");
    assert.ok(visitor.jar.jar.has("better-auth.better-auth-passkey"));

    const { client, passkey } = await userWithPasskey();
    await userWithPasskey(); // someone else's passkey, not to be offered
    const mine = await client.$fetch("/passkey/generate-authenticate-options", { method: "GET" });
    assert.deepEqual(mine.data.allowCredentials, [descriptor(passkey)]);
    assert.notEqual(mine.data.challenge, open.data.challenge);
  });

  it("lists, renames and deletes the user's passkeys", async () => {
    const { client, passkey } = await userWithPasskey();
    const list = await client.passkey.listUserPasskeys();
    assert.equal(list.error, null);
    assert.equal(list.data.length, 1);
    const { createdAt, ...row } = list.data[0];
    assert.deepEqual(row, passkey);
    assert.ok(createdAt instanceof Date && Math.abs(createdAt.getTime() - Date.now()) < 60_000);

    const renamed = await client.passkey.updatePasskey({ id: passkey.id, name: "  Phone  " });
    assert.equal(renamed.error, null);
    assert.deepEqual(renamed.data.passkey, { ...list.data[0], name: "Phone" });
    const empty = await client.passkey.updatePasskey({ id: passkey.id, name: "   " });
    assert.equal(empty.error.status, 400);
    assert.equal(empty.error.code, "VALIDATION_ERROR");
    assert.equal((await client.passkey.listUserPasskeys()).data[0].name, "Phone");

    assert.deepEqual(await client.passkey.deletePasskey({ id: passkey.id }), { data: { status: true }, error: null });
    assert.deepEqual(await client.passkey.listUserPasskeys(), { data: [], error: null });
  });

  it("refuses changes to another user's passkey and to one that does not exist", async () => {
    const owner = await userWithPasskey();
    const { client } = await userWithPasskey();
    const { id } = owner.passkey;

    const rename = await client.passkey.updatePasskey({ id, name: "Mine now" });
    assert.equal(rename.error.status, 401);
    assert.equal(rename.error.code, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY");
    assert.deepEqual((await client.passkey.deletePasskey({ id })).error, { status: 401, statusText: "Unauthorized" });
    assert.equal((await owner.client.passkey.listUserPasskeys()).data[0].name, "Laptop", "the owner's passkey is untouched");

    for (const res of [await client.passkey.updatePasskey({ id: "no-such-passkey", name: "X" }), await client.passkey.deletePasskey({ id: "no-such-passkey" })]) {
      assert.equal(res.error.status, 404);
      assert.equal(res.error.code, "PASSKEY_NOT_FOUND");
      assert.equal(res.error.message, "Passkey not found");
    }

    const signedOut = newClient().client;
    assert.equal((await signedOut.passkey.listUserPasskeys()).error.status, 401);
    assert.equal((await signedOut.passkey.deletePasskey({ id })).error.status, 401);
    assert.equal((await owner.client.passkey.listUserPasskeys()).data.length, 1);
  });
});
