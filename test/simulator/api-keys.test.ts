import { describe, expect, it } from 'vitest';
import { asArray, asObject, DAY_S, getJson, NOW_S, simulator } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** GET api-keys as the published schema (APIKeysExtendedOUT, APIKeyExtendedOUT, APIKeyActions) has it. */
describe('simulated GET api-keys', () => {
  it('answers APIKeysExtendedOUT: every required field, of its type, nullable where the schema says', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(`${sim.url}/api-keys`);
    expect(status).toBe(200);
    const root = asObject(body);
    expect(Object.keys(root)).toEqual(['keys']);
    const keys = asArray(root.keys).map(asObject);
    expect(keys).toHaveLength(40);
    const required = [
      'actions',
      'can_delete',
      'created_at',
      'created_by',
      'expiration_date',
      'hidden_key',
      'key',
      'key_id',
      'last_used',
      'name',
      'product',
      'workspace_id',
      'workspace_name',
    ];
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(required);
      expect(k.key_id).toMatch(UUID);
      expect(k.key).toBeNull();
      expect(k.hidden_key).toMatch(/^[A-Za-z0-9]{4}\.\.\.[A-Za-z0-9]{4}$/);
      if (k.expiration_date !== null) expect(k.expiration_date).toMatch(DAY);
      if (k.last_used !== null) expect(k.last_used).toMatch(DAY);
      if (k.created_at !== null) expect(k.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect([null, 'API', 'Mistral Code', 'Vibe']).toContain(k.product);
      if (k.workspace_id !== null) expect(sim.truth.workspaceIds).toContain(k.workspace_id);
      expect(k.workspace_id === null).toBe(k.workspace_name === null);
      expect(Object.keys(asObject(k.actions)).sort()).toEqual(['delete', 'rotate']);
    }
    // Each nullable field is null somewhere, and set somewhere.
    for (const field of ['name', 'created_at', 'expiration_date', 'workspace_id', 'created_by', 'product', 'last_used', 'can_delete']) {
      expect(
        keys.some((k) => k[field] === null),
        `${field} null`,
      ).toBe(true);
      expect(
        keys.some((k) => k[field] !== null),
        `${field} set`,
      ).toBe(true);
    }
    expect(keys.map((k) => k.key_id)).toEqual(sim.truth.apiKeys().map((k) => k.key_id));
  });

  it('lists keys expired, expiring within 14 days, never expiring and never used, and nothing after now', async () => {
    const sim = await simulator();
    const keys = sim.truth.apiKeys();
    const expiresIn = (k: (typeof keys)[number]) => (k.expiresSeconds === null ? undefined : k.expiresSeconds - NOW_S);
    expect(keys.filter((k) => (expiresIn(k) ?? 1) <= 0).length).toBeGreaterThan(0);
    expect(keys.filter((k) => (expiresIn(k) ?? 0) > 0 && (expiresIn(k) ?? 0) <= 14 * DAY_S).length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.expiresSeconds === null).length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.last_used === null).length).toBeGreaterThan(0);
    const today = new Date(NOW_S * 1000).toISOString().slice(0, 10);
    for (const k of keys) {
      expect(k.createdSeconds).toBeLessThanOrEqual(NOW_S);
      if (k.last_used !== null) expect(k.last_used <= today).toBe(true);
      if (k.last_used !== null && k.expiration_date !== null) expect(k.last_used < k.expiration_date).toBe(true);
    }
  });

  it('is a function of seed and clock: the same keys for the same instant, rotated as time passes', async () => {
    let now = NOW_S * 1000;
    const a = await simulator({ now: () => now });
    const b = await simulator({ now: () => now });
    expect(a.bodyFor('api_keys')).toEqual(b.bodyFor('api_keys'));
    const before = new Set(a.truth.apiKeys().map((k) => k.key_id));
    now += 400 * DAY_S * 1000;
    const after = a.truth.apiKeys();
    expect(after).toHaveLength(40);
    expect(after.filter((k) => before.has(k.key_id)).length).toBeLessThan(40);
  });

  it('pages with limit and offset (no total), and filters by name or the last 4 characters', async () => {
    const sim = await simulator();
    const page = async (query: string) => asArray(asObject((await getJson(`${sim.url}/api-keys?${query}`)).body).keys).map(asObject);
    const pages = [await page('limit=15&offset=0'), await page('limit=15&offset=15'), await page('limit=15&offset=30')];
    expect(pages.map((p) => p.length)).toEqual([15, 15, 10]);
    expect(await page('limit=15&offset=40')).toEqual([]);
    expect(pages.flat().map((k) => k.key_id)).toEqual(sim.truth.apiKeys().map((k) => k.key_id));
    const named = sim.truth.apiKeys().find((k) => k.name !== null);
    const byName = await page(`name=${encodeURIComponent(named?.name?.toUpperCase() ?? '')}`);
    expect(byName.map((k) => k.key_id)).toContain(named?.key_id);
    const last4 = named?.hidden_key.slice(-4) ?? '';
    expect((await page(`name=${last4}`)).map((k) => k.key_id)).toContain(named?.key_id);
  });

  it('refuses a limit or offset that is not an integer, FastAPI-style', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(`${sim.url}/api-keys?limit=x&offset=1.5`);
    expect(status).toBe(422);
    expect(asArray(asObject(body).detail).map((d) => asObject(d).loc)).toEqual([
      ['query', 'limit'],
      ['query', 'offset'],
    ]);
  });

  it('answers in every path layout, and a POST gets 405', async () => {
    for (const layout of ['brief', 'legacy', 'current'] as const) {
      const sim = await simulator({ layouts: [layout] });
      expect((await getJson(`${sim.url}/api-keys`)).status).toBe(200);
      expect((await getJson(`${sim.url}/api-keys`, { method: 'POST', body: '{}' })).status).toBe(405);
    }
  });
});
