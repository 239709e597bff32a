import { warnOnce } from '../logger.js';
import { family, REFRESHED, single, type FamilyDef } from './families.js';
import { expectObject, optionalNumber, optionalString, type Json } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Unreadable } from './types.js';
import { readEach, UnreadableTally } from './unreadable.js';

/** GET rate-limit: the organization's request rate and per-model token limits. */
export interface RateLimitSnapshot {
  requestsPerSecond: number | undefined;
  models: Array<{ model: string; tokensPerMinute: number | undefined; tokensPerMonth: number | undefined }>;
  unreadable?: Unreadable;
}

const WHERE = 'rate-limit.tokens_limits_by_model';

/**
 * The schema has `tokens_limits_by_model` as a map of model → limits; the
 * docs' own example shows an array of objects naming their model. Both are
 * read; an entry that cannot be read is skipped and tallied.
 */
export function parseRateLimit(body: unknown, tally = new UnreadableTally()): RateLimitSnapshot {
  const root = expectObject(body, 'rate-limit');
  if (root.requests_per_second === undefined && root.tokens_limits_by_model === undefined) {
    throw new ParseError('rate-limit: neither requests_per_second nor tokens_limits_by_model is in the answer', 'missing');
  }
  const raw = root.tokens_limits_by_model;
  // A map names each entry by its key; an array entry names its model in a field.
  const map = raw === undefined || raw === null || Array.isArray(raw) ? undefined : expectObject(raw, WHERE);
  const items: Json[] = map ? Object.values(map) : Array.isArray(raw) ? raw : [];
  const keys = map ? Object.keys(map) : undefined;
  const read = (item: Json, where: string, index: number) => {
    const at = keys ? `${WHERE}.${keys[index]}` : where;
    const limits = expectObject(item, at);
    const model = (
      keys ? keys[index] : (optionalString(limits.model, `${at}.model`) ?? optionalString(limits.model_name, `${at}.model_name`))
    )?.trim();
    if (!model) throw new ParseError(`${at}.model: missing`, 'missing');
    return {
      model,
      tokensPerMinute: optionalNumber(limits.tokens_per_minute, `${at}.tokens_per_minute`),
      tokensPerMonth: optionalNumber(limits.tokens_per_month, `${at}.tokens_per_month`),
    };
  };
  // A model named twice (listed twice, or map keys that trim alike) would be two series of one label set: keep the first.
  const seen = new Set<string>();
  return {
    requestsPerSecond: optionalNumber(root.requests_per_second, 'rate-limit.requests_per_second'),
    models: readEach(items, WHERE, tally, read).filter((m) => !seen.has(m.model) && seen.add(m.model)),
    unreadable: tally.result(),
  };
}

export const RATE_LIMIT_FAMILIES = {
  rps: {
    name: 'mistral_rate_limit_requests_per_second',
    help: `Requests per second the organization may send (GET rate-limit). ${REFRESHED}`,
    labelNames: [],
  },
  tpm: {
    name: 'mistral_rate_limit_tokens_per_minute',
    help: `Tokens per minute allowed per model (GET rate-limit). ${REFRESHED}`,
    labelNames: ['model'],
  },
  tpmonth: {
    name: 'mistral_rate_limit_tokens_per_month',
    help: `Tokens per month allowed per model (GET rate-limit); compare with mistral_usage_tokens. ${REFRESHED}`,
    labelNames: ['model'],
  },
} as const satisfies Record<string, FamilyDef>;

type ModelLimits = RateLimitSnapshot['models'][number];

/** The MAX_MODELS cap: the first `maxModels` models by name (limits do not add up, so the rest is left out, not folded). */
export function rateLimitModelCap(s: RateLimitSnapshot, maxModels: number): { kept: ModelLimits[]; dropped: ModelLimits[] } {
  if (s.models.length <= maxModels) return { kept: s.models, dropped: [] };
  const byName = [...s.models].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { kept: byName.slice(0, maxModels), dropped: byName.slice(maxModels) };
}

/** Per capped family, the series the MAX_MODELS cap left out (0 when none). */
export function rateLimitSeriesDropped(s: RateLimitSnapshot, maxModels: number): Record<string, number> {
  const { dropped } = rateLimitModelCap(s, maxModels);
  return {
    [RATE_LIMIT_FAMILIES.tpm.name]: dropped.filter((m) => m.tokensPerMinute !== undefined).length,
    [RATE_LIMIT_FAMILIES.tpmonth.name]: dropped.filter((m) => m.tokensPerMonth !== undefined).length,
  };
}

/** Pure: the rate-limit metric families of a snapshot, at most `maxModels` models (MAX_MODELS). */
export function rateLimitFamilies(s: RateLimitSnapshot, maxModels = Number.POSITIVE_INFINITY): MetricFamily[] {
  const { kept } = rateLimitModelCap(s, maxModels);
  const per = (pick: (m: ModelLimits) => number | undefined) =>
    kept.flatMap((m) => {
      const value = pick(m);
      return value === undefined ? [] : [{ labels: { model: m.model }, value }];
    });
  return [
    family(RATE_LIMIT_FAMILIES.rps, single(s.requestsPerSecond)),
    family(
      RATE_LIMIT_FAMILIES.tpm,
      per((m) => m.tokensPerMinute),
    ),
    family(
      RATE_LIMIT_FAMILIES.tpmonth,
      per((m) => m.tokensPerMonth),
    ),
  ];
}

export const rateLimit = defineEndpoint({
  id: 'rate_limit',
  describe: 'GET rate-limit',
  title: 'rate-limit',
  paths: 'rate-limit',
  intervalGroup: 'billing',
  query: 'no parameters',
  perWorkspace: false,
  families: Object.values(RATE_LIMIT_FAMILIES),
  reader: ({ maxModels }) => {
    const reportOnce = warnOnce();
    return {
      async fetch(ctx) {
        const snapshot = parseRateLimit((await ctx.get()).body);
        const { dropped } = rateLimitModelCap(snapshot, maxModels);
        if (dropped.length > 0) {
          const fields = { api_endpoint: 'rate_limit', max_models: maxModels, models_left_out: dropped.length };
          const message = `rate-limit names more models than MAX_MODELS: only the first ${maxModels} by name have series (see mistral_exporter_series_dropped)`;
          reportOnce(ctx.logger, 'max-models', fields, message);
        }
        return snapshot;
      },
      toFamilies: (s) => rateLimitFamilies(s, maxModels),
      seriesDropped: (s) => rateLimitSeriesDropped(s, maxModels),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
