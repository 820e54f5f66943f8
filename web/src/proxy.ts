// The Next.js side of "one origin": a route handler, app/api/auth/[...all]/route.ts, that proxies
// /api/auth/* to the sidecar. Unlike a next.config rewrite it decides what the sidecar learns about
// the client: X-Forwarded-For carries exactly one address, taken from what the platform knows (a
// header your platform overwrites, or the hop your own proxies appended), never the list a client
// sent. Bodies stream both ways; every Set-Cookie line is kept.

declare const process: { env: Record<string, string | undefined> } | undefined;

const env = (name: string): string | undefined => (typeof process !== "undefined" ? process.env[name] : undefined);

export interface AuthRouteHandlerOptions {
  /** Where the sidecar listens, read at each request. Default: env AUTH_SIDECAR_URL, else http://127.0.0.1:4000. */
  sidecarURL?: string;
  /**
   * A header your platform sets to the client's address and overwrites whatever the client sent:
   * "x-real-ip" (Vercel), "cf-connecting-ip" (Cloudflare), "fly-client-ip" (Fly.io). Default: env
   * AUTH_CLIENT_IP_HEADER. When set, X-Forwarded-For is not read.
   */
  clientIPHeader?: string;
  /**
   * How many proxies of yours in front of Next.js append the address they saw to X-Forwarded-For
   * (nginx's $proxy_add_x_forwarded_for, a load balancer). The client is the entry the outermost of
   * them appended, that many entries from the right, so entries a client wrote further left are
   * never taken. Default: env
   * AUTH_TRUSTED_PROXY_HOPS, else 0: Next.js is reached directly and the last entry is the address
   * `next start` recorded, unless the client sent the header itself, which Next.js then keeps as
   * is (see the README's limits).
   */
  trustedProxyHops?: number;
  fetch?: typeof fetch;
}

// Request headers never passed on: hop-by-hop ones (RFC 9110 7.6.1), what fetch sets itself, and
// every forwarding header a client could have written.
const dropRequest = [
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length",
  "accept-encoding", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto", "x-real-ip",
];
// Response headers not passed back: hop-by-hop ones, and the encoding fetch has already undone.
const dropResponse = ["connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "set-cookie"];

const ipLike = /^[0-9a-fA-F:.]{2,45}$/;

/** clientAddress is the one address the sidecar is told, or undefined when none is known. */
export function clientAddress(headers: Headers, options: AuthRouteHandlerOptions = {}): string | undefined {
  const header = options.clientIPHeader ?? env("AUTH_CLIENT_IP_HEADER");
  if (header) {
    const v = headers.get(header)?.split(",")[0]?.trim();
    return v && ipLike.test(v) ? v : undefined;
  }
  const hops = options.trustedProxyHops ?? Number(env("AUTH_TRUSTED_PROXY_HOPS") ?? 0);
  const list = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  // The nearest of your proxies appended the last entry; each one before it, one more to the left.
  // With none, the last entry is the one `next start` filled in (when the client sent none).
  const v = list[list.length - (Number.isInteger(hops) && hops > 1 ? hops : 1)];
  return v && ipLike.test(v) ? v : undefined;
}

/**
 * authRouteHandler returns the handlers of app/api/auth/[...all]/route.ts:
 *
 *   export const { GET, POST } = authRouteHandler();
 */
export function authRouteHandler(options: AuthRouteHandlerOptions = {}) {
  const handler = async (request: Request): Promise<Response> => {
    const base = (options.sidecarURL ?? env("AUTH_SIDECAR_URL") ?? "http://127.0.0.1:4000").replace(/\/+$/, "");
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of dropRequest) headers.delete(name);
    const ip = clientAddress(request.headers, options);
    if (ip) headers.set("x-forwarded-for", ip);
    headers.set("x-forwarded-proto", url.protocol.replace(/:$/, ""));
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers,
      redirect: "manual",
      cache: "no-store",
      ...(hasBody && { body: request.body, duplex: "half" }),
    };
    const res = await (options.fetch ?? fetch)(`${base}${url.pathname}${url.search}`, init);
    const out = new Headers();
    res.headers.forEach((value, name) => {
      if (!dropResponse.includes(name)) out.append(name, value);
    });
    for (const line of res.headers.getSetCookie()) out.append("set-cookie", line);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  };
  return { GET: handler, POST: handler };
}
