"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient, clientKind } from "@/lib/auth-client";
import type { Passkey } from "@authsidecar/web";

export default function PasskeysPage() {
  const [passkeys, setPasskeys] = useState<Passkey[] | null>(null);
  const [message, setMessage] = useState<Notice>(null);

  const load = useCallback(async () => {
    const res = await authClient.passkey.listUserPasskeys();
    if (res.error) setMessage({ ok: false, text: res.error.message ?? `Could not list passkeys (${res.error.status})` });
    else setPasskeys(res.data);
  }, []);

  useEffect(() => {
    if (clientKind === "authsidecar") void load();
  }, [load]);

  async function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const name = String(new FormData(formEl).get("name")).trim();
    const res = await authClient.passkey.addPasskey({ name: name || undefined });
    if (res.error) {
      setMessage({ ok: false, text: res.error.message ?? "Could not add the passkey" });
      return;
    }
    formEl.reset();
    setMessage({ ok: true, text: "Passkey added." });
    await load();
  }

  async function rename(p: Passkey) {
    const name = window.prompt("New name", p.name ?? "")?.trim();
    if (!name) return;
    const res = await authClient.passkey.updatePasskey({ id: p.id, name });
    if (res.error) setMessage({ ok: false, text: res.error.message ?? "Could not rename" });
    await load();
  }

  async function remove(p: Passkey) {
    const res = await authClient.passkey.deletePasskey({ id: p.id });
    if (res.error) setMessage({ ok: false, text: res.error.message ?? "Could not delete" });
    await load();
  }

  if (clientKind !== "authsidecar") {
    return (
      <>
        <h1>Passkeys</h1>
        <p className="muted">Passkeys need the @authsidecar/web client in this example.</p>
      </>
    );
  }

  return (
    <>
      <h1>Passkeys</h1>
      <Message notice={message} />
      <div className="card">
        <h2>Your passkeys</h2>
        {!passkeys ? (
          <p className="muted">Loading…</p>
        ) : passkeys.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="plain" data-testid="passkeys">
            {passkeys.map((p) => (
              <li key={p.id} className="row">
                <span>{p.name || "Unnamed passkey"}</span>
                <span className="muted">{p.createdAt ? new Date(p.createdAt).toLocaleDateString() : ""}</span>
                <button type="button" className="secondary" onClick={() => rename(p)}>
                  Rename
                </button>
                <button type="button" className="danger" onClick={() => remove(p)}>
                  Delete
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="card">
        <h2>Add a passkey</h2>
        <form onSubmit={add}>
          <label>
            Name <span className="muted">(optional, e.g. "Laptop")</span>
            <input name="name" />
          </label>
          <button type="submit">Add passkey</button>
        </form>
      </div>
    </>
  );
}
