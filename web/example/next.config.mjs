// The browser talks to /api/auth on this app's own origin; app/api/auth/[...all]/route.ts forwards
// it to the sidecar (AUTH_SIDECAR_URL, read at run time), so the session cookies are first-party
// and no CORS is needed.
import path from "node:path";
import { fileURLToPath } from "node:url";

/** @type {import("next").NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // The app uses ../ (the client package) through a file: link, so tracing starts one level up.
  outputFileTracingRoot: path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."),
  webpack(config) {
    // @authsidecar/web is linked from ../ (file:..). Resolving it through the link keeps its
    // `import "react"` on this app's single React instead of looking beside the real path.
    config.resolve.symlinks = false;
    return config;
  },
};

export default nextConfig;
