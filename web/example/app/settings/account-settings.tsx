"use client";

import { useCallback, useEffect, useState } from "react";
import { ActionButton, ActionForm, ConfirmButton } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { verifiedURL } from "@/lib/callback";
import { displayName, errorText } from "@/lib/errors";
import { describeUserAgent } from "@/lib/user-agent";

type Provider = Parameters<typeof authClient.signIn.social>[0]["provider"];
type Account = { id: string; providerId: string; accountId: string };
type SessionRow = { id: string; token: string; userAgent?: string | null; ipAddress?: string | null; createdAt: Date | string };

export function AccountSettings({ providers }: { providers: { id: string; label: string }[] }) {
  const { data: session } = authClient.useSession();
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const loadAccounts = useCallback(async () => {
    const res = await authClient.listAccounts();
    if (!res.error) setAccounts(res.data as Account[]);
  }, []);
  useEffect(() => {
    void loadAccounts();
  }, [loadAccounts]);
  const hasPassword = accounts?.some((a) => a.providerId === "credential");

  return (
    <>
      <h1>Settings</h1>
      {session && <Profile user={session.user} />}
      {session && <Email email={session.user.email} verified={Boolean(session.user.emailVerified)} />}
      {/* Not before the session has come: the link goes to its email, and an empty one is refused. */}
      {accounts && (hasPassword ? <ChangePassword /> : session && <SetPassword email={session.user.email} />)}
      <LinkedAccounts accounts={accounts} providers={providers} reload={loadAccounts} />
      <Sessions />
      {accounts && <DeleteAccount hasPassword={Boolean(hasPassword)} />}
    </>
  );
}

function Profile({ user }: { user: { name: string; email: string; image?: string | null } }) {
  return (
    <div className="card">
      <h2>Profile</h2>
      <div className="row">
        {user.image ? (
          // eslint-disable-next-line @next/next/no-img-element -- any https URL the user gives
          <img className="avatar" src={user.image} alt="" />
        ) : (
          <span className="avatar" aria-hidden="true" />
        )}
        <strong>{displayName(user)}</strong>
      </div>
      <ActionForm
        submit="Save profile"
        pendingLabel="Saving…"
        onSubmit={async (form) => {
          const image = String(form.get("image")).trim();
          const { error } = await authClient.updateUser({ name: String(form.get("name")).trim(), image: image || null });
          return error ? { ok: false, text: errorText(error, "Could not save") } : { ok: true, text: "Profile saved." };
        }}
      >
        <label>
          Name
          <input name="name" autoComplete="name" defaultValue={user.name} />
        </label>
        <label>
          Picture URL <span className="muted">(optional)</span>
          <input name="image" type="url" inputMode="url" defaultValue={user.image ?? ""} placeholder="https://…" />
        </label>
      </ActionForm>
    </div>
  );
}

function Email({ email, verified }: { email: string; verified: boolean }) {
  return (
    <div className="card">
      <h2>Email</h2>
      <p>
        <span className="mono">{email}</span> {verified ? <span className="success">confirmed</span> : <span className="muted">not confirmed</span>}
      </p>
      <ActionForm
        submit="Change email"
        pendingLabel="Sending…"
        onSubmit={async (form, el) => {
          const newEmail = String(form.get("newEmail"));
          const { error } = await authClient.changeEmail({ newEmail, callbackURL: verifiedURL("/settings") });
          if (error) return { ok: false, text: errorText(error, "Could not change the email") };
          el.reset();
          return {
            ok: true,
            text: verified ? `Check ${email}: confirm the change there, then confirm ${newEmail}.` : `Check ${newEmail} to confirm it.`,
          };
        }}
      >
        <label>
          New email
          <input name="newEmail" type="email" autoComplete="email" required />
        </label>
      </ActionForm>
    </div>
  );
}

function ChangePassword() {
  return (
    <div className="card">
      <h2>Change password</h2>
      <ActionForm
        submit="Change password"
        pendingLabel="Changing…"
        onSubmit={async (form, el) => {
          const { error } = await authClient.changePassword({
            currentPassword: String(form.get("currentPassword")),
            newPassword: String(form.get("newPassword")),
            revokeOtherSessions: form.get("revokeOtherSessions") === "on",
          });
          if (error) return { ok: false, text: errorText(error, "Could not change the password") };
          el.reset();
          return { ok: true, text: "Password changed." };
        }}
      >
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
      </ActionForm>
    </div>
  );
}

// A passwordless account (magic link, email code, social) gets a password through the reset
// mail: the protocol sets a first password only with a mailed token.
function SetPassword({ email }: { email: string }) {
  return (
    <div className="card">
      <h2>Password</h2>
      <p className="muted">You sign in without a password. To add one, we mail you a link to choose it.</p>
      <ActionForm
        submit="Email me a link to set a password"
        pendingLabel="Sending…"
        onSubmit={async () => {
          const { error } = await authClient.requestPasswordReset({ email, redirectTo: "/reset-password" });
          return error ? { ok: false, text: errorText(error, "Could not send the link") } : { ok: true, text: `Sent a link to ${email}.` };
        }}
      />
    </div>
  );
}

function LinkedAccounts({ accounts, providers, reload }: { accounts: Account[] | null; providers: { id: string; label: string }[]; reload: () => Promise<void> }) {
  const social = accounts?.filter((a) => a.providerId !== "credential") ?? [];
  const unlinked = providers.filter((p) => !social.some((a) => a.providerId === p.id));
  const label = (id: string) => providers.find((p) => p.id === id)?.label ?? id;
  return (
    <div className="card">
      <h2>Linked accounts</h2>
      {!accounts ? (
        <p className="muted">Loading…</p>
      ) : social.length === 0 ? (
        <p className="muted">No linked accounts.</p>
      ) : (
        <ul className="plain" data-testid="linked-accounts">
          {social.map((a) => (
            <li key={a.id} className="row">
              <span className="grow">{label(a.providerId)}</span>
              <ActionButton
                pendingLabel="Unlinking…"
                label={`Unlink ${label(a.providerId)}`}
                onClick={async () => {
                  const { error } = await authClient.unlinkAccount({ providerId: a.providerId, accountId: a.accountId });
                  if (error) return { ok: false, text: errorText(error, "Could not unlink") };
                  await reload();
                }}
              >
                Unlink
              </ActionButton>
            </li>
          ))}
        </ul>
      )}
      {unlinked.length > 0 && (
        <p className="row">
          {unlinked.map((p) => (
            <ActionButton
              key={p.id}
              pendingLabel="Redirecting…"
              onClick={async () => {
                const { error } = await authClient.linkSocial({ provider: p.id as Provider, callbackURL: "/settings" });
                if (error) return { ok: false, text: errorText(error, "Could not link") };
              }}
            >
              Link {p.label}
            </ActionButton>
          ))}
        </p>
      )}
    </div>
  );
}

function Sessions() {
  const { data: current } = authClient.useSession();
  const [sessions, setSessions] = useState<SessionRow[] | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    const res = await authClient.listSessions();
    if (res.error) setError(errorText(res.error, "Could not list sessions"));
    else setSessions(res.data as SessionRow[]);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="card">
      <h2>Sessions</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!sessions ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Sessions" tabIndex={0}>
          <table data-testid="sessions">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Started</th>
                <th scope="col">
                  <span className="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td title={s.userAgent ?? ""}>
                    {describeUserAgent(s.userAgent)}
                    {s.ipAddress ? <span className="muted"> · {s.ipAddress}</span> : null}
                  </td>
                  <td>{new Date(s.createdAt).toLocaleString()}</td>
                  <td>
                    {s.token === current?.session.token ? (
                      <span className="muted">this device</span>
                    ) : (
                      <ActionButton
                        kind="danger"
                        pendingLabel="Revoking…"
                        onClick={async () => {
                          const res = await authClient.revokeSession({ token: s.token });
                          if (res.error) return { ok: false, text: errorText(res.error, "Could not revoke") };
                          await load();
                        }}
                      >
                        Revoke
                      </ActionButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="row">
        <ActionButton
          pendingLabel="Signing out others…"
          onClick={async () => {
            const res = await authClient.revokeOtherSessions();
            if (res.error) return { ok: false, text: errorText(res.error, "Could not revoke") };
            await load();
            return { ok: true, text: "Signed out everywhere else." };
          }}
        >
          Sign out all other sessions
        </ActionButton>
      </p>
    </div>
  );
}

function DeleteAccount({ hasPassword }: { hasPassword: boolean }) {
  const [asking, setAsking] = useState(false);
  return (
    <div className="card">
      <h2>Delete account</h2>
      <p className="muted">This deletes your account, its sessions and passkeys. It cannot be undone.</p>
      {!asking ? (
        <ConfirmButton question="Delete your account for good?" confirm="Yes, continue" onConfirm={async () => setAsking(true)}>
          Delete my account
        </ConfirmButton>
      ) : (
        <ActionForm
          submit="Delete my account"
          pendingLabel="Deleting…"
          kind="danger"
          label="Delete account"
          onSubmit={async (form) => {
            const password = hasPassword ? String(form.get("password")) : undefined;
            const { data, error } = await authClient.deleteUser({ password, callbackURL: "/" });
            if (error) return { ok: false, text: errorText(error, "Could not delete the account") };
            // DELETE_USER_VERIFICATION mails a link instead of deleting at once.
            if (data && "message" in data && data.message === "Verification email sent") return { ok: true, text: "Check your inbox to confirm the deletion." };
            window.location.assign("/?deleted=1");
          }}
        >
          {hasPassword && (
            <label>
              Your password
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
          )}
        </ActionForm>
      )}
    </div>
  );
}
