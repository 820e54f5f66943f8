// Test harness shared by the integration and browser tests: a real sidecar, built from the repo
// root, on a fresh database of the local Postgres (or TEST_DATABASE_URL's server), torn down after.

import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function psql(adminURL, sql) {
  await run("psql", [adminURL, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
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
 * browsers see); it defaults to the sidecar's own address. Returns {url, apiURL, appOrigin, stop, logs}.
 */
export async function startSidecar({ appOrigin, env = {}, port: fixedPort } = {}) {
  const [{ bin }, db, port] = await Promise.all([buildSidecar(), createDatabase(), fixedPort ?? freePort()]);
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      BETTER_AUTH_SECRET: secret,
      BETTER_AUTH_URL: appOrigin ?? url,
      DATABASE_URL: db.url,
      ADDR: `127.0.0.1:${port}`,
      RATE_LIMIT: "false",
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
  };
  try {
    await waitFor(`${url}/api/auth/ok`, 30_000, () => exited);
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\nsidecar output:\n${logs.join("")}`);
  }
  return { url, apiURL: `${url}/api/auth`, appOrigin: appOrigin ?? url, stop, logs };
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
