import { describe, expect, it } from 'vitest';
import { OwnMetrics, PROCESS_METRICS_MAX_AGE_MS } from '../src/own-metrics.js';
import type { EndpointStatus } from '../src/scheduler.js';

// Held by the scheduler from one refresh to the next, as these are: a reading of the statuses is compared field by field.
const NOTHING_DROPPED = {};
const ALL_READ = {};
const status = (up: boolean): EndpointStatus => ({
  endpoint: 'spend_limit',
  up,
  intervalMs: 60_000,
  lastSuccessAt: 1_700_000_000_000,
  lastDurationMs: 250,
  seriesDropped: NOTHING_DROPPED,
  unreadable: ALL_READ,
});

/** Own metrics with process metrics, on a clock the test moves. */
function own() {
  const clock = { now: 1_750_000_000_000 };
  let up = true;
  const metrics = new OwnMetrics({
    version: '1.2.3',
    revision: 'abc',
    endpoints: [{ endpoints: ['spend_limit'] }],
    statuses: () => [status(up)],
    processMetrics: true,
    now: () => clock.now,
  });
  return { metrics, clock, setUp: (value: boolean) => (up = value) };
}

describe('OwnMetrics.renderBytes', () => {
  it('answers at once (no promise) while the process metrics are less than a second old, and collects them again after', async () => {
    const { metrics, clock } = own();
    const first = metrics.renderBytes('openmetrics');
    // Nothing collected yet: the collection is waited for.
    expect(first).toBeInstanceOf(Promise);
    const bytes = await first;
    expect(bytes.toString()).toContain('process_cpu_seconds_total');
    expect(bytes.toString()).toMatch(/# EOF\n$/);

    clock.now += PROCESS_METRICS_MAX_AGE_MS - 1;
    // Within the second: the same bytes, as they are.
    expect(metrics.renderBytes('openmetrics')).toBe(bytes);

    clock.now += 1;
    // A second later: a new collection, waited for.
    const later = metrics.renderBytes('openmetrics');
    expect(later).toBeInstanceOf(Promise);
    expect((await later).toString()).toContain('process_cpu_seconds_total');
    expect(metrics.renderBytes('openmetrics')).toBeInstanceOf(Buffer);
  });

  it('reads the endpoints and counters at every call, also between two collections', async () => {
    const { metrics, setUp } = own();
    const before = await metrics.renderBytes('text');
    expect(before.toString()).toContain('mistral_up{api_endpoint="spend_limit"} 1\n');

    setUp(false);
    const down = metrics.renderBytes('text');
    expect(down).toBeInstanceOf(Buffer);
    expect(down.toString()).toContain('mistral_up{api_endpoint="spend_limit"} 0\n');

    metrics.request('spend_limit', '200');
    const counted = metrics.renderBytes('text');
    expect(counted).toBeInstanceOf(Buffer);
    expect(counted.toString()).toContain('mistral_exporter_api_requests_total{api_endpoint="spend_limit",code="200"} 1\n');
    // And the text of render() is those bytes.
    expect(await metrics.render('text')).toBe(counted.toString());
  });

  it('tries a failed collection again at the next call, not a second later', async () => {
    const { metrics, clock } = own();
    await metrics.renderBytes('text');
    // prom-client's registry, made to fail once as a collector can.
    const registry = (metrics as unknown as { processRegistry: { getMetricsAsJSON: () => Promise<unknown> } }).processRegistry;
    const original = registry.getMetricsAsJSON.bind(registry);
    let failures = 1;
    registry.getMetricsAsJSON = async () => {
      if (failures-- > 0) throw new Error('collector failed');
      return original();
    };
    clock.now += PROCESS_METRICS_MAX_AGE_MS;
    await expect(metrics.renderBytes('text')).rejects.toThrow('collector failed');
    // Same instant: collected again rather than the failure kept for a second.
    expect((await metrics.renderBytes('text')).toString()).toContain('process_cpu_seconds_total');
  });
});
