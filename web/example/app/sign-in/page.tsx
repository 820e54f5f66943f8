import Link from "next/link";
import { safeCallback } from "@/lib/callback";
import { SignInForm } from "./sign-in-form";

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const callbackURL = safeCallback((await searchParams).callbackURL);
  return (
    <div className="card">
      <h1>Sign in</h1>
      <SignInForm callbackURL={callbackURL} />
      <p className="muted">
        No account? <Link href="/sign-up">Sign up</Link> · <Link href={`/passkey?callbackURL=${encodeURIComponent(callbackURL)}`}>Use a passkey</Link>
      </p>
    </div>
  );
}
