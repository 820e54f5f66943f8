// The compatibility harness: `npm test` (check) or `npm run update` (also rewrite COMPATIBILITY.md).
// Options: --only <text> runs the scenarios whose name or file contains text (and skips the
// COMPATIBILITY.md check); --verbose prints each compared observation; --concurrency <n>.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startServers, compatDir, repoRoot, secret, configs } from "./lib/servers.mjs";
import { runAll } from "./lib/runner.mjs";
import { upstreamRoutes, ourRoutes, checkInventory, render, matcher, key } from "./lib/inventory.mjs";
import { deviations } from "./deviations.mjs";
import { selfChecks } from "./lib/selftest.mjs";

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = option("--only");
const update = flag("--update");
const concurrency = Number(option("--concurrency") || 4);
const started = Date.now();

async function loadScenarios() {
  const dir = join(compatDir, "scenarios");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".mjs")).sort();
  const all = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(dir, f)));
    for (const sc of mod.default) all.push({ ...sc, file: f.replace(/\.mjs$/, "") });
  }
  return all;
}

const results = []; // {name, ok, problems}
const check = (name, problems) => {
  results.push({ name, ok: problems.length === 0 });
  console.log(`${problems.length ? "FAIL" : "ok  "} ${name}`);
  for (const p of problems) console.log(`    ${p}`);
};

for (const c of selfChecks) check(c.name, c.problems());

const all = await loadScenarios();
const scenarios = only ? all.filter((s) => `${s.file} › ${s.name} [${s.kind}${s.id ? ": " + s.id : ""}]`.includes(only)) : all;
const [upstream, ours] = await Promise.all([upstreamRoutes(), ourRoutes()]);

const servers = await startServers({ log: (m) => console.log(`# ${m}`), configNames: [...new Set(scenarios.map((s) => s.config))] });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => servers.stop().finally(() => process.exit(130)));
}
let ran;
try {
  ran = await runAll(scenarios, { servers, secret, verbose: flag("--verbose") }, concurrency);
} finally {
  await servers.stop({ keepLogs: !ran || ran.some((r) => !r.ok) });
}
if (ran.some((r) => !r.ok)) console.log(`# server logs: ${servers.dir}`);
for (const r of ran) results.push({ name: `${r.sc.file} › ${r.sc.name}`, ok: r.ok });

// What the passing comparisons exercised on our server, by upstream route.
const routeOf = matcher(upstream);
const compared = new Map();
for (const r of ran.filter((r) => r.compared)) {
  for (const s of r.sides) {
    for (const x of s.t.exchanges.filter((x) => x.server.ours && !x.mail)) {
      const route = routeOf(x.method, x.path);
      if (!route) continue;
      const k = key(route.method, route.path);
      if (!compared.has(k)) compared.set(k, { ok: new Set(), errorsOnly: new Set(), configs: new Set() });
      const name = `${r.sc.file} › ${r.sc.name}`;
      if (x.status < 400) compared.get(k).configs.add(r.sc.config);
      if (x.status < 400) compared.get(k).ok.add(name);
      else compared.get(k).errorsOnly.add(name);
    }
  }
}

const asserters = new Map();
for (const sc of all.filter((s) => s.kind === "deviation")) asserters.set(sc.id, [...(asserters.get(sc.id) || []), `${sc.file} › ${sc.name}`]);
check(
  "deviations: each is listed in deviations.mjs and asserted by a scenario",
  [
    ...[...asserters.keys()].filter((id) => !deviations[id]).map((id) => `a scenario asserts deviation ${id}, which deviations.mjs does not list`),
    ...Object.keys(deviations)
      .filter((id) => !asserters.has(id) && !(deviations[id].provenBy && deviations[id].notOnWire))
      .map((id) => `deviations.mjs lists ${id}, which no scenario asserts (nor provenBy Go tests with the reason it is notOnWire)`),
  ],
);

const compatPath = join(repoRoot, "COMPATIBILITY.md");
const committed = await readFile(compatPath, "utf8").catch(() => "");
check("inventory: every route we serve is upstream's, every route COMPATIBILITY.md claims is served", checkInventory({ upstream, ours, committed }));

const scenariosFailed = ran.some((r) => !r.ok);
// Only passing comparisons count as "done", so a run with failures writes a more modest file; the
// check is skipped then, since the failures already fail the run.
if (only) {
  console.log("# --only: COMPATIBILITY.md not checked");
} else {
  const generated = await render({ upstream, ours, compared, deviations, asserters, configs });
  if (update) {
    await writeFile(compatPath, generated);
    console.log(`# wrote COMPATIBILITY.md${scenariosFailed ? " (some scenarios failed: their routes are not counted as compared)" : ""}`);
  } else if (scenariosFailed) {
    console.log("# scenarios failed: COMPATIBILITY.md not checked");
  } else {
    check(
      "inventory: COMPATIBILITY.md is generated from this run",
      generated === committed ? [] : ["COMPATIBILITY.md is out of date: run `npm run update` in web/compat and commit it", ...lineDiff(committed, generated)],
    );
  }
}

// lineDiff names the lines only one side has, so a CI log shows what changed without the files.
function lineDiff(committed, generated) {
  const a = new Set(committed.split("\n"));
  const b = new Set(generated.split("\n"));
  return [
    ...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`),
    ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`),
  ];
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`# ${scenarios.length} scenarios, ${upstream.length} upstream routes, ${ours.length} served; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
