import { Big } from 'big.js';
import { warnOnce } from '../logger.js';
import { decimalToNumber, DecimalSums, family, REFRESHED, single, type FamilyDef } from './families.js';
import {
  expectArray,
  expectObject,
  isObject,
  optionalString,
  optionalTimestampSeconds,
  toDecimal,
  UNKNOWN_CURRENCY,
  type Json,
  type JsonObject,
} from './parse.js';
import { defineEndpoint, ParseError, type FetchContext, type MetricFamily, type Sample, type Unreadable } from './types.js';
import { perWorkspace, reportNotFollowed, withWorkspace, workspaceLabel, workspaceTargets } from './per-workspace.js';
import { refuseUnreadable, UnreadableTally } from './unreadable.js';
import { topIds } from './caps.js';
import { DAY_MS, DAY_S, utcMonthBounds } from './windows.js';
import type { WorkspaceLimit } from './workspaces.js';

/**
 * GET usage: month-to-date quantities per category, model and billing group,
 * and the unit prices that turn them into cost. There is no cost field in the
 * answer: cost = Σ value_paid × the matching unit price.
 */

/** Top-level keys that are not usage categories. */
const META_KEYS = new Set([
  'date',
  'previous_month',
  'next_month',
  'start_date',
  'end_date',
  'currency',
  'currency_symbol',
  'prices',
  'vibe_usage',
]);

export type Unit = 'tokens' | 'pages' | 'audio_seconds' | 'audio_characters' | 'gpu_seconds' | 'reserved_instances';

/** The unit of an event type's quantity, or undefined when it is not known yet. */
export function unitOf(eventType: string): Unit | undefined {
  if (eventType.endsWith('_tokens')) return 'tokens';
  if (eventType.endsWith('_pages')) return 'pages';
  if (eventType.endsWith('_audio_seconds') || eventType === 'api_libraries_audio') return 'audio_seconds';
  if (eventType.endsWith('_audio_characters')) return 'audio_characters';
  if (eventType === 'gpu_hour') return 'gpu_seconds';
  if (eventType === 'reserved_instance') return 'reserved_instances';
  return undefined;
}

/** A quantity in its unit's base unit: GPU hours as seconds. */
function inBaseUnit(unit: Unit, quantity: Big): Big {
  return unit === 'gpu_seconds' ? quantity.times(3600) : quantity;
}

export const SERVICE_TIERS = ['standard', 'priority'] as const;
export type ServiceTier = (typeof SERVICE_TIERS)[number];

/** The field that left an entry's price ambiguous (the `field` label): the entry says nothing of it and the prices differ by it. */
export type AmbiguousField = 'api_zone' | 'service_tier' | 'price';

export interface UsageRow {
  category: string;
  model: string;
  billingGroup: string;
  eventType: string;
  /** The entry's zone, set only when known and the answer's prices vary by zone (the `api_zone` label). */
  zone: string | undefined;
  /** The tier the entry is billed at, set only when known and the answer's prices vary by tier (the `service_tier` label). */
  tier: string | undefined;
  /** Σ value. */
  quantity: Big;
  /** Σ value_paid: the quantity the unit price applies to. */
  paid: Big;
  /** Σ value_paid × unit price; undefined when no price, or no single price, matches. */
  cost: Big | undefined;
}

export interface UsageReport {
  /** Set when the report is one workspace's. */
  workspaceId: string | undefined;
  currency: string;
  periodStart: number | undefined;
  periodEnd: number | undefined;
  rows: UsageRow[];
  /** Entries without a matching price, per category. */
  unpricedEntries: Map<string, number>;
  /** Entries whose price is ambiguous, per category and field, with the JSON path of the first. */
  ambiguousEntries: Map<string, Map<AmbiguousField, { count: number; example: string }>>;
  /** Entries whose event type has no known unit, per event type. */
  unknownUnitEntries: Map<string, number>;
  /** The legacy top-level `vibe_usage` amount, as given (now always 0). */
  legacyVibeUsage: Big | undefined;
  /** fine_tuning.storage: fine-tuned model → the integer the API gives. */
  fineTuningStorage: Map<string, Big>;
  /**
   * Whether `usage` honoured the `api_zone` filter when asked per zone;
   * undefined when it was not asked (the prices name at most one zone).
   */
  zoneFilterHonoured?: boolean | undefined;
}

export interface UsageSnapshot {
  /** True when usage is broken down by workspace (the families then carry workspace_id). */
  byWorkspace: boolean;
  reports: UsageReport[];
  unreadable?: Unreadable;
  /** By workspace: each workspace's own monthly limit as GET workspaces listed it at this fetch, for the spend ratio and projection. */
  workspaceLimits?: WorkspaceLimits;
}

export interface WorkspaceLimits {
  /** When the usage was fetched (ms since the epoch): the projection's "now". */
  fetchedAt: number;
  /** Workspace id → its limit; a workspace without a known limit has no entry. */
  limits: ReadonlyMap<string, WorkspaceLimit>;
  /** Workspaces with a limit that MAX_WORKSPACES left out of MISTRAL_WORKSPACE_IDS=all. */
  notFollowed: number;
}

interface Price {
  /** undefined (null in the answer): matches any entry. */
  eventType: string | undefined;
  billingMetric: string | undefined;
  billingGroup: string | undefined;
  zone: string | undefined;
  tier: string | undefined;
  price: Big;
}

/** One readable usage entry. */
export interface UsageEntry {
  category: string;
  model: string;
  billingGroup: string;
  eventType: string;
  quantity: Big;
  paid: Big;
  /** The zone: the entry's own `api_zone`, else the zone its answer was asked for; undefined when unknown. */
  zone: string | undefined;
  /** Zones the entry is known not to be of (usage left over once every zone of the prices was asked). */
  notZones?: ReadonlySet<string>;
  /** The entry's own `service_tier`; undefined when it says none. */
  tier: string | undefined;
  /** The UTC day its `timestamp` names (ms since the epoch, at midnight); undefined when it names none readable. */
  day?: number | undefined;
  /** Its JSON path, for the log. */
  at: string;
}

/** One `usage` answer, read but not priced. */
export interface UsageAnswer {
  workspaceId: string | undefined;
  currency: string;
  periodStart: number | undefined;
  periodEnd: number | undefined;
  prices: Price[];
  categories: string[];
  entries: UsageEntry[];
  legacyVibeUsage: Big | undefined;
  fineTuningStorage: Map<string, Big>;
}

export interface PricingOptions {
  /** The tier of entries that name none (USAGE_ASSUMED_SERVICE_TIER). */
  assumedServiceTier?: ServiceTier | undefined;
}

const CURRENCY_OF_SYMBOL: Record<string, string> = { '€': 'EUR', $: 'USD', '£': 'GBP' };

/**
 * Parses one `usage` answer and prices it (see `readUsage` and `priceUsage`).
 */
export function parseUsage(body: unknown, workspaceId?: string, tally = new UnreadableTally(), options: PricingOptions = {}): UsageReport {
  const answer = readUsage(body, workspaceId, tally);
  return priceUsage(answer, answer.entries, options);
}

/**
 * Reads one `usage` answer. An entry, a model's groups or a price that
 * cannot be read (negative amounts included: the API documents none) is
 * skipped and tallied; the answer is refused (ParseError) when it is not an
 * object, has neither prices nor categories, or has entries and none of
 * them is readable. `zone`: the `api_zone` the answer was asked for, the
 * zone of its entries that name none.
 */
export function readUsage(body: unknown, workspaceId: string | undefined, tally: UnreadableTally, zone?: string): UsageAnswer {
  const root = expectObject(body, 'usage');
  const prices = parsePrices(root.prices, tally);
  const currency =
    optionalString(root.currency, 'usage.currency')?.trim().toUpperCase() ||
    CURRENCY_OF_SYMBOL[optionalString(root.currency_symbol, 'usage.currency_symbol')?.trim() ?? ''] ||
    UNKNOWN_CURRENCY;

  const entries: UsageEntry[] = [];
  const categoryNames: string[] = [];
  let entryCount = 0;

  for (const { category, models, where } of categories(root)) {
    categoryNames.push(category);
    for (const [modelKey, groups] of Object.entries(models)) {
      const groupMap = tally.attempt(() => expectObject(groups, `${where}.${modelKey}`));
      if (groupMap === undefined) {
        entryCount += 1;
        continue;
      }
      for (const [groupKey, list] of Object.entries(groupMap)) {
        const items = tally.attempt(() => expectArray(list, `${where}.${modelKey}.${groupKey}`));
        if (items === undefined) {
          entryCount += 1;
          continue;
        }
        items.forEach((raw, i) => {
          entryCount += 1;
          const at = `${where}.${modelKey}.${groupKey}[${i}]`;
          const read = tally.attempt(() => readEntry(raw, at, modelKey, groupKey));
          if (read !== undefined) entries.push({ category, ...read, zone: read.zone ?? zone, at });
        });
      }
    }
  }

  if (root.prices === undefined && categoryNames.length === 0) {
    throw new ParseError('usage: the answer has no prices and no usage category (e.g. completion: {models: ...})', 'missing');
  }
  refuseUnreadable('usage', [{ entries: entryCount, read: entries.length }], tally);

  return {
    workspaceId,
    currency,
    periodStart: optionalTimestampSeconds(root.start_date),
    periodEnd: optionalTimestampSeconds(root.end_date),
    prices,
    categories: categoryNames,
    entries,
    legacyVibeUsage: tally.attempt(() => optionalAmount(root.vibe_usage, 'usage.vibe_usage')),
    fineTuningStorage: readStorage(root, tally),
  };
}

/** fine_tuning.storage, a map of fine-tuned model to integer; a value that cannot be read is skipped and tallied. */
function readStorage(root: JsonObject, tally: UnreadableTally): Map<string, Big> {
  const out = new Map<string, Big>();
  const fineTuning = root.fine_tuning;
  if (!isObject(fineTuning) || fineTuning.storage === undefined || fineTuning.storage === null) return out;
  const storage = tally.attempt(() => expectObject(fineTuning.storage, 'usage.fine_tuning.storage'));
  for (const [model, v] of Object.entries(storage ?? {})) {
    const n = tally.attempt(() => optionalAmount(v, `usage.fine_tuning.storage.${model}`));
    if (n !== undefined) out.set(model, n);
  }
  return out;
}

/**
 * Prices `entries` (those of `answer`, or several answers' read against its
 * price list) into rows. A price matches an entry on every field both carry
 * (`event_type`, `billing_metric`, `billing_group`, `api_zone`,
 * `service_tier`); a field the price leaves null matches anything. Among the
 * matching prices, the one naming the most of those fields wins. When the
 * entry says nothing of its zone or tier and the prices that are left differ
 * by it, the entry is ambiguous: its cost is left out and counted.
 */
export function priceUsage(answer: UsageAnswer, entries: readonly UsageEntry[], options: PricingOptions = {}): UsageReport {
  const { prices } = answer;
  const zoneVaries = new Set(prices.map((p) => p.zone).filter((z) => z !== undefined)).size > 1;
  const tierVaries = new Set(prices.map((p) => p.tier).filter((t) => t !== undefined)).size > 1;
  const rows = new Map<string, UsageRow>();
  const unpricedEntries = new Map<string, number>();
  const ambiguousEntries = new Map<string, Map<AmbiguousField, { count: number; example: string }>>();
  const unknownUnitEntries = new Map<string, number>();
  for (const category of answer.categories) unpricedEntries.set(category, 0);

  for (const e of entries) {
    const tier = e.tier ?? options.assumedServiceTier;
    const match = matchPrice(prices, e, tier);
    if (match === undefined) unpricedEntries.set(e.category, (unpricedEntries.get(e.category) ?? 0) + 1);
    else if ('ambiguous' in match) {
      const fields = ambiguousEntries.get(e.category) ?? new Map<AmbiguousField, { count: number; example: string }>();
      const seen = fields.get(match.ambiguous);
      if (seen) seen.count += 1;
      else fields.set(match.ambiguous, { count: 1, example: e.at });
      ambiguousEntries.set(e.category, fields);
    }
    if (unitOf(e.eventType) === undefined) unknownUnitEntries.set(e.eventType, (unknownUnitEntries.get(e.eventType) ?? 0) + 1);

    const zone = zoneVaries ? e.zone : undefined;
    const rowTier = tierVaries ? tier : undefined;
    const key = [e.category, e.model, e.billingGroup, e.eventType, zone ?? '', rowTier ?? ''].join('\u0000');
    const cost = match !== undefined && 'price' in match ? e.paid.times(match.price) : undefined;
    const row = rows.get(key);
    if (row) {
      row.quantity = row.quantity.plus(e.quantity);
      row.paid = row.paid.plus(e.paid);
      row.cost = cost === undefined ? row.cost : (row.cost ?? new Big(0)).plus(cost);
    } else {
      const { category, model, billingGroup, eventType, quantity, paid } = e;
      rows.set(key, { category, model, billingGroup, eventType, zone, tier: rowTier, quantity, paid, cost });
    }
  }

  return {
    workspaceId: answer.workspaceId,
    currency: answer.currency,
    periodStart: answer.periodStart,
    periodEnd: answer.periodEnd,
    rows: [...rows.values()],
    unpricedEntries,
    ambiguousEntries,
    unknownUnitEntries,
    legacyVibeUsage: answer.legacyVibeUsage,
    fineTuningStorage: answer.fineTuningStorage,
  };
}

/**
 * Every usage category in the answer, named as the catalog says: the
 * top-level key, nested keys joined with `_` (libraries_api_pages,
 * vibe_code_completion, fine_tuning_training). A category is an object with
 * a `models` map, or itself a model map (fine_tuning.training, or a
 * top-level key shaped so); anything else (fine_tuning.storage, new scalar
 * fields) is not usage by model. Unknown keys of either shape are read like
 * the known ones.
 */
function* categories(root: JsonObject): Generator<{ category: string; models: JsonObject; where: string }> {
  for (const [key, value] of Object.entries(root)) {
    if (META_KEYS.has(key) || !isObject(value)) continue;
    if (isObject(value.models)) {
      yield { category: key, models: value.models, where: `usage.${key}.models` };
      continue;
    }
    if (isModelMap(value) && hasEntryList(value)) {
      yield { category: key, models: value, where: `usage.${key}` };
      continue;
    }
    for (const [sub, subValue] of Object.entries(value)) {
      if (!isObject(subValue)) continue;
      if (isObject(subValue.models)) yield { category: `${key}_${sub}`, models: subValue.models, where: `usage.${key}.${sub}.models` };
      else if (isModelMap(subValue)) yield { category: `${key}_${sub}`, models: subValue, where: `usage.${key}.${sub}` };
    }
  }
}

/** `{MODEL: {GROUP: [entry, ...]}}`; an empty object counts (no usage yet). */
function isModelMap(v: JsonObject): boolean {
  return Object.values(v).every((groups) => isObject(groups) && Object.values(groups).every((e) => Array.isArray(e)));
}

/** A model map with at least one list: a top-level key without `models` is taken for one only then (`{}` says nothing). */
function hasEntryList(v: JsonObject): boolean {
  return Object.values(v).some((groups) => isObject(groups) && Object.keys(groups).length > 0);
}

/** `mistral-large-latest::mistral-large-2411` names the dated model after `::`. */
function modelFromKey(key: string): string {
  const i = key.lastIndexOf('::');
  return i >= 0 ? key.slice(i + 2) : key;
}

/** A money-bearing number: exact, and never negative (the API documents no negative amount, price or quantity). */
function amount(v: unknown, where: string): Big {
  const d = toDecimal(v, where);
  if (d.lt(0)) throw new ParseError(`${where}: ${String(v)} is negative, which the API does not document for it`, 'not_a_number');
  return d;
}

function optionalAmount(v: unknown, where: string): Big | undefined {
  return v === null || v === undefined ? undefined : amount(v, where);
}

/**
 * One entry: its quantity (`value`) and the quantity paid (`value_paid`)
 * are both required, never read as 0 when absent, and never negative. The
 * names fall back to the keys the entry sits under; `api_zone` and
 * `service_tier` are read when the entry carries them, and the day of its
 * `timestamp` too (only the FOCUS export uses it: one it cannot read is
 * left unknown, never a reason to skip the entry).
 */
function readEntry(raw: Json, at: string, modelKey: string, groupKey: string) {
  const entry = expectObject(raw, at);
  if (entry.value === undefined || entry.value === null) throw new ParseError(`${at}.value: missing`, 'missing');
  if (entry.value_paid === undefined || entry.value_paid === null) throw new ParseError(`${at}.value_paid: missing`, 'missing');
  return {
    eventType: optionalString(entry.event_type, `${at}.event_type`) ?? 'unknown',
    model: optionalString(entry.billing_metric, `${at}.billing_metric`) ?? modelFromKey(modelKey),
    billingGroup: optionalString(entry.billing_group, `${at}.billing_group`) ?? groupKey,
    quantity: amount(entry.value, `${at}.value`),
    paid: amount(entry.value_paid, `${at}.value_paid`),
    zone: optionalString(entry.api_zone, `${at}.api_zone`),
    tier: optionalString(entry.service_tier, `${at}.service_tier`),
    day: dayOf(entry.timestamp),
  };
}

/** Midnight UTC of the day a timestamp names; undefined when it is not a readable date. */
function dayOf(v: Json | undefined): number | undefined {
  const seconds = optionalTimestampSeconds(v);
  return seconds === undefined ? undefined : Math.floor(seconds / DAY_S) * DAY_MS;
}

/**
 * The readable prices; one that cannot be read (or is negative) is skipped
 * and tallied (the entries it priced then count as unpriced). Even none
 * readable does not refuse the answer: its quantities still are.
 */
function parsePrices(v: Json | undefined, tally: UnreadableTally): Price[] {
  if (v === null || v === undefined) return [];
  return expectArray(v, 'usage.prices').flatMap((raw, i) => {
    const at = `usage.prices[${i}]`;
    const price = tally.attempt(() => {
      const p = expectObject(raw, at);
      if (p.price === undefined || p.price === null) throw new ParseError(`${at}.price: missing`, 'missing');
      return {
        eventType: optionalString(p.event_type, `${at}.event_type`),
        billingMetric: optionalString(p.billing_metric, `${at}.billing_metric`),
        billingGroup: optionalString(p.billing_group, `${at}.billing_group`),
        zone: optionalString(p.api_zone, `${at}.api_zone`),
        tier: optionalString(p.service_tier, `${at}.service_tier`),
        price: amount(p.price, `${at}.price`),
      };
    });
    return price === undefined ? [] : [price];
  });
}

/** The zones the prices name (non-null `api_zone`), in the order first named. */
export function priceZones(answer: UsageAnswer): string[] {
  return [...new Set(answer.prices.map((p) => p.zone).filter((z): z is string => z !== undefined))];
}

/**
 * The unit price of an entry, `{ambiguous}` naming the field that leaves it
 * undecided, or undefined when no price matches. `tier`: the entry's own,
 * else the assumed one.
 */
function matchPrice(prices: Price[], e: UsageEntry, tier: string | undefined): { price: Big } | { ambiguous: AmbiguousField } | undefined {
  const matches = (field: string | undefined, value: string) => field === undefined || field === value;
  const zoneMatches = (z: string | undefined) => z === undefined || (e.zone !== undefined ? z === e.zone : !(e.notZones?.has(z) ?? false));
  let best: Price[] = [];
  let bestRank = -1;
  for (const p of prices) {
    if (!matches(p.eventType, e.eventType) || !matches(p.billingMetric, e.model) || !matches(p.billingGroup, e.billingGroup)) continue;
    if (!zoneMatches(p.zone) || (tier !== undefined && !matches(p.tier, tier))) continue;
    const named = [p.eventType, p.billingMetric, p.billingGroup].filter((f) => f !== undefined).length;
    // A named zone or tier is more specific only when the entry's is known (then it is equal).
    const rank = named * 4 + (e.zone !== undefined && p.zone !== undefined ? 2 : 0) + (tier !== undefined && p.tier !== undefined ? 1 : 0);
    if (rank > bestRank) {
      best = [p];
      bestRank = rank;
    } else if (rank === bestRank) best.push(p);
  }
  const first = best[0];
  if (first === undefined) return undefined;
  if (best.every((p) => p.price.eq(first.price))) return { price: first.price };
  const differ = (f: (p: Price) => string | undefined) => new Set(best.map(f)).size > 1;
  if (e.zone === undefined && differ((p) => p.zone)) return { ambiguous: 'api_zone' };
  if (tier === undefined && differ((p) => p.tier)) return { ambiguous: 'service_tier' };
  return { ambiguous: 'price' };
}

export const USAGE_FAMILIES = {
  cost: {
    name: 'mistral_usage_cost',
    help: `Month-to-date cost in whole currency units from GET usage: sum of value_paid times the unit price matching the entry on every field both carry; api_zone and service_tier only where the prices vary by them and the entry's are known. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group', 'currency', 'api_zone', 'service_tier'],
    optionalLabels: ['api_zone', 'service_tier'],
  },
  tokens: {
    name: 'mistral_usage_tokens',
    help: `Month-to-date tokens (value of *_tokens events) from GET usage; token_type is the billing group. ${REFRESHED}`,
    labelNames: ['category', 'model', 'token_type'],
  },
  pages: {
    name: 'mistral_usage_pages',
    help: `Month-to-date pages (value of *_pages events) from GET usage. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group'],
  },
  audio_seconds: {
    name: 'mistral_usage_audio_seconds',
    help: `Month-to-date audio seconds (value of *_audio_seconds events) from GET usage. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group'],
  },
  audio_characters: {
    name: 'mistral_usage_audio_characters',
    help: `Month-to-date audio characters (value of *_audio_characters events) from GET usage. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group'],
  },
  gpu_seconds: {
    name: 'mistral_usage_gpu_seconds',
    help: `Month-to-date GPU time in seconds (value of gpu_hour events, in hours, times 3600) from GET usage. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group'],
  },
  reserved_instances: {
    name: 'mistral_usage_reserved_instances',
    help: `Month-to-date reserved instances (value of reserved_instance events, as given) from GET usage. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group'],
  },
  fineTuningStorage: {
    name: 'mistral_usage_fine_tuning_storage',
    help: `Fine-tuning storage per fine-tuned model (fine_tuning.storage of GET usage), the integer as given: the API does not name its unit. ${REFRESHED}`,
    labelNames: ['model'],
  },
  legacyVibe: {
    name: 'mistral_usage_legacy_vibe_amount',
    help: `The legacy top-level vibe_usage amount of GET usage, as given (once the current Vibe usage amount, now documented as always 0; Vibe cost is in mistral_usage_cost and mistral_spend). ${REFRESHED}`,
    labelNames: ['currency'],
  },
  unpriced: {
    name: 'mistral_usage_unpriced_entries',
    help: `Usage entries from GET usage with no matching unit price; their cost is left out of mistral_usage_cost. ${REFRESHED}`,
    labelNames: ['category'],
  },
  ambiguous: {
    name: 'mistral_usage_ambiguous_price_entries',
    help: `Usage entries from GET usage whose unit price is ambiguous: they do not say their api_zone or service_tier (field) and the matching prices differ by it; their cost is left out of mistral_usage_cost (USAGE_ASSUMED_SERVICE_TIER settles the tier). ${REFRESHED}`,
    labelNames: ['category', 'field'],
  },
  unknownUnit: {
    name: 'mistral_usage_unknown_unit_entries',
    help: `Usage entries from GET usage whose event type has no known unit; their cost counts, their quantity is not exported. ${REFRESHED}`,
    labelNames: ['event_type'],
  },
  zoneFilter: {
    name: 'mistral_usage_zone_filter_ignored',
    help: `1 when GET usage, asked per api_zone, answered more than the unfiltered answer (the filter is not honoured: entries are priced with their zone unknown), 0 when it honoured it; absent when not asked per zone. ${REFRESHED}`,
    labelNames: [],
  },
  workspaceUtilization: {
    name: 'mistral_workspace_spend_limit_utilization_ratio',
    help: `A workspace's month-to-date cost (the sum of its mistral_usage_cost, GET usage) divided by its own monthly limit (GET workspaces), 0..1 and above; absent without a limit, and when the cost and the limit are in different currencies. ${REFRESHED}`,
    labelNames: ['workspace_id', 'currency'],
  },
  workspaceProjected: {
    name: 'mistral_workspace_spend_projected',
    help: `A workspace's month-end cost projected linearly from its month-to-date cost (GET usage) and the time elapsed in the UTC calendar month, in the cost's currency; absent during the month's first day and for a workspace without a monthly limit (GET workspaces). ${REFRESHED}`,
    labelNames: ['workspace_id', 'currency'],
  },
  periodStart: {
    name: 'mistral_billing_period_start_timestamp_seconds',
    help: `Start of the billing period the usage figures cover (start_date of GET usage). ${REFRESHED}`,
    labelNames: [],
  },
  periodEnd: {
    name: 'mistral_billing_period_end_timestamp_seconds',
    help: `End of the billing period the usage figures cover (end_date of GET usage). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

const QUANTITY_UNITS = [
  'tokens',
  'pages',
  'audio_seconds',
  'audio_characters',
  'gpu_seconds',
  'reserved_instances',
] as const satisfies Unit[];

/** The `model` label of the usage the MAX_MODELS cap folds together. */
export const OTHER_MODEL = 'other';

/**
 * The MAX_MODELS cap: the `maxModels` models with the highest month-to-date
 * cost over the whole snapshot (every workspace), ties broken by name, the
 * same models in every workspace; and, apart, the `maxModels` fine-tuned
 * models with the most storage. What is not kept is folded into
 * `model="other"`, so that every sum stays whole.
 */
export function usageModelCap(snapshot: UsageSnapshot, maxModels: number) {
  const costs = new Map<string, Big>();
  const storage = new Map<string, Big>();
  for (const report of snapshot.reports) {
    for (const row of report.rows) costs.set(row.model, (costs.get(row.model) ?? new Big(0)).plus(row.cost ?? 0));
    for (const [model, n] of report.fineTuningStorage) storage.set(model, (storage.get(model) ?? new Big(0)).plus(n));
  }
  const asNumbers = (m: Map<string, Big>) => new Map([...m].map(([model, v]) => [model, Number(v.toString())]));
  return { models: topIds(asNumbers(costs), maxModels), storage: topIds(asNumbers(storage), maxModels) };
}

/** The usage families whose series the MAX_MODELS cap folds into `model="other"`. */
const CAPPED_USAGE_FAMILIES = [USAGE_FAMILIES.cost, ...QUANTITY_UNITS.map((u) => USAGE_FAMILIES[u]), USAGE_FAMILIES.fineTuningStorage].map(
  (f) => f.name,
);

/**
 * Per capped family, the series the MAX_MODELS cap folded away: the series
 * there would be without the cap, less those there are (0 when none).
 */
export function usageSeriesDropped(snapshot: UsageSnapshot, maxModels: number): Record<string, number> {
  const out = Object.fromEntries(CAPPED_USAGE_FAMILIES.map((name) => [name, 0]));
  const { models, storage } = usageModelCap(snapshot, maxModels);
  if (models.dropped === 0 && storage.dropped === 0) return out;
  const count = (families: MetricFamily[]) => new Map(families.map((f) => [f.name, f.samples.length]));
  const capped = count(usageFamilies(snapshot, maxModels));
  for (const [name, n] of count(usageFamilies(snapshot))) if (name in out) out[name] = n - (capped.get(name) ?? 0);
  return out;
}

/**
 * Pure: the usage metric families of a snapshot; beyond `maxModels` models
 * (MAX_MODELS), the rest is summed into `model="other"` (see `usageModelCap`).
 */
export function usageFamilies(snapshot: UsageSnapshot, maxModels = Number.POSITIVE_INFINITY): MetricFamily[] {
  const cap = usageModelCap(snapshot, maxModels);
  const modelOf = (model: string) => (cap.models.dropped === 0 || cap.models.kept.has(model) ? model : OTHER_MODEL);
  const storedModelOf = (model: string) => (cap.storage.dropped === 0 || cap.storage.kept.has(model) ? model : OTHER_MODEL);
  const ws = snapshot.byWorkspace;
  const withWs = (def: FamilyDef): FamilyDef => withWorkspace(def, ws);
  const wsLabel = (r: UsageReport): Record<string, string> => workspaceLabel(ws, r.workspaceId);

  const cost = new DecimalSums();
  const quantities = Object.fromEntries(QUANTITY_UNITS.map((u) => [u, new DecimalSums()])) as Record<Unit, DecimalSums>;
  const unpriced = new DecimalSums();
  const ambiguous = new DecimalSums();
  const unknownUnit = new DecimalSums();
  const storage = new DecimalSums();
  const legacyVibe = new DecimalSums();
  const zoneFilterIgnored = new DecimalSums();

  for (const report of snapshot.reports) {
    for (const row of report.rows) {
      const { category, billingGroup } = row;
      const model = modelOf(row.model);
      if (row.cost !== undefined) {
        const varying = {
          ...(row.zone === undefined ? {} : { api_zone: row.zone }),
          ...(row.tier === undefined ? {} : { service_tier: row.tier }),
        };
        cost.add({ category, model, billing_group: billingGroup, currency: report.currency, ...varying, ...wsLabel(report) }, row.cost);
      }
      const unit = unitOf(row.eventType);
      if (unit === 'tokens') quantities.tokens.add({ category, model, token_type: billingGroup, ...wsLabel(report) }, row.quantity);
      else if (unit !== undefined)
        quantities[unit].add({ category, model, billing_group: billingGroup, ...wsLabel(report) }, inBaseUnit(unit, row.quantity));
    }
    for (const [category, n] of report.unpricedEntries) unpriced.add({ category, ...wsLabel(report) }, new Big(n));
    for (const [category, fields] of report.ambiguousEntries) {
      for (const [field, { count }] of fields) ambiguous.add({ category, field, ...wsLabel(report) }, new Big(count));
    }
    for (const [eventType, n] of report.unknownUnitEntries) unknownUnit.add({ event_type: eventType, ...wsLabel(report) }, new Big(n));
    for (const [model, n] of report.fineTuningStorage) storage.add({ model: storedModelOf(model), ...wsLabel(report) }, n);
    if (report.legacyVibeUsage !== undefined) legacyVibe.add({ currency: report.currency, ...wsLabel(report) }, report.legacyVibeUsage);
    if (report.zoneFilterHonoured !== undefined) zoneFilterIgnored.add(wsLabel(report), new Big(report.zoneFilterHonoured ? 0 : 1));
  }

  const spend = workspaceSpend(snapshot);
  const first = snapshot.reports[0];
  return [
    family(withWs(USAGE_FAMILIES.cost), cost.samples()),
    family(withWs(USAGE_FAMILIES.tokens), quantities.tokens.samples()),
    family(withWs(USAGE_FAMILIES.pages), quantities.pages.samples()),
    family(withWs(USAGE_FAMILIES.audio_seconds), quantities.audio_seconds.samples()),
    family(withWs(USAGE_FAMILIES.audio_characters), quantities.audio_characters.samples()),
    family(withWs(USAGE_FAMILIES.gpu_seconds), quantities.gpu_seconds.samples()),
    family(withWs(USAGE_FAMILIES.reserved_instances), quantities.reserved_instances.samples()),
    family(withWs(USAGE_FAMILIES.fineTuningStorage), storage.samples()),
    family(withWs(USAGE_FAMILIES.legacyVibe), legacyVibe.samples()),
    family(withWs(USAGE_FAMILIES.unpriced), unpriced.samples()),
    family(withWs(USAGE_FAMILIES.ambiguous), ambiguous.samples()),
    family(withWs(USAGE_FAMILIES.unknownUnit), unknownUnit.samples()),
    family(withWs(USAGE_FAMILIES.zoneFilter), zoneFilterIgnored.samples()),
    family(USAGE_FAMILIES.workspaceUtilization, spend.utilization),
    family(USAGE_FAMILIES.workspaceProjected, spend.projected),
    family(USAGE_FAMILIES.periodStart, single(first?.periodStart)),
    family(USAGE_FAMILIES.periodEnd, single(first?.periodEnd)),
  ];
}

/**
 * Each workspace's month-to-date cost (Σ of its priced rows, in its answer's
 * currency) against its own monthly limit, as the organization's spend is
 * against its limit (spend-limit.ts): the ratio when the limit is above 0 and
 * in the cost's currency, and the linear month-end projection once a day of
 * the UTC month has passed. Nothing for a workspace without a limit.
 */
function workspaceSpend(snapshot: UsageSnapshot): { utilization: Sample[]; projected: Sample[] } {
  const utilization: Sample[] = [];
  const projected: Sample[] = [];
  const known = snapshot.workspaceLimits;
  if (!snapshot.byWorkspace || known === undefined) return { utilization, projected };
  const month = utcMonthBounds(known.fetchedAt);
  const elapsed = known.fetchedAt - month.start;
  for (const report of snapshot.reports) {
    const limit = report.workspaceId === undefined ? undefined : known.limits.get(report.workspaceId);
    if (limit === undefined) continue;
    const cost = report.rows.reduce((sum, row) => (row.cost === undefined ? sum : sum.plus(row.cost)), new Big(0));
    const labels = { workspace_id: report.workspaceId ?? '', currency: report.currency };
    if (limit.currency === report.currency && limit.value.gt(0))
      utilization.push({ labels, value: decimalToNumber(cost.div(limit.value)) });
    if (elapsed >= DAY_MS) projected.push({ labels, value: decimalToNumber(cost.times(month.end - month.start).div(elapsed)) });
  }
  return { utilization, projected };
}

/**
 * A usage answer whose billing period starts outside the month asked for is
 * not the answer asked for: it is refused (the last good data stays) rather
 * than served as this month's figures.
 */
function checkPeriod(report: Pick<UsageReport, 'periodStart'>, query: { month: number; year: number }): void {
  if (report.periodStart === undefined) return;
  const { start, end } = utcMonthBounds(Date.UTC(query.year, query.month - 1, 1));
  if (report.periodStart * 1000 < start || report.periodStart * 1000 >= end) {
    const asked = `${query.year}-${String(query.month).padStart(2, '0')}`;
    const got = new Date(report.periodStart * 1000).toISOString().slice(0, 10);
    throw new ParseError(`usage.start_date: the answer covers a period starting ${got}, not the month asked for (${asked})`, 'wrong_type');
  }
}

/** The `month`/`year` query of the current UTC billing month. */
export function currentMonthQuery(now: number): { month: number; year: number } {
  const d = new Date(now);
  return { month: d.getUTCMonth() + 1, year: d.getUTCFullYear() };
}

/**
 * Above this share of the unfiltered answer, the per-zone answers add up to
 * more than there is: the server does not honour `api_zone`. Below, the
 * difference is usage that grew between the calls.
 */
const ZONE_FILTER_TOLERANCE = new Big('1.01');

/** Σ value of entries. */
function totalQuantity(entries: readonly UsageEntry[]): Big {
  return entries.reduce((sum, e) => sum.plus(e.quantity), new Big(0));
}

/** What tells apart the entries an unfiltered answer and the per-zone ones hold alike: the day too, so that what is left over keeps its day. */
function entryKey(e: UsageEntry): string {
  return [e.category, e.model, e.billingGroup, e.eventType, e.tier ?? '', e.day ?? ''].join('\u0000');
}

/**
 * The unfiltered answer's usage that no per-zone answer holds (of a zone the
 * prices do not name), per entry key: known not to be of any zone asked.
 */
function leftOver(all: readonly UsageEntry[], zoned: readonly UsageEntry[], asked: ReadonlySet<string>): UsageEntry[] {
  const rest = new Map<string, UsageEntry>();
  for (const e of all) {
    if (e.zone !== undefined) continue;
    const seen = rest.get(entryKey(e));
    if (seen) {
      seen.quantity = seen.quantity.plus(e.quantity);
      seen.paid = seen.paid.plus(e.paid);
    } else rest.set(entryKey(e), { ...e, notZones: asked });
  }
  for (const e of zoned) {
    const seen = rest.get(entryKey(e));
    if (seen) {
      seen.quantity = seen.quantity.minus(e.quantity);
      seen.paid = seen.paid.minus(e.paid);
    }
  }
  return [...rest.values()].filter((e) => e.quantity.gt(0) && e.paid.gte(0));
}

export interface UsageReaderContext {
  get: FetchContext['get'];
  logger: FetchContext['logger'];
  reportOnce: ReturnType<typeof warnOnce>;
}

/**
 * One workspace's (or the organization's) usage: the unfiltered answer,
 * then, when its prices name more than one zone, one answer per zone, each
 * entry of which is of that zone. When the per-zone answers add up to more
 * than the unfiltered one, the server ignored the filter: the unfiltered
 * answer is priced with the zone unknown.
 */
async function readWorkspaceUsage(
  ctx: UsageReaderContext,
  query: { month: number; year: number },
  workspaceId: string | undefined,
  tally: UnreadableTally,
  options: PricingOptions,
): Promise<UsageReport> {
  const { answer, entries, zoneFilterHonoured } = await readWorkspaceEntries(ctx, query, workspaceId, tally);
  const report = priceUsage(answer, entries, options);
  return zoneFilterHonoured === undefined ? report : { ...report, zoneFilterHonoured };
}

/** One workspace's (or the organization's) readable usage entries of a month, each of its zone where known (see `readWorkspaceUsage`), not priced yet. */
export interface MonthEntries {
  /** The unfiltered answer: its price list prices the entries. */
  answer: UsageAnswer;
  entries: UsageEntry[];
  /** Set when asked per zone: whether the server honoured the `api_zone` filter. */
  zoneFilterHonoured: boolean | undefined;
}

/** The entries `readWorkspaceUsage` prices, read as it reads them: the FOCUS export prices them per day. */
export async function readWorkspaceEntries(
  ctx: UsageReaderContext,
  query: { month: number; year: number },
  workspaceId: string | undefined,
  tally: UnreadableTally,
): Promise<MonthEntries> {
  const base = { ...query, workspace_id: workspaceId };
  const all = readUsage((await ctx.get(base)).body, workspaceId, tally);
  checkPeriod(all, query);
  const zones = priceZones(all);
  if (zones.length < 2) return { answer: all, entries: all.entries, zoneFilterHonoured: undefined };

  // The per-zone answers hold the unfiltered answer's entries again: what cannot be read in them is
  // counted once, in the unfiltered answer (an entry only they cannot read falls to the zone-unknown rest).
  const perZone = await Promise.all(
    zones.map(async (zone) => {
      const answer = readUsage((await ctx.get({ ...base, api_zone: zone })).body, workspaceId, new UnreadableTally(), zone);
      checkPeriod(answer, query);
      return answer;
    }),
  );
  const zoned = perZone.flatMap((a) => a.entries);
  const honoured = totalQuantity(zoned).lte(totalQuantity(all.entries).times(ZONE_FILTER_TOLERANCE));
  if (!honoured) {
    const fields = { api_endpoint: 'usage', workspace_id: workspaceId, zones };
    ctx.reportOnce(
      ctx.logger,
      'zone-filter',
      fields,
      'usage asked per api_zone answered more than in all zones together: the filter is not honoured; entries are priced with their zone unknown',
    );
    return { answer: all, entries: all.entries, zoneFilterHonoured: false };
  }
  const entries = [
    ...zoned,
    ...all.entries.filter((e) => e.zone !== undefined && !zones.includes(e.zone)),
    ...leftOver(all.entries, zoned, new Set(zones)),
  ];
  return { answer: all, entries, zoneFilterHonoured: true };
}

/** Logs, once each, what left cost out: unpriced and ambiguous entries, and units not known. */
export function reportGaps(ctx: Pick<UsageReaderContext, 'logger' | 'reportOnce'>, report: UsageReport): void {
  for (const [category, n] of report.unpricedEntries) {
    if (n > 0) {
      const fields = { api_endpoint: 'usage', category, entries: n };
      ctx.reportOnce(ctx.logger, `unpriced:${category}`, fields, 'usage entries with no matching unit price: their cost is left out');
    }
  }
  for (const [category, byField] of report.ambiguousEntries) {
    for (const [field, { count, example }] of byField) {
      const fields = { api_endpoint: 'usage', category, field, entries: count, first: example };
      const advice =
        field === 'service_tier'
          ? 'set USAGE_ASSUMED_SERVICE_TIER to the tier they are billed at (standard, for an organization without a Priority Tier entitlement)'
          : field === 'api_zone'
            ? 'the API did not say their zone (see mistral_usage_zone_filter_ignored)'
            : 'the price list holds several prices for the same fields';
      ctx.reportOnce(
        ctx.logger,
        `ambiguous:${category}:${field}`,
        fields,
        `usage entries whose unit price is ambiguous (${field}): their cost is left out; ${advice}`,
      );
    }
  }
  for (const eventType of report.unknownUnitEntries.keys()) {
    const fields = { api_endpoint: 'usage', event_type: eventType };
    ctx.reportOnce(
      ctx.logger,
      `unit:${eventType}`,
      fields,
      'usage event type with no known unit: its cost counts, its quantity is not exported',
    );
  }
}

/** Logs, once, that the answer named more models than MAX_MODELS. */
function reportCap(ctx: UsageReaderContext, snapshot: UsageSnapshot, maxModels: number): void {
  const { models, storage } = usageModelCap(snapshot, maxModels);
  if (models.dropped === 0 && storage.dropped === 0) return;
  const fields = { api_endpoint: 'usage', max_models: maxModels, models_folded: models.dropped, fine_tuned_models_folded: storage.dropped };
  ctx.reportOnce(
    ctx.logger,
    'max-models',
    fields,
    `usage names more models than MAX_MODELS: those beyond the ${maxModels} with the highest cost are summed into model="${OTHER_MODEL}" (see mistral_exporter_series_dropped)`,
  );
}

export const usage = defineEndpoint({
  id: 'usage',
  describe: 'GET usage',
  title: 'usage',
  paths: 'usage',
  intervalGroup: 'billing',
  query: '`month` and `year` of the current UTC month; when the prices name several zones, once more per zone with `api_zone`',
  perWorkspace: true,
  families: Object.values(USAGE_FAMILIES),
  reader: ({ workspaceIds, maxWorkspaces, assumedServiceTier, maxModels }) => {
    const reportOnce = warnOnce();
    return {
      async fetch(ctx): Promise<UsageSnapshot> {
        const targets = await workspaceTargets(ctx, { workspaceIds, maxWorkspaces });
        const query = currentMonthQuery(ctx.now);
        const tally = new UnreadableTally();
        const own = { get: ctx.get, logger: ctx.logger, reportOnce };
        reportNotFollowed(reportOnce, ctx, 'usage', targets);
        const reports = await perWorkspace(targets, (workspaceId) =>
          readWorkspaceUsage(own, query, workspaceId, tally, { assumedServiceTier }),
        );
        for (const report of reports) reportGaps(own, report);
        const snapshot: UsageSnapshot = {
          byWorkspace: targets.byWorkspace,
          reports,
          unreadable: tally.result(),
          workspaceLimits: { fetchedAt: ctx.now, limits: targets.limits, notFollowed: targets.notFollowed.withLimit },
        };
        reportCap(own, snapshot, maxModels);
        return snapshot;
      },
      toFamilies: (s) => usageFamilies(s, maxModels),
      // With MISTRAL_WORKSPACE_IDS=all, the ratios of the workspaces with a limit that MAX_WORKSPACES left out.
      seriesDropped: (s) => ({
        ...usageSeriesDropped(s, maxModels),
        ...(s.byWorkspace ? { [USAGE_FAMILIES.workspaceUtilization.name]: s.workspaceLimits?.notFollowed ?? 0 } : {}),
      }),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
