import type { QueryValue } from '../admin-api/types.js';
import { expectArray, expectObject, toNumber, type Json, type JsonObject } from './parse.js';
import { ParseError, type FetchContext } from './types.js';

/**
 * The Admin API's paginated lists (`{total, items, page, page_size}`, e.g.
 * GET workspaces): every page in turn, one request at a time, and never more
 * than `maxPages`, so a huge or endless list costs a bounded number of
 * requests and bounded memory. A page that fails fails the refresh.
 */
export interface PageOptions<T = Json> {
  pageSize: number;
  maxPages: number;
  /** Further query parameters, sent with every page. */
  query?: Record<string, QueryValue>;
  /** The entries of one page; default: its `items` array. */
  itemsOf?: (page: JsonObject, what: string) => T[];
  /**
   * The schema lets `total` be null (e.g. GET users): then the list ends at
   * the first empty page. A shorter page does not end it (a server may cap
   * `page_size` below what was asked: one request more per refresh), and a
   * page that brings nothing new (`idOf`: a server ignoring `page` repeats
   * itself) stops the reading with the list incomplete. Default false: a
   * page without a total is refused.
   */
  totalMayBeNull?: boolean;
  /** An entry's identity, to notice a page that repeats earlier ones when there is no total; undefined for an entry without one. */
  idOf?: (item: T) => string | undefined;
}

export interface Pages<T = Json> {
  items: T[];
  /** What the API says the whole list holds; undefined when it did not say. */
  total: number | undefined;
  /** False when `maxPages` stopped the reading before the list's end. */
  complete: boolean;
}

export async function fetchPages(
  ctx: FetchContext,
  what: string,
  options: PageOptions & { itemsOf?: undefined; totalMayBeNull?: false },
): Promise<Pages & { total: number }>;
export async function fetchPages<T>(
  ctx: FetchContext,
  what: string,
  options: PageOptions<T> & { itemsOf: (page: JsonObject, what: string) => T[] },
): Promise<Pages<T>>;
export async function fetchPages<T>(ctx: FetchContext, what: string, options: PageOptions<T>): Promise<Pages<T>> {
  const itemsOf = options.itemsOf ?? ((body: JsonObject, w: string) => expectArray(body.items, `${w}.items`) as T[]);
  const items: T[] = [];
  let total: number | undefined;
  const seen = new Set<string>();
  for (let page = 1; page <= options.maxPages; page++) {
    const body = expectObject((await ctx.get({ ...options.query, page, page_size: options.pageSize })).body, what);
    total = options.totalMayBeNull && (body.total === null || body.total === undefined) ? undefined : toNumber(body.total, `${what}.total`);
    if (total !== undefined && (!Number.isSafeInteger(total) || total < 0))
      throw new ParseError(`${what}.total: expected a count, got ${total}`);
    const pageItems = itemsOf(body, what);
    if (total === undefined && options.idOf !== undefined && repeatsSeen(pageItems, options.idOf, seen)) {
      return { items, total, complete: false };
    }
    items.push(...pageItems);
    // An empty page ends the list even if `total` said more (it changed meanwhile).
    if (pageItems.length === 0 || (total !== undefined && items.length >= total)) return { items, total, complete: true };
  }
  return { items, total, complete: false };
}

/**
 * Lists paged by `limit` and `offset` with no total (e.g. GET api-keys,
 * `{keys: [...]}`): pages in turn until an empty one, at most `maxPages`.
 * A page shorter than `limit` does not end the list: a server may give
 * fewer entries per page than asked (a cap of its own), so the next offset
 * is asked too; that costs one request per refresh, an empty page (asked
 * even after `maxPages` pages, so that a list of exactly that many ends
 * there). `complete` is false when the cap stopped the reading, or when a page brought nothing
 * new (`idOf` says which entries were seen: a server that ignores `offset`
 * repeats itself), so the list may be longer than what was read.
 */
export interface OffsetPageOptions {
  limit: number;
  maxPages: number;
  /** The field of the answer that holds the entries. */
  field: string;
  /** An entry's identity, to notice a page that repeats an earlier one; undefined for an entry without one. */
  idOf(item: Json): string | undefined;
}

export async function fetchOffsetPages(ctx: FetchContext, what: string, options: OffsetPageOptions): Promise<Omit<Pages, 'total'>> {
  const items: Json[] = [];
  const seen = new Set<string>();
  // One request beyond the cap, to see whether a list of exactly `maxPages` full pages ends there; its entries are not kept.
  for (let page = 0; page <= options.maxPages; page++) {
    const body = expectObject((await ctx.get({ limit: options.limit, offset: items.length })).body, what);
    const pageItems = expectArray(body[options.field], `${what}.${options.field}`);
    if (pageItems.length === 0) return { items, complete: true };
    if (page === options.maxPages) return { items, complete: false };
    const repeated = repeatsSeen(pageItems, options.idOf, seen);
    items.push(...pageItems);
    if (repeated) return { items, complete: false };
  }
  return { items, complete: false };
}

/**
 * Whether a page repeats earlier ones: every entry of it with an id was seen
 * before (entries without an id cannot tell). Notes its ids as seen.
 */
function repeatsSeen<T>(items: readonly T[], idOf: (item: T) => string | undefined, seen: Set<string>): boolean {
  const ids = items.map(idOf).filter((id): id is string => id !== undefined);
  const news = ids.filter((id) => !seen.has(id)).length;
  for (const id of ids) seen.add(id);
  return ids.length > 0 && news === 0;
}
