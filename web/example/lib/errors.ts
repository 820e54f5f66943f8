/** The shape of a failed call's error, from our client and from upstream's. */
export type CallError = { message?: string; status: number; code?: string; statusText?: string } | null | undefined;

export const unreachable = "We can't reach the sign-in service right now. Please try again in a moment.";

/**
 * errorText is what a form says about a failed call: the server's own message for a refusal, a
 * friendly line when the sidecar (or the route handler in front of it) failed or did not answer,
 * and the fallback when there is nothing better.
 */
export function errorText(error: CallError, fallback: string): string {
  if (!error) return fallback;
  if (error.status === 0 || error.status >= 500) return unreachable;
  if (error.status === 429) return "Too many attempts. Please wait a little and try again.";
  return error.message || `${fallback} (${error.status})`;
}

/** displayName is what the app calls a user: their name, or their email when they have none (magic link, email OTP). */
export function displayName(user: { name?: string | null; email: string } | null | undefined): string {
  return user?.name?.trim() || user?.email || "";
}
