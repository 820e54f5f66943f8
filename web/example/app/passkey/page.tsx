"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect } from "react";
import { ActionButton } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { OtherWays } from "@/app/sign-in/other-ways";
import { safeCallback } from "@/lib/callback";
import { errorText } from "@/lib/errors";

// Passkey sign-in, two ways: the button opens the browser's passkey dialog; the email field offers
// saved passkeys in its autofill list (autocomplete="username webauthn", conditional mediation).
function PasskeySignIn() {
  const callbackURL = safeCallback(useSearchParams().get("callbackURL"));

  useEffect(() => {
    if (typeof PublicKeyCredential === "undefined") return;
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


  return (
    <div className="card">
      <h1>Sign in with a passkey</h1>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username webauthn" placeholder="Pick a saved passkey" aria-describedby="passkey-hint" />
        </label>
        <p id="passkey-hint" className="muted">
          Choose a saved passkey from this field&apos;s suggestions, or use the button.
        </p>
      </form>
      <p className="row">
        <ActionButton
          kind="primary"
          pendingLabel="Waiting for your device…"
          onClick={async () => {
            const res = await authClient.signIn.passkey();
            if (res.error) return { ok: false, text: res.error.message || errorText(res.error, "Passkey sign-in failed") };
            window.location.assign(callbackURL);
          }}
        >
          Sign in with a passkey
        </ActionButton>
      </p>
      <OtherWays callbackURL={callbackURL} />
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
