import { describe, expect, it } from 'vitest';
import { apiKeys, apiKeysDropped, apiKeysFamilies, keptKeys, parseApiKeys, type ApiKeysSnapshot } from '../src/sources/api-keys.js';
import { fetchOffsetPages } from '../src/sources/pages.js';
import type { Json } from '../src/sources/parse.js';
import { ParseError } from '../src/sources/types.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { flat } from './support/families.js';
import { HARNESS_START, samples, useHarness, valueOf } from './support/harness.js';
import { readerOptions, recordingContext } from './support/readers.js';

const harness = useHarness();
const DAY_S = 86_400;
const NOW_S = HARNESS_START / 1000;

const keysOf = (text: string, name: string) => [...samples(text).keys()].filter((k) => k.startsWith(`${name}{`));

/** Label value of a product as the API names it. */
const productLabel = (p: string | null) => (p === null ? 'unknown' : p.toLowerCase().replace(/ /g, '_'));

describe('GET api-keys against the simulator', () => {
  it('exports the counts by product and workspace, and each key expiry, last use and creation, as the simulator listed them', async () => {
    const { sim, refresh, scrape, logs } = await harness();
    await refresh('api_keys');
    const text = await scrape();
    const truth = sim.truth.apiKeys();
    expect(truth).toHaveLength(40);

    const counts = new Map<string, number>();
    for (const k of truth) {
      const id = `${productLabel(k.product)}|${k.workspace_id ?? ''}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(keysOf(text, 'mistral_api_keys')).toHaveLength(counts.size);
    for (const [id, n] of counts) {
      const [product, workspace_id] = id.split('|') as [string, string];
      expect(valueOf(text, 'mistral_api_keys', { product, workspace_id }), id).toBe(n);
    }

    for (const k of truth) {
      const labels = { key_id: k.key_id, key_name: k.name ?? '', product: productLabel(k.product), workspace_id: k.workspace_id ?? '' };
      expect(valueOf(text, 'mistral_api_key_expiry_timestamp_seconds', labels)).toBe(k.expiresSeconds ?? undefined);
      const lastUsed = k.last_used === null ? undefined : Date.parse(`${k.last_used}T00:00:00Z`) / 1000;
      expect(valueOf(text, 'mistral_api_key_last_used_timestamp_seconds', labels)).toBe(lastUsed);
      const created = k.created_at === null ? undefined : Date.parse(k.created_at) / 1000;
      expect(valueOf(text, 'mistral_api_key_created_timestamp_seconds', labels)).toBe(created);
    }
    // No expiry, never used, no creation date: absent, never a 0.
    expect(keysOf(text, 'mistral_api_key_expiry_timestamp_seconds')).toHaveLength(truth.filter((k) => k.expiresSeconds !== null).length);
    expect(keysOf(text, 'mistral_api_key_last_used_timestamp_seconds')).toHaveLength(truth.filter((k) => k.last_used !== null).length);
    expect(keysOf(text, 'mistral_api_key_created_timestamp_seconds')).toHaveLength(truth.filter((k) => k.created_at !== null).length);
    expect(truth.some((k) => k.expiresSeconds === null) && truth.some((k) => k.last_used === null)).toBe(true);

    // The masked key is nowhere: not on /metrics, not in a log line.
    for (const k of truth) {
      expect(text).not.toContain(k.hidden_key);
      expect(JSON.stringify(logs.lines())).not.toContain(k.hidden_key);
    }
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'api_keys' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_api_key_expiry_timestamp_seconds' })).toBe(0);
    // The short first page is not taken as the end: the next offset answers an empty page.
    expect(sim.requests.filter((r) => r.endpoint === 'api_keys').map((r) => [r.method, r.query])).toEqual([
      ['GET', { limit: '100', offset: '0' }],
      ['GET', { limit: '100', offset: String(truth.length) }],
    ]);
  });

  it('reads every page of a large organization, one GET per page, offset by what came', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { apiKeys: 250 } } });
    await refresh('api_keys');
    const text = await scrape();
    expect(sim.requests.filter((r) => r.endpoint === 'api_keys').map((r) => [r.method, r.query.offset])).toEqual([
      ['GET', '0'],
      ['GET', '100'],
      ['GET', '200'],
      ['GET', '250'],
    ]);
    const total = [...samples(text)].filter(([k]) => k.startsWith('mistral_api_keys{')).reduce((n, [, v]) => n + v, 0);
    expect(total).toBe(250);
    expect(keysOf(text, 'mistral_api_key_expiry_timestamp_seconds')).toHaveLength(
      sim.truth.apiKeys().filter((k) => k.expiresSeconds !== null).length,
    );
  });

  it('a failing page fails the refresh only: the last good data stays, mistral_up turns 0, the other endpoints are untouched', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { apiKeys: 150 } } });
    await refresh('api_keys');
    await refresh('spend_limit');
    const before = keysOf(await scrape(), 'mistral_api_key_expiry_timestamp_seconds');
    // The first page answers, the second fails (and every retry of it).
    sim.setFault('api_keys', { kind: 'delay', ms: 1 }, 1);
    sim.setFault('api_keys', { kind: 'status', status: 500 });
    await refresh('api_keys');
    await refresh('spend_limit');
    const text = await scrape();
    expect(sim.requests.filter((r) => r.endpoint === 'api_keys').map((r) => r.query.offset)).toEqual([
      '0',
      '100',
      '150',
      '0',
      '100',
      '100',
      '100',
    ]);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'api_keys' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(1);
    expect(keysOf(text, 'mistral_api_key_expiry_timestamp_seconds')).toEqual(before);
  });

  it('an answer cut in the middle is refused, and its log line shows no listed key, masked or whole', async () => {
    const { sim, refresh, logs } = await harness();
    const served = JSON.stringify(sim.bodyFor('api_keys'));
    const body = JSON.parse(served) as { keys: Array<Record<string, unknown>> };
    for (const k of body.keys) k.key = `sk-${String(k.key_id).slice(0, 8)}-plaintext`;
    sim.setFault('api_keys', { kind: 'malformed', variant: 'truncated-json' }, 1);
    sim.setFault('api_keys', { kind: 'status', status: 500, body: JSON.stringify(body) });
    await refresh('api_keys');
    await refresh('api_keys');
    const logged = JSON.stringify(logs.lines());
    expect(logged).toContain('not valid JSON');
    expect(logged).toContain('HTTP 500');
    expect(logged).toContain('"hidden_key\\":\\"[REDACTED]');
    for (const k of sim.truth.apiKeys()) {
      expect(logged).not.toContain(k.hidden_key);
      expect(logged).not.toContain(`sk-${k.key_id.slice(0, 8)}`);
    }
  });

  it('a 403 (a key without the scope) costs only this endpoint', async () => {
    const { sim, refreshAll, scrape } = await harness();
    sim.setFault('api_keys', { kind: 'status', status: 403, body: { detail: 'Forbidden' } });
    await refreshAll();
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'api_keys' })).toBe(0);
    const ups = [...samples(text)].filter(([k]) => k.startsWith('mistral_up{') && !k.includes('api_keys'));
    expect(ups.length).toBeGreaterThan(5);
    expect(ups.filter(([, v]) => v !== 1)).toEqual([]);
    expect(keysOf(text, 'mistral_api_keys')).toEqual([]);
  });

  it('MISTRAL_ENDPOINTS without api_keys: never asked, no series, no mistral_up', async () => {
    const { sim, refreshAll, scrape } = await harness({ env: { MISTRAL_ENDPOINTS: 'spend_limit,workspaces' } });
    await refreshAll();
    const text = await scrape();
    expect(sim.requests.filter((r) => r.endpoint === 'api_keys')).toEqual([]);
    expect(text).not.toContain('mistral_api_key');
    expect(text).not.toContain('api_endpoint="api_keys"');
  });

  it('API_KEYS_LIMIT keeps the keys that expire soonest and counts the series it leaves out; the counts stay whole', async () => {
    const { sim, refresh, scrape } = await harness({ env: { API_KEYS_LIMIT: '5' } });
    await refresh('api_keys');
    const text = await scrape();
    const truth = sim.truth.apiKeys();
    const soonest = truth
      .filter((k) => k.expiresSeconds !== null && k.expiresSeconds > NOW_S)
      .sort((a, b) => (a.expiresSeconds as number) - (b.expiresSeconds as number) || (a.key_id < b.key_id ? -1 : 1))
      .slice(0, 5);
    const kept = keysOf(text, 'mistral_api_key_expiry_timestamp_seconds');
    expect(kept).toHaveLength(5);
    for (const k of soonest) expect(kept.some((s) => s.includes(k.key_id))).toBe(true);
    const left = truth.filter((k) => !soonest.includes(k));
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_api_key_expiry_timestamp_seconds' })).toBe(
      left.filter((k) => k.expiresSeconds !== null).length,
    );
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_api_key_last_used_timestamp_seconds' })).toBe(
      left.filter((k) => k.last_used !== null).length,
    );
    const total = [...samples(text)].filter(([k]) => k.startsWith('mistral_api_keys{')).reduce((n, [, v]) => n + v, 0);
    expect(total).toBe(40);
  });
});

describe('the api-keys reader', () => {
  const key = (id: string, extra: Record<string, Json> = {}): Json => ({ key_id: id, hidden_key: 'HQSx...Ug6Y', ...extra });

  it('asks limit=100 and the offset of what came, until a page is empty', async () => {
    const { ctx, queries } = recordingContext(HARNESS_START, (q) => ({
      keys: Array.from({ length: Number(q?.offset) < 200 ? 100 : Number(q?.offset) === 200 ? 7 : 0 }, (_, i) => key(`k-${q?.offset}-${i}`)),
    }));
    const reader = apiKeys.reader(readerOptions());
    const snapshot = await reader.fetch(ctx);
    expect(queries).toEqual([
      { limit: 100, offset: 0 },
      { limit: 100, offset: 100 },
      { limit: 100, offset: 200 },
      { limit: 100, offset: 207 },
    ]);
    expect([snapshot.keys.length, snapshot.complete]).toEqual([207, true]);
  });

  it('a server that gives fewer keys per page than asked is read to the end, not taken as done after one page', async () => {
    const { sim, refresh, scrape } = await harness({ sim: { org: { apiKeys: 45 }, maxPageSize: 20 } });
    await refresh('api_keys');
    const text = await scrape();
    expect(sim.requests.filter((r) => r.endpoint === 'api_keys').map((r) => r.query.offset)).toEqual(['0', '20', '40', '45']);
    const total = [...samples(text)].filter(([k]) => k.startsWith('mistral_api_keys{')).reduce((n, [, v]) => n + v, 0);
    expect(total).toBe(45);
  });

  it('stops at 100 pages: the keys read are served (capped), the counts are absent, since part of a list is not its count', async () => {
    const { ctx, queries } = recordingContext(HARNESS_START, (q) => ({
      keys: Array.from({ length: 100 }, (_, i) => key(`k-${q?.offset}-${i}`, { product: 'API', expiration_date: '2027-01-01' })),
    }));
    const reader = apiKeys.reader(readerOptions({ apiKeysLimit: 30 }));
    const snapshot = await reader.fetch(ctx);
    // The 101st request only tells whether the list ends: its keys are not kept.
    expect(queries).toHaveLength(101);
    expect([snapshot.keys.length, snapshot.complete]).toEqual([10_000, false]);
    const m = flat(reader.toFamilies(snapshot));
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_api_keys{'))).toEqual([]);
    expect(Object.keys(m).filter((k) => k.startsWith('mistral_api_key_expiry_timestamp_seconds{'))).toHaveLength(30);
    expect(reader.seriesDropped?.(snapshot)).toEqual({
      mistral_api_key_expiry_timestamp_seconds: 9970,
      mistral_api_key_last_used_timestamp_seconds: 0,
      mistral_api_key_created_timestamp_seconds: 0,
    });
  });

  it('a list of exactly 100 full pages is read whole: one request more sees it end', async () => {
    const { ctx, queries } = recordingContext(HARNESS_START, (q) => ({
      keys: Number(q?.offset) >= 10_000 ? [] : Array.from({ length: 100 }, (_, i) => key(`k-${q?.offset}-${i}`)),
    }));
    const snapshot = await apiKeys.reader(readerOptions()).fetch(ctx);
    expect(queries).toHaveLength(101);
    expect([snapshot.keys.length, snapshot.complete]).toEqual([10_000, true]);
  });

  it('a server that ignores offset and repeats its page is not read 100 times, and its list is not taken as whole', async () => {
    const { ctx, queries } = recordingContext(HARNESS_START, () => ({ keys: Array.from({ length: 100 }, (_, i) => key(`k-${i}`)) }));
    const pages = await fetchOffsetPages(ctx, 'api-keys', {
      limit: 100,
      maxPages: 100,
      field: 'keys',
      idOf: (k) => (k as { key_id: string }).key_id,
    });
    expect(queries).toHaveLength(2);
    expect(pages.complete).toBe(false);
  });

  it('refuses an answer without a keys array, and one whose every key is unreadable', async () => {
    for (const body of [{}, { keys: null }, { keys: {} }, [], 'keys']) {
      const { ctx } = recordingContext(HARNESS_START, () => body);
      await expect(apiKeys.reader(readerOptions()).fetch(ctx), JSON.stringify(body)).rejects.toThrow(ParseError);
    }
    const { ctx } = recordingContext(HARNESS_START, (q) => ({ keys: Number(q?.offset) === 0 ? [{ name: 'no id' }, 'x'] : [] }));
    await expect(apiKeys.reader(readerOptions()).fetch(ctx)).rejects.toThrow(/none of its 2 entries is readable/);
  });
});

describe('parseApiKeys and apiKeysFamilies', () => {
  const snapshot = (keys: ApiKeysSnapshot['keys'], o: Partial<ApiKeysSnapshot> = {}): ApiKeysSnapshot => ({
    keys,
    complete: true,
    fetchedAt: HARNESS_START,
    keyLimit: 1000,
    ...o,
  });

  it('reads every shape the schema allows: nulls, missing fields, unknown extras, dates with or without a time', () => {
    const rows = parseApiKeys([
      {
        key_id: 'a',
        key: null,
        name: 'Production',
        hidden_key: 'HQSx...Ug6Y',
        created_at: '2026-01-02T03:04:05Z',
        expiration_date: '2026-12-01',
        actions: { rotate: { status: 'available' }, delete: null },
        workspace_id: 'ws-1',
        workspace_name: 'Product Team',
        created_by: 'alice.martin@example.com',
        product: 'Mistral Code',
        last_used: '2026-11-14',
        can_delete: true,
        a_field_added_later: { x: 1 },
      },
      // Every nullable field null.
      {
        key_id: ' b ',
        key: null,
        name: null,
        hidden_key: 'x',
        created_at: null,
        expiration_date: null,
        actions: {},
        workspace_id: null,
        workspace_name: null,
        created_by: null,
        product: null,
        last_used: null,
        can_delete: null,
      },
      // Only the id: the other fields missing.
      { key_id: 'c' },
      // A product the schema does not list yet, a date-time where a date is, a date-time without an offset.
      { key_id: 'd', product: 'Le Chat', expiration_date: '2026-12-01T12:00:00+01:00', created_at: '2026-01-02T03:04:05' },
    ]);
    const m = flat(apiKeysFamilies(snapshot(rows)));
    const label = (id: string, name: string, product: string, ws: string) =>
      `{key_id="${id}",key_name="${name}",product="${product}",workspace_id="${ws}"}`;
    expect(m).toEqual({
      'mistral_api_keys{product="mistral_code",workspace_id="ws-1"}': 1,
      'mistral_api_keys{product="unknown",workspace_id=""}': 2,
      'mistral_api_keys{product="le_chat",workspace_id=""}': 1,
      [`mistral_api_key_expiry_timestamp_seconds${label('a', 'Production', 'mistral_code', 'ws-1')}`]: Date.UTC(2026, 11, 1) / 1000,
      [`mistral_api_key_expiry_timestamp_seconds${label('d', '', 'le_chat', '')}`]: Date.UTC(2026, 11, 1, 11) / 1000,
      [`mistral_api_key_last_used_timestamp_seconds${label('a', 'Production', 'mistral_code', 'ws-1')}`]: Date.UTC(2026, 10, 14) / 1000,
      [`mistral_api_key_created_timestamp_seconds${label('a', 'Production', 'mistral_code', 'ws-1')}`]:
        Date.UTC(2026, 0, 2, 3, 4, 5) / 1000,
      [`mistral_api_key_created_timestamp_seconds${label('d', '', 'le_chat', '')}`]: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000,
    });
    expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('skips and counts an unreadable key, keeps the first of a key listed twice, and never reads the masked key', () => {
    const tally = new UnreadableTally();
    const rows = parseApiKeys(
      [
        { key_id: 'a', product: 'API' },
        { key_id: 'a', product: 'Vibe' },
        { name: 'no id' },
        { key_id: 7 },
        { key_id: 'e', expiration_date: 'soon' },
        { key_id: 'f', last_used: 20261114 },
        'not a key',
        { key_id: 'g', hidden_key: { unexpected: 'shape' }, key: 42 },
      ],
      tally,
    );
    expect(rows.map((r) => [r.id, r.product])).toEqual([
      ['a', 'api'],
      ['g', 'unknown'],
    ]);
    expect(Object.fromEntries(Object.entries(tally.result()).map(([r, u]) => [r, u?.count]))).toEqual({ missing: 1, wrong_type: 4 });
    expect(tally.result().wrong_type?.example).toBe('api-keys.keys[3].key_id: expected a string, got number 7');
  });

  it('the cap keeps the keys expiring soonest, then those that never expire, then the expired, most recent first', () => {
    const now = NOW_S;
    const row = (id: string, expiresAt?: number) => ({
      id,
      name: '',
      product: 'api',
      workspaceId: '',
      createdAt: undefined,
      expiresAt,
      lastUsedAt: now - DAY_S,
    });
    const keys = [
      row('expired-long-ago', now - 30 * DAY_S),
      row('never-b'),
      row('in-30-days', now + 30 * DAY_S),
      row('expired-yesterday', now - DAY_S),
      row('never-a'),
      row('in-2-days', now + 2 * DAY_S),
    ];
    expect(keptKeys(keys, 10, now).map((k) => k.id)).toEqual([
      'in-2-days',
      'in-30-days',
      'never-a',
      'never-b',
      'expired-yesterday',
      'expired-long-ago',
    ]);
    const s = snapshot(keys, { keyLimit: 3 });
    expect(apiKeysDropped(s)).toEqual({
      mistral_api_key_expiry_timestamp_seconds: 2,
      mistral_api_key_last_used_timestamp_seconds: 3,
      mistral_api_key_created_timestamp_seconds: 0,
    });
    expect(Object.keys(flat(apiKeysFamilies(s))).filter((k) => k.startsWith('mistral_api_key_last_used'))).toHaveLength(3);
    expect(flat(apiKeysFamilies(s))['mistral_api_keys{product="api",workspace_id=""}']).toBe(6);
  });
});
