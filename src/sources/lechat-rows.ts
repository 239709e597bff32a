import type { AnalyticsWindow } from '../config/settings.js';
import { topIds } from './caps.js';
import { expectArray, expectObject, optionalString, optionalTimestampSeconds, requiredCount, type JsonObject } from './parse.js';
import { ParseError, type FetchContext, type Unreadable } from './types.js';
import { checkEchoedWindow } from './echo.js';
import { runWhole, type Steps } from '../slices.js';
import { readEachSteps, UnreadableTally } from './unreadable.js';
import { completeDaysRange, DAY_S } from './windows.js';

/**
 * What le Chat's (Vibe Work's) analytics endpoints share: the rows of a
 * `data` array, their counts, one request per window of complete UTC days,
 * what an answer shows of the days the API has loaded, and the ranking that
 * caps per-agent and per-user series.
 */

/** The counts every by-user and by-agent row carries. */
export interface Counts {
  messages: number;
  files: number;
  images: number;
  spreadsheets: number;
  conversations: number;
  /** `last_message_at`, Unix seconds; undefined when absent or unreadable. */
  lastMessageAt: number | undefined;
}

export interface Windowed<R> {
  window: AnalyticsWindow;
  rows: R[];
  /** The end of the window asked (today's UTC midnight), Unix seconds. */
  end: number;
  /**
   * Up to when the answer shows the data loaded: the end of the UTC day of
   * its latest `last_message_at`, at most `end`; undefined when no row has one.
   */
  completeUntil: number | undefined;
}

/**
 * Rule 5 (time): an aggregate over a window cannot say which of its days the
 * API has loaded. A message on a day shows that day loaded (the data lake
 * loads whole days, in order); so a window is complete, and published, only
 * when its answer holds a message on its last day. A loaded day on which
 * nobody wrote is indistinguishable from one not loaded: such a window is
 * withheld too, never shown as a possibly false figure.
 */
export function isComplete(w: Windowed<unknown>): boolean {
  return w.completeUntil !== undefined && w.completeUntil >= w.end;
}

/** Up to when the endpoint's data is complete: as the longest window's answer shows it. */
export function lechatCompleteUntil(s: { windows: ReadonlyArray<Windowed<unknown>> }): number | undefined {
  return s.windows[s.windows.length - 1]?.completeUntil;
}

function completeUntilOf(rows: readonly Counts[], end: number): number | undefined {
  let latest: number | undefined;
  for (const r of rows) if (r.lastMessageAt !== undefined && (latest === undefined || r.lastMessageAt > latest)) latest = r.lastMessageAt;
  return latest === undefined ? undefined : Math.min(end, (Math.floor(latest / DAY_S) + 1) * DAY_S);
}

/**
 * The rows of the answer's `data` array, each read with `read`: a row that
 * cannot be read is skipped and tallied, the rest are kept (see `readEach`).
 */
export function readData<R>(body: unknown, what: string, tally: UnreadableTally, read: (row: JsonObject, where: string) => R): R[] {
  return runWhole(readDataSteps(body, what, tally, read));
}

/** `readData` as steps that pause between slices of rows (see slices.ts): an answer may hold a row per member. */
export function* readDataSteps<R>(
  body: unknown,
  what: string,
  tally: UnreadableTally,
  read: (row: JsonObject, where: string) => R,
): Steps<R[]> {
  const root = expectObject(body, what);
  if (root.data === undefined) throw new ParseError(`${what}: the answer has no data array`, 'missing');
  return yield* readEachSteps(expectArray(root.data, `${what}.data`), `${what}.data`, tally, (item, where) =>
    read(expectObject(item, where), where),
  );
}

/** A count the schema requires: a row without it is unreadable, never a 0. */
export const count = requiredCount;

export function counts(row: JsonObject, where: string): Counts {
  return {
    messages: count(row, 'messages_count', where),
    files: count(row, 'files_count', where),
    images: count(row, 'images_count', where),
    spreadsheets: count(row, 'spreadsheets_count', where),
    conversations: count(row, 'unique_conversations_count', where),
    lastMessageAt: optionalTimestampSeconds(row.last_message_at),
  };
}

export function id(row: JsonObject, field: string, where: string): string {
  const v = optionalString(row[field], `${where}.${field}`);
  if (v === undefined || v === '') throw new ParseError(`${where}.${field}: missing`, 'missing');
  return v;
}

/**
 * One request per window, its last N complete UTC days [midnight N days
 * ago, today's midnight), each answer parsed into rows; what could not be
 * read, over all windows.
 */
export async function fetchDayWindows<R extends Counts>(
  ctx: FetchContext,
  what: string,
  windows: readonly AnalyticsWindow[],
  parse: (body: unknown, tally: UnreadableTally) => R[] | Promise<R[]>,
): Promise<{ windows: Array<Windowed<R>>; unreadable: Unreadable }> {
  const tally = new UnreadableTally();
  // One window after the other: each answer can be many MB, and read together they would be decoded and parsed back to back,
  // holding the event loop (and the memory of all of them) at once.
  const read: Array<Windowed<R>> = [];
  const queries = dayWindowQueries(ctx.now, windows);
  for (const [i, window] of windows.entries()) {
    const query = queries[i] as (typeof queries)[number];
    const { body } = await ctx.get(query);
    checkEchoedWindow(body, query, what);
    const rows = await parse(body, tally);
    read.push({ window, rows, end: query.end_time, completeUntil: completeUntilOf(rows, query.end_time) });
  }
  return { windows: read, unreadable: tally.result() };
}

/** The queries of fetchDayWindows started at `now`, in its order: one per window, its complete UTC days (Reader.plannedQueries). */
export function dayWindowQueries(now: number, windows: readonly AnalyticsWindow[]) {
  return windows.map((window) => ({ ...completeDaysRange(now, window.days) }));
}

/** Ranks on the longest window by messages: the kept ids and how many were left out. */
export function rankOnLongest<R>(windows: ReadonlyArray<Windowed<R>>, idOf: (r: R) => string, limit: number) {
  const last = windows[windows.length - 1];
  const rows = last?.rows ?? [];
  // toFamilies and seriesDropped both rank the same snapshot: ranking 10 000 users is a sort worth doing once.
  const known = RANKED.get(rows);
  if (known !== undefined && known.limit === limit && known.idOf === idOf) return known.ranked;
  const ranked = topIds(new Map(rows.map((r) => [idOf(r), (r as Counts).messages])), limit);
  RANKED.set(rows, { limit, idOf, ranked });
  return ranked;
}

/** The last ranking of each snapshot's rows (held only as long as the rows are). */
const RANKED = new WeakMap<readonly unknown[], { limit: number; idOf: unknown; ranked: ReturnType<typeof topIds> }>();
