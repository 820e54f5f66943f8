"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ActionForm } from "@/app/message";
import { ResendVerification } from "@/app/resend-verification";
import { authClient } from "@/lib/auth-client";
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
        <ResendVerification email={unverified} next={callbackURL}>
          <span>Confirm your email first: the link is in your inbox.</span>
        </ResendVerification>
      )}
    </>
  );
}
