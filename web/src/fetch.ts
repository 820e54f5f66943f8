// The request layer: one function that every endpoint goes through, so method choice, JSON,
// date revival and the {data, error} result are decided in one place (upstream packages/better-auth/src/client/fetch-plugins.ts).

import { unreachable } from "./errors.js";
import { parseJSON } from "./json.js";
import type { AuthError, FetchOptions, RequestContext, Result } from "./types.js";

export type Fetch = <T = unknown>(path: string, options?: FetchOptions<T>) => Promise<Result<T>>;

/** A hook run after every 2xx reply, before the call resolves. */
export type SuccessHook = (path: string, data: unknown, options: FetchOptions<never>) => void | Promise<void>;

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Date) params.append(key, value.toISOString());
    else if (typeof value === "object") params.append(key, JSON.stringify(value));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function mergeHeaders(...sets: (HeadersInit | undefined)[]): Headers {
  const out = new Headers();
  for (const set of sets) {
    if (!set) continue;
    new Headers(set).forEach((value, key) => out.set(key, value));
  }
  return out;
}

export function createFetch(baseURL: string, defaults: FetchOptions, hooks: SuccessHook[]): Fetch {
  return async function $fetch<T>(path: string, options: FetchOptions<T> = {}): Promise<Result<T>> {
    const method = (options.method ?? (options.body ? "POST" : "GET")).toUpperCase();
    const headers = mergeHeaders(defaults.headers, options.headers);
    let body: string | undefined;
    if (method !== "GET" && method !== "HEAD") {
      body = JSON.stringify(options.body ?? {});
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const doFetch = options.customFetchImpl ?? defaults.customFetchImpl ?? globalThis.fetch;
    const request: RequestContext = { url: baseURL + path + queryString(options.query), method, headers, body };
    const signal = options.signal ?? defaults.signal;
    if (signal) request.signal = signal;
    // Node's undici ignores credentials, browsers need it for cookies; React Native lacks it.
    if (typeof Request !== "undefined" && "credentials" in Request.prototype) {
      request.credentials = options.credentials ?? defaults.credentials ?? "include";
    }
    // As better-fetch: what onRequest returns is merged into the request, a Response from onResponse replaces the reply.
    for (const hook of [defaults.onRequest, options.onRequest]) {
      const changed = await hook?.(request);
      if (changed && typeof changed === "object") Object.assign(request, changed);
    }
    const { url, ...init } = request;
    let response: Response;
    try {
      response = await doFetch(url, init);
    } catch (err) {
      // Refused, unresolvable, aborted: there is no status to report, and it is not "signed out".
      throw unreachable(url, err);
    }
    for (const hook of [defaults.onResponse, options.onResponse]) {
      const replaced = await hook?.({ response, request });
      if (replaced instanceof Response) response = replaced;
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw unreachable(url, err); // the connection broke (or was aborted) mid-body
    }
    if (response.ok) {
      const data = parseJSON(text) as T;
      const ctx = { data, response, request };
      await defaults.onSuccess?.(ctx);
      await options.onSuccess?.(ctx);
      for (const hook of hooks) await hook(path, data, options as FetchOptions<never>);
      return { data, error: null };
    }
    const parsed = parseJSON(text);
    const error: AuthError = {
      ...(parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {}),
      status: response.status,
      statusText: response.statusText,
    };
    await defaults.onError?.({ error, response, request });
    await options.onError?.({ error, response, request });
    return { data: null, error };
  };
}

const dangerousSchemes = ["javascript:", "data:", "vbscript:"];

/** isSafeURL refuses script-running schemes before the client navigates anywhere. */
export function isSafeURL(url: string): boolean {
  try {
    return !dangerousSchemes.includes(new URL(url).protocol);
  } catch {
    return true; // relative URLs
  }
}

/** navigate sends the browser to url; it does nothing outside a browser. */
export function navigate(url: string): void {
  if (typeof window === "undefined" || !window.location || !isSafeURL(url)) return;
  window.location.href = url;
}
