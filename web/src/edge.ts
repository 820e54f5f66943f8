// Session decisions for Next.js middleware that need no request to the sidecar: a JWT of the
// sidecar's jwt plugin verified against its cached JWKS, or the signed session_data cookie cache
// verified with the shared secret, each falling back to the sidecar's get-session when the local
// answer is missing or expired. Web-standard APIs only (fetch, WebCrypto, TextEncoder), so it runs
// in the Edge runtime.

import { fromBase64url, toBase64url } from "./base64url.js";
import {
  cookiePrefix,
  hasSessionCookie,
  parseCookies,
  readCookieCache,
  sessionCookie,
  signInRedirect,
  type AuthMiddlewareOptions,
} from "./next.js";

declare const process: { env: Record<string, string | undefined> } | undefined;

const env = (name: string): string | undefined => (typeof process !== "undefined" ? process.env[name] : undefined);

/**
 * How authMiddleware decides that a request is signed in:
 * - "jwt": a JWT the middleware keeps in its own cookie (authsidecar.session_jwt), verified
 *   against the sidecar's /jwks (JWT_ENABLED=true on the sidecar); the first request, and each one
 *   after the JWT expires (15 minutes by default), asks the sidecar and stores the new JWT;
 * - "cookie-cache": the session_data cookie (COOKIE_CACHE_MAX_AGE on the sidecar), verified with
 *   BETTER_AUTH_SECRET, as upstream's getCookieCache; a missing or stale one asks the sidecar;
 * - "sidecar": the sidecar's get-session on every request.
 * A revoked session is seen at once only by "sidecar"; the others see it when their JWT or cache
 * expires (both are also gone at sign-out on this browser, since they are bound to its cookie).
 */
export type VerifyMode = "jwt" | "cookie-cache" | "sidecar";

export interface VerifyOptions {
  verify?: VerifyMode;
  /** Where the sidecar listens, seen from the middleware. Default: env AUTH_SIDECAR_URL, else http://127.0.0.1:4000. */
  sidecarURL?: string;
  basePath?: string;
  /** "cookie-cache": BETTER_AUTH_SECRET (default: that env var). */
  secret?: string;
  /** "jwt": the iss and aud the sidecar puts in its JWTs (default: env BETTER_AUTH_URL, else the request's origin). */
  issuer?: string;
  audience?: string;
  /** The sidecar's advanced.cookiePrefix (default: env COOKIE_PREFIX, else "better-auth"): its cookies are <prefix>.session_token, … */
  cookiePrefix?: string;
  fetch?: typeof fetch;
}

/** A decision: signed in or not, how it was made, and cookies the response must set. */
export interface Decision {
  signedIn: boolean;
  via: "no-cookie" | "jwt" | "cookie-cache" | "sidecar" | "sidecar-unreachable";
  setCookies: string[];
}

/** The cookie the "jwt" mode keeps its JWT in: "<binding>.<jwt>", binding tying it to one session cookie. */
export const jwtCookieName = "authsidecar.session_jwt";

const sidecarBase = (o: VerifyOptions) =>
  (o.sidecarURL ?? env("AUTH_SIDECAR_URL") ?? "http://127.0.0.1:4000").replace(/\/+$/, "") + (o.basePath ?? "/api/auth");

/**
 * verifyingMiddleware is authMiddleware with a verify mode. A signed-in request goes on (with the
 * cookies the decision set, and x-authsidecar-decision saying how it was made); any other goes to
 * the sign-in page.
 */
export function verifyingMiddleware(options: AuthMiddlewareOptions, isProtected: (protect: AuthMiddlewareOptions["protect"], pathname: string) => boolean) {
  const signInPath = options.signInPath ?? "/sign-in";
  return async function middleware(request: Request & { nextUrl?: URL }): Promise<Response | undefined> {
    const url = request.nextUrl ?? new URL(request.url);
    if (!isProtected(options.protect, url.pathname)) return undefined;
    const d = await decide(request, options);
    if (!d.signedIn) return signInRedirect(url, signInPath, d.setCookies);
    // What NextResponse.next() is: the request goes on, these headers join the response.
    const headers = new Headers({ "x-middleware-next": "1", "x-authsidecar-decision": d.via });
    for (const c of d.setCookies) headers.append("set-cookie", c);
    return new Response(null, { headers });
  };
}

/** decide is authMiddleware's check for one request. */
export async function decide(request: Request, options: VerifyOptions): Promise<Decision> {
  const cookieHeader = request.headers.get("cookie");
  const prefix = cookiePrefix(options.cookiePrefix);
  if (!hasSessionCookie(cookieHeader, prefix)) return { signedIn: false, via: "no-cookie", setCookies: [] };
  const url = new URL(request.url);
  const mode = options.verify ?? "sidecar";
  if (mode === "cookie-cache") {
    const secret = options.secret ?? env("BETTER_AUTH_SECRET");
    if (secret && (await readCookieCache(cookieHeader, secret, Date.now(), prefix))) return { signedIn: true, via: "cookie-cache", setCookies: [] };
  }
  const binding = mode === "jwt" ? await sessionBinding(cookieHeader, prefix) : "";
  if (mode === "jwt") {
    const held = parseCookies(cookieHeader).get(jwtCookieName);
    if (held?.startsWith(`${binding}.`) && (await verifyJWT(held.slice(binding.length + 1), options, url))) {
      return { signedIn: true, via: "jwt", setCookies: [] };
    }
  }
  return askSidecar(request, cookieHeader ?? "", options, mode, binding, url);
}

/** askSidecar is the fallback: get-session with the browser's cookies, whose Set-Cookie lines are passed on. */
async function askSidecar(request: Request, cookieHeader: string, o: VerifyOptions, mode: VerifyMode, binding: string, url: URL): Promise<Decision> {
  const headers: Record<string, string> = { cookie: cookieHeader, accept: "application/json" };
  const ua = request.headers.get("user-agent");
  if (ua) headers["user-agent"] = ua;
  let res: Response;
  let body: { session?: unknown; user?: unknown } | null;
  try {
    res = await (o.fetch ?? fetch)(`${sidecarBase(o)}/get-session`, { headers, cache: "no-store" });
    body = res.ok ? ((await res.json()) as typeof body) : null;
  } catch {
    // The sidecar is down: pass the request on, as the optimistic check would; the page's own
    // getSession then fails loudly rather than this middleware signing everyone out.
    return { signedIn: true, via: "sidecar-unreachable", setCookies: [] };
  }
  if (!res.ok && res.status !== 401) return { signedIn: true, via: "sidecar-unreachable", setCookies: [] };
  const setCookies = res.headers.getSetCookie?.() ?? [];
  const signedIn = Boolean(body && body.session && body.user);
  const secure = url.protocol === "https:" ? "; Secure" : "";
  const jwt = res.headers.get("set-auth-jwt");
  if (mode === "jwt" && signedIn && jwt) {
    const exp = jwtExpiry(jwt);
    const maxAge = exp ? Math.max(0, exp - Math.floor(Date.now() / 1000)) : 0;
    setCookies.push(`${jwtCookieName}=${binding}.${jwt}; Max-Age=${maxAge}; Path=/; HttpOnly${secure}; SameSite=Lax`);
  } else if (mode === "jwt" && parseCookies(cookieHeader).has(jwtCookieName)) {
    setCookies.push(`${jwtCookieName}=; Max-Age=0; Path=/; HttpOnly${secure}; SameSite=Lax`);
  }
  return { signedIn, via: "sidecar", setCookies };
}

const encoder = new TextEncoder();

/** sessionBinding names the session cookie a JWT was stored for: a JWT outlives no sign-out or user switch. */
async function sessionBinding(cookieHeader: string | null, prefix: string): Promise<string> {
  const token = sessionCookie(parseCookies(cookieHeader), "session_token", prefix)?.value ?? "";
  return toBase64url(await crypto.subtle.digest("SHA-256", encoder.encode(token))).slice(0, 22);
}

function jsonPart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(fromBase64url(part ?? "")));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function jwtExpiry(jwt: string): number | undefined {
  const exp = jsonPart(jwt.split(".")[1])?.exp;
  return typeof exp === "number" ? exp : undefined;
}

/** The JWS algorithms the sidecar's keys may use, as WebCrypto names them. */
const algorithms: Record<string, { importAs: AlgorithmIdentifier | EcKeyImportParams | RsaHashedImportParams; verifyAs: AlgorithmIdentifier | EcdsaParams | RsaPssParams }> = {
  EdDSA: { importAs: { name: "Ed25519" }, verifyAs: { name: "Ed25519" } },
  ES256: { importAs: { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams, verifyAs: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams },
  ES512: { importAs: { name: "ECDSA", namedCurve: "P-521" } as EcKeyImportParams, verifyAs: { name: "ECDSA", hash: "SHA-512" } as EcdsaParams },
  RS256: { importAs: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams, verifyAs: { name: "RSASSA-PKCS1-v1_5" } },
  PS256: { importAs: { name: "RSA-PSS", hash: "SHA-256" } as RsaHashedImportParams, verifyAs: { name: "RSA-PSS", saltLength: 32 } as RsaPssParams },
};

interface JWK {
  kid?: string;
  alg?: string;
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/** The JWKS, per sidecar URL, kept as long as the sidecar's Cache-Control allows (5 minutes). */
const jwksCache = new Map<string, { keys: Map<string, JWK>; fetchedAt: number }>();
/** Imported public keys, by the JWK they came from: importing costs more than verifying. */
const imported = new WeakMap<JWK, Promise<CryptoKey>>();
const jwksMaxAgeMs = 300_000;
const jwksRefetchAfterMs = 30_000; // an unknown kid refetches, at most this often (a rotated key)

async function keyFor(kid: string, o: VerifyOptions): Promise<JWK | undefined> {
  const base = sidecarBase(o);
  const now = Date.now();
  let cached = jwksCache.get(base);
  const stale = !cached || now - cached.fetchedAt > jwksMaxAgeMs;
  if (stale || (!cached?.keys.has(kid) && now - (cached?.fetchedAt ?? 0) > jwksRefetchAfterMs)) {
    try {
      const res = await (o.fetch ?? fetch)(`${base}/jwks`, { headers: { accept: "application/json" } });
      if (res.ok) {
        const set = (await res.json()) as { keys?: JWK[] };
        cached = { keys: new Map((set.keys ?? []).filter((k) => k.kid).map((k) => [k.kid as string, k])), fetchedAt: now };
        jwksCache.set(base, cached);
      }
    } catch {
      // keep what we had; the caller falls back to the sidecar
    }
  }
  return cached?.keys.get(kid);
}

/** verifyJWT checks signature (the JWKS key named by kid, its algorithm only), exp, nbf, iss and aud. */
export async function verifyJWT(jwt: string, o: VerifyOptions, url: URL, now = Date.now()): Promise<Record<string, unknown> | undefined> {
  const parts = jwt.split(".");
  if (parts.length !== 3) return undefined;
  const header = jsonPart(parts[0]);
  const claims = jsonPart(parts[1]);
  const alg = typeof header?.alg === "string" ? header.alg : "";
  const spec = Object.hasOwn(algorithms, alg) ? algorithms[alg] : undefined;
  if (!header || !claims || !spec || typeof header.kid !== "string") return undefined; // alg "none" ends here
  const jwk = await keyFor(header.kid, o);
  if (!jwk || jwk.alg !== alg) return undefined;
  try {
    let key = imported.get(jwk);
    if (!key) {
      const { kty, crv, x, y, n, e } = jwk;
      key = crypto.subtle.importKey("jwk", { kty, crv, x, y, n, e } as JsonWebKey, spec.importAs, false, ["verify"]);
      imported.set(jwk, key);
    }
    // A view, not the ArrayBuffer: the Edge runtime's WebCrypto refuses an ArrayBuffer made in
    // the sandbox's realm ("3rd argument is not instance of ArrayBuffer"), but takes any view.
    const signature = new Uint8Array(fromBase64url(parts[2] ?? ""));
    const ok = await crypto.subtle.verify(spec.verifyAs, await key, signature, encoder.encode(`${parts[0]}.${parts[1]}`));
    if (!ok) return undefined;
  } catch {
    return undefined;
  }
  const seconds = now / 1000;
  const appURL = env("BETTER_AUTH_URL");
  const issuer = o.issuer ?? (appURL ? new URL(appURL).origin : url.origin); // the sidecar's default: the app's origin
  const audience = o.audience ?? issuer;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (typeof claims.exp !== "number" || claims.exp <= seconds) return undefined;
  if (typeof claims.nbf === "number" && claims.nbf > seconds) return undefined;
  if (claims.iss !== issuer || !aud.includes(audience)) return undefined;
  return claims;
}
