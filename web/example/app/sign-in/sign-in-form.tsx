"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ActionButton, ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { verifiedURL } from "@/lib/callback";
import { errorText } from "@/lib/errors";

export function SignInForm({ callbackURL }: { callbackURL: string }) {
  const router = useRouter();
  const [unverified, setUnverified] = useState("");

  return (
    <>
      <ActionForm
        submit="Sign in"
        pendingLabel="Signing in…"
        onSubmit={async (form) => {
          const email = String(form.get("email"));
          setUnverified("");
          // With a callbackURL the server answers {redirect: true, url} and the client navigates there.
          const { data, error } = await authClient.signIn.email({
            email,
            password: String(form.get("password")),
            rememberMe: form.get("rememberMe") === "on",
            callbackURL,
          });
          if (error) {
            if (error.code === "EMAIL_NOT_VERIFIED") setUnverified(email);
            return { ok: false, text: errorText(error, "Sign-in failed") };
          }
          if (data?.twoFactorRedirect) router.push(`/two-factor?callbackURL=${encodeURIComponent(callbackURL)}`);
        }}
      >
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <label className="check">
          <input name="rememberMe" type="checkbox" defaultChecked /> Keep me signed in
        </label>
      </ActionForm>
      {unverified && (
        <p className="row">
          <span>Confirm your email first: the link is in your inbox.</span>
          <ActionButton
            pendingLabel="Sending…"
            onClick={async () => {
              const { error } = await authClient.sendVerificationEmail({ email: unverified, callbackURL: verifiedURL(callbackURL) });
              return error ? { ok: false, text: errorText(error, "Could not send the link") } : { ok: true, text: `Sent a new link to ${unverified}.` };
            }}
          >
            Resend the link
          </ActionButton>
        </p>
      )}
    </>
  );
}
