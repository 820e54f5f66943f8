// Browser end-to-end: the example app (next build + next start) in Debian's Chromium, driven by
// playwright-core, against a real sidecar on a fresh database. The same flows run twice from one
// build: with our client and with the npm better-auth client (AUTH_CLIENT=upstream), which proves
// the sidecar is a drop-in backend for upstream's browser client.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { freePort, missingTools, startSidecar, webRoot } from "./harness.js";

const run = promisify(execFile);
const exampleDir = path.join(webRoot, "example");
const resultsDir = path.join(webRoot, "test-results");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let skip = await missingTools("go", "psql");
if (!skip && !existsSync(chromiumPath)) {
  const line = `!!! SKIPPING browser tests: no Chromium at ${chromiumPath} (apt-get install -y chromium) !!!`;
  if (process.env.CI) throw new Error(`${line} (CI must have it)`);
  console.error(line);
  skip = line;
}
if (!skip && !existsSync(path.join(exampleDir, "node_modules", "next"))) {
  const line = "!!! SKIPPING browser tests: web/example has no node_modules (run npm ci there) !!!";
  if (process.env.CI) throw new Error(line);
  console.error(line);
  skip = line;
}

const nextBin = path.join(exampleDir, "node_modules", "next", "dist", "bin", "next");

/** startApp runs `next start` on port with env and waits until it serves pages. */
async function startApp(port, env) {
  const logs = [];
  const child = spawn(process.execPath, [nextBin, "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: exampleDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout.on("data", (b) => logs.push(b.toString()));
  child.stderr.on("data", (b) => logs.push(b.toString()));
  let exited = false;
  const exit = new Promise((resolve) => child.on("exit", () => ((exited = true), resolve())));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`next start exited:\n${logs.join("")}`);
    try {
      const res = await fetch(origin + "/");
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`next start did not answer:\n${logs.join("")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    origin,
    logs,
    stop: async () => {
      if (!exited) process.kill(-child.pid, "SIGTERM");
      await exit;
    },
  };
}

describe("example app in Chromium", { skip, timeout: 600_000 }, () => {
  let sidecar;
  const apps = {};
  let browser;

  before(async () => {
    const [portOurs, portUpstream] = [await freePort(), await freePort()];
    const origins = { authsidecar: `http://127.0.0.1:${portOurs}`, upstream: `http://127.0.0.1:${portUpstream}` };
    // E2E_REUSE_BUILD=<port> reruns against the last build, whose rewrite points at that port.
    const reuse = process.env.E2E_REUSE_BUILD ? Number(process.env.E2E_REUSE_BUILD) : undefined;
    sidecar = await startSidecar({ appOrigin: origins.authsidecar, env: { TRUSTED_ORIGINS: origins.upstream }, port: reuse });
    if (!reuse) {
      // The rewrite to the sidecar is fixed at build time, so the build comes after the sidecar.
      const started = Date.now();
      await run(process.execPath, [nextBin, "build"], {
        cwd: exampleDir,
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", AUTH_SIDECAR_URL: sidecar.url },
        maxBuffer: 64 << 20,
      });
      console.error(`next build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // getSession in Server Components reads AUTH_SIDECAR_URL at run time (the rewrite at build time).
    apps.authsidecar = await startApp(portOurs, { AUTH_CLIENT: "authsidecar", AUTH_SIDECAR_URL: sidecar.url });
    apps.upstream = await startApp(portUpstream, { AUTH_CLIENT: "upstream", AUTH_SIDECAR_URL: sidecar.url });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
  });

  after(async () => {
    await browser?.close();
    for (const app of Object.values(apps)) await app.stop();
    await sidecar?.stop();
  });

  let n = 0;
  const email = () => `browser${++n}-${Date.now()}@example.com`;

  /** inPage runs fn with a fresh browser context; on failure it saves a screenshot first. */
  async function inPage(t, variant, fn) {
    const context = await browser.newContext({ baseURL: apps[variant].origin });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await page.goto("/");
      assert.equal(await page.getByTestId("client-kind").textContent(), variant, "the page runs the client under test");
      await fn(page);
    } catch (err) {
      await mkdir(resultsDir, { recursive: true });
      const file = path.join(resultsDir, `${t.name.replace(/[^a-z0-9]+/gi, "-")}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`screenshot: ${file}\napp log:\n${apps[variant].logs.join("").slice(-4000)}`);
      throw err;
    } finally {
      await context.close();
    }
  }

  async function signUp(page, name, addr, password = "password1234") {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Email").fill(addr);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL("**/dashboard");
  }

  for (const variant of ["authsidecar", "upstream"]) {
    describe(`with the ${variant} client`, () => {
      it("signs up, keeps the session over a reload, signs out, and then guards the dashboard", async (t) => {
        await inPage(t, variant, async (page) => {
          await signUp(page, "Ada Lovelace", email());
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Ada Lovelace");
          // The nav's name comes from useSession in the browser, the heading from the server.
          await page.getByTestId("nav-user").getByText("Ada Lovelace").waitFor();

          await page.reload();
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Ada Lovelace");

          await page.getByRole("button", { name: "Sign out" }).click();
          await page.waitForURL("**/sign-in");
          await page.getByRole("link", { name: "Sign up" }).first().waitFor();

          await page.goto("/dashboard");
          const url = new URL(page.url());
          assert.equal(url.pathname + url.search, "/sign-in?callbackURL=/dashboard");
        });
      });

      it("shows the server's message for a wrong password, then signs in to the callbackURL", async (t) => {
        await inPage(t, variant, async (page) => {
          const addr = email();
          await signUp(page, "Grace Hopper", addr);
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.waitForURL("**/sign-in");

          await page.goto("/sign-in?callbackURL=/settings");
          await page.getByLabel("Email").fill(addr);
          await page.getByLabel("Password").fill("not-the-password");
          await page.getByRole("button", { name: "Sign in" }).click();
          // Scoped to the form: Next's route announcer is an (empty) alert too.
          assert.equal(await page.locator("form").getByRole("alert").textContent(), "Invalid email or password");

          await page.getByLabel("Password").fill("password1234");
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.waitForURL("**/settings");
          await page.getByRole("heading", { name: "Settings" }).waitFor();
        });
      });

      it("lists sessions, revokes another one, and changes the password", async (t) => {
        await inPage(t, variant, async (page) => {
          const addr = email();
          await signUp(page, "Alan Turing", addr);
          // A second device: its own browser context.
          const other = await browser.newContext({ baseURL: apps[variant].origin });
          const otherPage = await other.newPage();
          await otherPage.goto("/sign-in");
          await otherPage.getByLabel("Email").fill(addr);
          await otherPage.getByLabel("Password").fill("password1234");
          await otherPage.getByRole("button", { name: "Sign in" }).click();
          await otherPage.waitForURL("**/dashboard");

          await page.goto("/settings");
          const rows = page.getByTestId("sessions").locator("tbody tr");
          await page.getByText("this device").waitFor();
          assert.equal(await rows.count(), 2);
          await page.getByRole("button", { name: "Revoke" }).click();
          await page.waitForFunction(() => document.querySelectorAll("[data-testid=sessions] tbody tr").length === 1);

          await otherPage.goto("/dashboard");
          await otherPage.waitForURL("**/sign-in?callbackURL=/dashboard");
          await other.close();

          await page.getByLabel("Current password").fill("password1234");
          await page.getByLabel("New password").fill("another-password-5");
          await page.getByRole("button", { name: "Change password" }).click();
          assert.equal(await page.getByRole("status").textContent(), "Password changed.");
        });
      });
    });
  }
});
