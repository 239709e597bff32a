import type { QueryValue } from '../admin-api/types.js';
import { expectArray, expectObject, toNumber, type Json } from './parse.js';
import { ParseError, type FetchContext } from './types.js';

/**
 * The Admin API's paginated lists (`{total, items, page, page_size}`, e.g.
 * GET workspaces): every page in turn, one request at a time, and never more
 * than `maxPages`, so a huge or endless list costs a bounded number of
 * requests and bounded memory. A page that fails fails the refresh.
 */
export interface PageOptions {
  pageSize: number;
  maxPages: number;
  /** Further query parameters, sent with every page. */
  query?: Record<string, QueryValue>;
}

export interface Pages {
  items: Json[];
  /** What the API says the whole list holds. */
  total: number;
  /** False when `maxPages` stopped the reading before `total` items came. */
  complete: boolean;
}

export async function fetchPages(ctx: FetchContext, what: string, options: PageOptions): Promise<Pages> {
  const items: Json[] = [];
  let total = 0;
  for (let page = 1; page <= options.maxPages; page++) {
    const body = expectObject((await ctx.get({ ...options.query, page, page_size: options.pageSize })).body, what);
    total = toNumber(body.total, `${what}.total`);
    if (!Number.isSafeInteger(total) || total < 0) throw new ParseError(`${what}.total: expected a count, got ${total}`);
    const pageItems = expectArray(body.items, `${what}.items`);
    items.push(...pageItems);
    // An empty page ends the list even if `total` said more (it changed meanwhile).
    if (pageItems.length === 0 || items.length >= total) return { items, total, complete: true };
  }
  return { items, total, complete: false };
}
