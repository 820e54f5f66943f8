"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

// The reset mail's link ends here as /reset-password?token=… (or ?error=INVALID_TOKEN when the
// sidecar found the token expired or used).
function ResetForm() {
  const params = useSearchParams();
  const router = useRouter();
  const token = params.get("token") ?? "";
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
          router.push("/sign-in?reset=1");
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
