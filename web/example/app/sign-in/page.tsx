import Link from "next/link";
import { redirect } from "next/navigation";
import { SidecarDown } from "@/app/sidecar-down";
import { safeCallback } from "@/lib/callback";
import { socialProviders } from "@/lib/providers";
import { readSession } from "@/lib/session";
import { SignInForm } from "./sign-in-form";
import { SocialButtons } from "./social-buttons";

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function SignInPage({ searchParams }: { searchParams: Search }) {
  const params = await searchParams;
  const callbackURL = safeCallback(params.callbackURL);
  const { session, down } = await readSession();
  if (down) return <SidecarDown />;
  // Already signed in: straight on to where the visitor was going.
  if (session) redirect(callbackURL);
  const q = `?callbackURL=${encodeURIComponent(callbackURL)}`;
  return (
    <div className="card">
      <h1>Sign in</h1>
      <SignInForm callbackURL={callbackURL} />
      <p>
        <Link href={`/forgot-password${q}`}>Forgot password?</Link>
      </p>
      <div className="divider">or</div>
      <div className="methods">
        <Link className="button secondary" href={`/sign-in/magic-link${q}`}>
          Email me a link
        </Link>
        <Link className="button secondary" href={`/sign-in/email-otp${q}`}>
          Email me a code
        </Link>
        <Link className="button secondary" href={`/passkey${q}`}>
          Use a passkey
        </Link>
        <Link className="button secondary" href={`/sign-in/sso${q}`}>
          Sign in with SSO
        </Link>
        <SocialButtons providers={socialProviders()} callbackURL={callbackURL} />
      </div>
      <p className="muted">
        No account? <Link href={`/sign-up${q}`}>Sign up</Link>
      </p>
    </div>
  );
}
