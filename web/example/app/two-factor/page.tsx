"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { ActionButton, ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { safeCallback } from "@/lib/callback";
import { errorText } from "@/lib/errors";

type Method = "totp" | "otp" | "backup";

// The second step of a sign-in for accounts with two-factor on: sign-in set a short-lived
// two_factor cookie instead of a session, and one of these codes turns it into a session.
function TwoFactorForm() {
  const callbackURL = safeCallback(useSearchParams().get("callbackURL"));
  const [method, setMethod] = useState<Method>("totp");

  return (
    <div className="card">
      <h1>Two-factor check</h1>
      <fieldset className="row plain-fieldset">
        <legend className="sr-only">How do you want to confirm it is you?</legend>
        <label className="check">
          <input type="radio" name="method" checked={method === "totp"} onChange={() => setMethod("totp")} /> Authenticator app
        </label>
        <label className="check">
          <input type="radio" name="method" checked={method === "otp"} onChange={() => setMethod("otp")} /> Code by email
        </label>
        <label className="check">
          <input type="radio" name="method" checked={method === "backup"} onChange={() => setMethod("backup")} /> Backup code
        </label>
      </fieldset>
      {method === "otp" && (
        <p className="row">
          <ActionButton
            pendingLabel="Sending…"
            onClick={async () => {
              const { error } = await authClient.twoFactor.sendOtp();
              return error ? { ok: false, text: errorText(error, "Could not send a code") } : { ok: true, text: "Sent a code to your email." };
            }}
          >
            Email me a code
          </ActionButton>
        </p>
      )}
      <ActionForm
        submit="Verify"
        pendingLabel="Checking…"
        onSubmit={async (form) => {
          const code = String(form.get("code")).trim();
          const trustDevice = form.get("trustDevice") === "on";
          const res =
            method === "totp"
              ? await authClient.twoFactor.verifyTotp({ code, trustDevice })
              : method === "otp"
                ? await authClient.twoFactor.verifyOtp({ code, trustDevice })
                : await authClient.twoFactor.verifyBackupCode({ code, trustDevice });
          if (res.error) return { ok: false, text: errorText(res.error, "Invalid code") };
          // A full load, so the server renders the next page with the new session cookie.
          window.location.assign(callbackURL);
        }}
      >
        <label>
          Code
          <input name="code" autoComplete="one-time-code" required />
        </label>
        <label className="check">
          <input name="trustDevice" type="checkbox" /> Trust this device for 30 days
        </label>
      </ActionForm>
    </div>
  );
}

export default function TwoFactorPage() {
  return (
    <Suspense>
      <TwoFactorForm />
    </Suspense>
  );
}
