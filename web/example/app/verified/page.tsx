import Link from "next/link";
import { safeCallback } from "@/lib/callback";
import { readSession } from "@/lib/session";

// Where the verification link lands (the sidecar's verify-email redirects here, with ?error=CODE
// when the link is expired or used).
export default async function VerifiedPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeCallback(params.next);
  const error = typeof params.error === "string" ? params.error : "";
  const { session } = await readSession();
  if (error) {
    return (
      <div className="card" data-testid="verify-failed">
        <h1>This link no longer works</h1>
        <p>
          Confirmation links work once and expire after a while{error === "token_expired" ? "; this one has expired" : ""}. Sign in to get a new
          one.
        </p>
        <p>
          <Link href={`/sign-in?callbackURL=${encodeURIComponent(next)}`}>Sign in</Link>
        </p>
      </div>
    );
  }
  return (
    <div className="card" data-testid="verified">
      <h1>Email confirmed</h1>
      <p>Thanks — your email address is confirmed.</p>
      <p>
        {session ? (
          <Link className="button" href={next}>
            Continue
          </Link>
        ) : (
          <Link className="button" href={`/sign-in?callbackURL=${encodeURIComponent(next)}`}>
            Sign in to continue
          </Link>
        )}
      </p>
    </div>
  );
}
