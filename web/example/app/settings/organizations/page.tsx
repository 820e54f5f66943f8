"use client";

import { useCallback, useEffect, useState } from "react";
import { ActionButton, ActionForm, ConfirmButton, Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { displayName, errorText } from "@/lib/errors";

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

type Member = { id: string; userId: string; role: string; user?: { name?: string; email: string } };
type Invitation = { id: string; email: string; role: string | null; status: string; organizationId: string; organizationName?: string };
type Team = { id: string; name: string };

// What the viewer may do in the active organization, asked of the sidecar with hasPermission
// (it knows the roles, custom ones included), so a member sees no button that would be refused.
const checks = {
  invite: { invitation: ["create"] },
  cancelInvite: { invitation: ["cancel"] },
  removeMember: { member: ["delete"] },
  changeRole: { member: ["update"] },
  deleteOrg: { organization: ["delete"] },
  createTeam: { team: ["create"] },
  deleteTeam: { team: ["delete"] },
} as const;
type Can = Record<keyof typeof checks, boolean>;
const nothing: Can = { invite: false, cancelInvite: false, removeMember: false, changeRole: false, deleteOrg: false, createTeam: false, deleteTeam: false };

function usePermissions(organizationId: string | undefined, role: string | undefined): Can {
  const [can, setCan] = useState<Can>(nothing);
  useEffect(() => {
    if (!organizationId) return setCan(nothing);
    let live = true;
    void Promise.all(
      Object.entries(checks).map(async ([k, permissions]) => {
        const res = await authClient.organization.hasPermission({ organizationId, permissions: permissions as unknown as Record<string, string[]> });
        return [k, Boolean(res.data?.success)] as const;
      }),
    ).then((entries) => live && setCan(Object.fromEntries(entries) as Can));
    return () => {
      live = false;
    };
  }, [organizationId, role]);
  return can;
}

// The organization list and the active organization come from the client's hooks, which reload
// after the calls that change them (create, set-active, invite, …), as upstream's do.
export default function OrganizationsPage() {
  const { data: orgs, isPending } = authClient.useListOrganizations();
  const { data: active } = authClient.useActiveOrganization();
  const { data: session } = authClient.useSession();
  const [notice, setNotice] = useState<Notice>(null);

  return (
    <>
      <h1>Organizations</h1>
      <Message notice={notice} />
      <div className="card">
        <h2>Yours</h2>
        {isPending && !orgs ? (
          <p className="muted">Loading…</p>
        ) : !orgs?.length ? (
          <p className="muted">You are not in any organization yet.</p>
        ) : (
          <ul className="plain" data-testid="organizations">
            {orgs.map((o) => (
              <li key={o.id} className="row">
                <span className="grow">
                  <strong>{o.name}</strong> <span className="muted">{o.slug}</span>
                </span>
                <ActionButton
                  pendingLabel="Switching…"
                  onClick={async () => {
                    const { error } = await authClient.organization.setActive({ organizationId: active?.id === o.id ? null : o.id });
                    if (error) return { ok: false, text: errorText(error, "Could not switch") };
                  }}
                >
                  {active?.id === o.id ? "Deactivate" : "Make active"}
                </ActionButton>
              </li>
            ))}
          </ul>
        )}
        <ActionForm
          submit="Create"
          pendingLabel="Creating…"
          onSubmit={async (form, el) => {
            const name = String(form.get("name")).trim();
            const { error } = await authClient.organization.create({ name, slug: slugify(name) });
            if (error) return { ok: false, text: errorText(error, "Could not create") };
            el.reset();
            return { ok: true, text: `Created ${name}.` };
          }}
        >
          <label>
            New organization
            <input name="name" placeholder="Acme Inc." required />
          </label>
        </ActionForm>
      </div>

      {active && session && <ActiveOrganization org={active as unknown as ActiveOrg} me={session.user.id} onLeft={setNotice} />}
      <InvitationsForYou />
    </>
  );
}

type ActiveOrg = { id: string; name: string; members: Member[]; invitations: Invitation[] };

function ActiveOrganization({ org, me, onLeft }: { org: ActiveOrg; me: string; onLeft: (n: Notice) => void }) {
  const mine = org.members.find((m) => m.userId === me);
  const can = usePermissions(org.id, mine?.role);
  const pending = org.invitations.filter((i) => i.status === "pending");
  return (
    <div className="card" data-testid="active-organization">
      <h2>{org.name}: members</h2>
      <p className="muted" data-testid="my-role">
        You are {mine?.role === "admin" || mine?.role === "owner" ? "an" : "a"} {mine?.role ?? "member"} here.
      </p>
      <div className="table-wrap" role="region" aria-label="Members" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {org.members.map((m) => (
              <tr key={m.id}>
                <td>{m.user ? displayName({ name: m.user.name, email: m.user.email }) : ""}</td>
                <td className="mono">{m.user?.email}</td>
                <td>
                  {can.changeRole && m.userId !== me ? (
                    <RoleSelect member={m} />
                  ) : (
                    m.role
                  )}
                </td>
                <td>
                  {m.userId !== me && can.removeMember && (
                    <ConfirmButton
                      label={`Remove ${m.user?.email}`}
                      question={`Remove ${m.user?.email}?`}
                      confirm="Yes, remove"
                      onConfirm={async () => {
                        const { error } = await authClient.organization.removeMember({ memberIdOrEmail: m.id });
                        if (error) return { ok: false, text: errorText(error, "Could not remove") };
                      }}
                    >
                      Remove
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {pending.length > 0 && (
        <>
          <h3>Pending invitations</h3>
          <ul className="plain">
            {pending.map((i) => (
              <li key={i.id} className="row">
                <span className="grow">
                  {i.email} <span className="muted">{i.role}</span>
                </span>
                {can.cancelInvite && (
                  <ActionButton
                    pendingLabel="Cancelling…"
                    label={`Cancel the invitation of ${i.email}`}
                    onClick={async () => {
                      const { error } = await authClient.organization.cancelInvitation({ invitationId: i.id });
                      if (error) return { ok: false, text: errorText(error, "Could not cancel") };
                    }}
                  >
                    Cancel
                  </ActionButton>
                )}
              </li>
            ))}
          </ul>
        </>
      )}

      {can.invite && (
        <ActionForm
          submit="Send invitation"
          pendingLabel="Sending…"
          onSubmit={async (form, el) => {
            const email = String(form.get("email"));
            const { error } = await authClient.organization.inviteMember({ email, role: String(form.get("role")) as "member" });
            if (error) return { ok: false, text: errorText(error, "Could not invite") };
            el.reset();
            return { ok: true, text: `Invited ${email}.` };
          }}
        >
          <label>
            Invite by email
            <input name="email" type="email" required />
          </label>
          <label>
            Role
            <select name="role" defaultValue="member">
              <option value="member">Member</option>
              <option value="admin">Admin</option>
              {mine?.role === "owner" && <option value="owner">Owner</option>}
            </select>
          </label>
        </ActionForm>
      )}

      <Teams organizationId={org.id} canCreate={can.createTeam} canDelete={can.deleteTeam} />

      <h3>Leave or delete</h3>
      <p className="row">
        <ConfirmButton
          question={`Leave ${org.name}?`}
          confirm="Yes, leave"
          onConfirm={async () => {
            const { error } = await authClient.organization.leave({ organizationId: org.id });
            if (error) return { ok: false, text: errorText(error, "Could not leave") };
            onLeft({ ok: true, text: `You left ${org.name}.` });
          }}
        >
          Leave {org.name}
        </ConfirmButton>
        {can.deleteOrg && (
          <ConfirmButton
            question={`Delete ${org.name} and its memberships for everyone?`}
            confirm="Yes, delete"
            onConfirm={async () => {
              const { error } = await authClient.organization.delete({ organizationId: org.id });
              if (error) return { ok: false, text: errorText(error, "Could not delete") };
              onLeft({ ok: true, text: `Deleted ${org.name}.` });
            }}
          >
            Delete {org.name}
          </ConfirmButton>
        )}
      </p>
    </div>
  );
}

function RoleSelect({ member }: { member: Member }) {
  const [notice, setNotice] = useState<Notice>(null);
  const [pending, setPending] = useState(false);
  return (
    <>
      <select
        aria-label={`Role of ${member.user?.email}`}
        value={member.role}
        disabled={pending}
        onChange={async (e) => {
          setPending(true);
          setNotice(null);
          const { error } = await authClient.organization.updateMemberRole({ memberId: member.id, role: e.target.value });
          setPending(false);
          setNotice(error ? { ok: false, text: errorText(error, "Could not change the role") } : { ok: true, text: "Role changed." });
        }}
      >
        <option value="member">member</option>
        <option value="admin">admin</option>
        <option value="owner">owner</option>
      </select>{" "}
      <Message notice={notice} inline />
    </>
  );
}

function Teams({ organizationId, canCreate, canDelete }: { organizationId: string; canCreate: boolean; canDelete: boolean }) {
  const [teams, setTeams] = useState<Team[] | null>(null);
  const load = useCallback(async () => {
    const res = await authClient.organization.listTeams({ query: { organizationId } });
    setTeams(res.error ? [] : (res.data as Team[]));
  }, [organizationId]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <>
      <h3>Teams</h3>
      {!teams ? (
        <p className="muted">Loading…</p>
      ) : teams.length === 0 ? (
        <p className="muted">No teams.</p>
      ) : (
        <ul className="plain" data-testid="teams">
          {teams.map((t) => (
            <li key={t.id} className="row">
              <span className="grow">{t.name}</span>
              {canDelete && (
                <ConfirmButton
                  label={`Delete team ${t.name}`}
                  question={`Delete team ${t.name}?`}
                  confirm="Yes, delete"
                  onConfirm={async () => {
                    const { error } = await authClient.organization.removeTeam({ teamId: t.id, organizationId });
                    if (error) return { ok: false, text: errorText(error, "Could not delete") };
                    await load();
                  }}
                >
                  Delete team
                </ConfirmButton>
              )}
            </li>
          ))}
        </ul>
      )}
      {canCreate && (
        <ActionForm
          className="row"
          submit="Add team"
          pendingLabel="Adding…"
          onSubmit={async (form, el) => {
            const { error } = await authClient.organization.createTeam({ name: String(form.get("team")).trim(), organizationId });
            if (error) return { ok: false, text: errorText(error, "Could not add the team") };
            el.reset();
            await load();
          }}
        >
          <label className="grow">
            New team
            <input name="team" required />
          </label>
        </ActionForm>
      )}
    </>
  );
}

// Invitations sent to this account. The sidecar lists them only for a verified email (403
// otherwise, as upstream), which the page says rather than showing an empty list.
function InvitationsForYou() {
  const [state, setState] = useState<{ invites: Invitation[] } | { refused: string } | null>(null);
  const load = useCallback(async () => {
    const res = await authClient.organization.listUserInvitations();
    if (res.error) setState({ refused: res.error.status === 403 ? "unverified" : errorText(res.error, "Could not list your invitations") });
    else setState({ invites: res.data as Invitation[] });
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  if (!state) return null;
  if ("refused" in state) {
    return (
      <div className="card" data-testid="invitations-for-you">
        <h2>Invitations for you</h2>
        <p role="alert" className="error">
          {state.refused === "unverified" ? "Confirm your email address to see invitations sent to it." : state.refused}
        </p>
      </div>
    );
  }
  if (state.invites.length === 0) return null;
  return (
    <div className="card" data-testid="invitations-for-you">
      <h2>Invitations for you</h2>
      <ul className="plain">
        {state.invites.map((i) => (
          <li key={i.id} className="row">
            <span className="grow">
              {i.organizationName ?? i.organizationId} <span className="muted">as {i.role}</span>
            </span>
            <ActionButton
              kind="primary"
              pendingLabel="Joining…"
              onClick={async () => {
                const { error } = await authClient.organization.acceptInvitation({ invitationId: i.id });
                if (error) return { ok: false, text: errorText(error, "Could not accept") };
                await load();
              }}
            >
              Accept
            </ActionButton>
            <ActionButton
              pendingLabel="Declining…"
              onClick={async () => {
                const { error } = await authClient.organization.rejectInvitation({ invitationId: i.id });
                if (error) return { ok: false, text: errorText(error, "Could not decline") };
                await load();
              }}
            >
              Decline
            </ActionButton>
          </li>
        ))}
      </ul>
    </div>
  );
}
