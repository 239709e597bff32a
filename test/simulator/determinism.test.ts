import { describe, expect, it } from 'vitest';
import type { SimEndpoint } from '../../src/simulator/index.js';
import { DAY_S, NOW_MS, NOW_S, simulator } from './helpers.js';

const WINDOW = { start_time: String(NOW_S - 7 * DAY_S), end_time: String(NOW_S) };
const QUERIES: ReadonlyArray<[SimEndpoint, Record<string, string>]> = [
  ['usage', {}],
  ['spend_limit', {}],
  ['rate_limit', {}],
  ['lechat_by_user', WINDOW],
  ['lechat_by_agent', WINDOW],
  ['lechat_by_time', { ...WINDOW, granularity: 'hour' }],
  ['vibe_by_workspace', WINDOW],
  ['vibe_by_organization', WINDOW],
];

describe('simulator determinism', () => {
  it('same seed and clock: the same bodies, over HTTP and from bodyFor', async () => {
    const a = await simulator({ seed: 7 });
    const b = await simulator({ seed: 7 });
    expect(b.truth.workspaceIds).toEqual(a.truth.workspaceIds);
    expect(b.truth.userIds).toEqual(a.truth.userIds);
    for (const [endpoint, query] of QUERIES) {
      expect(b.bodyFor(endpoint, query), endpoint).toEqual(a.bodyFor(endpoint, query));
    }
    const served = await (await fetch(`${a.url}/analytics/vibe/work/usage/by_user_stats?${new URLSearchParams(WINDOW)}`)).json();
    expect(served).toEqual(b.bodyFor('lechat_by_user', WINDOW));
  });

  it('a different seed: different bodies (rate limits aside, which are the catalogue)', async () => {
    const a = await simulator({ seed: 1 });
    const b = await simulator({ seed: 2 });
    expect(b.truth.workspaceIds).not.toEqual(a.truth.workspaceIds);
    for (const [endpoint, query] of QUERIES) {
      if (endpoint === 'rate_limit') continue;
      expect(b.bodyFor(endpoint, query), endpoint).not.toEqual(a.bodyFor(endpoint, query));
    }
  });

  it('the clock, not real time, decides what is served', async () => {
    let now = NOW_MS;
    const sim = await simulator({ now: () => now });
    const first = sim.bodyFor('lechat_by_user', { start_time: String(NOW_S - DAY_S), end_time: String(NOW_S + DAY_S) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sim.bodyFor('lechat_by_user', { start_time: String(NOW_S - DAY_S), end_time: String(NOW_S + DAY_S) })).toEqual(first);
    now += 6 * 3600 * 1000;
    expect(sim.bodyFor('lechat_by_user', { start_time: String(NOW_S - DAY_S), end_time: String(NOW_S + DAY_S) })).not.toEqual(first);
    // The past does not change when the clock moves on.
    expect(sim.bodyFor('lechat_by_user', { start_time: String(NOW_S - DAY_S), end_time: String(NOW_S) })).toEqual(
      (await simulator()).bodyFor('lechat_by_user', { start_time: String(NOW_S - DAY_S), end_time: String(NOW_S) }),
    );
  });

  it('adding users does not change the existing ones', async () => {
    const small = await simulator({ org: { users: 50 } });
    const large = await simulator({ org: { users: 500 } });
    expect(large.truth.userIds.slice(0, 50)).toEqual(small.truth.userIds);
    const window = [NOW_S - 7 * DAY_S, NOW_S] as const;
    const smallTruth = small.truth.lechat(...window);
    const largeTruth = large.truth.lechat(...window);
    expect(smallTruth.byUser.size).toBeGreaterThan(0);
    for (const [id, counts] of smallTruth.byUser) expect(largeTruth.byUser.get(id)?.messages).toBe(counts.messages);
  });
});
