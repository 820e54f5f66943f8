"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { authClient, clientKind, isAdmin } from "@/lib/auth-client";
import { displayName } from "@/lib/errors";

// Pages that need a session; a tab showing one of them leaves when another tab signs out.
const protectedPaths = ["/dashboard", "/settings", "/admin", "/accept-invitation"];
const channelName = "authsidecar-example-auth";

export function Nav() {
  const { data, isPending, refetch } = authClient.useSession();
  const router = useRouter();
  const pathname = usePathname();
  const [signingOut, setSigningOut] = useState(false);
  const seen = useRef(false);
  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;

  // Other tabs of this browser hear about a sign-out at once (BroadcastChannel, with the storage
  // event for browsers without it) and leave pages that need a session. A channel never hears its
  // own messages, so this tab posts on the same one it listens to.
  const channel = useRef<BroadcastChannel | null>(null);
  useEffect(() => {
    const leave = () => {
      void refetchRef.current();
      if (protectedPaths.some((p) => window.location.pathname.startsWith(p))) {
        window.location.assign(`/sign-in?callbackURL=${encodeURIComponent(window.location.pathname)}`);
      } else {
        router.refresh();
      }
    };
    const bc = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(channelName);
    channel.current = bc;
    if (bc) bc.onmessage = (e) => e.data === "signed-out" && leave();
    const onStorage = (e: StorageEvent) => !bc && e.key === channelName && leave();
    window.addEventListener("storage", onStorage);
    return () => {
      bc?.close();
      channel.current = null;
      window.removeEventListener("storage", onStorage);
    };
  }, [router]);

  // A session that disappears while a protected page is open (revoked elsewhere, expired) also
  // leaves; this tab's own sign-out navigates by itself.
  const signingOutHere = useRef(false);
  useEffect(() => {
    if (data) {
      seen.current = true;
      signingOutHere.current = false;
      return;
    }
    if (isPending || !seen.current) return;
    seen.current = false;
    if (!signingOutHere.current && protectedPaths.some((p) => pathname.startsWith(p))) {
      router.push(`/sign-in?callbackURL=${encodeURIComponent(pathname)}`);
    }
  }, [data, isPending, pathname, router]);

  async function signOut() {
    signingOutHere.current = true;
    setSigningOut(true);
    try {
      await authClient.signOut();
      if (channel.current) {
        channel.current.postMessage("signed-out");
      } else {
        localStorage.setItem(channelName, String(Date.now()));
      }
      router.push("/sign-in");
      router.refresh();
    } finally {
      setSigningOut(false);
    }
  }

  const name = displayName(data?.user);
  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="nav">
        <div className="nav-brand">
          <Link href="/" className="brand">
            authsidecar
          </Link>
          <span className="badge" title="which client library this page runs" data-testid="client-kind">
            {clientKind}
          </span>
        </div>
        <nav aria-label="Main">
          {data ? (
            <>
              <Link href="/dashboard">Dashboard</Link>
              <Link href="/settings">Settings</Link>
              {isAdmin(data.user) && <Link href="/admin">Admin</Link>}
              <span className="muted nav-user" data-testid="nav-user" title={data.user.email}>
                {name}
              </span>
              <button type="button" className="link" onClick={signOut} disabled={signingOut}>
                {signingOut ? "Signing out…" : "Sign out"}
              </button>
            </>
          ) : isPending ? (
            <span className="muted" aria-label="Loading">
              …
            </span>
          ) : (
            <>
              <Link href="/sign-in">Sign in</Link>
              <Link href="/sign-up">Sign up</Link>
            </>
          )}
        </nav>
      </header>
      {data?.session.impersonatedBy ? <ImpersonationBanner name={name} /> : null}
    </>
  );
}

/** Shown on every page while an admin acts as another user (admin.impersonateUser). */
function ImpersonationBanner({ name }: { name: string }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  async function stop() {
    setPending(true);
    await authClient.admin.stopImpersonating();
    router.push("/admin");
    router.refresh();
    setPending(false);
  }
  return (
    <div className="impersonating" role="status" data-testid="impersonation-banner">
      You are acting as {name} —{" "}
      <button type="button" className="link" onClick={stop} disabled={pending}>
        stop
      </button>
    </div>
  );
}
