// Steps that scenarios of every feature share.

// password is every scenario account's password.
export const password = "correct-horse-1";

// signUp creates an account through client c (its browser is then signed in) and returns the data.
export async function signUp(t, c, local, extra = {}) {
  const email = t.email(local);
  const data = t.ok(await c.signUp.email({ email, password, name: local, ...extra }), "sign-up");
  t.equal(data.user.email, email, "signed-up email");
  return data;
}

// signUpRaw does the same over raw HTTP with t's default browser.
export async function signUpRaw(t, local) {
  const r = await t.request("POST", "/sign-up/email", { json: { email: t.email(local), password, name: local } });
  t.status(r, 200, undefined, "sign-up");
  return r.data;
}

// sessionOf asserts c's browser is signed in and returns its session.
export async function sessionOf(t, c, what = "get-session") {
  const data = t.ok(await c.getSession(), what);
  t.assert(data && data.session && data.user, `${what}: want a session, got ${JSON.stringify(data)}`);
  return data;
}

// signedOut asserts c's browser has no session.
export async function signedOut(t, c, what = "get-session") {
  t.equal(t.ok(await c.getSession(), what), null, `${what}: want no session`);
}
