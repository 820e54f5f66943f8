// Next.js helpers for the server side: getSession for Server Components and route handlers, and
// authMiddleware for middleware.ts. They use only web-standard APIs (fetch, WebCrypto, Response),
// so they run in the Node and Edge runtimes and need nothing from the next package.

import { fromBase64url } from "./base64url.js";
import { parseJSON } from "./json.js";
import type { SessionData } from "./types.js";
import { verifyingMiddleware, type VerifyOptions } from "./edge.js";
import { SidecarError, unreachable } from "./errors.js";

export type { VerifyMode, VerifyOptions } from "./edge.js";
export { SidecarError };

declare const process: { env: Record<string, string | undefined> } | undefined;

const env = (name: string): string | undefined => (typeof process !== "undefined" ? process.env[name] : undefined);

/** Anything with get(name): Next's headers(), a Request's headers, a Headers object. */
export interface HeaderSource {
  get(name: string): string | null;
}

export interface GetSessionOptions {
  /** Where the sidecar listens, seen from the Next server. Default: env AUTH_SIDECAR_URL, else http://127.0.0.1:4000. */
  sidecarURL?: string;
  basePath?: string;
  /**
   * BETTER_AUTH_SECRET (default: that env var, when the app has it). With it, a valid session_data
   * cookie cache answers without a request to the sidecar, as upstream's getCookieCache does.
   */
  secret?: string;
  /** Ask the sidecar to skip its cookie cache, or not to extend the session. */
  query?: { disableCookieCache?: boolean; disableRefresh?: boolean };
  /** The sidecar's advanced.cookiePrefix (default: env COOKIE_PREFIX, else "better-auth"): its cookies are <prefix>.session_token, … */
  cookiePrefix?: string;
  fetch?: typeof fetch;
}

/** parseCookies reads a Cookie header; the first occurrence of a name wins, as on the server. */
export function parseCookies(header: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** The prefix of the sidecar's cookies when advanced.cookiePrefix is not set, as upstream's. */
export const defaultCookiePrefix = "better-auth";

/** cookiePrefix is the sidecar's COOKIE_PREFIX as the app knows it: the option, else the app's COOKIE_PREFIX variable, else the default. */
export function cookiePrefix(given?: string): string {
  return given || env("COOKIE_PREFIX") || defaultCookiePrefix;
}

/** sessionCookie finds <prefix>.<name>, the __Secure- one first, as upstream's getSessionCookie. */
export function sessionCookie(cookies: Map<string, string>, name: string, prefix = defaultCookiePrefix): { value: string; name: string } | undefined {
  for (const full of [`__Secure-${prefix}.${name}`, `${prefix}.${name}`]) {
    const value = cookies.get(full);
    if (value !== undefined) return { value, name: full };
  }
  return undefined;
}

/** hasSessionCookie is the optimistic check middleware makes: a session cookie is present. */
export function hasSessionCookie(cookieHeader: string | null | undefined, cookiePrefix = defaultCookiePrefix): boolean {
  return Boolean(sessionCookie(parseCookies(cookieHeader), "session_token", cookiePrefix)?.value);
}

const encoder = new TextEncoder();

async function hmacVerify(secret: string, signature: ArrayBuffer, data: string): Promise<boolean> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  // A view: the Edge runtime's WebCrypto refuses an ArrayBuffer of the sandbox's realm.
  return crypto.subtle.verify("HMAC", key, new Uint8Array(signature), encoder.encode(data));
}

function safeDecode(value: string): string | undefined {
  try {
    return value.includes("%") ? decodeURIComponent(value) : value;
  } catch {
    return undefined;
  }
}

/** verifySignedCookie returns the value of a signed cookie ("value.base64sig"), or undefined. */
export async function verifySignedCookie(raw: string, secret: string): Promise<string | undefined> {
  const decoded = safeDecode(raw);
  if (!decoded) return undefined;
  const i = decoded.lastIndexOf(".");
  if (i < 1) return undefined;
  const value = decoded.slice(0, i);
  const sig = decoded.slice(i + 1);
  if (sig.length !== 44 || !sig.endsWith("=")) return undefined;
  try {
    return (await hmacVerify(secret, fromBase64url(sig), value)) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface CachePayload {
  session: { session: { token?: string; expiresAt?: string }; user: unknown; updatedAt: number; version: string };
  expiresAt: number;
  signature: string;
}

/**
 * readCookieCache decodes the session_data cookie (compact strategy, upstream packages/better-auth/src/cookies/index.ts, getCookieCache) and returns
 * the session when its signature, token, version and both expiries check out.
 */
export async function readCookieCache(
  cookieHeader: string | null | undefined,
  secret: string,
  now = Date.now(),
  cookiePrefix = defaultCookiePrefix,
): Promise<SessionData | null> {
  const cookies = parseCookies(cookieHeader);
  const token = sessionCookie(cookies, "session_token", cookiePrefix);
  if (!token) return null;
  const tokenValue = await verifySignedCookie(token.value, secret);
  if (!tokenValue) return null;
  const dataName = token.name.replace(/session_token$/, "session_data");
  let encoded = cookies.get(dataName);
  if (encoded === undefined) {
    // Large caches are split into name.0, name.1, … in order.
    const chunks: string[] = [];
    for (let i = 0; cookies.has(`${dataName}.${i}`); i++) chunks.push(cookies.get(`${dataName}.${i}`) ?? "");
    if (chunks.length === 0) return null;
    encoded = chunks.join("");
  }
  let payload: CachePayload;
  try {
    payload = JSON.parse(new TextDecoder().decode(fromBase64url(encoded))) as CachePayload;
    const p = payload.session;
    const signed = JSON.stringify({ ...p, expiresAt: payload.expiresAt });
    if (!(await hmacVerify(secret, fromBase64url(payload.signature), signed))) return null;
    const expires = p.session.expiresAt ? Date.parse(p.session.expiresAt) : Number.NaN;
    if (p.version !== "1" || p.session.token !== tokenValue || !(payload.expiresAt > now) || !(expires > now)) {
      return null;
    }
    return parseJSON(JSON.stringify({ session: p.session, user: p.user })) as SessionData;
  } catch {
    return null;
  }
}

/**
 * getSession returns the signed-in session for the request whose headers are given, or null.
 * It forwards the Cookie header to the sidecar's get-session. Anything else throws SidecarError,
 * so a down sidecar shows as an error rather than as "signed out": an error reply with its status
 * and code, an unreachable sidecar (refused, unresolvable, aborted) with status 0 and the network
 * error as cause. D is the session's type with the app's fields: getSession<typeof authClient.$Infer.Session>(h).
 */
export async function getSession<D extends { session: unknown; user: unknown } = SessionData>(
  headers: HeaderSource,
  options: GetSessionOptions = {},
): Promise<D | null> {
  const cookieHeader = headers.get("cookie");
  const prefix = cookiePrefix(options.cookiePrefix);
  if (!cookieHeader || !hasSessionCookie(cookieHeader, prefix)) return null;
  const secret = options.secret ?? env("BETTER_AUTH_SECRET");
  if (secret && !options.query?.disableCookieCache) {
    const cached = await readCookieCache(cookieHeader, secret, Date.now(), prefix);
    if (cached) return cached as unknown as D;
  }
  const base = (options.sidecarURL ?? env("AUTH_SIDECAR_URL") ?? "http://127.0.0.1:4000").replace(/\/+$/, "");
  const params = new URLSearchParams();
  if (options.query?.disableCookieCache) params.set("disableCookieCache", "true");
  if (options.query?.disableRefresh) params.set("disableRefresh", "true");
  const qs = params.size > 0 ? `?${params}` : "";
  const forwarded: Record<string, string> = { cookie: cookieHeader, accept: "application/json" };
  // The sidecar records the device of a session; pass the browser's, not Node's.
  const ua = headers.get("user-agent");
  if (ua) forwarded["user-agent"] = ua;
  const doFetch = options.fetch ?? fetch;
  const url = `${base}${options.basePath ?? "/api/auth"}/get-session${qs}`;
  let res: Response;
  let text: string;
  try {
    res = await doFetch(url, { headers: forwarded, cache: "no-store" });
    text = await res.text();
  } catch (err) {
    throw unreachable(url, err);
  }
  if (res.status === 401) return null;
  if (!res.ok) {
    const body = parseJSON(text) as { code?: string; message?: string } | null;
    throw new SidecarError(res.status, body?.code, body?.message ?? `get-session answered ${res.status}`);
  }
  const data = parseJSON(text) as D | null;
  return data && data.session && data.user ? data : null;
}

export interface AuthMiddlewareOptions extends VerifyOptions {
  /** Path prefixes that need a session ("/dashboard" covers "/dashboard/x"), or a predicate. */
  protect: string[] | ((pathname: string) => boolean);
  /** Where signed-out visitors go (default "/sign-in"); the original path rides along as callbackURL. */
  signInPath?: string;
}

function isProtected(protect: AuthMiddlewareOptions["protect"], pathname: string): boolean {
  if (typeof protect === "function") return protect(pathname);
  return protect.some((p) => {
    const prefix = p.replace(/\/+$/, "");
    return pathname === prefix || pathname.startsWith(`${prefix}/`) || prefix === "";
  });
}

/**
 * authMiddleware builds a Next.js middleware that sends visitors without a session from a
 * protected path to the sign-in page. Without `verify` the check is optimistic (a session cookie is
 * present; it is not validated): pages must still call getSession. With `verify` the session is
 * checked, locally where the mode allows (see VerifyMode in edge.ts).
 */
export function authMiddleware(options: AuthMiddlewareOptions) {
  if (options.verify) return verifyingMiddleware(options, isProtected);
  const signInPath = options.signInPath ?? "/sign-in";
  return function middleware(request: Request & { nextUrl?: URL }): Response | undefined {
    const url = request.nextUrl ?? new URL(request.url);
    if (!isProtected(options.protect, url.pathname)) return undefined;
    if (hasSessionCookie(request.headers.get("cookie"), cookiePrefix(options.cookiePrefix))) return undefined;
    return signInRedirect(url, signInPath);
  };
}

/** signInRedirect sends a visitor of url to the sign-in page, url riding along as callbackURL. */
export function signInRedirect(url: URL, signInPath: string, setCookies: string[] = []): Response {
  const target = new URL(signInPath, url);
  // "/" stays readable in the query (it is allowed there): /sign-in?callbackURL=/dashboard
  target.search = `?callbackURL=${encodeURIComponent(url.pathname + url.search).replace(/%2F/gi, "/")}`;
  const headers = new Headers({ location: target.toString() });
  for (const c of setCookies) headers.append("set-cookie", c);
  return new Response(null, { status: 307, headers });
}
export { authRouteHandler, clientAddress, type AuthRouteHandlerOptions } from "./proxy.js";
