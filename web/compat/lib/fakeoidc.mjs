// A fake OpenID Connect identity provider for the SSO scenarios, reachable by both servers: the
// harness starts it once (startFakeOIDC) before the servers, which trust its origin (TRUSTED_ORIGINS). It speaks real
// OAuth 2 and OIDC over HTTP: discovery, a JWKS with an RSA key, authorize (PKCE S256 checked at the
// token endpoint), token (client_secret_basic or _post) and userinfo. ID tokens are RS256 JWTs that
// echo the authorization's nonce.
//
// Any client id works; its secret is `<clientId>-secret`. The user who signs in is the one named
// by login_hint (an email): sub is derived from it, so both servers of a diff see the same one.
import http from "node:http";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

let running;

// startFakeOIDC starts the provider once per process and returns {origin, close}; scenarios call it
// to learn the origin of the one the servers trust.
export function startFakeOIDC() {
  running ??= start();
  return running;
}

async function start() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "compat-key-1";
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  const grants = new Map(); // code -> {clientId, redirectURI, challenge, nonce, email, scope}
  const tokens = new Map(); // access token -> email
  let origin = "";

  const userOf = (email) => ({
    sub: "sub-" + createHash("sha256").update(email).digest("hex").slice(0, 16),
    email,
    email_verified: true,
    name: email.split("@")[0],
  });
  const jwt = (claims) => {
    const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${b64url(sign("sha256", Buffer.from(`${head}.${body}`), privateKey))}`;
  };
  const json = (res, status, v) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(v));
  };
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString()));
      req.on("error", reject);
    });

  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, origin);
    if (req.method === "GET" && u.pathname === "/.well-known/openid-configuration") {
      return json(res, 200, {
        issuer: origin,
        authorization_endpoint: origin + "/authorize",
        token_endpoint: origin + "/token",
        userinfo_endpoint: origin + "/userinfo",
        jwks_uri: origin + "/jwks",
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      });
    }
    if (req.method === "GET" && u.pathname === "/jwks") return json(res, 200, { keys: [jwk] });
    if (req.method === "GET" && u.pathname === "/authorize") {
      const q = u.searchParams;
      const email = q.get("login_hint");
      if (!q.get("client_id") || !q.get("redirect_uri") || !email || q.get("response_type") !== "code") return json(res, 400, { error: "invalid_request" });
      if (q.get("code_challenge") && q.get("code_challenge_method") !== "S256") return json(res, 400, { error: "invalid_request" });
      // Codes and tokens are hex, so the harness aliases them like the servers' own random values.
      const code = randomBytes(16).toString("hex");
      grants.set(code, {
        clientId: q.get("client_id"),
        redirectURI: q.get("redirect_uri"),
        challenge: q.get("code_challenge"),
        nonce: q.get("nonce"),
        email,
        scope: q.get("scope") || "",
      });
      const back = new URL(q.get("redirect_uri"));
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state") || "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === "POST" && u.pathname === "/token") {
      const form = new URLSearchParams(await readBody(req));
      let [id, secret] = [form.get("client_id"), form.get("client_secret")];
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization || "");
      if (basic) [id, secret] = Buffer.from(basic[1], "base64").toString().split(":").map(decodeURIComponent);
      if (!id || secret !== `${id}-secret`) return json(res, 401, { error: "invalid_client" });
      const g = grants.get(form.get("code"));
      grants.delete(form.get("code")); // a code works once
      if (!g || g.clientId !== id || g.redirectURI !== form.get("redirect_uri")) return json(res, 400, { error: "invalid_grant" });
      const verifier = form.get("code_verifier") || "";
      if (g.challenge && b64url(createHash("sha256").update(verifier).digest()) !== g.challenge) return json(res, 400, { error: "invalid_grant" });
      const access = randomBytes(16).toString("hex");
      tokens.set(access, g.email);
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: origin, aud: id, iat: now, exp: now + 3600, ...userOf(g.email) };
      if (g.nonce) claims.nonce = g.nonce;
      return json(res, 200, { access_token: access, token_type: "Bearer", expires_in: 3600, scope: g.scope, id_token: jwt(claims) });
    }
    if (req.method === "GET" && u.pathname === "/userinfo") {
      const email = tokens.get((req.headers.authorization || "").replace(/^Bearer /i, ""));
      if (!email) return json(res, 401, { error: "invalid_token" });
      return json(res, 200, userOf(email));
    }
    json(res, 404, { error: "not_found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
