import type { AnalyticsWindow } from '../config/settings.js';
import { topIds } from './caps.js';
import { expectArray, expectObject, optionalString, toNumber, type JsonObject } from './parse.js';
import { ParseError, type FetchContext } from './types.js';
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

export function data(body: unknown, what: string): JsonObject[] {
  const root = expectObject(body, what);
  if (root.data === undefined) throw new ParseError(`${what}: the answer has no data array`);
  return expectArray(root.data, `${what}.data`).map((row, i) => expectObject(row, `${what}.data[${i}]`));
}

/** A count: a number or numeric string; absent or null counts 0 (the API is a preview). */
export function count(row: JsonObject, field: string, where: string): number {
  const v = row[field];
  return v === undefined || v === null ? 0 : toNumber(v, `${where}.${field}`);
}

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
  if (v === undefined || v === '') throw new ParseError(`${where}.${field}: missing`);
  return v;
}

/** One request per window, exactly [now - window, now], each answer parsed into rows. */
export function fetchRollingWindows<R>(
  ctx: FetchContext,
  windows: readonly AnalyticsWindow[],
  parse: (body: unknown) => R[],
): Promise<Array<Windowed<R>>> {
  return Promise.all(windows.map(async (window) => ({ window, rows: parse((await ctx.get({ ...rollingRange(ctx.now, window) })).body) })));
}

/** Ranks on the longest window by messages: the kept ids and how many were left out. */
export function rankOnLongest<R>(windows: ReadonlyArray<Windowed<R>>, idOf: (r: R) => string, limit: number) {
  const last = windows[windows.length - 1];
  return topIds(new Map((last?.rows ?? []).map((r) => [idOf(r), (r as Counts).messages])), limit);
}
