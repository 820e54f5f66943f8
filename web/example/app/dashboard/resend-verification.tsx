"use client";

import { ActionButton } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { verifiedURL } from "@/lib/callback";
import { errorText } from "@/lib/errors";

export function ResendVerification({ email }: { email: string }) {
  return (
    <p className="row">
      <span>Confirm your email to use invitations and every feature.</span>
      <ActionButton
        pendingLabel="Sending…"
        onClick={async () => {
          const { error } = await authClient.sendVerificationEmail({ email, callbackURL: verifiedURL("/dashboard") });
          return error ? { ok: false, text: errorText(error, "Could not send the link") } : { ok: true, text: `Sent a confirmation link to ${email}.` };
        }}
      >
        Send the confirmation link
      </ActionButton>
    </p>
  );
}
