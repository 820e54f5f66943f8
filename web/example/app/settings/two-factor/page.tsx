"use client";

import { useState, type FormEvent } from "react";
import { renderSVG } from "uqr";
import { Message, PasswordForm, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";

// Enrolment: enable with the password → scan the QR code (or type the secret) → confirm one code.
// Two-factor is on only after that first code verifies.
export default function TwoFactorSettings() {
  const { data: session, refetch } = authClient.useSession();
  const [enrolment, setEnrolment] = useState<{ totpURI: string; backupCodes: string[] } | null>(null);
  const [message, setMessage] = useState<Notice>(null);
  const enabled = Boolean(session?.user.twoFactorEnabled);

  const fail = (text: string) => setMessage({ ok: false, text });

  async function enable(password: string) {
    const { data, error } = await authClient.twoFactor.enable({ password });
    if (error || !data?.totpURI) return fail(error?.message ?? "Could not start enrolment");
    setMessage(null);
    setEnrolment({ totpURI: data.totpURI, backupCodes: data.backupCodes ?? [] });
  }

  async function verify(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget).get("code")).replace(/\s/g, "");
    const { error } = await authClient.twoFactor.verifyTotp({ code });
    if (error) return fail(error.message ?? "Invalid code");
    setEnrolment(null);
    setMessage({ ok: true, text: "Two-factor authentication is on." });
    await refetch();
  }

  async function disable(password: string) {
    const { error } = await authClient.twoFactor.disable({ password });
    if (error) return fail(error.message ?? "Could not turn two-factor off");
    setMessage({ ok: true, text: "Two-factor authentication is off." });
    await refetch();
  }

  return (
    <>
      <h1>Two-factor authentication</h1>
      <Message notice={message} />
      {enrolment ? (
        <div className="card">
          <h2>Scan with your authenticator app</h2>
          {/* uqr renders the QR code as SVG in the browser: the secret never leaves the page. */}
          <div className="qr" data-testid="totp-qr" dangerouslySetInnerHTML={{ __html: renderSVG(enrolment.totpURI) }} />
          <p className="muted">Or enter this URI by hand:</p>
          <p className="mono" data-testid="totp-uri">
            {enrolment.totpURI}
          </p>
          <h2>Backup codes</h2>
          <p className="muted">Each works once if you lose your device. Keep them somewhere safe.</p>
          <ul className="plain codes" data-testid="backup-codes">
            {enrolment.backupCodes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
          <form onSubmit={verify}>
            <label>
              Code from the app
              <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,7}" required />
            </label>
            <button type="submit">Turn on</button>
          </form>
        </div>
      ) : enabled ? (
        <div className="card">
          <h2>On</h2>
          <PasswordForm onSubmit={disable} label="Turn off" danger />
        </div>
      ) : (
        <div className="card">
          <h2>Off</h2>
          <PasswordForm onSubmit={enable} label="Set up an authenticator app" />
        </div>
      )}
    </>
  );
}
