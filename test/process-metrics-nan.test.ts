/**
 * prom-client's event-loop-lag gauges come from a histogram it resets at
 * every collection: two scrapes closer together than its resolution find it
 * empty, and it gives NaN (mean, stddev) and 2^63 ns (min). Seen in about 1
 * scrape in 170 (issue 10, defect 6). A scrape never exports NaN, nor that
 * empty-window minimum.
 */
import { describe, expect, it } from 'vitest';
import { samples, useHarness } from './support/harness.js';

const harness = useHarness();

describe('process metrics', () => {
  it('never export NaN, nor the minimum of an empty window, however close together the scrapes', async () => {
    const h = await harness({ processMetrics: true });
    for (let round = 0; round < 5; round++) {
      // Concurrent scrapes collect in the same turn of the event loop: the histogram has no sample in between.
      const bodies = await Promise.all(
        ['text', 'openmetrics', 'text'].map(async (format) => {
          const accept = format === 'openmetrics' ? 'application/openmetrics-text; version=1.0.0' : 'text/plain';
          const res = await h.exporter.app.inject({ url: '/metrics', headers: { accept } });
          expect(res.statusCode).toBe(200);
          return res.body;
        }),
      );
      for (const body of bodies) {
        expect(body).toContain('nodejs_eventloop_lag_seconds');
        expect(body).not.toMatch(/ (NaN|Nan)$/im);
        const lagMin = [...samples(body)].find(([k]) => k.startsWith('nodejs_eventloop_lag_min_seconds'))?.[1];
        // An event loop lag of 2^63 ns (292 years) is the minimum of a histogram that recorded nothing.
        if (lagMin !== undefined) expect(lagMin).toBeLessThan(3600);
      }
    }
  });
});
