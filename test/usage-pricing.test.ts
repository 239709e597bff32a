import { Big } from 'big.js';
import { describe, expect, it } from 'vitest';
import type { UsageTruthRow } from '../src/simulator/index.js';
import { costLabels, samples, useHarness, valueOf } from './support/harness.js';

/**
 * Issue 8, rules 3 and 7, and negative money (issue 10), through the
 * simulator over real HTTP: what /metrics serves against the simulator's
 * truth. The simulated price list names three zones and two tiers; its
 * organization has EU and US usage billed at the zone's price (1.1x), and
 * Priority Tier usage whose entries say so, beside standard entries that
 * say no tier.
 */
const harness = useHarness();

const sumEntries = (rows: readonly UsageTruthRow[]) => rows.reduce((n, r) => n + r.entries, 0);

/** Σ of a truth field over rows, exactly, as the number /metrics shows. */
const sum = (rows: readonly UsageTruthRow[], field: 'value' | 'cost') =>
  Number(rows.reduce((acc, r) => acc.plus(r[field] ?? 0), new Big(0)).toString());

function costLines(text: string): string[] {
  return [...samples(text).keys()].filter((k) => k.startsWith('mistral_usage_cost{'));
}

describe('rule 3: prices match on every field both sides carry', () => {
  it('asks usage once per zone of the prices and prices each entry with its zone; with the tier declared, every cost equals the truth', async () => {
    const { sim, refresh, scrape } = await harness({ env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' } });
    await refresh('usage');
    const text = await scrape();
    const asked = sim.requests.filter((r) => r.endpoint === 'usage').map((r) => r.query.api_zone ?? '(none)');
    expect(asked.sort()).toEqual(['(none)', 'eu', 'global', 'us']);
    expect(sim.requests.every((r) => r.method === 'GET')).toBe(true);
    const truth = sim.truth.usage();
    const regional = truth.rows.filter((r) => r.apiZone !== 'global' && r.cost !== null);
    expect(regional.length).toBeGreaterThan(1);
    for (const row of truth.rows.filter((r) => r.cost !== null)) {
      const labels = costLabels(row);
      expect(valueOf(text, 'mistral_usage_cost', labels), JSON.stringify(labels)).toBe(Number(row.cost));
    }
    // Every cost series is one of the truth's rows: none priced at another zone's or tier's price.
    expect(costLines(text)).toHaveLength(truth.rows.filter((r) => r.cost !== null).length);
    expect(sum(truth.rows, 'cost')).toBeCloseTo(Number(truth.totalCost), 9);
    expect(valueOf(text, 'mistral_usage_zone_filter_ignored')).toBe(0);
    expect(text).not.toMatch(/^mistral_usage_ambiguous_price_entries\{/m);
  });

  it('without the tier setting, an entry that says no tier is ambiguous where the prices differ by tier: counted, its cost left out, logged once', async () => {
    const { sim, refresh, scrape, logs } = await harness();
    await refresh('usage');
    await refresh('usage');
    const text = await scrape();
    const truth = sim.truth.usage();
    const ambiguous = truth.rows.filter((r) => !r.tierInEntries && r.pricesDifferByTier && r.price !== null);
    expect(ambiguous.length).toBeGreaterThan(0);
    const byCategory = new Map<string, UsageTruthRow[]>();
    for (const r of ambiguous) byCategory.set(r.category, [...(byCategory.get(r.category) ?? []), r]);
    for (const [category, rows] of byCategory) {
      expect(valueOf(text, 'mistral_usage_ambiguous_price_entries', { category, field: 'service_tier' })).toBe(sumEntries(rows));
    }
    for (const row of ambiguous) {
      const lines = costLines(text).filter(
        (k) =>
          k.includes(`category="${row.category}",model="${row.billingMetric}",billing_group="${row.billingGroup}",`) &&
          k.includes(`api_zone="${row.apiZone}"`) &&
          !k.includes('service_tier='),
      );
      expect(lines, `${row.category} ${row.billingMetric} ${row.billingGroup}`).toEqual([]);
    }
    // Entries that say their tier, or whose prices do not differ by tier, are priced as the truth says.
    const settled = truth.rows.filter((r) => r.cost !== null && !(r.pricesDifferByTier && !r.tierInEntries));
    expect(settled.some((r) => r.tierInEntries && r.serviceTier === 'priority')).toBe(true);
    for (const row of settled) {
      const labels: Record<string, string> = {
        category: row.category,
        model: row.billingMetric,
        billing_group: row.billingGroup,
        currency: 'EUR',
        api_zone: row.apiZone,
        ...(row.tierInEntries ? { service_tier: row.serviceTier } : {}),
      };
      expect(valueOf(text, 'mistral_usage_cost', labels), JSON.stringify(labels)).toBe(Number(row.cost));
    }
    const warnings = logs.lines().filter((l) => l.level === 'warn' && l.field === 'service_tier');
    expect(warnings.map((w) => w.category).sort()).toEqual([...byCategory.keys()].sort());
    expect(warnings[0]?.msg).toMatch(/USAGE_ASSUMED_SERVICE_TIER/);
    expect(String(warnings[0]?.first)).toMatch(/^usage\.[a-z_.]+\.models\.[^.]+\.[a-z]+\[\d+\]$/);
  });

  it('a server that ignores the api_zone filter is caught: the unfiltered answer is priced with the zone unknown, never counted three times', async () => {
    const { sim, refresh, scrape, logs } = await harness({
      sim: { ignoreZoneFilter: true },
      env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' },
    });
    await refresh('usage');
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_usage_zone_filter_ignored')).toBe(1);
    const truth = sim.truth.usage();
    // Quantities are the unfiltered answer's, once.
    const tokens = truth.rows.filter(
      (r) => r.category === 'completion' && r.billingMetric === 'mistral-large-2411' && r.billingGroup === 'input',
    );
    expect(tokens.map((r) => r.apiZone)).toContain('eu');
    expect(valueOf(text, 'mistral_usage_tokens', { category: 'completion', model: 'mistral-large-2411', token_type: 'input' })).toBe(
      sum(tokens, 'value'),
    );
    // An entry whose key has prices in several zones at its tier cannot be priced without its zone.
    const prices = (sim.bodyFor('usage') as { prices: Array<Record<string, string>> }).prices;
    const zonesPriced = (r: UsageTruthRow) =>
      new Set(
        prices
          .filter(
            (p) =>
              p.event_type === r.eventType &&
              p.billing_metric === r.billingMetric &&
              p.billing_group === r.billingGroup &&
              p.service_tier === (r.tierInEntries ? r.serviceTier : 'standard'),
          )
          .map((p) => p.api_zone),
      ).size;
    const zoneAmbiguous = truth.rows.filter((r) => r.category === 'completion' && zonesPriced(r) > 1);
    expect(zoneAmbiguous.map((r) => r.billingMetric)).toContain('mistral-large-2411');
    expect(valueOf(text, 'mistral_usage_ambiguous_price_entries', { category: 'completion', field: 'api_zone' })).toBe(
      sumEntries(zoneAmbiguous),
    );
    expect(costLines(text).filter((k) => k.includes('api_zone='))).toEqual([]);
    // One whose prices name one zone only is still priced, without a zone label.
    const small = truth.rows.find(
      (r) => r.category === 'completion' && r.billingMetric === 'mistral-small-2503' && r.billingGroup === 'input',
    );
    expect(
      valueOf(text, 'mistral_usage_cost', {
        category: 'completion',
        model: 'mistral-small-2503',
        billing_group: 'input',
        currency: 'EUR',
        service_tier: 'standard',
      }),
    ).toBe(Number(small?.cost));
    expect(logs.lines().filter((l) => /filter is not honoured/.test(l.msg))).toHaveLength(1);
  });
});

describe('rule 7: every money-bearing field reaches a series', () => {
  it('odd shapes: a category without models, GPU hours and reserved instances, storage, legacy vibe_usage; negative numbers refused as unreadable', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { oddShapes: true }, env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' } });
    await refresh('usage');
    await refresh('spend_limit');
    const text = await scrape();
    const truth = sim.truth.usage();
    const gpu = truth.rows.filter((r) => r.eventType === 'gpu_hour');
    const reserved = truth.rows.filter((r) => r.eventType === 'reserved_instance');
    expect(gpu.length * reserved.length).toBeGreaterThan(0);
    for (const row of [...gpu, ...reserved]) {
      const labels = { category: row.category, model: row.billingMetric, billing_group: row.billingGroup };
      const labelsWithCost = { ...labels, currency: 'EUR', api_zone: row.apiZone, service_tier: row.serviceTier };
      expect(valueOf(text, 'mistral_usage_cost', labelsWithCost), row.category).toBe(Number(row.cost));
      const metric = row.eventType === 'gpu_hour' ? 'mistral_usage_gpu_seconds' : 'mistral_usage_reserved_instances';
      const want = row.eventType === 'gpu_hour' ? new Big(row.value).times(3600) : new Big(row.value);
      expect(valueOf(text, metric, labels), metric).toBe(Number(want.toString()));
    }
    expect(gpu[0]?.category).toBe('dedicated_deployments');
    expect(valueOf(text, 'mistral_usage_legacy_vibe_amount', { currency: 'EUR' })).toBe(truth.legacyVibeUsage);
    const storage = Object.entries(truth.fineTuningStorage);
    expect(storage.length).toBeGreaterThan(0);
    for (const [model, n] of storage) expect(valueOf(text, 'mistral_usage_fine_tuning_storage', { model })).toBe(n);
    // The negative entry and the negative price: unreadable, never exported nor computed with.
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'usage', reason: 'not_a_number' })).toBe(
      truth.negativeEntries + 1,
    );
    expect([...samples(text).entries()].filter(([k, v]) => k.startsWith('mistral_') && v < 0)).toEqual([]);
    expect(text).not.toMatch(/refund-2501/);
    const unpriced = truth.unpriced.filter((r) => r.category === 'connectors');
    expect(valueOf(text, 'mistral_usage_unpriced_entries', { category: 'connectors' })).toBe(sumEntries(unpriced));
    // usage_limit_organization beside usage_limit: tolerated, never read as the limit.
    const spend = sim.truth.spend();
    expect(spend.organizationLimit).not.toBe(spend.limit);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(1);
    expect(valueOf(text, 'mistral_spend_limit', { currency: 'EUR' })).toBe(spend.limit);
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(spend.served.usage);
  });

  it('the common shape: a legacy vibe_usage of 0 is the number the API gave, exported as 0', async () => {
    const { refresh, scrape } = await harness();
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_usage_legacy_vibe_amount', { currency: 'EUR' })).toBe(0);
    expect(text).not.toMatch(/^mistral_usage_gpu_seconds\{/m);
  });
});
