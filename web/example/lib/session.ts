import type { SessionData } from "@authsidecar/web";
import { getSession, SidecarError } from "@authsidecar/web/next";
import { headers } from "next/headers";

export type ServerSession = SessionData;

/**
 * readSession reads the visitor's session in a Server Component. A sidecar that cannot be
 * reached (SidecarError, or fetch's TypeError before the client raised SidecarError for it)
 * answers {down: true} so the page can say so kindly; any other failure is thrown to error.tsx.
 */
export async function readSession(): Promise<{ session: ServerSession | null; down: boolean }> {
  try {
    return { session: await getSession<SessionData>(await headers()), down: false };
  } catch (err) {
    if (err instanceof SidecarError || err instanceof TypeError) {
      console.error(`getSession failed: ${err.name}: ${err.message}`);
      return { session: null, down: true };
    }
    throw err;
  }
}
