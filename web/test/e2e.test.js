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
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { cookieFetch, eventually, freePort, missingTools, nextTotpStep, psql, secret, startSidecar, totp, totpKey, totpStep, webRoot } from "./harness.js";

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
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const screenshotDir = path.join(webRoot, "docs", "screenshots");

// The SAML identity provider of the compat harness (samlify, installed with web/compat), which
// signs login responses for a service provider's metadata; the SSO test needs it.
let samlIdP = null;
if (!skip) {
  try {
    samlIdP = await import("../compat/lib/samlidp.mjs");
  } catch (err) {
    const line = `!!! SKIPPING the SAML browser test: web/compat has no node_modules (npm ci there): ${err.message} !!!`;
    if (process.env.CI) throw new Error(line);
    console.error(line);
  }
}

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
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`next start exited:\n${logs.join("")}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`next start did not answer:\n${logs.join("")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    // The browser's name for the app: localhost, since WebAuthn refuses an IP address as RP ID.
    origin: `http://localhost:${port}`,
    logs,
    stop: async () => {
      if (!exited) process.kill(-child.pid, "SIGTERM");
      await exit;
    },
  };
}

/**
 * virtualAuthenticator gives the page's tab a CDP virtual authenticator: a platform passkey
 * provider (CTAP2, internal transport, resident keys, user verification) that answers without a
 * prompt. It records what each navigator.credentials call asked for ("create", "get", or
 * "get conditional" for autofill), so that a test can tell which ceremony signed the user in.
 */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  // enableUI stays off: headless Chromium cannot show the WebAuthn dialogs.
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const requests = [];
  await page.exposeFunction("recordCredentialRequest", (kind) => requests.push(kind));
  await page.addInitScript(() => {
    const container = navigator.credentials;
    const [create, get] = [container.create.bind(container), container.get.bind(container)];
    container.create = (init) => (window.recordCredentialRequest("create"), create(init));
    container.get = (init) => (window.recordCredentialRequest(init?.mediation ? `get ${init.mediation}` : "get"), get(init));
  });
  return {
    requests,
    /** credentials are the authenticator's keys, their IDs as the server stores them (base64url). */
    credentials: async () =>
      (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials.map((c) => ({
        ...c,
        credentialId: Buffer.from(c.credentialId, "base64").toString("base64url"),
      })),
    /** forget drops the authenticator's keys, as when a user deletes them on the device. */
    forget: () => cdp.send("WebAuthn.clearCredentials", { authenticatorId }),
  };
}

describe("example app in Chromium", { skip, timeout: 1_200_000 }, () => {
  let sidecar;
  let cacheSidecar; // COOKIE_CACHE_MAX_AGE on, for the middleware's "cookie-cache" mode
  let requiredSidecar; // REQUIRE_EMAIL_VERIFICATION on
  const apps = {};
  let browser;

  before(async () => {
    const [portOurs, portUpstream] = [await freePort(), await freePort()];
    const verifyPorts = { jwt: await freePort(), sidecar: await freePort(), "cookie-cache": await freePort() }; // authMiddleware's verify modes
    // The apps listen on 127.0.0.1, but browsers visit them as localhost: WebAuthn allows no IP
    // address as RP ID, and the sidecar takes its RP ID (localhost) from BETTER_AUTH_URL.
    const origins = { authsidecar: `http://localhost:${portOurs}`, upstream: `http://localhost:${portUpstream}` };
    const verifyOrigins = Object.values(verifyPorts).map((p) => `http://localhost:${p}`);
    // E2E_REUSE_BUILD=<port> reruns against the last build with the sidecar on that port.
    const reuse = process.env.E2E_REUSE_BUILD ? Number(process.env.E2E_REUSE_BUILD) : undefined;
    sidecar = await startSidecar({
      appOrigin: origins.authsidecar,
      env: {
        TRUSTED_ORIGINS: [origins.upstream, ...verifyOrigins].join(","),
        JWT_ENABLED: "true",
        // A social provider, so that the sign-in page shows its button (its authorize URL is
        // intercepted in the browser: nothing leaves the machine).
        AUTH_GITHUB_CLIENT_ID: "example-github-client",
        AUTH_GITHUB_CLIENT_SECRET: "example-github-secret",
      },
      port: reuse,
    });
    if (!reuse) {
      const started = Date.now();
      await run(process.execPath, [nextBin, "build"], {
        cwd: exampleDir,
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", AUTH_SIDECAR_URL: sidecar.url },
        maxBuffer: 64 << 20,
      });
      console.error(`next build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // The /api/auth route handler and getSession in Server Components read AUTH_SIDECAR_URL at run time.
    apps.authsidecar = await startApp(portOurs, { AUTH_CLIENT: "authsidecar", AUTH_SIDECAR_URL: sidecar.url, AUTH_SOCIAL_PROVIDERS: "github" });
    apps.upstream = await startApp(portUpstream, { AUTH_CLIENT: "upstream", AUTH_SIDECAR_URL: sidecar.url });
    // The same build with middleware.ts verifying sessions (its JWTs' iss is the sidecar's BETTER_AUTH_URL).
    // The cookie cache cannot be on for the other flows (a revoked device stays signed in until
    // it expires), so "cookie-cache" has a sidecar of its own, reached by the middleware and the
    // pages but not by the build's rewrite: its test signs in at that sidecar directly.
    cacheSidecar = await startSidecar({ appOrigin: `http://localhost:${verifyPorts["cookie-cache"]}`, env: { COOKIE_CACHE_MAX_AGE: "300" } });
    // The same build against a sidecar that requires a confirmed email, and against none at all.
    const [portRequired, portDown, closed] = [await freePort(), await freePort(), await freePort()];
    requiredSidecar = await startSidecar({ appOrigin: `http://localhost:${portRequired}`, env: { REQUIRE_EMAIL_VERIFICATION: "true" } });
    apps.required = await startApp(portRequired, { AUTH_CLIENT: "authsidecar", AUTH_SIDECAR_URL: requiredSidecar.url });
    apps.down = await startApp(portDown, { AUTH_CLIENT: "authsidecar", AUTH_SIDECAR_URL: `http://127.0.0.1:${closed}` });
    for (const [mode, port] of Object.entries(verifyPorts)) {
      const cache = mode === "cookie-cache";
      apps[`verify-${mode}`] = await startApp(port, {
        AUTH_CLIENT: "authsidecar",
        AUTH_SIDECAR_URL: cache ? cacheSidecar.url : sidecar.url,
        AUTH_MIDDLEWARE_VERIFY: mode,
        BETTER_AUTH_URL: cache ? cacheSidecar.appOrigin : origins.authsidecar,
        ...(cache && { BETTER_AUTH_SECRET: secret }),
      });
    }
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
  });

  after(async () => {
    await browser?.close();
    for (const app of Object.values(apps)) await app.stop();
    await sidecar?.stop();
    await cacheSidecar?.stop();
    await requiredSidecar?.stop();
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
      assert.equal(await page.getByTestId("client-kind").textContent(), variant === "upstream" ? "upstream" : "authsidecar", "the page runs the client under test");
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

  async function signOut(page) {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/sign-in");
  }

  /** signIn submits the sign-in form; a two-factor account then lands on the code page. */
  async function signIn(page, addr, password = "password1234") {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(addr);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  /** serverPasskeys is the signed-in user's passkey rows, as the page's origin reads them. */
  const serverPasskeys = (page) => page.evaluate(() => fetch("/api/auth/passkey/list-user-passkeys").then((r) => r.json()));

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

          await signOut(page);
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
          await signOut(page);

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

      it("enrols TOTP in settings, then signs in with a computed code and with a backup code once", async (t) => {
        await inPage(t, variant, async (page) => {
          const addr = email();
          await signUp(page, "Katherine Johnson", addr);
          await page.goto("/settings/two-factor");
          await page.getByLabel("Password").fill("password1234");
          await page.getByRole("button", { name: "Set up an authenticator app" }).click();
          // What a person types into an authenticator app: the base32 key under the QR code, in groups of four.
          const shown = await page.getByTestId("totp-secret").textContent();
          assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
          await page.getByTestId("totp-qr").locator("svg").waitFor();
          const key = totpKey(`otpauth://totp/x?secret=${shown.replace(/ /g, "")}`);
          const backupCodes = await page.getByTestId("backup-codes").locator("li").allTextContents();
          assert.equal(backupCodes.length, 10);
          const step = totpStep();
          await page.getByLabel("Code from the app").fill(totp(key, step));
          await page.getByRole("button", { name: "Turn on" }).click();
          assert.equal(await page.getByRole("status").textContent(), "Two-factor authentication is on.");
          await page.getByRole("heading", { name: "On", exact: true }).waitFor();

          // The password alone no longer signs in: the app asks for the code. The sidecar takes
          // each step's code once, so this one is a later step's.
          await signOut(page);
          await signIn(page, addr);
          await page.waitForURL(/\/two-factor\?callbackURL=%2Fdashboard$/);
          await page.getByLabel("Code", { exact: true }).fill(totp(key, nextTotpStep(step)));
          await page.getByRole("button", { name: "Verify" }).click();
          await page.waitForURL("**/dashboard");
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Katherine Johnson");

          for (const want of ["dashboard", "Invalid backup code"]) {
            await signOut(page);
            await signIn(page, addr);
            await page.waitForURL(/\/two-factor\?/);
            await page.getByLabel("Backup code").check();
            await page.getByLabel("Code", { exact: true }).fill(backupCodes[0]);
            await page.getByRole("button", { name: "Verify" }).click();
            if (want === "dashboard") await page.waitForURL("**/dashboard");
            else assert.equal(await page.locator(".card").getByRole("alert").textContent(), want);
          }
        });
      });

      it("creates organizations, switches the active one, and adds a member by a mailed invitation", async (t) => {
        await inPage(t, variant, async (page) => {
          await signUp(page, "Ada Owner", email());
          await page.goto("/settings/organizations");
          // Slugs are global, and both clients' runs share one sidecar.
          const [acme, beta] = [`Acme ${variant}`, `Beta ${variant}`];
          const create = async (name) => {
            await page.getByLabel("New organization").fill(name);
            await page.getByRole("button", { name: "Create" }).click();
            await page.getByRole("status").getByText(`Created ${name}.`).waitFor();
          };
          // A new organization becomes the active one.
          await create(acme);
          await page.getByRole("heading", { name: `${acme}: members` }).waitFor();
          await create(beta);
          await page.getByRole("heading", { name: `${beta}: members` }).waitFor();
          const acmeRow = page.getByTestId("organizations").locator("li", { hasText: acme });
          await acmeRow.getByRole("button", { name: "Make active" }).click();
          await page.getByRole("heading", { name: `${acme}: members` }).waitFor();

          const invitee = email();
          await page.getByLabel("Invite by email").fill(invitee);
          await page.getByRole("button", { name: "Send invitation" }).click();
          await page.getByRole("status").getByText(`Invited ${invitee}.`).waitFor();
          await page.locator("li", { hasText: invitee }).waitFor(); // under the pending invitations

          // The invitee follows the mailed link: signs up, comes back to it, and accepts.
          const { url } = await sidecar.mail.wait("organization-invitation", invitee);
          const other = await browser.newContext({ baseURL: apps[variant].origin });
          try {
            const guest = await other.newPage();
            guest.setDefaultTimeout(15_000);
            // Signed out, the link leads to sign-in and on to sign-up, which bring the invitee back to it.
            const invitationPath = new URL(url).pathname; // the mail names the sidecar's app origin
            await guest.goto(invitationPath);
            await guest.waitForURL(`**/sign-in?callbackURL=${invitationPath}`); // authMiddleware leaves the path as it is
            await guest.locator("main").getByRole("link", { name: "Sign up" }).click();
            await guest.getByLabel("Name").fill("Grace Member");
            await guest.getByLabel("Email").fill(invitee);
            await guest.getByLabel("Password").fill("password1234");
            await guest.getByRole("button", { name: "Sign up" }).click();
            await guest.waitForURL(`**${invitationPath}`);
            assert.match(await guest.getByTestId("invitation").textContent(), new RegExp(`invites you to join ${acme} as member\\.$`));
            await guest.getByRole("button", { name: "Accept" }).click();
            await guest.waitForURL("**/settings/organizations");
            await guest.getByRole("heading", { name: `${acme}: members` }).waitFor();
            // A member sees what a member may do (the sidecar's hasPermission): leave, but no
            // invitations, removals, role changes, teams or deletion.
            await guest.getByTestId("my-role").getByText("You are a member here.").waitFor();
            await guest.getByRole("button", { name: `Leave ${acme}` }).waitFor();
            await guest.getByTestId("teams").waitFor(); // the organization's default team
            for (const name of ["Send invitation", "Remove", `Delete ${acme}`, "Delete team", "Add team"]) {
              assert.equal(await guest.getByRole("button", { name }).count(), 0, `a member sees no ${name}`);
            }
            assert.equal(await guest.getByRole("combobox").count(), 0, "a member changes no roles");
          } finally {
            await other.close();
          }

          await page.reload();
          await page.getByRole("heading", { name: `${acme}: members` }).waitFor();
          const rows = await page.locator("table tbody tr").allTextContents();
          assert.equal(rows.length, 2);
          assert.ok(rows.some((r) => r.includes("Grace Member") && r.includes(invitee)), rows.join(" | "));
          // The owner may do everything: make the member an admin, add a team, remove the member.
          await page.getByLabel(`Role of ${invitee}`).selectOption("admin");
          await page.getByRole("status").getByText("Role changed.").waitFor();
          await page.getByLabel("New team").fill("Platform");
          await page.getByRole("button", { name: "Add team" }).click();
          await page.getByTestId("teams").getByText("Platform").waitFor();
          await page.getByRole("button", { name: `Remove ${invitee}` }).click();
          await page.getByRole("button", { name: "Yes, remove" }).click();
          await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 1);
        });
      });

      it("an admin searches and pages users, bans and unbans, sets a role, revokes sessions, impersonates and stops", async (t) => {
        await inPage(t, variant, async (page) => {
          const adminEmail = email();
          await signUp(page, "Root Admin", adminEmail);
          await psql(sidecar.databaseURL, `UPDATE "user" SET role = 'admin' WHERE email = '${adminEmail}'`);
          const tag = `adm${variant}${Date.now()}`;
          const made = await page.evaluate(async (tag) => {
            const out = [];
            for (let i = 1; i <= 6; i++) {
              const res = await fetch("/api/auth/admin/create-user", {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ email: `${tag}-${i}@example.com`, password: "password1234", name: `Person ${i}` }),
              });
              out.push(res.status);
            }
            return out;
          }, tag);
          assert.deepEqual(made, [200, 200, 200, 200, 200, 200]);

          await page.goto("/admin");
          await page.getByRole("link", { name: "Admin" }).waitFor();
          await page.getByLabel("Search by email").fill(tag);
          await page.getByRole("button", { name: "Search" }).click();
          await page.getByTestId("page").getByText("Page 1 of 2 (6 users)").waitFor();
          const rows = page.getByTestId("users").locator("tbody tr");
          assert.equal(await rows.count(), 5);
          await page.getByRole("button", { name: "Next" }).click();
          await page.getByTestId("page").getByText("Page 2 of 2").waitFor();
          assert.equal(await rows.count(), 1);
          await page.getByRole("button", { name: "Previous" }).click();
          await page.getByTestId("page").getByText("Page 1 of 2").waitFor();

          const row = (i) => page.locator(`tr[data-email="${tag}-${i}@example.com"]`);
          page.once("dialog", (dialog) => dialog.accept("spam"));
          await row(1).getByRole("button", { name: "Ban" }).click();
          await page.getByRole("status").getByText(`Banned ${tag}-1@example.com.`).waitFor();
          await row(1).getByText("banned: spam").waitFor();
          const refused = await fetch(`${sidecar.url}/api/auth/sign-in/email`, {
            method: "POST",
            headers: { "content-type": "application/json", origin: sidecar.appOrigin },
            body: JSON.stringify({ email: `${tag}-1@example.com`, password: "password1234" }),
          });
          assert.deepEqual([refused.status, (await refused.json()).code], [403, "BANNED_USER"]);
          await row(1).getByRole("button", { name: "Unban" }).click();
          await row(1).getByText("active").waitFor();

          await row(2).getByLabel(`Role of ${tag}-2@example.com`).selectOption("admin");
          await page.getByRole("status").getByText(`${tag}-2@example.com is now admin.`).waitFor();
          await row(3).getByRole("button", { name: "Revoke sessions" }).click();
          await page.getByRole("status").getByText(`Signed ${tag}-3@example.com out everywhere.`).waitFor();

          await row(4).getByRole("button", { name: "Impersonate" }).click();
          await page.waitForURL("**/dashboard");
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Person 4");
          const banner = page.getByTestId("impersonation-banner");
          assert.equal((await banner.textContent()).replace(/\s+/g, " "), "You are acting as Person 4 — stop");
          await banner.getByRole("button", { name: "stop" }).click();
          await page.waitForURL("**/admin");
          await page.getByTestId("nav-user").getByText("Root Admin").waitFor();
          assert.equal(await banner.count(), 0);

          // A user who is not an admin gets no link and no console.
          const other = await browser.newContext({ baseURL: apps[variant].origin });
          try {
            const plain = await other.newPage();
            plain.setDefaultTimeout(15_000);
            await signUp(plain, "Plain User", email());
            assert.equal(await plain.getByRole("link", { name: "Admin" }).count(), 0);
            await plain.goto("/admin");
            await plain.locator("main").getByRole("alert").getByText("Admins only.").waitFor();
          } finally {
            await other.close();
          }
        });
      });

      it("adds a passkey in settings, signs in with it by autofill and by the button, renames and deletes it", async (t) => {
        await inPage(t, variant, async (page) => {
          const device = await virtualAuthenticator(page);
          await signUp(page, "Barbara Liskov", email());

          await page.goto("/settings/passkeys");
          await page.getByText("None yet.").waitFor();
          await page.getByLabel("Name").fill("Laptop");
          await page.getByRole("button", { name: "Add passkey" }).click();
          assert.equal(await page.getByRole("status").textContent(), "Passkey added.");
          await page.getByTestId("passkeys").getByText("Laptop").waitFor();
          const [key] = await device.credentials();
          assert.equal(key.rpId, "localhost");
          assert.equal(key.isResidentCredential, true);
          const [row] = await serverPasskeys(page);
          assert.equal(row.credentialID, key.credentialId, "the server stored the authenticator's credential");
          assert.equal(row.name, "Laptop");
          // The options exclude the registered key, so the authenticator refuses to make another.
          await page.getByRole("button", { name: "Add passkey" }).click();
          // Scoped to main: Next's route announcer is an (empty) alert too.
          assert.equal(await page.locator("main").getByRole("alert").textContent(), "Previously registered");
          assert.equal((await device.credentials()).length, 1);
          assert.equal((await serverPasskeys(page)).length, 1);
          assert.deepEqual(device.requests, ["create", "create"]);

          // Autofill: the page asks with conditional mediation as it loads. Chromium's virtual
          // environment answers such a request at once with the only discoverable credential,
          // without showing the autofill list, so nothing in the field needs focus or a click.
          await signOut(page);
          await page.getByRole("link", { name: "Use a passkey" }).click();
          await page.waitForURL("**/dashboard");
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Barbara Liskov");
          assert.deepEqual(device.requests, ["create", "create", "get conditional"]);

          // The button, in a browser that offers no autofill: in Chromium, the page's autofill
          // request would sign the user in before the button could be clicked.
          await page.addInitScript(() => {
            PublicKeyCredential.isConditionalMediationAvailable = async () => false;
          });
          await signOut(page);
          await page.goto("/passkey?callbackURL=/dashboard"); // a new document, which runs the script
          await page.getByRole("button", { name: "Sign in with a passkey" }).click();
          await page.waitForURL("**/dashboard");
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Barbara Liskov");
          assert.deepEqual(device.requests, ["create", "create", "get conditional", "get"]);
          const [signedTwice] = await device.credentials();
          assert.equal((await serverPasskeys(page))[0].counter, signedTwice.signCount, "the server keeps the sign counter");

          await page.goto("/settings/passkeys");
          await page.getByRole("button", { name: "Rename" }).click();
          await page.getByLabel("New name").fill("Work laptop");
          await page.getByRole("button", { name: "Save" }).click();
          await page.getByTestId("passkeys").getByText("Work laptop").waitFor();
          // Delete asks first; cancelling keeps the passkey.
          await page.getByRole("button", { name: "Delete" }).click();
          await page.getByRole("button", { name: "Cancel" }).click();
          await page.getByRole("button", { name: "Delete" }).click();
          await page.getByRole("button", { name: "Yes, delete" }).click();
          await page.getByText("None yet.").waitFor();

          // The authenticator still holds the key; the server no longer takes it.
          await signOut(page);
          await page.getByRole("link", { name: "Use a passkey" }).click();
          const button = page.getByRole("button", { name: "Sign in with a passkey" });
          await button.click();
          const alert = page.locator(".card").getByRole("alert");
          assert.equal(await alert.textContent(), "Passkey not found");
          // Without any key the browser refuses the request, and the client reports a cancel.
          await device.forget();
          await button.click();
          await alert.getByText("Auth cancelled", { exact: true }).waitFor();
        });
      });
    });
  }

  describe("every screen (authsidecar client)", () => {
    const variant = "authsidecar";
    const screenshots = [];

    /**
     * checkScreen runs axe-core on the page as it is and fails on any serious or critical
     * violation; with a name it also keeps a screenshot (written to docs/ by UPDATE_SCREENSHOTS=1).
     */
    async function checkScreen(page, label, shot) {
      await page.addScriptTag({ path: axePath });
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, { resultTypes: ["violations"] });
        return result.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
      });
      assert.deepEqual(violations, [], `axe on ${label} at ${page.viewportSize().width} px`);
      // Nothing sticks out sideways: the page is as wide as the viewport.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${label} is ${overflow} px wider than ${page.viewportSize().width} px`);
      if (shot) {
        const file = `${shot}-${page.viewportSize().width < 500 ? "mobile" : "desktop"}.png`;
        const dir = process.env.UPDATE_SCREENSHOTS ? screenshotDir : path.join(resultsDir, "screens");
        await mkdir(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, file) });
        screenshots.push(file);
      }
    }

    /** walk visits each path at desktop width and at 390 px, checking each screen. */
    async function walk(page, screens) {
      for (const width of [1000, 390]) {
        await page.setViewportSize({ width, height: width < 500 ? 844 : 760 });
        for (const [path, ready, shot] of screens) {
          await page.goto(path);
          await ready(page);
          await checkScreen(page, path, shot);
        }
      }
      await page.setViewportSize({ width: 1000, height: 760 });
    }

    const heading = (name) => (page) => page.getByRole("heading", { name, exact: true }).waitFor();

    it("walks the signed-out screens at desktop and phone widths: accessible, no sideways overflow", async (t) => {
      await inPage(t, variant, async (page) => {
        await walk(page, [
          ["/", heading("authsidecar example")],
          ["/sign-in", heading("Sign in"), "sign-in"],
          ["/sign-up", heading("Create an account"), "sign-up"],
          ["/forgot-password", heading("Reset your password")],
          ["/reset-password?token=x&error=INVALID_TOKEN", heading("This link no longer works")],
          ["/sign-in/magic-link", heading("Sign in with a link")],
          ["/sign-in/email-otp", heading("Sign in with a code")],
          ["/sign-in/sso", heading("Sign in with SSO")],
          ["/passkey", heading("Sign in with a passkey")],
          ["/verify-email?email=someone%40example.com", heading("Check your inbox")],
          ["/verified?next=%2Fdashboard", heading("Email confirmed")],
          ["/no-such-page", heading("Page not found")],
        ]);
      });
    });

    it("walks the signed-in screens at desktop and phone widths, with Sign out reachable on a phone", async (t) => {
      await inPage(t, variant, async (page) => {
        const addr = email();
        await signUp(page, "Hedy Lamarr", addr);
        await psql(sidecar.databaseURL, `UPDATE "user" SET role = 'admin' WHERE email = '${addr}'`);
        await page.goto("/settings/organizations");
        await page.getByLabel("New organization").fill(`Walk ${Date.now()}`);
        await page.getByRole("button", { name: "Create" }).click();
        await page.getByTestId("active-organization").waitFor();
        await walk(page, [
          ["/dashboard", (p) => p.getByTestId("welcome").waitFor(), "dashboard"],
          ["/settings", (p) => p.getByTestId("sessions").waitFor(), "settings"],
          ["/settings/two-factor", heading("Off"), "two-factor"],
          ["/settings/passkeys", (p) => p.getByText("None yet.").waitFor()],
          ["/settings/organizations", (p) => p.getByTestId("teams").or(p.getByText("No teams.")).waitFor(), "organizations"],
          ["/admin", (p) => p.getByTestId("users").waitFor(), "admin"],
        ]);
        // The session's device is named, not dumped: Chromium's user agent reads as Chrome on Linux.
        await page.goto("/dashboard");
        assert.match(await page.getByTestId("device").textContent(), /^(Headless )?Chrome on Linux$/);
        // On a phone the nav wraps instead of overflowing, and Sign out is on screen.
        await page.setViewportSize({ width: 390, height: 844 });
        const box = await page.getByRole("button", { name: "Sign out" }).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `Sign out at ${JSON.stringify(box)}`);
        // The two-factor screens while enrolling: the key for typing by hand, the codes to keep.
        await page.setViewportSize({ width: 1000, height: 760 });
        await page.goto("/settings/two-factor");
        await page.getByLabel("Password").fill("password1234");
        await page.getByRole("button", { name: "Set up an authenticator app" }).click();
        await page.getByTestId("totp-secret").waitFor();
        await checkScreen(page, "two-factor enrolment", "two-factor-enrol");
        await signOut(page);
      });
    });

    it("resets a forgotten password through the mailed link, which opens the reset screen", async (t) => {
      await inPage(t, variant, async (page) => {
        const addr = email();
        await signUp(page, "Frances Allen", addr);
        await signOut(page);
        await page.getByRole("link", { name: "Forgot password?" }).click();
        // The sign-in page has an Email field too: fill only once the next page is shown.
        await page.getByRole("heading", { name: "Reset your password" }).waitFor();
        await page.getByLabel("Email").fill(addr);
        await page.getByRole("button", { name: "Send reset link" }).click();
        await page.getByTestId("reset-sent").getByText(addr).waitFor();
        const { url } = await sidecar.mail.wait("reset-password", addr);
        await page.goto(new URL(url).pathname + new URL(url).search); // through the sidecar, on to /reset-password?token=…
        await page.waitForURL(/\/reset-password\?token=/);
        await page.getByLabel("New password").fill("brand-new-password");
        await page.getByLabel("Repeat it").fill("not-the-same-one");
        await page.getByRole("button", { name: "Set new password" }).click();
        assert.equal(await page.locator("form").getByRole("alert").textContent(), "The two passwords differ.");
        await page.getByLabel("Repeat it").fill("brand-new-password");
        await page.getByRole("button", { name: "Set new password" }).click();
        await page.getByTestId("reset-done").waitFor();
        await signIn(page, addr, "brand-new-password");
        await page.waitForURL("**/dashboard");
        // The link worked once.
        await page.goto(new URL(url).pathname + new URL(url).search);
        await page.getByTestId("reset-invalid").waitFor();
      });
    });

    it("signs in by magic link as a new passwordless user, shown by email, who then sets a password", async (t) => {
      await inPage(t, variant, async (page) => {
        const addr = email();
        await page.goto("/sign-in");
        await page.getByRole("link", { name: "Email me a link" }).click();
        await page.getByRole("heading", { name: "Sign in with a link" }).waitFor();
        await page.getByLabel("Email").fill(addr);
        await page.getByRole("button", { name: "Email me a link" }).click();
        await page.getByTestId("magic-link-sent").getByText(addr).waitFor();
        const { url } = await sidecar.mail.wait("magic-link", addr);
        await page.goto(new URL(url).pathname + new URL(url).search);
        await page.waitForURL("**/dashboard");
        // No name: the app says the email instead of "Welcome," and an empty nav.
        assert.equal(await page.getByTestId("welcome").textContent(), `Welcome, ${addr}`);
        await page.getByTestId("nav-user").getByText(addr).waitFor();
        // A signed-in visitor of sign-in or sign-up goes on to the callbackURL.
        await page.goto("/sign-in?callbackURL=/settings");
        await page.waitForURL("**/settings");
        await page.goto("/sign-up");
        await page.waitForURL("**/dashboard");

        await page.goto("/settings");
        await page.getByRole("button", { name: "Email me a link to set a password" }).click();
        await page.getByRole("status").getByText(`Sent a link to ${addr}.`).waitFor();
        const reset = await sidecar.mail.wait("reset-password", addr);
        await page.goto(new URL(reset.url).pathname + new URL(reset.url).search);
        await page.getByLabel("New password").fill("first-password-1");
        await page.getByLabel("Repeat it").fill("first-password-1");
        await page.getByRole("button", { name: "Set new password" }).click();
        await page.getByTestId("reset-done").waitFor();
        await page.goto("/settings");
        await page.getByRole("heading", { name: "Change password" }).waitFor();
      });
    });

    it("signs in with an emailed code, and a wrong code says so beside the form", async (t) => {
      await inPage(t, variant, async (page) => {
        const addr = email();
        await page.goto("/sign-in/email-otp?callbackURL=/settings");
        await page.getByLabel("Email").fill(addr);
        await page.getByRole("button", { name: "Email me a code" }).click();
        const { otp } = await sidecar.mail.wait("email-otp", addr);
        await page.getByLabel("Code").fill(otp === "000000" ? "111111" : "000000");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.locator("form").getByRole("alert").waitFor();
        await page.getByLabel("Code").fill(otp);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL("**/settings");
        await page.getByTestId("nav-user").getByText(addr).waitFor();
      });
    });

    it("edits the profile, asks for an email change, and deletes the account after confirming", async (t) => {
      await inPage(t, variant, async (page) => {
        const addr = email();
        await signUp(page, "Radia Perlman", addr);
        await page.goto("/settings");
        await page.getByLabel("Name").fill("Radia J. Perlman");
        await page.getByRole("button", { name: "Save profile" }).click();
        await page.getByRole("status").getByText("Profile saved.").waitFor();
        await page.getByTestId("nav-user").getByText("Radia J. Perlman").waitFor();
        const next = email();
        await page.getByLabel("New email").fill(next);
        await page.getByRole("button", { name: "Change email" }).click();
        await page.getByRole("status").getByText(`Check ${next} to confirm it.`).waitFor();
        await page.getByText("No linked accounts.").waitFor();
        await page.getByRole("button", { name: "Link GitHub" }).waitFor();

        await page.getByRole("button", { name: "Delete my account" }).click();
        await page.getByRole("button", { name: "Yes, continue" }).click();
        await page.getByLabel("Your password").fill("wrong-password");
        await page.getByRole("form", { name: "Delete account" }).getByRole("button", { name: "Delete my account" }).click();
        await page.getByRole("form", { name: "Delete account" }).getByRole("alert").waitFor();
        await page.getByLabel("Your password").fill("password1234");
        await page.getByRole("form", { name: "Delete account" }).getByRole("button", { name: "Delete my account" }).click();
        await page.waitForURL("**/?deleted=1");
        await page.getByRole("status").getByText("Your account was deleted.").waitFor();
        await signIn(page, addr);
        await page.locator("form").getByRole("alert").getByText("Invalid email or password").waitFor();
      });
    });

    it("shows the configured social provider's button, which sends the browser to the provider", async (t) => {
      await inPage(t, variant, async (page) => {
        let authorize;
        await page.context().route("https://github.com/**", (route) => {
          authorize = new URL(route.request().url());
          return route.fulfill({ status: 200, contentType: "text/html", body: "<title>GitHub (fake)</title><h1>GitHub</h1>" });
        });
        await page.goto("/sign-in");
        await page.getByRole("button", { name: "Continue with GitHub" }).click();
        await page.waitForURL("https://github.com/**");
        assert.equal(authorize.pathname, "/login/oauth/authorize");
        assert.equal(authorize.searchParams.get("client_id"), "example-github-client");
        assert.equal(authorize.searchParams.get("redirect_uri"), `${apps[variant].origin}/api/auth/callback/github`);
      });
    });

    it("another tab leaves a signed-in page when this one signs out", async (t) => {
      await inPage(t, variant, async (page) => {
        await signUp(page, "Leslie Lamport", email());
        const other = await page.context().newPage();
        await other.goto("/settings");
        await other.getByTestId("sessions").waitFor();
        await page.goto("/dashboard");
        await signOut(page);
        await other.waitForURL("**/sign-in?callbackURL=%2Fsettings");
        await other.close();
      });
    });

    it("with required verification, sign-up shows the pending screen, resends, and the link confirms", async (t) => {
      await inPage(t, "required", async (page) => {
        const addr = email();
        await page.goto("/sign-up");
        await page.getByLabel("Name").fill("Margaret Hamilton");
        await page.getByLabel("Email").fill(addr);
        await page.getByLabel("Password").fill("password1234");
        await page.getByRole("button", { name: "Sign up" }).click();
        await page.getByTestId("verify-pending").getByText(addr).waitFor();
        await checkScreen(page, "verify-email", "verify-email");
        await requiredSidecar.mail.wait("verify-email", addr);
        await page.getByRole("button", { name: "Resend the link" }).click();
        await page.getByRole("status").getByText(`Sent a new link to ${addr}.`).waitFor();
        const links = async () => (await requiredSidecar.mail.all()).filter((m) => m.type === "verify-email" && m.email === addr);
        const second = await eventually(async () => {
          const sent = await links();
          assert.equal(sent.length, 2, "the sign-up's link and the resent one");
          return sent[1];
        }, 15_000);
        // Signing in before confirming says why, and offers the link again.
        await signIn(page, addr);
        await page.locator("form").getByRole("alert").getByText(/verif/i).waitFor();
        await page.getByRole("button", { name: "Resend the link" }).waitFor();
        await page.goto(new URL(second.url).pathname + new URL(second.url).search);
        await page.waitForURL(/\/verified\?/);
        await page.getByTestId("verified").waitFor();
        await page.getByRole("link", { name: "Sign in to continue" }).click();
        await page.getByLabel("Email").fill(addr);
        await page.getByLabel("Password").fill("password1234");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL("**/dashboard");
        // Invitations for an unverified account say why they are hidden: this one is verified now.
        await page.goto("/settings/organizations");
        await page.getByText("You are not in any organization yet.").waitFor();
        assert.equal(await page.getByTestId("invitations-for-you").count(), 0);
      });
    });

    it("says kindly that sign-in is unavailable when the sidecar is down, on pages and in forms", async (t) => {
      await inPage(t, "down", async (page) => {
        const unreachable = "We can't reach the sign-in service right now. Please try again in a moment.";
        // A client-side form gets a sentence, not "Sign-in failed (500)".
        await signIn(page, "someone@example.com", "password1234");
        assert.equal(await page.locator("form").getByRole("alert").textContent(), unreachable);
        await page.goto("/forgot-password");
        await page.getByLabel("Email").fill("someone@example.com");
        await page.getByRole("button", { name: "Send reset link" }).click();
        assert.equal(await page.locator("form").getByRole("alert").textContent(), unreachable);
        // With a session cookie, a page that must know who is signed in says so instead of crashing.
        await page.context().addCookies([{ name: "better-auth.session_token", value: "t.s", url: apps.down.origin }]);
        for (const path of ["/dashboard", "/sign-in"]) {
          await page.goto(path);
          await page.getByTestId("sidecar-down").waitFor();
        }
        await checkScreen(page, "sidecar down", "sidecar-down");
      });
    });

    it("signs in through a SAML identity provider with \"Sign in with SSO\"", { skip: !samlIdP && "web/compat has no node_modules (samlify)" }, async (t) => {
      await inPage(t, variant, async (page) => {
        const owner = email();
        await signUp(page, "SSO Admin", owner);
        const tag = `saml${Date.now()}`;
        const domain = `${tag}.example.com`;
        const providerId = `${tag}-idp`;
        const registered = await page.evaluate(
          async (body) => (await fetch("/api/auth/sso/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).status,
          {
            providerId,
            issuer: `${apps[variant].origin}/${providerId}`,
            domain,
            samlConfig: { entryPoint: "http://idp.example.com/sso", cert: samlIdP.idpCert, idpMetadata: { entityID: samlIdP.idpEntityID } },
          },
        );
        assert.equal(registered, 200);
        await signOut(page);

        // The IdP: the browser's request to it is answered here with the signed response,
        // posted back to the app's ACS as an IdP's page does (the HTTP-POST binding).
        const employee = `ada@${domain}`;
        await page.context().route("http://idp.example.com/**", async (route) => {
          const { id, relayState } = samlIdP.authnRequestOf(route.request().url());
          const SAMLResponse = await samlIdP.loginResponse({ origin: sidecar.url }, providerId, employee, id);
          const acs = `${apps[variant].origin}/api/auth/sso/saml2/sp/acs/${providerId}`;
          const field = (name, value) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, "&quot;")}">`;
          await route.fulfill({
            contentType: "text/html",
            body: `<form method="post" action="${acs}">${field("SAMLResponse", SAMLResponse)}${field("RelayState", relayState ?? "")}</form><script>document.forms[0].submit()</script>`,
          });
        });
        await page.goto("/sign-in");
        await page.getByRole("link", { name: "Sign in with SSO" }).click();
        await page.getByLabel("Work email").fill(employee);
        await page.getByRole("button", { name: "Continue" }).click();
        await page.waitForURL("**/dashboard");
        // The IdP sent no name attributes: the sidecar names the user by the NameID, the email.
        assert.equal(await page.getByTestId("welcome").textContent(), `Welcome, ${employee}`);
      });
    });

    after(() => {
      if (screenshots.length) console.error(`screenshots: ${screenshots.join(", ")} in ${process.env.UPDATE_SCREENSHOTS ? screenshotDir : path.join(resultsDir, "screens")}`);
    });
  });

  describe("authMiddleware verifying in the Edge runtime", () => {
    for (const mode of ["jwt", "sidecar"]) {
      it(`verify "${mode}" decides ${mode === "jwt" ? "on its JWT after one sidecar answer" : "with the sidecar"}, and sends a signed-out visitor to sign-in`, async () => {
        const context = await browser.newContext({ baseURL: apps[`verify-${mode}`].origin });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const decision = async (path) => (await page.goto(path)).headers()["x-authsidecar-decision"];
        try {
          await signUp(page, "Edsger Dijkstra", email());
          await context.clearCookies({ name: "authsidecar.session_jwt" });
          assert.equal(await decision("/dashboard"), "sidecar");
          assert.equal(await page.getByTestId("welcome").textContent(), "Welcome, Edsger Dijkstra");
          const held = (await context.cookies()).find((c) => c.name === "authsidecar.session_jwt");
          assert.equal(Boolean(held?.httpOnly), mode === "jwt", "only the jwt mode keeps an HttpOnly JWT cookie");
          assert.equal(await decision("/settings"), mode === "jwt" ? "jwt" : "sidecar");
          await page.getByRole("heading", { name: "Settings" }).waitFor();

          await page.goto("/dashboard");
          await signOut(page);
          await page.goto("/dashboard");
          const url = new URL(page.url());
          assert.equal(url.pathname + url.search, "/sign-in?callbackURL=/dashboard");
        } finally {
          await context.close();
        }
      });
    }

    it('verify "cookie-cache" decides on the signed session_data cookie, and asks the sidecar when it is forged', async () => {
      const app = apps["verify-cookie-cache"];
      const jar = cookieFetch(app.origin);
      const up = await jar(`${cacheSidecar.apiURL}/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: email(), password: "password1234", name: "Barbara Liskov" }),
      });
      assert.equal(up.status, 200);
      assert.ok(jar.jar.has("better-auth.session_data"), "the sidecar set the cookie cache");
      const visit = (cookie) => fetch(`${app.origin.replace("localhost", "127.0.0.1")}/dashboard`, { headers: { cookie }, redirect: "manual" });
      const local = await visit(jar.cookieHeader());
      assert.equal(local.headers.get("x-authsidecar-decision"), "cookie-cache");
      assert.match(await local.text(), /Welcome, <!-- -->Barbara Liskov|Welcome, Barbara Liskov/);
      const forged = jar.cookieHeader().replace(/better-auth\.session_data=([^;]+)/, (_, v) => `better-auth.session_data=${v.slice(0, -4)}AAAA`);
      const fallback = await visit(forged);
      assert.equal(fallback.headers.get("x-authsidecar-decision"), "sidecar");
      await fallback.arrayBuffer();
      await jar(`${cacheSidecar.apiURL}/sign-out`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      const out = await visit(jar.cookieHeader());
      assert.equal(out.status, 307);
      assert.equal(new URL(out.headers.get("location")).pathname, "/sign-in");
    });
  });
});
