import { describe, expect, it } from 'vitest';
import { parseRateLimit, rateLimitFamilies } from '../src/sources/rate-limit.js';
import { parseSpendLimit, spendLimitFamilies } from '../src/sources/spend-limit.js';
import { ParseError } from '../src/sources/types.js';
import { parseUsage, unitOf, usageFamilies } from '../src/sources/usage.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { flat } from './support/families.js';

const entry = (o: Record<string, unknown>) => ({
  usage_type: 'usage',
  billing_display_name: 'x',
  timestamp: '2026-11-01',
  ...o,
});

/** A usage answer shaped after UsageOUTJSON, with the awkward cases the API allows. */
const USAGE = {
  completion: {
    models: {
      'mistral-large-latest::mistral-large-2411': {
        input: [
          entry({
            event_type: 'api_tokens',
            billing_metric: 'mistral-large-2411',
            billing_group: 'input',
            value: 1_000_000,
            value_paid: 900_000,
          }),
          entry({
            event_type: 'api_tokens',
            billing_metric: 'mistral-large-2411',
            billing_group: 'input',
            value: '300000',
            value_paid: '300000',
          }),
        ],
        output: [
          entry({
            event_type: 'api_tokens',
            billing_metric: 'mistral-large-2411',
            billing_group: 'output',
            value: 250_000,
            value_paid: 250_000,
          }),
        ],
      },
    },
  },
  ocr: {
    models: {
      'mistral-ocr-2505': {
        pages: [
          entry({ event_type: 'api_pages', billing_metric: 'mistral-ocr-2505', billing_group: 'pages', value: 120, value_paid: 100 }),
        ],
      },
    },
  },
  connectors: {
    models: {
      'web-search': {
        calls: [entry({ event_type: 'api_connectors', billing_metric: 'web-search', billing_group: 'calls', value: 7, value_paid: 7 })],
      },
    },
  },
  audio: { models: {} },
  audio_characters: { models: {} },
  chat: { models: {} },
  libraries_api: {
    pages: {
      models: {
        'doc-parser': {
          pages: [
            entry({ event_type: 'api_libraries_pages', billing_metric: 'doc-parser', billing_group: 'pages', value: 40, value_paid: 40 }),
          ],
        },
      },
    },
    tokens: { models: {} },
    audio_seconds: { models: {} },
  },
  fine_tuning: {
    training: {
      'ft-small': {
        tokens: [entry({ event_type: 'api_tokens', billing_metric: 'ft-small', billing_group: 'training', value: 10, value_paid: 10 })],
      },
    },
    storage: { 'ft-small': 3 },
  },
  vibe_code: {
    completion: {
      models: {
        'devstral-2512': {
          input: [
            entry({ event_type: 'vibe_tokens', billing_metric: 'devstral-2512', billing_group: 'input', value: 5000, value_paid: 5000 }),
          ],
        },
      },
    },
    ocr: { models: {} },
    connectors: { models: {} },
    audio: { models: {} },
    audio_characters: { models: {} },
  },
  agents_api: {
    models: {
      'agent-runtime': {
        calls: [entry({ event_type: 'api_agent_calls', billing_metric: 'agent-runtime', billing_group: 'calls', value: 3, value_paid: 3 })],
      },
    },
  },
  vibe_usage: 0,
  date: '2026-11-15T00:00:00Z',
  previous_month: '2026-10',
  next_month: null,
  start_date: '2026-11-01T00:00:00Z',
  end_date: '2026-12-01T00:00:00Z',
  currency: 'eur',
  currency_symbol: '€',
  prices: [
    {
      event_type: 'api_tokens',
      billing_metric: 'mistral-large-2411',
      billing_group: 'input',
      api_zone: 'eu',
      service_tier: 'standard',
      price: 9,
    },
    {
      event_type: 'api_tokens',
      billing_metric: 'mistral-large-2411',
      billing_group: 'input',
      api_zone: 'global',
      service_tier: 'priority',
      price: '8e-6',
    },
    {
      event_type: 'api_tokens',
      billing_metric: 'mistral-large-2411',
      billing_group: 'input',
      api_zone: 'global',
      service_tier: 'standard',
      price: '2e-6',
    },
    {
      event_type: 'api_tokens',
      billing_metric: 'mistral-large-2411',
      billing_group: 'output',
      api_zone: 'global',
      service_tier: 'standard',
      price: '6E-6',
    },
    {
      event_type: 'api_pages',
      billing_metric: 'mistral-ocr-2505',
      billing_group: 'pages',
      api_zone: 'global',
      service_tier: 'standard',
      price: 0.001,
    },
    {
      event_type: 'api_connectors',
      billing_metric: 'web-search',
      billing_group: 'calls',
      api_zone: 'global',
      service_tier: 'standard',
      price: '0.03',
    },
    {
      event_type: 'vibe_tokens',
      billing_metric: 'devstral-2512',
      billing_group: 'input',
      api_zone: 'global',
      service_tier: 'standard',
      price: 0.0000001,
    },
    {
      event_type: 'api_agent_calls',
      billing_metric: 'agent-runtime',
      billing_group: 'calls',
      api_zone: 'global',
      service_tier: 'standard',
      price: '0.1',
    },
  ],
};

describe('usage', () => {
  const report = parseUsage(USAGE);
  const m = flat(usageFamilies({ byWorkspace: false, reports: [report] }));

  it('computes cost as Σ value_paid × the global/standard unit price, exactly', () => {
    // 1_200_000 paid input tokens × 2e-6 = 2.4 (not 2.4000000000000004); 250_000 × 6e-6 = 1.5
    expect(m['mistral_usage_cost{category="completion",model="mistral-large-2411",billing_group="input",currency="EUR"}']).toBe(2.4);
    expect(m['mistral_usage_cost{category="completion",model="mistral-large-2411",billing_group="output",currency="EUR"}']).toBe(1.5);
    expect(m['mistral_usage_cost{category="ocr",model="mistral-ocr-2505",billing_group="pages",currency="EUR"}']).toBe(0.1);
    expect(m['mistral_usage_cost{category="connectors",model="web-search",billing_group="calls",currency="EUR"}']).toBe(0.21);
    expect(m['mistral_usage_cost{category="vibe_code_completion",model="devstral-2512",billing_group="input",currency="EUR"}']).toBe(
      0.0005,
    );
  });

  it('reports quantities by unit, with token_type for tokens', () => {
    expect(m['mistral_usage_tokens{category="completion",model="mistral-large-2411",token_type="input"}']).toBe(1_300_000);
    expect(m['mistral_usage_tokens{category="completion",model="mistral-large-2411",token_type="output"}']).toBe(250_000);
    expect(m['mistral_usage_tokens{category="fine_tuning_training",model="ft-small",token_type="training"}']).toBe(10);
    expect(m['mistral_usage_pages{category="ocr",model="mistral-ocr-2505",billing_group="pages"}']).toBe(120);
    expect(m['mistral_usage_pages{category="libraries_api_pages",model="doc-parser",billing_group="pages"}']).toBe(40);
  });

  it('reads an unknown category like the known ones', () => {
    expect(m['mistral_usage_cost{category="agents_api",model="agent-runtime",billing_group="calls",currency="EUR"}']).toBe(0.3);
  });

  it('counts entries with no price and leaves their cost out', () => {
    expect(m['mistral_usage_unpriced_entries{category="libraries_api_pages"}']).toBe(1);
    expect(m['mistral_usage_unpriced_entries{category="fine_tuning_training"}']).toBe(1);
    expect(m['mistral_usage_unpriced_entries{category="completion"}']).toBe(0);
    expect(Object.keys(m).some((k) => k.startsWith('mistral_usage_cost{category="libraries_api_pages"'))).toBe(false);
  });

  it('keeps event types of unknown unit out of the quantities, but counts their cost', () => {
    expect(m['mistral_usage_unknown_unit_entries{event_type="api_connectors"}']).toBe(1);
    expect(m['mistral_usage_unknown_unit_entries{event_type="api_agent_calls"}']).toBe(1);
    expect(Object.keys(m).filter((k) => k.includes('web-search'))).toEqual([
      'mistral_usage_cost{category="connectors",model="web-search",billing_group="calls",currency="EUR"}',
    ]);
  });

  it('ignores fine_tuning.storage and metadata fields', () => {
    expect(Object.keys(m).some((k) => k.includes('storage'))).toBe(false);
  });

  it('exports the billing period', () => {
    expect(m.mistral_billing_period_start_timestamp_seconds).toBe(Date.UTC(2026, 10, 1) / 1000);
    expect(m.mistral_billing_period_end_timestamp_seconds).toBe(Date.UTC(2026, 11, 1) / 1000);
  });

  it('labels workspaces only when broken down by workspace', () => {
    const a = parseUsage(USAGE, 'ws-a');
    const b = parseUsage(USAGE, 'ws-b');
    const families = usageFamilies({ byWorkspace: true, reports: [a, b] });
    const cost = families.find((f) => f.name === 'mistral_usage_cost');
    expect(cost?.labelNames).toContain('workspace_id');
    expect(cost?.samples.filter((s) => s.labels.workspace_id === 'ws-b')).toHaveLength(6);
    expect(Object.keys(m).some((k) => k.includes('workspace_id'))).toBe(false);
  });

  it('falls back to the currency symbol, then to XXX', () => {
    expect(parseUsage({ ...USAGE, currency: null, currency_symbol: '$' }).currency).toBe('USD');
    expect(parseUsage({ ...USAGE, currency: null, currency_symbol: null }).currency).toBe('XXX');
  });

  it('takes the model from the key when billing_metric is missing', () => {
    const r = parseUsage({
      completion: {
        models: { 'alias::dated-1': { input: [{ event_type: 'api_tokens', billing_group: 'input', value: 1, value_paid: 1 }] } },
      },
      prices: [],
    });
    expect(r.rows[0]?.model).toBe('dated-1');
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', [], /usage: expected an object, got an array/],
    [
      'a non-numeric quantity',
      { completion: { models: { m: { input: [{ event_type: 'api_tokens', value: 'lots', value_paid: 1 }] } } } },
      /usage\.completion\.models\.m\.input\[0\]\.value: expected a number, got the string "lots"/,
    ],
    ['prices not a list', { prices: { a: 1 } }, /usage\.prices: expected an array/],
    [
      'an answer with none of the known fields',
      { unexpected: true, items: [1, 2] },
      /usage: the answer has no prices and no usage category/,
    ],
    [
      'an entry list that is not a list',
      { completion: { models: { m: { input: 3 } } } },
      /usage\.completion\.models\.m\.input: expected an array/,
    ],
  ])('refuses %s with a ParseError naming the field', (_name, body, message) => {
    expect(() => parseUsage(body)).toThrow(ParseError);
    expect(() => parseUsage(body)).toThrow(message);
  });

  it('skips and counts an entry without a quantity or a price it cannot read, never reading them as 0', () => {
    const tally = new UnreadableTally();
    const r = parseUsage(
      {
        completion: {
          models: {
            m: {
              input: [
                { event_type: 'api_tokens', billing_metric: 'm', billing_group: 'input', value: 100, value_paid: 100 },
                { event_type: 'api_tokens', billing_metric: 'm', billing_group: 'input', value: null, value_paid: 5 },
                { event_type: 'api_tokens', billing_metric: 'm', billing_group: 'input', value: 7 },
              ],
            },
          },
        },
        prices: [
          { event_type: null, billing_metric: 'm', billing_group: 'input', price: '0.5' },
          { event_type: 'api_tokens', price: 'free' },
        ],
      },
      undefined,
      tally,
    );
    expect(r.rows.map((row) => [row.quantity.toString(), row.cost?.toString()])).toEqual([['100', '50']]);
    expect(tally.result()).toEqual({
      missing: { count: 2, example: 'usage.completion.models.m.input[1].value: missing' },
      not_a_number: { count: 1, example: 'usage.prices[1].price: expected a number, got the string "free"' },
    });
  });

  it('a price naming more fields wins over one that leaves a field null', () => {
    const entry = { event_type: 'api_tokens', billing_metric: 'm', billing_group: 'output', value: 10, value_paid: 10 };
    const r = parseUsage({
      completion: { models: { m: { output: [entry] } } },
      prices: [
        { event_type: null, billing_metric: 'm', billing_group: 'output', price: 1 },
        { event_type: 'api_tokens', billing_metric: 'm', billing_group: 'output', price: 3 },
      ],
    });
    expect(r.rows[0]?.cost?.toString()).toBe('30');
  });

  it('knows the units of every documented event type', () => {
    expect(unitOf('api_tokens')).toBe('tokens');
    expect(unitOf('api_libraries_tokens')).toBe('tokens');
    expect(unitOf('vibe_pages')).toBe('pages');
    expect(unitOf('api_libraries_audio')).toBe('audio_seconds');
    expect(unitOf('vibe_audio_characters')).toBe('audio_characters');
    expect(unitOf('gpu_hour')).toBeUndefined();
  });
});

describe('spend-limit', () => {
  const body = (completion: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    limits: { completion, last_payment_failure: false, last_payment_failure_protection: null, currency: 'EUR', ...extra },
  });
  const mid = Date.UTC(2026, 10, 16); // 15 of 30 days elapsed

  it('splits spend into api, vibe and other, and projects the month end', () => {
    const s = parseSpendLimit(
      body({ monthly_limit_reached: false, usage: 1200.1, vibe_usage: '300.2', total_usage: 1600.4, usage_limit: 4000 }),
      mid,
    );
    const m = flat(spendLimitFamilies(s));
    expect(m['mistral_spend{currency="EUR",product="api"}']).toBe(1200.1);
    expect(m['mistral_spend{currency="EUR",product="vibe"}']).toBe(300.2);
    expect(m['mistral_spend{currency="EUR",product="other"}']).toBe(100.1);
    expect(m['mistral_spend_limit{currency="EUR"}']).toBe(4000);
    expect(m.mistral_spend_limit_enabled).toBe(1);
    expect(m.mistral_spend_limit_reached).toBe(0);
    expect(m.mistral_spend_limit_utilization_ratio).toBe(0.4001);
    expect(m['mistral_spend_projected{currency="EUR"}']).toBe(3200.8);
    expect(m.mistral_payment_last_failed).toBe(0);
  });

  it('has no limit series when there is no monthly limit', () => {
    const s = parseSpendLimit(body({ monthly_limit_reached: false, no_monthly_limit: true, usage: 10, usage_limit: null }), mid);
    const m = flat(spendLimitFamilies(s));
    expect(m.mistral_spend_limit_enabled).toBe(0);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_spend_limit{') || k.startsWith('mistral_spend_limit_utilization'))).toEqual(
      [],
    );
    // No total_usage: the itemised products are all there is; no invented "other" of 0.
    expect(m['mistral_spend{currency="EUR",product="other"}']).toBeUndefined();
    expect(m['mistral_spend{currency="EUR",product="api"}']).toBe(10);
    expect(m.mistral_spend_parts_inconsistent).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, Record<string, number>, number | undefined]>([
    ['parts within the total', { usage: 60, vibe_usage: 30, total_usage: 100 }, { api: 60, vibe: 30, other: 10 }, 0],
    ['parts equal to the total', { usage: 70, vibe_usage: 30, total_usage: 100 }, { api: 70, vibe: 30, other: 0 }, 0],
    // usage may already hold Vibe spend: the split would count it twice, so the total is shown whole.
    ['parts over the total', { usage: 90, vibe_usage: 30, total_usage: 100 }, { unitemised: 100 }, 1],
    ['no vibe_usage (legacy)', { usage: 60, total_usage: 100 }, { api: 60, other: 40 }, 0],
    ['no total', { usage: 60, vibe_usage: 30 }, { api: 60, vibe: 30 }, undefined],
  ])('splits spend so the parts add up to the API total, never more: %s', (_name, completion, parts, exceeds) => {
    const m = flat(spendLimitFamilies(parseSpendLimit(body({ monthly_limit_reached: false, ...completion }), mid)));
    const spend = Object.fromEntries(
      Object.entries(m)
        .filter(([k]) => k.startsWith('mistral_spend{'))
        .map(([k, v]) => [/product="(\w+)"/.exec(k)?.[1], v]),
    );
    expect(spend).toEqual(parts);
    expect(m.mistral_spend_parts_inconsistent).toBe(exceeds);
    for (const field of ['usage', 'vibe_usage', 'total_usage']) {
      expect(m[`mistral_spend_reported{currency="EUR",field="${field}"}`]).toBe(completion[field] as number | undefined);
    }
  });

  it('projects nothing during the first day of the month', () => {
    const s = parseSpendLimit(body({ monthly_limit_reached: false, usage: 10 }), Date.UTC(2026, 10, 1, 23, 59));
    expect(Object.keys(flat(spendLimitFamilies(s))).some((k) => k.startsWith('mistral_spend_projected'))).toBe(false);
  });

  it('exports no spend when the answer has none (so the missing-data alert can fire)', () => {
    const s = parseSpendLimit(body({ monthly_limit_reached: true }, { last_payment_failure: true }), mid);
    const m = flat(spendLimitFamilies(s));
    expect(Object.keys(m).some((k) => k.startsWith('mistral_spend{'))).toBe(false);
    expect(m.mistral_spend_limit_reached).toBe(1);
    expect(m.mistral_payment_last_failed).toBe(1);
  });

  it('requires monthly_limit_reached, the one field the schema requires', () => {
    expect(() => parseSpendLimit(body({ usage: 1 }), mid)).toThrow(/monthly_limit_reached: missing/);
    expect(() => parseSpendLimit({ limits: 'none' }, mid)).toThrow(ParseError);
  });
});

describe('rate-limit', () => {
  it('exports the request rate and per-model token limits', () => {
    const s = parseRateLimit({
      requests_per_second: 6,
      tokens_limits_by_model: {
        'mistral-large-2411': { tokens_per_minute: 2_000_000, tokens_per_month: '10000000000' },
        'codestral-2501': { tokens_per_minute: 500_000, tokens_per_month: 1e9 },
      },
    });
    expect(flat(rateLimitFamilies(s))).toEqual({
      mistral_rate_limit_requests_per_second: 6,
      'mistral_rate_limit_tokens_per_minute{model="mistral-large-2411"}': 2_000_000,
      'mistral_rate_limit_tokens_per_minute{model="codestral-2501"}': 500_000,
      'mistral_rate_limit_tokens_per_month{model="mistral-large-2411"}': 10_000_000_000,
      'mistral_rate_limit_tokens_per_month{model="codestral-2501"}': 1_000_000_000,
    });
  });

  it('keeps the first of a model named twice: one series per model', () => {
    const listed = parseRateLimit({
      requests_per_second: 1,
      tokens_limits_by_model: [
        { model: 'm', tokens_per_minute: 1 },
        { model: 'm', tokens_per_minute: 2 },
      ],
    });
    const keyed = parseRateLimit({
      requests_per_second: 1,
      tokens_limits_by_model: { m: { tokens_per_minute: 1 }, 'm ': { tokens_per_minute: 2 } },
    });
    for (const s of [listed, keyed]) {
      expect(flat(rateLimitFamilies(s))).toEqual({
        mistral_rate_limit_requests_per_second: 1,
        'mistral_rate_limit_tokens_per_minute{model="m"}': 1,
      });
    }
  });

  it('rejects an answer with neither known field, rather than reading it as no limits', () => {
    expect(() => parseRateLimit({ unexpected: true, data: 'x' })).toThrow(/neither requests_per_second nor tokens_limits_by_model/);
  });

  it('rejects a model entry that is not an object', () => {
    expect(() => parseRateLimit({ requests_per_second: 1, tokens_limits_by_model: { m: 5 } })).toThrow(
      /rate-limit\.tokens_limits_by_model\.m: expected an object/,
    );
  });
});
