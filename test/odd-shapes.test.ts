/**
 * The simulator's `oddShapes` answers against the plain ones: analytics
 * counts written as strings, with signs, exponents and decimal points, are
 * the same numbers, so the exporter serves exactly the same le Chat and
 * Vibe Code series for both.
 */
import { describe, expect, it } from 'vitest';
import { endpointOf, type ApiEndpoint } from '../src/sources/catalog.js';
import { samples, useHarness } from './support/harness.js';

const harness = useHarness();
const ANALYTICS: ApiEndpoint[] = ['lechat_by_user', 'lechat_by_agent', 'lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization'];

async function analyticsSeries(oddShapes: boolean): Promise<{ series: Map<string, number>; strings: number }> {
  const h = await harness({ sim: { oddShapes } });
  await h.refreshAll();
  const names = new Set(ANALYTICS.flatMap((e) => endpointOf(e).families.map((f) => f.name)));
  const series = new Map([...samples(await h.scrape())].filter(([key]) => names.has(key.split('{')[0] as string)));
  // The counts an answer carries as strings: none in the plain shape, many in the odd one.
  const body = JSON.stringify(h.sim.bodyFor('vibe_by_organization', { start_time: '1794528000', end_time: '1795132800' }));
  return { series, strings: (body.match(/":"[+]?\d+(?:\.0)?(?:[eE][+-]?\d+)?"/g) ?? []).length };
}

describe('odd encodings of the analytics answers', () => {
  it('serve the same le Chat and Vibe Code series as the plain answers', async () => {
    const plain = await analyticsSeries(false);
    const odd = await analyticsSeries(true);
    expect(plain.strings).toBe(0);
    expect(odd.strings).toBeGreaterThan(10);
    expect(plain.series.size).toBeGreaterThan(50);
    expect(odd.series).toEqual(plain.series);
  });
});
