// Additional fields and the username plugin (config "fields": testdata/config/fields.json, user and
// session additionalFields and a username entry with length bounds, immutableUsername,
// displayUsernamePattern and its columns renamed by schema). Upstream: packages/better-auth/src/db/schema.ts (parseInputData,
// parseUserOutput), packages/better-auth/src/plugins/username/index.ts and, for the admin routes'
// data, packages/better-auth/src/plugins/admin/routes.ts (createUser, adminUpdateUser).
import pg from "pg";
import { usernameClient } from "better-auth/client/plugins";
import { scenario, deviation, interop } from "../lib/scenario.mjs";
import { password } from "../lib/steps.mjs";

const fields = { config: "fields" };
const plugins = [usernameClient()];

// extras are additional-field values of every type, as a sign-up sends them.
const extras = {
  nickname: "Ty",
  age: 42,
  newsletter: true,
  birthday: "1990-05-17T08:30:00.000Z",
  tags: ["a", "b"],
  scores: [1.5, 2],
  internalNote: "kept from answers (returned: false)",
};

// adminOf signs local up over raw HTTP on t's default browser and gives it the admin role in the
// server's database, as an operator seeds the first admin.
async function adminOf(t, local) {
  const up = await t.request("POST", "/sign-up/email", { json: { email: t.email(local), password, name: local } });
  t.status(up, 200, undefined, "admin sign-up");
  const c = new pg.Client({ connectionString: t.server.databaseURL });
  await c.connect();
  try {
    await c.query(`UPDATE "user" SET role = 'admin' WHERE email = $1`, [t.email(local)]);
  } finally {
    await c.end();
  }
  return up.data.user;
}

export default [
  scenario(
    "additional fields of every type are stored and answered at sign-up, get-session and after updates",
    async (t) => {
      const signUp = await t.request("POST", "/sign-up/email", {
        json: { email: t.email("ty"), password, name: "Ty", ...extras, handle: "ty", plan: "pro" },
      });
      t.status(signUp, 200, undefined, "sign-up");
      t.equal(signUp.data.user.plan, "free", "input: false takes its default on create");
      t.equal("internalNote" in signUp.data.user, false, "returned: false is not answered");
      t.status(await t.request("GET", "/get-session"), 200, undefined, "get-session (cookie cache)");
      t.status(await t.request("GET", "/get-session?disableCookieCache=true"), 200, undefined, "get-session (database)");
      t.status(await t.request("POST", "/update-user", { json: { age: 43, tags: [], nickname: null } }), 200, undefined, "update-user");
      t.status(await t.request("POST", "/update-user", { json: { plan: "pro" } }), 400, "FIELD_NOT_ALLOWED", "update-user with a server-only field");
      t.status(await t.request("POST", "/update-user", { json: { plan: false } }), 400, undefined, "a falsy server-only field is nothing to update");
      t.status(await t.request("GET", "/get-session"), 200, undefined, "get-session after update-user");
      t.status(await t.request("POST", "/update-session", { json: { device: "phone" } }), 200, undefined, "update-session");
      t.status(await t.request("POST", "/update-session", { json: {} }), 400, undefined, "update-session with nothing");
      t.status(await t.request("GET", "/list-sessions"), 200, undefined, "list-sessions");
      t.status(await t.request("GET", "/get-session?disableCookieCache=true"), 200, undefined, "get-session after update-session");
    },
    fields,
  ),

  scenario(
    "a unique additional field taken by another user fails the sign-up as upstream",
    async (t) => {
      const handle = "uno";
      t.status(await t.request("POST", "/sign-up/email", { json: { email: t.email("uno"), password, name: "Uno", handle } }), 200, undefined, "first");
      const second = await t.request("POST", "/sign-up/email", { json: { email: t.email("dos"), password, name: "Dos", handle }, browser: t.browser() });
      t.status(second, 422, "FAILED_TO_CREATE_USER", "second with the same handle");
    },
    fields,
  ),

  scenario(
    "username sign-up, sign-in, availability and upstream's refusals",
    async (t) => {
      const c = t.client({ plugins });
      const name = "Una.User";
      t.equal(t.ok(await c.isUsernameAvailable({ username: name }), "available before"), { available: true }, "free");
      const up = t.ok(await c.signUp.email({ email: t.email("una"), password, name: "Una", username: name }), "sign-up with a username");
      t.equal([up.user.username, up.user.displayUsername], [name.toLowerCase(), name], "normalised, displayed as typed");
      t.equal(t.ok(await c.isUsernameAvailable({ username: name.toUpperCase() }), "available after"), { available: false }, "taken in any case");
      const other = t.client({ plugins, browser: t.browser() });
      t.fails(await other.signUp.email({ email: t.email("dup"), password, name: "Dup", username: name }), 400, "USERNAME_IS_ALREADY_TAKEN", "sign-up with a taken username");
      t.fails(await other.signUp.email({ email: t.email("sho"), password, name: "Sho", username: "abc" }), 400, "USERNAME_TOO_SHORT", "too short");
      t.fails(await other.signUp.email({ email: t.email("bad"), password, name: "Bad", username: "bad name" }), 400, "INVALID_USERNAME", "invalid characters");
      t.fails(await other.isUsernameAvailable({ username: "x".repeat(21) }), 422, "USERNAME_TOO_LONG", "too long");
      t.fails(await other.isUsernameAvailable({ username: "" }), 422, "INVALID_USERNAME", "empty");
      const signIn = t.ok(await other.signIn.username({ username: name.toUpperCase(), password, callbackURL: "/home" }), "sign-in/username");
      t.equal(signIn.user.id, up.user.id, "the user");
      t.fails(await other.signIn.username({ username: name, password: "wrong-password-1" }), 401, "INVALID_USERNAME_OR_PASSWORD", "wrong password");
      t.fails(await other.signIn.username({ username: "nobody_here", password }), 401, "INVALID_USERNAME_OR_PASSWORD", "unknown username");
      t.fails(await other.signIn.username({ username: "ab", password }), 422, "USERNAME_TOO_SHORT", "too short at sign-in");
      const third = t.client({ plugins, browser: t.browser() });
      t.ok(await third.signUp.email({ email: t.email("tri"), password, name: "Tri", username: "tri_user" }), "another user");
      t.fails(await third.updateUser({ username: name }), 400, "USERNAME_IS_IMMUTABLE", "update-user to another username once one is set (immutableUsername)");
      t.ok(await c.updateUser({ username: name, displayUsername: "Shown" }), "update-user to one's own username");
      const fourth = t.client({ plugins, browser: t.browser() });
      t.ok(await fourth.signUp.email({ email: t.email("fou"), password, name: "Fou" }), "a user without a username");
      t.fails(await fourth.updateUser({ username: name }), 400, "USERNAME_IS_ALREADY_TAKEN", "update-user to another's username");
      t.ok(await fourth.updateUser({ username: "Four_User" }), "update-user sets a first username");
      t.fails(await fourth.updateUser({ username: "five_user" }), 400, "USERNAME_IS_IMMUTABLE", "and may not change it");
      t.fails(await fourth.updateUser({ displayUsername: "<b>Four</b>" }), 400, "INVALID_DISPLAY_USERNAME", "a displayUsername displayUsernamePattern refuses");
      t.ok(await fourth.updateUser({ displayUsername: "Four!" }), "one it takes");
      const fifth = t.client({ plugins, browser: t.browser() });
      t.fails(await fifth.signUp.email({ email: t.email("fif"), password, name: "Fif", displayUsername: "<i>Fif</i>" }), 400, "INVALID_DISPLAY_USERNAME", "sign-up with a displayUsername refused");
      t.fails(await fifth.signUp.email({ email: t.email("fif"), password, name: "Fif", username: "fifth_user", displayUsername: "<i>" }), 400, "INVALID_DISPLAY_USERNAME", "and with a username too");
    },
    fields,
  ),

  scenario(
    "admin create-user and update-user write additional fields, server-only ones included, and the username from data",
    async (t) => {
      const adm = await adminOf(t, "adm");
      const create = (local, data) => t.request("POST", "/admin/create-user", { json: { email: t.email(local), name: local, data } });
      const made = await create("made", { ...extras, plan: "pro", username: "Made.User" });
      t.status(made, 200, undefined, "create-user with fields, a server-only one and a username");
      t.equal([made.data.user.plan, made.data.user.displayUsername, "internalNote" in made.data.user], ["pro", "Made.User", false], "server-only written, displayUsername as typed, returned: false hidden");
      t.status(await create("drop", { bogus: 1, password: "not-a-field-1", name: "Other", email: t.email("other") }), 200, undefined, "keys no user field has are dropped; name and email give way to the body's");
      t.status(await create("core", { createdAt: "2001-01-01T00:00:00.000Z", twoFactorEnabled: true, image: "https://example.com/i.png", locale: null }), 200, undefined, "core fields; a null required field takes its default");
      t.status(await create("disp", { displayUsername: "Disp" }), 200, undefined, "displayUsername alone");
      t.status(await create("chosen", { id: "chosen-id-1" }), 200, undefined, "an id of the admin's choosing");
      t.status(await create("short", { username: "abc" }), 400, "USERNAME_TOO_SHORT", "a username too short");
      t.status(await create("taken", { username: "made.user" }), 400, "USERNAME_IS_ALREADY_TAKEN", "a username taken");
      t.status(await create("baddisp", { username: "bad_disp", displayUsername: "<b>" }), 400, "INVALID_DISPLAY_USERNAME", "a displayUsername refused beside a username");
      const id = made.data.user.id;
      const update = (data) => t.request("POST", "/admin/update-user", { json: { userId: id, data } });
      t.status(await update({ nickname: "X", plan: "gold", internalNote: "n2", age: 5, tags: [] }), 200, undefined, "update-user with fields and a server-only one");
      t.status(await update({ bogus: 1 }), 200, undefined, "nothing but an unknown key");
      t.status(await update({ username: "made.user" }), 400, "USERNAME_IS_ALREADY_TAKEN", "the user's own username again (upstream lets only the admin's own pass)");
      t.status(await update({ username: "New_Name" }), 200, undefined, "a new username, normalised");
      t.status(await update({ username: "ab" }), 400, "USERNAME_TOO_SHORT", "a username too short");
      t.status(await update({ displayUsername: "<b>Shown</b>" }), 200, undefined, "displayUsername alone, which upstream's hook does not check");
      t.status(await update({ username: "Other_Name" }), 200, undefined, "admins are not bound by immutableUsername");
      t.status(await update({ createdAt: "2001-01-01T00:00:00.000Z", twoFactorEnabled: true, emailVerified: true }), 200, undefined, "core fields");
      t.status(await t.request("POST", "/admin/update-user", { json: { userId: "nobody", data: { username: "ab" } } }), 404, "USER_NOT_FOUND", "no such user before a bad username");
      t.status(await t.request("GET", `/admin/get-user?id=${id}`), 200, undefined, "get-user hides returned: false");
      t.status(await t.request("GET", `/admin/list-users?searchValue=${encodeURIComponent(t.email("made"))}&searchField=email`), 200, undefined, "list-users hides returned: false");
      t.status(await t.request("POST", "/admin/list-user-sessions", { json: { userId: adm.id } }), 200, undefined, "list-user-sessions answers session fields");
    },
    fields,
  ),

  deviation(
    "additional-field-types",
    "an additional field sent with a value of another type",
    async (t) => {
      const res = await t.request("POST", "/sign-up/email", { json: { email: t.email("typ"), password, name: "Typ", age: "forty" } });
      if (t.ours) t.status(res, 400, "VALIDATION_ERROR", "a string for a number");
      else t.status(res, 422, "FAILED_TO_CREATE_USER", "Postgres refuses the string");
      const text = await t.request("POST", "/sign-up/email", { json: { email: t.email("num"), password, name: "Num", nickname: 7 }, browser: t.browser() });
      if (t.ours) t.status(text, 400, "VALIDATION_ERROR", "a number for a string");
      else t.status(text, 200, undefined, "upstream stores the number as text");
      await adminOf(t, "adm");
      const create = (local, data) => t.request("POST", "/admin/create-user", { json: { email: t.email(local), name: local, data } });
      const bad = await create("bad", { age: "forty" });
      if (t.ours) t.status(bad, 400, "VALIDATION_ERROR", "admin create-user: a string for a number");
      else t.equal(bad.status, 500, "admin create-user: Postgres refuses the string");
      const num = await create("numtext", { nickname: 7 });
      if (t.ours) t.status(num, 400, "VALIDATION_ERROR", "admin create-user: a number for a string");
      else t.status(num, 200, undefined, "admin create-user: upstream stores the number as text");
      const first = await create("first", { handle: "admin-handle" });
      t.status(first, 200, undefined, "a handle");
      const second = await create("second", { handle: "admin-handle" });
      if (t.ours) t.status(second, 422, "FAILED_TO_CREATE_USER", "admin create-user: a unique field taken");
      else t.equal(second.status, 500, "admin create-user: the unique violation");
      const update = (data) => t.request("POST", "/admin/update-user", { json: { userId: first.data.user.id, data } });
      for (const [data, what] of [[{ age: "x" }, "a string for a number"], [{ locale: null }, "null for a required field"]]) {
        const res = await update(data);
        if (t.ours) t.status(res, 400, "VALIDATION_ERROR", `admin update-user: ${what}`);
        else t.equal(res.status, 500, `admin update-user: ${what}`);
      }
      const other = await create("other", {});
      const taken = await t.request("POST", "/admin/update-user", { json: { userId: other.data.user.id, data: { handle: "admin-handle" } } });
      if (t.ours) t.status(taken, 422, "FAILED_TO_UPDATE_USER", "admin update-user: a unique field taken");
      else t.equal(taken.status, 500, "admin update-user: the unique violation");
    },
    fields,
  ),

  interop(
    "a user with additional fields and a username made on one server signs in on the other",
    async (t) => {
      const onA = t.client({ server: t.a, plugins });
      const name = `ivy.${t.tag}`; // one database for both directions (the tag reads as <tag>)
      const up = t.ok(await onA.signUp.email({ email: t.email("ivy"), password, name: "Ivy", username: name, ...extras }), "sign-up on a");
      const onB = t.client({ server: t.b, plugins, browser: t.browser() });
      const inB = t.ok(await onB.signIn.username({ username: name, password }), "sign-in/username on b");
      t.equal(inB.user, up.user, "the same user, fields and username included");
      t.ok(await onB.updateUser({ nickname: "Ivy B", tags: ["c"] }), "update-user on b");
      t.ok(await onB.updateSession({ device: "tablet" }), "update-session on b");
      const onA2 = t.client({ server: t.a, plugins, browser: t.browser() });
      t.ok(await onA2.signIn.username({ username: name, password }), "sign-in/username on a");
      const s = t.ok(await onA2.getSession({ query: { disableCookieCache: true } }), "get-session on a");
      t.equal([s.user.nickname, s.user.tags, s.user.username], ["Ivy B", ["c"], name], "a reads b's update");
    },
    fields,
  ),
];
