"use client";

import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { ActionForm } from "@/app/message";
import { OtherWays } from "@/app/sign-in/other-ways";
import { safeCallback } from "@/lib/callback";
import { errorText } from "@/lib/errors";

// Enterprise single sign-on (SAML or OIDC, registered with sso/register): the sidecar finds the
// provider by the email's domain and answers the identity provider's URL. The call is plain
// fetch because it needs upstream's separate sso client plugin, which this app does not load.
function SSO() {
  const params = useSearchParams();
  const callbackURL = safeCallback(params.get("callbackURL"));
  const failed = params.get("error");
  return (
    <div className="card">
      <h1>Sign in with SSO</h1>
      {failed && (
        <p className="error" role="alert">
          Your organization&apos;s sign-in did not complete ({failed}). Try again or ask your administrator.
        </p>
      )}
      <p className="muted">Use your work email; we send you to your organization&apos;s sign-in page.</p>
      <ActionForm
        submit="Continue"
        pendingLabel="Redirecting…"
        onSubmit={async (form) => {
          const res = await fetch("/api/auth/sign-in/sso", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              email: String(form.get("email")),
              callbackURL,
              errorCallbackURL: `/sign-in/sso?callbackURL=${encodeURIComponent(callbackURL)}`,
            }),
          });
          const body = (await res.json().catch(() => null)) as { url?: string; message?: string; code?: string } | null;
          if (!res.ok || !body?.url) {
            return {
              ok: false,
              text: body?.code === "NO_PROVIDER_FOUND" || res.status === 404 ? "No single sign-on is set up for this email's domain." : errorText({ status: res.status, message: body?.message }, "Could not start single sign-on"),
            };
          }
          window.location.assign(body.url);
        }}
      >
        <label>
          Work email
          <input name="email" type="email" autoComplete="username" required />
        </label>
      </ActionForm>
      <OtherWays callbackURL={callbackURL} />
    </div>
  );
}

export default function SSOPage() {
  return (
    <Suspense>
      <SSO />
    </Suspense>
  );
}
