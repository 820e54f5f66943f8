"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";
import { safeCallback } from "@/lib/callback";

type Method = "totp" | "otp" | "backup";

// The second step of a sign-in for accounts with two-factor on: sign-in set a short-lived
// two_factor cookie instead of a session, and one of these codes turns it into a session.
function TwoFactorForm() {
  const callbackURL = safeCallback(useSearchParams().get("callbackURL"));
  const [method, setMethod] = useState<Method>("totp");
  const [error, setError] = useState("");
  const [sent, setSent] = useState(false);

  async function sendCode() {
    const { error } = await authClient.twoFactor.sendOtp();
    if (error) setError(error.message ?? "Could not send a code");
    else setSent(true);
  }

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const code = String(form.get("code")).trim();
    const trustDevice = form.get("trustDevice") === "on";
    const res =
      method === "totp"
        ? await authClient.twoFactor.verifyTotp({ code, trustDevice })
        : method === "otp"
          ? await authClient.twoFactor.verifyOtp({ code, trustDevice })
          : await authClient.twoFactor.verifyBackupCode({ code, trustDevice });
    if (res.error) {
      setError(res.error.message ?? "Invalid code");
      return;
    }
    // A full load, so the server renders the next page with the new session cookie.
    window.location.assign(callbackURL);
  }

  return (
    <div className="card">
      <h1>Two-factor check</h1>
      <div className="row">
        <label className="check">
          <input type="radio" name="method" checked={method === "totp"} onChange={() => setMethod("totp")} /> Authenticator app
        </label>
        <label className="check">
          <input type="radio" name="method" checked={method === "otp"} onChange={() => setMethod("otp")} /> Code by email
        </label>
        <label className="check">
          <input type="radio" name="method" checked={method === "backup"} onChange={() => setMethod("backup")} /> Backup code
        </label>
      </div>
      {method === "otp" && (
        <p>
          <button type="button" className="secondary" onClick={sendCode}>
            {sent ? "Send another code" : "Email me a code"}
          </button>
        </p>
      )}
      <form onSubmit={onSubmit}>
        <label>
          Code
          <input name="code" autoComplete="one-time-code" required />
        </label>
        <label className="check">
          <input name="trustDevice" type="checkbox" /> Trust this device for 30 days
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit">Verify</button>
      </form>
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
