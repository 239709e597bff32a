import { gunzipSync, inflateRawSync } from 'node:zlib';
import { Big } from 'big.js';
import { describe, expect, it } from 'vitest';
import type { UsageTruthRow } from '../src/simulator/index.js';
import { CANARY_KEY, costLabels, startHarness, useHarness, valueOf } from './support/harness.js';

const harness = useHarness();

function sumBy(rows: readonly UsageTruthRow[], key: (r: UsageTruthRow) => string): Map<string, number> {
  const sums = new Map<string, Big>();
  for (const r of rows) sums.set(key(r), (sums.get(key(r)) ?? new Big(0)).plus(r.value));
  return new Map([...sums].map(([k, v]) => [k, Number(v.toString())]));
}

describe('every value equals what the simulator served', () => {
  it('spend, limit and projection from spend-limit', async () => {
    const { sim, refreshAll, scrape } = await harness();
    await refreshAll();
    const text = await scrape();
    const spend = sim.truth.spend();
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(spend.served.usage);
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'vibe' })).toBe(spend.served.vibe_usage);
    const other = valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'other' }) as number;
    expect(other).toBeGreaterThan(0);
    expect(other).toBeCloseTo(spend.served.total_usage - spend.served.usage - spend.served.vibe_usage, 9);
    expect(valueOf(text, 'mistral_spend_limit', { currency: 'EUR' })).toBe(spend.limit);
    expect(valueOf(text, 'mistral_spend_limit_enabled')).toBe(1);
    expect(valueOf(text, 'mistral_spend_limit_reached')).toBe(spend.limitReached ? 1 : 0);
    expect(valueOf(text, 'mistral_spend_limit_utilization_ratio')).toBeCloseTo(spend.served.total_usage / (spend.limit as number), 12);
    // 15 Nov 12:00 UTC: 14.5 of November's 30 days have passed.
    expect(valueOf(text, 'mistral_spend_projected', { currency: 'EUR' })).toBeCloseTo((spend.served.total_usage * 30) / 14.5, 9);
    expect(valueOf(text, 'mistral_payment_last_failed')).toBe(0);
  });

  it('without a monthly limit: no limit, no utilisation, no projection against a limit, and never an invented 0', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { spendLimit: null } } });
    await refresh('spend_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_spend_limit_enabled')).toBe(0);
    expect(text).not.toMatch(/^mistral_spend_limit_utilization_ratio /m);
    expect(text).not.toMatch(/^mistral_spend_limit\{/m);
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(sim.truth.spend().served.usage);
  });

  it('cost and quantities from usage, to the last digit', async () => {
    // The simulated organization has no Priority Tier entitlement for the entries that say no tier.
    const { sim, refresh, scrape } = await harness({ env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' } });
    await refresh('usage');
    const text = await scrape();
    const truth = sim.truth.usage();
    const priced = truth.rows.filter((r) => r.cost !== null);
    expect(priced.length).toBeGreaterThan(5);
    for (const row of priced) {
      expect(valueOf(text, 'mistral_usage_cost', costLabels(row)), JSON.stringify(costLabels(row))).toBe(Number(row.cost));
    }
    // Quantities: every zone and tier together.
    const quantities = sumBy(truth.rows, (r) => `${r.category}|${r.billingMetric}|${r.billingGroup}|${r.eventType}`);
    const tokenRows = truth.rows.filter((r) => r.eventType.endsWith('_tokens'));
    expect(tokenRows.length).toBeGreaterThan(0);
    for (const row of tokenRows) {
      const labels = { category: row.category, model: row.billingMetric, token_type: row.billingGroup };
      const want = quantities.get(`${row.category}|${row.billingMetric}|${row.billingGroup}|${row.eventType}`);
      expect(valueOf(text, 'mistral_usage_tokens', labels), JSON.stringify(labels)).toBe(want);
    }
    const pageRows = truth.rows.filter((r) => r.eventType.endsWith('_pages'));
    expect(pageRows.length).toBeGreaterThan(0);
    for (const row of pageRows) {
      expect(
        valueOf(text, 'mistral_usage_pages', { category: row.category, model: row.billingMetric, billing_group: row.billingGroup }),
      ).toBe(quantities.get(`${row.category}|${row.billingMetric}|${row.billingGroup}|${row.eventType}`));
    }
    const unpricedByCategory = new Map<string, number>();
    for (const row of truth.unpriced) unpricedByCategory.set(row.category, (unpricedByCategory.get(row.category) ?? 0) + row.entries);
    expect(unpricedByCategory.size).toBeGreaterThan(0);
    for (const [category, n] of unpricedByCategory) {
      expect(valueOf(text, 'mistral_usage_unpriced_entries', { category })).toBe(n);
    }
  });

  it('per-model token limits from rate-limit', async () => {
    const { sim, refresh, scrape } = await harness();
    await refresh('rate_limit');
    const text = await scrape();
    const body = sim.bodyFor('rate_limit') as {
      requests_per_second: number;
      tokens_limits_by_model: Record<string, { tokens_per_minute: number; tokens_per_month: number }>;
    };
    expect(valueOf(text, 'mistral_rate_limit_requests_per_second')).toBe(body.requests_per_second);
    const models = Object.entries(body.tokens_limits_by_model);
    expect(models.length).toBeGreaterThan(1);
    for (const [model, limits] of models) {
      expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model })).toBe(limits.tokens_per_minute);
      expect(valueOf(text, 'mistral_rate_limit_tokens_per_month', { model })).toBe(limits.tokens_per_month);
    }
  });

  it('usage per workspace when workspaces are configured, with workspace_id on every usage series', async () => {
    const probe = await startHarness();
    const workspaceIds = probe.sim.truth.workspaceIds;
    await probe.close();
    const { sim, refresh, scrape } = await harness({
      env: { MISTRAL_WORKSPACE_IDS: workspaceIds.join(','), USAGE_ASSUMED_SERVICE_TIER: 'standard' },
    });
    await refresh('usage');
    const text = await scrape();
    expect(workspaceIds.length).toBeGreaterThan(1);
    let checked = 0;
    for (const workspaceId of workspaceIds) {
      const truth = sim.truth.usage({ workspaceId });
      for (const row of truth.rows.filter((r) => r.cost !== null)) {
        checked++;
        const labels = { ...costLabels(row), workspace_id: workspaceId };
        expect(valueOf(text, 'mistral_usage_cost', labels), JSON.stringify(labels)).toBe(Number(row.cost));
      }
    }
    expect(checked, 'priced rows across the workspaces').toBeGreaterThan(workspaceIds.length);
    expect(text.split('\n').filter((l) => l.startsWith('mistral_usage_') && !l.includes('workspace_id='))).toEqual([]);
    // Per workspace: once unfiltered, then once per zone of the prices.
    const usageRequests = sim.requests.filter((r) => r.endpoint === 'usage');
    expect(
      usageRequests
        .filter((r) => r.query.api_zone === undefined)
        .map((r) => r.query.workspace_id)
        .sort(),
    ).toEqual([...workspaceIds].sort());
    expect(usageRequests).toHaveLength(workspaceIds.length * 4);
    expect(usageRequests.every((r) => r.query.month === '11' && r.query.year === '2026')).toBe(true);
  });
});

describe('faults cost one endpoint its freshness, nothing more', () => {
  it('honours 429 Retry-After, then succeeds', async () => {
    const { sim, clock, exporter, refresh, scrape } = await harness();
    sim.setFault('spend_limit', { kind: 'status', status: 429, headers: { 'retry-after': '7' } }, 1);
    const before = clock.now();
    await refresh('spend_limit');
    expect(clock.now() - before).toBe(7000);
    expect(exporter.scheduler.statuses().find((s) => s.endpoint === 'spend_limit')?.up).toBe(true);
    const text = await scrape();
    expect(valueOf(text, 'mistral_exporter_api_retries_total', { api_endpoint: 'spend_limit', reason: '429' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_api_requests_total', { api_endpoint: 'spend_limit', code: '429' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_api_requests_total', { api_endpoint: 'spend_limit', code: '200' })).toBe(1);
  });

  it('keeps the last good data on 500s, with mistral_up 0 for that endpoint only', async () => {
    const { sim, refresh, refreshAll, scrape, logs } = await harness();
    await refreshAll();
    const good = valueOf(await scrape(), 'mistral_spend', { currency: 'EUR', product: 'api' });
    sim.setFault('spend_limit', { kind: 'status', status: 500, body: { detail: 'boom' } });
    await refresh('spend_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(1);
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(good);
    expect(valueOf(text, 'mistral_exporter_api_retries_total', { api_endpoint: 'spend_limit', reason: '5xx' })).toBe(2);
    expect(logs.lines().filter((l) => l.api_endpoint === 'spend_limit' && l.level === 'warn')).toHaveLength(1);
  });

  it.each([
    ['truncated-json', 'not JSON'],
    ['not-json', 'not JSON'],
    ['wrong-shape', 'could not be understood'],
  ] as const)('counts a malformed answer (%s) as a parse error', async (variant, logged) => {
    const { sim, refresh, scrape, logs } = await harness();
    sim.setFault('rate_limit', { kind: 'malformed', variant });
    await refresh('rate_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_exporter_parse_errors_total', { api_endpoint: 'rate_limit' })).toBe(1);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(0);
    expect(logs.lines().some((l) => l.api_endpoint === 'rate_limit' && l.msg.includes(logged))).toBe(true);
  });

  it.each([
    [401, /rejected the key \(401\): check MISTRAL_ADMIN_API_KEY/],
    [403, /refused access \(403\): the key may lack admin scope/],
  ])('says clearly what a %d means, for that endpoint only', async (status, message) => {
    const { sim, refreshAll, scrape, logs } = await harness();
    sim.setFault('usage', { kind: 'status', status, body: { detail: 'nope' } });
    await refreshAll();
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(1);
    const lines = logs.lines().filter((l) => l.level === 'error' && l.api_endpoint === 'usage');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toMatch(message);
    expect(valueOf(text, 'mistral_exporter_api_retries_total', { api_endpoint: 'usage', reason: '5xx' })).toBe(0);
  });

  it('fails a refresh whose answer is larger than MAX_RESPONSE_SIZE', async () => {
    const { sim, refresh, scrape, logs } = await harness({ env: { MAX_RESPONSE_SIZE: '64KiB' } });
    sim.setFault('rate_limit', { kind: 'huge', bytes: 1024 * 1024 });
    await refresh('rate_limit');
    expect(valueOf(await scrape(), 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(0);
    expect(logs.lines().some((l) => l.level === 'error' && /larger than MAX_RESPONSE_SIZE/.test(l.msg))).toBe(true);
  });
});

describe('the admin key', () => {
  it('sends nothing but GET, with the key in both headers', async () => {
    const { sim, refreshAll } = await harness();
    await refreshAll();
    expect(sim.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of sim.requests) {
      expect(r.method).toBe('GET');
      expect(r.headers['x-api-key']).toBe(CANARY_KEY);
      expect(r.headers.authorization).toBe(`Bearer ${CANARY_KEY}`);
    }
  });

  it('never appears in logs, /metrics or the status page, whatever fails', async () => {
    const { sim, exporter, refreshAll, scrape, logs } = await harness();
    await refreshAll();
    sim.setFault('usage', { kind: 'status', status: 401, body: { detail: `Invalid key ${CANARY_KEY}` } });
    sim.setFault('spend_limit', { kind: 'status', status: 400, body: { message: `bad key ${CANARY_KEY}`, request_id: 'r1' } });
    sim.setFault('rate_limit', { kind: 'reset' });
    await refreshAll();
    const outputs = [
      logs.text(),
      await scrape(),
      await scrape({ accept: 'application/openmetrics-text; version=1.0.0' }),
      (await exporter.app.inject({ url: '/' })).body,
    ];
    expect(logs.lines().filter((l) => l.level === 'warn' || l.level === 'error').length).toBeGreaterThanOrEqual(3);
    for (const out of outputs) expect(out).not.toContain(CANARY_KEY);
  });
});

describe('HTTP', () => {
  it('serves OpenMetrics to Prometheus, the text format otherwise, and gzip when asked', async () => {
    const { refreshAll, exporter } = await harness();
    await refreshAll();
    const prometheus3 =
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const om = await exporter.app.inject({ url: '/metrics', headers: { accept: prometheus3, 'accept-encoding': 'gzip' } });
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.headers['content-encoding']).toBe('gzip');
    const body = gunzipSync(om.rawPayload).toString();
    // One gzip member: curl --compressed and other single-member decoders see all of it.
    expect(inflateRawSync(om.rawPayload.subarray(10, om.rawPayload.length - 8)).toString()).toBe(body);
    expect(body.match(/# EOF/g)).toHaveLength(1);
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toContain('mistral_spend{currency="EUR",product="api"}');
    expect(body).toContain('mistral_exporter_api_requests_total{');

    const plain = await exporter.app.inject({ url: '/metrics' });
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).not.toContain('# EOF');
    expect(plain.body).toContain('mistral_spend{currency="EUR",product="api"}');
  });

  it('is ready once every endpoint was tried, and stays ready when the API fails', async () => {
    const { sim, exporter, refresh, refreshAll } = await harness();
    const ready = async () => (await exporter.app.inject({ url: '/-/ready' })).statusCode;
    expect(await ready()).toBe(503);
    expect((await exporter.app.inject({ url: '/-/healthy' })).statusCode).toBe(200);
    await refresh('usage');
    expect(await ready()).toBe(503);
    sim.setFault('spend_limit', { kind: 'status', status: 500 });
    await refreshAll();
    expect(await ready()).toBe(200);
  });
});
