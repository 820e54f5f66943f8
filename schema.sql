-- Better Auth's own Postgres schema (npm better-auth 1.7.25 getMigrations output) for the core and
-- the plugins this server speaks: twoFactor, passkey, organization (teams on), sso. Every statement
-- is idempotent so it runs at each start; the ALTERs add plugin columns to a database the Node
-- server created with fewer plugins. Columns keep upstream's quoted camelCase names.

create table if not exists "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" boolean not null, "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null, "twoFactorEnabled" boolean);
alter table "user" add column if not exists "twoFactorEnabled" boolean;

create table if not exists "session" ("id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade, "activeOrganizationId" text, "activeTeamId" text);
alter table "session" add column if not exists "activeOrganizationId" text;
alter table "session" add column if not exists "activeTeamId" text;

create table if not exists "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text, "password" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null);

create table if not exists "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" timestamptz not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);

create index if not exists "session_userId_idx" on "session" ("userId");
create index if not exists "account_userId_idx" on "account" ("userId");
create index if not exists "verification_identifier_idx" on "verification" ("identifier");

-- Upstream's rateLimit table (rateLimit.storage "database"): every replica shares the counters.
create table if not exists "rateLimit" ("id" text not null primary key, "key" text not null unique, "count" integer not null, "lastRequest" bigint not null);

-- Ours, not upstream's: the sweep (sweep.go) finds expired rows by these columns, and without an
-- index each batch would scan the whole table (a million sessions).
create index if not exists "session_expiresAt_idx" on "session" ("expiresAt");
create index if not exists "verification_expiresAt_idx" on "verification" ("expiresAt");
create index if not exists "rateLimit_lastRequest_idx" on "rateLimit" ("lastRequest");

-- twoFactor plugin
create table if not exists "twoFactor" ("id" text not null primary key, "secret" text not null, "backupCodes" text not null, "userId" text not null references "user" ("id") on delete cascade, "verified" boolean, "failedVerificationCount" integer, "lockedUntil" timestamptz);
alter table "twoFactor" add column if not exists "verified" boolean;
alter table "twoFactor" add column if not exists "failedVerificationCount" integer;
alter table "twoFactor" add column if not exists "lockedUntil" timestamptz;
-- Ours, not upstream's: the last TOTP time step accepted, so that a code works once (RFC 6238
-- section 5.2). Nullable, so the Node server, which does not know it, writes rows without it.
alter table "twoFactor" add column if not exists "lastUsedStep" bigint;
create index if not exists "twoFactor_secret_idx" on "twoFactor" ("secret");
create index if not exists "twoFactor_userId_idx" on "twoFactor" ("userId");

-- passkey plugin
create table if not exists "passkey" ("id" text not null primary key, "name" text, "publicKey" text not null, "userId" text not null references "user" ("id") on delete cascade, "credentialID" text not null, "counter" integer not null, "deviceType" text not null, "backedUp" boolean not null, "transports" text, "createdAt" timestamptz, "aaguid" text);
alter table "passkey" add column if not exists "aaguid" text;
create index if not exists "passkey_userId_idx" on "passkey" ("userId");
create index if not exists "passkey_credentialID_idx" on "passkey" ("credentialID");

-- organization plugin (teams on)
create table if not exists "organization" ("id" text not null primary key, "name" text not null, "slug" text not null unique, "logo" text, "createdAt" timestamptz not null, "metadata" text);
create table if not exists "team" ("id" text not null primary key, "name" text not null, "memberCount" integer not null, "organizationId" text not null references "organization" ("id") on delete cascade, "createdAt" timestamptz not null, "updatedAt" timestamptz);
create table if not exists "teamMember" ("id" text not null primary key, "teamId" text not null references "team" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "membershipKey" text unique, "createdAt" timestamptz);
create table if not exists "member" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "role" text not null, "createdAt" timestamptz not null);
create table if not exists "invitation" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "email" text not null, "role" text, "teamId" text, "status" text not null, "expiresAt" timestamptz not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "inviterId" text not null references "user" ("id") on delete cascade);
-- A database the Node server created with teams off lacks these.
alter table "invitation" add column if not exists "teamId" text;
alter table "team" add column if not exists "memberCount" integer not null default 0;
alter table "teamMember" add column if not exists "membershipKey" text unique;
create index if not exists "team_organizationId_idx" on "team" ("organizationId");
create index if not exists "teamMember_teamId_idx" on "teamMember" ("teamId");
create index if not exists "teamMember_userId_idx" on "teamMember" ("userId");
create index if not exists "member_organizationId_idx" on "member" ("organizationId");
create index if not exists "member_userId_idx" on "member" ("userId");
create index if not exists "invitation_organizationId_idx" on "invitation" ("organizationId");
create index if not exists "invitation_email_idx" on "invitation" ("email");

-- sso plugin
create table if not exists "ssoProvider" ("id" text not null primary key, "issuer" text not null, "oidcConfig" text, "samlConfig" text, "userId" text not null references "user" ("id") on delete cascade, "providerId" text not null unique, "organizationId" text, "domain" text not null);
-- Upstream adds domainVerified only with domainVerification on; we always have it, so turning
-- SSO_DOMAIN_VERIFICATION on needs no migration. The Node server ignores it when it does not use it.
alter table "ssoProvider" add column if not exists "domainVerified" boolean;

-- The mail outbox (ours, not upstream's): written in the transaction that creates a mail's token,
-- delivered by a background worker with retries; replicas share it with FOR UPDATE SKIP LOCKED.
create table if not exists "mailOutbox" ("id" text not null primary key, "payload" jsonb not null, "createdAt" timestamptz not null, "nextAttemptAt" timestamptz not null, "attempts" integer not null default 0);
create index if not exists "mailOutbox_nextAttemptAt_idx" on "mailOutbox" ("nextAttemptAt");

-- jwt plugin: signing keys (upstream's jwks table; the private key encrypted with the secret)
create table if not exists "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null, "createdAt" timestamptz not null, "expiresAt" timestamptz, "alg" text, "crv" text);
alter table "jwks" add column if not exists "expiresAt" timestamptz;
alter table "jwks" add column if not exists "alg" text;
alter table "jwks" add column if not exists "crv" text;
-- Ours, not upstream's: instant revocation (revocation.go). Deleting a session that had not
-- expired records its id and announces it to every replica, which then stops trusting that
-- session's cookie cache. Expired sessions (the sweep) are not announced: no cache outlives them.
create table if not exists "sessionRevocation" ("id" text not null primary key, "revokedAt" timestamptz default CURRENT_TIMESTAMP not null);
create index if not exists "sessionRevocation_revokedAt_idx" on "sessionRevocation" ("revokedAt");
create or replace function "authsidecar_session_revoked"() returns trigger language plpgsql as $$
begin
  insert into "sessionRevocation" ("id") values (old."id") on conflict ("id") do update set "revokedAt" = CURRENT_TIMESTAMP;
  perform pg_notify('authsidecar_session_revoked', old."id");
  return null;
end $$;
create or replace trigger "session_revoked" after delete on "session" for each row when (old."expiresAt" > CURRENT_TIMESTAMP) execute function "authsidecar_session_revoked"();

-- Ours, not upstream's: the SHA-256 of every ID token accepted by sign-in/social, until it
-- expires, so that a token works once on every replica (idtokenreplay.go).
create table if not exists "usedIdToken" ("id" text not null primary key, "expiresAt" timestamptz not null);
create index if not exists "usedIdToken_expiresAt_idx" on "usedIdToken" ("expiresAt");

-- admin plugin (always served: a database the Node server wrote with admin() carries bans that
-- must hold here too). Upstream's columns, nullable, so rows written before them read as null.
alter table "user" add column if not exists "role" text;
alter table "user" add column if not exists "banned" boolean;
alter table "user" add column if not exists "banReason" text;
alter table "user" add column if not exists "banExpires" timestamptz;
alter table "session" add column if not exists "impersonatedBy" text;
-- Ours, not upstream's: list-users pages, sorts, searches and filters 100 000 users through these
-- rather than reading the table (adminusers.go; TestListUsersPlansUseIndexes checks the plans).
-- createdAt orders pages (email and id have their unique indexes); the text_pattern_ops indexes
-- answer an email prefix (starts_with) and, on reverse(email), an email suffix (ends_with) as
-- ranges (the suffix index carries id and email, so that a suffix search and its count read only
-- the index); the partial ones the common filters, banned users and roles other than "user". The
-- trigram indexes serve contains searches and name searches; pg_trgm is a trusted extension (a
-- database owner may create it), and where it cannot be created those searches read the table
-- (start-up logs a notice) while email prefixes and suffixes still use their indexes.
create index if not exists "user_createdAt_idx" on "user" ("createdAt", "id");
create index if not exists "user_email_pattern_idx" on "user" ("email" text_pattern_ops);
create index if not exists "user_email_reverse_idx" on "user" (reverse("email") text_pattern_ops) include ("id", "email");
create index if not exists "user_banned_idx" on "user" ("createdAt", "id") where "banned";
create index if not exists "user_role_idx" on "user" ("role") where "role" <> 'user';
-- Ours, not upstream's: the number of users, for list-users' total without counting the table.
-- Each statement that inserts or deletes users adds one row of its change; in any snapshot the
-- sum equals count(*) of "user". The sweep folds the rows into one (sweep.go). The triggers are
-- made once, with the table's count at that moment, while "user" is locked against writes.
create table if not exists "userCount" ("delta" bigint not null);
create or replace function "authsidecar_user_count"() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into "userCount" select count(*) from new_users having count(*) > 0;
  elsif tg_op = 'DELETE' then
    insert into "userCount" select -count(*) from old_users having count(*) > 0;
  else
    delete from "userCount";
  end if;
  return null;
end $$;
do $$ begin
  if not exists (select 1 from pg_trigger where tgname = 'user_count_insert' and tgrelid = '"user"'::regclass) then
    lock table "user" in share mode;
    delete from "userCount";
    create trigger "user_count_insert" after insert on "user" referencing new table as new_users for each statement execute function "authsidecar_user_count"();
    create trigger "user_count_delete" after delete on "user" referencing old table as old_users for each statement execute function "authsidecar_user_count"();
    create trigger "user_count_truncate" after truncate on "user" for each statement execute function "authsidecar_user_count"();
    insert into "userCount" select count(*) from "user";
  end if;
end $$;
-- (No btree on name: a B-tree entry is limited to about 2.7 kB and upstream takes names of any
-- length, so such an index would turn a long name into a failed insert.)
do $$ begin
  create extension if not exists pg_trgm;
exception when others then
  raise notice 'pg_trgm unavailable: list-users searches read the user table';
end $$;
do $$ begin
  if exists (select 1 from pg_extension where extname = 'pg_trgm') then
    create index if not exists "user_email_trgm_idx" on "user" using gin ("email" gin_trgm_ops);
    create index if not exists "user_name_trgm_idx" on "user" using gin ("name" gin_trgm_ops);
  end if;
end $$;
