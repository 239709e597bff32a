import { describe, expect, it } from 'vitest';
import { fetchPages } from '../src/sources/pages.js';
import { ParseError } from '../src/sources/types.js';
import { parseWorkspaces, workspaces, workspacesFamilies } from '../src/sources/workspaces.js';
import { flat } from './support/families.js';
import { samples, useHarness, valueOf } from './support/harness.js';
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
