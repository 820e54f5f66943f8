// The client address through a real Next.js server: the example app's /api/auth route handler
// (authRouteHandler from @authsidecar/web/next) behind a front proxy that appends the address it
// saw to X-Forwarded-For, as nginx does, in front of a sidecar with rate limits on. Clients bind
// distinct loopback addresses (127.0.0.2, 127.0.0.3, …), so the front proxy sees each as a
// different client. The attacks: a client rotating a spoofed X-Forwarded-For to escape its
// sign-in limit, and attackers failing sign-ins from many addresses to lock the owner out.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { freePort, missingTools, startSidecar, webRoot } from "./harness.js";

const run = promisify(execFile);
const exampleDir = path.join(webRoot, "example");
const nextBin = path.join(exampleDir, "node_modules", "next", "dist", "bin", "next");
const routeBuilt = path.join(exampleDir, ".next", "server", "app", "api", "auth", "[...all]", "route.js");

let skip = await missingTools("go", "psql");
if (!skip && !existsSync(nextBin)) {
  const line = "!!! SKIPPING Next.js proxy tests: web/example has no node_modules (run npm ci there) !!!";
  if (process.env.CI) throw new Error(line);
  console.error(line);
  skip = line;
}

/** request sends one request from a local address through the front proxy. */
function request(port, from, method, pathname, { json, headers = {} } = {}) {
  const body = json === undefined ? undefined : JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, localAddress: from, method, path: pathname, headers: { ...headers, ...(body && { "content-type": "application/json" }) } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let data;
          try {
            data = text ? JSON.parse(text) : null;
          } catch {
            data = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, data });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** frontProxy forwards to target, appending the peer's address to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for). */
function frontProxy(targetPort) {
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    const peer = req.socket.remoteAddress.replace(/^::ffff:/, "");
    headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]}, ${peer}` : peer;
    const up = http.request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  return server;
}

describe("client address through Next.js", { skip, timeout: 600_000 }, () => {
  let sidecar, next, front, frontPort, origin;
  const logs = [];

  before(async () => {
    if (!existsSync(routeBuilt)) {
      await run(process.execPath, [nextBin, "build"], { cwd: exampleDir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, maxBuffer: 64 << 20 });
    }
    const [nextPort, port] = [await freePort(), await freePort()];
    frontPort = port;
    origin = `http://127.0.0.1:${frontPort}`;
    sidecar = await startSidecar({ appOrigin: origin, env: { RATE_LIMIT: "true" } });
    next = spawn(process.execPath, [nextBin, "start", "-H", "127.0.0.1", "-p", String(nextPort)], {
      cwd: exampleDir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", AUTH_SIDECAR_URL: sidecar.url, AUTH_TRUSTED_PROXY_HOPS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    next.stdout.on("data", (b) => logs.push(b.toString()));
    next.stderr.on("data", (b) => logs.push(b.toString()));
    front = frontProxy(nextPort);
    await new Promise((r) => front.listen(frontPort, "127.0.0.1", r));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await request(frontPort, "127.0.0.1", "GET", "/api/auth/ok").then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`next start did not answer:\n${logs.join("")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    front?.close();
    if (next && next.exitCode === null) {
      const exited = new Promise((r) => next.on("exit", r));
      process.kill(-next.pid, "SIGTERM");
      await exited;
    }
    await sidecar?.stop();
  });

  const password = "correct-horse-1";
  const signIn = (from, email, pw, headers = {}) =>
    request(frontPort, from, "POST", "/api/auth/sign-in/email", { json: { email, password: pw }, headers: { origin, ...headers } });

  it("spoofed X-Forwarded-For does not change the bucket; two clients get two; the owner still signs in", async () => {
    const email = "owner@example.com";
    const up = await request(frontPort, "127.0.0.9", "POST", "/api/auth/sign-up/email", { json: { email, password, name: "Owner" }, headers: { origin } });
    assert.equal(up.status, 200, "sign-up through the route handler");

    // One client rotates a forged X-Forwarded-For: its fourth failure within 10 s is a 429 all the same.
    const spoofed = [];
    for (let i = 1; i <= 5; i++) spoofed.push((await signIn("127.0.0.2", email, "wrong-password", { "x-forwarded-for": `198.51.100.${i}` })).status);
    assert.deepEqual(spoofed, [401, 401, 401, 429, 429], "one bucket whatever the client claims");

    // Attackers from five more addresses each fail until their own 429.
    const attackers = {};
    for (let a = 3; a <= 7; a++) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await signIn(`127.0.0.${a}`, email, "wrong-password")).status);
      attackers[`127.0.0.${a}`] = statuses;
      assert.deepEqual(statuses, [401, 401, 401, 429], `attacker 127.0.0.${a} has a bucket of its own`);
    }

    // The owner, from another address, is not locked out, keeps its Set-Cookie through Next.js,
    // and the session records the address the front proxy saw.
    const owner = await signIn("127.0.0.8", email, password);
    assert.equal(owner.status, 200, "the owner signs in");
    const cookies = [owner.headers["set-cookie"]].flat().map((l) => l.split(";")[0]);
    assert.ok(cookies.some((c) => c.startsWith("better-auth.session_token=")), `Set-Cookie kept: ${cookies}`);
    const list = await request(frontPort, "127.0.0.8", "GET", "/api/auth/list-sessions", { headers: { cookie: cookies.join("; ") } });
    assert.equal(list.status, 200);
    assert.deepEqual(list.data.map((s) => s.ipAddress).sort(), ["127.0.0.8", "127.0.0.9"], "sessions record the client addresses");

    if (process.env.RELIABILITY_OUT) {
      const line = { test: "web/test/nextproxy.test.js", name: "next proxy buckets", figures: { spoofed, attackers, owner: owner.status } };
      await appendFile(process.env.RELIABILITY_OUT, `${JSON.stringify(line)}\n`);
    }
  });
});
