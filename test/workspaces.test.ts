import { Big } from 'big.js';
import { describe, expect, it } from 'vitest';
import { formatCheck, runCheck } from '../src/check.js';
import { loadConfig } from '../src/config/index.js';
import type { SimWorkspace } from '../src/simulator/workspaces.js';
import { DAY_MS } from '../src/sources/windows.js';
import { captureLogs } from './support/logs.js';
import { fetchPages } from '../src/sources/pages.js';
import { ParseError } from '../src/sources/types.js';
import { parseWorkspaces, workspaces, workspacesFamilies } from '../src/sources/workspaces.js';
import { flat } from './support/families.js';
import { CANARY_KEY, samples, startHarness, useHarness, valueOf, type Harness } from './support/harness.js';
import { readerOptions, recordingContext } from './support/readers.js';

const harness = useHarness();

describe('GET workspaces against the simulator', () => {
  it('exports each workspace that is not archived, its members and its own limit, as the simulator served them', async () => {
    const { sim, refresh, scrape } = await harness();
    await refresh('workspaces');
    const text = await scrape();
    const truth = sim.truth.workspaces();
    expect(truth).toHaveLength(3);
    for (const w of truth) {
      expect(valueOf(text, 'mistral_workspace_info', { workspace_id: w.uuid, workspace_name: w.name })).toBe(1);
      expect(valueOf(text, 'mistral_workspace_members', { workspace_id: w.uuid })).toBe(w.members_count);
    }
    const [limited, unlimited, silent] = truth as [(typeof truth)[0], (typeof truth)[0], (typeof truth)[0]];
    expect(valueOf(text, 'mistral_workspace_spend_limit', { workspace_id: limited.uuid, currency: 'EUR' })).toBe(
      limited.spend_limit?.value,
    );
    expect(valueOf(text, 'mistral_workspace_spend_limit_enabled', { workspace_id: limited.uuid })).toBe(1);
    expect(valueOf(text, 'mistral_workspace_spend_limit_enabled', { workspace_id: unlimited.uuid })).toBe(0);
    // No spend limit object: nothing is said, so nothing is exported (not a 0).
    expect([...samples(text).keys()].filter((k) => k.includes(silent.uuid) && k.startsWith('mistral_workspace_spend_limit'))).toEqual([]);
    expect([...samples(text).keys()].filter((k) => k.startsWith('mistral_workspace_spend_limit{'))).toHaveLength(1);
    expect(text).not.toContain('Old Pilot');
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'workspaces' })).toBe(1);
    expect(sim.requests.filter((r) => r.endpoint === 'workspaces').map((r) => [r.method, r.query])).toEqual([
      ['GET', { is_archived: 'false', page: '1', page_size: '100' }],
    ]);
  });

  it('reads every page of a large organization, one request per page', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { workspaces: 250 } } });
    await refresh('workspaces');
    const text = await scrape();
    expect([...samples(text).keys()].filter((k) => k.startsWith('mistral_workspace_info{'))).toHaveLength(250);
    expect(sim.requests.filter((r) => r.endpoint === 'workspaces').map((r) => r.query.page)).toEqual(['1', '2', '3']);
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_workspace_info' })).toBe(0);
  });

  it('a failing page fails the refresh: the last good data stays, mistral_up turns 0', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { workspaces: 150 } } });
    await refresh('workspaces');
    sim.setFault('workspaces', { kind: 'status', status: 500 });
    await refresh('workspaces');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'workspaces' })).toBe(0);
    expect([...samples(text).keys()].filter((k) => k.startsWith('mistral_workspace_info{'))).toHaveLength(150);
  });
});

describe('pagination', () => {
  const page = (total: number, items: number) => ({
    total,
    items: Array.from({ length: items }, (_, i) => ({ i })),
    page: 1,
    page_size: items,
  });

  it('stops at the page cap and says the list is incomplete', async () => {
    const { ctx, queries } = recordingContext(0, () => page(1000, 10));
    const pages = await fetchPages(ctx, 'list', { pageSize: 10, maxPages: 3 });
    expect(queries.map((q) => q?.page)).toEqual([1, 2, 3]);
    expect([pages.items.length, pages.total, pages.complete]).toEqual([30, 1000, false]);
  });

  it('ends on an empty page even if the total said more, and refuses a total that is not a count', async () => {
    let n = 0;
    const { ctx } = recordingContext(0, () => (n++ === 0 ? page(50, 10) : page(50, 0)));
    expect((await fetchPages(ctx, 'list', { pageSize: 10, maxPages: 9 })).items).toHaveLength(10);
    for (const total of [-1, 1.5, 'many', null]) {
      const bad = recordingContext(0, () => ({ total, items: [] }));
      await expect(fetchPages(bad.ctx, 'list', { pageSize: 10, maxPages: 1 }), String(total)).rejects.toThrow(ParseError);
    }
  });

  it('the workspaces reader counts what the page cap left unread', async () => {
    const { ctx } = recordingContext(0, (q) => ({
      total: 20_000,
      items: Array.from({ length: 100 }, (_, i) => ({ uuid: `w-${q?.page}-${i}`, name: 'n' })),
      page: q?.page,
      page_size: 100,
    }));
    const reader = workspaces.reader(readerOptions());
    const snapshot = await reader.fetch(ctx);
    expect(snapshot.workspaces).toHaveLength(10_000);
    expect(reader.seriesDropped?.(snapshot)).toEqual({ mistral_workspace_info: 10_000 });
  });
});

describe('parseWorkspaces', () => {
  it('keeps the first of a workspace listed twice, and exports no number the API did not give', () => {
    const rows = parseWorkspaces([
      { uuid: 'a', name: 'A', members_count: null, spend_limit: { value: null, currency: null, no_monthly_limit: null } },
      { uuid: 'a', name: 'A again', members_count: 3, spend_limit: null },
      { uuid: 'b', name: 'B', members_count: '7', spend_limit: { value: '2.5e3', currency: 'eur', no_monthly_limit: false } },
    ]);
    expect(rows.map((r) => r.name)).toEqual(['A', 'B']);
    const m = flat(workspacesFamilies({ workspaces: rows, unread: 0 }));
    expect(m).toEqual({
      'mistral_workspace_info{workspace_id="a",workspace_name="A"}': 1,
      'mistral_workspace_info{workspace_id="b",workspace_name="B"}': 1,
      'mistral_workspace_members{workspace_id="b"}': 7,
      'mistral_workspace_spend_limit{workspace_id="b",currency="EUR"}': 2500,
      'mistral_workspace_spend_limit_enabled{workspace_id="b"}': 1,
    });
  });

  it('a limit whose value is unknown is still enabled, never a 0 that says there is none', () => {
    const rows = parseWorkspaces([
      { uuid: 'a', name: 'A', spend_limit: { value: null, currency: 'EUR', no_monthly_limit: false } },
      { uuid: 'b', name: 'B', spend_limit: { value: 10, currency: 'EUR', no_monthly_limit: true } },
      { uuid: 'c', name: 'C', spend_limit: { value: 10 } },
    ]);
    const m = flat(workspacesFamilies({ workspaces: rows, unread: 0 }));
    expect(m['mistral_workspace_spend_limit_enabled{workspace_id="a"}']).toBe(1);
    expect(m['mistral_workspace_spend_limit{workspace_id="a",currency="EUR"}']).toBeUndefined();
    expect(m['mistral_workspace_spend_limit_enabled{workspace_id="b"}']).toBe(0);
    expect(m['mistral_workspace_spend_limit{workspace_id="b",currency="EUR"}']).toBeUndefined();
    expect(m['mistral_workspace_spend_limit_enabled{workspace_id="c"}']).toBe(1);
    expect(m['mistral_workspace_spend_limit{workspace_id="c",currency="XXX"}']).toBe(10);
  });

  it('refuses an item without an id or a name', () => {
    expect(() => parseWorkspaces([{ name: 'x' }])).toThrow(/uuid: missing/);
    expect(() => parseWorkspaces([{ uuid: 'x' }])).toThrow(/name: missing/);
    expect(() => parseWorkspaces(['x'])).toThrow(ParseError);
  });
});

/** Σ cost of the simulator's truth rows of one workspace, exact. */
function truthCost(sim: Harness['sim'], workspaceId: string): Big {
  return sim.truth.usage({ workspaceId }).rows.reduce((sum, r) => (r.cost === null ? sum : sum.plus(r.cost)), new Big(0));
}

const keysOf = (text: string, prefix: string) => [...samples(text).keys()].filter((k) => k.startsWith(prefix));
const ALL = { MISTRAL_WORKSPACE_IDS: 'all', USAGE_ASSUMED_SERVICE_TIER: 'standard' };

describe('MISTRAL_WORKSPACE_IDS=all against the simulator', () => {
  it('usage and Vibe by workspace follow the workspaces listed: one added, one archived between refreshes', async () => {
    const { sim, refresh, scrape } = await harness({ env: ALL });
    const [first, second] = sim.truth.workspaces().map((w) => w.uuid) as [string, string];
    await refresh('workspaces');
    await refresh('usage');
    await refresh('vibe_by_workspace');
    const asked = (endpoint: string) =>
      sim.requests.filter((r) => r.endpoint === endpoint && r.query.api_zone === undefined).map((r) => r.query.workspace_id);
    expect(asked('usage').sort()).toEqual(sim.truth.workspaceIds.slice().sort());
    expect(asked('vibe_by_workspace').sort()).toEqual(sim.truth.workspaceIds.slice().sort());

    const added = sim.addWorkspace({ name: 'Newcomers', spendLimit: 250 });
    sim.archiveWorkspace(second);
    sim.requests.length = 0;
    await refresh('workspaces');
    await refresh('usage');
    await refresh('vibe_by_workspace');
    const now = sim.truth.workspaces().map((w) => w.uuid);
    expect(now).toContain(added);
    expect(now).not.toContain(second);
    expect(asked('usage').sort()).toEqual(now.slice().sort());
    expect(asked('vibe_by_workspace').sort()).toEqual(now.slice().sort());
    const text = await scrape();
    expect(text).not.toContain(second);
    expect(valueOf(text, 'mistral_workspace_info', { workspace_id: added, workspace_name: 'Newcomers' })).toBe(1);
    // Usage answered for the new workspace, with nothing used yet: a known 0, against its limit.
    expect(valueOf(text, 'mistral_workspace_spend_limit_utilization_ratio', { workspace_id: added, currency: 'EUR' })).toBe(0);
    expect(keysOf(text, 'mistral_usage_cost{').every((k) => k.includes('workspace_id="'))).toBe(true);
    expect(keysOf(text, 'mistral_usage_cost{').some((k) => k.includes(first))).toBe(true);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
  });

  it("each workspace's cost against its own limit: the ratio and the projection are the simulator's truth", async () => {
    const { sim, refresh, scrape } = await harness({ env: ALL });
    const mismatched = sim.addWorkspace({ name: 'Dollars', spendLimit: 100, currency: 'USD' });
    await refresh('workspaces');
    await refresh('usage');
    const text = await scrape();
    const [limited, unlimited, silent] = sim.truth.workspaces() as [SimWorkspace, SimWorkspace, SimWorkspace];
    const cost = truthCost(sim, limited.uuid);
    expect(cost.gt(0)).toBe(true);
    const labels = { workspace_id: limited.uuid, currency: 'EUR' };
    expect(valueOf(text, 'mistral_workspace_spend_limit_utilization_ratio', labels)).toBe(
      Number(cost.div(limited.spend_limit?.value as number).toString()),
    );
    // Mid-month (14.5 of November's 30 days): month-to-date × 30 / 14.5.
    expect(valueOf(text, 'mistral_workspace_spend_projected', labels)).toBe(
      Number(
        cost
          .times(30 * DAY_MS)
          .div(14.5 * DAY_MS)
          .toString(),
      ),
    );
    // The cost per workspace is what mistral_usage_cost sums.
    const summed = keysOf(text, 'mistral_usage_cost{')
      .filter((k) => k.includes(limited.uuid))
      .reduce((sum, k) => sum.plus(samples(text).get(k) ?? 0), new Big(0));
    expect(Number(summed.toString())).toBeCloseTo(Number(cost.toString()), 6);
    // No monthly limit, no limit object: neither a ratio nor a projection.
    const spendSeries = [
      ...keysOf(text, 'mistral_workspace_spend_limit_utilization_ratio{'),
      ...keysOf(text, 'mistral_workspace_spend_projected{'),
    ];
    for (const w of [unlimited, silent]) expect(spendSeries.filter((k) => k.includes(w.uuid))).toEqual([]);
    // A limit in another currency than the cost: no ratio; the projection, in the cost's currency.
    expect(keysOf(text, 'mistral_workspace_spend_limit_utilization_ratio{').filter((k) => k.includes(mismatched))).toEqual([]);
    expect(valueOf(text, 'mistral_workspace_spend_projected', { workspace_id: mismatched, currency: 'EUR' })).toBe(0);
  });

  it("on the month's first day: the ratio, but no projection", async () => {
    const { sim, refresh, scrape } = await harness({ env: ALL, start: Date.UTC(2026, 11, 1, 6) });
    await refresh('workspaces');
    await refresh('usage');
    const text = await scrape();
    const limited = sim.truth.workspaces()[0] as SimWorkspace;
    expect(valueOf(text, 'mistral_workspace_spend_limit_utilization_ratio', { workspace_id: limited.uuid, currency: 'EUR' })).toBe(
      Number(
        truthCost(sim, limited.uuid)
          .div(limited.spend_limit?.value as number)
          .toString(),
      ),
    );
    expect(keysOf(text, 'mistral_workspace_spend_projected')).toEqual([]);
  });

  it('GET workspaces failing: never org-wide figures in its place; the last list is followed until MAX_STALENESS', async () => {
    const { sim, clock, refresh, scrape, logs } = await harness({ env: ALL });
    sim.setFault('workspaces', { kind: 'status', status: 500 });
    await refresh('workspaces');
    await refresh('usage');
    let text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(0);
    expect(sim.requests.filter((r) => r.endpoint === 'usage')).toEqual([]);
    expect(keysOf(text, 'mistral_usage_')).toEqual([]);
    expect(logs.lines().some((l) => l.api_endpoint === 'usage' && String(l.msg).includes('GET workspaces has no list'))).toBe(true);

    sim.clearFaults();
    await refresh('workspaces');
    sim.setFault('workspaces', { kind: 'status', status: 500 });
    await clock.advance(60 * 60_000);
    await refresh('workspaces');
    sim.requests.length = 0;
    await refresh('usage');
    text = await scrape();
    // The last good list (an hour old, within MAX_STALENESS=2h) is still followed.
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'workspaces' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
    const followed = sim.requests.filter((r) => r.endpoint === 'usage' && r.query.api_zone === undefined).map((r) => r.query.workspace_id);
    expect(followed.sort()).toEqual(sim.truth.workspaceIds.slice().sort());
    expect(keysOf(text, 'mistral_workspace_spend_limit_utilization_ratio{')).toHaveLength(1);

    // Past MAX_STALENESS the list is withdrawn: usage fails, and is not read org-wide.
    await clock.advance(61 * 60_000);
    sim.requests.length = 0;
    await refresh('usage');
    text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(0);
    expect(sim.requests.filter((r) => r.endpoint === 'usage')).toEqual([]);
    expect(keysOf(text, 'mistral_usage_cost{').every((k) => k.includes('workspace_id="'))).toBe(true);
  });

  it('MAX_WORKSPACES: those with a limit first; the limited ones left out are counted', async () => {
    const env = { ...ALL, MAX_WORKSPACES: '2' };
    const { sim, refresh, scrape, logs } = await harness({ env, sim: { org: { workspaces: 6 } } });
    await refresh('workspaces');
    await refresh('usage');
    const listed = sim.truth.workspaces();
    const limited = listed.filter((w) => w.spend_limit?.value != null && w.spend_limit.no_monthly_limit !== true).map((w) => w.uuid);
    expect(limited).toHaveLength(2);
    const asked = sim.requests.filter((r) => r.endpoint === 'usage' && r.query.api_zone === undefined).map((r) => r.query.workspace_id);
    expect(asked.sort()).toEqual(limited.slice().sort());
    let text = await scrape();
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_workspace_spend_limit_utilization_ratio' })).toBe(0);
    expect(keysOf(text, 'mistral_workspace_spend_limit_utilization_ratio{')).toHaveLength(2);
    const warned = logs.lines().find((l) => l.api_endpoint === 'usage' && String(l.msg).includes('MAX_WORKSPACES'));
    expect(warned).toMatchObject({ followed: 2, not_followed: 4, not_followed_with_limit: 0 });

    const h2 = await startHarness({ env: { ...ALL, MAX_WORKSPACES: '1' }, sim: { org: { workspaces: 6 } } });
    try {
      await h2.refresh('workspaces');
      await h2.refresh('usage');
      text = await h2.scrape();
      expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_workspace_spend_limit_utilization_ratio' })).toBe(1);
      expect(keysOf(text, 'mistral_workspace_spend_limit_utilization_ratio{')).toHaveLength(1);
    } finally {
      await h2.close();
    }
  });

  it('check reads the workspaces, then follows them', async () => {
    const h = await harness({ env: ALL });
    const command = loadConfig({
      argv: ['check'],
      env: { MISTRAL_ADMIN_API_KEY: CANARY_KEY, MISTRAL_ADMIN_API_URL: h.sim.url, ...ALL, MISTRAL_ENDPOINTS: 'usage,workspaces' },
    });
    if (command.kind !== 'check') throw new Error('unexpected command');
    const results = await runCheck(command.config, { logger: captureLogs().logger, clock: h.clock });
    expect(results.map((r) => [r.endpoint, r.error])).toEqual([
      ['usage', undefined],
      ['workspaces', undefined],
    ]);
    const usage = results.find((r) => r.endpoint === 'usage');
    expect(new Set(usage?.answers.map((a) => a.query.workspace_id))).toEqual(new Set(h.sim.truth.workspaceIds));

    // GET workspaces refused: usage says it has nothing to follow, and asks nothing organization-wide.
    h.sim.setFault('workspaces', { kind: 'status', status: 403 });
    const refused = await runCheck(command.config, { logger: captureLogs().logger, clock: h.clock });
    expect(refused.find((r) => r.endpoint === 'usage')?.answers).toEqual([]);
    const text = formatCheck({ apiUrl: h.sim.url, pathLayout: 'auto', demo: false, results: refused });
    expect(text).toMatch(/^FAILED +usage /m);
    expect(text).toContain('usage: it follows another endpoint, which gave nothing to follow: see that row');
  });
});
