// One shared session store per client, with upstream's semantics (upstream packages/better-auth/src/client/session-atom.ts): the first
// subscriber in a browser loads /get-session; session-changing calls, window focus (at most every
// 5 s), coming back online and other tabs' sign-outs refetch it; a 401 clears the data, any other
// error keeps it.

import type { Fetch } from "./fetch.js";
import type { AuthError, SessionData } from "./types.js";

export interface SessionState<D = SessionData> {
  data: D | null;
  error: AuthError | Error | null;
  /** True until the first answer, and while refetching with no data. */
  isPending: boolean;
  isRefetching: boolean;
  refetch: (options?: { query?: Record<string, unknown> }) => Promise<void>;
}

export interface SessionOptions {
  /** Refetch when the tab becomes visible again (default true). */
  refetchOnWindowFocus?: boolean;
  /** Poll every this many seconds while signed in (default 0: off). */
  refetchInterval?: number;
  /** Refetch even when the browser says it is offline (default false). */
  refetchWhenOffline?: boolean;
}

export interface SessionStore<D = SessionData> {
  get(): SessionState<D>;
  subscribe(listener: () => void): () => void;
  refetch(options?: { query?: Record<string, unknown> }): Promise<void>;
  /** signal is called after a session-changing call: refetch soon if anyone is listening. */
  signal(): void;
  /** broadcast tells other tabs of this origin to refetch. */
  broadcast(trigger: "signout" | "updateUser"): void;
}

// The localStorage key upstream's clients use to tell other tabs; sharing it lets tabs running
// either client hear each other.
const messageKey = "better-auth.message";
const focusInterval = 5_000;
// A second subscriber within this window reuses the last answer instead of fetching again.
const mountDedupe = 1_000;

export function createSessionStore($fetch: Fetch, options: SessionOptions = {}): SessionStore {
  const listeners = new Set<() => void>();
  let inFlight: AbortController | undefined;
  let freshUntil = 0;
  let lastFetch = 0;
  let teardown: (() => void) | undefined;

  const refetch = (opts?: { query?: Record<string, unknown> }) => load(opts);
  let state: SessionState = { data: null, error: null, isPending: true, isRefetching: false, refetch };

  function set(next: Omit<SessionState, "refetch">) {
    state = { ...next, refetch };
    for (const l of [...listeners]) l();
  }

  async function load(opts?: { query?: Record<string, unknown> }): Promise<void> {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    freshUntil = 0;
    lastFetch = Date.now();
    set({ data: state.data, error: null, isPending: state.data === null, isRefetching: true });
    try {
      let res = await $fetch<(SessionData & { needsRefresh?: boolean }) | null>("/get-session", {
        method: "GET",
        query: opts?.query,
        signal: controller.signal,
      });
      if (controller.signal.aborted) return;
      // deferSessionRefresh mode: the server asks for a POST that may write.
      if (res.data?.needsRefresh) {
        res = await $fetch("/get-session", { method: "POST", body: {}, signal: controller.signal });
        if (controller.signal.aborted) return;
      }
      if (res.error) {
        set({
          data: res.error.status === 401 ? null : state.data,
          error: res.error,
          isPending: false,
          isRefetching: false,
        });
        return;
      }
      const data = normalize(res.data);
      set({ data: sameJSON(state.data, data) ? state.data : data, error: null, isPending: false, isRefetching: false });
      const expires = data?.session.expiresAt instanceof Date ? data.session.expiresAt.getTime() : Infinity;
      freshUntil = Math.min(Date.now() + mountDedupe, expires);
    } catch (err) {
      if (controller.signal.aborted) return;
      // Network errors keep what we had: being offline is not being signed out.
      set({ data: state.data, error: err instanceof Error ? err : new Error(String(err)), isPending: false, isRefetching: false });
    } finally {
      if (inFlight === controller) inFlight = undefined;
    }
  }

  function start(): () => void {
    if (typeof window === "undefined" || typeof window.addEventListener !== "function") return () => {};
    const online = () => options.refetchWhenOffline || typeof navigator === "undefined" || navigator.onLine !== false;
    const onVisible = () => {
      if (document.visibilityState !== "visible" || !online()) return;
      if (Date.now() - lastFetch < focusInterval) return;
      void load();
    };
    const onOnline = () => {
      if (Date.now() - lastFetch >= focusInterval) void load();
    };
    const onStorage = (e: StorageEvent) => {
      if (e.key !== messageKey || !e.newValue) return;
      try {
        const msg = JSON.parse(e.newValue) as { event?: string; data?: unknown };
        if (msg.event === "session" && msg.data) void load();
      } catch {
        // Another script's value under our key: not a message for us.
      }
    };
    if (options.refetchOnWindowFocus ?? true) document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", onOnline);
    window.addEventListener("storage", onStorage);
    let poll: ReturnType<typeof setInterval> | undefined;
    if (options.refetchInterval && options.refetchInterval > 0) {
      poll = setInterval(() => {
        if (state.data && online()) void load();
      }, options.refetchInterval * 1000);
    }
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("storage", onStorage);
      if (poll) clearInterval(poll);
    };
  }

  return {
    get: () => state,
    refetch,
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        teardown = start();
        if (typeof window !== "undefined" && !inFlight && Date.now() >= freshUntil) {
          setTimeout(() => void load(), 0);
        }
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          teardown?.();
          teardown = undefined;
        }
      };
    },
    signal() {
      freshUntil = 0;
      // Upstream waits 10 ms so the browser has stored the new cookies first.
      if (listeners.size > 0) setTimeout(() => void load(), 10);
    },
    broadcast(trigger) {
      if (typeof localStorage === "undefined") return;
      try {
        localStorage.setItem(
          messageKey,
          JSON.stringify({
            event: "session",
            data: { trigger },
            clientId: Math.random().toString(36).slice(2),
            timestamp: Math.floor(Date.now() / 1000),
          }),
        );
      } catch {
        // Storage may be full or forbidden (private mode); other tabs then refetch on focus.
      }
    },
  };
}

function normalize(data: unknown): SessionData | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Partial<SessionData>;
  if (!d.session || !d.user) return null;
  return d as SessionData;
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
