// Scenario definitions and the context (`t`) a scenario runs with.
//
// Three kinds, each a function of t that drives the official client (t.client()) or raw HTTP
// (t.request()) and asserts what it must see:
//   scenario(name, fn)          runs once against the reference and once against ours, each on its
//                               own database; both runs must pass their assertions, then their
//                               observations must be the same.
//   deviation(id, name, fn)     a place where we are deliberately different (listed with its reason
//                               in deviations.mjs and COMPATIBILITY.md): fn asserts each server's
//                               own behaviour (t.ours tells which it is); nothing is diffed.
//   interop(name, fn)           two servers on one database, roles t.a and t.b: runs with
//                               a=reference, b=ours and again with a=ours, b=reference; both
//                               directions must pass, then their observations must be the same.
import { readFile } from "node:fs/promises";
import { createAuthClient } from "better-auth/client";
import { Browser } from "./browser.mjs";

//
// scenario and deviation take options: {config: "<name>"} runs them against the servers of another
// configuration (lib/servers.mjs `configs`) instead of the one authsidecar ships.
export const scenario = (name, fn, { config = "shipped" } = {}) => ({ kind: "diff", name, fn, config });
export const deviation = (id, name, fn, { config = "shipped" } = {}) => ({ kind: "deviation", id, name, fn, config });
export const interop = (name, fn) => ({ kind: "interop", name, fn, config: "shipped" });

export class AssertionError extends Error {}

export class Context {
  // servers: {role: server}; the first role is t.server. tag: a string unique to this run.
  constructor({ servers, tag, scenarioSlug }) {
    this.servers = servers;
    const roles = Object.keys(servers);
    this.server = servers[roles[0]];
    this.a = servers.a;
    this.b = servers.b;
    this.ours = this.server.ours;
    this.tag = tag;
    this.slug = scenarioSlug;
    this.exchanges = [];
    this.mailsRead = new Map(); // server mail log -> lines already returned by mail()
    this.browsers = 0;
    this.defaultBrowser = this.browser();
  }

  // email is an address of this scenario run: the same on both sides of a diff (their databases
  // differ), unique per direction of an interop run (they share one).
  email(local) {
    return `${local}@${this.tag ? this.tag + "." : ""}${this.slug}.example.com`;
  }

  // browser is another device: its own cookie jar, and its own address (203.0.113.N, counted per
  // run so that both sides of a diff agree) forwarded by the app's proxy unless ip is null.
  browser({ ip = `203.0.113.${++this.browsers}` } = {}) {
    return new Browser({ ip });
  }

  roleOf(server) {
    return Object.keys(this.servers).length > 1 ? Object.entries(this.servers).find(([, s]) => s === server)[0] : "";
  }

  // send performs one recorded request through a browser.
  async send(server, browser, url, init, opts) {
    const res = await browser.fetch(url, init, { origin: server.origin, ...opts });
    const text = await res.text();
    const u = new URL(url);
    const x = {
      server,
      role: this.roleOf(server),
      method: (init.method || "GET").toUpperCase(),
      path: u.pathname.replace(/^\/api\/auth/, "") + u.search,
      status: res.status,
      contentType: res.headers.get("content-type"),
      location: res.headers.get("location"),
      setCookies: res.headers.getSetCookie(),
      text,
      at: Date.now(),
    };
    this.exchanges.push(x);
    return { res, text, x };
  }

  // client is the official better-auth client of a browser on a server (default: t.server, a
  // browser of its own per call unless one is given).
  client({ server = this.server, browser = this.defaultBrowser, plugins = [] } = {}) {
    const customFetchImpl = async (input, init = {}) => {
      const req = new Request(input, init);
      const body = req.body ? await req.text() : undefined;
      const { res, text } = await this.send(server, browser, req.url, { method: req.method, headers: req.headers, body });
      return new Response(res.status === 204 || res.status === 304 ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    return createAuthClient({ baseURL: server.origin, plugins, fetchOptions: { customFetchImpl } });
  }

  // request sends raw HTTP: path relative to /api/auth; json (an object, sent as JSON) or body (a
  // string, sent as is); headers; origin (a value, or null for none); cookies (false sends none);
  // exact (no headers but these, see Browser.fetch).
  async request(method, path, { json, body, headers = {}, origin, cookies, exact, server = this.server, browser = this.defaultBrowser } = {}) {
    const h = { ...headers };
    if (json !== undefined) {
      body = JSON.stringify(json);
      h["content-type"] ??= "application/json";
    }
    const opts = { cookies, exact };
    if (origin !== undefined) opts.origin = origin;
    const { res, text } = await this.send(server, browser, server.origin + "/api/auth" + path, { method, headers: h, body }, opts);
    let data;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = undefined;
    }
    return { status: res.status, headers: res.headers, text, data };
  }

  // mails reads the mails of a type to an address in the server's mail log, with their line numbers.
  async mails(server, type, email) {
    const text = await readFile(server.mailLog, "utf8").catch(() => "");
    return text
      .split("\n")
      .map((l, line) => (l ? { line, m: JSON.parse(l) } : null))
      .filter((x) => x && x.m.type === type && x.m.email === email);
  }

  // mail waits for the newest mail of a type to an address in the server's mail log that no
  // earlier call returned, and records it as an observation (without its time): what a mail
  // carries is compared as an answer is.
  async mail(type, email, { server = this.server, timeoutMs = 10000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    const seen = this.mailsRead.get(server.mailLog) || new Set();
    this.mailsRead.set(server.mailLog, seen);
    for (;;) {
      const found = (await this.mails(server, type, email)).filter((x) => !seen.has(x.line)).pop();
      if (found) {
        seen.add(found.line);
        const { at: _, ...mail } = found.m;
        this.exchanges.push({ server, role: this.roleOf(server), mail, at: Date.now() });
        return mail;
      }
      if (Date.now() > deadline) this.fail(`no ${type} mail to ${email} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // noMail asserts that no mail of a type reaches an address within ms (ours sends through an
  // outbox polled every second, so absence takes a while to show).
  async noMail(type, email, { server = this.server, ms = 2500 } = {}) {
    await new Promise((r) => setTimeout(r, ms));
    const seen = this.mailsRead.get(server.mailLog) || new Set();
    const unread = (await this.mails(server, type, email)).filter((x) => !seen.has(x.line));
    this.assert(unread.length === 0, `want no ${type} mail to ${email}, got ${JSON.stringify(unread.map((x) => x.m))}`);
  }

  // --- assertions ---

  fail(message) {
    throw new AssertionError(message);
  }

  assert(cond, message) {
    if (!cond) this.fail(message);
  }

  // equal compares as JSON with keys sorted: key order means nothing to a client.
  equal(got, want, what) {
    const g = canonical(got);
    const w = canonical(want);
    if (g !== w) this.fail(`${what}: got ${g}, want ${w}`);
  }

  // ok asserts a client call succeeded and returns its data.
  ok(result, what = "call") {
    if (result.error) this.fail(`${what}: want success, got ${result.error.status} ${JSON.stringify(result.error)}`);
    return result.data;
  }

  // fails asserts a client call failed with status and code (code null: the body has none).
  fails(result, status, code, what = "call") {
    if (!result.error) this.fail(`${what}: want ${status} ${code}, got success ${JSON.stringify(result.data)}`);
    this.equal(result.error.status, status, `${what} status`);
    if (code !== undefined) this.equal(result.error.code ?? null, code, `${what} code`);
  }

  // status asserts a raw response's status and, when given, its error code.
  status(res, status, code, what = "response") {
    this.equal(res.status, status, `${what} status (body ${res.text.slice(0, 200)})`);
    if (code !== undefined) this.equal(res.data?.code ?? null, code, `${what} code`);
  }

  // lastCookies are the Set-Cookie lines of the latest exchange, parsed, by name.
  lastCookies() {
    const last = this.exchanges.at(-1);
    return Object.fromEntries(last.setCookies.map((l) => [l.split("=")[0], l]));
  }
}

export function canonical(v) {
  return JSON.stringify(v, (_, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
}
