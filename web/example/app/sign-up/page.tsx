import Link from "next/link";
import { redirect } from "next/navigation";
import { SidecarDown } from "@/app/sidecar-down";
import { safeCallback } from "@/lib/callback";
import { readSession } from "@/lib/session";
import { SignUpForm } from "./sign-up-form";

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  // An invitee comes here from an invitation link through sign-in: callbackURL brings them back to it.
  const callbackURL = safeCallback((await searchParams).callbackURL);
  const { session, down } = await readSession();
  if (down) return <SidecarDown />;
  if (session) redirect(callbackURL);
  return (
    <div className="card">
      <h1>Create an account</h1>
      <SignUpForm callbackURL={callbackURL} />
      <p className="muted">
        Have an account? <Link href={`/sign-in?callbackURL=${encodeURIComponent(callbackURL)}`}>Sign in</Link>
      </p>
    </div>
  );
}
