// JSON as the upstream client reads it: ISO-8601 timestamps come back as Date objects, an empty
// body is null, and prototype-polluting keys are dropped.

const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** parseDate turns an ISO-8601 timestamp with a zone into a Date, anything else into null. */
export function parseDate(value: string): Date | null {
  const m = isoDate.exec(value);
  if (!m) return null;
  const n = (i: number) => Number.parseInt(m[i] ?? "0", 10);
  const ms = m[7] ? Number.parseInt(m[7].slice(0, 3).padEnd(3, "0"), 10) : 0;
  let t = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6), ms);
  if (m[8]) {
    const offset = (n(9) * 60 + n(10)) * 60_000;
    t += m[8] === "+" ? -offset : offset;
  }
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * parseJSON parses a response body. Text that is not JSON is returned as it is, as upstream's
 * non-strict parser does, so a caller still sees what the server sent.
 */
export function parseJSON(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === "__proto__" || key === "constructor") return undefined;
      if (typeof value === "string") return parseDate(value) ?? value;
      return value;
    });
  } catch {
    return text;
  }
}
