import { family, REFRESHED, single, type FamilyDef } from './families.js';
import { expectObject, optionalNumber } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily } from './types.js';

/** GET rate-limit: the organization's request rate and per-model token limits. */
export interface RateLimitSnapshot {
  requestsPerSecond: number | undefined;
  models: Array<{ model: string; tokensPerMinute: number | undefined; tokensPerMonth: number | undefined }>;
}

export function parseRateLimit(body: unknown): RateLimitSnapshot {
  const root = expectObject(body, 'rate-limit');
  if (root.requests_per_second === undefined && root.tokens_limits_by_model === undefined) {
    throw new ParseError('rate-limit: neither requests_per_second nor tokens_limits_by_model is in the answer');
  }
  const byModel = root.tokens_limits_by_model === undefined || root.tokens_limits_by_model === null
    ? {}
    : expectObject(root.tokens_limits_by_model, 'rate-limit.tokens_limits_by_model');
  return {
    requestsPerSecond: optionalNumber(root.requests_per_second, 'rate-limit.requests_per_second'),
    models: Object.entries(byModel).map(([model, raw]) => {
      const at = `rate-limit.tokens_limits_by_model.${model}`;
      const limits = expectObject(raw, at);
      return {
        model,
        tokensPerMinute: optionalNumber(limits.tokens_per_minute, `${at}.tokens_per_minute`),
        tokensPerMonth: optionalNumber(limits.tokens_per_month, `${at}.tokens_per_month`),
      };
    }),
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

/** Pure: the rate-limit metric families of a snapshot. */
export function rateLimitFamilies(s: RateLimitSnapshot): MetricFamily[] {
  const per = (pick: (m: RateLimitSnapshot['models'][number]) => number | undefined) =>
    s.models.flatMap((m) => {
      const value = pick(m);
      return value === undefined ? [] : [{ labels: { model: m.model }, value }];
    });
  return [
    family(RATE_LIMIT_FAMILIES.rps, single(s.requestsPerSecond)),
    family(RATE_LIMIT_FAMILIES.tpm, per((m) => m.tokensPerMinute)),
    family(RATE_LIMIT_FAMILIES.tpmonth, per((m) => m.tokensPerMonth)),
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
  reader: () => ({
    fetch: async (ctx) => parseRateLimit((await ctx.get()).body),
    toFamilies: rateLimitFamilies,
  }),
});
