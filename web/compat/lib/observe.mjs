// Turns what a scenario saw into a comparable observation, and compares two of them.
//
// Each exchange becomes {request, status, contentType, location, cookies, body}. Values that are
// generated per run (ids, tokens, timestamps, this run's origins and tags) are replaced by stable
// aliases: an id or token becomes <kind#N>, N counted by first appearance in a fixed walk order
// (exchanges in order; location, then cookies by name, then the body with keys sorted), so "the same
// user id in two places" stays visible and a different one does not hide. Timestamps become their
// offset from the moment the response arrived (<time now+7d>), which still tells a one-day session
// from a seven-day one. Nothing else is dropped: there is no allow-list.
import { createHmac } from "node:crypto";
import { parseSetCookie } from "./browser.mjs";
import { unorderedAt } from "./unordered.mjs";

const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$/;
// A compact JWS (an email verification token): three base64url parts, a JSON header and payload.
const jwtPattern = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/g;
// Random strings as upstream's generateId / generateRandomString and ours make them, and base64url
// values (OAuth state, PKCE challenges): 24+ characters of [A-Za-z0-9_-] mixing at least two of
// upper case, lower case and digits (so error codes and words stay readable).
const randomRun = /[A-Za-z0-9_-]{24,}/g;
// A whole value in standard base64 (a passkey's public key): random as a whole, "+" and "/" included.
const base64Value = /^[A-Za-z0-9+/]{24,}={0,2}$/;
// Generated values that are shorter or punctuated, by their shapes: two-factor backup codes
// (XXXXX-XXXXX), sign-in challenges (2fa-<20>) and trusted-device values (<HMAC>!trust-device-<32>).
const randomShapes = /(?<![A-Za-z0-9_-])(?:[A-Za-z0-9]{5}-[A-Za-z0-9]{5}|2fa-[A-Za-z0-9_-]{20}|[A-Za-z0-9_-]{43}!trust-device-[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])/g;

// kindOf names an alias after the key it was first seen under, for readable diffs.
function kindOf(key) {
  if (key === "id" || key.endsWith("Id")) return "id";
  if (/token/i.test(key)) return "token";
  return "random";
}

function looksRandom(s) {
  return [/[A-Z]/, /[a-z]/, /[0-9]/].filter((re) => re.test(s)).length >= 2;
}

export class Normalizer {
  // origins: {label: origin}; tags: strings unique to this run (they read as <tag>); secret signs cookies.
  constructor({ origins, tags = [], secret }) {
    this.origins = Object.entries(origins);
    this.tags = tags.filter(Boolean);
    this.secret = secret;
    this.aliases = new Map(); // generated value -> alias
    this.codes = new Map(); // one-time code -> alias, kept apart: digits may occur in any string
    this.counter = 0;
  }

  // code aliases a numeric one-time code (an email OTP) by first appearance.
  code(value) {
    if (!this.codes.has(value)) this.codes.set(value, `<code#${this.codes.size + 1}>`);
    return this.codes.get(value);
  }

  // jwt shows a token by what it says: its header, its claims (ids aliased, iat and exp as times)
  // and whether the shared secret signed it; its bytes differ with every generated value.
  jwt(token, at) {
    const [h, p, sig] = token.split(".");
    const json = (part) => {
      try {
        return JSON.parse(Buffer.from(part, "base64url").toString());
      } catch {
        return undefined;
      }
    };
    const header = json(h);
    const claims = json(p);
    if (!header || !claims || typeof claims !== "object") return token;
    const times = Object.fromEntries(["iat", "exp", "nbf"].filter((k) => typeof claims[k] === "number").map((k) => [k, `<time ${relativeTime(claims[k] * 1000 - at)}>`]));
    const good = createHmac("sha256", this.secret).update(`${h}.${p}`).digest("base64url") === sig;
    return `<jwt ${good ? "signed" : "badly-signed"} ${JSON.stringify(this.value(header, "", at))} ${JSON.stringify({ ...this.value(claims, "", at), ...times })}>`;
  }

  alias(value, kind) {
    if (!this.aliases.has(value)) this.aliases.set(value, `<${kind}#${++this.counter}>`);
    return this.aliases.get(value);
  }

  string(s, key = "", at = Date.now()) {
    if (isoDate.test(s)) return `<time ${relativeTime(Date.parse(s) - at)}>`;
    if (base64Value.test(s) && looksRandom(s)) return this.alias(s, kindOf(key));
    for (const [label, origin] of this.origins) {
      const name = this.origins.length > 1 ? `<origin:${label}>` : "<origin>";
      // also percent-encoded, as in a redirect_uri or callbackURL query parameter
      s = s.split(origin).join(name).split(encodeURIComponent(origin)).join(encodeURIComponent(name));
    }
    // A tag stands between separators (r2o.slug.example.com, name-r2o-slug, ivy%40r2o.slug…): a
    // random value that happens to contain its three letters keeps them.
    for (const tag of this.tags) s = s.replace(new RegExp(`(?:(?<![A-Za-z0-9_])|(?<=%40))${tag}(?![A-Za-z0-9_])`, "g"), "<tag>");
    s = s.replace(jwtPattern, (m) => this.jwt(m, at));
    for (const [value, alias] of this.aliases) s = s.split(value).join(alias);
    s = s.replace(randomShapes, (m) => this.alias(m, kindOf(key)));
    return s.replace(randomRun, (m) => (looksRandom(m) ? this.alias(m, kindOf(key)) : m));
  }

  value(v, key = "", at = Date.now()) {
    if (typeof v === "string" && (key === "otp" || key === "token") && /^[0-9]{4,10}$/.test(v)) return this.code(v);
    if (typeof v === "string") return this.string(v, key, at);
    if (Array.isArray(v)) return v.map((x) => this.value(x, key, at));
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v).sort()) out[k] = this.value(v[k], k, at);
      return out;
    }
    return v;
  }

  cookie(line, at) {
    const c = parseSetCookie(line);
    const attributes = c.attributes
      .map(([k, v]) => {
        if (v === undefined) return k;
        if (k === "expires") return `expires=<time ${relativeTime(Date.parse(v) - at)}>`;
        if (k === "samesite") return `samesite=${v.toLowerCase()}`;
        return `${k}=${this.string(v, "", at)}`;
      })
      .sort();
    return { name: c.name, value: this.cookieValue(c.value, at), attributes };
  }

  // cookieValue shows whether a signed cookie verifies with the shared secret, and what it holds.
  cookieValue(raw, at) {
    if (raw === "") return "";
    let v = raw;
    try {
      v = decodeURIComponent(raw);
    } catch {}
    const m = /^(.+)\.([A-Za-z0-9+/]{43}=)$/.exec(v);
    if (!m) return this.string(v, "token", at);
    const good = createHmac("sha256", this.secret).update(m[1]).digest("base64") === m[2];
    return `${good ? "signed" : "badly-signed"}(${this.string(m[1], "token", at)})`;
  }

  exchange(x) {
    if (x.mail) return { request: `${x.role ? x.role + ": " : ""}mail ${x.mail.type}`, body: this.value(x.mail, "", x.at) };
    const cookies = x.setCookies
      .map((line) => this.cookie(line, x.at))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out = {
      request: `${x.role ? x.role + ": " : ""}${x.method} ${this.string(x.path, "", x.at)}`,
      status: x.status,
      contentType: (x.contentType || "").split(";")[0].trim().toLowerCase(),
    };
    if (x.location !== null) out.location = this.string(x.location, "", x.at);
    out.cookies = cookies;
    out.body = this.body(x);
    return out;
  }

  // peek is how a value would read now, without aliasing anything it holds for the first time:
  // values seen before read as their aliases, new ones as the same placeholders in every item.
  peek(v, at) {
    const saved = [new Map(this.aliases), new Map(this.codes), this.counter];
    try {
      return JSON.stringify(this.value(v, "", at));
    } finally {
      [this.aliases, this.codes, this.counter] = saved;
    }
  }

  // sortedAt orders the list at key ("" for v itself) of a body by how its items read, so a list
  // upstream answers in the database's order (unordered.mjs) compares as a set; items that read
  // the same apart from values never seen before are the same observation in either order.
  sortedAt(v, key, at) {
    const list = key === "" ? v : v?.[key];
    if (!Array.isArray(list)) return v;
    const sorted = list
      .map((item) => [this.peek(item, at), item])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => item);
    return key === "" ? sorted : { ...v, [key]: sorted };
  }

  body(x) {
    if (x.text === "") return "";
    if (/json/.test(x.contentType || "")) {
      try {
        let v = JSON.parse(x.text);
        for (const at of x.path ? unorderedAt(x.path) : []) v = this.sortedAt(v, at, x.at);
        return this.value(v, "", x.at);
      } catch {
        return `<invalid JSON: ${this.string(x.text, "", x.at)}>`;
      }
    }
    return this.string(x.text, "", x.at);
  }
}

// The lifetimes upstream and we give things (sessions, tokens, codes, cookies), in seconds.
const lifetimes = [60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 259200, 604800, 1209600, 2592000, 5184000, 7776000, 31536000];

// relativeTime names an offset from the answer's arrival: "now" for the last ten minutes (anything
// made during the run) and the next 45 s, else the nearest usual lifetime within 15% ("now+7d"; a
// one-day session read 20 s after it was made is still "now+1d"), else two significant digits.
// Time spent between making a thing and seeing it then cannot tell the servers apart; a different
// lifetime still does.
export function relativeTime(ms) {
  const sec = ms / 1000;
  const abs = Math.abs(sec);
  if (sec > -600 && sec < 45) return "now";
  const near = lifetimes.find((l) => Math.abs(abs - l) <= 0.15 * l);
  const [unit, size] = [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ].find(([, size]) => (near ?? abs) >= size && (near === undefined || near % size === 0));
  const n = near !== undefined ? near / size : Number((abs / size).toPrecision(2));
  return `now${sec > 0 ? "+" : "-"}${n}${unit}`;
}

export function normalize(exchanges, opts) {
  const n = new Normalizer(opts);
  return exchanges.map((x) => n.exchange(x));
}

// diff lists where two observations differ, as "exchange path: left ≠ right" lines.
export function diff(left, right, names = ["reference", "ours"]) {
  const out = [];
  const walk = (a, b, path) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const bothObjects = a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b);
    if (bothObjects && !Array.isArray(a)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        walk(k in a ? a[k] : undefined, k in b ? b[k] : undefined, `${path}.${k}`);
      }
      return;
    }
    if (bothObjects && a.length === b.length) {
      a.forEach((_, i) => walk(a[i], b[i], `${path}[${i}]`));
      return;
    }
    out.push(`${path}: ${names[0]}=${show(a)}  ${names[1]}=${show(b)}`);
  };
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const a = left[i];
    const b = right[i];
    const label = `#${i + 1} ${(a || b).request}`;
    if (!a || !b || a.request !== b.request) {
      out.push(`${label}: ${names[0]} sent ${a ? a.request : "nothing"}, ${names[1]} sent ${b ? b.request : "nothing"}`);
      break;
    }
    walk(a, b, label);
  }
  return out;
}

function show(v) {
  return v === undefined ? "<absent>" : JSON.stringify(v);
}
