// The browser talks to /api/auth on this app's own origin; Next forwards it to the sidecar, so the
// session cookies are first-party and no CORS is needed. Rewrites are fixed at `next build`: set
// AUTH_SIDECAR_URL when building.
import path from "node:path";
import { fileURLToPath } from "node:url";

const sidecar = (process.env.AUTH_SIDECAR_URL ?? "http://127.0.0.1:4000").replace(/\/+$/, "");

/** @type {import("next").NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // The app uses ../ (the client package) through a file: link, so tracing starts one level up.
  outputFileTracingRoot: path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."),
  async rewrites() {
    return [{ source: "/api/auth/:path*", destination: `${sidecar}/api/auth/:path*` }];
  },
  webpack(config) {
    // @authsidecar/web is linked from ../ (file:..). Resolving it through the link keeps its
    // `import "react"` on this app's single React instead of looking beside the real path.
    config.resolve.symlinks = false;
    return config;
  },
};

export default nextConfig;
