// A fake GitLab, enough for both servers' social sign-in: both can point their GitLab provider at a
// self-managed instance (the reference's `issuer` option, authsidecar's AUTH_GITLAB_ISSUER), which
// no other built-in provider of both allows. It serves what GitLab's OAuth does:
//   GET  /oauth/authorize   checks the request and sends the browser back with a code (or an error)
//   POST /oauth/token       exchanges a code (PKCE checked) or a refresh token for tokens
//   GET  /api/v4/user       the profile of an access token's user
// The harness picks who signs in: scenarios register users with fake.user(key, profile) and add
// `login_as=<key>` to the authorization URL (a real GitLab would ask for a password there).
import http from "node:http";
import { createHash, randomBytes } from "node:crypto";

export const fakeClient = { id: "compat-gitlab-client", secret: "compat-gitlab-secret" };

const random = (n = 24) => randomBytes(n).toString("base64url").replace(/[-_]/g, "x");

export class FakeIdP {
  constructor() {
    this.users = new Map(); // key -> {profile, expiresIn}
    this.codes = new Map(); // code -> {key, redirectURI, challenge, scope}
    this.access = new Map(); // access token -> {key, expiresAt}
    this.refresh = new Map(); // refresh token -> key
    this.log = []; // requests the servers made, for scenarios that check them
  }

  // user registers (or replaces) a user; expiresIn is the access token lifetime in seconds.
  user(key, profile, { expiresIn = 7200 } = {}) {
    this.users.set(key, { profile, expiresIn });
  }

  async start() {
    this.server = http.createServer((req, res) => this.handle(req, res).catch((err) => reply(res, 500, { error: "server_error", error_description: String(err) })));
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  stop() {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  async handle(req, res) {
    const url = new URL(req.url, this.origin);
    if (req.method === "GET" && url.pathname === "/oauth/authorize") return this.authorize(url, res);
    if (req.method === "POST" && url.pathname === "/oauth/token") return this.token(req, res);
    if (req.method === "GET" && url.pathname === "/api/v4/user") return this.profile(req, res);
    reply(res, 404, { error: "not_found" });
  }

  authorize(url, res) {
    const q = url.searchParams;
    const back = new URL(q.get("redirect_uri") || "");
    back.searchParams.set("state", q.get("state") || "");
    const user = this.users.get(q.get("login_as"));
    if (q.get("client_id") !== fakeClient.id || q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
      back.searchParams.set("error", "invalid_request");
    } else if (!user || q.get("deny")) {
      back.searchParams.set("error", "access_denied");
    } else {
      const code = random();
      this.codes.set(code, { key: q.get("login_as"), redirectURI: q.get("redirect_uri"), challenge: q.get("code_challenge"), scope: q.get("scope") || "" });
      back.searchParams.set("code", code);
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  async token(req, res) {
    const form = new URLSearchParams(await body(req));
    const [id, secret] = clientCredentials(req, form);
    this.log.push({ path: "/oauth/token", grantType: form.get("grant_type") });
    if (id !== fakeClient.id || secret !== fakeClient.secret) return reply(res, 401, { error: "invalid_client" });
    let key;
    let scope = "read_user";
    if (form.get("grant_type") === "authorization_code") {
      const c = this.codes.get(form.get("code"));
      this.codes.delete(form.get("code"));
      const verifier = form.get("code_verifier") || "";
      if (!c || c.redirectURI !== form.get("redirect_uri") || createHash("sha256").update(verifier).digest("base64url") !== c.challenge) {
        return reply(res, 400, { error: "invalid_grant" });
      }
      key = c.key;
      scope = c.scope;
    } else if (form.get("grant_type") === "refresh_token") {
      key = this.refresh.get(form.get("refresh_token"));
      this.refresh.delete(form.get("refresh_token"));
      if (!key) return reply(res, 400, { error: "invalid_grant" });
    } else {
      return reply(res, 400, { error: "unsupported_grant_type" });
    }
    const { expiresIn } = this.users.get(key);
    const access = random();
    const refresh = random();
    this.access.set(access, { key, expiresAt: Date.now() + expiresIn * 1000 });
    this.refresh.set(refresh, key);
    reply(res, 200, { access_token: access, token_type: "Bearer", expires_in: expiresIn, refresh_token: refresh, scope, created_at: Math.floor(Date.now() / 1000) });
  }

  profile(req, res) {
    const token = (req.headers.authorization || "").replace(/^Bearer /i, "");
    const grant = this.access.get(token);
    if (!grant || grant.expiresAt < Date.now()) return reply(res, 401, { message: "401 Unauthorized" });
    reply(res, 200, this.users.get(grant.key).profile);
  }
}

// clientCredentials reads the client's id and secret from HTTP Basic or the form (RFC 6749 section 2.3.1).
function clientCredentials(req, form) {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization || "");
  if (basic) return Buffer.from(basic[1], "base64").toString().split(":").map(decodeURIComponent);
  return [form.get("client_id"), form.get("client_secret")];
}

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

function reply(res, status, json) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(json));
}

// gitlabProfile is a GitLab /api/v4/user answer for a user of the harness, with overrides: the
// numeric id is derived from the email, so both sides of a diff get the same and no two scenarios
// share one.
export function gitlabProfile(email, overrides = {}) {
  const id = 1e9 + (createHash("sha256").update(email).digest().readUInt32BE(0) % 1e9);
  const local = email.split("@")[0];
  return {
    id,
    username: local.replace(/[^a-z0-9]/gi, "_"),
    name: local,
    state: "active",
    locked: false,
    avatar_url: `https://gitlab.example.com/uploads/${id}/avatar.png`,
    web_url: `https://gitlab.example.com/${local}`,
    email,
    email_verified: true,
    ...overrides,
  };
}
