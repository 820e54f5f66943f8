/**
 * socialProviders are the social sign-in buttons the app shows: AUTH_SOCIAL_PROVIDERS, the ids
 * of the providers configured on the sidecar (AUTH_GITHUB_CLIENT_ID → github, AUTH_OIDC_ACME_ISSUER
 * → acme), comma-separated. Better Auth's protocol has no route that lists them, so the app is
 * told, as an upstream app's socialProviders config tells its own sign-in page.
 */
export function socialProviders(): { id: string; label: string }[] {
  return (process.env.AUTH_SOCIAL_PROVIDERS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9][a-z0-9-]*$/.test(s))
    .map((id) => ({ id, label: labels[id] ?? id.replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => (sep ? " " : "") + c.toUpperCase()) }));
}

const labels: Record<string, string> = {
  github: "GitHub",
  google: "Google",
  microsoft: "Microsoft",
  discord: "Discord",
  gitlab: "GitLab",
  facebook: "Facebook",
  apple: "Apple",
};
