"use client";

import Link from "next/link";
import { useState } from "react";
import { ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

// The mail's link goes through the sidecar (/api/auth/reset-password/<token>), which checks the
// token and sends the browser on to redirectTo: /reset-password?token=….
export default function ForgotPasswordPage() {
  const [sentTo, setSentTo] = useState("");
  return (
    <div className="card">
      <h1>Reset your password</h1>
      {sentTo ? (
        <div role="status" data-testid="reset-sent">
          <p>
            If an account exists for <strong>{sentTo}</strong>, a link to choose a new password is on its way. It works once, for a limited time.
          </p>
          <p>
            <button type="button" className="link" onClick={() => setSentTo("")}>
              Use another address
            </button>
          </p>
        </div>
      ) : (
        <>
          <p className="muted">Enter your account&apos;s email and we&apos;ll send you a link to choose a new password.</p>
          <ActionForm
            submit="Send reset link"
            pendingLabel="Sending…"
            onSubmit={async (form) => {
              const email = String(form.get("email"));
              const { error } = await authClient.requestPasswordReset({ email, redirectTo: "/reset-password" });
              if (error) return { ok: false, text: errorText(error, "Could not send the link") };
              setSentTo(email);
            }}
          >
            <label>
              Email
              <input name="email" type="email" autoComplete="username" required />
            </label>
          </ActionForm>
        </>
      )}
      <p>
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </div>
  );
}
