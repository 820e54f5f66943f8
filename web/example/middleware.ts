import { authMiddleware } from "@authsidecar/web/next";

// Signed-out visitors of these pages go to /sign-in?callbackURL=<the page>.
export default authMiddleware({ protect: ["/dashboard", "/settings", "/accept-invitation", "/admin"], signInPath: "/sign-in" });

export const config = { matcher: ["/dashboard/:path*", "/settings/:path*", "/accept-invitation/:path*", "/admin/:path*"] };
