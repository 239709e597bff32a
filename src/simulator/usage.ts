/**
 * Billing: the `usage` body (UsageOUTJSON), `spend-limit` (LimitsOUT) and
 * `rate-limit` (RateLimitsOUT), plus their exact ground truth.
 *
 * A usage line's quantity for (slot, day) is a pure function of the seed; the
 * current day is cut at "now" (floor(full-day × elapsed fraction)), so usage
 * and spend grow through the day and the month and never show the future.
 */
import {
  CURRENCY,
  CURRENCY_SYMBOL,
  NEGATIVE_PRICE,
  PRICES,
  REQUESTS_PER_SECOND,
  TOKEN_LIMITS,
  USAGE_CONTAINERS,
  USAGE_LINES,
  isVibeCategory,
  modelKey,
  pricesDifferByTier,
  unitPrice,
  type ApiZone,
  type PriceSpec,
  type ServiceTier,
  type UsageLine,
} from './catalog.js';
import {
  ZERO,
  addDecimal,
  compareDecimal,
  decimalFromInteger,
  decimalFromScaled,
  decimalToNumber,
  decimalToScientific,
  decimalToString,
  multiplyDecimal,
  parseDecimal,
  roundDecimal,
  type Decimal,
} from './decimal.js';
import { ORG_CREATED_SECONDS, usageSlotsFor, type SimOrg } from './org.js';
import { hash4, tag, unit } from './prng.js';
import {
  DAY_SECONDS,
  addMonths,
  compareYearMonth,
  dayIndexOf,
  formatYearMonth,
  isWeekend,
  isoDay,
  isoSeconds,
  monthStartSeconds,
  yearMonthOf,
  type YearMonth,
} from './time.js';

const TAG_USAGE = tag('usage');
const TAG_LINE_DAY = tag('usage-line-day');
const TAG_VALUE_FORM = tag('usage-value-form');
const WEEKEND_USAGE_FACTOR = 0.35;

export interface UsageQuery extends YearMonth {
  /** Only this workspace's share; undefined: org-wide (workspaces + no-workspace usage). */
  readonly workspaceId?: string | undefined;
  /** Only this zone's usage; undefined: every zone. */
  readonly apiZone?: ApiZone | undefined;
}

/** How the simulated API shapes its usage and spend-limit answers beyond the common shape. */
export interface UsageShapes {
  /**
   * The odd shapes the schema allows or older specs describe: a top-level
   * category without `models`, gpu_hour and reserved_instance usage, a
   * non-zero legacy `vibe_usage`, `usage_limit_organization` in spend-limit,
   * and negative numbers (a price, an entry), which the API never documents.
   */
  readonly oddShapes?: boolean;
}

/** The legacy top-level `vibe_usage` the oddShapes option serves ("Current Vibe usage amount" in specs up to 2026-07-24). */
export const LEGACY_VIBE_USAGE = 4.25;

/** Lines served: the common ones, and the odd ones with oddShapes. */
function servedLine(line: UsageLine, shapes: UsageShapes): boolean {
  return !line.odd || shapes.oddShapes === true;
}

/** One line's daily quantities for the query, in minimal units (10^-decimals). */
interface LineSeries {
  readonly lineIndex: number;
  readonly line: UsageLine;
  readonly days: readonly number[];
  readonly values: readonly number[];
  readonly paid: readonly number[];
}

function fullDayQuantity(org: SimOrg, lineIndex: number, slot: number, day: number): number {
  const line = USAGE_LINES[lineIndex]!;
  const share = org.usageShares[lineIndex]?.[slot] ?? 0;
  if (share === 0) return 0;
  if (line.activeDayProbability < 1 && unit(hash4(org.seed, TAG_LINE_DAY, lineIndex, day)) >= line.activeDayProbability) return 0;
  const noise = 0.6 + 0.8 * unit(hash4(org.seed, TAG_USAGE, lineIndex * 64 + slot, day));
  const dayFactor = isWeekend(day) ? WEEKEND_USAGE_FACTOR : 1;
  return Math.round(line.dailyUnits * 10 ** line.decimals * share * dayFactor * noise);
}

/** Quantity of (line, slot, day) as known at `nowSeconds`: 0 in the future, cut today. */
function quantityAt(org: SimOrg, lineIndex: number, slot: number, day: number, nowSeconds: number): number {
  const dayStart = day * DAY_SECONDS;
  if (dayStart > nowSeconds || dayStart < ORG_CREATED_SECONDS) return 0;
  const full = fullDayQuantity(org, lineIndex, slot, day);
  const elapsed = nowSeconds - dayStart;
  return elapsed >= DAY_SECONDS ? full : Math.floor((full * elapsed) / DAY_SECONDS);
}

function paidOf(line: UsageLine, value: number): number {
  return value - Math.floor((value * line.freePermille) / 1000);
}

/** Days of the month that have an entry: from the 1st (or creation) to today, none for future months. */
function servedDays(month: YearMonth, nowSeconds: number): number[] {
  const first = Math.max(dayIndexOf(monthStartSeconds(month)), dayIndexOf(ORG_CREATED_SECONDS));
  const afterLast = dayIndexOf(monthStartSeconds(addMonths(month, 1)));
  const last = Math.min(afterLast - 1, dayIndexOf(nowSeconds));
  const days: number[] = [];
  for (let day = first; day <= last; day++) days.push(day);
  return days;
}

function lineSeries(org: SimOrg, query: UsageQuery, nowSeconds: number, shapes: UsageShapes): LineSeries[] {
  const slots = usageSlotsFor(org, query.workspaceId);
  const days = servedDays(query, nowSeconds);
  const series: LineSeries[] = [];
  if (days.length === 0) return series;
  USAGE_LINES.forEach((line, lineIndex) => {
    if (!servedLine(line, shapes) || (query.apiZone !== undefined && line.apiZone !== query.apiZone)) return;
    const usedSlots = slots.filter((slot) => (org.usageShares[lineIndex]?.[slot] ?? 0) > 0);
    if (usedSlots.length === 0) return;
    const values: number[] = [];
    const paid: number[] = [];
    for (const day of days) {
      let value = 0;
      let valuePaid = 0;
      for (const slot of usedSlots) {
        const q = quantityAt(org, lineIndex, slot, day, nowSeconds);
        value += q;
        valuePaid += paidOf(line, q);
      }
      values.push(value);
      paid.push(valuePaid);
    }
    series.push({ lineIndex, line, days, values, paid });
  });
  return series;
}

/* ---------------------------------------------------------------- bodies */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface UsageEntryJson {
  usage_type: string;
  event_type: string;
  billing_metric: string;
  billing_display_name: string;
  billing_group: string;
  /** A day, as midnight UTC: "2025-06-03T00:00:00Z". */
  timestamp: string;
  value: number | string;
  value_paid: number | string;
  /** Only on the lines whose entries say their tier. */
  service_tier?: ServiceTier;
}

export interface PriceRowJson {
  event_type: string;
  billing_metric: string;
  billing_group: string;
  api_zone: ApiZone;
  service_tier: ServiceTier;
  price: number | string;
}

function renderQuantity(minimalUnits: number, decimals: number, asString: boolean): number | string {
  const text = decimalToString(decimalFromScaled(minimalUnits, decimals));
  return asString ? text : Number(text);
}

/** Encodes a price deterministically as a JSON number, a decimal string or a scientific string. */
function renderPrice(price: string, rowIndex: number, seed: number): number | string {
  const decimal = parseDecimal(price);
  switch ((rowIndex + (seed >>> 0)) % 3) {
    case 0:
      return decimalToNumber(decimal);
    case 1:
      return decimalToString(decimal);
    default:
      return decimalToScientific(decimal, rowIndex % 2 === 0);
  }
}

export function priceRows(seed: number, shapes: UsageShapes = {}): PriceRowJson[] {
  const rows: Array<Omit<PriceRowJson, 'price'> & { price: string }> = [];
  const specs: PriceSpec[] = shapes.oddShapes ? [...PRICES, NEGATIVE_PRICE] : PRICES.filter((p) => !p.odd);
  for (const spec of specs) {
    const base = { event_type: spec.eventType, billing_metric: spec.billingMetric, billing_group: spec.billingGroup };
    const main = { ...base, api_zone: 'global' as const, service_tier: 'standard' as const, price: spec.price };
    const variants = (spec.variants ?? []).map((v) => ({ ...base, api_zone: v.apiZone, service_tier: v.serviceTier, price: v.price }));
    rows.push(...(spec.variantsFirst ? [...variants, main] : [main, ...variants]));
  }
  return rows.map((row, index) => ({ ...row, price: renderPrice(row.price, index, seed) }));
}

function containerAt(body: JsonObject, path: readonly string[], shape: 'models' | 'direct'): JsonObject {
  let node = body;
  for (const key of path) {
    const child = node[key];
    if (child && typeof child === 'object' && !Array.isArray(child)) node = child;
    else {
      const created: JsonObject = {};
      node[key] = created;
      node = created;
    }
  }
  if (shape === 'direct') return node;
  const models = node['models'];
  if (models && typeof models === 'object' && !Array.isArray(models)) return models;
  const created: JsonObject = {};
  node['models'] = created;
  return created;
}

export function usageBody(org: SimOrg, query: UsageQuery, nowSeconds: number, shapes: UsageShapes = {}): JsonObject {
  const body: JsonObject = {};
  for (const location of USAGE_CONTAINERS) containerAt(body, location.path, location.shape);
  body['vibe_usage'] = shapes.oddShapes ? LEGACY_VIBE_USAGE : 0;
  (body['fine_tuning'] as JsonObject)['storage'] = storageFor(org, query.workspaceId, query, nowSeconds);

  for (const series of lineSeries(org, query, nowSeconds, shapes)) {
    const { line, lineIndex } = series;
    const models = containerAt(body, line.location.path, line.location.shape);
    const key = modelKey(line.model);
    const groups = (models[key] ??= {}) as JsonObject;
    const entries: UsageEntryJson[] = series.days.map((day, i) => {
      const form = hash4(org.seed, TAG_VALUE_FORM, lineIndex, day) % 8;
      return {
        usage_type: line.usageType,
        event_type: line.eventType,
        billing_metric: line.model.id,
        billing_display_name: line.model.displayName,
        billing_group: line.group,
        timestamp: `${isoDay(day)}T00:00:00Z`,
        value: renderQuantity(series.values[i]!, line.decimals, form <= 1),
        value_paid: renderQuantity(series.paid[i]!, line.decimals, form <= 2),
        ...(line.tierInEntries ? { service_tier: line.serviceTier } : {}),
      };
    });
    // Lines of one model and group in several zones or tiers share its list.
    const list = (groups[line.group] ??= []) as unknown as UsageEntryJson[];
    list.push(...entries);
  }
  if (shapes.oddShapes) addNegativeEntry(body, query, nowSeconds);

  const current = yearMonthOf(nowSeconds);
  const start = monthStartSeconds(query);
  const lastDay = dayIndexOf(monthStartSeconds(addMonths(query, 1))) - 1;
  const isCurrent = compareYearMonth(query, current) === 0;
  Object.assign(body, {
    date: isCurrent ? isoSeconds(nowSeconds) : isoSeconds(start),
    previous_month: formatYearMonth(addMonths(query, -1)),
    next_month: compareYearMonth(query, current) < 0 ? formatYearMonth(addMonths(query, 1)) : null,
    start_date: isoSeconds(start),
    end_date: `${isoDay(lastDay)}T23:59:59Z`,
    currency: CURRENCY,
    currency_symbol: CURRENCY_SYMBOL,
    prices: priceRows(org.seed, shapes) as unknown as JsonValue,
  });
  return body;
}

/** The entry oddShapes adds to `completion`: a negative quantity, which the API never documents (not in the truth). */
function addNegativeEntry(body: JsonObject, query: UsageQuery, nowSeconds: number): void {
  const days = servedDays(query, nowSeconds);
  if (days.length === 0 || (query.apiZone !== undefined && query.apiZone !== 'global')) return;
  const models = containerAt(body, ['completion'], 'models');
  const groups = (models['refund-model::refund-2501'] ??= {}) as JsonObject;
  groups['input'] = [
    {
      usage_type: 'completion',
      event_type: 'api_tokens',
      billing_metric: 'refund-2501',
      billing_display_name: 'Refund',
      billing_group: 'input',
      timestamp: `${isoDay(days[0]!)}T00:00:00Z`,
      value: -1000,
      value_paid: -1000,
    },
  ];
}

/** Fine-tuned models stored (id → MB); nothing for months before creation or in the future. */
function storageFor(org: SimOrg, workspaceId: string | undefined, month: YearMonth, nowSeconds: number): JsonObject {
  const storage: JsonObject = {};
  if (servedDays(month, nowSeconds).length === 0) return storage;
  for (const slot of usageSlotsFor(org, workspaceId)) Object.assign(storage, org.fineTuningStorage[slot] ?? {});
  return storage;
}

/* ----------------------------------------------------------------- truth */

/** One line of a usage answer (category, billing_metric, billing_group, event_type, zone, tier), summed over its days. */
export interface UsageTruthRow {
  /** Consumer naming: top-level key, nested keys joined by `_` (`libraries_api_pages`, `vibe_code_completion`, `fine_tuning_training`, `agents_api`). */
  readonly category: string;
  /** JSON path of the container holding the model map, e.g. ['libraries_api', 'pages']. */
  readonly path: readonly string[];
  /** `mistral-large-latest::mistral-large-2411` */
  readonly modelKey: string;
  readonly billingMetric: string;
  readonly billingGroup: string;
  readonly eventType: string;
  /** Number of entries served (one per day). */
  readonly entries: number;
  /** Σ value, exact decimal string. */
  readonly value: string;
  /** Σ value_paid, exact decimal string. */
  readonly valuePaid: string;
  /** The zone the usage was served in (its entries do not say it; `usage?api_zone=` does). */
  readonly apiZone: ApiZone;
  /** The tier it was served and billed at. */
  readonly serviceTier: ServiceTier;
  /** Whether its entries carry `service_tier`. */
  readonly tierInEntries: boolean;
  /** Whether the prices of its key and zone differ by tier: without `service_tier` in its entries, its price is then ambiguous. */
  readonly pricesDifferByTier: boolean;
  /** The unit price billed for its zone and tier (EUR), exact decimal string; null when no price row exists. */
  readonly price: string | null;
  /** Σ value_paid × price (EUR), exact decimal string; null when unpriced. */
  readonly cost: string | null;
}

export interface UsageTruth {
  readonly year: number;
  readonly month: number;
  /** undefined: org-wide. */
  readonly workspaceId: string | undefined;
  readonly rows: readonly UsageTruthRow[];
  /** The rows with no price row (their cost is unknown, not zero). */
  readonly unpriced: readonly UsageTruthRow[];
  /** Σ cost of priced rows, per category, exact decimal strings. */
  readonly costByCategory: Readonly<Record<string, string>>;
  /** Σ cost of all priced rows. */
  readonly totalCost: string;
  /** Σ cost of non-Vibe categories (what spend-limit calls `usage`). */
  readonly apiCost: string;
  /** Σ cost of vibe_code categories (what spend-limit calls `vibe_usage`). */
  readonly vibeCost: string;
  /** fine_tuning.storage as served. */
  readonly fineTuningStorage: Readonly<Record<string, number>>;
  /** The top-level legacy `vibe_usage` as served. */
  readonly legacyVibeUsage: number;
  /** Entries served with a negative number (oddShapes), in no row. */
  readonly negativeEntries: number;
}

export function usageTruth(org: SimOrg, query: UsageQuery, nowSeconds: number, shapes: UsageShapes = {}): UsageTruth {
  const rows: UsageTruthRow[] = [];
  const costByCategory: Record<string, string> = {};
  let totalCost: Decimal = ZERO;
  let apiCost: Decimal = ZERO;
  let vibeCost: Decimal = ZERO;
  for (const series of lineSeries(org, query, nowSeconds, shapes)) {
    const { line } = series;
    const value = decimalFromScaled(
      series.values.reduce((a, b) => a + b, 0),
      line.decimals,
    );
    const valuePaid = decimalFromScaled(
      series.paid.reduce((a, b) => a + b, 0),
      line.decimals,
    );
    const priceText = unitPrice(line.eventType, line.model.id, line.group, line.apiZone, line.serviceTier);
    const cost = priceText === null ? null : multiplyDecimal(valuePaid, parseDecimal(priceText));
    if (cost) {
      totalCost = addDecimal(totalCost, cost);
      if (isVibeCategory(line.category)) vibeCost = addDecimal(vibeCost, cost);
      else apiCost = addDecimal(apiCost, cost);
      costByCategory[line.category] = decimalToString(addDecimal(parseDecimal(costByCategory[line.category] ?? '0'), cost));
    }
    rows.push({
      category: line.category,
      path: line.location.path,
      modelKey: modelKey(line.model),
      billingMetric: line.model.id,
      billingGroup: line.group,
      eventType: line.eventType,
      entries: series.days.length,
      value: decimalToString(value),
      valuePaid: decimalToString(valuePaid),
      apiZone: line.apiZone,
      serviceTier: line.serviceTier,
      tierInEntries: line.tierInEntries,
      pricesDifferByTier: pricesDifferByTier(line.eventType, line.model.id, line.group, line.apiZone),
      price: priceText === null ? null : decimalToString(parseDecimal(priceText)),
      cost: cost === null ? null : decimalToString(cost),
    });
  }
  const storage: Record<string, number> = {};
  for (const [id, mb] of Object.entries(storageFor(org, query.workspaceId, query, nowSeconds))) storage[id] = mb as number;
  return {
    year: query.year,
    month: query.month,
    workspaceId: query.workspaceId,
    rows,
    unpriced: rows.filter((r) => r.price === null),
    costByCategory,
    totalCost: decimalToString(totalCost),
    apiCost: decimalToString(apiCost),
    vibeCost: decimalToString(vibeCost),
    fineTuningStorage: storage,
    legacyVibeUsage: shapes.oddShapes ? LEGACY_VIBE_USAGE : 0,
    negativeEntries: shapes.oddShapes && servedDays(query, nowSeconds).length > 0 && (query.apiZone ?? 'global') === 'global' ? 1 : 0,
  };
}

/* ----------------------------------------------------------- spend-limit */

/** Per elapsed day of the month, spend outside the usage categories (EUR). */
const OTHER_SPEND_PER_DAY = '0.13';

export interface SpendState {
  /** EUR; null: no monthly limit. */
  limit: number | null;
  paymentFailed: boolean;
}

export interface SpendTruth {
  /** Exact month-to-date figures (EUR decimal strings), org-wide. */
  readonly usage: string;
  readonly vibeUsage: string;
  /** The small positive amount in total_usage that is neither API nor Vibe usage. */
  readonly other: string;
  readonly totalUsage: string;
  /** What spend-limit serves: the exact figures rounded half-up to cents, as numbers. */
  readonly served: { readonly usage: number; readonly vibe_usage: number; readonly total_usage: number };
  readonly limit: number | null;
  readonly limitReached: boolean;
  readonly paymentFailed: boolean;
  /** oddShapes: the organization-wide limit served beside `usage_limit` (a field the schema does not name). */
  readonly organizationLimit: number | null;
}

export function spendTruth(org: SimOrg, state: SpendState, nowSeconds: number, shapes: UsageShapes = {}): SpendTruth {
  const month = yearMonthOf(nowSeconds);
  const usage = usageTruth(org, month, nowSeconds, shapes);
  const elapsedDays = servedDays(month, nowSeconds).length;
  const api = parseDecimal(usage.apiCost);
  const vibe = parseDecimal(usage.vibeCost);
  const other = multiplyDecimal(parseDecimal(OTHER_SPEND_PER_DAY), decimalFromInteger(elapsedDays));
  const total = addDecimal(addDecimal(api, vibe), other);
  const cents = (d: Decimal) => decimalToNumber(roundDecimal(d, 2));
  const limitReached = state.limit !== null && compareDecimal(total, parseDecimal(String(state.limit))) >= 0;
  return {
    usage: decimalToString(api),
    vibeUsage: decimalToString(vibe),
    other: decimalToString(other),
    totalUsage: decimalToString(total),
    served: { usage: cents(api), vibe_usage: cents(vibe), total_usage: cents(total) },
    limit: state.limit,
    limitReached,
    paymentFailed: state.paymentFailed,
    organizationLimit: shapes.oddShapes ? ORGANIZATION_LIMIT : null,
  };
}

/** oddShapes: `usage_limit_organization` in spend-limit, unlike any `usage_limit` served. */
const ORGANIZATION_LIMIT = 25_000;

export function spendLimitBody(spend: SpendTruth): JsonObject {
  return {
    limits: {
      completion: {
        no_monthly_limit: spend.limit === null,
        monthly_limit_reached: spend.limitReached,
        usage: spend.served.usage,
        vibe_usage: spend.served.vibe_usage,
        total_usage: spend.served.total_usage,
        usage_limit: spend.limit,
        ...(spend.organizationLimit === null ? {} : { usage_limit_organization: spend.organizationLimit }),
      },
      last_payment_failure: spend.paymentFailed,
      last_payment_failure_protection: false,
      currency: CURRENCY,
    },
  };
}

/* ------------------------------------------------------------ rate-limit */

export function rateLimitBody(): JsonObject {
  const byModel: JsonObject = {};
  for (const [spec, limit] of TOKEN_LIMITS) {
    byModel[spec.id] = { tokens_per_minute: limit.tokensPerMinute, tokens_per_month: limit.tokensPerMonth };
  }
  return { requests_per_second: REQUESTS_PER_SECOND, tokens_limits_by_model: byModel };
}
