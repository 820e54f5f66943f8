// Starts the servers a run compares, each once, on fresh databases of one Postgres:
//   reference        the Node reference (reference/server.mjs) on database <run>_reference
//   ours             authsidecar (built from the repo root) on database <run>_ours
//   oursOnReference  authsidecar on the reference's database, for the interop scenarios
// and stops them and drops the databases afterwards.
import { spawn, execFile } from "node:child_process";
import { createServer } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openSync } from "node:fs";
import pg from "pg";
import { startFakeIdP } from "./fakeidp.mjs";

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

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
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

// baseEnv is all the servers get from our own environment: nothing a developer's shell sets
// (SMTP_HOST, NODE_ENV, REQUIRE_EMAIL_VERIFICATION, …) may change what they answer.
function baseEnv() {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

export async function startServers({ log = () => {} } = {}) {
  const runId = `compat_${process.pid}_${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), "authsidecar-compat-"));
  const dbs = [`${runId}_reference`, `${runId}_ours`];
  const procs = [];
  let idp; // the SSO scenarios' identity provider: both servers trust its origin
  // stop ends the servers and drops the databases; the logs stay for a failed run to read.
  const stop = async ({ keepLogs = true } = {}) => {
    await Promise.all(procs.map((p) => p.stop()));
    await idp?.close();
    for (const db of dbs) await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => {});
    await rm(keepLogs ? join(dir, "authsidecar") : dir, { recursive: true, force: true });
  };
  try {
    for (const db of dbs) await admin(`CREATE DATABASE "${db}"`);
    idp = await startFakeIdP();
    const [refPort, oursPort, ours2Port] = await Promise.all([freePort(), freePort(), freePort()]);
    const binary = join(dir, "authsidecar");
    const server = (name, port, db, ours) => ({
      name,
      ours,
      origin: `http://127.0.0.1:${port}`,
      port,
      databaseURL: databaseURL(db),
      mailLog: join(dir, `${name}-mail.log`),
      secret,
    });
    const reference = server("reference", refPort, dbs[0], false);
    const ours = server("ours", oursPort, dbs[1], true);
    const oursOnReference = server("ours-on-reference-db", ours2Port, dbs[0], true);

    const startOurs = (s) => {
      const env = {
        ...baseEnv(),
        DATABASE_URL: s.databaseURL,
        BETTER_AUTH_SECRET: secret,
        BETTER_AUTH_URL: s.origin,
        ADDR: `127.0.0.1:${s.port}`,
        RATE_LIMIT: "false",
        MAIL_LOG: s.mailLog,
        TRUSTED_ORIGINS: idp.origin,
      };
      const p = new Process(s.name, binary, [], env, join(dir, `${s.name}.log`));
      procs.push(p);
      return waitReady(p, s.origin);
    };
    const refEnv = {
      ...baseEnv(),
      DATABASE_URL: reference.databaseURL,
      BETTER_AUTH_SECRET: secret,
      BETTER_AUTH_URL: reference.origin,
      MAIL_LOG: reference.mailLog,
      TRUSTED_ORIGINS: idp.origin,
    };

    const t0 = Date.now();
    const built = run("go", ["build", "-o", binary, "."], { cwd: sidecarSrc }).then(() => log(`built authsidecar in ${Date.now() - t0} ms`));
    const migrated = run(process.execPath, [join(compatDir, "reference", "migrate.mjs")], { env: refEnv }).then(() =>
      log(`migrated the reference database in ${Date.now() - t0} ms`),
    );
    const refUp = migrated.then(() => {
      const p = new Process("reference", process.execPath, [join(compatDir, "reference", "server.mjs")], refEnv, join(dir, "reference.log"));
      procs.push(p);
      return waitReady(p, reference.origin);
    });
    const oursUp = built.then(() => startOurs(ours));
    // Ours migrates the database Node created: it must start after Node's migration, and its own
    // idempotent schema.sql must accept upstream's tables as they are.
    const ours2Up = Promise.all([built, migrated]).then(() => startOurs(oursOnReference));
    const started = await Promise.allSettled([refUp, oursUp, ours2Up]);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    log(`servers up in ${Date.now() - t0} ms`);
    return { reference, ours, oursOnReference, stop, dir, procs };
  } catch (err) {
    await stop();
    throw err;
  }
}
