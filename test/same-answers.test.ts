import { describe, expect, it } from 'vitest';
import type { RenderedChunk } from '../src/exposition.js';
import { type Harness, useHarness } from './support/harness.js';

/**
 * le Chat by user and by agent give families from their answers alone
 * (Reader.answersOnly): a refresh whose every answer is byte for byte the
 * last good one's keeps the last rendering, and one answer that differs
 * makes it again. Over real HTTP, with the simulator.
 */
const harness = useHarness();
const ENV = { LECHAT_USER_METRICS: 'true', MISTRAL_ENDPOINTS: 'lechat_by_user,lechat_by_agent,spend_limit' };
const HOUR = 3_600_000;

const sameAnswers = (logs: { lines: () => Array<Record<string, unknown>> }, endpoint: string) =>
  logs.lines().filter((l) => l.api_endpoint === endpoint && String(l.msg).includes('the same answers as the last refresh')).length;

/** Refreshes whose answers were known the same before the reader ran (Reader.plannedQueries): nothing of them read. */
const notRead = (logs: { lines: () => Array<Record<string, unknown>> }, endpoint: string) =>
  logs.lines().filter((l) => l.api_endpoint === endpoint && String(l.msg).includes('(asked again, not read)')).length;

/** Requests the simulator answered for le Chat by_user_stats (one per window and refresh). */
const askedOf = (h: Harness) => h.sim.requests.filter((r) => r.endpoint === 'lechat_by_user' && r.status === 200).length;

/** The rendered chunk that holds `metric`'s series. */
async function chunkWith(h: Harness, metric: string): Promise<RenderedChunk> {
  for (const chunk of h.exporter.scheduler.chunks()) {
    await chunk.make('openmetrics');
    if (chunk.body('openmetrics')?.includes(`\n${metric}{`)) return chunk;
  }
  throw new Error(`no chunk holds ${metric}`);
}

describe('a refresh that gets the same answers again', () => {
  it('keeps the rendering it made (the same chunk, the same bytes), and is as fresh as the refresh', async () => {
    // A cap that leaves users out, and GET users, which reads what le Chat by user shares: both kept with the rendering.
    const h = await harness({ env: { ...ENV, MISTRAL_ENDPOINTS: `${ENV.MISTRAL_ENDPOINTS},users`, LECHAT_USER_LIMIT: '2' } });
    await h.refreshAll();
    const chunkOf = () => chunkWith(h, 'mistral_lechat_user_messages');
    const first = await chunkOf();
    const before = await h.scrape();
    expect(before).toMatch(/^mistral_lechat_user_messages\{/m);
    expect(before).toMatch(/^mistral_exporter_series_dropped\{metric="mistral_lechat_user_messages"\} [1-9]/m);
    expect(before).toMatch(/^mistral_analytics_complete_until_timestamp_seconds\{api_endpoint="lechat_by_user"\} \d/m);
    expect(before).toMatch(/^mistral_seats_idle\{/m);

    await h.clock.advance(HOUR);
    const asked = askedOf(h);
    await h.refresh('lechat_by_user');
    expect(sameAnswers(h.logs, 'lechat_by_user')).toBe(1);
    expect(await chunkOf()).toBe(first);
    // Each window asked once, as the first refresh did (asked again before the reader ran, which then had nothing to read).
    expect(askedOf(h) - asked).toBe(asked);
    expect(notRead(h.logs, 'lechat_by_user')).toBe(1);
    await h.refresh('users');
    const after = await h.scrape();
    const withoutFreshness = (text: string) =>
      text
        .split('\n')
        .filter((l) => !/^mistral_exporter_(last_success|refresh_duration|api_requests)/.test(l))
        .join('\n');
    expect(withoutFreshness(after)).toBe(withoutFreshness(before));
    // Its freshness is the refresh's, not the first one's.
    const lastSuccess = (text: string) =>
      Number(/^mistral_exporter_last_success_timestamp_seconds\{api_endpoint="lechat_by_user"\} (\S+)/m.exec(text)?.[1]);
    expect(lastSuccess(after) - lastSuccess(before)).toBe(HOUR / 1000);
  });

  it('renders again when one answer of the refresh differs, and shows what it says', async () => {
    const h = await harness({ env: ENV });
    await h.refreshAll();
    const first = await chunkWith(h, 'mistral_lechat_user_messages');
    // The first window's answer again, one user's messages changed: the same query, other bytes.
    const asked = h.sim.requests.find((r) => r.endpoint === 'lechat_by_user');
    if (asked === undefined) throw new Error('by_user_stats was not asked');
    const body = h.sim.bodyFor('lechat_by_user', asked.query) as { data: Array<{ user_id: string; messages_count: number }> };
    const changed = body.data[0];
    if (changed === undefined) throw new Error('no user in the answer');
    changed.messages_count += 1_000_000;
    h.sim.setFault('lechat_by_user', { kind: 'status', status: 200, body }, 1);

    const before = askedOf(h);
    await h.refresh('lechat_by_user');
    expect(sameAnswers(h.logs, 'lechat_by_user')).toBe(0);
    // The changed first answer, asked again before the reader ran, is the one it reads: not asked a second time.
    expect(askedOf(h) - before).toBe(before);
    expect(await chunkWith(h, 'mistral_lechat_user_messages')).not.toBe(first);
    const text = await h.scrape();
    expect(text).toContain(`mistral_lechat_user_messages{user_id="${changed.user_id}",window="1d"} ${changed.messages_count}`);

    // And back to the simulator's own answer: that differs from the last refresh's too.
    await h.refresh('lechat_by_user');
    expect(sameAnswers(h.logs, 'lechat_by_user')).toBe(0);
    expect(await h.scrape()).not.toContain(`} ${changed.messages_count}\n`);
  });

  it('a failed refresh in between changes nothing of it; the first good refresh after a withdrawal renders again', async () => {
    const h = await harness({ env: ENV });
    await h.refreshAll();
    h.sim.setFault('lechat_by_agent', { kind: 'status', status: 500 });
    await h.refresh('lechat_by_agent');
    h.sim.clearFaults();
    await h.refresh('lechat_by_agent');
    expect(sameAnswers(h.logs, 'lechat_by_agent')).toBe(1);
    expect(notRead(h.logs, 'lechat_by_agent')).toBe(1);

    // Older than MAX_STALENESS: withdrawn, then read again and rendered anew (nothing kept to reuse).
    h.sim.setFault('lechat_by_agent', { kind: 'status', status: 500 });
    await h.clock.advance(3 * HOUR);
    await h.refresh('lechat_by_agent');
    expect(await h.scrape()).not.toContain('mistral_lechat_agent_messages{');
    h.sim.clearFaults();
    await h.refresh('lechat_by_agent');
    expect(sameAnswers(h.logs, 'lechat_by_agent')).toBe(1);
    expect(await h.scrape()).toContain('mistral_lechat_agent_messages{');
  });
});
