"use client";

// The one auth client of the app. It is ours (@authsidecar/web) unless the server was started with
// AUTH_CLIENT=upstream, which swaps in the npm better-auth client: the pages call the same methods
// either way, which is what the browser tests use to prove the sidecar is a drop-in backend.
import {
  adminClient,
  createAuthClient,
  emailOTPClient,
  magicLinkClient,
  organizationClient,
  passkeyClient,
  twoFactorClient,
} from "@authsidecar/web/react";
import { passkeyClient as upstreamPasskey } from "@better-auth/passkey/client";
import { createAuthClient as createUpstreamClient } from "better-auth/react";
import {
  adminClient as upstreamAdmin,
  emailOTPClient as upstreamEmailOTP,
  magicLinkClient as upstreamMagicLink,
  organizationClient as upstreamOrganization,
  twoFactorClient as upstreamTwoFactor,
} from "better-auth/client/plugins";

/**
 * Which client runs. The server reads AUTH_CLIENT when it renders; the browser reads what the root
 * layout wrote on <html data-auth-client>, so both render the same thing.
 */
export const clientKind: "authsidecar" | "upstream" =
  (typeof document !== "undefined" ? document.documentElement.dataset.authClient : process.env.AUTH_CLIENT) === "upstream"
    ? "upstream"
    : "authsidecar";

/** Our client with the plugins whose screens the app has: their namespaces, hooks and user fields. */
function ours() {
  return createAuthClient({
    plugins: [twoFactorClient(), passkeyClient(), organizationClient(), magicLinkClient(), emailOTPClient(), adminClient()],
  });
}

/** The app's client type: pages see exactly the calls and user fields these plugins bring. */
export type AppAuthClient = ReturnType<typeof ours>;
/** The signed-in session as the app's pages see it (the user has the plugins' fields: role, twoFactorEnabled, …). */
export type AppSession = AppAuthClient["$Infer"]["Session"];

function create(): AppAuthClient {
  if (clientKind === "upstream") {
    // Upstream's passkey client is @better-auth/passkey 1.7.6, whose exact peer pins predate
    // better-auth 1.7.25; package.json's overrides give it better-auth's own versions instead.
    const upstream = createUpstreamClient({
      plugins: [upstreamTwoFactor(), upstreamPasskey(), upstreamOrganization(), upstreamMagicLink(), upstreamEmailOTP(), upstreamAdmin()],
    });
    return upstream as unknown as AppAuthClient;
  }
  return ours();
}

export const authClient = create();

/** isAdmin: the user holds the admin role (roles are stored comma-joined). The sidecar checks
 * every admin call itself; this only decides what the app shows. */
export function isAdmin(user: { role?: unknown } | null | undefined): boolean {
  return typeof user?.role === "string" && user.role.split(",").includes("admin");
}
