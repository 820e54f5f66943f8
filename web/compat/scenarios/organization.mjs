// Organizations and teams (organization plugin with teams on) through the official client and
// organizationClient: organizations, the active organization and team in the session, invitations
// (and their mail), members and their roles, permissions, teams, the refusals, and an organization
// made through one server used through the other.
//
// Scenarios of one file share a database per server, so slugs carry the scenario's own slug (and,
// in interop runs, the direction's tag); members join through an invitation, as over HTTP only
// that adds one.
import { organizationClient } from "better-auth/client/plugins";
import { deviation, interop, scenario } from "../lib/scenario.mjs";
import { password, sessionOf, signUp } from "../lib/steps.mjs";

const plugins = [organizationClient()];

// slugOf is an organization slug unique to this scenario run.
function slugOf(t, name) {
  return `${name}-${t.tag ? t.tag + "-" : ""}${t.slug}`;
}

// owner signs local up on a client of its own (t.server unless given) and creates an organization.
async function owner(t, local, { server = t.server, name = "Acme", ...extra } = {}) {
  const browser = t.browser();
  const c = t.client({ server, plugins, browser });
  const user = (await signUp(t, c, local)).user;
  const org = t.ok(await c.organization.create({ name, slug: slugOf(t, name.toLowerCase()), ...extra }), "create");
  return { c, browser, user, org };
}

// join signs local up on a browser of its own, has inviter invite it with role (and teams) and
// accepts; it returns the new member's client, member row and invitation.
async function join(t, inviter, organizationId, local, role = "member", { server = t.server, teamId } = {}) {
  const email = t.email(local);
  const invitation = t.ok(await inviter.organization.inviteMember({ email, role, organizationId, ...(teamId ? { teamId } : {}) }), `invite ${local}`);
  const c = t.client({ server, plugins, browser: t.browser() });
  await signUp(t, c, local);
  const { member } = t.ok(await c.organization.acceptInvitation({ invitationId: invitation.id }), `${local} accepts`);
  return { c, member, invitation, email };
}

// verified signs local up and verifies its email through the mailed link. The link is followed
// outside the observation, as a mail client would: its token is a JWT whose signature the
// normalizer cannot tell from other text yet (verify-email is compared with the mail scenarios).
async function verified(t, local) {
  const c = t.client({ plugins, browser: t.browser() });
  await signUp(t, c, local);
  t.ok(await c.sendVerificationEmail({ email: t.email(local) }), "send-verification-email");
  const { url } = await t.mail("verify-email", t.email(local));
  const res = await fetch(url, { redirect: "manual" });
  t.assert(res.status < 400, `verify-email: ${res.status} ${await res.text()}`);
  return c;
}

// The requests has-permission answers for the default roles.
const permissionChecks = [
  { organization: ["update"] },
  { organization: ["delete"] },
  { member: ["create", "update", "delete"] },
  { invitation: ["create", "cancel"] },
  { team: ["create", "update", "delete"] },
  { ac: ["read"] },
  { ac: ["create"] },
  { organization: ["update"], member: ["delete"] },
  { project: ["create"] },
];

export default [
  scenario("create with metadata, check-slug, the active organization and team in the session, list, get", async (t) => {
    const c = t.client({ plugins });
    await signUp(t, c, "olga");
    const slug = slugOf(t, "acme");
    t.equal(t.ok(await c.organization.checkSlug({ slug }), "check-slug of a free slug"), { status: true }, "check-slug answer");
    const org = t.ok(await c.organization.create({ name: "Acme", slug, logo: "https://example.com/logo.png", metadata: { plan: "pro", seats: 5 } }), "create");
    t.equal(org.metadata, { plan: "pro", seats: 5 }, "metadata");
    t.equal(org.members.length, 1, "members");
    t.equal(org.members[0].role, "owner", "creator role");
    t.fails(await c.organization.checkSlug({ slug }), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN", "check-slug of a taken slug");
    t.fails(await c.organization.create({ name: "Other", slug }), 400, "ORGANIZATION_ALREADY_EXISTS", "create with a taken slug");
    const s = await sessionOf(t, c);
    t.equal(s.session.activeOrganizationId, org.id, "activeOrganizationId after create");
    t.assert(s.session.activeTeamId, "the default team is active");

    const kept = t.ok(await c.organization.create({ name: "Second", slug: slugOf(t, "second"), keepCurrentActiveOrganization: true }), "create keeping the active one");
    t.equal(kept.metadata, undefined, "no metadata key without metadata");
    t.equal((await sessionOf(t, c)).session.activeOrganizationId, org.id, "activeOrganizationId kept");
    // Upstream lists organizations, invitations, teams and unsorted members in the database's
    // order (web/compat/lib/unordered.mjs): the assertions compare them as sets.
    t.equal(t.ok(await c.organization.list(), "list").map((o) => o.id).sort(), [org.id, kept.id].sort(), "list");

    const full = t.ok(await c.organization.getFullOrganization(), "get-full-organization of the active one");
    t.equal(full.id, org.id, "active organization");
    t.equal(full.teams.length, 1, "the default team");
    t.equal(full.teams[0].id, s.session.activeTeamId, "the active team is the default one");
    t.equal(full.members[0].user.email, t.email("olga"), "member's user");
    t.equal(t.ok(await c.organization.getFullOrganization({ query: { organizationSlug: kept.slug } }), "get-full-organization by slug").id, kept.id, "by slug");
    t.equal(t.ok(await c.organization.getFullOrganization({ query: { organizationId: kept.id, membersLimit: 1 } }), "get-full-organization by id").id, kept.id, "by id");
    t.equal(t.ok(await c.organization.getOrganization({ query: { organizationId: kept.id } }), "get-organization by id").name, "Second", "by id");
    t.equal(t.ok(await c.organization.getOrganization({ query: { organizationSlug: slug } }), "get-organization by slug").id, org.id, "by slug");
    t.equal(t.ok(await c.organization.getOrganization(), "get-organization of the active one").id, org.id, "active");
    t.fails(await c.organization.getOrganization({ query: { organizationSlug: "no-such-slug" } }), 400, "ORGANIZATION_NOT_FOUND", "an unknown slug");
    t.fails(await c.organization.getFullOrganization({ query: { organizationId: "no-such-id" } }), 400, "ORGANIZATION_NOT_FOUND", "an unknown id");
  }),

  scenario("update changes name, slug, logo and metadata; delete answers the organization and ends it", async (t) => {
    const { c, org } = await owner(t, "ursula");
    const other = t.ok(await c.organization.create({ name: "Taken", slug: slugOf(t, "taken"), keepCurrentActiveOrganization: true }), "create another");
    const updated = t.ok(await c.organization.update({ data: { name: "Acme Two", slug: slugOf(t, "acme-two"), logo: "https://example.com/2.png", metadata: { tier: 2 } } }), "update the active one");
    t.equal([updated.name, updated.metadata], ["Acme Two", { tier: 2 }], "updated");
    t.equal(t.ok(await c.organization.update({ data: { logo: null }, organizationId: org.id }), "update by id").logo, null, "logo cleared");
    t.fails(await c.organization.update({ data: { slug: other.slug } }), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN", "update to a taken slug");
    t.ok(await c.organization.update({ data: { slug: updated.slug } }), "update to its own slug");
    t.fails(await c.organization.update({ data: { name: "" } }), 400, "VALIDATION_ERROR", "an empty name");
    t.fails(await c.organization.create({ name: "", slug: slugOf(t, "empty") }), 400, "VALIDATION_ERROR", "create with an empty name");
    t.fails(await c.organization.create({ name: "Meta", slug: slugOf(t, "meta"), metadata: "plan=pro" }), 400, "VALIDATION_ERROR", "metadata not an object");

    const deleted = t.ok(await c.organization.delete({ organizationId: other.id }), "delete");
    t.equal(deleted.id, other.id, "deleted organization");
    t.equal(t.ok(await c.organization.list(), "list").map((o) => o.id), [org.id], "list after delete");
    t.fails(await c.organization.delete({ organizationId: other.id }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "delete again");
    t.ok(await c.organization.delete({ organizationId: org.id }), "delete the active one");
    t.equal(t.ok(await c.organization.list(), "list after deleting the last"), [], "no organization left");
    t.fails(await c.organization.getOrganization({ query: { organizationId: org.id } }), 400, "ORGANIZATION_NOT_FOUND", "get-organization of a deleted one");
    t.ok(await c.organization.checkSlug({ slug: updated.slug }), "the slug is free again");
  }),

  scenario("set-active by id, by slug, null and nothing; a non-member is refused and loses the active one", async (t) => {
    const { c, org, user } = await owner(t, "sam");
    const second = t.ok(await c.organization.create({ name: "Beta", slug: slugOf(t, "beta"), keepCurrentActiveOrganization: true }), "create another");
    t.equal(t.ok(await c.organization.setActive({ organizationId: second.id }), "set-active by id").id, second.id, "by id");
    let s = await sessionOf(t, c);
    t.equal(s.session.activeOrganizationId, second.id, "activeOrganizationId");
    t.equal(t.ok(await c.organization.getActiveMember(), "get-active-member").userId, user.id, "active member");
    t.equal(t.ok(await c.organization.getActiveMemberRole(), "get-active-member-role"), { role: "owner" }, "active role");
    t.equal(t.ok(await c.organization.setActive({ organizationSlug: org.slug }), "set-active by slug").id, org.id, "by slug");
    t.equal(t.ok(await c.organization.setActive({ organizationId: null }), "set-active null"), null, "null answer");
    s = await sessionOf(t, c);
    t.equal(s.session.activeOrganizationId, null, "cleared");
    t.equal(t.ok(await c.organization.setActive({ organizationId: null }), "set-active null again"), null, "null again");
    t.equal(t.ok(await c.organization.setActive({ organizationSlug: "" }), "set-active with nothing"), null, "nothing active: null");
    t.equal(t.ok(await c.organization.getFullOrganization(), "get-full-organization with none active"), null, "null without an active one");
    t.equal(t.ok(await c.organization.getOrganization(), "get-organization with none active"), null, "null without an active one");
    t.fails(await c.organization.getActiveMember(), 400, "NO_ACTIVE_ORGANIZATION", "get-active-member with none active");
    t.fails(await c.organization.getActiveMemberRole(), 400, "NO_ACTIVE_ORGANIZATION", "get-active-member-role with none active");
    t.fails(await c.organization.setActive({ organizationSlug: "no-such-slug" }), 400, "ORGANIZATION_NOT_FOUND", "an unknown slug");

    const stranger = t.client({ plugins, browser: t.browser() });
    await signUp(t, stranger, "stan");
    t.fails(await stranger.organization.setActive({ organizationId: org.id }), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "a stranger");
    const own = t.ok(await stranger.organization.create({ name: "Stan", slug: slugOf(t, "stan") }), "the stranger's own");
    t.fails(await stranger.organization.getFullOrganization({ query: { organizationId: org.id } }), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "another's organization");
    t.equal((await sessionOf(t, stranger)).session.activeOrganizationId, null, "the refusal cleared the active organization");
    t.ok(await stranger.organization.setActive({ organizationId: own.id }), "set-active own");
    t.fails(await stranger.organization.getOrganization({ query: { organizationSlug: org.slug } }), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "get-organization of another's");
    t.equal((await sessionOf(t, stranger)).session.activeOrganizationId, null, "cleared again");
  }),

  scenario("invite-member mails the invitation; the invitee reads it, accepts, and the organization becomes active", async (t) => {
    const { c: o, org, user } = await owner(t, "ines");
    const email = t.email("ivan");
    const inv = t.ok(await o.organization.inviteMember({ email: email.toUpperCase(), role: "member" }), "invite");
    t.equal([inv.email, inv.role, inv.status, inv.teamId, inv.inviterId, inv.organizationId], [email, "member", "pending", null, user.id, org.id], "invitation");
    t.equal((await t.mail("organization-invitation", email)).id, inv.id, "the mailed invitation id");
    t.fails(await o.organization.inviteMember({ email, role: "member" }), 400, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION", "invite again");
    t.equal(t.ok(await o.organization.inviteMember({ email, role: "admin", resend: true }), "resend").id, inv.id, "the same invitation");
    t.equal(t.ok(await o.organization.listInvitations(), "list-invitations").map((i) => i.id), [inv.id], "list-invitations");
    t.equal(t.ok(await o.organization.listInvitations({ query: { organizationId: org.id } }), "list-invitations by id").length, 1, "by id");

    const ivan = t.client({ plugins, browser: t.browser() });
    t.fails(await ivan.organization.getInvitation({ query: { id: inv.id } }), 401, null, "get-invitation signed out");
    await signUp(t, ivan, "ivan");
    const read = t.ok(await ivan.organization.getInvitation({ query: { id: inv.id } }), "get-invitation");
    t.equal([read.organizationName, read.organizationSlug, read.inviterEmail], [org.name, org.slug, t.email("ines")], "get-invitation's extra fields");
    t.fails(await ivan.organization.getInvitation({ query: { id: "no-such-invitation" } }), 400, "INVITATION_NOT_FOUND", "an unknown invitation");

    const eve = t.client({ plugins, browser: t.browser() });
    await signUp(t, eve, "eve");
    t.fails(await eve.organization.getInvitation({ query: { id: inv.id } }), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "get-invitation for someone else");
    t.fails(await eve.organization.acceptInvitation({ invitationId: inv.id }), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "accept for someone else");
    t.fails(await eve.organization.rejectInvitation({ invitationId: inv.id }), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "reject for someone else");
    t.fails(await eve.organization.cancelInvitation({ invitationId: inv.id }), 400, "MEMBER_NOT_FOUND", "cancel by a non-member");

    const accepted = t.ok(await ivan.organization.acceptInvitation({ invitationId: inv.id }), "accept");
    t.equal([accepted.invitation.status, accepted.member.role, accepted.member.organizationId], ["accepted", "member", org.id], "accept answer");
    const s = await sessionOf(t, ivan);
    t.equal([s.session.activeOrganizationId, s.session.activeTeamId], [org.id, null], "active after accepting");
    t.fails(await ivan.organization.acceptInvitation({ invitationId: inv.id }), 400, "INVITATION_NOT_FOUND", "accept again");
    t.fails(await ivan.organization.getInvitation({ query: { id: inv.id } }), 400, "INVITATION_NOT_FOUND", "get-invitation once accepted");
    t.fails(await o.organization.inviteMember({ email, role: "member" }), 400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", "invite a member");
    t.equal(t.ok(await ivan.organization.getActiveMember(), "get-active-member").id, accepted.member.id, "active member");
    t.fails(await ivan.organization.listInvitations(), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS", "list-invitations by a member");
    t.fails(await ivan.organization.inviteMember({ email: t.email("friend"), role: "member" }), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION", "a member invites");
    t.fails(await eve.organization.inviteMember({ email: t.email("friend"), role: "member", organizationId: org.id }), 400, "MEMBER_NOT_FOUND", "a non-member invites");
    t.fails(await eve.organization.listInvitations({ query: { organizationId: org.id } }), 403, null, "list-invitations by a non-member");
    t.fails(await eve.organization.listInvitations(), 400, null, "list-invitations with no organization");
  }),

  scenario("reject and cancel end an invitation; roles, emails and limits of invite-member", async (t) => {
    const { c: o, org } = await owner(t, "rhonda");
    const admin = await join(t, o, org.id, "adam", "admin");
    const member = await join(t, o, org.id, "mia", "member");

    const toRita = t.ok(await admin.c.organization.inviteMember({ email: t.email("rita"), role: ["admin", "member"] }), "an admin invites with two roles");
    t.equal(toRita.role, "admin,member", "roles joined");
    const rita = t.client({ plugins, browser: t.browser() });
    await signUp(t, rita, "rita");
    const rejected = t.ok(await rita.organization.rejectInvitation({ invitationId: toRita.id }), "reject");
    t.equal([rejected.invitation.status, rejected.member], ["rejected", null], "reject answer");
    t.fails(await rita.organization.rejectInvitation({ invitationId: toRita.id }), 400, "INVITATION_NOT_FOUND", "reject again");
    t.fails(await rita.organization.acceptInvitation({ invitationId: toRita.id }), 400, "INVITATION_NOT_FOUND", "accept a rejected one");

    const toCody = t.ok(await o.organization.inviteMember({ email: t.email("cody"), role: "member" }), "invite cody");
    t.fails(await member.c.organization.cancelInvitation({ invitationId: toCody.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION", "a member cancels");
    t.equal(t.ok(await admin.c.organization.cancelInvitation({ invitationId: toCody.id }), "an admin cancels").status, "canceled", "cancel answer");
    t.fails(await o.organization.cancelInvitation({ invitationId: "no-such-invitation" }), 400, "INVITATION_NOT_FOUND", "cancel an unknown one");
    const cody = t.client({ plugins, browser: t.browser() });
    await signUp(t, cody, "cody");
    t.fails(await cody.organization.acceptInvitation({ invitationId: toCody.id }), 400, "INVITATION_NOT_FOUND", "accept a canceled one");

    t.fails(await admin.c.organization.inviteMember({ email: t.email("boss"), role: "owner" }), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE", "an admin invites an owner");
    const unknown = await o.organization.inviteMember({ email: t.email("boss"), role: "boss" });
    t.fails(unknown, 400, null, "an unknown role");
    t.equal(unknown.error.message, "ROLE_NOT_FOUND: boss", "an unknown role's message");
    t.fails(await o.organization.inviteMember({ email: t.email("none"), role: [] }), 400, "ROLE_NOT_FOUND", "no role");
    t.fails(await o.organization.inviteMember({ email: "not-an-email", role: "member" }), 400, "INVALID_EMAIL", "a bad email");
    t.fails(await o.organization.inviteMember({ email: t.email("team"), role: "member", teamId: "no-such-team" }), 400, "TEAM_NOT_FOUND", "an unknown team");
    t.fails(await o.organization.inviteMember({ email: t.email("team"), role: "member", teamId: "a,b" }), 400, "INVALID_TEAM_ID", "a team id with a comma");
    const toOwner = t.ok(await o.organization.inviteMember({ email: t.email("olive"), role: "owner" }), "an owner invites an owner");
    const olive = t.client({ plugins, browser: t.browser() });
    await signUp(t, olive, "olive");
    t.equal(t.ok(await olive.organization.acceptInvitation({ invitationId: toOwner.id }), "accept as owner").member.role, "owner", "second owner");
  }),

  scenario("list-user-invitations needs a verified email and lists the pending ones with the organization's name", async (t) => {
    const { c: o, org } = await owner(t, "vera");
    const second = t.ok(await o.organization.create({ name: "Beta", slug: slugOf(t, "beta"), keepCurrentActiveOrganization: true }), "create another");
    const unverified = t.client({ plugins, browser: t.browser() });
    await signUp(t, unverified, "uno");
    t.ok(await o.organization.inviteMember({ email: t.email("uno"), role: "member" }), "invite the unverified");
    t.fails(await unverified.organization.listUserInvitations(), 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION", "list-user-invitations unverified");
    t.fails(await t.client({ plugins, browser: t.browser() }).organization.listUserInvitations(), 400, null, "list-user-invitations signed out");

    const v = await verified(t, "vic");
    const first = t.ok(await o.organization.inviteMember({ email: t.email("vic"), role: "member" }), "invite to the first");
    const other = t.ok(await o.organization.inviteMember({ email: t.email("vic"), role: "admin", organizationId: second.id }), "invite to the second");
    const listed = t.ok(await v.organization.listUserInvitations(), "list-user-invitations");
    t.equal(listed.map((i) => [i.id, i.organizationName]).sort(), [[first.id, org.name], [other.id, "Beta"]].sort(), "pending invitations");
    t.fails(await v.organization.listUserInvitations({ query: { email: t.email("uno") } }), 400, null, "an email query");
    t.ok(await v.organization.acceptInvitation({ invitationId: first.id }), "accept one");
    t.equal(t.ok(await v.organization.listUserInvitations(), "list-user-invitations after accepting").map((i) => i.id), [other.id], "the pending one");
  }),

  scenario("members: list with paging, sorting and filters; roles; remove by id and email; leave", async (t) => {
    const { c: o, org, user } = await owner(t, "mona");
    const ada = await join(t, o, org.id, "ada", "admin");
    const max = await join(t, o, org.id, "max", "member");
    const ned = await join(t, o, org.id, "ned", "member");

    const all = t.ok(await o.organization.listMembers(), "list-members");
    t.equal([all.total, all.members.map((m) => m.user.email).sort()], [4, ["mona", "ada", "max", "ned"].map((l) => t.email(l)).sort()], "all members");
    // A page is defined only in a defined order: upstream pages without ORDER BY unless sortBy is given.
    const page = t.ok(await o.organization.listMembers({ query: { limit: 2, offset: 1, sortBy: "createdAt" } }), "a page");
    t.equal([page.total, page.members.map((m) => m.userId)], [4, [ada.member.userId, max.member.userId]], "limit 2 offset 1");
    const desc = t.ok(await o.organization.listMembers({ query: { sortBy: "createdAt", sortDirection: "desc" } }), "newest first");
    t.equal(desc.members.map((m) => m.userId), [ned.member.userId, max.member.userId, ada.member.userId, user.id], "sorted");
    const admins = t.ok(await o.organization.listMembers({ query: { filterField: "role", filterValue: "admin" } }), "filter role eq");
    t.equal([admins.total, admins.members.map((m) => m.userId)], [1, [ada.member.userId]], "the admin");
    const notMembers = t.ok(await o.organization.listMembers({ query: { filterField: "role", filterOperator: "ne", filterValue: "member", sortBy: "createdAt" } }), "filter role ne");
    t.equal(notMembers.total, 2, "owner and admin");
    t.equal(t.ok(await o.organization.listMembers({ query: { organizationSlug: org.slug, limit: 1 } }), "by slug").members.length, 1, "by slug");
    t.equal(t.ok(await max.c.organization.listMembers({ query: { organizationId: org.id } }), "a member lists").total, 4, "a member lists");

    t.equal(t.ok(await ada.c.organization.getActiveMemberRole({ query: { userId: max.member.userId } }), "another's role"), { role: "member" }, "max's role");
    const promoted = t.ok(await ada.c.organization.updateMemberRole({ memberId: max.member.id, role: "admin" }), "an admin promotes");
    t.equal([promoted.id, promoted.role], [max.member.id, "admin"], "promoted");
    t.equal(t.ok(await o.organization.updateMemberRole({ memberId: max.member.id, role: ["admin", "member"] }), "two roles").role, "admin,member", "roles joined");
    t.fails(await ned.c.organization.updateMemberRole({ memberId: max.member.id, role: "member" }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "a member changes a role");
    const ownerMember = all.members.find((m) => m.userId === user.id);
    t.fails(await ada.c.organization.updateMemberRole({ memberId: ownerMember.id, role: "member" }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "an admin changes the owner");
    t.fails(await ada.c.organization.updateMemberRole({ memberId: ned.member.id, role: "owner" }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "an admin makes an owner");
    const unknown = await o.organization.updateMemberRole({ memberId: ned.member.id, role: "boss" });
    t.fails(unknown, 400, "ROLE_NOT_FOUND", "an unknown role");
    t.equal(unknown.error.message, "ROLE_NOT_FOUND: boss", "an unknown role's message");
    t.fails(await o.organization.updateMemberRole({ memberId: ownerMember.id, role: "admin" }), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER", "the only owner steps down");
    t.fails(await o.organization.updateMemberRole({ memberId: "no-such-member", role: "admin" }), 400, "MEMBER_NOT_FOUND", "an unknown member");
    t.fails(await o.organization.updateMemberRole({ memberId: ned.member.id, role: "" }), 400, null, "an empty role");

    t.fails(await ned.c.organization.removeMember({ memberIdOrEmail: ada.member.id }), 401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER", "a member removes");
    t.fails(await ada.c.organization.removeMember({ memberIdOrEmail: t.email("mona") }), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "an admin removes the owner");
    t.fails(await o.organization.removeMember({ memberIdOrEmail: t.email("mona") }), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "the owner removes itself");
    t.fails(await o.organization.removeMember({ memberIdOrEmail: t.email("nobody") }), 400, "MEMBER_NOT_FOUND", "an unknown email");
    const byEmail = t.ok(await ada.c.organization.removeMember({ memberIdOrEmail: t.email("ned") }), "remove by email");
    t.equal(byEmail.member.user.email, t.email("ned"), "removed by email, with the user");
    const byID = t.ok(await o.organization.removeMember({ memberIdOrEmail: max.member.id, organizationId: org.id }), "remove by id");
    t.equal([byID.member.id, byID.member.user], [max.member.id, undefined], "removed by id, without the user");
    t.fails(await max.c.organization.listMembers(), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", "a removed member lists");
    t.fails(await max.c.organization.getActiveMember(), 400, "MEMBER_NOT_FOUND", "a removed member's active member");

    t.fails(await o.organization.leave({ organizationId: org.id }), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "the only owner leaves");
    const left = t.ok(await ada.c.organization.leave({ organizationId: org.id }), "an admin leaves");
    t.equal([left.id, left.user.email], [ada.member.id, t.email("ada")], "leave answer");
    t.equal((await sessionOf(t, ada.c)).session.activeOrganizationId, null, "no active organization after leaving");
    t.fails(await ada.c.organization.leave({ organizationId: org.id }), 400, "MEMBER_NOT_FOUND", "leave again");
    t.equal(t.ok(await o.organization.listMembers(), "list-members at the end").total, 1, "the owner alone");
  }),

  scenario("has-permission answers each default role's permissions", async (t) => {
    const { c: o, browser, org } = await owner(t, "paula");
    const admin = await join(t, o, org.id, "pete", "admin");
    const member = await join(t, o, org.id, "pam", "member");
    for (const [role, c] of [["owner", o], ["admin", admin.c], ["member", member.c]]) {
      for (const permissions of permissionChecks) {
        const r = t.ok(await c.organization.hasPermission({ permissions }), `${role} ${JSON.stringify(permissions)}`);
        t.equal(r.error, null, "error");
      }
    }
    t.equal(t.ok(await o.organization.hasPermission({ permission: { organization: ["update"] } }), "the deprecated permission"), { error: null, success: false }, "never granted");
    t.equal(t.ok(await member.c.organization.hasPermission({ permissions: { ac: ["read"] }, organizationId: org.id }), "by id").success, true, "member reads ac");
    const stranger = t.client({ plugins, browser: t.browser() });
    await signUp(t, stranger, "pax");
    t.fails(await stranger.organization.hasPermission({ permissions: { ac: ["read"] } }), 400, "NO_ACTIVE_ORGANIZATION", "no active organization");
    t.fails(await stranger.organization.hasPermission({ permissions: { ac: ["read"] }, organizationId: org.id }), 401, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "a non-member");
    t.status(await t.request("POST", "/organization/has-permission", { json: {}, browser }), 400, "VALIDATION_ERROR", "neither permissions nor permission");
  }),

  scenario("teams: create, list, update, join through an invitation, set-active-team, team members, list-user-teams, remove", async (t) => {
    const { c: o, org, user } = await owner(t, "tom");
    const defaultTeam = (await sessionOf(t, o)).session.activeTeamId;
    const red = t.ok(await o.organization.createTeam({ name: "Red" }), "create-team in the active organization");
    t.equal([red.name, red.organizationId], ["Red", org.id], "create-team answer");
    const blue = t.ok(await o.organization.createTeam({ name: "Blue", organizationId: org.id }), "create-team by id");
    t.equal(t.ok(await o.organization.listTeams(), "list-teams").map((x) => x.id).sort(), [defaultTeam, red.id, blue.id].sort(), "list-teams");
    t.equal(t.ok(await o.organization.listTeams({ query: { organizationId: org.id } }), "list-teams by id").length, 3, "by id");
    t.equal(t.ok(await o.organization.updateTeam({ teamId: red.id, data: { name: "Crimson" } }), "update-team").name, "Crimson", "renamed");
    t.fails(await o.organization.updateTeam({ teamId: "no-such-team", data: { name: "X" } }), 400, "TEAM_NOT_FOUND", "update an unknown team");

    const kim = await join(t, o, org.id, "kim", "member", { teamId: red.id });
    let s = await sessionOf(t, kim.c);
    t.equal([s.session.activeOrganizationId, s.session.activeTeamId], [org.id, red.id], "the invitation's one team is active");
    t.equal(t.ok(await kim.c.organization.listTeamMembers(), "list-team-members of the active team").map((m) => m.userId), [kim.member.userId], "red's members");
    t.equal(t.ok(await kim.c.organization.listUserTeams(), "list-user-teams").map((x) => x.id), [red.id], "kim's teams");
    const added = t.ok(await o.organization.addTeamMember({ teamId: blue.id, userId: kim.member.userId }), "add-team-member");
    t.equal([added.teamId, added.userId], [blue.id, kim.member.userId], "add-team-member answer");
    t.equal(t.ok(await o.organization.addTeamMember({ teamId: blue.id, userId: kim.member.userId }), "add-team-member again").id, added.id, "the same membership");
    t.fails(await o.organization.addTeamMember({ teamId: blue.id, userId: "no-such-user" }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "add a non-member");
    t.equal(t.ok(await kim.c.organization.listTeamMembers({ query: { teamId: blue.id } }), "list-team-members by id").length, 1, "blue's members");
    t.fails(await o.organization.listTeamMembers({ query: { teamId: blue.id } }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "list-team-members of a team one is not in");
    t.equal(t.ok(await o.organization.listUserTeams({ query: { userId: kim.member.userId } }), "another's teams").length, 2, "kim's teams, read by the owner");
    t.fails(await kim.c.organization.listUserTeams({ query: { userId: user.id } }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "a member reads another's teams");

    t.equal(t.ok(await kim.c.organization.setActiveTeam({ teamId: blue.id }), "set-active-team").id, blue.id, "set-active-team answer");
    t.equal((await sessionOf(t, kim.c)).session.activeTeamId, blue.id, "activeTeamId");
    t.fails(await kim.c.organization.setActiveTeam({ teamId: defaultTeam }), 403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "a team one is not in");
    t.fails(await kim.c.organization.setActiveTeam({ teamId: "no-such-team" }), 400, "TEAM_NOT_FOUND", "an unknown team");
    t.equal(t.ok(await kim.c.organization.setActiveTeam({ teamId: null }), "set-active-team null"), null, "null answer");
    t.equal((await sessionOf(t, kim.c)).session.activeTeamId, null, "no active team");
    t.fails(await kim.c.organization.listTeamMembers(), 400, "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM", "list-team-members with none active");

    t.fails(await kim.c.organization.createTeam({ name: "Mine" }), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION", "a member creates a team");
    t.fails(await kim.c.organization.updateTeam({ teamId: blue.id, data: { name: "Mine" } }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM", "a member renames a team");
    t.fails(await kim.c.organization.removeTeam({ teamId: blue.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION", "a member removes a team");
    t.fails(await kim.c.organization.addTeamMember({ teamId: defaultTeam, userId: kim.member.userId }), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER", "a member adds to a team");
    t.fails(await kim.c.organization.removeTeamMember({ teamId: blue.id, userId: kim.member.userId }), 403, "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER", "a member removes from a team");

    t.equal(t.ok(await o.organization.removeTeamMember({ teamId: blue.id, userId: kim.member.userId }), "remove-team-member"), { message: "Team member removed successfully." }, "remove-team-member answer");
    t.fails(await o.organization.removeTeamMember({ teamId: blue.id, userId: kim.member.userId }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "remove-team-member again");
    t.fails(await o.organization.removeTeam({ teamId: defaultTeam }), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM", "remove the active team");
    t.equal(t.ok(await o.organization.removeTeam({ teamId: blue.id }), "remove-team"), { message: "Team removed successfully." }, "remove-team answer");
    t.fails(await o.organization.removeTeam({ teamId: blue.id }), 400, "TEAM_NOT_FOUND", "remove-team again");
    const full = t.ok(await o.organization.getFullOrganization(), "get-full-organization");
    t.equal(full.teams.map((x) => [x.id, x.memberCount]).sort(), [[defaultTeam, 1], [red.id, 1]].sort(), "teams with their member counts");
    t.ok(await o.organization.setActiveTeam({ teamId: null }), "clear the owner's active team");
    t.ok(await o.organization.removeTeam({ teamId: red.id, organizationId: org.id }), "remove-team by organization id");
    t.fails(await o.organization.removeTeam({ teamId: defaultTeam }), 400, "UNABLE_TO_REMOVE_LAST_TEAM", "remove the last team");
    t.equal(t.ok(await o.organization.createTeam({ name: "" }), "create-team with an empty name").name, "", "an empty name is taken");

    const stranger = t.client({ plugins, browser: t.browser() });
    await signUp(t, stranger, "tess");
    t.fails(await stranger.organization.listTeams({ query: { organizationId: org.id } }), 403, "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION", "a stranger lists teams");
    t.fails(await stranger.organization.listTeams(), 400, "NO_ACTIVE_ORGANIZATION", "list-teams with none active");
    t.fails(await stranger.organization.createTeam({ name: "X", organizationId: org.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION", "a stranger creates a team");
    t.fails(await stranger.organization.updateTeam({ teamId: defaultTeam, data: { name: "X", organizationId: org.id } }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM", "a stranger renames a team");
    t.fails(await stranger.organization.removeTeam({ teamId: defaultTeam, organizationId: org.id }), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM", "a stranger removes a team");
    t.fails(await stranger.organization.listTeamMembers({ query: { teamId: defaultTeam } }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "a stranger lists a team's members");
    t.fails(await stranger.organization.addTeamMember({ teamId: defaultTeam, userId: user.id, organizationId: org.id }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "a stranger adds to a team");
    t.equal(t.ok(await stranger.organization.listUserTeams(), "list-user-teams of no team"), [], "no teams");
  }),

  scenario("a non-member is refused by every organization endpoint", async (t) => {
    const { c: o, org } = await owner(t, "nora");
    const inv = t.ok(await o.organization.inviteMember({ email: t.email("someone"), role: "member" }), "invite");
    const x = t.client({ plugins, browser: t.browser() });
    await signUp(t, x, "xena");
    const organizationId = org.id;
    t.fails(await x.organization.update({ organizationId, data: { name: "Mine" } }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "update");
    t.fails(await x.organization.delete({ organizationId }), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "delete");
    t.fails(await x.organization.listMembers({ query: { organizationId } }), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", "list-members");
    t.fails(await x.organization.getActiveMemberRole({ query: { organizationId } }), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", "get-active-member-role");
    t.fails(await x.organization.removeMember({ organizationId, memberIdOrEmail: t.email("nora") }), 400, "MEMBER_NOT_FOUND", "remove-member");
    t.fails(await x.organization.updateMemberRole({ organizationId, memberId: org.members[0].id, role: "member" }), 400, "MEMBER_NOT_FOUND", "update-member-role");
    t.fails(await x.organization.leave({ organizationId }), 400, "MEMBER_NOT_FOUND", "leave");
    t.fails(await x.organization.cancelInvitation({ invitationId: inv.id }), 400, "MEMBER_NOT_FOUND", "cancel-invitation");
    t.fails(await x.organization.listMembers(), 400, "NO_ACTIVE_ORGANIZATION", "list-members with none active");
    t.fails(await x.organization.removeMember({ memberIdOrEmail: t.email("nora") }), 400, "NO_ACTIVE_ORGANIZATION", "remove-member with none active");
    t.fails(await x.organization.update({ data: { name: "Mine" } }), 400, "ORGANIZATION_NOT_FOUND", "update with none active");
    t.fails(await x.organization.inviteMember({ email: t.email("y"), role: "member" }), 400, "ORGANIZATION_NOT_FOUND", "invite-member with none active");
    const anon = t.client({ plugins, browser: t.browser() });
    t.fails(await anon.organization.list(), 401, "UNAUTHORIZED", "list signed out");
    t.fails(await anon.organization.create({ name: "X", slug: slugOf(t, "x") }), 401, null, "create signed out");
    t.fails(await anon.organization.checkSlug({ slug: "x" }), 401, "UNAUTHORIZED", "check-slug signed out");
    t.fails(await anon.organization.getFullOrganization(), 401, "UNAUTHORIZED", "get-full-organization signed out");
    t.fails(await anon.organization.acceptInvitation({ invitationId: inv.id }), 401, "UNAUTHORIZED", "accept-invitation signed out");
  }),

  deviation("org-update-data-keys", "update and update-team refuse keys their data does not take", async (t) => {
    const { c, org } = await owner(t, "dana");
    const team = t.ok(await c.organization.createTeam({ name: "Red" }), "create-team");
    const unknown = await c.organization.update({ data: { name: "Renamed", color: "red" } });
    const id = await c.organization.update({ data: { id: "another-id" } });
    const teamKeys = await c.organization.updateTeam({ teamId: team.id, data: { name: "Blue", memberCount: 9 } });
    const after = t.ok(await c.organization.getFullOrganization(), "get-full-organization");
    if (t.ours) {
      t.fails(unknown, 400, "VALIDATION_ERROR", "an unknown key");
      t.equal(unknown.error.message, '[body.data] Unrecognized key: "color"', "message");
      t.fails(id, 400, "VALIDATION_ERROR", "the id");
      t.fails(teamKeys, 400, "VALIDATION_ERROR", "update-team with memberCount");
      t.equal([after.id, after.name, after.teams.map((x) => x.name)], [org.id, "Acme", ["Acme", "Red"]], "nothing changed");
    } else {
      t.equal(t.ok(unknown, "an unknown key").name, "Renamed", "renamed, the unknown key dropped");
      t.fails(id, 500, null, "the id");
      t.equal(t.ok(teamKeys, "update-team with memberCount").name, "Blue", "renamed, memberCount dropped");
      t.equal([after.id, after.name, after.teams.map((x) => [x.name, x.memberCount])], [org.id, "Renamed", [["Acme", 1], ["Blue", 0]]], "renamed");
    }
  }),

  deviation("org-update-empty-data", "update with empty data answers the organization", async (t) => {
    const { c, org } = await owner(t, "edna");
    const r = await c.organization.update({ data: {} });
    if (t.ours) t.equal(t.ok(r, "update with {}"), { ...org, members: undefined, metadata: undefined }, "the organization, unchanged");
    else t.fails(r, 500, null, "update with {}");
  }),

  deviation("list-members-bad-query", "list-members refuses fields and values it cannot use with 400", async (t) => {
    const { c } = await owner(t, "lena");
    for (const query of [{ sortBy: "password" }, { filterField: "email", filterValue: "x" }, { filterField: "createdAt", filterValue: "x" }, { filterField: "createdAt", filterOperator: "contains", filterValue: "2020" }]) {
      const r = await c.organization.listMembers({ query });
      if (t.ours) t.fails(r, 400, "VALIDATION_ERROR", JSON.stringify(query));
      else t.fails(r, 500, null, JSON.stringify(query));
    }
  }),

  deviation("org-lists-uncapped", "lists of organizations and teams are not cut at 100", async (t) => {
    const { c } = await owner(t, "cato");
    for (let i = 1; i <= 100; i++) t.ok(await c.organization.createTeam({ name: `Team ${i}` }), `create-team ${i}`);
    for (let i = 1; i <= 100; i++) t.ok(await c.organization.create({ name: `Org ${i}`, slug: slugOf(t, `org-${i}`), keepCurrentActiveOrganization: true }), `create ${i}`);
    const want = t.ours ? 101 : 100;
    t.equal(t.ok(await c.organization.listTeams(), "list-teams").length, want, "list-teams of 101 teams");
    t.equal(t.ok(await c.organization.getFullOrganization(), "get-full-organization").teams.length, want, "get-full-organization's teams of 101");
    t.equal(t.ok(await c.organization.list(), "list").length, want, "list of 101 organizations");
  }),

  deviation("accept-invitation-as-member", "accepting an invitation to an organization one belongs to is refused", async (t) => {
    const { c: o, org } = await owner(t, "abe");
    const mel = await join(t, o, org.id, "mel");
    // An invitation to another address, which the member then makes theirs.
    const inv = t.ok(await o.organization.inviteMember({ email: t.email("mel.new"), role: "admin" }), "invite another address");
    t.ok(await mel.c.changeEmail({ newEmail: t.email("mel.new") }), "change-email");
    const { url } = await t.mail("verify-email", t.email("mel.new"));
    const res = await fetch(url, { redirect: "manual" });
    t.assert(res.status < 400, `verify-email: ${res.status}`);
    t.equal((await sessionOf(t, mel.c)).user.email, t.email("mel.new"), "the member's new address");
    const r = await mel.c.organization.acceptInvitation({ invitationId: inv.id });
    const members = t.ok(await o.organization.listMembers(), "list-members");
    const invitations = t.ok(await o.organization.listInvitations(), "list-invitations");
    if (t.ours) {
      t.fails(r, 400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", "accept");
      t.equal(members.members.map((m) => m.role).sort(), ["member", "owner"], "one membership");
      t.equal(invitations.find((i) => i.id === inv.id).status, "pending", "the invitation stays pending");
    } else {
      t.ok(r, "accept");
      t.equal(members.members.map((m) => m.role).sort(), ["admin", "member", "owner"], "a second membership of the same user");
      t.equal(invitations.find((i) => i.id === inv.id).status, "accepted", "the invitation is accepted");
    }
  }),

  deviation("org-delete-clears-sessions", "deleting an organization clears it from every session", async (t) => {
    const { c: o, org } = await owner(t, "dora");
    const defaultTeam = (await sessionOf(t, o)).session.activeTeamId;
    const other = t.client({ plugins, browser: t.browser() });
    t.ok(await other.signIn.email({ email: t.email("dora"), password }), "the owner signs in on another device");
    t.ok(await other.organization.setActive({ organizationId: org.id }), "set-active there");
    const dan = await join(t, o, org.id, "dan");
    t.ok(await o.organization.delete({ organizationId: org.id }), "delete");
    const active = async (c) => {
      const s = (await sessionOf(t, c)).session;
      return [s.activeOrganizationId, s.activeTeamId];
    };
    const [mine, otherDevice, member] = [await active(o), await active(other), await active(dan.c)];
    if (t.ours) {
      t.equal([mine, otherDevice, member], [[null, null], [null, null], [null, null]], "no session keeps the organization or its team");
    } else {
      t.equal(mine, [null, defaultTeam], "the deleting session keeps the deleted team");
      t.equal([otherDevice, member], [[org.id, null], [org.id, null]], "other sessions keep the deleted organization");
    }
  }),

  deviation("role-list-wording", "a role or team id that is neither a string nor an array is refused in other words", async (t) => {
    const { c } = await owner(t, "walt");
    const answers = [
      await c.organization.inviteMember({ email: t.email("x"), role: 5 }),
      await c.organization.inviteMember({ email: t.email("x"), role: "member", teamId: 5 }),
      await c.organization.updateMemberRole({ memberId: "x", role: 5 }),
    ];
    const fields = ["role", "teamId", "role"];
    answers.forEach((r, i) => {
      t.fails(r, 400, "VALIDATION_ERROR", fields[i]);
      const want = t.ours ? `[body.${fields[i]}] Invalid input: expected string or array, received number` : `[body.${fields[i]}] Invalid input`;
      t.equal(r.error.message, want, `${fields[i]} message`);
    });
  }),

  deviation("invitation-empty-team-id", "an invitation's empty team id means no team", async (t) => {
    const { c } = await owner(t, "tia");
    const empty = t.ok(await c.organization.inviteMember({ email: t.email("e1"), role: "member", teamId: "" }), 'teamId ""');
    const inArray = await c.organization.inviteMember({ email: t.email("e2"), role: "member", teamId: [""] });
    if (t.ours) {
      t.equal(empty.teamId, null, "no team");
      t.equal(t.ok(inArray, 'teamId [""]').teamId, null, "no team");
    } else {
      t.equal(empty.teamId, "", "an empty team list stored");
      t.fails(inArray, 400, "TEAM_NOT_FOUND", 'teamId [""]');
    }
  }),

  interop("an organization made through one server, with a member and a team, is used through the other", async (t) => {
    const { c: ownerOnA, browser, org } = await owner(t, "oscar", { server: t.a, metadata: { plan: "pro" } });
    const ownerOnB = t.client({ server: t.b, plugins, browser });
    const team = t.ok(await ownerOnA.organization.createTeam({ name: "Ops" }), "create-team on a");
    const invitation = t.ok(await ownerOnA.organization.inviteMember({ email: t.email("mo"), role: "admin", teamId: team.id }), "invite on a");
    t.equal((await t.mail("organization-invitation", t.email("mo"), { server: t.a })).id, invitation.id, "a's invitation mail");
    const moBrowser = t.browser();
    const moOnB = t.client({ server: t.b, plugins, browser: moBrowser });
    const moOnA = t.client({ server: t.a, plugins, browser: moBrowser });
    await signUp(t, moOnB, "mo");
    t.equal(t.ok(await moOnB.organization.getInvitation({ query: { id: invitation.id } }), "get-invitation on b").organizationSlug, org.slug, "a's invitation read on b");
    const { member } = t.ok(await moOnB.organization.acceptInvitation({ invitationId: invitation.id }), "accept on b");
    const s = await sessionOf(t, moOnA, "get-session on a");
    t.equal([s.session.activeOrganizationId, s.session.activeTeamId], [org.id, team.id], "b's active organization and team, read on a");

    t.equal(t.ok(await ownerOnB.organization.list(), "list on b").map((o) => o.id), [org.id], "list on b");
    const full = t.ok(await ownerOnB.organization.getFullOrganization({ query: { organizationId: org.id } }), "get-full-organization on b");
    t.equal([full.metadata, full.members.length, full.teams.length, full.invitations.map((i) => i.status)], ['{"plan":"pro"}', 2, 2, ["accepted"]], "the organization on b");
    t.equal(t.ok(await ownerOnB.organization.setActive({ organizationId: org.id }), "set-active on b").id, org.id, "set-active on b");
    t.equal(t.ok(await ownerOnB.organization.hasPermission({ permissions: { organization: ["delete"] } }), "owner's has-permission on b").success, true, "the owner deletes");
    t.equal(t.ok(await moOnA.organization.hasPermission({ permissions: { member: ["delete"] } }), "admin's has-permission on a").success, true, "the admin removes members");
    t.equal(t.ok(await moOnA.organization.hasPermission({ permissions: { organization: ["delete"] } }), "admin's has-permission on a").success, false, "the admin does not delete");
    t.equal(t.ok(await moOnA.organization.listTeamMembers(), "list-team-members on a").map((m) => m.userId), [member.userId], "b's team member on a");
    t.equal(t.ok(await ownerOnB.organization.updateMemberRole({ memberId: member.id, role: "member" }), "update-member-role on b").role, "member", "demoted on b");
    t.equal(t.ok(await moOnA.organization.getActiveMemberRole(), "get-active-member-role on a"), { role: "member" }, "b's role change on a");
    t.equal(t.ok(await moOnA.organization.hasPermission({ permissions: { member: ["delete"] } }), "member's has-permission on a").success, false, "the member does not remove members");
    t.equal(t.ok(await ownerOnA.organization.listMembers(), "list-members on a").members.map((m) => m.role).sort(), ["member", "owner"], "list-members on a");
  }),
];
