/** safeCallback keeps a callbackURL to a path on this site, so a crafted link cannot send users away. */
export function safeCallback(value: string | string[] | undefined | null, fallback = "/dashboard"): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !v.startsWith("/") || v.startsWith("//") || v.startsWith("/\\")) return fallback;
  return v;
}
