import { authMiddleware } from "@authsidecar/web/next";

// Signed-out visitors of these pages go to /sign-in?callbackURL=<the page>.
export default authMiddleware({ protect: ["/dashboard", "/settings"], signInPath: "/sign-in" });

export const config = { matcher: ["/dashboard/:path*", "/settings/:path*"] };
