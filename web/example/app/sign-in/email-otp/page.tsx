"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { ActionButton, ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { OtherWays } from "@/app/sign-in/other-ways";
import { safeCallback } from "@/lib/callback";
import { errorText } from "@/lib/errors";

// Two steps: the sidecar mails a one-time code, then the code signs in (and creates the account
// when PASSWORDLESS_SIGN_UP allows).
function EmailOtp() {
  const callbackURL = safeCallback(useSearchParams().get("callbackURL"));
  const [email, setEmail] = useState("");
  const send = async (to: string) => {
    const { error } = await authClient.emailOtp.sendVerificationOtp({ email: to, type: "sign-in" });
    return error ? { ok: false, text: errorText(error, "Could not send a code") } : null;
  };
  return (
    <div className="card">
      <h1>Sign in with a code</h1>
      {!email ? (
        <ActionForm
          submit="Email me a code"
          pendingLabel="Sending…"
          onSubmit={async (form) => {
            const to = String(form.get("email"));
            const failed = await send(to);
            if (failed) return failed;
            setEmail(to);
          }}
        >
          <label>
            Email
            <input name="email" type="email" autoComplete="username" required />
          </label>
        </ActionForm>
      ) : (
        <>
          <p role="status">
            We sent a 6-digit code to <strong>{email}</strong>.
          </p>
          <ActionForm
            submit="Sign in"
            pendingLabel="Signing in…"
            onSubmit={async (form) => {
              const otp = String(form.get("otp")).replace(/\s/g, "");
              const { error } = await authClient.signIn.emailOtp({ email, otp });
              if (error) return { ok: false, text: errorText(error, "That code did not work") };
              // A full load, so the server renders the next page with the new session cookie.
              window.location.assign(callbackURL);
            }}
          >
            <label>
              Code
              <input name="otp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,7}" required />
            </label>
          </ActionForm>
          <p className="row">
            <ActionButton pendingLabel="Sending…" onClick={async () => (await send(email)) ?? { ok: true, text: "Sent a new code." }}>
              Send a new code
            </ActionButton>
            <button type="button" className="link" onClick={() => setEmail("")}>
              Use another address
            </button>
          </p>
        </>
      )}
      <OtherWays callbackURL={callbackURL} />
    </div>
  );
}

export default function EmailOtpPage() {
  return (
    <Suspense>
      <EmailOtp />
    </Suspense>
  );
}
