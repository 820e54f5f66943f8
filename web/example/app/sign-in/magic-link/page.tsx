"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { OtherWays } from "@/app/sign-in/other-ways";
import { safeCallback } from "@/lib/callback";
import { errorText } from "@/lib/errors";

// The mailed link goes through the sidecar (/api/auth/magic-link/verify), which signs the browser
// in and sends it on to callbackURL, or back here with ?error=… when the link is used or expired.
function MagicLink() {
  const params = useSearchParams();
  const callbackURL = safeCallback(params.get("callbackURL"));
  const [sentTo, setSentTo] = useState("");
  const failed = params.get("error");
  return (
    <div className="card">
      <h1>Sign in with a link</h1>
      {failed && (
        <p className="error" role="alert">
          That link no longer works (links work once, for a few minutes). Ask for a new one.
        </p>
      )}
      {sentTo ? (
        <div role="status" data-testid="magic-link-sent">
          <p>
            Check your inbox: we sent a sign-in link to <strong>{sentTo}</strong>. Open it on this device.
          </p>
          <button type="button" className="link" onClick={() => setSentTo("")}>
            Use another address
          </button>
        </div>
      ) : (
        <ActionForm
          submit="Email me a link"
          pendingLabel="Sending…"
          onSubmit={async (form) => {
            const email = String(form.get("email"));
            const { error } = await authClient.signIn.magicLink({
              email,
              callbackURL,
              errorCallbackURL: `/sign-in/magic-link?callbackURL=${encodeURIComponent(callbackURL)}`,
            });
            if (error) return { ok: false, text: errorText(error, "Could not send the link") };
            setSentTo(email);
          }}
        >
          <label>
            Email
            <input name="email" type="email" autoComplete="username" required />
          </label>
        </ActionForm>
      )}
      <OtherWays callbackURL={callbackURL} />
    </div>
  );
}

export default function MagicLinkPage() {
  return (
    <Suspense>
      <MagicLink />
    </Suspense>
  );
}
