import { Big } from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rateLimitFamilies, rateLimitSeriesDropped, type RateLimitSnapshot } from '../src/sources/rate-limit.js';
import { OTHER_MODEL, usageFamilies, usageSeriesDropped, type UsageReport, type UsageSnapshot } from '../src/sources/usage.js';
import { samples, useHarness, valueOf } from './support/harness.js';

/**
 * Defect 6 of issue 10: an answer naming 10 000 models. MAX_MODELS keeps
 * the models with the highest cost (usage) or the first by name
 * (rate-limit); usage's rest is summed into model="other", so that the
 * totals stay whole, and what the cap folded or left out is counted.
 */
const harness = useHarness();

const MODELS = 10_000;
const name = (i: number) => `m-${String(i).padStart(5, '0')}`;

/** A usage answer with `n` models; model i paid i × 1000 input tokens at 1e-6: a cost of i / 1000. */
function usageBody(n: number) {
  const models: Record<string, unknown> = {};
  for (let i = 1; i <= n; i++) {
    const entry = { event_type: 'input_tokens', billing_metric: name(i), billing_group: 'input', value: i * 1000, value_paid: i * 1000 };
    models[name(i)] = { input: [entry] };
  }
  return {
    currency: 'EUR',
    completion: { models },
    prices: [{ event_type: 'input_tokens', billing_metric: null, billing_group: null, price: '0.000001' }],
  };
}

/** Σ over the samples of a metric, and how many there are. */
function sumOf(text: string, metric: string): { sum: number; series: number } {
  let sum = 0;
  let series = 0;
  for (const [key, value] of samples(text)) {
    if (key === metric || key.startsWith(`${metric}{`)) {
      sum += value;
      series += 1;
    }
  }
  return { sum, series };
}

const dropped = (text: string, metric: string) => valueOf(text, 'mistral_exporter_series_dropped', { metric });

describe('MAX_MODELS over HTTP', () => {
  it('usage with 10 000 models: the 500 costliest keep their series, the rest is summed into model="other", the cost total is whole', async () => {
    const { sim, refresh, scrape, logs } = await harness();
    sim.setFault('usage', { kind: 'status', status: 200, body: usageBody(MODELS) });
    await refresh('usage');
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);

    const cost = sumOf(text, 'mistral_usage_cost');
    expect(cost.series).toBe(501);
    // Σ i / 1000 for i = 1..10 000, exactly 50 005.
    expect(cost.sum).toBeCloseTo(50_005, 6);
    const labels = (model: string) => ({ category: 'completion', model, billing_group: 'input', currency: 'EUR' });
    expect(valueOf(text, 'mistral_usage_cost', labels(name(MODELS)))).toBe(10);
    expect(valueOf(text, 'mistral_usage_cost', labels(name(9501)))).toBe(9.501);
    expect(valueOf(text, 'mistral_usage_cost', labels(name(9500)))).toBeUndefined();
    // Σ i / 1000 for i = 1..9 500.
    expect(valueOf(text, 'mistral_usage_cost', labels(OTHER_MODEL))).toBeCloseTo(45_129.75, 6);

    const tokens = sumOf(text, 'mistral_usage_tokens');
    expect(tokens.series).toBe(501);
    expect(tokens.sum).toBe(1000 * ((MODELS * (MODELS + 1)) / 2));

    // 10 000 series without the cap, 501 with it.
    expect(dropped(text, 'mistral_usage_cost')).toBe(9499);
    expect(dropped(text, 'mistral_usage_tokens')).toBe(9499);
    expect(dropped(text, 'mistral_usage_pages')).toBe(0);
    const warnings = logs.lines().filter((l) => l.api_endpoint === 'usage' && /MAX_MODELS/.test(String(l.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.models_folded).toBe(MODELS - 500);
    // The whole /metrics stays small: the simulated organization's other endpoints are not read here.
    expect(samples(text).size).toBeLessThan(2000);
  });

  it('rate-limit with 10 000 models: the first MAX_MODELS by name have series, the rest is counted and logged once', async () => {
    const { sim, refresh, scrape, logs } = await harness({ env: { MAX_MODELS: '250' } });
    const limits: Record<string, unknown> = {};
    // Listed in reverse, so that "first by name" is not "first listed".
    for (let i = MODELS; i >= 1; i--) limits[name(i)] = { tokens_per_minute: i, tokens_per_month: i * 1000 };
    sim.setFault('rate_limit', { kind: 'status', status: 200, body: { requests_per_second: 5, tokens_limits_by_model: limits } });
    await refresh('rate_limit');
    await refresh('rate_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(1);
    expect(sumOf(text, 'mistral_rate_limit_tokens_per_minute').series).toBe(250);
    expect(sumOf(text, 'mistral_rate_limit_tokens_per_month').series).toBe(250);
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model: name(1) })).toBe(1);
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model: name(250) })).toBe(250);
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model: name(251) })).toBeUndefined();
    expect(valueOf(text, 'mistral_rate_limit_requests_per_second')).toBe(5);
    expect(dropped(text, 'mistral_rate_limit_tokens_per_minute')).toBe(MODELS - 250);
    expect(dropped(text, 'mistral_rate_limit_tokens_per_month')).toBe(MODELS - 250);
    expect(logs.lines().filter((l) => l.api_endpoint === 'rate_limit' && /MAX_MODELS/.test(String(l.msg)))).toHaveLength(1);
  });

  it('the simulated organization\'s few models are untouched: no model="other", nothing dropped', async () => {
    const { refresh, scrape } = await harness();
    await refresh('usage');
    await refresh('rate_limit');
    const text = await scrape();
    expect(text).not.toMatch(/model="other"/);
    for (const metric of ['mistral_usage_cost', 'mistral_usage_tokens', 'mistral_rate_limit_tokens_per_minute']) {
      expect(dropped(text, metric)).toBe(0);
    }
  });
});

/** A report of rows (model, billing group, whole-number cost), quantities equal to the cost. */
function report(
  rows: ReadonlyArray<readonly [string, string, number]>,
  fineTuning: ReadonlyArray<readonly [string, number]> = [],
): UsageReport {
  return {
    workspaceId: undefined,
    currency: 'EUR',
    periodStart: undefined,
    periodEnd: undefined,
    rows: rows.map(([model, billingGroup, cost]) => ({
      category: 'completion',
      model,
      billingGroup,
      eventType: 'input_tokens',
      zone: undefined,
      tier: undefined,
      quantity: new Big(cost),
      paid: new Big(cost),
      cost: new Big(cost),
    })),
    unpricedEntries: new Map(),
    ambiguousEntries: new Map(),
    unknownUnitEntries: new Map(),
    legacyVibeUsage: undefined,
    fineTuningStorage: new Map(fineTuning.map(([m, n]) => [m, new Big(n)])),
  };
}

function costs(s: UsageSnapshot, max?: number): Map<string, number> {
  const fam = usageFamilies(s, max).find((f) => f.name === 'mistral_usage_cost');
  const out = new Map<string, number>();
  for (const { labels, value } of fam?.samples ?? []) out.set(labels.model as string, (out.get(labels.model as string) ?? 0) + value);
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('the MAX_MODELS cap (properties)', () => {
  // Names from a small alphabet, so that "other" and collisions between models of two rows turn up.
  const modelName = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'other', 'h', 'i');
  const rows = fc.array(fc.tuple(modelName, fc.constantFrom('input', 'output'), fc.integer({ min: 0, max: 1000 })), { maxLength: 40 });
  const storage = fc.array(fc.tuple(modelName, fc.integer({ min: 0, max: 1000 })), { maxLength: 10 });

  it('keeps at most MAX_MODELS models plus "other", the costliest, and every total whole', () => {
    fc.assert(
      fc.property(fc.array(rows, { minLength: 1, maxLength: 3 }), storage, fc.integer({ min: 1, max: 12 }), (reports, stored, max) => {
        const s: UsageSnapshot = { byWorkspace: false, reports: reports.map((r, i) => report(r, i === 0 ? stored : [])) };
        const all = costs(s);
        const capped = costs(s, max);
        // Whole totals (whole-number costs: float sums are exact).
        expect(sum(capped)).toBe(sum(all));
        const families = usageFamilies(s, max);
        const uncapped = usageFamilies(s);
        for (const name of ['mistral_usage_tokens', 'mistral_usage_fine_tuning_storage']) {
          const total = (fs: typeof families) => (fs.find((f) => f.name === name)?.samples ?? []).reduce((a, x) => a + x.value, 0);
          expect(total(families)).toBe(total(uncapped));
        }
        const distinct = new Set(reports.flat().map(([m]) => m)).size;
        const distinctStored = new Set(stored.map(([m]) => m)).size;
        if (distinct <= max && distinctStored <= max) {
          // Under the cap nothing changes, and nothing is counted.
          expect(families).toEqual(uncapped);
          expect(Object.values(usageSeriesDropped(s, max)).every((n) => n === 0)).toBe(true);
          return;
        }
        // Over it: at most max models of their own; each of them cost at least as much as each folded one.
        expect(capped.size).toBeLessThanOrEqual(max + 1);
        const kept = new Set([...all.keys()].filter((m) => capped.has(m) && m !== OTHER_MODEL));
        const folded = [...all.keys()].filter((m) => !capped.has(m));
        for (const k of kept) for (const f of folded) expect(all.get(k) ?? 0).toBeGreaterThanOrEqual(all.get(f) ?? 0);
        // Dropped: the series there would be, less those there are.
        const count = (fs: typeof families, name: string) => fs.find((f) => f.name === name)?.samples.length ?? 0;
        const counted = usageSeriesDropped(s, max);
        expect(counted.mistral_usage_cost).toBe(count(uncapped, 'mistral_usage_cost') - count(families, 'mistral_usage_cost'));
      }),
    );
  });

  it('rate-limit keeps the first MAX_MODELS by name, whatever the order listed, and counts the rest', () => {
    const limits = fc
      .uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 30 })
      .chain((names) =>
        fc.tuple(
          fc.constant(names),
          fc.array(fc.option(fc.integer({ min: 0, max: 1e6 }), { nil: undefined }), { minLength: names.length, maxLength: names.length }),
        ),
      );
    fc.assert(
      fc.property(limits, fc.integer({ min: 1, max: 20 }), ([names, values], max) => {
        const s: RateLimitSnapshot = {
          requestsPerSecond: 1,
          models: names.map((model, i) => ({ model, tokensPerMinute: values[i], tokensPerMonth: 7 })),
        };
        const tpm = rateLimitFamilies(s, max).find((f) => f.name === 'mistral_rate_limit_tokens_per_month');
        const want = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, max);
        expect(tpm?.samples.map((x) => x.labels.model).sort()).toEqual([...want].sort());
        expect(rateLimitSeriesDropped(s, max).mistral_rate_limit_tokens_per_month).toBe(names.length - want.length);
        const perMinute = names.filter((_, i) => values[i] !== undefined).length;
        const keptPerMinute = rateLimitFamilies(s, max).find((f) => f.name === 'mistral_rate_limit_tokens_per_minute')?.samples.length;
        expect(rateLimitSeriesDropped(s, max).mistral_rate_limit_tokens_per_minute).toBe(perMinute - (keptPerMinute ?? 0));
      }),
    );
  });
});
