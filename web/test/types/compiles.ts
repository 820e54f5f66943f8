// Must compile: what an app writes against the client, with the types it must get. Each
// `Expect<Equal<...>>` pins a type exactly; refused.ts holds what must not compile.

import {
  SidecarError,
  adminClient,
  createAuthClient,
  inferAdditionalFields,
  organizationClient,
  passkeyClient,
  twoFactorClient,
  usernameClient,
  type BaseSession,
  type BaseUser,
  type User,
} from "@authsidecar/web";
import { getSession, type HeaderSource } from "@authsidecar/web/next";
import { createAuthClient as createReactClient } from "@authsidecar/web/react";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// No plugins: the core calls, typed data, the base user and session.
export async function core() {
  const client = createAuthClient({ baseURL: "http://localhost:3000" });
  const { data, error } = await client.getSession();
  if (error) {
    const status: number = error.status;
    const code: string | undefined = error.code;
    void [status, code];
  }
  if (data) {
    type _user = Expect<Equal<typeof data.user, BaseUser>>;
    type _session = Expect<Equal<typeof data.session, BaseSession>>;
    const expires: Date = data.session.expiresAt;
    void expires;
  }
  type _infer = Expect<Equal<typeof client.$Infer.Session, { session: BaseSession; user: BaseUser }>>;
  const signedIn = await client.signIn.email({ email: "a@b.c", password: "p", rememberMe: true });
  if (signedIn.data) {
    const token: string = signedIn.data.token;
    const name: string = signedIn.data.user.name;
    void [token, name];
  }
  await client.signIn.social({ provider: "github", callbackURL: "/dashboard" });
  await client.linkSocial({ provider: "microsoft" });
  await client.signUp.email({ email: "a@b.c", password: "p", name: "Ann", confirmPassword: "p" }); // spread form fields pass, as upstream drops them
  await client.getSession({ query: { disableCookieCache: true } });
  const sessions = await client.listSessions();
  if (sessions.data) {
    const first: BaseSession | undefined = sessions.data[0];
    void first;
  }
}

// fetchOptions: the hooks are typed, ctx.data is the call's success data.
export async function hooks() {
  const client = createAuthClient({
    fetchOptions: {
      onRequest: (ctx) => {
        ctx.headers.set("x-request-id", "1");
        const method: string = ctx.method;
        void method;
        return { headers: ctx.headers };
      },
      onResponse: (ctx) => {
        const status: number = ctx.response.status;
        void status;
      },
      onSuccess: (ctx) => {
        const data: unknown = ctx.data;
        void data;
      },
      onError: (ctx) => {
        const code: string | undefined = ctx.error.code;
        const url: string = ctx.request.url;
        void [code, url];
      },
    },
  });
  await client.signIn.email(
    { email: "a@b.c", password: "p" },
    {
      onSuccess: (ctx) => {
        type _data = Expect<Equal<typeof ctx.data.token, string>>;
        const id: string = ctx.data.user.id;
        void id;
      },
      onResponse: () => new Response("{}"),
    },
  );
  await client.getSession({
    fetchOptions: {
      onSuccess: (ctx) => {
        const email: string | undefined = ctx.data?.user.email;
        void email;
      },
    },
  });
}

// Plugins decide the namespaces; additional fields and the username plugin's appear on the user.
export async function plugins() {
  const client = createAuthClient({
    plugins: [
      twoFactorClient({ onTwoFactorRedirect: ({ twoFactorMethods }) => void twoFactorMethods }),
      organizationClient(),
      usernameClient(),
      adminClient(),
      inferAdditionalFields({
        user: {
          age: { type: "number", required: true },
          nickname: { type: "string" },
          tags: { type: "string[]", required: true, defaultValue: [] },
          birthday: { type: "date", required: false },
          internalScore: { type: "number", input: false },
          secret: { type: "string", returned: false },
        },
        session: { device: { type: "string", required: true } },
      }),
    ],
    oidcProviders: ["okta", "corp-sso"],
  });
  const enabled = await client.twoFactor.enable({ password: "p" });
  const uri: string | undefined = enabled.data?.totpURI;
  const org = await client.organization.create({ name: "Acme", slug: "acme" });
  const orgId: string | undefined = org.data?.id;
  void [uri, orgId];
  await client.admin.listUsers({ query: { limit: 10 } });
  const { data } = await client.getSession();
  if (data) {
    type _age = Expect<Equal<typeof data.user.age, number>>;
    type _nickname = Expect<Equal<typeof data.user.nickname, string | null | undefined>>;
    type _tags = Expect<Equal<typeof data.user.tags, string[]>>;
    type _birthday = Expect<Equal<typeof data.user.birthday, Date | null | undefined>>;
    type _username = Expect<Equal<typeof data.user.username, string | null | undefined>>;
    type _twoFactor = Expect<Equal<typeof data.user.twoFactorEnabled, boolean | null | undefined>>;
    type _role = Expect<Equal<typeof data.user.role, string | null | undefined>>;
    type _device = Expect<Equal<typeof data.session.device, string>>;
    type _activeOrg = Expect<Equal<typeof data.session.activeOrganizationId, string | null | undefined>>;
    type _same = Expect<Equal<typeof data, typeof client.$Infer.Session>>;
  }
  // age is required at sign-up; tags has a default; internalScore is the server's.
  await client.signUp.email({ email: "a@b.c", password: "p", name: "Ann", age: 30, username: "ann" });
  await client.updateUser({ nickname: "annie" });
  const byName = await client.signIn.username({ username: "ann", password: "p" });
  if (byName.data) {
    type _userAge = Expect<Equal<typeof byName.data.user.age, number>>;
  }
  const available = await client.isUsernameAvailable({ username: "ann" });
  const free: boolean | undefined = available.data?.available;
  void free;
  await client.signIn.social({ provider: "okta" });
  await client.signIn.social({ provider: "google" });
  // The exported User (every plugin's fields, optional) takes this client's user.
  if (data) {
    const asUser: User = data.user;
    void asUser;
  }
  type _org = Expect<Equal<typeof client.$Infer.ActiveOrganization.members, import("@authsidecar/web").Member[]>>;
}

// React: useSession carries the same session type; each plugin's hooks exist with it.
export function react() {
  const client = createReactClient({
    plugins: [organizationClient(), passkeyClient(), inferAdditionalFields({ user: { plan: { type: "string", required: true } } })],
  });
  type _user = Expect<
    Equal<
      typeof client.$Infer.Session.user,
      { id: string; name: string; email: string; emailVerified: boolean; image?: string | null; createdAt: Date; updatedAt: Date; plan: string }
    >
  >;
  const { data, isPending, error, refetch } = client.useSession();
  const plan: string | undefined = data?.user.plan;
  const pending: boolean = isPending;
  void [plan, pending, error, refetch];
  const active = client.useActiveOrganization();
  const orgName: string | undefined = active.data?.name;
  const passkeys = client.useListPasskeys();
  const count: number | undefined = passkeys.data?.length;
  void [orgName, count];
  void client.signIn.passkey({ autoFill: true });
  return client;
}

// Next.js: getSession takes the client's session type; failures are SidecarError.
export async function next(headers: HeaderSource) {
  const client = createAuthClient({ plugins: [inferAdditionalFields({ user: { plan: { type: "string", required: true } } })] });
  try {
    const session = await getSession<typeof client.$Infer.Session>(headers, { cookiePrefix: "acme" });
    const plan: string | undefined = session?.user.plan;
    void plan;
  } catch (err) {
    if (err instanceof SidecarError) {
      const status: number = err.status;
      const cause: unknown = err.cause;
      void [status, cause];
    }
  }
}
