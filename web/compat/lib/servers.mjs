// Starts the servers a run compares, each once, on fresh databases of one Postgres:
//   reference        the Node reference (reference/server.mjs) on database <run>_reference
//   ours             authsidecar (built from the repo root) on database <run>_ours
//   oursOnReference  authsidecar on the reference's database, for the interop scenarios
// for the configuration authsidecar ships, and a reference and ours for each other configuration
// a selected scenario names (`configs`); a fake GitLab both sign in with (fakeidp.mjs) and an
// OpenID provider for enterprise SSO (fakeoidc.mjs). It stops them and drops the databases afterwards.
import { spawn, execFile } from "node:child_process";
import { connect, createServer } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openSync } from "node:fs";
import pg from "pg";
import { FakeIdP, fakeClient } from "./fakeidp.mjs";
import { startFakeOIDC } from "./fakeoidc.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const compatDir = join(here, "..");
export const repoRoot = join(compatDir, "..", "..");
// COMPAT_SIDECAR_SRC runs the harness against another checkout (a branch about to be merged).
export const sidecarSrc = process.env.COMPAT_SIDECAR_SRC || repoRoot;

// The secret both servers sign cookies with: the same, so that a cookie one sets the other reads.
export const secret = "compat-harness-secret-0123456789-abcdefghij";

const adminURL = process.env.COMPAT_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

function databaseURL(name) {
  const u = new URL(adminURL);
  u.pathname = "/" + name;
  return u.toString();
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: adminURL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// Ports handed out by this process: the OS may give a closed port again, and two servers told the
// same port race for it (the loser exits with EADDRINUSE while the winner answers its readiness
// check), so a port is never handed out twice.
const handedOut = new Set();

async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.unref();
      s.on("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

// run waits for a command to finish, failing with its output.
async function run(cmd, args, opts) {
  try {
    await promisify(execFile)(cmd, args, { maxBuffer: 16 << 20, ...opts });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${err.stdout || ""}${err.stderr || ""}`);
  }
}

class Process {
  constructor(name, cmd, args, env, logFile) {
    this.name = name;
    this.logFile = logFile;
    const fd = openSync(logFile, "a");
    this.child = spawn(cmd, args, { env, stdio: ["ignore", fd, fd] });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(code ?? signal)));
  }

  async log() {
    return readFile(this.logFile, "utf8").catch(() => "");
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

async function waitReady(proc, origin, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  proc.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(origin + "/api/auth/ok");
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not answer ${origin}/api/auth/ok${exited ? " (it exited)" : ""}:\n${await proc.log()}`);
}

// configs are the configurations scenarios run against, as the environment both servers get on
// top of their own: the reference reads the variables authsidecar reads for these settings
// (reference/auth.mjs), so one map configures both. "shipped" is authsidecar's defaults; the
// others turn on what it ships off, so that those flows are compared too.
export const configs = {
  shipped: {},
  options: { DELETE_USER_VERIFICATION: "true", EMAIL_OTP_CHANGE_EMAIL: "true", SSO_SAML_SINGLE_LOGOUT: "true" },
  // The session_data cookie cache on, as upstream's session.cookieCache { maxAge: 300 }.
  cache: { COOKIE_CACHE_MAX_AGE: "300" },
  // Custom admin roles: "support" may delete users without being an admin, and admins may
  // impersonate admins, which reaches the admin refusals the default roles never meet.
  "admin-roles": { ADMIN_ROLES_FILE: join(compatDir, "reference", "testdata", "admin-roles.json") },
  // upstream's bearer() and jwt(), which both ship off; its interop scenarios share a jwks table.
  tokens: { BEARER_ENABLED: "true", JWT_ENABLED: "true" },
  // authsidecar's STRICT_BODY (the reference has no such switch and drops unknown keys).
  strict: { STRICT_BODY: "true" },
  // A non-default auth.ts: both servers read the same file of betterAuth() options, ours as its
  // AUTH_CONFIG, the reference laid over its own options (reference/auth.mjs).
  // Its rateLimit is on: RATE_LIMIT, which every other configuration sets false, is left unset.
  custom: { AUTH_CONFIG: join(compatDir, "reference", "testdata", "config-custom.json"), RATE_LIMIT: "" },
  closed: { AUTH_CONFIG: join(compatDir, "reference", "testdata", "config-closed.json") },
  // The config file testdata/config/fields.json: user and session additional fields and the
  // username plugin, turned on by its entry (and its options) there. The cookie cache stays off:
  // with it, routes other than get-session deliberately differ (deviation cache-reads-only);
  // its session_data with fields is proven in fields_test.go.
  fields: { AUTH_CONFIG: join(repoRoot, "testdata", "config", "fields.json") },
  // secondaryStorage in Redis (@better-auth/redis-storage on the reference): sessions and
  // verification values only there, as upstream defaults; "redis-db" keeps them in Postgres too.
  // REDIS_URL is the harness's own redis-server; each database gets its own key prefix, so the
  // servers on one database share their keys and no others.
  redis: { REDIS_URL: "" },
  "redis-db": { REDIS_URL: "", SESSION_STORE_IN_DATABASE: "true", VERIFICATION_STORE_IN_DATABASE: "true" },
  // "redis" with testdata/config/fields.json: session fields, riskLevel declared returned: false,
  // which the Redis value keeps and neither server answers.
  "redis-fields": { REDIS_URL: "", AUTH_CONFIG: join(repoRoot, "testdata", "config", "fields.json") },
};

// interopConfigs also get an ours on the reference's database, for their interop scenarios.
const interopConfigs = new Set(["shipped", "tokens", "fields", "redis", "redis-db", "redis-fields"]);

// startRedis runs a redis-server without persistence on a free port (COMPAT_REDIS_URL instead
// when set) and answers its URL.
async function startRedis(procs, dir) {
  if (process.env.COMPAT_REDIS_URL) return process.env.COMPAT_REDIS_URL;
  const port = await freePort();
  const p = new Process("redis", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], baseEnv(), join(dir, "redis.log"));
  procs.push(p);
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const up = await new Promise((resolve) => {
      const c = connect(port, "127.0.0.1", () => c.write("PING\r\n"));
      c.on("data", (d) => { c.destroy(); resolve(d.toString().startsWith("+PONG")); });
      c.on("error", () => resolve(false));
    });
    if (up) return `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer:\n${await p.log()}`);
}

// configEnv is a configuration's environment for a server on database db.
function configEnv(config, db, redisURL) {
  const env = { ...configs[config] };
  if ("REDIS_URL" in env) Object.assign(env, { REDIS_URL: redisURL, REDIS_KEY_PREFIX: `${db}:` });
  return env;
}

// baseEnv is all the servers get from our own environment: nothing a developer's shell sets
// (SMTP_HOST, NODE_ENV, REQUIRE_EMAIL_VERIFICATION, …) may change what they answer.
function baseEnv() {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

// startServers starts the servers of the named configurations ("shipped" always).
export async function startServers({ log = () => {}, configNames = ["shipped"] } = {}) {
  const runId = `compat_${process.pid}_${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), "authsidecar-compat-"));
  const names = ["shipped", ...configNames.filter((n) => n !== "shipped")];
  const dbs = names.flatMap((n) => [`${runId}_${n}_reference`, `${runId}_${n}_ours`]);
  const procs = [];
  const fake = new FakeIdP();
  let oidc; // the SSO scenarios' OpenID provider (fakeoidc.mjs)
  // stop ends the servers and drops the databases; the logs stay for a failed run to read.
  const stop = async ({ keepLogs = true } = {}) => {
    await Promise.all(procs.map((p) => p.stop()));
    if (fake.server) await fake.stop();
    await oidc?.close();
    for (const db of dbs) await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => {});
    await rm(keepLogs ? join(dir, "authsidecar") : dir, { recursive: true, force: true });
  };
  try {
    await fake.start();
    oidc = await startFakeOIDC();
    for (const db of dbs) await admin(`CREATE DATABASE "${db}"`);
    const binary = join(dir, "authsidecar");
    const redisURL = names.some((n) => "REDIS_URL" in configs[n]) ? await startRedis(procs, dir) : "";
    // Both servers of every configuration: the fake GitLab, and one passkey relying party ID
    // (WebAuthn forbids an IP address, and each side defaults differently for one).
    const common = {
      AUTH_GITLAB_CLIENT_ID: fakeClient.id,
      AUTH_GITLAB_CLIENT_SECRET: fakeClient.secret,
      AUTH_GITLAB_ISSUER: fake.origin,
      PASSKEY_RP_ID: "localhost",
      // Enterprise SSO fetches only from trusted origins.
      TRUSTED_ORIGINS: oidc.origin,
    };
    const server = async (name, db, ours, config) => {
      const port = await freePort();
      return { name, ours, config, db, origin: `http://127.0.0.1:${port}`, port, databaseURL: databaseURL(db), mailLog: join(dir, `${name}-mail.log`), secret, fake };
    };

    const startOurs = (s) => {
      const env = {
        ...baseEnv(),
        ...common,
        RATE_LIMIT: "false",
        ...configEnv(s.config, s.db, redisURL),
        DATABASE_URL: s.databaseURL,
        BETTER_AUTH_SECRET: secret,
        BETTER_AUTH_URL: s.origin,
        ADDR: `127.0.0.1:${s.port}`,
        MAIL_LOG: s.mailLog,
        // The reference's issuer is its appName (reference/auth.mjs); ours is configured.
        TWO_FACTOR_ISSUER: "authsidecar",
      };
      const p = new Process(s.name, binary, [], env, join(dir, `${s.name}.log`));
      procs.push(p);
      return waitReady(p, s.origin);
    };
    const refEnv = (s) => ({
      ...baseEnv(),
      ...common,
      ...configEnv(s.config, s.db, redisURL),
      DATABASE_URL: s.databaseURL,
      BETTER_AUTH_SECRET: secret,
      BETTER_AUTH_URL: s.origin,
      MAIL_LOG: s.mailLog,
    });

    const t0 = Date.now();
    const built = run("go", ["build", "-o", binary, "."], { cwd: sidecarSrc }).then(() => log(`built authsidecar in ${Date.now() - t0} ms`));
    const byConfig = {};
    const started = [];
    for (const name of names) {
      const suffix = name === "shipped" ? "" : `-${name}`;
      const reference = await server(`reference${suffix}`, `${runId}_${name}_reference`, false, name);
      const ours = await server(`ours${suffix}`, `${runId}_${name}_ours`, true, name);
      byConfig[name] = { reference, ours };
      const migrated = run(process.execPath, [join(compatDir, "reference", "migrate.mjs")], { env: refEnv(reference) }).then(() =>
        log(`migrated the ${reference.name} database in ${Date.now() - t0} ms`),
      );
      started.push(
        migrated.then(() => {
          const p = new Process(reference.name, process.execPath, [join(compatDir, "reference", "server.mjs")], refEnv(reference), join(dir, `${reference.name}.log`));
          procs.push(p);
          return waitReady(p, reference.origin);
        }),
        built.then(() => startOurs(ours)),
      );
      if (interopConfigs.has(name)) {
        const oursOnReference = await server(`ours-on-reference-db${suffix}`, `${runId}_${name}_reference`, true, name);
        byConfig[name].oursOnReference = oursOnReference;
        // Ours migrates the database Node created: it must start after Node's migration, and its
        // own idempotent schema.sql must accept upstream's tables as they are.
        // With the jwt plugin, ours makes the shared jwks table's first key, so the interop
        // scenarios prove that the Node server signs with a key ours made and published (keys
        // the Node server made signing in ours: jwtplugin_test.go, TestJWKSKeysMadeByTheNodeServer).
        const firstKey = (res) => (res.ok ? res.arrayBuffer() : Promise.reject(new Error(`${oursOnReference.name} /jwks: ${res.status}`)));
        started.push(
          Promise.all([built, migrated])
            .then(() => startOurs(oursOnReference))
            .then(() => configs[name].JWT_ENABLED === "true" && fetch(`${oursOnReference.origin}/api/auth/jwks`).then(firstKey)),
        );
      }
    }
    const settled = await Promise.allSettled(started);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    log(`servers up in ${Date.now() - t0} ms`);
    return { byConfig, stop, dir, procs, fake };
  } catch (err) {
    await stop();
    throw err;
  }
}
