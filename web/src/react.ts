// React bindings: the same createAuthClient, plus useSession() reading the client's one shared
// session store, so every component sees the same state and a single request serves them all.

import { useSyncExternalStore } from "react";
import { createAuthClient as createCoreClient, type ClientOptions } from "./client.js";
import type { SessionState, SessionStore } from "./session.js";

export * from "./index.js";

// The server render and the first client render must agree: both show "pending".
const serverSnapshots = new WeakMap<SessionStore, SessionState>();

function serverSnapshot(store: SessionStore): SessionState {
  let snap = serverSnapshots.get(store);
  if (!snap) {
    snap = { data: null, error: null, isPending: true, isRefetching: false, refetch: store.refetch };
    serverSnapshots.set(store, snap);
  }
  return snap;
}

/** useSession subscribes a component to a client's session: { data, isPending, error, refetch }. */
export function useSession(client: { $session: SessionStore }): SessionState {
  const store = client.$session;
  return useSyncExternalStore(store.subscribe, store.get, () => serverSnapshot(store));
}

export function createAuthClient(options: ClientOptions = {}) {
  const client = createCoreClient(options);
  return { ...client, useSession: () => useSession(client) };
}

export type ReactAuthClient = ReturnType<typeof createAuthClient>;
