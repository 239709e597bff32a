import { Big } from 'big.js';
import type { AnalyticsWindow } from '../config/settings.js';
import { expectArray, expectObject, optionalString, toDecimal, type Json, type JsonObject } from './parse.js';
import { ParseError } from './types.js';
import { readEach, refuseUnreadable, type UnreadableTally } from './unreadable.js';
import { completeDays, completeUntil, longest } from './windows.js';

/**
 * What Vibe Code's two analytics endpoints (by_workspace, by_organization)
 * share: daily series, one row per UTC day in parallel arrays, read exactly,
 * and summed over each window's complete UTC days (today, being partial,
 * never counts). Counts that do not add up across days (active users) are
 * the last complete day's.
 *
 * Rule 5 (time): a day with no element in any of an answer's arrays is a
 * day the API has not loaded yet; unknown, never 0. A window needing it is
 * not published; an element with zero counts is a day without activity, 0.
 */

/** A day's row of an array: its `YYYY-MM-DD` day and its counts, exact. */
export interface DayRow<K extends string> {
  day: string;
  counts: Record<K, Big>;
}

/** A day's row that also names something (a model, a tool). */
export interface KeyedDayRow<K extends string> extends DayRow<K> {
  key: string;
}

export const ZERO = new Big(0);
const DAY = /^\d{4}-\d{2}-\d{2}/;
export const WINDOW = "summed over the window's complete UTC days";

/** The array under `field`, or undefined when it is missing or null. */
function optionalArray(root: JsonObject, field: string, where: string): Json[] | undefined {
  const v = root[field];
  return v === undefined || v === null ? undefined : expectArray(v, `${where}.${field}`);
}

/** `YYYY-MM-DD`; a date-time keeps its date part. */
function readDay(v: Json | undefined, where: string): string {
  const s = optionalString(v, where);
  if (s === undefined) throw new ParseError(`${where}: missing`, 'missing');
  const m = DAY.exec(s.trim());
  if (!m) throw new ParseError(`${where}: expected a YYYY-MM-DD day, got the string ${JSON.stringify(s.slice(0, 40))}`, 'wrong_type');
  return m[0];
}

/** The counts named by `fields`, all required by the schema: a row missing one is unreadable, never a 0. */
function readCounts<K extends string>(row: JsonObject, where: string, fields: Readonly<Record<K, string>>): Record<K, Big> {
  const counts = {} as Record<K, Big>;
  for (const [key, field] of Object.entries(fields) as Array<[K, string]>) {
    const v = row[field];
    if (v === undefined || v === null) throw new ParseError(`${where}.${field}: missing`, 'missing');
    counts[key] = toDecimal(v, `${where}.${field}`);
  }
  return counts;
}

/**
 * The readable day rows of an array; an unreadable row is skipped and
 * tallied. An array without a readable row does not refuse the answer: its
 * reader judges the answer whole (`refuseUnreadable`).
 */
export function dayRows<K extends string>(
  list: Json[] | undefined,
  at: string,
  fields: Readonly<Record<K, string>>,
  tally: UnreadableTally,
): DayRow<K>[] {
  return readEach(
    list ?? [],
    at,
    tally,
    (raw, where) => {
      const row = expectObject(raw, where);
      return { day: readDay(row.day, `${where}.day`), counts: readCounts(row, where, fields) };
    },
    false,
  );
}

/** The readable day rows of an array that also name something (a model, a tool). */
export function keyedDayRows<K extends string>(
  list: Json[] | undefined,
  at: string,
  keyField: string,
  fields: Readonly<Record<K, string>>,
  tally: UnreadableTally,
): KeyedDayRow<K>[] {
  return readEach(
    list ?? [],
    at,
    tally,
    (raw, where) => {
      const row = expectObject(raw, where);
      const key = optionalString(row[keyField], `${where}.${keyField}`)?.trim();
      if (!key) throw new ParseError(`${where}.${keyField}: missing`, 'missing');
      return { day: readDay(row.day, `${where}.day`), key, counts: readCounts(row, where, fields) };
    },
    false,
  );
}

/** Refuses the answer when its arrays have rows and none is readable: [the array as served, the rows read from it]. */
export function refuseIfNothingReadable(
  where: string,
  arrays: ReadonlyArray<readonly [Json[] | undefined, readonly unknown[]]>,
  tally: UnreadableTally,
): void {
  refuseUnreadable(
    where,
    arrays.map(([list, rows]) => ({ entries: list?.length ?? 0, read: rows.length })),
    tally,
  );
}

/** The named arrays of an answer; throws when it has none of them (it is not the answer asked for). */
export function knownArrays<F extends string>(body: unknown, where: string, fields: readonly F[]): Record<F, Json[] | undefined> {
  const root = expectObject(body, where);
  const arrays = Object.fromEntries(fields.map((f) => [f, optionalArray(root, f, where)])) as Record<F, Json[] | undefined>;
  if (fields.every((f) => arrays[f] === undefined)) {
    throw new ParseError(`${where}: the answer has none of the known arrays (${fields.join(', ')})`, 'missing');
  }
  return arrays;
}

// ---------------------------------------------------------------- sums

/** Σ of each count over the rows whose day is in `days`; 0 for a day with no row. */
export function sumDays<K extends string>(rows: readonly DayRow<K>[], days: ReadonlySet<string>, keys: readonly K[]): Record<K, Big> {
  const sums = Object.fromEntries(keys.map((k) => [k, ZERO])) as Record<K, Big>;
  for (const row of rows) {
    if (!days.has(row.day)) continue;
    for (const k of keys) sums[k] = sums[k].plus(row.counts[k]);
  }
  return sums;
}

/** Σ per key (model, tool) over the rows whose day is in `days`. */
export function sumByKey<K extends string>(
  rows: readonly KeyedDayRow<K>[],
  days: ReadonlySet<string>,
  keys: readonly K[],
): Map<string, Record<K, Big>> {
  const out = new Map<string, Record<K, Big>>();
  for (const row of rows) {
    if (!days.has(row.day)) continue;
    let sums = out.get(row.key);
    if (!sums) {
      sums = Object.fromEntries(keys.map((k) => [k, ZERO])) as Record<K, Big>;
      out.set(row.key, sums);
    }
    for (const k of keys) sums[k] = sums[k].plus(row.counts[k]);
  }
  return out;
}

/** The days that have a readable element in any of an answer's arrays: the days the API has loaded. */
export function loadedDays(arrays: ReadonlyArray<readonly DayRow<string>[]>): Set<string> {
  return new Set(arrays.flatMap((rows) => rows.map((r) => r.day)));
}

/** Whether every one of `days` is loaded. */
export function allLoaded(days: ReadonlySet<string>, loaded: ReadonlySet<string>): boolean {
  for (const day of days) if (!loaded.has(day)) return false;
  return true;
}

/** Up to when the data of every report is complete over the longest window (the earliest of theirs). */
export function vibeCompleteUntil(
  now: number,
  windows: readonly AnalyticsWindow[],
  reports: ReadonlyArray<{ loaded: ReadonlySet<string> }>,
): number | undefined {
  if (windows.length === 0) return undefined;
  const days = completeDays(now, longest(windows).days);
  let until: number | undefined;
  for (const r of reports) {
    const u = completeUntil(days, r.loaded);
    if (u !== undefined && (until === undefined || u < until)) until = u;
  }
  return until;
}

/** Each window with the set of its complete UTC days. */
export function windowDays(now: number, windows: readonly AnalyticsWindow[]): Array<{ label: string; days: Set<string> }> {
  return windows.map((w) => ({ label: w.label, days: new Set(completeDays(now, w.days)) }));
}
