"use client";

import type { ReactNode } from "react";
import { ActionButton } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { verifiedURL } from "@/lib/callback";
import { errorText } from "@/lib/errors";

/** ResendVerification mails a new confirmation link to email; the link lands on /verified, then next. */
export function ResendVerification({ email, next, children, label = "Resend the link" }: { email: string; next: string; children?: ReactNode; label?: string }) {
  return (
    <p className="row">
      {children}
      <ActionButton
        pendingLabel="Sending…"
        onClick={async () => {
          const { error } = await authClient.sendVerificationEmail({ email, callbackURL: verifiedURL(next) });
          return error ? { ok: false, text: errorText(error, "Could not send the link") } : { ok: true, text: `Sent a new link to ${email}.` };
        }}
      >
        {label}
      </ActionButton>
    </p>
  );
}
