/**
 * A Retry-After header in milliseconds from `now`: delta seconds, or an
 * HTTP date (a date in the past is 0). Undefined when absent or unreadable,
 * so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date names its day or month; this keeps Date.parse from reading "1.5" as a year.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
