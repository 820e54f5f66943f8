"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import type { FullOrganization, Invitation, Organization } from "@authsidecar/web";

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

export default function OrganizationsPage() {
  const { data: session } = authClient.useSession();
  const [orgs, setOrgs] = useState<Organization[] | null>(null);
  const [active, setActive] = useState<FullOrganization | null>(null);
  const [invites, setInvites] = useState<(Invitation & { organizationName?: string })[]>([]);
  const [message, setMessage] = useState<Notice>(null);

  const report = (error: { message?: string; status: number } | null, ok?: string) => {
    if (error) setMessage({ ok: false, text: error.message ?? `Request failed (${error.status})` });
    else if (ok) setMessage({ ok: true, text: ok });
  };

  const load = useCallback(async () => {
    const [list, full, mine] = await Promise.all([
      authClient.organization.list(),
      authClient.organization.getFullOrganization(),
      authClient.organization.listUserInvitations(),
    ]);
    if (list.error) report(list.error);
    setOrgs(list.data ?? []);
    setActive(full.data ?? null);
    setInvites(mine.data ?? []);
  }, []);

  useEffect(() => {
    void load();
  }, [load, session?.session.activeOrganizationId]);

  async function create(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const name = String(new FormData(formEl).get("name")).trim();
    const { error } = await authClient.organization.create({ name, slug: slugify(name) });
    report(error, `Created ${name}.`);
    if (!error) formEl.reset();
    await load();
  }

  async function activate(organizationId: string | null) {
    const { error } = await authClient.organization.setActive({ organizationId });
    report(error);
    await load();
  }

  async function invite(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const email = String(form.get("email"));
    const { error } = await authClient.organization.inviteMember({ email, role: String(form.get("role")) });
    report(error, `Invited ${email}.`);
    if (!error) formEl.reset();
    await load();
  }

  async function answer(invitationId: string, accept: boolean) {
    const { error } = accept
      ? await authClient.organization.acceptInvitation({ invitationId })
      : await authClient.organization.rejectInvitation({ invitationId });
    report(error, accept ? "Invitation accepted." : "Invitation declined.");
    await load();
  }

  async function cancel(invitationId: string) {
    report((await authClient.organization.cancelInvitation({ invitationId })).error);
    await load();
  }

  async function removeMember(memberIdOrEmail: string) {
    report((await authClient.organization.removeMember({ memberIdOrEmail })).error);
    await load();
  }

  return (
    <>
      <h1>Organizations</h1>
      <Message notice={message} />
      <div className="card">
        <h2>Yours</h2>
        {!orgs ? (
          <p className="muted">Loading…</p>
        ) : orgs.length === 0 ? (
          <p className="muted">You are not in any organization yet.</p>
        ) : (
          <ul className="plain" data-testid="organizations">
            {orgs.map((o) => (
              <li key={o.id} className="row">
                <strong>{o.name}</strong> <span className="muted">{o.slug}</span>
                {active?.id === o.id ? (
                  <button type="button" className="secondary" onClick={() => activate(null)}>
                    Deactivate
                  </button>
                ) : (
                  <button type="button" className="secondary" onClick={() => activate(o.id)}>
                    Make active
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={create}>
          <label>
            New organization
            <input name="name" placeholder="Acme Inc." required />
          </label>
          <button type="submit">Create</button>
        </form>
      </div>

      {active && (
        <div className="card">
          <h2>{active.name}: members</h2>
          <table>
            <tbody>
              {active.members.map((m) => (
                <tr key={m.id}>
                  <td>{m.user?.name}</td>
                  <td>{m.user?.email}</td>
                  <td>{m.role}</td>
                  <td>
                    {m.userId !== session?.user.id && (
                      <button type="button" className="danger" onClick={() => removeMember(m.id)}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {active.invitations.filter((i) => i.status === "pending").length > 0 && (
            <>
              <h2>Pending invitations</h2>
              <ul className="plain">
                {active.invitations
                  .filter((i) => i.status === "pending")
                  .map((i) => (
                    <li key={i.id} className="row">
                      {i.email} <span className="muted">{i.role}</span>
                      <button type="button" className="secondary" onClick={() => cancel(i.id)}>
                        Cancel
                      </button>
                    </li>
                  ))}
              </ul>
            </>
          )}
          <form onSubmit={invite}>
            <label>
              Invite by email
              <input name="email" type="email" required />
            </label>
            <label>
              Role
              <select name="role" defaultValue="member">
                <option value="member">Member</option>
                <option value="admin">Admin</option>
                <option value="owner">Owner</option>
              </select>
            </label>
            <button type="submit">Send invitation</button>
          </form>
        </div>
      )}

      {invites.length > 0 && (
        <div className="card">
          <h2>Invitations for you</h2>
          <ul className="plain">
            {invites.map((i) => (
              <li key={i.id} className="row">
                {i.organizationName ?? i.organizationId} <span className="muted">as {i.role}</span>
                <button type="button" onClick={() => answer(i.id, true)}>
                  Accept
                </button>
                <button type="button" className="secondary" onClick={() => answer(i.id, false)}>
                  Decline
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}
