// Where authsidecar deliberately answers differently from upstream. Each entry is asserted by a
// `deviation(id, …)` scenario (both servers' own behaviour) and printed in COMPATIBILITY.md;
// an entry no scenario asserts, or a scenario naming no entry, fails the run. `routes` lists the
// routes whose answers differ (they are then reported as partial); omit it for rules that apply to
// every route. `refusal: true` says the deviation only refuses (a 4xx, nothing written) requests
// upstream carries out, every other answer of its routes being upstream's: its routes stay done
// when a scenario compares their successes, and their notes name it.
// A deviation the harness cannot show on the wire (it needs a configuration both servers cannot
// share) names the Go tests that prove it in `provenBy` and why in `notOnWire`.
export const deviations = {
  "additional-field-types": {
    title: "Additional fields are type-checked",
    routes: ["POST /sign-up/email", "POST /update-user", "POST /update-session", "POST /admin/create-user", "POST /admin/update-user"],
    upstream:
      "A value is passed to the database as sent: one Postgres cannot convert (a string for a `number`) fails the sign-up with 422 `FAILED_TO_CREATE_USER` " +
      "(a 500 at `update-user` and at the admin routes), one it can (a number for a `string`) is stored converted. A unique field's conflict at `update-user` " +
      "and the admin routes is a 500, as at `update-session`, and so is a null for a required field at admin `update-user`, or a required field without a default missing from admin `create-user`'s `data`; " +
      "a unique or indexed value too long for its index entry is a 500 too.",
    ours:
      "400 `VALIDATION_ERROR` naming the field unless the value is of its type (`number`: an integer within the column's range; `date`: an ISO 8601 string; arrays of their item type), " +
      "at most 10 000 characters and 1 000 items; a `unique` or indexed field's string at most 512 characters (2 KiB), an indexed array at most 2 KiB, so every value fits its index entry; " +
      "a `date` in the years 1 to 9999, which Postgres and `toISOString` keep as sent; nothing is stored. A unique conflict at `update-user` and admin `update-user` is 422 `FAILED_TO_UPDATE_USER`, " +
      "at `update-session` 422 `FAILED_TO_UPDATE_SESSION`, at admin `create-user` " +
      "422 `FAILED_TO_CREATE_USER`; a required field missing from admin `create-user`'s `data` is 400 `MISSING_FIELD`, as at sign-up. The admin routes' core fields (`createdAt`, `id`, …) are checked likewise.",
    why: "An answer must not depend on what Postgres happens to coerce, and bad input is a 4xx, never a 500.",
  },
  "admin-stricter-with-custom-roles": {
    refusal: true,
    title: "The last admin cannot be removed, and no one impersonates from an impersonation",
    routes: ["POST /admin/remove-user", "POST /admin/impersonate-user"],
    upstream:
      "With roles that let a non-admin delete users, `remove-user` removes the only admin (200). With roles holding `impersonate-admins`, " +
      "an admin impersonating another admin may impersonate again; the new `admin_session` cookie then keeps the impersonated admin's session and the real admin's is lost. " +
      "Neither happens with the default roles.",
    ours: "400 `YOU_CANNOT_REMOVE_THE_LAST_ADMIN` (admins by role or `ADMIN_USER_IDS`; nothing is deleted), and 403 `YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS` from an impersonation session.",
    why: "An admin console must not lock every admin out, and stop-impersonating must always lead back to the real admin.",
  },
  "admin-unknown-roles": {
    refusal: true,
    title: "Admin routes refuse roles no one defined",
    routes: ["POST /admin/set-role", "POST /admin/create-user", "POST /admin/update-user"],
    upstream: "With its default roles (no `roles` option) any role name is stored: `set-role` to `\"superuser\"` answers 200, and the user then holds a role that grants nothing.",
    ours: "400 `YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE` unless every role is `admin`, `user` or defined in `ADMIN_ROLES_FILE` (upstream's answer when custom roles are configured); nothing changes.",
    why: "A typo in a role must not silently strip a user's rights.",
  },
  "admin-ban-expires-in": {
    refusal: true,
    title: "ban-user refuses a negative or huge banExpiresIn",
    routes: ["POST /admin/ban-user"],
    upstream: "Any number is taken: a negative one stores a ban that ended before it began; a huge one overflows the date.",
    ours: "400 `VALIDATION_ERROR` outside 0 to 100 years; nothing changes and no session is revoked. 0 means \"not given\", as upstream.",
    why: "Bad input gets a 4xx, never a stored nonsense date or a 500.",
  },
  "admin-list-users-input": {
    refusal: true,
    title: "list-users refuses unknown fields and pages over 1000",
    routes: ["GET /admin/list-users"],
    upstream: "A `sortBy` or `filterField` the user table has not fails its query, and the failure is answered as `{\"users\":[],\"total\":0}` (200); `limit` has no cap.",
    ours: "400 `VALIDATION_ERROR` naming the parameter; `limit` above 1000, negative or fractional `limit`/`offset` likewise. Field names come from an allow-list and are never put into SQL. Search values are upstream's `LIKE` patterns (`%` and `_` are wildcards), as parameters.",
    why: "An empty list for a typo looks like \"no users\"; an uncapped page is one request that makes the server read and encode the whole table.",
  },
  "admin-user-ids-need-set-role": {
    refusal: true,
    title: "Creating the user of an ADMIN_USER_IDS id takes set-role",
    routes: ["POST /admin/create-user"],
    upstream: "`data.id` may be any id, one of `adminUserIds` that has no user yet included: a caller allowed only to create users makes a user who holds every permission.",
    ours: "403 `YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE` when `data.id` is one of `ADMIN_USER_IDS` and the caller may not set roles; nothing is stored.",
    why: "Choosing such an id grants what a role change would, so it takes the same permission.",
    provenBy: ["TestCreatingAUserWithAnAdminUserIDTakesSetRole"],
    notOnWire: "the harness's roles have none that may create users but not set roles",
  },
  "impersonation-not-extended": {
    title: "An impersonation session never outlives its duration",
    routes: ["GET /get-session"],
    upstream:
      "The impersonation session (one hour by default) is kept short only by its `dont_remember` cookie: a client that sends just the session token (a bearer client, or one that drops that cookie) has it slid to a full session (7 days) at its first read.",
    ours: "A session with `impersonatedBy` is never slid, whatever cookies come with it: it ends at the admin's `impersonationSessionDuration`.",
    why: "An admin acting as a user is given an hour; it must not become a week because of which cookies a client keeps.",
    provenBy: ["TestImpersonationSessionNeverOutlivesItsDuration"],
    notOnWire: "the harness's clients keep every cookie, dont_remember included, so both servers leave the session as it is",
  },
  "unknown-body-keys": {
    title: "With STRICT_BODY, body keys a route does not take are refused",
    upstream:
      "Unknown keys are dropped silently, and so are user fields a client may not write (`emailVerified`, `id`, `createdAt`), " +
      "so `{\"emailVerified\":true}` alone is 400 `No fields to update` (no code). A non-writable plugin field with a truthy " +
      "value is 400 `FIELD_NOT_ALLOWED` (`{\"twoFactorEnabled\":true}`); with a falsy one it is dropped.",
    ours:
      "By default, as upstream: such keys are dropped, and their names (never their values) go to a debug log line; a non-writable user field with a truthy value is upstream's 400 `FIELD_NOT_ALLOWED`. With `STRICT_BODY=true` (`advanced.strictBody`): 400 `VALIDATION_ERROR` naming each such key (`[body] Unrecognized key: \"…\"`), whatever its value; nothing is stored. Nested objects keep refusing keys they do not take (org-update-data-keys), but for the admin routes' `data`, which drops them as upstream by default and refuses them (`[body.data] Unrecognized key: \"…\"`) with `STRICT_BODY`.",
    why:
      "Opt-in, for APIs that want it: a misspelt field (`rememberme`, `callbackUrl`) would otherwise be ignored without a word, and a client could probe for fields that a later version makes writable. The default is upstream's, since apps spread form values (`confirmPassword`, `terms`) into `signUp.email`.",
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
  "totp-replay": {
    title: "A TOTP code is accepted once",
    routes: ["POST /two-factor/verify-totp"],
    upstream: "A code is accepted again and again while its step is inside the ±1-step window (better-auth#10387).",
    ours:
      "Once a code of some step is accepted for a user, that step's code and earlier ones answer 401 `INVALID_CODE` (a wrong code, counted as one); " +
      "the next step's code works. The last step used is kept in our own nullable column `twoFactor.lastUsedStep`, which the Node server ignores.",
    why: "RFC 6238 section 5.2: a verifier must not accept the second attempt of a code after a successful validation. A code read over a shoulder, in a screenshot or a log, or replayed by a proxy, must not sign in a second time.",
  },
  "disable-forgets-trusted-devices": {
    title: "Disabling two-factor forgets every device the user trusted",
    routes: ["POST /two-factor/disable"],
    upstream: "Only the trusted device named by the caller's own trust_device cookie is forgotten; the user's other devices stay trusted for their 30 days.",
    ours: "Every trusted device of the user is forgotten (their rows are deleted); the caller's cookie is expired as upstream's.",
    why: "When two-factor is turned on again, every device should be asked for a second factor, not only the one that turned it off.",
  },
  "error-page-html": {
    title: "The error page is our own HTML",
    routes: ["GET /error"],
    upstream: "Upstream's styled HTML page.",
    ours: "Our own HTML page. Status, content type, the code shown (or `UNKNOWN` when it is not a plain identifier) and the HTML-escaped description are the same; the markup differs.",
    why: "The page is presentation, not protocol: no client reads it.",
  },
  "email-token-needs-exp": {
    title: "Email verification tokens without an expiry are refused",
    routes: ["GET /verify-email"],
    upstream: "A token signed with the secret is accepted whether or not it has an `exp` claim; one without never expires.",
    ours: "401 `INVALID_TOKEN` (or the redirect with `?error=INVALID_TOKEN`) for a token without `exp`. Every token either server mints has one (an hour).",
    why: "A token that never expires would be a permanent credential for whoever finds an old link.",
  },
  "no-500-for-bad-input": {
    title: "Malformed input the server signed or stored is a 4xx, never a 500",
    routes: ["GET /verify-email", "POST /passkey/verify-registration"],
    upstream:
      "A verification token with a valid signature but claims of the wrong shape (no `email`, or one that is not an address) is a 500 with an empty body, " +
      "also when a `callbackURL` would have taken the error. A passkey registration that fails verification (another RP ID, origin or challenge) is " +
      "500 `FAILED_TO_VERIFY_REGISTRATION`.",
    ours: "401 `INVALID_TOKEN` for the token, or the redirect to `callbackURL` with `?error=INVALID_TOKEN`; 400 `FAILED_TO_VERIFY_REGISTRATION` for the registration.",
    why: "Bad input gets a 4xx that names it, never a 500.",
  },
  "answer-floor": {
    title: "Answers that could tell whether an email has an account take at least 500 ms",
    upstream:
      "Only `POST /send-verification-email` without a session waits for a 500 ms floor. `POST /request-password-reset`, `POST /change-email`, " +
      "`POST /email-otp/send-verification-otp`, `POST /email-otp/request-password-reset`, `POST /forget-password/email-otp` and " +
      "`POST /email-otp/request-email-change` answer as soon as they are done: later when they stored a token and sent a mail.",
    ours: "Every one of these answers after at least 500 ms, whichever path it took. Status, body and cookies are the same as upstream's.",
    why: "The time an answer takes must not tell an attacker whether an address has an account (the path with an account writes a token).",
  },
  "org-update-data-keys": {
    title: "update and update-team refuse keys their `data` does not take",
    routes: ["POST /organization/update", "POST /organization/update-team"],
    upstream:
      "Unknown keys in the nested `data` are dropped (`{\"data\":{\"name\":\"Q\",\"color\":\"red\"}}` renames; `memberCount` for a team is ignored); " +
      "a key the row has but a client may not write (`{\"data\":{\"id\":\"x\"}}`) is a 500.",
    ours: "400 `VALIDATION_ERROR` naming the key (`[body.data] Unrecognized key: \"color\"`); nothing changes.",
    why: "As for top-level keys (unknown-body-keys): a misspelt field must not be ignored without a word, and bad input never gets a 500.",
  },
  "org-update-empty-data": {
    title: "update with empty `data` answers the organization",
    routes: ["POST /organization/update"],
    upstream: "`{\"data\":{}}` is a 500 (an UPDATE with nothing to set).",
    ours: "200 with the organization as it is, as update-team already answers upstream.",
    why: "Changing nothing is not a server error; a form that submits no change gets the current state.",
  },
  "list-members-bad-query": {
    title: "list-members refuses sort and filter fields and values it cannot use",
    routes: ["GET /organization/list-members"],
    upstream:
      "An unknown `sortBy` or `filterField` (`password`, `email`), a `createdAt` filter value that is not a date, or a text operator on `createdAt` " +
      "reaches the database adapter and answers 500 with no body.",
    ours:
      "400 `VALIDATION_ERROR` saying which (`[query.sortBy] Invalid input: no member field \"password\"`). The member fields are `id`, `organizationId`, " +
      "`userId`, `role` and `createdAt`. An unknown `sortDirection` or `filterOperator` is refused by both in upstream's words.",
    why: "Bad input gets a 4xx that says what is wrong, never a 500.",
  },
  "org-lists-uncapped": {
    title: "Lists of organizations and teams are not cut at 100",
    routes: ["GET /organization/list", "GET /organization/list-teams", "GET /organization/get-full-organization"],
    upstream:
      "The database adapter's default page of 100 rows applies where the route has no limit of its own: a user in 101 organizations lists 100, " +
      "an organization with 101 teams lists 100 (in list-teams and get-full-organization's `teams`), without saying that more exist.",
    ours:
      "Every organization and every team is listed. Member lists default to the membership limit (`ORG_MEMBERSHIP_LIMIT`, 100), so they show " +
      "every member as upstream does.",
    why: "A list that silently stops at 100 looks complete; a client has no parameter to ask for the rest.",
  },
  "accept-invitation-as-member": {
    title: "Accepting an invitation to an organization one already belongs to is refused",
    routes: ["POST /organization/accept-invitation"],
    upstream:
      "The invitation is accepted and a second member row is added for the same user (with the invitation's role), for example after a member " +
      "changed their email to an address with a pending invitation.",
    ours: "400 `USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION`; the invitation stays pending and the membership as it was.",
    why: "Two member rows for one user make its role ambiguous and break every check that finds \"the\" membership.",
  },
  "org-delete-clears-sessions": {
    title: "Deleting an organization clears it from every session",
    routes: ["POST /organization/delete"],
    upstream:
      "Only the deleting session's `activeOrganizationId` is cleared; its `activeTeamId` keeps the deleted default team, and every other session " +
      "(the owner's other devices, the members') keeps the deleted organization as active.",
    ours: "No session keeps the organization or one of its teams active: `activeOrganizationId` and `activeTeamId` are cleared wherever they pointed at them.",
    why: "A session pointing at a deleted organization makes every call without an explicit organization fail until the user picks another one.",
  },
  "role-list-wording": {
    title: "A role or team id that is neither a string nor an array is refused in other words",
    routes: ["POST /organization/invite-member", "POST /organization/update-member-role"],
    upstream: "400 `VALIDATION_ERROR` `[body.role] Invalid input` (a union that names no type).",
    ours: "400 `VALIDATION_ERROR` `[body.role] Invalid input: expected string or array, received number` (likewise for `teamId`).",
    why: "The message says what is accepted; status and code are the same.",
  },
  "invitation-empty-team-id": {
    title: "An invitation's empty team id means no team",
    routes: ["POST /organization/invite-member"],
    upstream: "`teamId: \"\"` stores and answers `teamId: \"\"`; `teamId: [\"\"]` is 400 `TEAM_NOT_FOUND`.",
    ours: "Empty team ids are left out: both store and answer `teamId: null`, as no `teamId` does.",
    why: "A form's empty team select means no team; an empty string stored as a team list is neither a team nor none.",
  },
  "sso-oidc-nonce": {
    title: "SSO sign-in binds the ID token to its flow with a nonce",
    routes: ["POST /sign-in/sso"],
    upstream: "The authorization URL carries no `nonce`, and the callback checks none.",
    ours:
      "The URL also carries a random `nonce` (after `login_hint`, where upstream's URL builder puts one), kept in the state as `idTokenNonce`; " +
      "the callback refuses an ID token without that nonce (`error=invalid_provider&error_description=token_not_verified`). A flow the Node " +
      "server started (no nonce in its state) is accepted, as upstream does.",
    why: "OpenID Connect Core section 3.1.2.1: the nonce binds the ID token to this browser's request, so an ID token issued for another flow cannot be replayed into this one.",
  },
  "saml-config-readable": {
    title: "A SAML registration must hold readable certificates, keys and IdP metadata",
    routes: ["POST /sso/register", "POST /sso/update-provider"],
    upstream: "A `samlConfig` whose certificate, private key or IdP metadata cannot be read is stored; the provider fails at its first sign-in.",
    ours:
      "400 `SAML_INVALID_CERTIFICATE`, `SAML_INVALID_PRIVATE_KEY` or `SAML_INVALID_IDP_METADATA` (metadata with a DTD included); nothing is stored.",
    why: "A provider that can never sign anyone in should be refused when its owner can still fix it, not discovered by a user at login.",
  },
  "saml-subject-confirmation-expiry": {
    title: "A SAML assertion is refused past its SubjectConfirmationData NotOnOrAfter",
    routes: ["POST /sso/saml2/sp/acs/:providerId"],
    upstream: "Only the Conditions' NotBefore/NotOnOrAfter are checked; an expired SubjectConfirmationData signs the user in.",
    ours:
      "Redirect with `error=saml_error`: the bearer SubjectConfirmationData's NotOnOrAfter (and Recipient) are enforced, as are the Conditions, " +
      "within crewjam/saml's clock skew. SHA-1 signatures are refused too.",
    why: "SAML profiles 4.1.4.2: the confirmation window bounds how long an intercepted assertion can be presented.",
  },
  "saml-slo-signed": {
    title: "SAML single logout needs the IdP's signature",
    routes: ["POST /sso/saml2/sp/slo/:providerId", "GET /sso/saml2/sp/slo/:providerId"],
    upstream:
      "With single logout on and `wantLogoutRequestSigned` off (its default), an unsigned or wrongly signed LogoutRequest ends the session of the NameID it names; " +
      "a LogoutResponse to an unknown request is accepted with a warning.",
    ours:
      "400 `INVALID_LOGOUT_REQUEST` unless the LogoutRequest carries a valid signature of the provider's IdP (XML or redirect-binding signature), and each is taken once; " +
      "400 `INVALID_LOGOUT_RESPONSE` unless a LogoutResponse is signed and answers a logout this server started.",
    why: "Otherwise anyone who knows a user's email can sign them out of every session that provider made.",
  },
  "saml-slo-every-session": {
    title: "An IdP's LogoutRequest ends every session of the NameID",
    routes: ["POST /sso/saml2/sp/slo/:providerId", "GET /sso/saml2/sp/slo/:providerId"],
    upstream:
      "The LogoutRequest ends the one session whose record it finds for the NameID (the newest sign-in's) and deletes the records of all the others, " +
      "so a user signed in from two browsers keeps the older session, which no later LogoutRequest can end.",
    ours:
      "Every session that a sign-in of that NameID at that provider made ends, with its records, in one transaction: those of the SessionIndexes the request names, " +
      "or all of them when it names none. A logout we start that fails (an IdP without a redirect-binding logout URL) keeps the session and its record.",
    why: "SAML core 3.7.3.2: the session participant must end every session of the principal that the request covers.",
    provenBy: ["TestSAMLSingleLogoutEndsEverySessionOfTheNameID", "TestSAMLRefusedLogoutKeepsTheSessionEndableByTheIdP"],
    notOnWire: "the harness's IdP signs no LogoutRequest; the Go suite's fake IdP (samlidp_test.go) does",
  },
  "saml-slo-browser-session": {
    title: "An IdP's LogoutRequest signs the browser out only when it is the named user's",
    routes: ["POST /sso/saml2/sp/slo/:providerId", "GET /sso/saml2/sp/slo/:providerId"],
    upstream: "The session of the browser that brings a valid LogoutRequest ends and its cookies are cleared, whoever's session it is.",
    ours: "The browser's session ends only when its user has an account with the request's NameID at that provider; any other session stays, cookies and all.",
    why:
      "Any signed-in user may register a SAML provider with an IdP of their own: its signed LogoutRequest, sent as a link, would otherwise sign out whoever follows it.",
    provenBy: ["TestSAMLSingleLogoutLeavesAnotherUsersBrowserSession"],
    notOnWire: "the harness's IdP signs no LogoutRequest; the Go suite's fake IdP (samlidp_test.go) does",
  },
  "saml-metadata-headers": {
    title: "The SP metadata cannot run script on our origin",
    routes: ["GET /sso/saml2/sp/metadata"],
    upstream: "The metadata (a registered `spMetadata.metadata` document as given) is sent as `application/xml` with no Content-Security-Policy or nosniff.",
    ours: "The same document, with the error page's headers: `Content-Security-Policy: default-src 'none'; …`, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`.",
    why: "A registered document needs only an SPSSODescriptor: an XHTML script element beside it would run with the cookies of anyone who opens it.",
  },
  "jwks-cache-headers": {
    title: "The JWKS answer says how long it may be cached",
    routes: ["GET /jwks"],
    upstream: "No `Cache-Control`: every verifier and proxy decides for itself, and a verifier that caches nothing asks the server on each token.",
    ours:
      "`Cache-Control: public, max-age=300`, or less with key rotation: never past the moment the first live key of the set expires (0 when none is live), since the next key signs as soon as it is made; " +
      "each replica also keeps the answer 5 s and not past that moment, so a flood of requests costs no more than one query every 5 s (and the rate limit's 100 per 10 s per client).",
    why: "Services verify JWTs without calling the server only if they may keep the key set; a stated lifetime lets them and any CDN do so, while a rotated key still appears within minutes.",
  },
  "cache-reads-only": {
    title: "Only get-session answers from the cookie cache",
    upstream:
      "With `session.cookieCache` on, every route that needs a session accepts a valid `session_data` cookie without reading the database, " +
      "so a revoked (or deleted) session keeps changing the user, registering passkeys and reading tokens until the cache's `maxAge`; after delete-user, update-user is a 500.",
    ours:
      "Only `GET /get-session` answers from `session_data`; every other route loads the session from Postgres, and a revoked, expired or deleted one is 401 `UNAUTHORIZED`.",
    why: "A stolen cookie must stop working when its owner revokes it: a cache may answer reads of the session itself, never authorise a write or hand out a credential.",
  },
  "instant-revocation": {
    title: "A revoked session's cookie cache is refused at once, on every replica",
    routes: ["GET /get-session"],
    upstream: "get-session keeps answering a revoked session from `session_data` until the cache's `maxAge` (5 minutes by default).",
    ours:
      "Sign-out, revoke-session(s), password change or reset with revocation and delete-user announce the revoked session ids (Postgres `LISTEN/NOTIFY`, " +
      "recorded in our own table `sessionRevocation`); every replica then answers get-session for that cache `null` and expires it, within a second. " +
      "While a replica's feed is down it checks each cache hit against Postgres.",
    why: "Signing out everywhere should mean everywhere, now: a thief's cached cookie must not outlive the victim's revocation.",
  },
  "forwarded-chain": {
    title: "A forwarded chain gives its rightmost untrusted address",
    upstream:
      "Without `advanced.ipAddress.trustedProxies`, an `X-Forwarded-For` of more than one entry is not believed at all: `session.ipAddress` is `\"\"` " +
      "and rate limits fall back to one bucket per path. Any sender's header is read.",
    ours:
      "Headers (`IP_ADDRESS_HEADERS`, default `x-forwarded-for`) are read only from a `TRUSTED_PROXIES` peer (loopback by default); " +
      "`X-Forwarded-For` is walked from the right past trusted proxies, so `6.6.6.6, 203.0.113.5` records `203.0.113.5`.",
    why: "Behind a proxy that appends (nginx, Next.js), the rightmost entry is the one a trusted party wrote; refusing the chain would put every such client in one rate-limit bucket, where an attacker's failures lock the owner out.",
  },
  "bounded-fields": {
    title: "Client-writable text has bounds",
    upstream:
      "No bound: a 900 000-character name is stored, a 300 000-character organization slug is a 500 (its unique index refuses the row), and a long name makes the cookie cache many chunks.",
    ours:
      "400 `VALIDATION_ERROR` naming the field (`[body.name] Too big: expected string to have <=256 characters`), nothing stored, over: `name` (user, organization, team, passkey) 256 characters; " +
      "`image`, `logo`, SSO `issuer` 2048; `slug` and SSO `providerId` 256; SSO `domain` 1024; organization `metadata` 8 KiB of JSON; SSO `oidcConfig` 16 KiB and `samlConfig` 256 KiB (IdP metadata with its certificates). " +
      "The bounds apply by body key wherever it appears (`data.name` in organization update too). A session row keeps the first 512 characters of the User-Agent.",
    why: "Unbounded text lets one client fill the database, break an index with a 500, or make a browser's cookies too large to send.",
  },
  "cache-one-cookie": {
    title: "The cookie cache is one cookie or none",
    upstream: "A `session_data` value longer than one cookie is split into `session_data.0`, `.1`, …; 25 chunks make every later request from the browser too large (431).",
    ours: "A session whose cache would not fit one cookie (4050 bytes with its attributes) gets no `session_data` (and an old one is expired); get-session reads it from Postgres. Chunked caches the Node server wrote are still read.",
    why: "No request may make the browser's cookies too large to send, sign-out included.",
  },
  "error-page-headers": {
    title: "The error page forbids script, framing and sniffing",
    routes: ["GET /error"],
    upstream: "The HTML error page is sent with no Content-Security-Policy, X-Content-Type-Options or framing rule.",
    ours:
      "`Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`, " +
      "`X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`.",
    why: "The page echoes `error_description` from the query: were escaping ever to fail, nothing could run, and the page cannot be framed for clickjacking.",
  },
  "id-token-nonce-and-once": {
    title: "An ID token needs its nonce and works once",
    routes: ["POST /sign-in/social", "POST /link-social"],
    upstream:
      "With `idToken`, a nonce is checked only when the request sends one, so a token bound to a nonce signs in without it; the same token signs in again for as long as it is valid.",
    ours:
      "401 `INVALID_TOKEN` when the token has a `nonce` claim and the request does not prove it, and when the token was accepted before: the SHA-256 of each accepted token is " +
      "kept in our own table `usedIdToken` until it expires, so a replay is refused on every replica.",
    why: "An ID token lifted from a page, a log or another app must not be a reusable credential.",
    provenBy: ["TestIDTokenWithANonceIsRefusedWithoutIt", "TestIDTokenReplayIsRefusedOnEveryReplica"],
    notOnWire: "the harness configures no provider that issues ID tokens (only GitLab, by code)",
  },
  "production-needs-base-url": {
    title: "No origin from the Host header in production",
    upstream: "Without `baseURL`, the origin of mailed links (reset, magic link, verification) and of the trusted-origin checks comes from each request's Host header, in production too.",
    ours:
      "`ENV=production` without `BETTER_AUTH_URL` refuses to start, in one line. In development without it, a request whose origin is neither loopback nor in `TRUSTED_ORIGINS` " +
      "is 400 `UNTRUSTED_HOST`, with a log line saying to set `BETTER_AUTH_URL`.",
    why: "`Host: evil.example` must not put the attacker's origin into a victim's reset mail or make `http://evil.example/x` a trusted callback.",
    provenBy: ["TestProductionWithoutBaseURLRefusesToStart", "TestHostHeaderCannotChooseTheOriginOfMailedLinks"],
    notOnWire: "the harness always sets BETTER_AUTH_URL, where both servers agree",
  },
  "redis-outage-repair": {
    title: "A Redis outage cannot resurrect a session",
    upstream: "With `secondaryStorage` and `storeSessionInDatabase`, a failed Redis write is logged and the stale copy stays: a session signed out while Redis was unreachable is served again from Redis once it is back, until its TTL; a value Redis lost is read from the database and never written back.",
    ours: "A Redis write that fails while sessions or verification values are also in Postgres is recorded in our own table `secondaryStorageRepair`; the replica serves from Postgres (one warning, `authsidecar_redis_errors_total`) until Redis answers and every recorded key has been deleted from it, then reads Redis again. A value Redis lost is read from Postgres and, as upstream, not written back (a write-back could race a revocation). With sessions only in Redis a failure is 503 `SERVICE_UNAVAILABLE` and `/readyz` fails, as upstream throws.",
    why: "Signing out must hold: an outage of a cache must not bring a revoked session back.",
    provenBy: ["TestRedisOutageUnderLoad", "TestRedisMissFallsBackToPostgresWhenSessionsAreStoredThere"],
    notOnWire: "the harness's servers share no Redis it can cut",
  },
  "redis-sessions-revocation": {
    title: "Sessions in Redis are revoked instantly and atomically",
    upstream: "Sessions kept only in `secondaryStorage` are deleted from Redis alone: a `session_data` cookie cache keeps answering until its `maxAge`; each session write reads and rewrites `active-sessions-{userId}` in separate commands, so concurrent sign-ins of one user can drop each other from the list.",
    ours: "Ending a session kept only in Redis announces its id as a deleted row does (`sessionRevocation`, `LISTEN/NOTIFY`), so every replica's cookie cache refuses it at once; each session write, deletion and list update is one Lua script (one round trip, atomic). Keys, values and TTLs are upstream's, and a Node server reads ours and we read its. Writes inside a Postgres transaction reach Redis before the commit, as upstream's do: a rolled-back sign-in can leave an unreachable session in Redis until its TTL. Bulk changes by SQL (an organization or team deleted) reach sessions kept only in Redis only for the caller's own session, as upstream's adapter updates reach none.",
    why: "Revocation must mean the same with Redis as with Postgres; a lost list entry hides a live session from list-sessions.",
    provenBy: ["TestRedisSessionLifecycle", "TestRedisSessionKeysValuesAndTTLsAreUpstreams"],
    notOnWire: "the harness's servers share no Redis yet",
  },
  "redis-session-unreturned-fields": {
    title: "Session fields never returned survive updates in Redis",
    upstream: "With sessions only in `secondaryStorage`, `createSession` stores the whole session object, session fields declared `returned: false` included, but every later `updateSession` (update-session, the refresh of the expiry once per `updateAge`, setting the active organization) stores the merged session as `parseSessionOutput` leaves it, without them: such a field lasts until the session's first update, and one set through update-session is dropped at once.",
    ours: "A session field declared `returned: false` stays in the Redis value through every update, the refresh and the rotation two-factor makes, as a row of the session table keeps it; no answer shows it (get-session, list-sessions, update-session, `session_data`). A value the Node server stored is answered without its `returned: false` session and user fields, as upstream answers it, and our updates keep its session field.",
    why: "A field kept from clients is still the application's data; whether it exists must not depend on when the session was last touched.",
    provenBy: ["TestRedisOnlySessionKeepsUnreturnedFieldsStoredButNeverAnswersThem"],
    notOnWire: "neither server answers the field; only the Redis value differs",
  },
  "redis-verification-our-records": {
    title: "Some of our verification records stay in Postgres",
    upstream: "With verification values only in `secondaryStorage`, every verification value is in Redis.",
    ours: "Reset tokens, OTPs, magic links, OAuth state, two-factor challenges and trusted devices follow `VERIFICATION_STORE_IN_DATABASE` under upstream's `verification:{identifier}` keys; the records of SAML single logout (each sign-in's session by NameID and by session id, and the logout requests we sent) stay in Postgres (a NameID may have several sessions, and an IdP's answer is matched by a prefix search, neither of which Redis's one value per key can serve), and disabling two-factor forgets trusted devices kept in Postgres only. Guesses at a code in Redis are judged in an optimistic transaction (WATCH/MULTI), so parallel guesses are each counted and a code is spent once.",
    why: "A prefix search in Redis would be a scan of the whole keyspace per logout.",
    provenBy: ["TestRedisVerificationValuesAreUpstreams", "TestRedisSingleUseThingsWorkOnceUnderRace", "TestSAMLLogoutCompletesWithVerificationValuesOnlyInRedis"],
    notOnWire: "the harness's servers share no Redis yet",
  },
};
