// The twoFactor and organization namespaces against a real sidecar on a fresh database, through
// our client and through upstream's (better-auth/client with its plugins): the calls an app makes,
// the {data, error} they return, and the client-side parts of upstream's twoFactorClient
// (onTwoFactorRedirect) and organizationClient (checkRolePermission). Both clients must pass the
// same assertions. TOTP codes are computed here from the otpauth URI, independently of the
// server; mailed codes and invitation links are read from the sidecar's MAIL_LOG.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as ours from "../dist/index.js";
import { cookieFetch, eventually, missingTools, nextTotpStep, startSidecar, totp, totpKey, totpStep, upstreamClient } from "./harness.js";

const skip = await missingTools("go", "psql");
const upstream = skip ? null : await upstreamClient();

const password = "password1234";
const backupCodeShape = /^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/;

describe("plugin namespaces against the sidecar", { skip, concurrency: true }, () => {
  let sidecar;
  before(async () => {
    sidecar = await startSidecar();
  });
  after(async () => {
    await sidecar?.stop();
  });

  let n = 0;
  const email = () => `plug${++n}-${Date.now()}@example.com`;

  for (const [variant, lib] of [["authsidecar", ours], ["upstream", upstream]]) {
    describe(`with the ${variant} client`, { skip: !lib && "upstream's client is not installed" }, () => {
      /** newClient is one browser: its own cookie jar, and the twoFactor redirects it was handed. */
      const newClient = () => {
        const jar = cookieFetch(sidecar.appOrigin);
        const redirects = [];
        const client = lib.createAuthClient({
          baseURL: sidecar.url,
          fetchOptions: { customFetchImpl: jar },
          plugins: [lib.twoFactorClient({ onTwoFactorRedirect: (ctx) => redirects.push(ctx) }), lib.organizationClient()],
        });
        return { client, jar: jar.jar, redirects };
      };
      const signUp = async (name) => {
        const b = newClient();
        const addr = email();
        const up = await b.client.signUp.email({ email: addr, password, name });
        assert.equal(up.error, null);
        return { ...b, email: addr, user: up.data.user };
      };

      describe("twoFactor", () => {
        /** enrolled signs up a user and turns TOTP on with the code of the current step. */
        async function enrolled(name) {
          const u = await signUp(name);
          const enable = await u.client.twoFactor.enable({ password });
          assert.equal(enable.error, null);
          const key = totpKey(enable.data.totpURI);
          const step = totpStep();
          assert.equal((await u.client.twoFactor.verifyTotp({ code: totp(key, step) })).error, null);
          return { ...u, key, step, backupCodes: enable.data.backupCodes, totpURI: enable.data.totpURI };
        }

        /** signIn signs a fresh browser in with the password; two-factor users stop at the challenge. */
        async function signIn(addr) {
          const b = newClient();
          const res = await b.client.signIn.email({ email: addr, password });
          assert.equal(res.error, null);
          return { ...b, res };
        }

        it("enables TOTP with a URI and backup codes, and turns it on with a computed code", async () => {
          const u = await signUp("Tess Otp");
          const wrongPassword = await u.client.twoFactor.enable({ password: "not-my-password" });
          assert.equal(wrongPassword.error.status, 400);
          assert.equal(wrongPassword.error.code, "INVALID_PASSWORD");

          const { data, error } = await u.client.twoFactor.enable({ password });
          assert.equal(error, null);
          assert.deepEqual(Object.keys(data), ["method", "totpURI", "backupCodes"]);
          assert.equal(data.method, "totp");
          assert.equal(data.totpURI.split("?")[0], `otpauth://totp/Better%20Auth:${encodeURIComponent(u.email)}`);
          const uri = new URL(data.totpURI);
          assert.deepEqual(
            [...uri.searchParams.keys()].filter((k) => k !== "secret"),
            ["issuer", "digits", "period"],
          );
          assert.deepEqual([uri.searchParams.get("issuer"), uri.searchParams.get("digits"), uri.searchParams.get("period")], ["Better Auth", "6", "30"]);
          // As upstream two-factor/totp/index.ts: the key is the UTF-8 text of a 32-character secret, not base32 random bytes.
          assert.match(totpKey(data.totpURI).toString("utf8"), /^[A-Za-z0-9_-]{32}$/);
          assert.equal(data.backupCodes.length, 10);
          assert.ok(data.backupCodes.every((c) => backupCodeShape.test(c)), data.backupCodes.join(" "));

          // Two-factor is on only after the first code: until then sign-in is not intercepted.
          assert.equal((await u.client.getSession()).data.user.twoFactorEnabled, false);
          const key = totpKey(data.totpURI);
          const step = totpStep();
          const wrong = await u.client.twoFactor.verifyTotp({ code: totp(key, step + 10) });
          assert.equal(wrong.error.status, 401);
          assert.equal(wrong.error.code, "INVALID_CODE");
          assert.equal(wrong.error.message, "Invalid code");

          const tokenBefore = u.jar.get("better-auth.session_token");
          const ok = await u.client.twoFactor.verifyTotp({ code: totp(key, step) });
          assert.equal(ok.error, null);
          assert.deepEqual(Object.keys(ok.data).sort(), ["token", "user"]);
          assert.equal(ok.data.user.id, u.user.id);
          assert.notEqual(u.jar.get("better-auth.session_token"), tokenBefore, "turning two-factor on rotates the session");
          assert.equal((await u.client.getSession()).data.user.twoFactorEnabled, true);

          // The URI is available again with the password, and the secret stays the same.
          assert.deepEqual((await u.client.twoFactor.getTotpUri({ password })).data, { totpURI: data.totpURI });
          assert.equal((await u.client.twoFactor.getTotpUri({ password: "nope-nope" })).error.code, "INVALID_PASSWORD");
          // A second enrolment cannot replace the verified secret.
          assert.equal((await u.client.twoFactor.enable({ password })).error.code, "TOTP_ALREADY_ENABLED");
        });

        it("intercepts sign-in with twoFactorRedirect, calls onTwoFactorRedirect, and verifies a TOTP code", async () => {
          const u = await enrolled("Theo Redirect");
          const b = await signIn(u.email);
          assert.deepEqual(b.res.data, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
          assert.deepEqual(b.redirects, [{ twoFactorMethods: ["totp", "otp"] }]);
          assert.equal(b.jar.has("better-auth.session_token"), false, "no session before the second factor");
          assert.ok(b.jar.has("better-auth.two_factor"));
          assert.deepEqual(await b.client.getSession(), { data: null, error: null });

          const wrong = await b.client.twoFactor.verifyTotp({ code: totp(u.key, u.step + 10) });
          assert.equal(wrong.error.code, "INVALID_CODE");
          // The enrolment took this step's code; a later one is needed.
          const next = nextTotpStep(u.step);
          const ok = await b.client.twoFactor.verifyTotp({ code: totp(u.key, next) });
          assert.equal(ok.error, null);
          assert.equal(ok.data.user.email, u.email);
          assert.equal(typeof ok.data.token, "string");
          assert.equal(b.jar.has("better-auth.two_factor"), false);
          assert.equal((await b.client.getSession()).data.session.token, ok.data.token);

          // Deliberately stricter than upstream: a code is taken once, so a replay is refused.
          const c = await signIn(u.email);
          assert.equal((await c.client.twoFactor.verifyTotp({ code: totp(u.key, next) })).error.code, "INVALID_CODE");

          // Without the challenge cookie there is nothing to verify.
          const stranger = newClient();
          const noCookie = await stranger.client.twoFactor.verifyTotp({ code: "123456" });
          assert.equal(noCookie.error.status, 401);
          assert.equal(noCookie.error.code, "INVALID_TWO_FACTOR_COOKIE");
        });

        it("signs in with an emailed code, then trusts the device and skips the second factor", async () => {
          const u = await enrolled("Otto Mail");
          const b = await signIn(u.email);
          assert.deepEqual((await b.client.twoFactor.sendOtp()).data, { status: true });
          const { otp } = await sidecar.mail.wait("two-factor-otp", u.email);
          assert.match(otp, /^[0-9]{6}$/);
          const wrong = await b.client.twoFactor.verifyOtp({ code: otp === "000000" ? "111111" : "000000" });
          assert.equal(wrong.error.status, 401);
          assert.equal(wrong.error.code, "INVALID_CODE");
          const ok = await b.client.twoFactor.verifyOtp({ code: otp, trustDevice: true });
          assert.equal(ok.error, null);
          assert.equal(ok.data.user.id, u.user.id);
          assert.ok(b.jar.has("better-auth.trust_device"));

          // The trusted browser signs in with the password alone; the cookie is rotated.
          const trusted = b.jar.get("better-auth.trust_device");
          await b.client.signOut();
          b.redirects.length = 0;
          const again = await b.client.signIn.email({ email: u.email, password });
          assert.equal(again.error, null);
          assert.equal(again.data.user.id, u.user.id);
          assert.equal(again.data.twoFactorRedirect, undefined);
          assert.deepEqual(b.redirects, []);
          assert.ok(b.jar.has("better-auth.session_token"));
          assert.notEqual(b.jar.get("better-auth.trust_device"), trusted);
        });

        it("takes each backup code once and replaces them all on request", async () => {
          const u = await enrolled("Bea Backup");
          const [first, second] = u.backupCodes;
          const b = await signIn(u.email);
          const ok = await b.client.twoFactor.verifyBackupCode({ code: first });
          assert.equal(ok.error, null);
          assert.equal(ok.data.user.id, u.user.id);
          assert.equal((await b.client.getSession()).data.user.id, u.user.id);

          const c = await signIn(u.email);
          const reused = await c.client.twoFactor.verifyBackupCode({ code: first });
          assert.equal(reused.error.status, 401);
          assert.equal(reused.error.code, "INVALID_BACKUP_CODE");
          assert.equal(reused.error.message, "Invalid backup code");

          const fresh = await u.client.twoFactor.generateBackupCodes({ password });
          assert.equal(fresh.error, null);
          assert.equal(fresh.data.status, true);
          assert.equal(fresh.data.backupCodes.length, 10);
          assert.ok(fresh.data.backupCodes.every((code) => backupCodeShape.test(code)));
          assert.equal((await c.client.twoFactor.verifyBackupCode({ code: second })).error.code, "INVALID_BACKUP_CODE", "old codes are gone");
          assert.equal((await c.client.twoFactor.verifyBackupCode({ code: fresh.data.backupCodes[0] })).error, null);
          assert.equal((await c.client.getSession()).data.user.id, u.user.id);
        });

        it("turns two-factor off with the password, after which sign-in is direct", async () => {
          const u = await enrolled("Dora Disable");
          assert.equal((await u.client.twoFactor.disable({ password: "not-my-password" })).error.code, "INVALID_PASSWORD");
          assert.deepEqual((await u.client.twoFactor.disable({ password })).data, { status: true });
          assert.equal((await u.client.getSession()).data.user.twoFactorEnabled, false);
          const b = await signIn(u.email);
          assert.equal(b.res.data.user.id, u.user.id);
          assert.deepEqual(b.redirects, []);

          const notOn = await u.client.twoFactor.generateBackupCodes({ password });
          assert.equal(notOn.error.status, 400);
          assert.equal(notOn.error.code, "TWO_FACTOR_NOT_ENABLED");
          assert.equal((await u.client.twoFactor.getTotpUri({ password })).error.code, "TOTP_NOT_ENABLED");
        });

        it("refreshes useSession's store after a /two-factor/ call", { skip: variant !== "authsidecar" && "our session store only" }, async () => {
          const u = await signUp("Sam Store");
          // Enabled before anyone listens: a refetch still in flight with the old cookie when the
          // verification rotates the session would be answered by clearing the new cookie.
          const { data } = await u.client.twoFactor.enable({ password });
          const store = u.client.$session;
          const unsubscribe = store.subscribe(() => {});
          try {
            await store.refetch();
            assert.equal(store.get().data.user.twoFactorEnabled, false);
            await u.client.twoFactor.verifyTotp({ code: totp(totpKey(data.totpURI)) });
            await eventually(() => assert.equal(store.get().data?.user.twoFactorEnabled, true), 10_000);
          } finally {
            unsubscribe();
          }
        });
      });

      describe("organization", () => {
        /** withOrg signs up an owner who creates an organization (the active one, with a default team). */
        async function withOrg(name) {
          const owner = await signUp(`${name} Owner`);
          const slug = `${name.toLowerCase()}-${n}-${Date.now()}`;
          const created = await owner.client.organization.create({ name, slug });
          assert.equal(created.error, null);
          return { owner, org: created.data };
        }

        /** join invites a new user into the owner's active organization and has them accept the mailed invitation. */
        async function join(owner, name, role = "member") {
          const u = await signUp(name);
          const inv = await owner.client.organization.inviteMember({ email: u.email, role });
          assert.equal(inv.error, null);
          const mail = await sidecar.mail.wait("organization-invitation", u.email);
          assert.equal(mail.id, inv.data.id);
          const accepted = await u.client.organization.acceptInvitation({ invitationId: mail.id });
          assert.equal(accepted.error, null);
          return { ...u, member: accepted.data.member, invitation: inv.data };
        }

        it("creates, lists and activates organizations", async () => {
          const owner = await signUp("Olga Owner");
          const slug = `acme-${Date.now()}`;
          const created = await owner.client.organization.create({ name: "Acme", slug, metadata: { plan: "pro" } });
          assert.equal(created.error, null);
          const org = created.data;
          assert.deepEqual(Object.keys(org), ["name", "slug", "logo", "createdAt", "metadata", "id", "members"]);
          assert.deepEqual({ name: org.name, slug: org.slug, logo: org.logo, metadata: org.metadata }, { name: "Acme", slug, logo: null, metadata: { plan: "pro" } });
          assert.ok(org.createdAt instanceof Date);
          assert.equal(org.members.length, 1);
          assert.deepEqual({ userId: org.members[0].userId, role: org.members[0].role }, { userId: owner.user.id, role: "owner" });
          assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, org.id, "a new organization becomes the active one");

          const taken = await owner.client.organization.checkSlug({ slug });
          assert.equal(taken.error.status, 400);
          assert.equal(taken.error.code, "ORGANIZATION_SLUG_ALREADY_TAKEN");
          assert.deepEqual((await owner.client.organization.checkSlug({ slug: `${slug}-free` })).data, { status: true });
          assert.equal((await owner.client.organization.create({ name: "Acme again", slug })).error.code, "ORGANIZATION_ALREADY_EXISTS");

          const other = await owner.client.organization.create({ name: "Beta", slug: `${slug}-beta`, keepCurrentActiveOrganization: true });
          assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, org.id);
          const list = await owner.client.organization.list();
          assert.deepEqual(list.data.map((o) => o.slug).sort(), [slug, `${slug}-beta`]);
          assert.equal(list.data.find((o) => o.id === org.id).metadata, '{"plan":"pro"}', "list sends metadata as the stored string, as upstream");

          const active = await owner.client.organization.setActive({ organizationId: other.data.id });
          assert.equal(active.error, null);
          assert.equal(active.data.id, other.data.id);
          assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, other.data.id);
          assert.equal((await owner.client.organization.getFullOrganization()).data.name, "Beta");
          const bySlug = await owner.client.organization.getFullOrganization({ query: { organizationSlug: slug } });
          assert.equal(bySlug.data.id, org.id);

          assert.equal((await owner.client.organization.setActive({ organizationId: null })).data, null);
          assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, null);
          assert.equal((await owner.client.organization.getFullOrganization()).data, null);

          const stranger = await signUp("Sid Stranger");
          const refused = await stranger.client.organization.getFullOrganization({ query: { organizationId: org.id } });
          assert.equal(refused.error.status, 403);
          assert.equal(refused.error.code, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION");
          assert.equal((await stranger.client.organization.setActive({ organizationId: org.id })).error.status, 403);
        });

        it("invites a member who accepts by the mailed invitation, then changes roles and removes members", async () => {
          const { owner, org } = await withOrg("Invitee");
          const bob = await signUp("Bob Member");
          const inv = await owner.client.organization.inviteMember({ email: bob.email.toUpperCase(), role: "member" });
          assert.equal(inv.error, null);
          assert.deepEqual(
            { email: inv.data.email, role: inv.data.role, status: inv.data.status, organizationId: inv.data.organizationId, inviterId: inv.data.inviterId },
            { email: bob.email, role: "member", status: "pending", organizationId: org.id, inviterId: owner.user.id },
          );
          assert.ok(inv.data.expiresAt instanceof Date);
          const again = await owner.client.organization.inviteMember({ email: bob.email, role: "member" });
          assert.equal(again.error.code, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION");

          const mail = await sidecar.mail.wait("organization-invitation", bob.email);
          assert.equal(mail.id, inv.data.id);
          assert.equal(mail.url, `${sidecar.appOrigin}/accept-invitation/${inv.data.id}`);
          const seen = await bob.client.organization.getInvitation({ query: { id: mail.id } });
          assert.equal(seen.error, null);
          assert.deepEqual(
            { organizationName: seen.data.organizationName, organizationSlug: seen.data.organizationSlug, inviterEmail: seen.data.inviterEmail },
            { organizationName: "Invitee", organizationSlug: org.slug, inviterEmail: owner.email },
          );
          const pending = await owner.client.organization.listInvitations();
          assert.deepEqual(pending.data.map((i) => [i.id, i.status]), [[inv.data.id, "pending"]]);

          const carol = await signUp("Carol Wrong");
          const notYours = await carol.client.organization.acceptInvitation({ invitationId: mail.id });
          assert.equal(notYours.error.status, 403);
          assert.equal(notYours.error.code, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION");

          const accepted = await bob.client.organization.acceptInvitation({ invitationId: mail.id });
          assert.equal(accepted.error, null);
          assert.equal(accepted.data.invitation.status, "accepted");
          assert.deepEqual({ userId: accepted.data.member.userId, role: accepted.data.member.role }, { userId: bob.user.id, role: "member" });
          assert.equal((await bob.client.getSession()).data.session.activeOrganizationId, org.id, "accepting activates the organization");
          assert.equal((await bob.client.organization.acceptInvitation({ invitationId: mail.id })).error.code, "INVITATION_NOT_FOUND");

          const full = await owner.client.organization.getFullOrganization();
          assert.deepEqual(full.data.members.map((m) => [m.user.email, m.role]).sort(), [[bob.email, "member"], [owner.email, "owner"]].sort());
          assert.ok(full.data.members.every((m) => m.createdAt instanceof Date));
          const members = await owner.client.organization.listMembers({ query: { limit: 10 } });
          assert.equal(members.data.total, 2);

          // A member may not manage members; after promotion to admin they may.
          const memberId = accepted.data.member.id;
          const denied = await bob.client.organization.updateMemberRole({ memberId: full.data.members.find((m) => m.role === "owner").id, role: "member" });
          assert.equal(denied.error.status, 403);
          assert.equal(denied.error.code, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER");
          const promoted = await owner.client.organization.updateMemberRole({ memberId, role: "admin" });
          assert.equal(promoted.error, null);
          assert.deepEqual({ id: promoted.data.id, role: promoted.data.role }, { id: memberId, role: "admin" });
          assert.deepEqual((await bob.client.organization.getActiveMemberRole()).data, { role: "admin" });
          assert.equal((await bob.client.organization.getActiveMember()).data.user.email, bob.email);

          // Removal by email, by the new admin.
          const dave = await join(owner, "Dave Removed");
          const removed = await bob.client.organization.removeMember({ memberIdOrEmail: dave.email });
          assert.equal(removed.error, null);
          assert.equal(removed.data.member.userId, dave.user.id);
          assert.equal((await dave.client.organization.getFullOrganization({ query: { organizationId: org.id } })).error.status, 403);

          // Leaving: a member may, the only owner may not.
          const left = await bob.client.organization.leave({ organizationId: org.id });
          assert.equal(left.error, null);
          assert.equal(left.data.userId, bob.user.id);
          assert.equal((await bob.client.getSession()).data.session.activeOrganizationId, null);
          const lastOwner = await owner.client.organization.leave({ organizationId: org.id });
          assert.equal(lastOwner.error.status, 400);
          assert.equal(lastOwner.error.code, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER");
          assert.equal((await owner.client.organization.getFullOrganization()).data.members.length, 1);
        });

        it("checks permissions on the server and, for a role, locally", async () => {
          const { owner } = await withOrg("Perms");
          const bob = await join(owner, "Pat Member");
          const ask = (who, permissions) => who.client.organization.hasPermission({ permissions });
          assert.deepEqual((await ask(owner, { organization: ["delete"], member: ["create"] })).data, { error: null, success: true });
          assert.deepEqual((await ask(bob, { member: ["delete"] })).data, { error: null, success: false });
          assert.deepEqual((await ask(bob, { ac: ["read"] })).data, { error: null, success: true });

          const local = owner.client.organization.checkRolePermission;
          assert.equal(local({ role: "admin", permissions: { member: ["delete"] } }), true);
          assert.equal(local({ role: "admin", permissions: { organization: ["delete"] } }), false);
          assert.equal(local({ role: "member, owner", permissions: { organization: ["delete"] } }), true);
          // The local answer agrees with the server's for the same role.
          const promoted = await owner.client.organization.updateMemberRole({ memberId: bob.member.id, role: "admin" });
          assert.equal(promoted.error, null);
          for (const permissions of [{ member: ["delete"] }, { organization: ["delete"] }, { organization: ["update"], team: ["create"] }]) {
            assert.equal((await ask(bob, permissions)).data.success, local({ role: "admin", permissions }), JSON.stringify(permissions));
          }
        });

        it("creates teams, adds a member, and sets and lists the member's teams", async () => {
          const { owner, org } = await withOrg("Teams");
          const bob = await join(owner, "Tim Team");
          const [defaultTeam] = (await owner.client.organization.listTeams()).data;
          assert.equal(defaultTeam.name, "Teams", "an organization starts with a team named after it");

          const core = await owner.client.organization.createTeam({ name: "Core" });
          assert.equal(core.error, null);
          assert.deepEqual(Object.keys(core.data).sort(), ["createdAt", "id", "name", "organizationId", "updatedAt"]);
          assert.equal(core.data.organizationId, org.id);
          assert.deepEqual((await owner.client.organization.listTeams({ query: { organizationId: org.id } })).data.map((t) => t.name).sort(), ["Core", "Teams"]);
          assert.equal((await bob.client.organization.createTeam({ name: "Rogue" })).error.status, 403);

          assert.equal((await bob.client.organization.setActiveTeam({ teamId: core.data.id })).error.code, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM");
          const added = await owner.client.organization.addTeamMember({ teamId: core.data.id, userId: bob.user.id });
          assert.equal(added.error, null);
          assert.deepEqual({ teamId: added.data.teamId, userId: added.data.userId }, { teamId: core.data.id, userId: bob.user.id });

          const active = await bob.client.organization.setActiveTeam({ teamId: core.data.id });
          assert.equal(active.error, null);
          assert.equal(active.data.id, core.data.id);
          assert.equal((await bob.client.getSession()).data.session.activeTeamId, core.data.id);
          assert.deepEqual((await bob.client.organization.listUserTeams()).data.map((t) => t.name), ["Core"]);
          assert.deepEqual((await bob.client.organization.listTeamMembers()).data.map((m) => m.userId), [bob.user.id]);

          const full = await owner.client.organization.getFullOrganization();
          assert.deepEqual(Object.fromEntries(full.data.teams.map((t) => [t.name, t.memberCount])), { Teams: 1, Core: 1 });

          assert.deepEqual((await owner.client.organization.removeTeamMember({ teamId: core.data.id, userId: bob.user.id })).data, {
            message: "Team member removed successfully.",
          });
          assert.deepEqual((await bob.client.organization.listUserTeams()).data, []);
          assert.equal((await bob.client.organization.setActiveTeam({ teamId: null })).data, null);
          assert.equal((await bob.client.getSession()).data.session.activeTeamId, null);
        });
      });
    });
  }
});
