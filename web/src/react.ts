// React bindings: the same createAuthClient, plus useSession() reading the client's one shared
// session store, so every component sees the same state and a single request serves them all.

import { useSyncExternalStore } from "react";
import {
  createAuthClient as createCoreClient,
  type AuthClient,
  type ClientOptions,
  type ClientPlugin,
  type DefaultPlugins,
} from "./client.js";
import type { QueryState, QueryStore } from "./query.js";
import type { SessionState, SessionStore } from "./session.js";

export * from "./index.js";

// The server render and the first client render must agree: both show "pending".
const serverSnapshots = new WeakMap<SessionStore<unknown>, SessionState<unknown>>();

function serverSnapshot<D>(store: SessionStore<D>): SessionState<D> {
  let snap = serverSnapshots.get(store);
  if (!snap) {
    snap = { data: null, error: null, isPending: true, isRefetching: false, refetch: store.refetch };
    serverSnapshots.set(store, snap);
  }
  return snap as SessionState<D>;
}

/** useSession subscribes a component to a client's session: { data, isPending, error, refetch }. */
export function useSession<D>(client: { $session: SessionStore<D> }): SessionState<D> {
  const store = client.$session;
  return useSyncExternalStore(store.subscribe, store.get, () => serverSnapshot(store));
}

// The first render on the server and in the browser agree on "pending" for the other stores too.
const pendingQueries = new WeakMap<QueryStore<unknown>, QueryState<unknown>>();

/** useQuery subscribes a component to one of a client's $stores. */
export function useQuery<T>(store: QueryStore<T>): QueryState<T> {
  const serverState = () => {
    let snap = pendingQueries.get(store as QueryStore<unknown>);
    if (!snap) {
      snap = { data: null, error: null, isPending: true, isRefetching: false, refetch: store.refetch };
      pendingQueries.set(store as QueryStore<unknown>, snap);
    }
    return snap as QueryState<T>;
  };
  return useSyncExternalStore(store.subscribe, store.get, serverState);
}

/** A hook per store of the client's plugins: $stores.activeOrganization gives useActiveOrganization, … */
type StoreHooks<S> = { [K in keyof S & string as `use${Capitalize<K>}`]: () => QueryState<S[K] extends QueryStore<infer T> ? T : never> };

/** The React client for plugins P: the core client, useSession, and the plugins' hooks. */
export type ReactAuthClient<P extends readonly ClientPlugin[] = DefaultPlugins, OIDC extends string = never> = AuthClient<P, OIDC> & {
  useSession: () => SessionState<AuthClient<P, OIDC>["$Infer"]["Session"]>;
} & StoreHooks<AuthClient<P, OIDC>["$stores"]>;

export function createAuthClient<const P extends readonly ClientPlugin[] = [], const OIDC extends string = never>(
  options: ClientOptions<P, OIDC> = {},
): ReactAuthClient<P, OIDC> {
  const client = createCoreClient(options);
  const hooks: Record<string, () => QueryState<unknown>> = {};
  for (const [name, store] of Object.entries(client.$stores as Record<string, QueryStore<unknown>>)) {
    hooks[`use${name[0]?.toUpperCase()}${name.slice(1)}`] = () => useQuery(store);
  }
  return { ...client, useSession: () => useSession(client), ...hooks } as unknown as ReactAuthClient<P, OIDC>;
}
