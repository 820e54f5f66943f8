import { authMiddleware, type VerifyMode } from "@authsidecar/web/next";

// Signed-out visitors of these pages go to /sign-in?callbackURL=<the page>. AUTH_MIDDLEWARE_VERIFY
// (jwt, cookie-cache or sidecar) makes the middleware check the session, not only its cookie. The
// Edge runtime sees only the variables named here literally, so each is passed in.
export default authMiddleware({
  protect: ["/dashboard", "/settings", "/accept-invitation", "/admin"],
  signInPath: "/sign-in",
  verify: (process.env.AUTH_MIDDLEWARE_VERIFY || undefined) as VerifyMode | undefined,
  sidecarURL: process.env.AUTH_SIDECAR_URL,
  secret: process.env.BETTER_AUTH_SECRET,
  issuer: process.env.BETTER_AUTH_URL ? new URL(process.env.BETTER_AUTH_URL).origin : undefined,
});

export const config = { matcher: ["/dashboard/:path*", "/settings/:path*", "/accept-invitation/:path*", "/admin/:path*"] };
