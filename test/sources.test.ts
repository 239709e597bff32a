import { describe, expect, it } from 'vitest';
import { parseRateLimit, rateLimitFamilies } from '../src/sources/rate-limit.js';
import { parseSpendLimit, spendLimitFamilies } from '../src/sources/spend-limit.js';
import { ParseError } from '../src/sources/types.js';
import { parseUsage, priceUsage, readUsage, unitOf, usageFamilies, type UsageReport } from '../src/sources/usage.js';
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

/** The answer as asked for `api_zone=global`, its entries taken as billed at the standard tier. */
function globalStandard(body: unknown, workspaceId?: string): UsageReport {
  const answer = readUsage(body, workspaceId, new UnreadableTally(), 'global');
  return priceUsage(answer, answer.entries, { assumedServiceTier: 'standard' });
}

describe('usage', () => {
  const report = globalStandard(USAGE);
  const m = flat(usageFamilies({ byWorkspace: false, reports: [report] }));

  it('computes cost as Σ value_paid × the unit price of the entry zone and tier, exactly, labelled with both where they vary', () => {
    // 1_200_000 paid input tokens × 2e-6 = 2.4 (not 2.4000000000000004); 250_000 × 6e-6 = 1.5
    expect(
      m[
        'mistral_usage_cost{category="completion",model="mistral-large-2411",billing_group="input",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(2.4);
    expect(
      m[
        'mistral_usage_cost{category="completion",model="mistral-large-2411",billing_group="output",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(1.5);
    expect(
      m[
        'mistral_usage_cost{category="ocr",model="mistral-ocr-2505",billing_group="pages",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(0.1);
    expect(
      m[
        'mistral_usage_cost{category="connectors",model="web-search",billing_group="calls",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(0.21);
    expect(
      m[
        'mistral_usage_cost{category="vibe_code_completion",model="devstral-2512",billing_group="input",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(0.0005);
  });

  it('reports quantities by unit, with token_type for tokens', () => {
    expect(m['mistral_usage_tokens{category="completion",model="mistral-large-2411",token_type="input"}']).toBe(1_300_000);
    expect(m['mistral_usage_tokens{category="completion",model="mistral-large-2411",token_type="output"}']).toBe(250_000);
    expect(m['mistral_usage_tokens{category="fine_tuning_training",model="ft-small",token_type="training"}']).toBe(10);
    expect(m['mistral_usage_pages{category="ocr",model="mistral-ocr-2505",billing_group="pages"}']).toBe(120);
    expect(m['mistral_usage_pages{category="libraries_api_pages",model="doc-parser",billing_group="pages"}']).toBe(40);
  });

  it('reads an unknown category like the known ones', () => {
    expect(
      m[
        'mistral_usage_cost{category="agents_api",model="agent-runtime",billing_group="calls",currency="EUR",api_zone="global",service_tier="standard"}'
      ],
    ).toBe(0.3);
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
      'mistral_usage_cost{category="connectors",model="web-search",billing_group="calls",currency="EUR",api_zone="global",service_tier="standard"}',
    ]);
  });

  it('exports fine_tuning.storage and the legacy vibe_usage as given, and no metadata field', () => {
    expect(m['mistral_usage_fine_tuning_storage{model="ft-small"}']).toBe(3);
    expect(m['mistral_usage_legacy_vibe_amount{currency="EUR"}']).toBe(0);
    expect(Object.keys(m).filter((k) => /date|month/.test(k) && !k.startsWith('mistral_billing_period'))).toEqual([]);
  });

  it('exports the billing period', () => {
    expect(m.mistral_billing_period_start_timestamp_seconds).toBe(Date.UTC(2026, 10, 1) / 1000);
    expect(m.mistral_billing_period_end_timestamp_seconds).toBe(Date.UTC(2026, 11, 1) / 1000);
  });

  it('labels workspaces only when broken down by workspace', () => {
    const a = globalStandard(USAGE, 'ws-a');
    const b = globalStandard(USAGE, 'ws-b');
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
    expect(unitOf('gpu_hour')).toBe('gpu_seconds');
    expect(unitOf('reserved_instance')).toBe('reserved_instances');
    expect(unitOf('api_connectors')).toBeUndefined();
  });
});

describe('usage prices (rule 3): matched on every field both sides carry, never picked silently', () => {
  const tokens = (o: Record<string, unknown> = {}) =>
    entry({ event_type: 'api_tokens', billing_metric: 'm-1', billing_group: 'input', value: 100, value_paid: 100, ...o });
  const price = (o: Record<string, unknown>) => ({
    event_type: 'api_tokens',
    billing_metric: 'm-1',
    billing_group: 'input',
    api_zone: 'global',
    service_tier: 'standard',
    ...o,
  });
  const ZONED = [
    price({ price: 1 }),
    price({ api_zone: 'eu', price: '1.1' }),
    price({ service_tier: 'priority', price: 2 }),
    price({ api_zone: 'eu', service_tier: 'priority', price: '2.2' }),
  ];
  const body = (entries: unknown[], prices: unknown[] = ZONED) => ({ completion: { models: { 'm-1': { input: entries } } }, prices });
  const read = (b: unknown, zone?: string, tier?: 'standard' | 'priority') => {
    const answer = readUsage(b, undefined, new UnreadableTally(), zone);
    return flat(usageFamilies({ byWorkspace: false, reports: [priceUsage(answer, answer.entries, { assumedServiceTier: tier })] }));
  };
  const cost = (labels: string) => `mistral_usage_cost{category="completion",model="m-1",billing_group="input",currency="XXX"${labels}}`;

  it('an entry of unknown zone and tier, with prices that differ by zone, is ambiguous: counted, its cost left out', () => {
    const m = read(body([tokens(), tokens()]));
    expect(m['mistral_usage_ambiguous_price_entries{category="completion",field="api_zone"}']).toBe(2);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_usage_cost'))).toEqual([]);
    // Its quantity still counts.
    expect(m['mistral_usage_tokens{category="completion",model="m-1",token_type="input"}']).toBe(200);
  });

  it('the zone it was asked for settles the zone; an unknown tier with prices that differ by tier is still ambiguous', () => {
    const m = read(body([tokens()]), 'eu');
    expect(m['mistral_usage_ambiguous_price_entries{category="completion",field="service_tier"}']).toBe(1);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_usage_cost'))).toEqual([]);
  });

  it('USAGE_ASSUMED_SERVICE_TIER settles the tier of entries that name none, and labels it', () => {
    expect(read(body([tokens()]), 'eu', 'standard')[cost(',api_zone="eu",service_tier="standard"')]).toBe(110);
    expect(read(body([tokens()]), 'eu', 'priority')[cost(',api_zone="eu",service_tier="priority"')]).toBe(220);
  });

  it("the entry's own api_zone and service_tier win over the zone asked and the tier assumed", () => {
    const m = read(body([tokens({ api_zone: 'eu', service_tier: 'priority' }), tokens()]), 'global', 'standard');
    expect(m[cost(',api_zone="eu",service_tier="priority"')]).toBe(220);
    expect(m[cost(',api_zone="global",service_tier="standard"')]).toBe(100);
  });

  it('a field the price leaves null matches anything; without variation in zone or tier the labels are left out', () => {
    const m = read(body([tokens()], [price({ api_zone: null, service_tier: null, price: 3 })]));
    expect(m[cost('')]).toBe(300);
    expect(m['mistral_usage_ambiguous_price_entries{category="completion",field="api_zone"}']).toBeUndefined();
  });

  it('one zone named: no per-zone question is needed and the zone label is left out', () => {
    const m = read(body([tokens()], [price({ price: 1 }), price({ service_tier: 'priority', price: 2 })]), undefined, 'standard');
    expect(m[cost(',service_tier="standard"')]).toBe(100);
  });

  it('two prices for the very same fields that disagree are ambiguous (field price)', () => {
    const m = read(body([tokens()], [price({ price: 1 }), price({ price: 2 })]), 'global', 'standard');
    expect(m['mistral_usage_ambiguous_price_entries{category="completion",field="price"}']).toBe(1);
  });
});

describe('usage money-bearing fields (rule 7) and negative money', () => {
  const gpu = (o: Record<string, unknown> = {}) =>
    entry({ event_type: 'gpu_hour', billing_metric: 'h100', billing_group: 'hours', value: '1.5', value_paid: 1.5, ...o });
  const odd = {
    dedicated: { 'dedicated-h100::h100': { hours: [gpu(), gpu({ value: 2, value_paid: 2 })] } },
    reserved: {
      models: {
        h100: {
          instances: [
            entry({ event_type: 'reserved_instance', billing_metric: 'h100', billing_group: 'instances', value: 2, value_paid: 2 }),
          ],
        },
      },
    },
    fine_tuning: { training: {}, storage: { 'ft:a': 12, 'ft:b': 0 } },
    vibe_usage: '0',
    prices: [
      {
        event_type: 'gpu_hour',
        billing_metric: 'h100',
        billing_group: 'hours',
        api_zone: 'global',
        service_tier: 'standard',
        price: '2.9',
      },
      {
        event_type: 'reserved_instance',
        billing_metric: 'h100',
        billing_group: 'instances',
        api_zone: 'global',
        service_tier: 'standard',
        price: 55,
      },
    ],
  };
  const m = flat(usageFamilies({ byWorkspace: false, reports: [parseUsage(odd)] }));

  it('reads a top-level category that is itself a model map (no models wrapper)', () => {
    expect(m['mistral_usage_cost{category="dedicated",model="h100",billing_group="hours",currency="XXX"}']).toBe(3.5 * 2.9);
  });

  it('exports GPU hours as seconds and reserved instances as given, with their cost', () => {
    expect(m['mistral_usage_gpu_seconds{category="dedicated",model="h100",billing_group="hours"}']).toBe(3.5 * 3600);
    expect(m['mistral_usage_reserved_instances{category="reserved",model="h100",billing_group="instances"}']).toBe(2);
    expect(m['mistral_usage_cost{category="reserved",model="h100",billing_group="instances",currency="XXX"}']).toBe(110);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_usage_unknown_unit_entries'))).toEqual([]);
  });

  it('exports fine_tuning.storage per model, a 0 included, and a legacy vibe_usage of 0 as the number given', () => {
    expect(m['mistral_usage_fine_tuning_storage{model="ft:a"}']).toBe(12);
    expect(m['mistral_usage_fine_tuning_storage{model="ft:b"}']).toBe(0);
    expect(m['mistral_usage_legacy_vibe_amount{currency="XXX"}']).toBe(0);
    const none = flat(usageFamilies({ byWorkspace: false, reports: [parseUsage({ ...odd, vibe_usage: null })] }));
    expect(none['mistral_usage_legacy_vibe_amount{currency="XXX"}']).toBeUndefined();
  });

  it('refuses negative money as unreadable: a price, a quantity, value_paid, vibe_usage and storage, never exported nor computed with', () => {
    const tally = new UnreadableTally();
    const negative = {
      ...odd,
      dedicated: { 'dedicated-h100::h100': { hours: [gpu(), gpu({ value_paid: -2 }), gpu({ value: '-1' })] } },
      fine_tuning: { training: {}, storage: { 'ft:a': -12 } },
      vibe_usage: -4,
      prices: [{ ...odd.prices[0], price: '-2.9' }, odd.prices[1]],
    };
    const n = flat(usageFamilies({ byWorkspace: false, reports: [parseUsage(negative, undefined, tally)] }));
    expect(tally.result().not_a_number?.count).toBe(5);
    expect(tally.result().not_a_number?.example).toMatch(/negative/);
    expect(Object.entries(n).filter(([, v]) => v < 0)).toEqual([]);
    expect(n['mistral_usage_gpu_seconds{category="dedicated",model="h100",billing_group="hours"}']).toBe(1.5 * 3600);
    expect(Object.keys(n).filter((k) => k.startsWith('mistral_usage_cost{category="dedicated"'))).toEqual([]);
    expect(n['mistral_usage_unpriced_entries{category="dedicated"}']).toBe(1);
    expect(n['mistral_usage_legacy_vibe_amount{currency="XXX"}']).toBeUndefined();
    expect(Object.keys(n).filter((k) => k.includes('fine_tuning_storage'))).toEqual([]);
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

  it('tolerates usage_limit_organization and never reads it as the limit', () => {
    const completion = { monthly_limit_reached: false, usage: 10, total_usage: 10, usage_limit: 4000, usage_limit_organization: 25_000 };
    const m = flat(spendLimitFamilies(parseSpendLimit(body(completion), mid)));
    expect(m['mistral_spend_limit{currency="EUR"}']).toBe(4000);
    const withoutLimit = flat(spendLimitFamilies(parseSpendLimit(body({ ...completion, usage_limit: null }), mid)));
    expect(Object.keys(withoutLimit).filter((k) => k.startsWith('mistral_spend_limit{'))).toEqual([]);
    expect(Object.values(withoutLimit)).not.toContain(25_000);
  });

  it('refuses a negative amount as unreadable: left out like an absent one, never exported nor computed with', () => {
    const s = parseSpendLimit(body({ monthly_limit_reached: false, usage: -5, vibe_usage: 2, total_usage: 10, usage_limit: '-100' }), mid);
    expect(s.unreadable?.not_a_number?.count).toBe(2);
    expect(s.unreadable?.not_a_number?.example).toMatch(/usage: -5 is negative/);
    const m = flat(spendLimitFamilies(s));
    expect(Object.entries(m).filter(([, v]) => v < 0)).toEqual([]);
    expect(m['mistral_spend_reported{currency="EUR",field="usage"}']).toBeUndefined();
    expect(m['mistral_spend{currency="EUR",product="vibe"}']).toBe(2);
    expect(m['mistral_spend{currency="EUR",product="other"}']).toBe(8);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_spend_limit{') || k.startsWith('mistral_spend_limit_utilization'))).toEqual(
      [],
    );
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
