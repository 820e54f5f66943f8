import Link from "next/link";
import { redirect } from "next/navigation";
import { SidecarDown } from "@/app/sidecar-down";
import { displayName } from "@/lib/errors";
import { readSession } from "@/lib/session";
import { describeUserAgent } from "@/lib/user-agent";
import { ResendVerification } from "@/app/resend-verification";

// A Server Component: the session is read on the server, from the browser's cookie, before any
// HTML is sent. Middleware only checks that a cookie exists; this is the real check.
export default async function Dashboard() {
  const { session, down } = await readSession();
  if (down) return <SidecarDown />;
  if (!session) redirect("/sign-in?callbackURL=/dashboard");
  const { user } = session;
  return (
    <>
      <div className="card">
        <h1 data-testid="welcome">Welcome, {displayName(user)}</h1>
        <p className="muted">
          Signed in as {user.email}
          {user.emailVerified ? "." : " (email not confirmed)."}
        </p>
        {!user.emailVerified && (
          <ResendVerification email={user.email} next="/dashboard" label="Send the confirmation link">
            <span>Confirm your email to use invitations and every feature.</span>
          </ResendVerification>
        )}
      </div>
      <div className="card">
        <h2>This session</h2>
        <div className="table-wrap" role="region" aria-label="This session" tabIndex={0}>
          <table>
            <tbody>
              <tr>
                <th scope="row">Started</th>
                <td>{session.session.createdAt.toUTCString()}</td>
              </tr>
              <tr>
                <th scope="row">Expires</th>
                <td>{session.session.expiresAt.toUTCString()}</td>
              </tr>
              <tr>
                <th scope="row">Device</th>
                <td title={session.session.userAgent ?? ""} data-testid="device">
                  {describeUserAgent(session.session.userAgent)}
                </td>
              </tr>
            </tbody>
          </table>
        </div>
        <p>
          <Link href="/settings">Manage your account, sessions and security</Link>
        </p>
      </div>
    </>
  );
}
