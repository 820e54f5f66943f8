import Link from "next/link";

/** OtherWays leads back to the sign-in page's list of methods, keeping where the visitor was going. */
export function OtherWays({ callbackURL }: { callbackURL: string }) {
  return (
    <p>
      <Link href={`/sign-in?callbackURL=${encodeURIComponent(callbackURL)}`}>Other ways to sign in</Link>
    </p>
  );
}
