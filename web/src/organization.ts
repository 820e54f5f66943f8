// The organization client plugin (upstream packages/better-auth/src/plugins/organization/client.ts):
// authClient.organization, the stores behind useActiveOrganization, useListOrganizations,
// useActiveMember and useActiveMemberRole, and checkRolePermission answered locally.

import type { ClientPlugin, PluginContext } from "./client.js";
import { changesSession } from "./client.js";
import { checkRolePermission, defaultRoles, type PermissionRequest, type RoleDefinition } from "./permissions.js";
import { createQueryStore } from "./query.js";
import type { FullOrganization, Invitation, Member, Organization, Team } from "./types.js";

type Status = { status: boolean };
type Extra = Record<string, unknown>;

export interface OrganizationClientOptions {
  /** Roles for checkRolePermission, added to (or replacing same-named) owner, admin and member. */
  roles?: Record<string, RoleDefinition>;
  /** Accepted for code written against upstream; the roles alone decide. */
  ac?: unknown;
  teams?: { enabled?: boolean };
  dynamicAccessControl?: { enabled?: boolean };
  schema?: unknown;
}

/** What organizationClient adds to $Infer, as upstream's. */
export interface OrganizationInfer {
  ActiveOrganization: FullOrganization;
  Organization: Organization;
  Member: Member;
  Invitation: Invitation;
  Team: Team;
}

const listChanges = new Set(["/organization/create", "/organization/delete", "/organization/update"]);

function organizationActions({ endpoint, $fetch, onCall }: PluginContext, roles: Record<string, RoleDefinition>) {
  // The stores behind upstream's hooks, and the calls after which each reloads (upstream's
  // atomListeners; the active organization's also follow every session change).
  const $stores = {
    activeOrganization: createQueryStore<FullOrganization>($fetch, "/organization/get-full-organization"),
    listOrganizations: createQueryStore<Organization[]>($fetch, "/organization/list"),
    activeMember: createQueryStore<Member>($fetch, "/organization/get-active-member"),
    activeMemberRole: createQueryStore<{ role: string }>($fetch, "/organization/get-active-member-role"),
  };
  onCall((path) => {
    if (listChanges.has(path)) $stores.listOrganizations.signal();
    if (changesSession(path) || path.startsWith("/organization")) {
      $stores.activeOrganization.signal();
      $stores.activeMember.signal();
      $stores.activeMemberRole.signal();
    }
  });
  return {
    $stores,
    organization: {
      create: endpoint<
        { name: string; slug: string; logo?: string | null; metadata?: Extra; keepCurrentActiveOrganization?: boolean } & Extra,
        Organization & { members: Member[] }
      >("/organization/create"),
      checkSlug: endpoint<{ slug: string }, Status>("/organization/check-slug"),
      update: endpoint<{ data: Extra; organizationId?: string }, Organization>("/organization/update"),
      delete: endpoint<{ organizationId: string }, Organization>("/organization/delete"),
      setActive: endpoint<{ organizationId?: string | null; organizationSlug?: string }, Organization | null>("/organization/set-active"),
      getOrganization: endpoint<{}, Organization | null, { organizationId?: string; organizationSlug?: string }>("/organization/get-organization"),
      getFullOrganization: endpoint<
        {},
        FullOrganization | null,
        { organizationId?: string; organizationSlug?: string; membersLimit?: number }
      >("/organization/get-full-organization"),
      list: endpoint<{}, Organization[]>("/organization/list"),
      inviteMember: endpoint<
        { email: string; role: string | string[]; organizationId?: string; resend?: boolean; teamId?: string | string[] } & Extra,
        Invitation
      >("/organization/invite-member"),
      acceptInvitation: endpoint<{ invitationId: string }, { invitation: Invitation; member: Member }>("/organization/accept-invitation"),
      rejectInvitation: endpoint<{ invitationId: string }, { invitation: Invitation; member: null }>("/organization/reject-invitation"),
      cancelInvitation: endpoint<{ invitationId: string }, Invitation>("/organization/cancel-invitation"),
      getInvitation: endpoint<
        { query: { id: string } },
        Invitation & { organizationName: string; organizationSlug: string; inviterEmail: string }
      >("/organization/get-invitation"),
      listInvitations: endpoint<{}, Invitation[], { organizationId?: string }>("/organization/list-invitations"),
      listUserInvitations: endpoint<{}, (Invitation & { organizationName: string })[]>("/organization/list-user-invitations"),
      removeMember: endpoint<{ memberIdOrEmail: string; organizationId?: string }, { member: Member }>("/organization/remove-member"),
      updateMemberRole: endpoint<{ memberId: string; role: string | string[]; organizationId?: string }, Member>(
        "/organization/update-member-role",
      ),
      getActiveMember: endpoint<{}, Member>("/organization/get-active-member"),
      getActiveMemberRole: endpoint<{}, { role: string }, { userId?: string; organizationId?: string; organizationSlug?: string }>(
        "/organization/get-active-member-role",
      ),
      leave: endpoint<{ organizationId: string }, Member>("/organization/leave"),
      listMembers: endpoint<{}, { members: Member[]; total: number }, Record<string, string | number | undefined>>("/organization/list-members"),
      hasPermission: endpoint<{ permissions: Record<string, string[]>; organizationId?: string }, { error: null; success: boolean }>(
        "/organization/has-permission",
      ),
      /** Runs the access-control check locally against the default (or configured) roles; no request. */
      checkRolePermission: (input: { role: string | string[]; permissions: PermissionRequest }) => checkRolePermission(input, roles),
      createTeam: endpoint<{ name: string; organizationId?: string } & Extra, Team>("/organization/create-team"),
      listTeams: endpoint<{}, Team[], { organizationId?: string }>("/organization/list-teams"),
      updateTeam: endpoint<{ teamId: string; data: Extra }, Team>("/organization/update-team"),
      removeTeam: endpoint<{ teamId: string; organizationId?: string }, { message: string }>("/organization/remove-team"),
      setActiveTeam: endpoint<{ teamId?: string | null }, Team | null>("/organization/set-active-team"),
      listUserTeams: endpoint<{}, Team[], { userId?: string; organizationId?: string }>("/organization/list-user-teams"),
      listTeamMembers: endpoint<{}, { id: string; teamId: string; userId: string; createdAt: Date }[], { teamId?: string }>(
        "/organization/list-team-members",
      ),
      addTeamMember: endpoint<{ teamId: string; userId: string; organizationId?: string }, { id: string; teamId: string; userId: string }>(
        "/organization/add-team-member",
      ),
      removeTeamMember: endpoint<{ teamId: string; userId: string; organizationId?: string }, { message: string }>(
        "/organization/remove-team-member",
      ),
    },
  };
}
export type OrganizationAPI = ReturnType<typeof organizationActions>;

/** organizationClient adds authClient.organization and its hooks. */
export const organizationClient = (options: OrganizationClientOptions = {}): ClientPlugin<"organization"> => {
  // As upstream's organizationClient: the configured roles go over the default ones.
  const roles: Record<string, RoleDefinition> = { ...defaultRoles, ...options.roles };
  return { id: "organization", options: { ...options }, actions: (ctx) => organizationActions(ctx, roles) };
};
