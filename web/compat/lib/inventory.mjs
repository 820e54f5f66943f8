// The route inventory: upstream's routes for the plugins we ship, read from the installed packages'
// router (reference/routes.mjs); ours, read from routes.go; and COMPATIBILITY.md, generated from
// both and from what this run's scenarios compared.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { compatDir, configs, repoRoot, sidecarSrc } from "./servers.mjs";

export async function upstreamRoutes() {
  const { stdout } = await promisify(execFile)(process.execPath, [join(compatDir, "reference", "routes.mjs")], {
    // The plugins we serve but ship off (bearer, jwt, username) are listed too.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...configs.tokens, USERNAME_ENABLED: "true" },
  });
  return JSON.parse(stdout);
}

// ourRoutes reads every "METHOD /api/auth/…" pattern in routes.go (the only place routes are
// registered), written in upstream's form: {name} becomes :name.
export async function ourRoutes() {
  const src = await readFile(join(sidecarSrc, "routes.go"), "utf8");
  return [...src.matchAll(/"(GET|POST|PUT|PATCH|DELETE) \/api\/auth(\/[^"]*)"/g)].map(([, method, path]) => ({
    method,
    path: path.replace(/\{([^}]+)\}/g, ":$1"),
  }));
}

// key identifies a route whatever its parameters are called.
export const key = (method, path) => `${method} ${path.replace(/:[^/]+/g, ":")}`;

// matcher finds the upstream route a request went to.
export function matcher(routes) {
  const compiled = routes.map((r) => ({
    r,
    re: new RegExp("^" + r.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+") + "$"),
  }));
  return (method, path) => compiled.find(({ r, re }) => r.method === method && re.test(path.split("?")[0]))?.r;
}

const versions = async () => {
  const v = async (name) => JSON.parse(await readFile(join(compatDir, "node_modules", name, "package.json"), "utf8")).version;
  return { betterAuth: await v("better-auth"), passkey: await v("@better-auth/passkey"), sso: await v("@better-auth/sso") };
};

// optionRoutes are upstream routes that exist only with an option the reference leaves off, as we
// do by default (sso's domainVerification: SSO_DOMAIN_VERIFICATION); ours answer 404 until it is on.
const optionRoutes = new Set([key("POST", "/sso/request-domain-verification"), key("POST", "/sso/verify-domain")]);

// checkInventory returns the problems that fail the run: a route we serve that upstream does not
// have, or a route COMPATIBILITY.md claims that routes.go does not serve.
export function checkInventory({ upstream, ours, committed }) {
  const problems = [];
  const upstreamKeys = new Set(upstream.map((r) => key(r.method, r.path)));
  const ourKeys = new Set(ours.map((r) => key(r.method, r.path)));
  for (const r of ours) {
    if (!upstreamKeys.has(key(r.method, r.path)) && !optionRoutes.has(key(r.method, r.path))) problems.push(`routes.go serves ${r.method} ${r.path}, which upstream's router does not have`);
  }
  for (const m of committed.matchAll(/^\| `(GET|POST) ([^`]+)` \| (done|partial) \|/gm)) {
    if (!ourKeys.has(key(m[1], m[2]))) problems.push(`COMPATIBILITY.md claims ${m[1]} ${m[2]} (${m[3]}), which routes.go does not serve`);
  }
  const plugins = new Set(upstream.map((r) => r.plugin));
  for (const p of ["core", "two-factor", "passkey", "organization", "magic-link", "email-otp", "sso"]) {
    if (!plugins.has(p)) problems.push(`upstream inventory has no routes of ${p}: is the reference configured as we ship?`);
  }
  return problems;
}

// onlyErrors are routes whose every answer is an error in the configuration we ship, so that
// comparing the error is comparing the route.
const onlyErrors = {
  [key("POST", "/get-session")]: "always 405 `METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED`: `session.deferSessionRefresh` is off, as we ship it",
  [key("POST", "/update-session")]: "always an error: no session field is client-writable in the configuration we ship",
};

// files names the scenario files of a set of "file › name" scenario names.
const files = (names) => [...new Set([...names].map((n) => n.split(" › ")[0]))].sort().join(", ");

// render writes COMPATIBILITY.md. compared: route key -> {ok: Set of scenario names with a 2xx/3xx
// answer compared, errorsOnly: Set of names where only error answers were compared}.
export async function render({ upstream, ours, compared, deviations, asserters, configs }) {
  const v = await versions();
  const ourKeys = new Set(ours.map((r) => key(r.method, r.path)));
  // A deviation makes its routes partial, unless it is a refusal: it only refuses (4xx, nothing
  // written) requests upstream carries out, and every other answer of the route is upstream's.
  // A refusal is named in the route's notes.
  const partialBecause = new Map();
  const refuses = new Map();
  for (const [id, d] of Object.entries(deviations)) {
    for (const route of d.routes || []) {
      const k = key(...route.split(" "));
      const to = d.refusal ? refuses : partialBecause;
      to.set(k, [...(to.get(k) || []), `${d.title} (see [${id}](#${id}))`]);
    }
  }
  // settings names the configurations a route's successes were compared in when none is the
  // shipped one: the route answers with success only once an operator turns something on.
  // A setting that names a file of this repository shows the repository's path: the generated file
  // must not depend on where the checkout is.
  const shown = (v) => (typeof v === "string" && v.startsWith(repoRoot) ? relative(repoRoot, v) : v);
  const settings = (c) =>
    [...c.configs].includes("shipped")
      ? ""
      : `, with ${[...c.configs].sort().map((n) => Object.entries(configs[n]).map(([k, v]) => `\`${k}=${shown(v)}\``).join(" and ")).join("; ")} (off as shipped)`;
  const rows = upstream.map((r) => {
    const k = key(r.method, r.path);
    const c = compared.get(k);
    let status;
    let note;
    if (!ourKeys.has(k)) {
      status = "missing";
      note = "not served";
    } else if (partialBecause.has(k)) {
      status = "partial";
      note = partialBecause.get(k).join("; ");
    } else if (c?.ok.size) {
      status = "done";
      note = `compared in ${files(c.ok)}${settings(c)}`;
      if (refuses.has(k)) note += `; refuses more: ${refuses.get(k).join("; ")}`;
    } else if (c?.errorsOnly.size && onlyErrors[k]) {
      status = "done";
      note = `compared in ${files(c.errorsOnly)}; ${onlyErrors[k]}`;
    } else if (refuses.has(k)) {
      status = "partial";
      note = `${refuses.get(k).join("; ")}; its successes are not compared yet`;
    } else if (c?.errorsOnly.size) {
      status = "partial";
      note = "served; only its error answers are compared so far";
    } else {
      status = "partial";
      note = "served; not yet compared with the reference";
    }
    return { ...r, status, note };
  });
  const count = (s) => rows.filter((r) => r.status === s).length;
  const out = [];
  out.push("# Compatibility with Better Auth");
  out.push("");
  out.push(
    `Generated by \`npm run update\` in \`web/compat\` — do not edit. Upstream is npm \`better-auth\` ${v.betterAuth}, ` +
      `\`@better-auth/passkey\` ${v.passkey} and \`@better-auth/sso\` ${v.sso}; its routes are read from the installed ` +
      "packages' router with the plugins authsidecar ships (twoFactor, passkey, organization with teams, magicLink, " +
      "emailOTP, sso, admin). Ours are read from `routes.go`.",
  );
  out.push("");
  out.push(
    "- **done**: served, and the compatibility harness (`web/compat`) drives it with the official client against the Node " +
      "reference and authsidecar and finds the same status, JSON body and Set-Cookie names and attributes, success included. " +
      "A done route may refuse on purpose a request upstream carries out (\"refuses more\", a deviation marked as a refusal: " +
      "a 4xx, nothing written); every other answer is upstream's.",
  );
  out.push("- **partial**: served, but an answer differs (said how) or the harness does not compare it yet.");
  out.push("- **missing**: not served (404).");
  out.push("");
  out.push(`${rows.length} routes: ${count("done")} done, ${count("partial")} partial, ${count("missing")} missing.`);
  for (const plugin of [...new Set(rows.map((r) => r.plugin))]) {
    out.push("");
    out.push(`## ${plugin}`);
    out.push("");
    out.push("| route | status | notes |");
    out.push("|---|---|---|");
    for (const r of rows.filter((x) => x.plugin === plugin)) out.push(`| \`${r.method} ${r.path}\` | ${r.status} | ${r.note} |`);
  }
  out.push("");
  out.push("## Deliberate deviations");
  out.push("");
  out.push("Where authsidecar answers differently on purpose. Each is asserted, on both servers, by the scenario named.");
  for (const [id, d] of Object.entries(deviations)) {
    out.push("");
    out.push(`### ${id}`);
    out.push("");
    out.push(`**${d.title}.**`);
    out.push("");
    out.push(`- Upstream: ${d.upstream}`);
    out.push(`- authsidecar: ${d.ours}`);
    out.push(`- Why: ${d.why}`);
    const goTests = (d.provenBy || []).map((name) => `\`${name}\` (Go; not on the harness's wire: ${d.notOnWire})`);
    out.push(`- Asserted by: ${[...(asserters.get(id) || []), ...goTests].join("; ")}`);
  }
  return out.join("\n") + "\n";
}
