/**
 * GET api-keys (`APIKeysExtendedOUT`, beta), written from the published
 * schema: `{keys: [APIKeyExtendedOUT]}`, paged with `limit` (default 100) and
 * `offset` (default 0), no total; `name` filters by a substring of the name
 * or the last 4 characters of the key.
 *
 * The organization has `size.apiKeys` key slots. Each slot rotates its key
 * on its own period: at any instant it lists exactly one key, the latest
 * generation created by then, so the listing is a function of (seed, clock).
 * A key whose lifetime is shorter than its slot's period is listed expired
 * until it is rotated; one with a lifetime a little longer is replaced before
 * it expires; some never expire. The schema lets `name`, `created_at`,
 * `expiration_date`, `workspace_id`, `workspace_name`, `created_by`,
 * `product`, `last_used` and `can_delete` be null: the slots cover each.
 */
import type { SimOrg } from './org.js';
import { ORG_CREATED_SECONDS } from './org.js';
import { hash2, hash4, mulberry32, pickWeighted, tag, uuidFrom } from './prng.js';
import { DAY_SECONDS, dayIndexOf, isoDay, isoSeconds } from './time.js';
import type { JsonObject } from './usage.js';
import { simWorkspaces } from './workspaces.js';

export const API_KEY_PRODUCTS = ['API', 'Mistral Code', 'Vibe'] as const;
const NAMES = ['Production', 'Staging', 'CI', 'Notebook', 'Batch jobs', 'Support bot', 'Data pipeline'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** One key as served, plus what the simulator knows about it. */
export interface SimApiKey {
  readonly key_id: string;
  readonly name: string | null;
  readonly hidden_key: string;
  readonly created_at: string | null;
  /** YYYY-MM-DD. */
  readonly expiration_date: string | null;
  readonly workspace_id: string | null;
  readonly workspace_name: string | null;
  readonly created_by: string | null;
  readonly product: (typeof API_KEY_PRODUCTS)[number] | null;
  /** YYYY-MM-DD. */
  readonly last_used: string | null;
  readonly can_delete: boolean | null;
  /** When it was created, Unix seconds (known even when `created_at` is null): the listing's order, newest first. */
  readonly createdSeconds: number;
  /** 00:00 UTC of `expiration_date`, Unix seconds; null without one. */
  readonly expiresSeconds: number | null;
}

interface Slot {
  readonly periodDays: number;
  /** Lifetime as a share of the period; null: the key never expires. */
  readonly lifetime: number | null;
  readonly phaseSeconds: number;
  readonly name: string | null;
  readonly workspace: number | null;
  readonly product: SimApiKey['product'];
  readonly use: 'never' | 'active' | 'stopped';
  readonly createdAtKnown: boolean;
  readonly createdBy: string | null;
  readonly canDelete: boolean | null;
}

function slotOf(org: SimOrg, index: number): Slot {
  const random = mulberry32(hash2(hash2(org.seed, tag('api-key-slot')), index));
  const periodDays = [30, 60, 90, 180, 365][pickWeighted([3, 3, 3, 2, 1], random())] as number;
  const expires = random() < 0.8;
  const lifetime = 0.8 + 0.35 * random();
  const phaseSeconds = ORG_CREATED_SECONDS + Math.floor(random() * periodDays * DAY_SECONDS);
  const named = random() < 0.9;
  const name = `${NAMES[index % NAMES.length]}${index >= NAMES.length ? ` ${Math.floor(index / NAMES.length) + 1}` : ''}`;
  const inWorkspace = random() < 0.85;
  const workspace = Math.floor(random() * org.workspaceIds.length);
  const productDraw = pickWeighted([6, 2, 2, 1], random());
  const use = (['never', 'active', 'stopped'] as const)[pickWeighted([1, 4, 2], random())] as Slot['use'];
  const createdAtKnown = random() < 0.9;
  const creator = random();
  const canDelete = random();
  return {
    periodDays,
    lifetime: expires ? lifetime : null,
    phaseSeconds,
    name: named ? name : null,
    workspace: inWorkspace ? workspace : null,
    product: API_KEY_PRODUCTS[productDraw] ?? null,
    use,
    createdAtKnown,
    createdBy: creator < 0.7 ? `admin${index % 3}@example.com` : creator < 0.9 ? 'api-key' : null,
    canDelete: canDelete < 0.8 ? true : canDelete < 0.9 ? false : null,
  };
}

/** The key a slot lists at `nowSeconds`. */
function keyOf(org: SimOrg, index: number, slot: Slot, nowSeconds: number, workspaceNames: readonly string[]): SimApiKey {
  const period = slot.periodDays * DAY_SECONDS;
  const generation = Math.max(0, Math.floor((nowSeconds - slot.phaseSeconds) / period));
  const draw = mulberry32(hash4(org.seed, tag('api-key'), index, generation));
  const createdSeconds = Math.min(nowSeconds, slot.phaseSeconds + generation * period);
  const createdDay = dayIndexOf(createdSeconds);
  const expiryDay = slot.lifetime === null ? null : createdDay + Math.max(1, Math.round(slot.periodDays * slot.lifetime));
  const today = dayIndexOf(nowSeconds);
  const lastUsedDay = (() => {
    const usable = Math.min(today, expiryDay === null ? today : expiryDay - 1);
    if (slot.use === 'never' || usable < createdDay) return null;
    const day = slot.use === 'active' ? usable - (hash2(index, today) % 3) : createdDay + Math.floor(draw() * slot.periodDays * 0.5);
    return Math.max(createdDay, Math.min(usable, day));
  })();
  const secret = Array.from({ length: 8 }, () => ALPHABET[Math.floor(draw() * ALPHABET.length)]).join('');
  return {
    key_id: uuidFrom(draw),
    name: slot.name,
    hidden_key: `${secret.slice(0, 4)}...${secret.slice(4)}`,
    created_at: slot.createdAtKnown ? isoSeconds(createdSeconds) : null,
    expiration_date: expiryDay === null ? null : isoDay(expiryDay),
    workspace_id: slot.workspace === null ? null : (org.workspaceIds[slot.workspace] ?? null),
    workspace_name: slot.workspace === null ? null : (workspaceNames[slot.workspace] ?? null),
    created_by: slot.createdBy,
    product: slot.product,
    last_used: lastUsedDay === null ? null : isoDay(lastUsedDay),
    can_delete: slot.canDelete,
    createdSeconds,
    expiresSeconds: expiryDay === null ? null : expiryDay * DAY_SECONDS,
  };
}

/** Every key listed at `nowSeconds`, newest first (ties by id). */
export function simApiKeys(org: SimOrg, nowSeconds: number): SimApiKey[] {
  const names = simWorkspaces(org).map((w) => w.name);
  const keys = Array.from({ length: org.size.apiKeys }, (_, i) => keyOf(org, i, slotOf(org, i), nowSeconds, names));
  return keys.sort((a, b) => b.createdSeconds - a.createdSeconds || (a.key_id < b.key_id ? -1 : 1));
}

export interface ApiKeysQuery {
  readonly limit: number;
  readonly offset: number;
  readonly name: string | undefined;
}

/** Case- and accent-insensitive. */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function action(available: boolean, reason: string | null): JsonObject {
  return available ? { status: 'available' } : { status: 'unavailable', reason };
}

export function apiKeysBody(org: SimOrg, query: ApiKeysQuery, nowSeconds: number): JsonObject {
  const needle = query.name === undefined ? undefined : fold(query.name);
  const all = simApiKeys(org, nowSeconds).filter(
    (k) => needle === undefined || fold(k.name ?? '').includes(needle) || fold(k.hidden_key.slice(-4)) === needle,
  );
  const start = Math.max(0, query.offset);
  const page = all.slice(start, start + Math.max(0, query.limit));
  return {
    keys: page.map(({ createdSeconds: _created, expiresSeconds, ...k }) => {
      const expired = expiresSeconds !== null && expiresSeconds <= nowSeconds;
      return {
        ...k,
        key: null,
        actions: {
          rotate: k.product === 'API' ? action(!expired, 'key_expired') : k.product === null ? null : action(false, 'unsupported_scope'),
          delete: k.can_delete === null ? null : action(k.can_delete, 'not_allowed'),
        },
      };
    }),
  };
}
