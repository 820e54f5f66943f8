import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Nav } from "./nav";
import "./globals.css";

export const metadata: Metadata = { title: "authsidecar example" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// AUTH_CLIENT is read when each page is served, not at build time, so one build serves both the
// authsidecar client and upstream's (see lib/auth-client.ts).
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  const kind = process.env.AUTH_CLIENT === "upstream" ? "upstream" : "authsidecar";
  return (
    <html lang="en" data-auth-client={kind}>
      <body>
        <Nav />
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
