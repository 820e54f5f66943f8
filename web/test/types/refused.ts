// Must NOT compile: each `@ts-expect-error` marks a line the client's types refuse. tsc fails on a
// directive whose line compiles, and types.test.js also compiles this file with the directives
// removed and checks that exactly the marked lines fail, so every snippet fails for its own reason.

import {
  createAuthClient,
  inferAdditionalFields,
  organizationClient,
  twoFactorClient,
  usernameClient,
} from "@authsidecar/web";
import { getSession, type HeaderSource } from "@authsidecar/web/next";
import { createAuthClient as createReactClient } from "@authsidecar/web/react";

export async function refused(headers: HeaderSource) {
  const bare = createAuthClient();
  // @ts-expect-error a namespace of a plugin not passed in: twoFactor
  await bare.twoFactor.enable({ password: "p" });
  // @ts-expect-error a namespace of a plugin not passed in: organization
  await bare.organization.list();
  // @ts-expect-error signIn.username needs usernameClient()
  await bare.signIn.username({ username: "ann", password: "p" });
  // @ts-expect-error isUsernameAvailable needs usernameClient()
  await bare.isUsernameAvailable({ username: "ann" });
  // @ts-expect-error a misspelt provider id
  await bare.signIn.social({ provider: "gihtub" });
  // @ts-expect-error a generic OpenID provider id that was not declared with oidcProviders
  await bare.signIn.social({ provider: "okta" });
  // @ts-expect-error linkSocial takes the same ids
  await bare.linkSocial({ provider: "gihtub" });
  // @ts-expect-error a required body field is missing
  await bare.signIn.email({ email: "a@b.c" });

  const session = await bare.getSession();
  // @ts-expect-error data is null when signed out
  void session.data.user;
  // @ts-expect-error no field beyond upstream's user without a plugin or declared field
  void session.data?.user.age;
  // @ts-expect-error the two-factor field needs twoFactorClient()
  void session.data?.user.twoFactorEnabled;
  // @ts-expect-error the username field needs usernameClient()
  void session.data?.user.username;

  await bare.signIn.email(
    { email: "a@b.c", password: "p" },
    {
      onSuccess: (ctx) => {
        // @ts-expect-error ctx.data is the call's data: sign-in answers token, not tokn
        void ctx.data.tokn;
      },
    },
  );
  await bare.getSession({
    fetchOptions: {
      onSuccess: (ctx) => {
        // @ts-expect-error get-session's data may be null
        void ctx.data.user;
      },
    },
  });
  createAuthClient({
    fetchOptions: {
      // @ts-expect-error onRequest returns the request's changes, not a string
      onRequest: () => "nope",
    },
  });

  const typed = createAuthClient({
    plugins: [
      twoFactorClient(),
      usernameClient(),
      inferAdditionalFields({
        user: {
          age: { type: "number", required: true },
          internalScore: { type: "number", input: false },
          secret: { type: "string", returned: false },
        },
      }),
    ],
    oidcProviders: ["okta"],
  });
  // @ts-expect-error a required additional field is missing at sign-up
  await typed.signUp.email({ email: "a@b.c", password: "p", name: "Ann" });
  // @ts-expect-error an additional field of the wrong type
  await typed.signUp.email({ email: "a@b.c", password: "p", name: "Ann", age: "thirty" });
  // @ts-expect-error the wrong type at update-user too
  await typed.updateUser({ age: "thirty" });
  // @ts-expect-error an OpenID id other than the declared ones
  await typed.signIn.social({ provider: "auth0" });
  // @ts-expect-error the organization namespace still needs its plugin
  await typed.organization.list();
  const typedSession = await typed.getSession();
  // @ts-expect-error returned: false never reaches the client
  void typedSession.data?.user.secret;
  // @ts-expect-error a declared number is not a string
  const age: string | undefined = typedSession.data?.user.age;
  void age;
  const available = await typed.isUsernameAvailable({ username: "ann" });
  // @ts-expect-error available is a boolean
  const flag: string | undefined = available.data?.available;
  void flag;

  const react = createReactClient({ plugins: [twoFactorClient()] });
  // @ts-expect-error useActiveOrganization needs organizationClient()
  react.useActiveOrganization();
  // @ts-expect-error useListPasskeys needs passkeyClient()
  react.useListPasskeys();
  const withOrg = createReactClient({ plugins: [organizationClient()] });
  // @ts-expect-error the React session has no undeclared fields either
  void withOrg.useSession().data?.user.age;

  const fromNext = await getSession<typeof typed.$Infer.Session>(headers);
  // @ts-expect-error getSession with the client's type keeps returned: false out
  void fromNext?.user.secret;
}
