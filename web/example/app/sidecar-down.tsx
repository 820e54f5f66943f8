import Link from "next/link";

/** SidecarDown is what a page shows instead of itself when the sign-in service does not answer. */
export function SidecarDown() {
  return (
    <div className="card" data-testid="sidecar-down">
      <h1>Sign-in is taking a break</h1>
      <p>We can&apos;t reach the sign-in service right now, so we can&apos;t tell who you are. Nothing you did caused this.</p>
      <p className="muted">Please try again in a moment. If it keeps happening, the service may be down for maintenance.</p>
      <p className="row">
        {/* A plain link to this address: a full reload, which asks the service again. */}
        <a href="" className="button">
          Try again
        </a>
        <Link href="/">Home</Link>
      </p>
    </div>
  );
}
