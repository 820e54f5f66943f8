"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";

export function SignInForm({ callbackURL }: { callbackURL: string }) {
  const router = useRouter();
  const [error, setError] = useState("");
  const [pending, setPending] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending(true);
    setError("");
    // With a callbackURL the server answers {redirect: true, url} and the client navigates there.
    const { data, error } = await authClient.signIn.email({
      email: String(form.get("email")),
      password: String(form.get("password")),
      rememberMe: form.get("rememberMe") === "on",
      callbackURL,
    });
    if (error) {
      setError(error.message ?? `Sign-in failed (${error.status})`);
      setPending(false);
      return;
    }
    if (data?.twoFactorRedirect) {
      router.push(`/two-factor?callbackURL=${encodeURIComponent(callbackURL)}`);
    }
  }

  return (
    <form onSubmit={onSubmit}>
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
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
