/** safeCallback keeps a callbackURL to a path on this site, so a crafted link cannot send users away. */
export function safeCallback(value: string | string[] | undefined | null, fallback = "/dashboard"): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !v.startsWith("/") || v.startsWith("//") || v.startsWith("/\\")) return fallback;
  return v;
}

/** verifiedURL is where a verification link lands: the confirmation screen, which then offers next. */
export function verifiedURL(next: string): string {
  return `/verified?next=${encodeURIComponent(next)}`;
}
