import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "./nav";
import "./globals.css";

export const metadata: Metadata = { title: "authsidecar example" };

// AUTH_CLIENT is read when each page is served, not at build time, so one build serves both the
// authsidecar client and upstream's (see lib/auth-client.ts).
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  const kind = process.env.AUTH_CLIENT === "upstream" ? "upstream" : "authsidecar";
  return (
    <html lang="en" data-auth-client={kind}>
      <body>
        <Nav />
        <main>{children}</main>
      </body>
    </html>
  );
}
