"use client";

// The one auth client of the app. It is ours (@authsidecar/web) unless the server was started with
// AUTH_CLIENT=upstream, which swaps in the npm better-auth client: the pages call the same methods
// either way, which is what the browser tests use to prove the sidecar is a drop-in backend.
import {
  createAuthClient,
  emailOTPClient,
  magicLinkClient,
  organizationClient,
  passkeyClient,
  twoFactorClient,
  type ReactAuthClient,
} from "@authsidecar/web/react";
import { createAuthClient as createUpstreamClient } from "better-auth/react";
import {
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

function create(): ReactAuthClient {
  if (clientKind === "upstream") {
    // Upstream's passkey client lives in @better-auth/passkey, whose peer ranges do not admit
    // better-auth 1.7.25; without it the passkey pages say so.
    const upstream = createUpstreamClient({
      plugins: [upstreamTwoFactor(), upstreamOrganization(), upstreamMagicLink(), upstreamEmailOTP()],
    });
    return upstream as unknown as ReactAuthClient;
  }
  return createAuthClient({
    plugins: [twoFactorClient(), passkeyClient(), organizationClient(), magicLinkClient(), emailOTPClient()],
  });
}

export const authClient = create();
