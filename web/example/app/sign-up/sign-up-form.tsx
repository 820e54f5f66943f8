"use client";

import { useRouter } from "next/navigation";
import { ActionForm } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { verifiedURL } from "@/lib/callback";
import { errorText } from "@/lib/errors";

export function SignUpForm({ callbackURL }: { callbackURL: string }) {
  const router = useRouter();
  return (
    <ActionForm
      submit="Sign up"
      pendingLabel="Creating…"
      onSubmit={async (form) => {
        const email = String(form.get("email"));
        const { data, error } = await authClient.signUp.email({
          name: String(form.get("name")),
          email,
          password: String(form.get("password")),
          // Where the verification link lands, when the sidecar mails one.
          callbackURL: verifiedURL(callbackURL),
        });
        if (error) return { ok: false, text: errorText(error, "Sign-up failed") };
        // With REQUIRE_EMAIL_VERIFICATION the account exists but has no session until the link is opened.
        if (!data?.token) {
          router.push(`/verify-email?email=${encodeURIComponent(email)}&callbackURL=${encodeURIComponent(callbackURL)}`);
          return;
        }
        router.push(callbackURL);
        router.refresh();
      }}
    >
      <label>
        Name
        <input name="name" autoComplete="name" required />
      </label>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password <span className="muted">(8 characters or more)</span>
        <input name="password" type="password" autoComplete="new-password" minLength={8} required />
      </label>
    </ActionForm>
  );
}
