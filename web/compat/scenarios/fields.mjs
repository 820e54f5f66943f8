// Additional fields and the username plugin (config "fields": testdata/config/fields.json, user and
// session additionalFields and {"id": "username", "minUsernameLength": 4, "maxUsernameLength": 20}). Upstream: packages/better-auth/src/db/schema.ts (parseInputData,
// parseUserOutput) and packages/better-auth/src/plugins/username/index.ts.
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
      t.fails(await third.updateUser({ username: name }), 400, "USERNAME_IS_ALREADY_TAKEN", "update-user to another's username");
      t.ok(await c.updateUser({ username: name, displayUsername: "Shown" }), "update-user to one's own username");
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
