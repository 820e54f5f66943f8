"use client";

import { useState } from "react";
import { renderSVG } from "uqr";
import { ActionForm, Message, PasswordForm, useAction, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

/** secretOf is the base32 key of an otpauth URI, what an authenticator app asks for when typed by hand. */
function secretOf(uri: string): string {
  try {
    return new URL(uri).searchParams.get("secret") ?? "";
  } catch {
    return "";
  }
}

// Enrolment: enable with the password → scan the QR code (or type the secret) → confirm one code.
// Two-factor is on only after that first code verifies.
export default function TwoFactorSettings() {
  const { data: session, refetch } = authClient.useSession();
  const [enrolment, setEnrolment] = useState<{ totpURI: string; backupCodes: string[] } | null>(null);
  const [fresh, setFresh] = useState<string[] | null>(null);
  const [done, setDone] = useState<Notice>(null);
  const enabled = Boolean(session?.user.twoFactorEnabled);

  async function enable(password: string): Promise<Notice | void> {
    const { data, error } = await authClient.twoFactor.enable({ password });
    if (error || !data?.totpURI) return { ok: false, text: errorText(error, "Could not start enrolment") };
    setDone(null);
    setEnrolment({ totpURI: data.totpURI, backupCodes: data.backupCodes ?? [] });
  }

  async function disable(password: string): Promise<Notice | void> {
    const { error } = await authClient.twoFactor.disable({ password });
    if (error) return { ok: false, text: errorText(error, "Could not turn two-factor off") };
    setFresh(null);
    setDone({ ok: true, text: "Two-factor authentication is off." });
    await refetch();
  }

  return (
    <>
      <h1>Two-factor authentication</h1>
      <Message notice={done} />
      {enrolment ? (
        <div className="card">
          <h2>Scan with your authenticator app</h2>
          {/* uqr renders the QR code as SVG in the browser: the secret never leaves the page. */}
          <div className="qr" role="img" aria-label="QR code for your authenticator app" data-testid="totp-qr" dangerouslySetInnerHTML={{ __html: renderSVG(enrolment.totpURI) }} />
          <p className="muted">Can&apos;t scan? Type this key into the app (time-based, 6 digits):</p>
          <p className="row">
            <code className="secret" data-testid="totp-secret">
              {secretOf(enrolment.totpURI).replace(/(.{4})/g, "$1 ").trim()}
            </code>
            <CopyButton text={secretOf(enrolment.totpURI)} what="key" />
          </p>
          <BackupCodes codes={enrolment.backupCodes} />
          <ActionForm
            submit="Turn on"
            pendingLabel="Checking…"
            onSubmit={async (form) => {
              const code = String(form.get("code")).replace(/\s/g, "");
              const { error } = await authClient.twoFactor.verifyTotp({ code });
              if (error) return { ok: false, text: errorText(error, "Invalid code") };
              setEnrolment(null);
              setDone({ ok: true, text: "Two-factor authentication is on." });
              await refetch();
            }}
          >
            <label>
              Code from the app
              <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,7}" required />
            </label>
          </ActionForm>
        </div>
      ) : enabled ? (
        <>
          <div className="card">
            <h2>On</h2>
            <p className="muted">Signing in asks for a code from your authenticator app, or a backup code.</p>
            <PasswordForm onSubmit={disable} label="Turn off" pendingLabel="Turning off…" danger />
          </div>
          <div className="card">
            <h2>Backup codes</h2>
            {fresh ? (
              <BackupCodes codes={fresh} />
            ) : (
              <p className="muted">Lost your codes or used most of them? New ones replace all the old ones.</p>
            )}
            <PasswordForm
              label="Generate new backup codes"
              pendingLabel="Generating…"
              onSubmit={async (password) => {
                const { data, error } = await authClient.twoFactor.generateBackupCodes({ password });
                if (error || !data) return { ok: false, text: errorText(error, "Could not generate codes") };
                setFresh(data.backupCodes);
                return { ok: true, text: "New backup codes made; the old ones no longer work." };
              }}
            />
          </div>
        </>
      ) : (
        <div className="card">
          <h2>Off</h2>
          <p className="muted">Add a second step to signing in: a code from an authenticator app.</p>
          <PasswordForm onSubmit={enable} label="Set up an authenticator app" pendingLabel="Starting…" />
        </div>
      )}
    </>
  );
}

/** BackupCodes lists one-time codes with copy and download, so they are kept somewhere safe. */
function BackupCodes({ codes }: { codes: string[] }) {
  function download() {
    const blob = new Blob([`Backup codes (each works once)\n\n${codes.join("\n")}\n`], { type: "text/plain" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "backup-codes.txt";
    a.click();
    URL.revokeObjectURL(a.href);
  }
  return (
    <>
      <h3>Backup codes</h3>
      <p className="muted">Each works once if you lose your device. Keep them somewhere safe.</p>
      <ul className="plain codes" data-testid="backup-codes">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <p className="row">
        <CopyButton text={codes.join("\n")} what="codes" />
        <button type="button" className="secondary" onClick={download}>
          Download
        </button>
      </p>
    </>
  );
}

function CopyButton({ text, what }: { text: string; what: string }) {
  const { notice, run, pending } = useAction();
  return (
    <>
      <button
        type="button"
        className="secondary"
        disabled={pending}
        onClick={() =>
          void run(async () => {
            try {
              await navigator.clipboard.writeText(text);
              return { ok: true, text: `Copied the ${what}.` };
            } catch {
              return { ok: false, text: "This browser did not allow copying; select the text instead." };
            }
          })
        }
      >
        Copy {what}
      </button>
      <Message notice={notice} inline />
    </>
  );
}
