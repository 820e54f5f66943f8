// What the client costs a browser: the React client bundled (esbuild, minified, React left out,
// as an app's bundler does) and gzipped, with no plugins, with the example app's six, and the same
// with upstream's better-auth/react and its plugins (from example/node_modules). The figures are
// printed, and must be the ones web/README.md states; the test fails when ours outgrows its budget
// or stops being well under upstream's.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { webRoot } from "./harness.js";

// The budget for the React client with the example's six plugins, gzipped.
const budget = 9_000;
const sixPlugins = "twoFactorClient(), passkeyClient(), organizationClient(), magicLinkClient(), emailOTPClient(), adminClient()";

let skip = false;
if (!existsSync(path.join(webRoot, "node_modules", "esbuild")) || !existsSync(path.join(webRoot, "dist", "react.js"))) {
  skip = "!!! SKIPPING size test: run npm ci and npm run build in web/ !!!";
  if (process.env.CI) throw new Error(skip);
  console.error(skip);
}

/** gzipped bundles the entry source (resolved from dir) for the browser and returns its gzipped size in bytes. */
export async function gzipped(contents, dir) {
  const { build } = await import("esbuild");
  const out = await build({
    stdin: { contents, resolveDir: dir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external: ["react", "react-dom", "react/jsx-runtime"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  return gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
}

const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

describe("bundle size", { skip }, () => {
  it("stays within budget, and well under upstream's client with the same plugins", async () => {
    const dist = path.join(webRoot, "dist");
    const bare = await gzipped(`import { createAuthClient } from "./react.js"; export const c = createAuthClient();`, dist);
    const ours = await gzipped(
      `import { createAuthClient, twoFactorClient, passkeyClient, organizationClient, magicLinkClient, emailOTPClient, adminClient } from "./react.js";
       export const c = createAuthClient({ plugins: [${sixPlugins}] });`,
      dist,
    );
    console.error(`@authsidecar/web/react, gzipped: ${kB(bare)} without plugins, ${kB(ours)} with the example's six`);
    assert.ok(bare < ours, "plugins not passed in are left out of the bundle");
    assert.ok(ours <= budget, `${kB(ours)} is over the ${kB(budget)} budget`);

    const example = path.join(webRoot, "example");
    try {
      createRequire(path.join(example, "package.json")).resolve("better-auth/react");
    } catch {
      if (process.env.CI) throw new Error("web/example has no node_modules");
      console.error("!!! SKIPPING the upstream size comparison: run npm ci in web/example !!!");
      return;
    }
    const upstream = await gzipped(
      `import { createAuthClient } from "better-auth/react";
       import { twoFactorClient, organizationClient, magicLinkClient, emailOTPClient, adminClient } from "better-auth/client/plugins";
       import { passkeyClient } from "@better-auth/passkey/client";
       export const c = createAuthClient({ plugins: [${sixPlugins}] });`,
      example,
    );
    const { version } = JSON.parse(await readFile(path.join(example, "node_modules", "better-auth", "package.json"), "utf8"));
    console.error(`better-auth/react ${version} with the same six, gzipped: ${kB(upstream)}`);
    assert.ok(ours * 2 < upstream, `ours (${kB(ours)}) is not under half of upstream's (${kB(upstream)})`);
    const readme = (await readFile(path.join(webRoot, "README.md"), "utf8")).replace(/\s+/g, " ");
    const stated = `is ${kB(bare)} gzipped without plugins and ${kB(ours)} with all six the example uses, against ${kB(upstream)} for`;
    assert.ok(readme.includes(stated), `web/README.md should say: ${stated}`);
  });
});
