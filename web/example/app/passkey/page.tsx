"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useState } from "react";
import { authClient, clientKind } from "@/lib/auth-client";
import { safeCallback } from "@/lib/callback";

// Passkey sign-in, two ways: the button opens the browser's passkey dialog; the email field offers
// saved passkeys in its autofill list (autocomplete="username webauthn", conditional mediation).
function PasskeySignIn() {
  const callbackURL = safeCallback(useSearchParams().get("callbackURL"));
  const [error, setError] = useState("");

  useEffect(() => {
    if (clientKind !== "authsidecar" || typeof PublicKeyCredential === "undefined") return;
    let active = true;
    void (async () => {
      if (!(await PublicKeyCredential.isConditionalMediationAvailable?.())) return;
      const res = await authClient.signIn.passkey({ autoFill: true });
      // An autofill request ends quietly when the button starts another ceremony.
      if (active && res.data) window.location.assign(callbackURL);
    })();
    return () => {
      active = false;
    };
  }, [callbackURL]);

  async function signIn() {
    setError("");
    const res = await authClient.signIn.passkey();
    if (res.error) {
      setError(res.error.message ?? "Passkey sign-in failed");
      return;
    }
    window.location.assign(callbackURL);
  }

  if (clientKind !== "authsidecar") {
    return (
      <div className="card">
        <h1>Sign in with a passkey</h1>
        <p className="muted">Passkeys need the @authsidecar/web client in this example.</p>
      </div>
    );
  }

  return (
    <div className="card">
      <h1>Sign in with a passkey</h1>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username webauthn" placeholder="Pick a saved passkey" />
        </label>
      </form>
      <p>
        <button type="button" onClick={signIn}>
          Sign in with a passkey
        </button>
      </p>
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}

export default function PasskeyPage() {
  return (
    <Suspense>
      <PasskeySignIn />
    </Suspense>
  );
}
