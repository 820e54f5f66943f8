// The client's type tests: test/types/compiles.ts must compile (with its exact-type assertions),
// and every line of test/types/refused.ts marked `@ts-expect-error` must fail, each on its own.
// Both compile against dist/*.d.ts through the package's exports map, as an app's code does.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { webRoot } from "./harness.js";

const run = promisify(execFile);
const dir = path.join(webRoot, "test", "types");
const tsc = path.join(webRoot, "node_modules", "typescript", "bin", "tsc");

let skip = false;
if (!existsSync(tsc) || !existsSync(path.join(webRoot, "dist", "index.d.ts"))) {
  skip = "!!! SKIPPING type tests: run npm ci and npm run build in web/ !!!";
  if (process.env.CI) throw new Error(skip);
  console.error(skip);
}

/** compile runs tsc on a project and returns its error lines as [file, line, message]. */
async function compile(project) {
  try {
    await run(process.execPath, [tsc, "-p", project, "--pretty", "false"], { cwd: webRoot, maxBuffer: 16 << 20 });
    return [];
  } catch (err) {
    if (typeof err.stdout !== "string" || !err.stdout.trim()) throw err;
    return err.stdout
      .split("\n")
      .map((l) => /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(l))
      .filter(Boolean)
      .map(([, file, line, message]) => [path.basename(file), Number(line), message]);
  }
}

describe("client types", { skip }, () => {
  let scratch;
  after(async () => scratch && rm(scratch, { recursive: true, force: true }));

  it("compile what apps write, and refuse every marked line (no directive left unused)", async () => {
    assert.deepEqual(await compile(path.join(dir, "tsconfig.json")), []);
  });

  it("refuse each marked snippet on its own line, and nothing else, once the directives are gone", async () => {
    const source = await readFile(path.join(dir, "refused.ts"), "utf8");
    const lines = source.split("\n");
    const marked = new Map();
    const stripped = lines.map((line, i) => {
      const m = /^(\s*)\/\/ @ts-expect-error (.*)$/.exec(line);
      if (!m) return line;
      marked.set(i + 2, m[2]); // the snippet is the next line; tsc counts from 1
      return `${m[1]}// (${m[2]})`;
    });
    assert.ok(marked.size >= 25, `only ${marked.size} refused snippets`);
    // Inside test/types, so "@authsidecar/web" still resolves to this package.
    scratch = await mkdtemp(path.join(dir, "stripped-"));
    await writeFile(path.join(scratch, "refused.ts"), stripped.join("\n"));
    const config = JSON.parse(await readFile(path.join(dir, "tsconfig.json"), "utf8"));
    await writeFile(path.join(scratch, "tsconfig.json"), JSON.stringify({ compilerOptions: config.compilerOptions, files: ["refused.ts"] }));
    const errors = await compile(path.join(scratch, "tsconfig.json"));
    const failing = new Set(errors.map(([, line]) => line));
    for (const [line, why] of marked) assert.ok(failing.has(line), `line ${line} compiles: ${why}`);
    const unexpected = errors.filter(([, line]) => !marked.has(line));
    assert.deepEqual(unexpected, [], "errors on lines that were not marked");
  });
});
