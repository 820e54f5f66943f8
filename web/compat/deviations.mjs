// Where authsidecar deliberately answers differently from upstream. Each entry is asserted by a
// `deviation(id, …)` scenario (both servers' own behaviour) and printed in COMPATIBILITY.md;
// an entry no scenario asserts, or a scenario naming no entry, fails the run. `routes` lists the
// routes whose answers differ (they are then reported as partial); omit it for rules that apply to
// every route.
export const deviations = {
  "unknown-body-keys": {
    title: "Body keys a route does not take are refused",
    upstream:
      "Unknown keys are dropped silently, and so are user fields a client may not write (`emailVerified`, `id`, `createdAt`), " +
      "so `{\"emailVerified\":true}` alone is 400 `No fields to update` (no code). A non-writable plugin field with a truthy " +
      "value is 400 `FIELD_NOT_ALLOWED` (`{\"twoFactorEnabled\":true}`); with a falsy one it is dropped.",
    ours: "400 `VALIDATION_ERROR` naming each such key (`[body] Unrecognized key: \"…\"`), whatever its value; nothing is stored.",
    why: "A misspelt field (`rememberme`, `callbackUrl`) would otherwise be ignored without a word, and a client could probe for fields that a later version makes writable.",
  },
  "body-size-limit": {
    title: "Request bodies are limited in size",
    upstream: "No limit: a body of any size is read whole and, for example, a megabyte-long name is stored.",
    ours: "413 `PAYLOAD_TOO_LARGE` beyond `MAX_BODY_BYTES` (1 MiB by default); nothing is stored.",
    why: "An unbounded body lets one request make the server allocate and store without limit.",
  },
  "nul-characters": {
    title: "NUL characters in bodies are refused",
    upstream: "The string reaches Postgres, which cannot store it in a text column; sign-up answers 422 `FAILED_TO_CREATE_USER`.",
    ours: "400 `VALIDATION_ERROR` (`NUL characters are not allowed`).",
    why: "Bad input gets a 4xx that says what is wrong, never a 500.",
  },
  "typed-user-fields": {
    title: "update-user checks the type of each field",
    routes: ["POST /update-user"],
    upstream: "Any JSON value is taken for a user field: `{\"name\":42}` answers 200 and stores the name `\"42\"`; `{\"name\":null}` is a 500.",
    ours: "400 `VALIDATION_ERROR` (`[body.name] Invalid input: expected string, received number`); nothing changes.",
    why: "A client that sends the wrong type has a bug; storing its text form hides it, and bad input never gets a 500.",
  },
  "session-ip-without-proxy-header": {
    title: "A session records the peer address when no X-Forwarded-For comes",
    upstream: "`session.ipAddress` is `\"\"` when no `X-Forwarded-For` header comes (`127.0.0.1` with NODE_ENV=development).",
    ours: "`session.ipAddress` is the TCP peer's address. With an `X-Forwarded-For` from a trusted proxy (loopback by default) both record the forwarded address.",
    why: "Go's server sees the TCP peer, which upstream's Fetch-API handler cannot; an empty address would tell an operator nothing about a session made without a proxy in front.",
  },
  "error-page-html": {
    title: "The error page is our own HTML",
    routes: ["GET /error"],
    upstream: "Upstream's styled HTML page.",
    ours: "Our own HTML page. Status, content type, the code shown (or `UNKNOWN` when it is not a plain identifier) and the HTML-escaped description are the same; the markup differs.",
    why: "The page is presentation, not protocol: no client reads it.",
  },
  "sso-oidc-nonce": {
    title: "SSO sign-in binds the ID token to its flow with a nonce",
    routes: ["POST /sign-in/sso"],
    upstream:
      "The authorization URL carries no `nonce` and the callback checks none; its parameters come in the order response_type, client_id, " +
      "state, scope, redirect_uri, login_hint, code_challenge_method, code_challenge.",
    ours:
      "The URL also carries a random `nonce`, kept in the state as `idTokenNonce`; the callback refuses an ID token without that nonce " +
      "(`error=invalid_provider&error_description=token_not_verified`). The parameters come in alphabetical order. A flow the Node server " +
      "started (no nonce in its state) is accepted, as upstream does.",
    why: "OpenID Connect Core §3.1.2.1: the nonce binds the ID token to this browser's request, so an ID token issued for another flow cannot be replayed into this one.",
  },
  "sso-saml-refused": {
    title: "SAML SSO providers are refused",
    routes: ["POST /sso/register"],
    upstream: "A `samlConfig` registers a SAML provider.",
    ours: "400 `SAML_NOT_SUPPORTED` (`SAML providers are not supported by this server`); nothing is stored. Enterprise SSO is OpenID Connect only; the SAML routes are not served.",
    why: "A SAML provider could be registered but never used: the assertion consumer and metadata routes are not implemented.",
  },
};
