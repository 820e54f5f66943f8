"use client";

import { useState } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

type Provider = Parameters<typeof authClient.signIn.social>[0]["provider"];

/** One button per configured social provider; the client sends the browser on to the provider. */
export function SocialButtons({ providers, callbackURL }: { providers: { id: string; label: string }[]; callbackURL: string }) {
  const [pending, setPending] = useState("");
  const [notice, setNotice] = useState<Notice>(null);
  if (providers.length === 0) return null;
  async function go(id: string) {
    setPending(id);
    setNotice(null);
    try {
      const { error } = await authClient.signIn.social({ provider: id as Provider, callbackURL, errorCallbackURL: "/sign-in" });
      // On success the client is already navigating to the provider; the button stays pending.
      if (error) {
        setNotice({ ok: false, text: errorText(error, "Could not start the sign-in") });
        setPending("");
      }
    } catch {
      setNotice({ ok: false, text: errorText({ status: 0 }, "") });
      setPending("");
    }
  }
  return (
    <>
      {providers.map((p) => (
        <button key={p.id} type="button" className="secondary" disabled={pending !== ""} onClick={() => void go(p.id)}>
          {pending === p.id ? "Redirecting…" : `Continue with ${p.label}`}
        </button>
      ))}
      <Message notice={notice} />
    </>
  );
}
