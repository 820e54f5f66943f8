// SidecarError: the sidecar could not give an answer the caller can act on. Either it answered
// with a failure that is neither data nor "signed out" (status set), or it was never reached
// (status 0: connection refused, a name that does not resolve, an aborted request), the network's
// own error kept as `cause`, so a down sidecar never reads as "signed out".

export class SidecarError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SidecarError";
  }
}

/** unreachable wraps a failed fetch of url: the URL without its query (it may carry tokens), and why. */
export function unreachable(url: string, cause: unknown): SidecarError {
  let why = cause instanceof Error ? cause.message : String(cause);
  // Node's fetch says only "fetch failed"; the system error under it says why (ECONNREFUSED, ENOTFOUND, …).
  const code = (cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === "string") why += ` (${code})`;
  return new SidecarError(0, "SIDECAR_UNREACHABLE", `the sidecar at ${url.split("?")[0]} could not be reached: ${why}`, { cause });
}
