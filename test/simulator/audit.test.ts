import { describe, expect, it } from 'vitest';
import { getJson, NOW_MS, simulator } from './helpers.js';

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

type Entry = Record<string, unknown> & { created_at: string; event_type: string; log_id: number };

async function audit(url: string, params: Array<[string, string]>): Promise<{ status: number; body: unknown }> {
  return getJson(`${url}/audit-logs?${new URLSearchParams(params).toString()}`);
}

const at = (e: Entry) => Date.parse(e.created_at);

describe('GET audit-logs (simulated)', () => {
  it('a bare array of AuditLogOut, newest first and 20 by default, nothing after now', async () => {
    const sim = await simulator();
    const { status, body } = await audit(sim.url, []);
    expect(status).toBe(200);
    const entries = body as Entry[];
    expect(entries).toHaveLength(20);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(
        [
          'actor_metadata',
          'actor_type',
          'created_at',
          'event_metadata',
          'event_type',
          'log_id',
          'organization_uuid',
          'target_metadata',
          'target_type',
          'workspace_uuid',
        ].sort(),
      );
      expect(Number.isSafeInteger(e.log_id)).toBe(true);
      expect(at(e)).toBeLessThanOrEqual(NOW_MS);
    }
    expect(entries.map(at)).toEqual([...entries.map(at)].sort((a, b) => b - a));
    // Nullable fields are null somewhere.
    const many = (await audit(sim.url, [['limit', '300']])).body as Entry[];
    expect(many.some((e) => e.organization_uuid === null)).toBe(true);
    expect(many.some((e) => e.workspace_uuid === null)).toBe(true);
  });

  it('honours after and before (exclusive), sort, limit and the filters, repeated parameters included', async () => {
    const sim = await simulator();
    const after = NOW_MS - DAY_MS;
    const all = sim.truth.auditLog(after, NOW_MS);
    const asked = (
      await audit(sim.url, [
        ['after', iso(after)],
        ['before', iso(NOW_MS)],
        ['sort', 'ascending'],
        ['limit', '1000'],
      ])
    ).body as Entry[];
    expect(asked.map((e) => e.log_id)).toEqual(all.map((e) => e.logId));
    expect(asked.map(at)).toEqual(all.map((e) => e.ms));

    const types = ['workspace.member.add', 'api_key.rotate'];
    const filtered = (
      await audit(sim.url, [
        ['after', iso(after)],
        ['sort', 'ascending'],
        ['limit', '1000'],
        ...types.map((t): [string, string] => ['event_type', t]),
      ])
    ).body as Entry[];
    expect(filtered.map((e) => e.log_id)).toEqual(all.filter((e) => types.includes(e.eventType)).map((e) => e.logId));

    const byActor = (
      await audit(sim.url, [
        ['after', iso(after)],
        ['limit', '1000'],
        ['actor_type', 'API_KEY'],
      ])
    ).body as Entry[];
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((e) => e.actor_type === 'API_KEY')).toBe(true);
    const byTarget = (
      await audit(sim.url, [
        ['after', iso(after)],
        ['limit', '1000'],
        ['target_type', 'USER'],
      ])
    ).body as Entry[];
    expect(byTarget.every((e) => e.target_type === 'USER')).toBe(true);

    // `after` is exclusive: from an entry's own instant, that entry is not served again.
    const first = all[0];
    const next = (
      await audit(sim.url, [
        ['after', iso(first?.ms ?? 0)],
        ['sort', 'ascending'],
        ['limit', '1'],
      ])
    ).body as Entry[];
    expect(at(next[0] as Entry)).toBeGreaterThan(first?.ms ?? 0);
  });

  it('refuses an unknown event type, actor type or date-time with a FastAPI 422', async () => {
    const sim = await simulator();
    const { status, body } = await audit(sim.url, [
      ['event_type', 'api_key.rotated'],
      ['actor_type', 'ROBOT'],
      ['after', 'yesterday'],
      ['sort', 'sideways'],
    ]);
    expect(status).toBe(422);
    expect((body as { detail: Array<{ loc: string[] }> }).detail.map((d) => d.loc[1])).toEqual([
      'event_type',
      'actor_type',
      'after',
      'sort',
    ]);
  });

  it('is the same log for the same seed and clock, and another for another seed', async () => {
    const a = await simulator();
    const b = await simulator();
    const c = await simulator({ seed: 2 });
    const q: Array<[string, string]> = [['limit', '50']];
    expect((await audit(a.url, q)).body).toEqual((await audit(b.url, q)).body);
    expect((await audit(a.url, q)).body).not.toEqual((await audit(c.url, q)).body);
  });
});
