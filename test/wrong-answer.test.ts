import { describe, expect, it } from 'vitest';
import { useHarness, valueOf } from './support/harness.js';

/**
 * An answer that is not the one asked for is refused whole: its figures
 * would be served as the current ones. The last good data stays, mistral_up
 * turns 0, and the parse error is counted and logged.
 */
const harness = useHarness();

describe('answers for another period than the one asked', () => {
  it('a usage answer for last month is not served as this month', async () => {
    const { sim, refresh, scrape, logs } = await harness();
    await refresh('usage');
    const good = await scrape();
    // The simulator's own answer for October, served when November is asked.
    sim.setFault('usage', { kind: 'status', status: 200, body: sim.bodyFor('usage', { month: '10', year: '2026' }) });
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(0);
    expect(valueOf(text, 'mistral_billing_period_start_timestamp_seconds')).toBe(
      valueOf(good, 'mistral_billing_period_start_timestamp_seconds'),
    );
    expect(valueOf(text, 'mistral_exporter_parse_errors_total', { api_endpoint: 'usage' })).toBe(1);
    expect(logs.lines().some((l) => /covers a period starting 2026-10-01, not the month asked for \(2026-11\)/.test(l.msg))).toBe(true);
  });

  it.each(['lechat_by_user', 'lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization'] as const)(
    '%s: an answer echoing another window than the one asked is refused',
    async (endpoint) => {
      const { sim, refresh, scrape, logs } = await harness();
      await refresh(endpoint);
      // The simulator's answer for a window a week earlier than any the exporter asks.
      const week = 7 * 86_400;
      const now = sim.truth.nowSeconds();
      const stale = sim.bodyFor(endpoint, { start_time: String(now - 2 * week), end_time: String(now - week), granularity: 'day' });
      sim.setFault(endpoint, { kind: 'status', status: 200, body: stale });
      await refresh(endpoint);
      const text = await scrape();
      expect(valueOf(text, 'mistral_up', { api_endpoint: endpoint })).toBe(0);
      expect(valueOf(text, 'mistral_exporter_parse_errors_total', { api_endpoint: endpoint })).toBe(1);
      expect(
        logs.lines().some((l) => l.api_endpoint === endpoint && /start_time: the answer covers .*, not the .* asked for/.test(l.msg)),
      ).toBe(true);
    },
  );
});
