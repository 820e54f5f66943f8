"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { authClient, clientKind } from "@/lib/auth-client";

export function Nav() {
  const { data, isPending } = authClient.useSession();
  const router = useRouter();

  async function signOut() {
    await authClient.signOut();
    router.push("/sign-in");
    router.refresh();
  }

  return (
    <header className="nav">
      <Link href="/" className="brand">
        authsidecar
      </Link>
      <nav>
        {data ? (
          <>
            <Link href="/dashboard">Dashboard</Link>
            <Link href="/settings">Settings</Link>
            <span className="muted" data-testid="nav-user">
              {data.user.name}
            </span>
            <button type="button" className="link" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : isPending ? (
          <span className="muted">…</span>
        ) : (
          <>
            <Link href="/sign-in">Sign in</Link>
            <Link href="/sign-up">Sign up</Link>
          </>
        )}
      </nav>
      <span className="badge" title="which client library this page runs" data-testid="client-kind">
        {clientKind}
      </span>
    </header>
  );
}
