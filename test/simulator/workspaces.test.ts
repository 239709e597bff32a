import { describe, expect, it } from 'vitest';
import { asArray, asObject, getJson, simulator } from './helpers.js';

/** GET workspaces as the published schema (WorkspacesOut, WorkspaceOUT, WorkspaceSpendLimitOUT) has it. */
describe('simulated GET workspaces', () => {
  it('answers WorkspacesOut: every required field, of its type, nullable where the schema says', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(`${sim.url}/workspaces`);
    expect(status).toBe(200);
    const root = asObject(body);
    expect(root).toMatchObject({ total: 3, page: 1, page_size: 25, object: 'list' });
    const items = asArray(root.items).map(asObject);
    expect(items).toHaveLength(3);
    for (const w of items) {
      expect(Object.keys(w).sort()).toEqual(['description', 'icon', 'is_default', 'members_count', 'name', 'spend_limit', 'uuid']);
      expect(w.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(typeof w.name).toBe('string');
      expect(typeof w.is_default).toBe('boolean');
      for (const nullable of ['description', 'icon', 'members_count', 'spend_limit']) expect(nullable in w).toBe(true);
      if (w.spend_limit !== null) expect(Object.keys(asObject(w.spend_limit)).sort()).toEqual(['currency', 'no_monthly_limit', 'value']);
    }
    expect(items.map((w) => w.uuid)).toEqual(sim.truth.workspaceIds);
    expect(items.filter((w) => w.is_default)).toHaveLength(1);
    // A limit, no monthly limit, and no spend limit at all.
    expect(items.map((w) => w.spend_limit)).toEqual([
      { value: 1500, currency: 'EUR', no_monthly_limit: false },
      { value: null, currency: null, no_monthly_limit: true },
      null,
    ]);
    expect(items.map((w) => w.members_count)).toEqual(sim.truth.workspaces().map((w) => w.members_count));
  });

  it('pages: page and page_size, an empty page past the end, the total every time', async () => {
    const sim = await simulator();
    const page = async (n: number, size: number) => asObject((await getJson(`${sim.url}/workspaces?page=${n}&page_size=${size}`)).body);
    const pages = [await page(1, 2), await page(2, 2), await page(3, 2)];
    expect(pages.map((p) => [p.total, p.page, p.page_size, asArray(p.items).length])).toEqual([
      [3, 1, 2, 2],
      [3, 2, 2, 1],
      [3, 3, 2, 0],
    ]);
    expect(pages.flatMap((p) => asArray(p.items).map((w) => asObject(w).uuid))).toEqual(sim.truth.workspaceIds);
  });

  it('lists the archived workspace only with is_archived=true', async () => {
    const sim = await simulator();
    const all = asObject((await getJson(`${sim.url}/workspaces?is_archived=true`)).body);
    expect(all.total).toBe(4);
    expect(asArray(all.items).map((w) => asObject(w).name)).toContain('Old Pilot');
    expect(sim.truth.workspaces().map((w) => w.name)).not.toContain('Old Pilot');
  });

  it('refuses a page below 1 or a page_size that is not an integer, FastAPI-style', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(`${sim.url}/workspaces?page=0&page_size=x&is_archived=maybe`);
    expect(status).toBe(422);
    expect(asArray(asObject(body).detail).map((d) => asObject(d).loc)).toEqual([
      ['query', 'page'],
      ['query', 'page_size'],
      ['query', 'is_archived'],
    ]);
  });
});
