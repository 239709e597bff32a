import { Big } from 'big.js';
import { warnOnce } from '../logger.js';
import { DecimalSums, family, REFRESHED, single, type FamilyDef } from './families.js';
import {
  expectArray,
  expectObject,
  isObject,
  optionalString,
  optionalTimestampSeconds,
  toDecimal,
  type Json,
  type JsonObject,
} from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Unreadable } from './types.js';
import { perWorkspace, withWorkspace, workspaceLabel } from './per-workspace.js';
import { refuseUnreadable, UnreadableTally } from './unreadable.js';
import { utcMonthBounds } from './windows.js';

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

export type Unit = 'tokens' | 'pages' | 'audio_seconds' | 'audio_characters';

/** The unit of an event type's quantity, or undefined when it is not known yet. */
export function unitOf(eventType: string): Unit | undefined {
  if (eventType.endsWith('_tokens')) return 'tokens';
  if (eventType.endsWith('_pages')) return 'pages';
  if (eventType.endsWith('_audio_seconds') || eventType === 'api_libraries_audio') return 'audio_seconds';
  if (eventType.endsWith('_audio_characters')) return 'audio_characters';
  return undefined;
}

export interface UsageRow {
  category: string;
  model: string;
  billingGroup: string;
  eventType: string;
  /** Σ value. */
  quantity: Big;
  /** Σ value_paid × unit price; undefined when no price matches. */
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
  /** Entries whose event type has no known unit, per event type. */
  unknownUnitEntries: Map<string, number>;
}

export interface UsageSnapshot {
  /** True when usage is broken down by workspace (the families then carry workspace_id). */
  byWorkspace: boolean;
  reports: UsageReport[];
  unreadable?: Unreadable;
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

const CURRENCY_OF_SYMBOL: Record<string, string> = { '€': 'EUR', $: 'USD', '£': 'GBP' };

/** ISO 4217's code for "no currency", used when the answer names none. */
export const UNKNOWN_CURRENCY = 'XXX';

/**
 * Parses one `usage` answer. An entry, a model's groups or a price that
 * cannot be read is skipped and tallied; the answer is refused (ParseError)
 * when it is not an object, has neither prices nor categories, or has
 * entries and none of them is readable.
 */
export function parseUsage(body: unknown, workspaceId?: string, tally = new UnreadableTally()): UsageReport {
  const root = expectObject(body, 'usage');
  const prices = parsePrices(root.prices, tally);
  const currency =
    optionalString(root.currency, 'usage.currency')?.trim().toUpperCase() ||
    CURRENCY_OF_SYMBOL[optionalString(root.currency_symbol, 'usage.currency_symbol')?.trim() ?? ''] ||
    UNKNOWN_CURRENCY;

  const rows = new Map<string, UsageRow>();
  const unpricedEntries = new Map<string, number>();
  const unknownUnitEntries = new Map<string, number>();
  let categoryCount = 0;
  let entryCount = 0;
  let readable = 0;

  for (const { category, models, where } of categories(root)) {
    categoryCount += 1;
    unpricedEntries.set(category, unpricedEntries.get(category) ?? 0);
    for (const [modelKey, groups] of Object.entries(models)) {
      const groupMap = tally.attempt(() => expectObject(groups, `${where}.${modelKey}`));
      if (groupMap === undefined) {
        entryCount += 1;
        continue;
      }
      for (const [groupKey, entries] of Object.entries(groupMap)) {
        const list = tally.attempt(() => expectArray(entries, `${where}.${modelKey}.${groupKey}`));
        if (list === undefined) {
          entryCount += 1;
          continue;
        }
        list.forEach((raw, i) => {
          entryCount += 1;
          const at = `${where}.${modelKey}.${groupKey}[${i}]`;
          const read = tally.attempt(() => readEntry(raw, at, modelKey, groupKey));
          if (read === undefined) return;
          readable += 1;
          const { eventType, model, billingGroup, quantity, paid } = read;
          const price = matchPrice(prices, eventType, model, billingGroup);

          if (price === undefined) unpricedEntries.set(category, (unpricedEntries.get(category) ?? 0) + 1);
          if (unitOf(eventType) === undefined) unknownUnitEntries.set(eventType, (unknownUnitEntries.get(eventType) ?? 0) + 1);

          const key = [category, model, billingGroup, eventType].join('\u0000');
          const cost = price === undefined ? undefined : paid.times(price);
          const row = rows.get(key);
          if (row) {
            row.quantity = row.quantity.plus(quantity);
            row.cost = cost === undefined ? row.cost : (row.cost ?? new Big(0)).plus(cost);
          } else {
            rows.set(key, { category, model, billingGroup, eventType, quantity, cost });
          }
        });
      }
    }
  }

  if (root.prices === undefined && categoryCount === 0) {
    throw new ParseError('usage: the answer has no prices and no usage category (e.g. completion: {models: ...})', 'missing');
  }
  refuseUnreadable('usage', [{ entries: entryCount, read: readable }], tally);

  return {
    workspaceId,
    currency,
    periodStart: optionalTimestampSeconds(root.start_date),
    periodEnd: optionalTimestampSeconds(root.end_date),
    rows: [...rows.values()],
    unpricedEntries,
    unknownUnitEntries,
  };
}

/**
 * Every usage category in the answer, named as the catalog says: the
 * top-level key, nested keys joined with `_` (libraries_api_pages,
 * vibe_code_completion, fine_tuning_training). A category is an object with
 * a `models` map, or itself a model map (fine_tuning.training); anything
 * else (fine_tuning.storage, new scalar fields) is not usage by model.
 * Unknown keys of either shape are read like the known ones.
 */
function* categories(root: JsonObject): Generator<{ category: string; models: JsonObject; where: string }> {
  for (const [key, value] of Object.entries(root)) {
    if (META_KEYS.has(key) || !isObject(value)) continue;
    if (isObject(value.models)) {
      yield { category: key, models: value.models, where: `usage.${key}.models` };
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

/** `mistral-large-latest::mistral-large-2411` names the dated model after `::`. */
function modelFromKey(key: string): string {
  const i = key.lastIndexOf('::');
  return i >= 0 ? key.slice(i + 2) : key;
}

/**
 * One entry: its quantity (`value`) and the quantity paid (`value_paid`)
 * are both required, never read as 0 when absent. The names fall back to
 * the keys the entry sits under.
 */
function readEntry(raw: Json, at: string, modelKey: string, groupKey: string) {
  const entry = expectObject(raw, at);
  if (entry.value === undefined || entry.value === null) throw new ParseError(`${at}.value: missing`, 'missing');
  if (entry.value_paid === undefined || entry.value_paid === null) throw new ParseError(`${at}.value_paid: missing`, 'missing');
  return {
    eventType: optionalString(entry.event_type, `${at}.event_type`) ?? 'unknown',
    model: optionalString(entry.billing_metric, `${at}.billing_metric`) ?? modelFromKey(modelKey),
    billingGroup: optionalString(entry.billing_group, `${at}.billing_group`) ?? groupKey,
    quantity: toDecimal(entry.value, `${at}.value`),
    paid: toDecimal(entry.value_paid, `${at}.value_paid`),
  };
}

/**
 * The readable prices; one that cannot be read is skipped and tallied (the
 * entries it priced then count as unpriced). Even none readable does not
 * refuse the answer: its quantities still are.
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
        price: toDecimal(p.price, `${at}.price`),
      };
    });
    return price === undefined ? [] : [price];
  });
}

/**
 * The unit price for an entry. A field a price leaves null matches any
 * entry (the spec lets `event_type` be null); among the prices that match,
 * the one naming the most fields wins, then zone `global` and tier
 * `standard`.
 */
function matchPrice(prices: Price[], eventType: string, model: string, group: string): Big | undefined {
  let best: Price | undefined;
  let bestRank = Infinity;
  for (const p of prices) {
    const matches = (field: string | undefined, value: string) => field === undefined || field === value;
    if (!matches(p.eventType, eventType) || !matches(p.billingMetric, model) || !matches(p.billingGroup, group)) continue;
    const unnamed = [p.eventType, p.billingMetric, p.billingGroup].filter((f) => f === undefined).length;
    const rank = unnamed * 4 + (p.zone === 'global' ? 0 : 2) + (p.tier === 'standard' ? 0 : 1);
    if (rank < bestRank) {
      best = p;
      bestRank = rank;
    }
  }
  return best?.price;
}

export const USAGE_FAMILIES = {
  cost: {
    name: 'mistral_usage_cost',
    help: `Month-to-date cost in whole currency units from GET usage: sum of value_paid times the matching unit price. ${REFRESHED}`,
    labelNames: ['category', 'model', 'billing_group', 'currency'],
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
  unpriced: {
    name: 'mistral_usage_unpriced_entries',
    help: `Usage entries from GET usage with no matching unit price; their cost is left out of mistral_usage_cost. ${REFRESHED}`,
    labelNames: ['category'],
  },
  unknownUnit: {
    name: 'mistral_usage_unknown_unit_entries',
    help: `Usage entries from GET usage whose event type has no known unit; their cost counts, their quantity is not exported. ${REFRESHED}`,
    labelNames: ['event_type'],
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

/** Pure: the usage metric families of a snapshot. */
export function usageFamilies(snapshot: UsageSnapshot): MetricFamily[] {
  const ws = snapshot.byWorkspace;
  const withWs = (def: FamilyDef): FamilyDef => withWorkspace(def, ws);
  const wsLabel = (r: UsageReport): Record<string, string> => workspaceLabel(ws, r.workspaceId);

  const cost = new DecimalSums();
  const quantities: Record<Unit, DecimalSums> = {
    tokens: new DecimalSums(),
    pages: new DecimalSums(),
    audio_seconds: new DecimalSums(),
    audio_characters: new DecimalSums(),
  };
  const unpriced = new DecimalSums();
  const unknownUnit = new DecimalSums();

  for (const report of snapshot.reports) {
    for (const row of report.rows) {
      const { category, model, billingGroup } = row;
      if (row.cost !== undefined) {
        cost.add({ category, model, billing_group: billingGroup, currency: report.currency, ...wsLabel(report) }, row.cost);
      }
      const unit = unitOf(row.eventType);
      if (unit === 'tokens') quantities.tokens.add({ category, model, token_type: billingGroup, ...wsLabel(report) }, row.quantity);
      else if (unit !== undefined) quantities[unit].add({ category, model, billing_group: billingGroup, ...wsLabel(report) }, row.quantity);
    }
    for (const [category, n] of report.unpricedEntries) unpriced.add({ category, ...wsLabel(report) }, new Big(n));
    for (const [eventType, n] of report.unknownUnitEntries) unknownUnit.add({ event_type: eventType, ...wsLabel(report) }, new Big(n));
  }

  const first = snapshot.reports[0];
  return [
    family(withWs(USAGE_FAMILIES.cost), cost.samples()),
    family(withWs(USAGE_FAMILIES.tokens), quantities.tokens.samples()),
    family(withWs(USAGE_FAMILIES.pages), quantities.pages.samples()),
    family(withWs(USAGE_FAMILIES.audio_seconds), quantities.audio_seconds.samples()),
    family(withWs(USAGE_FAMILIES.audio_characters), quantities.audio_characters.samples()),
    family(withWs(USAGE_FAMILIES.unpriced), unpriced.samples()),
    family(withWs(USAGE_FAMILIES.unknownUnit), unknownUnit.samples()),
    family(USAGE_FAMILIES.periodStart, single(first?.periodStart)),
    family(USAGE_FAMILIES.periodEnd, single(first?.periodEnd)),
  ];
}

/**
 * A usage answer whose billing period starts outside the month asked for is
 * not the answer asked for: it is refused (the last good data stays) rather
 * than served as this month's figures.
 */
function checkPeriod(report: UsageReport, query: { month: number; year: number }): void {
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

export const usage = defineEndpoint({
  id: 'usage',
  describe: 'GET usage',
  title: 'usage',
  paths: 'usage',
  intervalGroup: 'billing',
  query: '`month` and `year` of the current UTC month',
  perWorkspace: true,
  families: Object.values(USAGE_FAMILIES),
  reader: ({ workspaceIds }) => {
    const reportOnce = warnOnce();
    return {
      async fetch(ctx): Promise<UsageSnapshot> {
        const query = currentMonthQuery(ctx.now);
        const tally = new UnreadableTally();
        const reports = await perWorkspace(workspaceIds, async (workspaceId) => {
          const report = parseUsage((await ctx.get({ ...query, workspace_id: workspaceId })).body, workspaceId, tally);
          checkPeriod(report, query);
          return report;
        });
        for (const report of reports) {
          for (const [category, n] of report.unpricedEntries) {
            if (n > 0) {
              const fields = { api_endpoint: 'usage', category, entries: n };
              reportOnce(ctx.logger, `unpriced:${category}`, fields, 'usage entries with no matching unit price: their cost is left out');
            }
          }
          for (const eventType of report.unknownUnitEntries.keys()) {
            const fields = { api_endpoint: 'usage', event_type: eventType };
            reportOnce(
              ctx.logger,
              `unit:${eventType}`,
              fields,
              'usage event type with no known unit: its cost counts, its quantity is not exported',
            );
          }
        }
        return { byWorkspace: workspaceIds.length > 0, reports, unreadable: tally.result() };
      },
      toFamilies: usageFamilies,
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
