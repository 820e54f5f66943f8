"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { ResendVerification } from "@/app/resend-verification";
import { safeCallback } from "@/lib/callback";

// "Check your inbox": after a sign-up that needs a verified email, or from the dashboard's banner.
function Pending() {
  const params = useSearchParams();
  const email = params.get("email") ?? "";
  const callbackURL = safeCallback(params.get("callbackURL"));
  return (
    <div className="card" data-testid="verify-pending">
      <h1>Check your inbox</h1>
      <p>
        We sent a confirmation link to <strong>{email || "your email address"}</strong>. Open it to finish setting up your account.
      </p>
      <p className="muted">No mail after a few minutes? Look in the spam folder, or send a new link.</p>
      {email && <ResendVerification email={email} next={callbackURL} />}
      <p>
        <Link href={`/sign-in?callbackURL=${encodeURIComponent(callbackURL)}`}>Back to sign in</Link>
      </p>
    </div>
  );
}

export default function VerifyEmailPage() {
  return (
    <Suspense>
      <Pending />
    </Suspense>
  );
}
