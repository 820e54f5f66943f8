// Every /api/auth/* request goes to the sidecar through this handler (see @authsidecar/web's
// README): cookies stay first-party, and the sidecar is told the client's address from what the
// platform knows rather than from headers the client wrote. AUTH_SIDECAR_URL is read at run time.
import { authRouteHandler } from "@authsidecar/web/next";

export const dynamic = "force-dynamic";

export const { GET, POST } = authRouteHandler();
