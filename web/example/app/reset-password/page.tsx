"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

// The reset mail's link ends here as /reset-password?token=… (or ?error=INVALID_TOKEN when the
// sidecar found the token expired or used).
function ResetForm() {
  const params = useSearchParams();
  const token = params.get("token") ?? "";
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <div className="card" role="status" data-testid="reset-done">
        <h1>Password set</h1>
        <p>Your new password works from now on.</p>
        <p>
          <Link className="button" href="/sign-in">
            Sign in
          </Link>
        </p>
      </div>
    );
  }
  if (!token || params.get("error")) {
    return (
      <div className="card" data-testid="reset-invalid">
        <h1>This link no longer works</h1>
        <p>Reset links work once and expire after a while. Ask for a new one.</p>
        <p>
          <Link href="/forgot-password">Send a new link</Link>
        </p>
      </div>
    );
  }
  return (
    <div className="card">
      <h1>Choose a new password</h1>
      <ActionForm
        submit="Set new password"
        pendingLabel="Saving…"
        onSubmit={async (form) => {
          const newPassword = String(form.get("newPassword"));
          if (newPassword !== String(form.get("confirm"))) return { ok: false, text: "The two passwords differ." };
          const { error } = await authClient.resetPassword({ newPassword, token });
          if (error) return { ok: false, text: errorText(error, "Could not set the password") };
          setDone(true);
        }}
      >
        <label>
          New password <span className="muted">(8 characters or more)</span>
          <input name="newPassword" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <label>
          Repeat it
          <input name="confirm" type="password" autoComplete="new-password" minLength={8} required />
        </label>
      </ActionForm>
    </div>
  );
}

export default function ResetPasswordPage() {
  return (
    <Suspense>
      <ResetForm />
    </Suspense>
  );
}
