import Link from "next/link";

export default function Home() {
  return (
    <div className="card">
      <h1>authsidecar example</h1>
      <p>
        A Next.js App Router app whose sign-in is served by the Go sidecar at <code>/api/auth</code>.
      </p>
      <p className="row">
        <Link href="/sign-up">Create an account</Link>
        <Link href="/sign-in">Sign in</Link>
        <Link href="/dashboard">Dashboard</Link>
      </p>
    </div>
  );
}
