// The client's mail-driven calls against the sidecar: password reset, email verification, magic
// link and email OTP. The sidecar's development mail sink writes each mail as a JSON line to
// MAIL_LOG, where the tests pick up the tokens a user would click.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createAuthClient, emailOTPClient, magicLinkClient } from "../dist/index.js";
import { cookieFetch, missingTools, startSidecar } from "./harness.js";

const skip = await missingTools("go", "psql");

describe("mail flows through the client", { skip }, () => {
  let sidecar;
  before(async () => {
    sidecar = await startSidecar();
  });
  after(async () => {
    await sidecar?.stop();
  });
  const waitMail = (type, addr) => sidecar.mail.wait(type, addr);

  let n = 0;
  const email = () => `mail${++n}-${Date.now()}@example.com`;
  const newClient = () => {
    const jar = cookieFetch(sidecar.appOrigin);
    return createAuthClient({ baseURL: sidecar.url, fetchOptions: { customFetchImpl: jar }, plugins: [magicLinkClient(), emailOTPClient()] });
  };

  it("resets a password with the mailed token, once", async () => {
    const addr = email();
    await newClient().signUp.email({ email: addr, password: "password1234", name: "Hal" });
    const req = await newClient().requestPasswordReset({ email: addr, redirectTo: "/reset-password" });
    assert.equal(req.error, null);
    assert.equal(req.data.status, true);
    const { token } = await waitMail("reset-password", addr);

    const client = newClient();
    assert.deepEqual((await client.resetPassword({ newPassword: "brand-new-pass1", token })).data, { status: true });
    const again = await client.resetPassword({ newPassword: "brand-new-pass2", token });
    assert.equal(again.error.status, 400);
    assert.equal(again.error.code, "INVALID_TOKEN");
    assert.equal((await newClient().signIn.email({ email: addr, password: "brand-new-pass1" })).error, null);
  });

  it("verifies an email with the mailed link's token", async () => {
    const addr = email();
    const client = newClient();
    await client.signUp.email({ email: addr, password: "password1234", name: "Ida" });
    assert.equal((await client.getSession()).data.user.emailVerified, false);
    assert.equal((await client.sendVerificationEmail({ email: addr })).data.status, true);
    const { token } = await waitMail("verify-email", addr);
    const res = await client.verifyEmail({ query: { token } });
    assert.equal(res.error, null);
    assert.equal(res.data.status, true);
    assert.equal((await client.getSession({ query: { disableCookieCache: true } })).data.user.emailVerified, true);
  });

  it("signs in with a magic link", async () => {
    const addr = email();
    const client = newClient();
    assert.deepEqual((await client.signIn.magicLink({ email: addr, name: "Joe" })).data, { status: true });
    const { token } = await waitMail("magic-link", addr);
    const res = await client.magicLink.verify({ query: { token } });
    assert.equal(res.error, null);
    assert.equal(res.data.user.email, addr);
    assert.ok(res.data.session.expiresAt instanceof Date);
    assert.equal((await client.getSession()).data.user.name, "Joe");
  });

  it("signs in with an emailed one-time code and refuses a wrong one", async () => {
    const addr = email();
    const client = newClient();
    const sent = await client.emailOtp.sendVerificationOtp({ email: addr, type: "sign-in" });
    assert.deepEqual(sent.data, { success: true });
    const { otp } = await waitMail("email-otp", addr);
    const wrong = await client.signIn.emailOtp({ email: addr, otp: otp === "000000" ? "111111" : "000000" });
    assert.equal(wrong.error.code, "INVALID_OTP");
    const res = await client.signIn.emailOtp({ email: addr, otp });
    assert.equal(res.error, null);
    assert.equal(res.data.user.email, addr);
    assert.equal((await client.getSession()).data.user.email, addr);
  });
});
