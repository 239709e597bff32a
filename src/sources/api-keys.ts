import { parseIsoTimestamp } from '../dates.js';
import { family, REFRESHED, type FamilyDef } from './families.js';
import { fetchOffsetPages } from './pages.js';
import { expectObject, isObject, optionalString, type Json } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { readEach, UnreadableTally } from './unreadable.js';

/**
 * GET api-keys (beta, paged by limit and offset): the organization's API
 * keys, their product, workspace, creation, expiry and last use. The masked
 * key (`hidden_key`) and the plaintext one (`key`, null outside creation)
 * are never read, so they can reach no series and no log line.
 */
export interface ApiKeyRow {
  id: string;
  /** "" when the key has no name. */
  name: string;
  /** The product as a label value (`api`, `mistral_code`, `vibe`); `unknown` when the API names none. */
  product: string;
  /** "" for a key outside every workspace. */
  workspaceId: string;
  /** Unix seconds; undefined when the API gives none. */
  createdAt: number | undefined;
  /** 00:00 UTC of `expiration_date`, Unix seconds; undefined for a key that never expires. */
  expiresAt: number | undefined;
  /** 00:00 UTC of `last_used`, Unix seconds; undefined for a key never used. */
  lastUsedAt: number | undefined;
}

export interface ApiKeysSnapshot {
  keys: ApiKeyRow[];
  /** False when the page cap (or a server repeating a page) stopped the reading: the list may be longer. */
  complete: boolean;
  /** When the refresh ran, ms since the epoch: the cap keeps the keys that expire soonest from then on. */
  fetchedAt: number;
  keyLimit: number;
  unreadable?: Unreadable;
}

/** Keys asked per page, and most pages read per refresh. */
const PAGE_LIMIT = 100;
const MAX_PAGES = 100;

export const UNKNOWN_PRODUCT = 'unknown';

/** `API` → `api`, `Mistral Code` → `mistral_code`: the API's product names as label values. */
function productLabel(product: string | undefined): string {
  const label = product
    ?.trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return label || UNKNOWN_PRODUCT;
}

/** A date or date-time field as Unix seconds; undefined when absent or null; a ParseError when it is not a date. */
function optionalDate(v: Json | undefined, where: string): number | undefined {
  const text = optionalString(v, where);
  if (text === undefined) return undefined;
  const ms = parseIsoTimestamp(text);
  if (ms === undefined) throw new ParseError(`${where}: expected a date, got ${JSON.stringify(text.slice(0, 40))}`, 'wrong_type');
  return ms / 1000;
}

/** The readable keys of the listed items, each once; an unreadable item is skipped and tallied. */
export function parseApiKeys(items: readonly Json[], tally = new UnreadableTally()): ApiKeyRow[] {
  const rows = readEach(items, 'api-keys.keys', tally, (raw, where): ApiKeyRow => {
    const k = expectObject(raw, where);
    const id = optionalString(k.key_id, `${where}.key_id`)?.trim();
    if (!id) throw new ParseError(`${where}.key_id: missing`, 'missing');
    return {
      id,
      name: optionalString(k.name, `${where}.name`) ?? '',
      product: productLabel(optionalString(k.product, `${where}.product`)),
      workspaceId: optionalString(k.workspace_id, `${where}.workspace_id`)?.trim() ?? '',
      createdAt: optionalDate(k.created_at, `${where}.created_at`),
      expiresAt: optionalDate(k.expiration_date, `${where}.expiration_date`),
      lastUsedAt: optionalDate(k.last_used, `${where}.last_used`),
    };
  });
  // A key that moved between two pages (one created meanwhile) shows twice: keep the first.
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

const KEY_LABELS = ['key_id', 'key_name', 'product', 'workspace_id'] as const;

export const API_KEY_FAMILIES = {
  keys: {
    name: 'mistral_api_keys',
    help: `API keys of the organization (GET api-keys), expired ones included until deleted, by product and workspace (workspace_id "" for a key of no workspace). Absent when the list was longer than the exporter reads. ${REFRESHED}`,
    labelNames: ['product', 'workspace_id'],
  },
  expiry: {
    name: 'mistral_api_key_expiry_timestamp_seconds',
    help: `When the API key expires: 00:00 UTC of its expiration_date (GET api-keys). Absent for a key that never expires. Capped at API_KEYS_LIMIT keys, those expiring soonest first. ${REFRESHED}`,
    labelNames: KEY_LABELS,
  },
  lastUsed: {
    name: 'mistral_api_key_last_used_timestamp_seconds',
    help: `The day the API key was last used: 00:00 UTC of its last_used date (GET api-keys). Absent for a key never used. Capped like the expiry. ${REFRESHED}`,
    labelNames: KEY_LABELS,
  },
  created: {
    name: 'mistral_api_key_created_timestamp_seconds',
    help: `When the API key was created (created_at of GET api-keys); absent when the API does not say. Capped like the expiry. ${REFRESHED}`,
    labelNames: KEY_LABELS,
  },
} as const satisfies Record<string, FamilyDef>;

/**
 * The keys that have series of their own when there are more than
 * `limit`: those that expire soonest (the ones an alert is about), then
 * those that never expire, then the expired, most recent first; ties by id,
 * so that the choice is stable from one refresh to the next.
 */
export function keptKeys(keys: readonly ApiKeyRow[], limit: number, nowSeconds: number): ApiKeyRow[] {
  const group = (k: ApiKeyRow) => (k.expiresAt === undefined ? 1 : k.expiresAt > nowSeconds ? 0 : 2);
  const order = (k: ApiKeyRow) => (k.expiresAt === undefined ? 0 : group(k) === 0 ? k.expiresAt : -k.expiresAt);
  return [...keys].sort((a, b) => group(a) - group(b) || order(a) - order(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
}

function byLabels(a: Sample, b: Sample): number {
  const [x, y] = [Object.values(a.labels).join('\u0000'), Object.values(b.labels).join('\u0000')];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Pure: the API keys metric families of a snapshot. */
export function apiKeysFamilies(s: ApiKeysSnapshot): MetricFamily[] {
  const counts = new Map<string, Sample>();
  for (const k of s.keys) {
    const id = `${k.product}\u0000${k.workspaceId}`;
    const sample = counts.get(id) ?? { labels: { product: k.product, workspace_id: k.workspaceId }, value: 0 };
    sample.value += 1;
    counts.set(id, sample);
  }
  const expiry: Sample[] = [];
  const lastUsed: Sample[] = [];
  const created: Sample[] = [];
  for (const k of keptKeys(s.keys, s.keyLimit, s.fetchedAt / 1000)) {
    const labels = { key_id: k.id, key_name: k.name, product: k.product, workspace_id: k.workspaceId };
    if (k.expiresAt !== undefined) expiry.push({ labels, value: k.expiresAt });
    if (k.lastUsedAt !== undefined) lastUsed.push({ labels, value: k.lastUsedAt });
    if (k.createdAt !== undefined) created.push({ labels, value: k.createdAt });
  }
  const F = API_KEY_FAMILIES;
  return [
    // A count of part of a list is not the count the API would give: none rather than a wrong one.
    family(F.keys, s.complete ? [...counts.values()].sort(byLabels) : []),
    family(F.expiry, expiry),
    family(F.lastUsed, lastUsed),
    family(F.created, created),
  ];
}

/** Per capped family, the series API_KEYS_LIMIT left out (the keys read but not kept that would have had one). */
export function apiKeysDropped(s: ApiKeysSnapshot): Record<string, number> {
  const kept = new Set(keptKeys(s.keys, s.keyLimit, s.fetchedAt / 1000).map((k) => k.id));
  const left = s.keys.filter((k) => !kept.has(k.id));
  const F = API_KEY_FAMILIES;
  return {
    [F.expiry.name]: left.filter((k) => k.expiresAt !== undefined).length,
    [F.lastUsed.name]: left.filter((k) => k.lastUsedAt !== undefined).length,
    [F.created.name]: left.filter((k) => k.createdAt !== undefined).length,
  };
}

export const apiKeys = defineEndpoint({
  id: 'api_keys',
  describe: 'GET api-keys',
  title: 'api-keys',
  paths: 'api-keys',
  intervalGroup: 'analytics',
  query: `\`limit=${PAGE_LIMIT}\`, \`offset\`: every page, at most ${MAX_PAGES}`,
  perWorkspace: false,
  families: Object.values(API_KEY_FAMILIES),
  reader: ({ apiKeysLimit }): Reader<ApiKeysSnapshot> => ({
    async fetch(ctx) {
      const idOf = (item: Json) => (isObject(item) && typeof item.key_id === 'string' ? item.key_id : undefined);
      const pages = await fetchOffsetPages(ctx, 'api-keys', { limit: PAGE_LIMIT, maxPages: MAX_PAGES, field: 'keys', idOf });
      const tally = new UnreadableTally();
      const keys = parseApiKeys(pages.items, tally);
      if (!pages.complete) {
        ctx.logger.warn(
          { api_endpoint: 'api_keys', keys: keys.length },
          `GET api-keys: more keys than ${MAX_PAGES} pages of ${PAGE_LIMIT} hold; mistral_api_keys is left out, the keys read are served`,
        );
      }
      return { keys, complete: pages.complete, fetchedAt: ctx.now, keyLimit: apiKeysLimit, unreadable: tally.result() };
    },
    toFamilies: apiKeysFamilies,
    unreadable: (s) => s.unreadable ?? {},
    seriesDropped: apiKeysDropped,
  }),
});
