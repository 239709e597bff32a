import { parseHttpDate } from '../dates.js';

/**
 * A Retry-After header in milliseconds from `now`: delta seconds, or an
 * HTTP date (a date in the past is 0). Undefined when absent or unreadable,
 * so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = parseHttpDate(v);
  return at === undefined ? undefined : Math.max(0, at - now);
}
