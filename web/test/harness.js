// Test harness shared by the integration and browser tests: a real sidecar, built from the repo
// root, on a fresh database of the local Postgres (or TEST_DATABASE_URL's server), torn down after.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
export const webRoot = path.resolve(here, "..");
export const secret = "web-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz";

/** which returns the path of a command on PATH, or "" when it is missing. */
export async function which(cmd) {
  try {
    const { stdout } = await run("sh", ["-c", `command -v ${cmd}`]);
    return stdout.trim();
  } catch {
    return "";
  }
}

/**
 * missingTools skips the calling test file loudly when a tool is missing outside CI. In CI
 * (env CI set) a missing tool is a failure, never a skip.
 */
export async function missingTools(...cmds) {
  const missing = [];
  for (const cmd of cmds) if (!(await which(cmd))) missing.push(cmd);
  if (missing.length === 0) return false;
  const line = `!!! SKIPPING ${path.basename(process.argv[1] ?? "web tests")}: ${missing.join(", ")} not found on PATH !!!`;
  if (process.env.CI) throw new Error(`${line} (CI must have them)`);
  console.error(line);
  return line;
}

// Ports handed out by this process: the OS may give a closed port again, and two servers told the
// same port race for it (the loser exits with EADDRINUSE while the winner answers its readiness
// check), so a port is never handed out twice.
const handedOut = new Set();

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** psql runs one SQL statement on the database at url. */
export async function psql(url, sql) {
  await run("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
}

/** createDatabase makes a fresh, empty database and returns its URL and a drop function. */
export async function createDatabase() {
  const base = new URL(process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
  const admin = new URL(base);
  admin.pathname = "/postgres";
  const name = `authsidecar_web_${Date.now()}_${randomBytes(3).toString("hex")}`;
  await psql(admin.toString(), `CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => psql(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

let binaryPromise;

/** buildSidecar builds the Go binary once per test process (go's build cache makes repeats cheap). */
export function buildSidecar() {
  binaryPromise ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "authsidecar-web-"));
    const bin = path.join(dir, "authsidecar");
    await run("go", ["build", "-o", bin, "."], { cwd: repoRoot, maxBuffer: 16 << 20 });
    return { bin, dir };
  })();
  return binaryPromise;
}

async function waitFor(url, ms, isDead) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`process exited before ${url} answered`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
      last = new Error(`${url}: ${res.status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in ${ms} ms: ${last?.message}`);
}

/**
 * startSidecar starts the sidecar on a fresh database. appOrigin is BETTER_AUTH_URL (the origin
 * browsers see); it defaults to the sidecar's own address. Its mail goes to a MAIL_LOG file in the
 * build's temporary directory, read through `mail` (see mailbox). Returns {url, apiURL, appOrigin,
 * databaseURL, mail, stop, logs}.
 */
export async function startSidecar({ appOrigin, env = {}, port: fixedPort } = {}) {
  const [{ bin, dir }, db, port] = await Promise.all([buildSidecar(), createDatabase(), fixedPort ?? freePort()]);
  const url = `http://127.0.0.1:${port}`;
  const mailLog = path.join(dir, `mail-${port}-${randomBytes(3).toString("hex")}.log`);
  const logs = [];
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      BETTER_AUTH_SECRET: secret,
      BETTER_AUTH_URL: appOrigin ?? url,
      DATABASE_URL: db.url,
      ADDR: `127.0.0.1:${port}`,
      RATE_LIMIT: "false",
      MAIL_LOG: mailLog,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (b) => logs.push(b.toString()));
  child.stderr.on("data", (b) => logs.push(b.toString()));
  let exited = false;
  const exit = new Promise((resolve) => child.on("exit", () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await exit;
    await db.drop();
    await rm(mailLog, { force: true });
  };
  try {
    await waitFor(`${url}/api/auth/ok`, 30_000, () => exited);
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\nsidecar output:\n${logs.join("")}`);
  }
  return { url, apiURL: `${url}/api/auth`, appOrigin: appOrigin ?? url, databaseURL: db.url, mail: mailbox(mailLog), stop, logs };
}

/**
 * cookieFetch is fetch with a cookie jar and the Origin header a browser sends, for Node-side
 * tests of the client (Node's fetch keeps no cookies).
 */
export function cookieFetch(origin) {
  const jar = new Map();
  const f = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set("cookie", cookieHeader(jar));
    if ((init.method ?? "GET") !== "GET") headers.set("origin", origin);
    const res = await fetch(input, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  f.jar = jar;
  f.cookieHeader = () => cookieHeader(jar);
  return f;
}

function cookieHeader(jar) {
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** eventually retries check until it stops throwing, for state that settles asynchronously. */
export async function eventually(check, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}

/**
 * mailbox reads the sidecar's MAIL_LOG (its development mail sink writes one JSON line per mail):
 * wait(type, addr) returns the newest mail of that type to addr once the outbox worker sent it.
 */
export function mailbox(file) {
  const all = async () =>
    (await readFile(file, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return {
    all,
    wait: (type, addr) =>
      eventually(async () => {
        const found = (await all()).filter((m) => m.type === type && m.email === addr);
        assert.ok(found.length > 0, `no ${type} mail to ${addr} yet`);
        return found.at(-1);
      }, 15_000),
  };
}

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** totpKey is the HMAC key in an otpauth URI: its secret parameter, base32-decoded (RFC 4648). */
export function totpKey(uri) {
  const secret = new URL(uri).searchParams.get("secret") ?? "";
  let bits = "";
  for (const ch of secret) {
    const v = base32Alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${secret}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** totpStep is the RFC 6238 time step (30 s) of a time in milliseconds. */
export const totpStep = (ms = Date.now()) => Math.floor(ms / 30_000);

/**
 * nextTotpStep is a step whose code the sidecar still takes after `used`'s: it accepts each step
 * once per user and never an earlier one, within ±1 step of now. The next step is inside that
 * window unless the clock has moved on since, and then now's step is.
 */
export const nextTotpStep = (used) => Math.max(used + 1, totpStep());

/**
 * totp is the six-digit RFC 6238 code (HMAC-SHA1) of key for a step, computed independently of
 * the sidecar.
 */
export function totp(key, step = totpStep()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * upstreamClient loads Better Auth's own browser client (better-auth 1.7.25 and
 * @better-auth/passkey, installed in example/) so a test can run the same calls through it and
 * through ours. It returns null, after one loud line, when example/ has no node_modules; in CI
 * that is a failure.
 */
export async function upstreamClient() {
  const require = createRequire(path.join(webRoot, "example", "package.json"));
  let resolved;
  try {
    resolved = ["better-auth/client", "better-auth/client/plugins", "@better-auth/passkey/client", "better-auth/plugins/access"].map((m) =>
      require.resolve(m),
    );
  } catch {
    const line = "!!! SKIPPING upstream client variants: web/example has no node_modules (run npm ci there) !!!";
    if (process.env.CI) throw new Error(line);
    console.error(line);
    return null;
  }
  const [core, plugins, passkey, access] = await Promise.all(resolved.map((file) => import(pathToFileURL(file).href)));
  return { createAuthClient: core.createAuthClient, ...plugins, passkeyClient: passkey.passkeyClient, createAccessControl: access.createAccessControl };
}
