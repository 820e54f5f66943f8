import { getSession } from "@authsidecar/web/next";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";

// A Server Component: the session is read on the server, from the browser's cookie, before any
// HTML is sent. Middleware only checks that a cookie exists; this is the real check.
export default async function Dashboard() {
  const session = await getSession(await headers());
  if (!session) redirect("/sign-in?callbackURL=/dashboard");
  const { user } = session;
  return (
    <>
      <div className="card">
        <h1 data-testid="welcome">Welcome, {user.name}</h1>
        <p className="muted">
          Signed in as {user.email}
          {user.emailVerified ? "" : " (email not verified)"}.
        </p>
      </div>
      <div className="card">
        <h2>This session</h2>
        <table>
          <tbody>
            <tr>
              <th>Started</th>
              <td>{session.session.createdAt.toUTCString()}</td>
            </tr>
            <tr>
              <th>Expires</th>
              <td>{session.session.expiresAt.toUTCString()}</td>
            </tr>
            <tr>
              <th>Device</th>
              <td className="mono">{session.session.userAgent || "unknown"}</td>
            </tr>
          </tbody>
        </table>
        <p>
          <Link href="/settings">Manage sessions and security</Link>
        </p>
      </div>
    </>
  );
}
