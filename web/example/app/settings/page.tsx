"use client";

import Link from "next/link";
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import type { Session } from "@authsidecar/web";

export default function SettingsPage() {
  return (
    <>
      <h1>Settings</h1>
      <Sessions />
      <ChangePassword />
      <div className="card">
        <h2>Security</h2>
        <ul className="plain">
          <li>
            <Link href="/settings/two-factor">Two-factor authentication</Link>
          </li>
          <li>
            <Link href="/settings/passkeys">Passkeys</Link>
          </li>
          <li>
            <Link href="/settings/organizations">Organizations</Link>
          </li>
        </ul>
      </div>
    </>
  );
}

function Sessions() {
  const { data: current } = authClient.useSession();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    const res = await authClient.listSessions();
    if (res.error) setError(res.error.message ?? "Could not list sessions");
    else setSessions(res.data);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(token: string) {
    const res = await authClient.revokeSession({ token });
    if (res.error) setError(res.error.message ?? "Could not revoke");
    await load();
  }

  async function revokeOthers() {
    const res = await authClient.revokeOtherSessions();
    if (res.error) setError(res.error.message ?? "Could not revoke");
    await load();
  }

  return (
    <div className="card">
      <h2>Sessions</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {!sessions ? (
        <p className="muted">Loading…</p>
      ) : (
        <table data-testid="sessions">
          <thead>
            <tr>
              <th>Device</th>
              <th>Started</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                <td className="mono">
                  {s.userAgent || "unknown"} {s.ipAddress ? `(${s.ipAddress})` : ""}
                </td>
                <td>{new Date(s.createdAt).toLocaleString()}</td>
                <td>
                  {s.token === current?.session.token ? (
                    <span className="muted">this device</span>
                  ) : (
                    <button type="button" className="danger" onClick={() => revoke(s.token)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <button type="button" className="secondary" onClick={revokeOthers}>
          Sign out all other sessions
        </button>
      </p>
    </div>
  );
}

function ChangePassword() {
  const [message, setMessage] = useState<Notice>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const { error } = await authClient.changePassword({
      currentPassword: String(form.get("currentPassword")),
      newPassword: String(form.get("newPassword")),
      revokeOtherSessions: form.get("revokeOtherSessions") === "on",
    });
    if (error) {
      setMessage({ ok: false, text: error.message ?? "Could not change the password" });
      return;
    }
    formEl.reset();
    setMessage({ ok: true, text: "Password changed." });
  }

  return (
    <div className="card">
      <h2>Change password</h2>
      <form onSubmit={onSubmit}>
        <label>
          Current password
          <input name="currentPassword" type="password" autoComplete="current-password" required />
        </label>
        <label>
          New password
          <input name="newPassword" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <label className="check">
          <input name="revokeOtherSessions" type="checkbox" /> Sign out my other sessions
        </label>
        <Message notice={message} />
        <button type="submit">Change password</button>
      </form>
    </div>
  );
}
