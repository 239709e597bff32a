import type { QueryValue } from '../admin-api/types.js';
import { parseIsoTimestamp } from '../dates.js';
import { isObject } from './parse.js';
import { ParseError } from './types.js';

/**
 * The analytics answers echo the window they cover (`start_time`,
 * `end_time`, Unix seconds). An answer for another window than the one asked
 * is not the answer asked for (a cache, a proxy, a clamped range): it is
 * refused whole and the last good data stays. An answer that echoes nothing
 * cannot be checked and is read.
 */
export function checkEchoedWindow(body: unknown, query: Readonly<Record<string, QueryValue>>, what: string): void {
  if (!isObject(body)) return;
  for (const field of ['start_time', 'end_time'] as const) {
    const echoed = seconds(body[field]);
    const asked = Number(query[field]);
    if (echoed === undefined || !Number.isFinite(asked)) continue;
    if (echoed !== asked) {
      throw new ParseError(`${what}.${field}: the answer covers ${show(echoed)}, not the ${show(asked)} asked for`, 'wrong_type');
    }
  }
}

/** Unix seconds from an integer, a numeric string or an ISO 8601 date-time; undefined when absent or unreadable. */
function seconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^\d{1,12}$/.test(v.trim())) return Number(v.trim());
  const ms = parseIsoTimestamp(v);
  return ms === undefined ? undefined : ms / 1000;
}

function show(unixSeconds: number): string {
  return Number.isFinite(unixSeconds) && Math.abs(unixSeconds) < 1e11
    ? new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z')
    : String(unixSeconds);
}
