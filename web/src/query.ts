// Stores behind upstream's other React hooks (useActiveOrganization, useListOrganizations,
// useActiveMember, useActiveMemberRole, useListPasskeys), with upstream's useAuthQuery semantics:
// the first subscriber in a browser loads the path, later calls that change what it shows make it
// load again (signal), the newest request wins, a 401 clears the data and other errors keep it.

import type { Fetch } from "./fetch.js";
import type { AuthError } from "./types.js";

export interface QueryState<T> {
  data: T | null;
  error: AuthError | Error | null;
  /** True until the first answer, and while loading with no data. */
  isPending: boolean;
  isRefetching: boolean;
  refetch: (options?: { query?: Record<string, unknown> }) => Promise<void>;
}

export interface QueryStore<T> {
  get(): QueryState<T>;
  subscribe(listener: () => void): () => void;
  refetch(options?: { query?: Record<string, unknown> }): Promise<void>;
  /** signal is called after a call that changes what the store shows: reload soon if anyone listens. */
  signal(): void;
}

export function createQueryStore<T>($fetch: Fetch, path: string): QueryStore<T> {
  const listeners = new Set<() => void>();
  let latest = 0;

  const refetch = (opts?: { query?: Record<string, unknown> }) => load(opts);
  let state: QueryState<T> = { data: null, error: null, isPending: true, isRefetching: false, refetch };

  function set(next: Omit<QueryState<T>, "refetch">) {
    state = { ...next, refetch };
    for (const l of [...listeners]) l();
  }

  async function load(opts?: { query?: Record<string, unknown> }): Promise<void> {
    const id = ++latest;
    set({ data: state.data, error: null, isPending: state.data === null, isRefetching: true });
    try {
      const res = await $fetch<T>(path, { method: "GET", query: opts?.query });
      if (id !== latest) return;
      if (res.error) {
        set({ data: res.error.status === 401 ? null : state.data, error: res.error, isPending: false, isRefetching: false });
        return;
      }
      // Unchanged data keeps its identity, so components that depend on it do not re-render.
      const data = JSON.stringify(res.data) === JSON.stringify(state.data) ? state.data : res.data;
      set({ data, error: null, isPending: false, isRefetching: false });
    } catch (err) {
      if (id !== latest) return;
      set({ data: state.data, error: err instanceof Error ? err : new Error(String(err)), isPending: false, isRefetching: false });
    }
  }

  return {
    get: () => state,
    refetch,
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && typeof window !== "undefined") setTimeout(() => void load(), 0);
      return () => {
        listeners.delete(listener);
      };
    },
    signal() {
      // Upstream waits 10 ms so the browser has stored the call's cookies first.
      if (listeners.size > 0) setTimeout(() => void load(), 10);
    },
  };
}
