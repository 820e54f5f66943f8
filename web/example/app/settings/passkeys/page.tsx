"use client";

import { useState } from "react";
import { ActionForm, ConfirmButton, Message } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

type PasskeyRow = { id: string; name?: string | null; createdAt?: Date | string | null };

// The list comes from useListPasskeys, which reloads after adding, renaming and deleting.
export default function PasskeysPage() {
  const { data: passkeys, error } = authClient.useListPasskeys();
  const [editing, setEditing] = useState("");

  return (
    <>
      <h1>Passkeys</h1>
      {error && <Message notice={{ ok: false, text: error.message || "Could not list passkeys" }} />}
      <div className="card">
        <h2>Your passkeys</h2>
        {!passkeys ? (
          <p className="muted">Loading…</p>
        ) : passkeys.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="plain" data-testid="passkeys">
            {(passkeys as PasskeyRow[]).map((p) =>
              editing === p.id ? (
                <li key={p.id}>
                  <ActionForm
                    className="row"
                    label={`Rename ${p.name || "passkey"}`}
                    submit="Save"
                    pendingLabel="Saving…"
                    onSubmit={async (form) => {
                      const name = String(form.get("name")).trim();
                      const res = await authClient.passkey.updatePasskey({ id: p.id, name });
                      if (res.error) return { ok: false, text: errorText(res.error, "Could not rename") };
                      setEditing("");
                    }}
                  >
                    <label className="grow">
                      New name
                      <input name="name" defaultValue={p.name ?? ""} required autoFocus />
                    </label>
                    <button type="button" className="secondary" onClick={() => setEditing("")}>
                      Cancel
                    </button>
                  </ActionForm>
                </li>
              ) : (
                <li key={p.id} className="row">
                  <span className="grow">
                    {p.name || "Unnamed passkey"} <span className="muted">{p.createdAt ? `added ${new Date(p.createdAt).toLocaleDateString()}` : ""}</span>
                  </span>
                  <button type="button" className="secondary" onClick={() => setEditing(p.id)}>
                    Rename
                  </button>
                  <ConfirmButton
                    question={`Delete ${p.name || "this passkey"}?`}
                    confirm="Yes, delete"
                    onConfirm={async () => {
                      const res = await authClient.passkey.deletePasskey({ id: p.id });
                      if (res.error) return { ok: false, text: errorText(res.error, "Could not delete") };
                    }}
                  >
                    Delete
                  </ConfirmButton>
                </li>
              ),
            )}
          </ul>
        )}
      </div>
      <div className="card">
        <h2>Add a passkey</h2>
        <ActionForm
          submit="Add passkey"
          pendingLabel="Waiting for your device…"
          onSubmit={async (form, el) => {
            const name = String(form.get("name")).trim();
            const res = await authClient.passkey.addPasskey({ name: name || undefined });
            if (res.error) return { ok: false, text: res.error.message ?? errorText(res.error, "Could not add the passkey") };
            el.reset();
            return { ok: true, text: "Passkey added." };
          }}
        >
          <label>
            Name <span className="muted">(optional, e.g. &quot;Laptop&quot;)</span>
            <input name="name" />
          </label>
        </ActionForm>
      </div>
    </>
  );
}
