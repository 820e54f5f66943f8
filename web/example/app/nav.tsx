"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { authClient, clientKind, isAdmin } from "@/lib/auth-client";

export function Nav() {
  const { data, isPending } = authClient.useSession();
  const router = useRouter();

  async function signOut() {
    await authClient.signOut();
    router.push("/sign-in");
    router.refresh();
  }

  return (
    <>
      <header className="nav">
        <Link href="/" className="brand">
          authsidecar
        </Link>
        <nav>
          {data ? (
            <>
              <Link href="/dashboard">Dashboard</Link>
              <Link href="/settings">Settings</Link>
              {isAdmin(data.user) && <Link href="/admin">Admin</Link>}
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
      {data?.session.impersonatedBy ? <ImpersonationBanner name={data.user.name || data.user.email} /> : null}
    </>
  );
}

/** Shown on every page while an admin acts as another user (admin.impersonateUser). */
function ImpersonationBanner({ name }: { name: string }) {
  const router = useRouter();
  async function stop() {
    await authClient.admin.stopImpersonating();
    router.push("/admin");
    router.refresh();
  }
  return (
    <div className="impersonating" role="status" data-testid="impersonation-banner">
      You are acting as {name} —{" "}
      <button type="button" className="link" onClick={stop}>
        stop
      </button>
    </div>
  );
}
