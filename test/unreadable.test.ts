import { describe, expect, it } from 'vitest';
import { API_ENDPOINTS } from '../src/endpoints.js';
import { UNREADABLE_REASONS } from '../src/sources/types.js';
import { samples, useHarness, valueOf } from './support/harness.js';

/**
 * Rules 1 and 2 of docs/metrics.md over HTTP: an entry that cannot be read
 * costs only itself (skipped, counted, logged with its path), a number the
 * API did not give is never exported, and an answer is refused whole only
 * when nothing in it can be read.
 */
const harness = useHarness();

const userRow = (user_id: string, messages: unknown) => ({
  user_id,
  messages_count: messages,
  files_count: 0,
  images_count: 0,
  spreadsheets_count: 0,
  unique_conversations_count: 1,
  unique_agents_count: 0,
  messages_to_agents_count: 0,
  last_message_at: '2026-11-15T09:00:00Z',
});

describe('unreadable entries', () => {
  it('a le Chat row without its required count is skipped and counted, never read as 0; the rest is served', async () => {
    const { sim, refresh, scrape, logs } = await harness({ env: { ANALYTICS_WINDOWS: '1d' } });
    // No echoed window: the answer cannot be checked against the one asked, and is read.
    const body = { data: [userRow('u-a', 5), userRow('u-b', null), userRow('u-c', 'many'), userRow('u-d', 2)] };
    sim.setFault('lechat_by_user', { kind: 'status', status: 200, body });
    await refresh('lechat_by_user');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'lechat_by_user' })).toBe(1);
    expect(valueOf(text, 'mistral_lechat_messages', { window: '1d' })).toBe(7);
    expect(valueOf(text, 'mistral_lechat_active_users', { window: '1d' })).toBe(2);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'lechat_by_user', reason: 'missing' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'lechat_by_user', reason: 'not_a_number' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'lechat_by_user', reason: 'wrong_type' })).toBe(0);
    const warning = logs.lines().find((l) => l.api_endpoint === 'lechat_by_user' && l.level === 'warn');
    expect(warning?.msg).toMatch(/2 entries of the answer could not be read and were left out/);
    expect(warning?.first).toBe('lechat by_user_stats.data[1].messages_count: missing');
  });

  it('a usage entry without its quantity costs only itself: the rest of its series is served, less exactly that entry', async () => {
    const { sim, refresh, scrape } = await harness();
    // The simulator's own answer, with the quantity of one completion token entry removed.
    type Entry = Record<string, unknown>;
    const body = structuredClone(sim.bodyFor('usage')) as { completion: { models: Record<string, Record<string, Entry[]>> } };
    const lists = Object.values(body.completion.models).flatMap((groups) => Object.values(groups));
    const list = lists.find((l) => l.length > 1 && String(l[0]?.event_type).endsWith('_tokens')) as Entry[];
    const removed = list[0] as Entry;
    const removedValue = Number(removed.value);
    removed.value = null;
    sim.setFault('usage', { kind: 'status', status: 200, body });
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'usage', reason: 'missing' })).toBe(1);
    // The answer served to every request, the per-zone ones included: the exporter sees a filter that is not
    // honoured and reads the unfiltered answer, every zone and tier of the key together.
    const rows = sim.truth
      .usage()
      .rows.filter(
        (r) => r.category === 'completion' && r.billingMetric === removed.billing_metric && r.billingGroup === removed.billing_group,
      );
    const truth = { value: rows.reduce((n, r) => n + Number(r.value), 0) };
    const served = valueOf(text, 'mistral_usage_tokens', {
      category: 'completion',
      model: String(removed.billing_metric),
      token_type: String(removed.billing_group),
    });
    expect(served).toBeCloseTo(Number(truth?.value) - removedValue, 6);
  });

  it('an answer none of whose entries can be read is refused: the last good data stays and mistral_up turns 0', async () => {
    const { sim, refresh, scrape } = await harness();
    await refresh('rate_limit');
    const before = valueOf(await scrape(), 'mistral_rate_limit_requests_per_second');
    sim.setFault('rate_limit', { kind: 'status', status: 200, body: { requests_per_second: 9, tokens_limits_by_model: ['nope', 3] } });
    await refresh('rate_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(0);
    expect(valueOf(text, 'mistral_rate_limit_requests_per_second')).toBe(before);
    expect(valueOf(text, 'mistral_exporter_parse_errors_total', { api_endpoint: 'rate_limit' })).toBe(1);
  });

  it("rate-limit's per-model limits as the docs' example shows them, an array naming each model, are read like the map", async () => {
    const { sim, refresh, scrape } = await harness();
    const body = {
      requests_per_second: 6,
      tokens_limits_by_model: [
        { model: 'mistral-large-2512', tokens_per_minute: 50_000, tokens_per_month: 4_000_000 },
        { tokens_per_minute: 1 },
      ],
    };
    sim.setFault('rate_limit', { kind: 'status', status: 200, body });
    await refresh('rate_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model: 'mistral-large-2512' })).toBe(50_000);
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_month', { model: 'mistral-large-2512' })).toBe(4_000_000);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'rate_limit', reason: 'missing' })).toBe(1);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(1);
  });

  it('a day the le Chat by_time answer has no row for is absent, not 0 active users', async () => {
    const { sim, refresh, scrape } = await harness();
    sim.setFault('lechat_by_time', { kind: 'status', status: 200, body: { data: [] } });
    await refresh('lechat_by_time');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'lechat_by_time' })).toBe(1);
    expect([...samples(text).keys()].filter((k) => k.startsWith('mistral_lechat_daily_active_users'))).toEqual([]);
  });

  it('spend whose parts the API reports over its total is shown whole, not double-counted', async () => {
    const { sim, refresh, scrape } = await harness();
    const completion = { monthly_limit_reached: false, usage: 900, vibe_usage: 300, total_usage: 1000, usage_limit: 5000 };
    sim.setFault('spend_limit', {
      kind: 'status',
      status: 200,
      body: { limits: { completion, last_payment_failure: false, currency: 'EUR' } },
    });
    await refresh('spend_limit');
    const text = await scrape();
    const parts = [...samples(text)].filter(([k]) => k.startsWith('mistral_spend{'));
    expect(parts).toEqual([['mistral_spend{currency="EUR",product="unitemised"}', 1000]]);
    expect(valueOf(text, 'mistral_spend_parts_inconsistent')).toBe(1);
    expect(valueOf(text, 'mistral_spend_reported', { currency: 'EUR', field: 'usage' })).toBe(900);
    expect(valueOf(text, 'mistral_spend_limit_utilization_ratio')).toBe(0.2);
  });

  it('reports 0 per reason for every endpoint whose answers were read whole', async () => {
    const { refreshAll, scrape } = await harness();
    await refreshAll();
    const text = await scrape();
    const unreadable = [...samples(text)].filter(([k]) => k.startsWith('mistral_exporter_unreadable_entries{'));
    expect(unreadable.length).toBe(API_ENDPOINTS.length * UNREADABLE_REASONS.length);
    expect(unreadable.filter(([, v]) => v !== 0)).toEqual([]);
  });
});
