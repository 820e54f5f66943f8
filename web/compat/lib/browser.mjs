// A browser, as far as the auth protocol can tell: a cookie jar that sends cookies back, an Origin
// on state-changing requests, redirects left to the caller. Cookies are kept per host, not per
// port (RFC 6265 section 8.5), so the servers of one run, all on 127.0.0.1, see each other's cookies as
// two apps behind one domain would.
import http from "node:http";

export class Browser {
  // ip is the address the app's proxy forwards for this browser (X-Forwarded-For), as it would in
  // front of either server; null sends none.
  constructor({ ip = null } = {}) {
    this.cookies = new Map(); // name -> value, as the server last set it
    this.ip = ip;
  }

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  // remember applies a response's Set-Cookie lines: a past expiry or Max-Age<=0 deletes.
  remember(setCookies) {
    for (const line of setCookies) {
      const c = parseSetCookie(line);
      const maxAge = c.attributes.find(([k]) => k === "max-age");
      const expires = c.attributes.find(([k]) => k === "expires");
      const gone = (maxAge && Number(maxAge[1]) <= 0) || (!maxAge && expires && Date.parse(expires[1]) <= Date.now());
      if (gone || c.value === "") this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  // fetch sends one request as a same-origin page of `origin` would. Options beyond fetch's own:
  // origin (header value; null sends none), cookies (false sends none), exact (send exactly these
  // headers through node:http: Node's fetch forces Sec-Fetch-Mode: cors, so a browser's
  // navigation cannot be imitated through it).
  async fetch(url, init = {}, { origin, cookies = true, exact = false } = {}) {
    const headers = new Headers(init.headers);
    const method = (init.method || "GET").toUpperCase();
    if (origin && !headers.has("origin") && method !== "GET" && method !== "HEAD") headers.set("origin", origin);
    if (cookies && this.cookies.size > 0 && !headers.has("cookie")) headers.set("cookie", this.cookieHeader());
    if (this.ip && !headers.has("x-forwarded-for")) headers.set("x-forwarded-for", this.ip);
    const res = exact ? await exactRequest(url, method, headers, init.body) : await fetch(url, { ...init, method, headers, redirect: "manual" });
    this.remember(res.headers.getSetCookie());
    return res;
  }
}

// exactRequest sends a request with no headers but the given ones (and Host, Content-Length).
function exactRequest(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: Object.fromEntries(headers) }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const status = res.statusCode;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

// parseSetCookie splits one Set-Cookie line into name, value and its attributes in order, attribute
// names lowercased (browsers read them case-insensitively).
export function parseSetCookie(line) {
  const [pair, ...attrs] = line.split(";");
  const eq = pair.indexOf("=");
  return {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    attributes: attrs
      .map((a) => a.trim())
      .filter(Boolean)
      .map((a) => {
        const i = a.indexOf("=");
        return i < 0 ? [a.toLowerCase()] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
      }),
  };
}
