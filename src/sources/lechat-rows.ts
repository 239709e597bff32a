import type { AnalyticsWindow } from '../config/settings.js';
import { topIds } from './caps.js';
import { expectArray, expectObject, optionalString, requiredCount, type JsonObject } from './parse.js';
import { ParseError, type FetchContext, type Unreadable } from './types.js';
import { checkEchoedWindow } from './echo.js';
import { readEach, UnreadableTally } from './unreadable.js';
import { rollingRange } from './windows.js';

/**
 * What le Chat's (Vibe Work's) analytics endpoints share: the rows of a
 * `data` array, their counts, one request per rolling window, and the
 * ranking that caps per-agent and per-user series.
 */

/** The counts every by-user and by-agent row carries. */
export interface Counts {
  messages: number;
  files: number;
  images: number;
  spreadsheets: number;
  conversations: number;
}

export interface Windowed<R> {
  window: AnalyticsWindow;
  rows: R[];
}

/**
 * The rows of the answer's `data` array, each read with `read`: a row that
 * cannot be read is skipped and tallied, the rest are kept (see `readEach`).
 */
export function readData<R>(body: unknown, what: string, tally: UnreadableTally, read: (row: JsonObject, where: string) => R): R[] {
  const root = expectObject(body, what);
  if (root.data === undefined) throw new ParseError(`${what}: the answer has no data array`, 'missing');
  return readEach(expectArray(root.data, `${what}.data`), `${what}.data`, tally, (item, where) => read(expectObject(item, where), where));
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
  };
}

export function id(row: JsonObject, field: string, where: string): string {
  const v = optionalString(row[field], `${where}.${field}`);
  if (v === undefined || v === '') throw new ParseError(`${where}.${field}: missing`, 'missing');
  return v;
}

/** One request per window, exactly [now - window, now], each answer parsed into rows; what could not be read, over all windows. */
export async function fetchRollingWindows<R>(
  ctx: FetchContext,
  what: string,
  windows: readonly AnalyticsWindow[],
  parse: (body: unknown, tally: UnreadableTally) => R[],
): Promise<{ windows: Array<Windowed<R>>; unreadable: Unreadable }> {
  const tally = new UnreadableTally();
  const read = await Promise.all(
    windows.map(async (window) => {
      const query = { ...rollingRange(ctx.now, window) };
      const { body } = await ctx.get(query);
      checkEchoedWindow(body, query, what);
      return { window, rows: parse(body, tally) };
    }),
  );
  return { windows: read, unreadable: tally.result() };
}

/** Ranks on the longest window by messages: the kept ids and how many were left out. */
export function rankOnLongest<R>(windows: ReadonlyArray<Windowed<R>>, idOf: (r: R) => string, limit: number) {
  const last = windows[windows.length - 1];
  return topIds(new Map((last?.rows ?? []).map((r) => [idOf(r), (r as Counts).messages])), limit);
}
