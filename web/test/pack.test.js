// The README's way into one's own app: `npm pack` in web/, then `npm install <tarball>` in the
// app. This installs the tarball into a fresh Next.js App Router app (test/fixtures/packed-app:
// a client component with useSession, a Server Component with getSession, middleware) and builds
// it, so a package that ships without its types, an export path or a built file fails here.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { webRoot } from "./harness.js";

const run = promisify(execFile);
const exampleModules = path.join(webRoot, "example", "node_modules");
const fixture = path.join(webRoot, "test", "fixtures", "packed-app");
// Installed in web/example already; linked rather than downloaded a second time.
const linked = ["next", "react", "react-dom", "typescript", "@types/react", "@types/react-dom", "@types/node"];

let skip = false;
if (!existsSync(path.join(exampleModules, "next")) || !existsSync(path.join(webRoot, "dist", "index.js"))) {
  skip = "!!! SKIPPING pack test: run npm ci and npm run build in web/, npm ci in web/example !!!";
  if (process.env.CI) throw new Error(skip);
  console.error(skip);
}

describe("@authsidecar/web from npm pack", { skip, timeout: 300_000 }, () => {
  let dir;
  after(async () => dir && rm(dir, { recursive: true, force: true }));

  it("installs into a fresh Next.js app that then builds", async () => {
    const started = Date.now();
    dir = await mkdtemp(path.join(tmpdir(), "authsidecar-pack-"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: webRoot });
    const [packed] = JSON.parse(stdout);
    const shipped = packed.files.map((f) => f.path);
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/react.js", "dist/react.d.ts", "dist/next.js", "dist/next.d.ts", "package.json"]) {
      assert.ok(shipped.includes(file), `the tarball lacks ${file}`);
    }
    assert.deepEqual(shipped.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(f)), [], "only dist/ ships");

    const app = path.join(dir, "app");
    await cp(fixture, app, { recursive: true });
    const pkg = { name: "packed-app", private: true, type: "module", dependencies: { "@authsidecar/web": `file:${path.join(dir, packed.filename)}` } };
    await writeFile(path.join(app, "package.json"), JSON.stringify(pkg, null, 2));
    // The package has no dependencies (react is an optional peer), so nothing else is fetched.
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app });
    const installed = await lstat(path.join(app, "node_modules", "@authsidecar", "web"));
    assert.ok(installed.isDirectory() && !installed.isSymbolicLink(), "installed from the tarball, not linked");

    for (const name of linked) {
      await mkdir(path.dirname(path.join(app, "node_modules", name)), { recursive: true });
      await symlink(path.join(exampleModules, name), path.join(app, "node_modules", name), "dir");
    }
    await run(process.execPath, [path.join(app, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: app,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
      maxBuffer: 64 << 20,
    });
    assert.ok(existsSync(path.join(app, ".next", "BUILD_ID")), "next build wrote a build");
    assert.ok(existsSync(path.join(app, ".next", "server", "middleware.js")), "the middleware was built");
    console.error(`pack, install and next build of a fresh app: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
