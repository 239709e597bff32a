import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { UsageTruthRow } from '../../src/simulator/index.js';
import { asArray, asObject, exact, getJson, rowsOf, simulator, usageEntries, type Json } from './helpers.js';

const ZONES = ['global', 'eu', 'us'] as const;
const rowKey = (category: string, metric: string, group: string, eventType: string, zone: string, tier: string) =>
  `${category}|${metric}|${group}|${eventType}|${zone}|${tier}`;
const truthKey = (row: UsageTruthRow) =>
  rowKey(row.category, row.billingMetric, row.billingGroup, row.eventType, row.apiZone, row.serviceTier);

interface ServedSums {
  value: Big;
  valuePaid: Big;
  entries: Json[];
}

/**
 * Σ value / value_paid per (category, metric, group, event type, zone, tier), computed with big.js from the
 * JSON served for each `api_zone` (an entry's tier is standard unless it says otherwise).
 */
async function servedSums(url: string, query = ''): Promise<Map<string, ServedSums>> {
  const sums = new Map<string, ServedSums>();
  for (const zone of ZONES) {
    const { body } = await getJson(`${url}/usage?api_zone=${zone}${query}`);
    addSums(sums, body, zone);
  }
  return sums;
}

function addSums(sums: Map<string, ServedSums>, body: unknown, zone: string): void {
  for (const { category, entry } of usageEntries(body)) {
    const tier = (entry['service_tier'] as string | undefined) ?? 'standard';
    const key = rowKey(
      category,
      entry['billing_metric'] as string,
      entry['billing_group'] as string,
      entry['event_type'] as string,
      zone,
      tier,
    );
    const current = sums.get(key) ?? { value: new Big(0), valuePaid: new Big(0), entries: [] };
    current.value = current.value.plus(exact(entry['value']));
    current.valuePaid = current.valuePaid.plus(exact(entry['value_paid']));
    current.entries.push(entry);
    sums.set(key, current);
  }
}

/** The served prices by (event type, metric, group, zone, tier). */
function servedPrices(body: unknown): Map<string, Big> {
  const prices = new Map<string, Big>();
  for (const row of rowsOf(body, 'prices')) {
    prices.set(
      `${row['event_type']}|${row['billing_metric']}|${row['billing_group']}|${row['api_zone']}|${row['service_tier']}`,
      exact(row['price']),
    );
  }
  return prices;
}

describe('simulator usage', () => {
  it('matches the truth: Σ value, Σ value_paid, price of its zone and tier, and exact cost per row', async () => {
    const sim = await simulator();
    const { body } = await getJson(`${sim.url}/usage`);
    const served = await servedSums(sim.url);
    const prices = servedPrices(body);
    const truth = sim.truth.usage();
    expect(truth.rows.length).toBeGreaterThan(20);
    expect([...served.keys()].sort()).toEqual(truth.rows.map(truthKey).sort());
    let total = new Big(0);
    for (const row of truth.rows) {
      const sums = served.get(truthKey(row))!;
      expect(sums.value.eq(new Big(row.value)), `${truthKey(row)} value`).toBe(true);
      expect(sums.valuePaid.eq(new Big(row.valuePaid)), `${truthKey(row)} value_paid`).toBe(true);
      expect(sums.entries).toHaveLength(row.entries);
      const price = prices.get(`${row.eventType}|${row.billingMetric}|${row.billingGroup}|${row.apiZone}|${row.serviceTier}`);
      if (row.price === null) {
        expect(price).toBeUndefined();
        expect(row.cost).toBeNull();
        continue;
      }
      expect(price?.eq(new Big(row.price)), `${truthKey(row)} price`).toBe(true);
      const cost = sums.entries.reduce((acc, e) => acc.plus(exact(e['value_paid']).times(price!)), new Big(0));
      expect(cost.eq(new Big(row.cost!)), `${truthKey(row)} cost ${cost.toFixed()} vs ${row.cost}`).toBe(true);
      total = total.plus(cost);
    }
    expect(total.eq(new Big(truth.totalCost))).toBe(true);
    expect(new Big(truth.apiCost).plus(truth.vibeCost).eq(truth.totalCost)).toBe(true);
    // Regional and Priority Tier usage, priced at their own (higher) prices.
    expect(truth.rows.filter((r) => r.apiZone !== 'global').map((r) => r.apiZone)).toEqual(expect.arrayContaining(['eu', 'us']));
    expect(truth.rows.some((r) => r.serviceTier === 'priority' && r.tierInEntries)).toBe(true);
    expect(truth.rows.some((r) => !r.tierInEntries && r.pricesDifferByTier)).toBe(true);
    // Unfiltered: every zone's entries together.
    const all = new Map<string, ServedSums>();
    addSums(all, body, 'any');
    const zonesTogether = new Map<string, Big>();
    for (const [key, sums] of served) {
      const anyKey = key.replace(/\|(global|eu|us)\|([a-z]+)$/, '|any|$2');
      zonesTogether.set(anyKey, (zonesTogether.get(anyKey) ?? new Big(0)).plus(sums.value));
    }
    expect([...all.keys()].sort()).toEqual([...zonesTogether.keys()].sort());
    for (const [key, sums] of all) expect(sums.value.eq(zonesTogether.get(key)!), key).toBe(true);
  });

  it('answers api_zone=eu|us|global with that zone only, rejects another, and ignores it when told to', async () => {
    const sim = await simulator();
    const eu = await getJson(`${sim.url}/usage?api_zone=eu`);
    const euEntries = [...usageEntries(eu.body)];
    expect(euEntries.length).toBe(sim.truth.usage({ apiZone: 'eu' }).rows.reduce((n, r) => n + r.entries, 0));
    expect(euEntries.length).toBeGreaterThan(0);
    const bad = await getJson(`${sim.url}/usage?api_zone=mars`);
    expect(bad.status).toBe(422);
    expect(asObject(asArray(asObject(bad.body)['detail'])[0])['loc']).toEqual(['query', 'api_zone']);
    const ignoring = await simulator({ ignoreZoneFilter: true });
    expect((await getJson(`${ignoring.url}/usage?api_zone=eu`)).body).toEqual((await getJson(`${ignoring.url}/usage`)).body);
  });

  it('odd shapes: a category without models, GPU hours and reserved instances priced, legacy vibe_usage, a negative entry and price', async () => {
    const sim = await simulator({ oddShapes: true });
    const body = asObject((await getJson(`${sim.url}/usage`)).body);
    const direct = asObject(body['dedicated_deployments']);
    expect(direct['models']).toBeUndefined();
    expect(Object.keys(direct).length).toBeGreaterThan(0);
    const truth = sim.truth.usage();
    for (const eventType of ['gpu_hour', 'reserved_instance']) {
      const rows = truth.rows.filter((r) => r.eventType === eventType);
      expect(rows.length, eventType).toBeGreaterThan(0);
      expect(rows.every((r) => r.cost !== null)).toBe(true);
    }
    expect(body['vibe_usage']).toBe(truth.legacyVibeUsage);
    expect(truth.legacyVibeUsage).toBeGreaterThan(0);
    const negative = [...usageEntries(body)].filter((e) => exact(e.entry['value']).lt(0));
    expect(negative).toHaveLength(truth.negativeEntries);
    expect(rowsOf(body, 'prices').some((p) => exact(p['price']).lt(0))).toBe(true);
    const limits = asObject(asObject((await getJson(`${sim.url}/spend-limit`)).body)['limits']);
    expect(asObject(limits['completion'])['usage_limit_organization']).toBe(sim.truth.spend().organizationLimit);
    // The common shape has none of these.
    const plain = await simulator();
    const plainBody = asObject((await getJson(`${plain.url}/usage`)).body);
    expect(plainBody['dedicated_deployments']).toBeUndefined();
    expect(plainBody['vibe_usage']).toBe(0);
  });

  it('names categories the consumer way, including nested and unknown ones', async () => {
    const sim = await simulator();
    const categories = new Set(sim.truth.usage().rows.map((r) => r.category));
    for (const c of [
      'completion',
      'ocr',
      'connectors',
      'audio',
      'audio_characters',
      'chat',
      'libraries_api_pages',
      'libraries_api_tokens',
      'libraries_api_audio_seconds',
      'fine_tuning_training',
      'vibe_code_completion',
      'agents_api',
    ]) {
      expect(categories, c).toContain(c);
    }
    const body = asObject((await getJson(`${sim.url}/usage`)).body);
    expect(Object.keys(asObject(asObject(body['agents_api'])['models'])).length).toBeGreaterThan(0);
    expect(body['vibe_usage']).toBe(0);
    expect(body['currency']).toBe('EUR');
    expect(body['currency_symbol']).toBe('€');
    expect(asObject(asObject(body['vibe_code'])['ocr'])).toEqual({ models: {} });
    const storage = asObject(asObject(body['fine_tuning'])['storage']);
    expect(Object.values(storage).every((v) => Number.isInteger(v))).toBe(true);
    expect(storage).toEqual(sim.truth.usage().fineTuningStorage);
  });

  it('serves prices as numbers, decimal strings and scientific strings, with other zones and tiers beside global/standard', async () => {
    const sim = await simulator();
    const rows = rowsOf((await getJson(`${sim.url}/usage`)).body, 'prices');
    const forms = new Set(
      rows.map((r) =>
        typeof r['price'] === 'number'
          ? 'number'
          : /e/.test(r['price'] as string)
            ? 'sci-lower'
            : /E/.test(r['price'] as string)
              ? 'sci-upper'
              : 'decimal',
      ),
    );
    expect([...forms].sort()).toEqual(['decimal', 'number', 'sci-lower', 'sci-upper']);
    const byMetric = new Map<string, Json[]>();
    for (const row of rows) {
      const key = `${row['event_type']}|${row['billing_metric']}|${row['billing_group']}`;
      byMetric.set(key, [...(byMetric.get(key) ?? []), row]);
    }
    const withVariants = [...byMetric.values()].filter((group) => group.length > 1);
    expect(withVariants.length).toBeGreaterThan(2);
    for (const group of withVariants) {
      const main = group.filter((r) => r['api_zone'] === 'global' && r['service_tier'] === 'standard');
      expect(main).toHaveLength(1);
      for (const other of group) if (other !== main[0]) expect(exact(other['price']).eq(exact(main[0]!['price']))).toBe(false);
    }
    expect(withVariants.some((group) => group[0]!['api_zone'] !== 'global' || group[0]!['service_tier'] !== 'standard')).toBe(true);
    for (const row of rows) {
      expect(['global', 'us', 'eu']).toContain(row['api_zone']);
      expect(['standard', 'priority']).toContain(row['service_tier']);
    }
  });

  it('has an unpriced entry that the truth lists', async () => {
    const sim = await simulator();
    const truth = sim.truth.usage();
    expect(truth.unpriced.length).toBeGreaterThan(0);
    expect(truth.unpriced.every((r) => r.price === null && r.cost === null)).toBe(true);
    const prices = rowsOf((await getJson(`${sim.url}/usage`)).body, 'prices');
    for (const row of truth.unpriced) {
      expect(
        prices.some(
          (p) => p['event_type'] === row.eventType && p['billing_metric'] === row.billingMetric && p['billing_group'] === row.billingGroup,
        ),
      ).toBe(false);
    }
  });

  it('serves some quantities as numeric strings, value_paid never above value, free tiers below', async () => {
    const sim = await simulator();
    const entries = [...usageEntries((await getJson(`${sim.url}/usage`)).body)].map((e) => e.entry);
    expect(entries.some((e) => typeof e['value'] === 'string')).toBe(true);
    expect(entries.some((e) => typeof e['value_paid'] === 'string' && typeof e['value'] === 'number')).toBe(true);
    expect(entries.some((e) => typeof e['value'] === 'number')).toBe(true);
    for (const e of entries) {
      expect(exact(e['value_paid']).lte(exact(e['value']))).toBe(true);
      expect(exact(e['value_paid']).gte(0)).toBe(true);
    }
    expect(entries.some((e) => exact(e['value_paid']).lt(exact(e['value'])))).toBe(true);
    expect(entries.some((e) => !exact(e['value']).round(0).eq(exact(e['value'])))).toBe(true); // fractional audio seconds
  });

  it('serves one entry per day per (model, group, tier) of a zone from the 1st to today, never the future', async () => {
    const sim = await simulator();
    const body = asObject((await getJson(`${sim.url}/usage?api_zone=global`)).body);
    const perSeries = new Map<string, string[]>();
    for (const { category, modelKey, group, entry } of usageEntries(body)) {
      expect(modelKey).toMatch(/^[a-z0-9-]+::[a-z0-9-]+-\d{4}$/);
      expect(entry['billing_metric']).toBe(modelKey.split('::')[1]);
      for (const field of [
        'usage_type',
        'event_type',
        'billing_metric',
        'billing_display_name',
        'billing_group',
        'timestamp',
        'value',
        'value_paid',
      ])
        expect(entry).toHaveProperty(field);
      const key = `${category}|${modelKey}|${group}|${entry['service_tier'] ?? ''}`;
      perSeries.set(key, [...(perSeries.get(key) ?? []), entry['timestamp'] as string]);
    }
    const expected = Array.from({ length: 15 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}T00:00:00Z`);
    expect(perSeries.size).toBeGreaterThan(10);
    for (const days of perSeries.values()) expect(days).toEqual(expected);
    expect(body['start_date']).toBe('2026-11-01T00:00:00Z');
    expect(body['end_date']).toBe('2026-11-30T23:59:59Z');
    expect(body['previous_month']).toBe('2026-10');
    expect(body['next_month']).toBeNull();
  });

  it('accepts month as 5 or 05, defaults to the current month, rejects invalid months', async () => {
    const sim = await simulator();
    const may = await getJson(`${sim.url}/usage?month=5&year=2026`);
    expect(may.status).toBe(200);
    expect((await getJson(`${sim.url}/usage?month=05&year=2026`)).body).toEqual(may.body);
    expect(asObject(may.body)['next_month']).toBe('2026-06');
    expect(asObject(may.body)['start_date']).toBe('2026-05-01T00:00:00Z');
    const mayDays = new Set([...usageEntries(may.body)].map((e) => e.entry['timestamp']));
    expect(mayDays.size).toBe(31);
    expect((await getJson(`${sim.url}/usage?month=11&year=2026`)).body).toEqual((await getJson(`${sim.url}/usage`)).body);
    expect((await getJson(`${sim.url}/usage?month=11`)).body).toEqual((await getJson(`${sim.url}/usage`)).body);
    for (const bad of ['13', '0', 'may']) {
      const { status, body } = await getJson(`${sim.url}/usage?month=${bad}`);
      expect(status).toBe(422);
      expect(asObject(asArray(asObject(body)['detail'])[0])['loc']).toEqual(['query', 'month']);
    }
    const past = sim.truth.usage({ year: 2026, month: 5 });
    expect(past.rows.length).toBeGreaterThan(0);
    expect(past.rows.filter((r) => r.entries !== 31)).toEqual([]);
  });

  it('serves nothing for a future month', async () => {
    const sim = await simulator();
    const body = (await getJson(`${sim.url}/usage?month=12&year=2026`)).body;
    expect([...usageEntries(body)]).toHaveLength(0);
    expect(asObject(asObject(body)['fine_tuning'])['storage']).toEqual({});
    expect(sim.truth.usage({ year: 2026, month: 12 }).rows).toHaveLength(0);
  });

  it('per workspace: serves each workspace share; together they fall short of the org figure', async () => {
    const sim = await simulator();
    expect(sim.truth.workspaceIds).toHaveLength(3);
    const org = sim.truth.usage();
    const workspaceTotals = new Map<string, Big>();
    for (const workspaceId of sim.truth.workspaceIds) {
      const truth = sim.truth.usage({ workspaceId });
      const served = await servedSums(sim.url, `&workspace_id=${workspaceId}`);
      expect([...served.keys()].sort()).toEqual(truth.rows.map(truthKey).sort());
      for (const row of truth.rows) {
        expect(served.get(truthKey(row))!.value.eq(row.value)).toBe(true);
        workspaceTotals.set(truthKey(row), (workspaceTotals.get(truthKey(row)) ?? new Big(0)).plus(row.value));
      }
    }
    let strictlyLess = 0;
    for (const row of org.rows) {
      const inWorkspaces = workspaceTotals.get(truthKey(row)) ?? new Big(0);
      expect(inWorkspaces.lte(row.value)).toBe(true);
      if (inWorkspaces.lt(row.value)) strictlyLess++;
    }
    expect(strictlyLess).toBeGreaterThan(0);
    const rowsPerWorkspace = sim.truth.workspaceIds.map((w) => sim.truth.usage({ workspaceId: w }).rows.length);
    expect(Math.min(...rowsPerWorkspace)).toBeLessThan(org.rows.length);
  });

  it('serves an unknown workspace as empty usage', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(`${sim.url}/usage?workspace_id=00000000-0000-4000-8000-000000000000`);
    expect(status).toBe(200);
    expect([...usageEntries(body)]).toHaveLength(0);
  });

  it('grows through the day: today is partial and never ahead of the clock', async () => {
    let now = Date.UTC(2026, 10, 15, 6, 0, 0);
    const sim = await simulator({ now: () => now });
    const morning = sim.truth.usage();
    now = Date.UTC(2026, 10, 15, 18, 0, 0);
    const evening = sim.truth.usage();
    const grew = evening.rows.filter((row, i) => new Big(row.value).gt(morning.rows[i]!.value));
    expect(grew.length).toBeGreaterThan(10);
    for (const [i, row] of evening.rows.entries()) expect(new Big(row.value).gte(morning.rows[i]!.value)).toBe(true);
    now = Date.UTC(2026, 10, 15, 0, 0, 0);
    const todayAtMidnight = [...usageEntries(await (await fetch(`${sim.url}/usage`)).json())].filter(
      (e) => e.entry['timestamp'] === '2026-11-15T00:00:00Z',
    );
    expect(todayAtMidnight.length).toBeGreaterThan(0);
    expect(todayAtMidnight.every((e) => exact(e.entry['value']).eq(0))).toBe(true);
  });

  it('rate-limit keys are dated model ids that usage bills', async () => {
    const sim = await simulator();
    const body = asObject((await getJson(`${sim.url}/rate-limit`)).body);
    const keys = Object.keys(asObject(body['tokens_limits_by_model']));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.sort()).toEqual([...sim.truth.rateLimitedModelIds].sort());
    const billed = new Set([...usageEntries((await getJson(`${sim.url}/usage`)).body)].map((e) => e.entry['billing_metric']));
    for (const key of keys) {
      expect(key).toMatch(/-\d{4}$/);
      expect(billed).toContain(key);
    }
    for (const limits of Object.values(asObject(body['tokens_limits_by_model']))) {
      expect(Number.isInteger(asObject(limits)['tokens_per_minute'])).toBe(true);
      expect(Number.isInteger(asObject(limits)['tokens_per_month'])).toBe(true);
    }
  });
});

describe('simulator spend-limit', () => {
  const completionOf = (body: unknown) => asObject(asObject(asObject(body)['limits'])['completion']);

  it('reports month-to-date API and Vibe spend from usage × price, plus a small other amount', async () => {
    const sim = await simulator();
    const { body } = await getJson(`${sim.url}/spend-limit`);
    const completion = completionOf(body);
    const usage = sim.truth.usage();
    const api = usage.rows
      .filter((r) => !r.category.startsWith('vibe_code') && r.cost !== null)
      .reduce((acc, r) => acc.plus(r.cost!), new Big(0));
    const vibe = usage.rows
      .filter((r) => r.category.startsWith('vibe_code') && r.cost !== null)
      .reduce((acc, r) => acc.plus(r.cost!), new Big(0));
    expect(completion['usage']).toBe(Number(api.round(2, Big.roundHalfUp).toFixed(2)));
    expect(completion['vibe_usage']).toBe(Number(vibe.round(2, Big.roundHalfUp).toFixed(2)));
    const total = completion['total_usage'] as number;
    expect(total).toBeGreaterThan((completion['usage'] as number) + (completion['vibe_usage'] as number));
    expect(total).toBe(sim.truth.spend().served.total_usage);
    expect(new Big(sim.truth.spend().other).gt(0)).toBe(true);
    expect(completion).toMatchObject({ no_monthly_limit: false, monthly_limit_reached: false, usage_limit: 5000 });
    expect(asObject(asObject(body)['limits'])).toMatchObject({ last_payment_failure: false, currency: 'EUR' });
    expect(api.gt(100)).toBe(true);
  });

  it('grows through the month and follows the limit and payment state set at run time', async () => {
    let now = Date.UTC(2026, 10, 2, 12);
    const sim = await simulator({ now: () => now });
    const totals: number[] = [];
    for (const day of [2, 9, 16, 23, 30]) {
      now = Date.UTC(2026, 10, day, 12);
      totals.push(completionOf((await getJson(`${sim.url}/spend-limit`)).body)['total_usage'] as number);
    }
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThan(totals[i - 1]!);
    expect(totals.at(-1)).toBeLessThan(5000); // the default limit is not reached by default

    sim.setSpendLimit(100);
    expect(completionOf((await getJson(`${sim.url}/spend-limit`)).body)).toMatchObject({
      monthly_limit_reached: true,
      usage_limit: 100,
      no_monthly_limit: false,
    });
    sim.setSpendLimit(null);
    expect(completionOf((await getJson(`${sim.url}/spend-limit`)).body)).toMatchObject({
      monthly_limit_reached: false,
      usage_limit: null,
      no_monthly_limit: true,
    });
    sim.setPaymentFailed(true);
    expect(asObject(asObject((await getJson(`${sim.url}/spend-limit`)).body)['limits'])['last_payment_failure']).toBe(true);
    expect(sim.truth.spend()).toMatchObject({ limit: null, limitReached: false, paymentFailed: true });
  });

  it('takes the spend limit from the options', async () => {
    const reached = await simulator({ org: { spendLimit: 10 } });
    expect(completionOf((await getJson(`${reached.url}/spend-limit`)).body)).toMatchObject({
      monthly_limit_reached: true,
      usage_limit: 10,
    });
    const unlimited = await simulator({ org: { spendLimit: null } });
    expect(completionOf((await getJson(`${unlimited.url}/spend-limit`)).body)).toMatchObject({ no_monthly_limit: true, usage_limit: null });
  });

  it('starts the month again on the 1st', async () => {
    let now = Date.UTC(2026, 9, 31, 23, 0);
    const sim = await simulator({ now: () => now });
    const endOfOctober = sim.truth.spend().served.total_usage;
    now = Date.UTC(2026, 10, 1, 1, 0);
    expect(sim.truth.spend().served.total_usage).toBeLessThan(endOfOctober / 10);
  });
});
