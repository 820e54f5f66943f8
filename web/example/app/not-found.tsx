import Link from "next/link";

export default function NotFound() {
  return (
    <div className="card">
      <h1>Page not found</h1>
      <p>There is nothing at this address. The link may be old or mistyped.</p>
      <p>
        <Link href="/">Go home</Link>
      </p>
    </div>
  );
}
