import { Big } from 'big.js';
import { bool, decimalToNumber, family, REFRESHED, single, type FamilyDef } from './families.js';
import { expectObject, optionalBoolean, optionalDecimal, optionalString, UNKNOWN_CURRENCY, type JsonObject } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';
import { DAY_MS, utcMonthBounds } from './windows.js';

/**
 * GET spend-limit: month-to-date spend as the limit counts it, the monthly
 * limit, and whether it (or the last payment) stopped anything.
 */
export interface SpendLimitSnapshot {
  currency: string;
  usage: Big | undefined;
  vibeUsage: Big | undefined;
  totalUsage: Big | undefined;
  usageLimit: Big | undefined;
  noMonthlyLimit: boolean;
  limitReached: boolean;
  paymentFailed: boolean | undefined;
  /** When the answer was fetched (ms since the epoch): the projection's "now". */
  fetchedAt: number;
  /** Amounts that could not be read (a negative one included): each is left out as if absent. */
  unreadable?: Unreadable;
}

/**
 * An amount of the answer: absent when null or missing. One that cannot be
 * read (not a number, out of range) or is negative (the API documents none)
 * is tallied as unreadable and left out like an absent one, never exported
 * nor computed with: it costs only itself, and the rest of the answer (the
 * limit-reached flag first of all) is served.
 */
function amountField(c: JsonObject, field: string, at: string, tally: UnreadableTally): Big | undefined {
  const d = tally.attempt(() => optionalDecimal(c[field], `${at}.${field}`));
  if (!d?.lt(0)) return d;
  tally.add(new ParseError(`${at}.${field}: ${String(c[field])} is negative, which the API does not document`, 'not_a_number'));
  return undefined;
}

/**
 * Reads a spend-limit answer. Fields the schema does not name (such as
 * `usage_limit_organization`) are not read: only `usage_limit` is the limit.
 */
export function parseSpendLimit(body: unknown, fetchedAt: number): SpendLimitSnapshot {
  const tally = new UnreadableTally();
  const limits = expectObject(expectObject(body, 'spend-limit').limits, 'spend-limit.limits');
  const c = expectObject(limits.completion, 'spend-limit.limits.completion');
  const at = 'spend-limit.limits.completion';
  const limitReached = optionalBoolean(c.monthly_limit_reached, `${at}.monthly_limit_reached`);
  if (limitReached === undefined) throw new ParseError(`${at}.monthly_limit_reached: missing`);
  return {
    currency: optionalString(limits.currency, 'spend-limit.limits.currency')?.trim().toUpperCase() || UNKNOWN_CURRENCY,
    usage: amountField(c, 'usage', at, tally),
    vibeUsage: amountField(c, 'vibe_usage', at, tally),
    totalUsage: amountField(c, 'total_usage', at, tally),
    usageLimit: amountField(c, 'usage_limit', at, tally),
    noMonthlyLimit: optionalBoolean(c.no_monthly_limit, `${at}.no_monthly_limit`) ?? false,
    limitReached,
    paymentFailed: optionalBoolean(limits.last_payment_failure, 'spend-limit.limits.last_payment_failure'),
    fetchedAt,
    unreadable: tally.result(),
  };
}

export const SPEND_LIMIT_FAMILIES = {
  spend: {
    name: 'mistral_spend',
    help: `Month-to-date spend in whole currency units from GET spend-limit, by product: api (usage), vibe (vibe_usage), other (derived: total_usage minus the products the API itemised), or unitemised (total_usage, when the itemised products exceed it); the sum is the API's total_usage. ${REFRESHED}`,
    labelNames: ['currency', 'product'],
  },
  reported: {
    name: 'mistral_spend_reported',
    help: `The month-to-date spend fields of GET spend-limit as the API gives them (field: usage, vibe_usage, total_usage); they may overlap, so do not sum them: mistral_spend is the split that adds up. ${REFRESHED}`,
    labelNames: ['currency', 'field'],
  },
  partsInconsistent: {
    name: 'mistral_spend_parts_inconsistent',
    help: `1 when GET spend-limit's usage plus vibe_usage exceed its total_usage (the API's figures disagree: mistral_spend then shows the total as unitemised), else 0; absent without a total. ${REFRESHED}`,
    labelNames: [],
  },
  limit: {
    name: 'mistral_spend_limit',
    help: `Monthly spend limit in whole currency units (usage_limit of GET spend-limit); absent when there is no limit. ${REFRESHED}`,
    labelNames: ['currency'],
  },
  limitEnabled: {
    name: 'mistral_spend_limit_enabled',
    help: `1 when a monthly spend limit applies, 0 when no_monthly_limit is set (GET spend-limit). ${REFRESHED}`,
    labelNames: [],
  },
  limitReached: {
    name: 'mistral_spend_limit_reached',
    help: `1 when the monthly spend limit is reached and API calls are refused (monthly_limit_reached of GET spend-limit). ${REFRESHED}`,
    labelNames: [],
  },
  utilization: {
    name: 'mistral_spend_limit_utilization_ratio',
    help: `Month-to-date total spend divided by the monthly limit (GET spend-limit), 0..1 and above; absent without a limit. ${REFRESHED}`,
    labelNames: [],
  },
  projected: {
    name: 'mistral_spend_projected',
    help: `Month-end spend projected linearly from month-to-date spend (GET spend-limit) and the time elapsed in the UTC calendar month; absent during its first day. ${REFRESHED}`,
    labelNames: ['currency'],
  },
  paymentFailed: {
    name: 'mistral_payment_last_failed',
    help: `1 when the last payment attempt failed (last_payment_failure of GET spend-limit). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

/**
 * The split of spend into products that adds up to the API's own total,
 * never to more: the products the API itemises (usage, vibe_usage), and the
 * rest of total_usage as `other`. When the itemised products exceed the
 * total, the figures disagree (usage may already hold Vibe spend): the total
 * is shown whole as `unitemised` rather than split by a guess. Without a
 * total, the itemised products are all there is.
 */
export function spendSplit(s: Pick<SpendLimitSnapshot, 'usage' | 'vibeUsage' | 'totalUsage'>): {
  parts: Array<{ product: string; amount: Big }>;
  exceedsTotal: boolean | undefined;
} {
  const itemised = [
    { product: 'api', amount: s.usage },
    { product: 'vibe', amount: s.vibeUsage },
  ].filter((p): p is { product: string; amount: Big } => p.amount !== undefined);
  if (s.totalUsage === undefined) return { parts: itemised, exceedsTotal: undefined };
  const rest = itemised.reduce((r, p) => r.minus(p.amount), s.totalUsage);
  if (rest.lt(0)) return { parts: [{ product: 'unitemised', amount: s.totalUsage }], exceedsTotal: true };
  return { parts: [...itemised, { product: 'other', amount: rest }], exceedsTotal: false };
}

/** Pure: the spend-limit metric families of a snapshot. */
export function spendLimitFamilies(s: SpendLimitSnapshot): MetricFamily[] {
  const { currency } = s;
  const reported = s.usage !== undefined || s.vibeUsage !== undefined || s.totalUsage !== undefined;
  const split = spendSplit(s);
  const total = split.parts.reduce((sum, p) => sum.plus(p.amount), new Big(0));
  const hasLimit = !s.noMonthlyLimit && s.usageLimit !== undefined;

  const spend = split.parts.map((p) => ({ labels: { currency, product: p.product }, value: decimalToNumber(p.amount) }));
  const fields = [
    ['usage', s.usage],
    ['vibe_usage', s.vibeUsage],
    ['total_usage', s.totalUsage],
  ] as const;
  const asGiven = fields.flatMap(([field, amount]) =>
    amount === undefined ? [] : [{ labels: { currency, field }, value: decimalToNumber(amount) }],
  );

  let projected: number | undefined;
  const month = utcMonthBounds(s.fetchedAt);
  const elapsed = s.fetchedAt - month.start;
  if (reported && elapsed >= DAY_MS) {
    projected = decimalToNumber(total.times(month.end - month.start).div(elapsed));
  }

  return [
    family(SPEND_LIMIT_FAMILIES.spend, spend),
    family(SPEND_LIMIT_FAMILIES.reported, asGiven),
    family(SPEND_LIMIT_FAMILIES.partsInconsistent, single(split.exceedsTotal === undefined ? undefined : split.exceedsTotal ? 1 : 0)),
    family(SPEND_LIMIT_FAMILIES.limit, hasLimit ? [{ labels: { currency }, value: decimalToNumber(s.usageLimit as Big) }] : []),
    family(SPEND_LIMIT_FAMILIES.limitEnabled, single(s.noMonthlyLimit ? 0 : 1)),
    family(SPEND_LIMIT_FAMILIES.limitReached, single(bool(s.limitReached))),
    family(
      SPEND_LIMIT_FAMILIES.utilization,
      single(reported && hasLimit && (s.usageLimit as Big).gt(0) ? decimalToNumber(total.div(s.usageLimit as Big)) : undefined),
    ),
    family(SPEND_LIMIT_FAMILIES.projected, projected === undefined ? [] : [{ labels: { currency }, value: projected }]),
    family(SPEND_LIMIT_FAMILIES.paymentFailed, single(bool(s.paymentFailed))),
  ];
}

export const spendLimit = defineEndpoint({
  id: 'spend_limit',
  describe: 'GET spend-limit',
  title: 'spend-limit',
  paths: 'spend-limit',
  intervalGroup: 'billing',
  query: 'no parameters',
  perWorkspace: false,
  families: Object.values(SPEND_LIMIT_FAMILIES),
  reader: () => ({
    fetch: async (ctx) => parseSpendLimit((await ctx.get()).body, ctx.now),
    toFamilies: spendLimitFamilies,
    unreadable: (s) => s.unreadable ?? {},
  }),
});
