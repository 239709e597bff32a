import { runWhole, SLICE_ITEMS, type Steps } from '../slices.js';
import type { Json } from './parse.js';
import { ParseError, type Unreadable, type UnreadableReason } from './types.js';

/**
 * One bad entry costs only itself: a row, price or item that cannot be read
 * is skipped and counted by reason (with the JSON path of the first one, for
 * the log), and the rest of the answer is served. An answer is refused whole
 * only when it has entries and none of them is readable.
 */
export class UnreadableTally {
  private readonly counts: Unreadable = {};

  add(error: ParseError): void {
    const seen = this.counts[error.reason];
    if (seen) seen.count += 1;
    else this.counts[error.reason] = { count: 1, example: error.message };
  }

  /** Runs `read`; a ParseError out of it is tallied and gives undefined (the entry is skipped). */
  attempt<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.add(err);
      return undefined;
    }
  }

  result(): Unreadable {
    return this.counts;
  }
}

/**
 * Reads each element of `list` with `read`; an element that throws a
 * ParseError is skipped and tallied. Throws (refusing the answer) when the
 * list has elements and not one is readable, unless `refuse` is false: an
 * answer of several lists is judged whole by its reader (see `refuseUnreadable`).
 */
export function readEach<T>(
  list: readonly Json[],
  where: string,
  tally: UnreadableTally,
  read: (item: Json, where: string, index: number) => T,
  refuse = true,
): T[] {
  return runWhole(readEachSteps(list, where, tally, read, refuse));
}

/** `readEach` as steps that pause every SLICE_ITEMS entries (see slices.ts): for lists of many thousand rows. */
export function* readEachSteps<T>(
  list: readonly Json[],
  where: string,
  tally: UnreadableTally,
  read: (item: Json, where: string, index: number) => T,
  refuse = true,
): Steps<T[]> {
  const out: T[] = [];
  let first: ParseError | undefined;
  for (let i = 0; i < list.length; i++) {
    try {
      out.push(read(list[i] as Json, `${where}[${i}]`, i));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      first ??= err;
      tally.add(err);
    }
    if (i % SLICE_ITEMS === SLICE_ITEMS - 1) yield;
  }
  if (refuse && list.length > 0 && out.length === 0 && first) {
    throw new ParseError(`${where}: none of its ${list.length} entries is readable (the first: ${first.message})`, first.reason);
  }
  return out;
}

/**
 * Refuses an answer of several lists when it has entries and none of them
 * is readable: one list without a readable entry costs only that list.
 */
export function refuseUnreadable(where: string, lists: ReadonlyArray<{ entries: number; read: number }>, tally: UnreadableTally): void {
  const entries = lists.reduce((n, l) => n + l.entries, 0);
  if (entries === 0 || lists.some((l) => l.read > 0)) return;
  const [reason, first] = (Object.entries(tally.result()) as Array<[UnreadableReason, { example: string }]>)[0] ?? ['missing', undefined];
  throw new ParseError(`${where}: none of its ${entries} entries is readable (the first: ${first?.example})`, reason);
}
