// Runs scenarios against the servers, concurrently, and reports each result.
import { Context, AssertionError } from "./scenario.mjs";
import { normalize, diff } from "./observe.mjs";

const slugify = (s) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);

// runSide runs fn with a fresh context; it returns the context and the error, if any.
async function runSide(fn, servers, { tag = "", slug }) {
  const t = new Context({ servers, tag, scenarioSlug: slug });
  const start = Date.now();
  try {
    await fn(t);
    return { t, ms: Date.now() - start };
  } catch (err) {
    return { t, ms: Date.now() - start, err };
  }
}

function describeError(err) {
  return err instanceof AssertionError ? err.message : err?.stack || String(err);
}

// runScenario returns {name, ok, problems[], sides: [{label, t}], compared}.
export async function runScenario(sc, env) {
  const slug = slugify(`${sc.file}-${sc.name}`);
  const { reference, ours, oursOnReference } = env.servers.byConfig[sc.config];
  let sides;
  if (sc.kind === "interop") {
    sides = await Promise.all([
      runSide(sc.fn, { a: reference, b: oursOnReference }, { tag: "r2o", slug }).then((s) => ({ label: "reference→ours", ...s })),
      runSide(sc.fn, { a: oursOnReference, b: reference }, { tag: "o2r", slug }).then((s) => ({ label: "ours→reference", ...s })),
    ]);
  } else {
    sides = await Promise.all([
      runSide(sc.fn, { main: reference }, { slug }).then((s) => ({ label: "reference", ...s })),
      runSide(sc.fn, { main: ours }, { slug }).then((s) => ({ label: "ours", ...s })),
    ]);
  }
  const problems = [];
  for (const s of sides) if (s.err) problems.push(`${s.label}: ${describeError(s.err)}`);
  let compared = false;
  if (problems.length === 0 && sc.kind !== "deviation") {
    const observations = sides.map((s) =>
      normalize(s.t.exchanges, {
        origins: Object.fromEntries(Object.entries(s.t.servers).map(([role, srv]) => [role, srv.origin])),
        tags: [s.t.tag],
        secret: env.secret,
      }),
    );
    const d = diff(observations[0], observations[1], sides.map((s) => s.label));
    if (d.length) problems.push(`observations differ:\n      ${d.slice(0, 15).join("\n      ")}${d.length > 15 ? `\n      … ${d.length - 15} more` : ""}`);
    else compared = true;
    if (env.verbose) console.log(JSON.stringify(observations[0], null, 1));
  }
  return { sc, ok: problems.length === 0, problems, sides, compared };
}

// runAll runs scenarios with at most `concurrency` at once, printing each result as it ends.
export async function runAll(scenarios, env, concurrency = 4) {
  // Results keep the scenarios' order, not the order they finish in: COMPATIBILITY.md is rendered
  // from them and must come out the same on every run.
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const i = next++;
      const sc = scenarios[i];
      const r = await runScenario(sc, env);
      results[i] = r;
      const times = r.sides.map((s) => `${s.label} ${s.ms} ms`).join(", ");
      const notes = [sc.kind === "deviation" && `deviation: ${sc.id}`, sc.config !== "shipped" && `config: ${sc.config}`].filter(Boolean);
      console.log(`${r.ok ? "ok  " : "FAIL"} ${sc.file} › ${sc.name}${notes.length ? ` [${notes.join(", ")}]` : ""} (${times})`);
      for (const p of r.problems) console.log(`    ${p}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
