import Link from "next/link";

export default async function Home({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const deleted = (await searchParams).deleted === "1";
  return (
    <div className="card">
      {deleted && (
        <p className="success" role="status">
          Your account was deleted.
        </p>
      )}
      <h1>authsidecar example</h1>
      <p>
        A Next.js App Router app whose sign-in is served by the Go sidecar at <code>/api/auth</code>: passwords, email links and codes, passkeys,
        two-factor, social and enterprise sign-in, organizations and an admin console.
      </p>
      <p className="row">
        <Link className="button" href="/sign-up">
          Create an account
        </Link>
        <Link className="button secondary" href="/sign-in">
          Sign in
        </Link>
        <Link href="/dashboard">Dashboard</Link>
      </p>
    </div>
  );
}
