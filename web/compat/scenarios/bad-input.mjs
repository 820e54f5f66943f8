// Bad requests, sent raw: both servers must refuse them with the same status and code.
import pg from "pg";
import { scenario, deviation } from "../lib/scenario.mjs";
import { password, signUpRaw } from "../lib/steps.mjs";

export default [
  scenario("malformed JSON is a 400 BAD_REQUEST", async (t) => {
    for (const body of ['{"email":', "{'email':'a'}", '{"email":"a@b.co"} trailing', "\u00ff"]) {
      const r = await t.request("POST", "/sign-in/email", { body, headers: { "content-type": "application/json" } });
      t.status(r, 400, "BAD_REQUEST", `body ${JSON.stringify(body)}`);
    }
  }),

  scenario("a body that is not an object is a 400 VALIDATION_ERROR", async (t) => {
    for (const body of ["[]", '"text"', "42", "null", "true"]) {
      const r = await t.request("POST", "/sign-in/email", { body, headers: { "content-type": "application/json" } });
      t.status(r, 400, "VALIDATION_ERROR", `body ${body}`);
    }
  }),

  scenario("missing required fields are a 400 VALIDATION_ERROR", async (t) => {
    t.status(await t.request("POST", "/sign-up/email", { json: {} }), 400, "VALIDATION_ERROR", "sign-up {}");
    t.status(await t.request("POST", "/sign-up/email", { json: { email: t.email("x"), password } }), 400, "VALIDATION_ERROR", "sign-up without name");
    t.status(await t.request("POST", "/sign-in/email", { json: { email: t.email("x") } }), 400, "VALIDATION_ERROR", "sign-in without password");
    t.status(await t.request("POST", "/sign-in/email", {}), 400, "VALIDATION_ERROR", "sign-in without a body");
    t.status(await t.request("POST", "/sign-in/email", { json: { email: null, password } }), 400, "VALIDATION_ERROR", "null email");
  }),

  scenario("fields of the wrong type are a 400 VALIDATION_ERROR", async (t) => {
    const cases = [
      ["/sign-in/email", { email: 1, password }],
      ["/sign-in/email", { email: t.email("x"), password: ["a"] }],
      ["/sign-in/email", { email: t.email("x"), password, rememberMe: "yes" }],
      ["/sign-up/email", { email: t.email("x"), password, name: { first: "x" } }],
    ];
    for (const [path, json] of cases) t.status(await t.request("POST", path, { json }), 400, "VALIDATION_ERROR", `${path} ${JSON.stringify(json)}`);
    await signUpRaw(t, "typed");
    t.status(await t.request("POST", "/change-password", { json: { currentPassword: password, newPassword: 12345678 } }), 400, "VALIDATION_ERROR", "change-password number");
    t.status(await t.request("POST", "/revoke-session", { json: { token: 1 } }), 400, "VALIDATION_ERROR", "revoke-session number");
  }),

  scenario("a callback URL that is not a string is a 400 without a code", async (t) => {
    for (const callbackURL of [5, true, ["/a"], { a: 1 }]) {
      const r = await t.request("POST", "/sign-in/email", { json: { email: t.email("x"), password, callbackURL } });
      t.status(r, 400, null, `callbackURL ${JSON.stringify(callbackURL)}`);
      t.equal(r.data.message, "Invalid callbackURL: expected a string", "message");
    }
  }),

  // Upstream's origin check tests `callbackURL && …`, so a falsy one is left to schema validation.
  scenario("a falsy callback URL that is not a string is a 400 VALIDATION_ERROR", async (t) => {
    for (const callbackURL of [0, false]) {
      const r = await t.request("POST", "/sign-in/email", { json: { email: t.email("x"), password, callbackURL } });
      t.status(r, 400, "VALIDATION_ERROR", `callbackURL ${JSON.stringify(callbackURL)}`);
    }
  }),

  scenario("a body without an allowed content type is a 415", async (t) => {
    const body = JSON.stringify({ email: t.email("x"), password });
    t.status(await t.request("POST", "/sign-in/email", { body, headers: { "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE", "text/plain");
    t.status(await t.request("POST", "/sign-out", { body: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "UNSUPPORTED_MEDIA_TYPE", "form on a JSON-only route");
  }),

  scenario("sign-up and sign-in take form posts", async (t) => {
    const form = (o) => ({ body: new URLSearchParams(o).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    t.status(await t.request("POST", "/sign-up/email", form({ email: t.email("form"), password, name: "Form" })), 200, undefined, "form sign-up");
    t.status(await t.request("POST", "/sign-in/email", form({ email: t.email("form"), password })), 200, undefined, "form sign-in");
  }),

  scenario("a foreign or missing Origin is refused when cookies come", async (t) => {
    await signUpRaw(t, "origin");
    t.status(await t.request("POST", "/sign-out", { json: {}, origin: "https://evil.example" }), 403, "INVALID_ORIGIN", "foreign origin");
    t.status(await t.request("POST", "/sign-out", { json: {}, origin: null }), 403, "MISSING_OR_NULL_ORIGIN", "no origin");
    t.status(await t.request("POST", "/sign-out", { json: {}, origin: "null" }), 403, "MISSING_OR_NULL_ORIGIN", "null origin");
    t.status(await t.request("POST", "/update-user", { json: { name: "x" }, origin: "http://127.0.0.1.evil.example" }), 403, "INVALID_ORIGIN", "look-alike origin");
    // Still signed in: nothing above took effect.
    const r = await t.request("GET", "/get-session");
    t.assert(r.data?.user?.name === "origin", "session survived");
  }),

  scenario("sign-in from a cross-site navigation is refused", async (t) => {
    await signUpRaw(t, "csrf");
    // A form on another site posting to sign-in: SameSite=Lax keeps the cookies home.
    const r = await t.request("POST", "/sign-in/email", {
      body: new URLSearchParams({ email: t.email("csrf"), password }).toString(),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
      },
      origin: "https://evil.example",
      cookies: false,
      exact: true,
    });
    t.status(r, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "cross-site form sign-in");
    const foreign = await t.request("POST", "/sign-in/email", { json: { email: t.email("csrf"), password }, origin: "https://evil.example", cookies: false });
    t.status(foreign, 403, "INVALID_ORIGIN", "foreign Origin without cookies");
  }),

  scenario("an unknown path, another method or a trailing slash is a bare 404", async (t) => {
    const cases = [
      ["GET", "/sign-in/email"],
      ["PUT", "/sign-out"],
      ["DELETE", "/revoke-sessions"],
      ["POST", "/ok"],
      ["GET", "/get-session/"],
      ["GET", "//get-session"],
      ["GET", "/no-such-route"],
      ["GET", ""],
      ["OPTIONS", "/get-session"],
      ["GET", "/forget-password"],
    ];
    for (const [method, path] of cases) {
      const r = await t.request(method, path);
      t.status(r, 404, undefined, `${method} ${path}`);
      t.equal(r.text, "", `${method} ${path} body`);
    }
  }),

  scenario("session routes without a session are a 401", async (t) => {
    const cases = [
      ["GET", "/list-sessions"],
      ["POST", "/revoke-session", { token: "x" }],
      ["POST", "/revoke-sessions", {}],
      ["POST", "/revoke-other-sessions", {}],
      ["POST", "/update-user", { name: "x" }],
      ["POST", "/update-session", {}],
      ["POST", "/change-password", { currentPassword: password, newPassword: "new-password-1" }],
      ["POST", "/verify-password", { password }],
    ];
    for (const [method, path, json] of cases) t.status(await t.request(method, path, { json }), 401, "UNAUTHORIZED", `${method} ${path}`);
  }),

  scenario("a key the route does not take is dropped, and a non-writable user field with a truthy value refused", async (t) => {
    // A form spread into signUp.email({...values}) carries confirmPassword and terms.
    const spread = await t.request("POST", "/sign-up/email", { json: { email: t.email("spread"), password, name: "S", confirmPassword: password, terms: true, emailVerified: true } });
    t.status(spread, 200, undefined, "sign-up with confirmPassword, terms and emailVerified");
    t.equal(spread.data.user.emailVerified, false, "emailVerified dropped");
    t.status(await t.request("POST", "/sign-up/email", { json: { email: t.email("role"), password, name: "R", role: "admin" } }), 400, "FIELD_NOT_ALLOWED", "sign-up with role");
    t.status(await t.request("POST", "/update-user", { json: { twoFactorEnabled: true } }), 400, "FIELD_NOT_ALLOWED", "update-user twoFactorEnabled true");
    t.status(await t.request("POST", "/update-user", { json: { name: "V", twoFactorEnabled: false, nickname: "v" } }), 200, undefined, "update-user twoFactorEnabled false");
    const ignored = await t.request("POST", "/update-user", { json: { emailVerified: true } });
    t.status(ignored, 400, null, "update-user emailVerified");
    t.equal(ignored.data.message, "No fields to update", "message");
    t.status(await t.request("POST", "/sign-in/email", { json: { email: t.email("spread"), password, rememberme: false } }), 200, undefined, "sign-in with a misspelt key");
  }),

  deviation("unknown-body-keys", "with STRICT_BODY a key the route does not take is refused by ours", async (t) => {
    const r = await t.request("POST", "/sign-up/email", { json: { email: t.email("unknown"), password, name: "U", role: "admin", emailVerified: true } });
    if (t.ours) {
      t.status(r, 400, "VALIDATION_ERROR", "sign-up with role");
      t.assert(/Unrecognized key: "emailVerified"; \[body\] Unrecognized key: "role"/.test(r.data.message), `message names the keys: ${r.data.message}`);
      t.status(await t.request("POST", "/sign-in/email", { json: { email: t.email("unknown"), password } }), 401, "INVALID_EMAIL_OR_PASSWORD", "nothing was stored");
      await signUpRaw(t, "unknown");
    } else {
      // role is the admin plugin's non-writable field: truthy, it is refused; emailVerified alone is dropped.
      t.status(r, 400, "FIELD_NOT_ALLOWED", "sign-up with role");
      const dropped = await t.request("POST", "/sign-up/email", { json: { email: t.email("unknown"), password, name: "U", emailVerified: true } });
      t.status(dropped, 200, undefined, "sign-up with emailVerified");
      t.assert(dropped.data.user.emailVerified === false, "emailVerified dropped");
    }
    // Fields of the user that a client may not write.
    const truthy = await t.request("POST", "/update-user", { json: { twoFactorEnabled: true } });
    const falsy = await t.request("POST", "/update-user", { json: { name: "V", twoFactorEnabled: false } });
    const ignored = await t.request("POST", "/update-user", { json: { emailVerified: true } });
    if (t.ours) {
      t.status(truthy, 400, "VALIDATION_ERROR", "update-user twoFactorEnabled true");
      t.status(falsy, 400, "VALIDATION_ERROR", "update-user twoFactorEnabled false");
      t.status(ignored, 400, "VALIDATION_ERROR", "update-user emailVerified");
    } else {
      t.status(truthy, 400, "FIELD_NOT_ALLOWED", "update-user twoFactorEnabled true");
      t.status(falsy, 200, undefined, "update-user twoFactorEnabled false");
      t.status(ignored, 400, null, "update-user emailVerified");
      t.equal(ignored.data.message, "No fields to update", "message");
    }
    // An admin route's data: upstream's adapter drops what no user field is.
    const db = new pg.Client({ connectionString: t.server.databaseURL });
    await db.connect();
    try {
      await db.query(`UPDATE "user" SET role = 'admin' WHERE email = $1`, [t.email("unknown")]);
    } finally {
      await db.end();
    }
    const data = await t.request("POST", "/admin/create-user", { json: { email: t.email("made"), name: "M", data: { bogus: 1 } } });
    if (t.ours) t.status(data, 400, "VALIDATION_ERROR", "admin create-user with a data key no field has");
    else t.status(data, 200, undefined, "admin create-user with a data key no field has");
  }, { config: "strict" }),

  deviation("body-size-limit", "a body over the size limit is refused by ours", async (t) => {
    await signUpRaw(t, "big");
    const name = "x".repeat(1100 * 1024);
    const r = await t.request("POST", "/update-user", { json: { name } });
    const s = await t.request("GET", "/get-session");
    if (t.ours) {
      t.status(r, 413, "PAYLOAD_TOO_LARGE", "1.1 MB update-user");
      t.equal(s.data.user.name, "big", "name unchanged");
    } else {
      t.status(r, 200, undefined, "1.1 MB update-user");
      t.equal(s.data.user.name.length, name.length, "name stored");
    }
  }),

  deviation("nul-characters", "a NUL character in a body is refused by ours", async (t) => {
    const r = await t.request("POST", "/sign-up/email", { json: { email: t.email("nul"), password, name: "a\u0000b" } });
    if (t.ours) t.status(r, 400, "VALIDATION_ERROR", "NUL in name");
    else t.status(r, 422, "FAILED_TO_CREATE_USER", "NUL in name");
  }),

  deviation("typed-user-fields", "update-user refuses a field of the wrong type", async (t) => {
    await signUpRaw(t, "typed");
    const nulled = await t.request("POST", "/update-user", { json: { name: null } });
    const numeric = await t.request("POST", "/update-user", { json: { name: 42 } });
    const s = await t.request("GET", "/get-session");
    if (t.ours) {
      t.status(nulled, 400, "VALIDATION_ERROR", "null name");
      t.status(numeric, 400, "VALIDATION_ERROR", "numeric name");
      t.equal(s.data.user.name, "typed", "name unchanged");
    } else {
      t.status(nulled, 500, undefined, "null name");
      t.status(numeric, 200, undefined, "numeric name");
      t.equal(s.data.user.name, "42", "name stored as text");
    }
  }),

  deviation("session-ip-without-proxy-header", "a session's ipAddress without X-Forwarded-For", async (t) => {
    const direct = t.browser({ ip: null });
    const r = await t.request("POST", "/sign-up/email", { json: { email: t.email("ip"), password, name: "ip" }, browser: direct });
    t.status(r, 200);
    const s = await t.request("GET", "/get-session", { browser: direct });
    t.equal(s.data.session.ipAddress, t.ours ? "127.0.0.1" : "", "ipAddress without X-Forwarded-For");
    const proxied = t.browser({ ip: "198.51.100.7" });
    t.status(await t.request("POST", "/sign-in/email", { json: { email: t.email("ip"), password }, browser: proxied }), 200);
    const list = await t.request("GET", "/list-sessions", { browser: direct });
    const ips = list.data.map((x) => x.ipAddress).sort();
    t.equal(ips, t.ours ? ["127.0.0.1", "198.51.100.7"] : ["", "198.51.100.7"], "ipAddress with X-Forwarded-For");
  }),

  deviation("error-page-html", "the error page shows the code, escaped", async (t) => {
    const cases = [
      ["?error=access_denied", "access_denied"],
      ["?error=%3Cscript%3E", "UNKNOWN"],
      ["", "UNKNOWN"],
    ];
    for (const [query, shown] of cases) {
      const r = await t.request("GET", "/error" + query);
      t.status(r, 200, undefined, `/error${query}`);
      t.equal(r.headers.get("content-type").split(";")[0], "text/html", "content type");
      t.assert(r.text.includes(shown), `/error${query} shows ${shown}`);
      t.assert(!r.text.includes("<script>"), `/error${query} escapes`);
    }
    const d = await t.request("GET", "/error?error=bad&error_description=%3Cb%3Ehi%3C%2Fb%3E");
    t.assert(d.text.includes("&lt;b&gt;hi&lt;/b&gt;") && !d.text.includes("<b>hi</b>"), "description escaped");
  }),
];
