"use client";

import Link from "next/link";
import { useEffect } from "react";

// Any error a page throws lands here, inside the layout (so the nav stays). In production Next.js
// hides the server's message; the digest ties the page to the server's log line.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  const down = error.name === "SidecarError" || /fetch failed|ECONNREFUSED/.test(error.message);
  return (
    <div className="card" role="alert" data-testid="error-page">
      <h1>{down ? "Sign-in is taking a break" : "Something went wrong"}</h1>
      <p>
        {down
          ? "We can't reach the sign-in service right now. Please try again in a moment."
          : "This page failed to load. Trying again usually helps; if it does not, please come back later."}
      </p>
      {error.digest && <p className="muted">Reference: {error.digest}</p>}
      <p className="row">
        <button type="button" onClick={reset}>
          Try again
        </button>
        <Link href="/">Home</Link>
      </p>
    </div>
  );
}
