import { describe, expect, it } from 'vitest';
import { samples, useHarness, valueOf } from './support/harness.js';

/**
 * Rule 4 of docs/metrics.md over HTTP: numbers as strings, signed and in
 * scientific notation are read exactly, integers beyond 2^53 keep every
 * digit through the arithmetic, and absurd magnitudes are refused as
 * unreadable, never computed with nor exported as ±Inf.
 */
const harness = useHarness();

/** A usage answer of the harness's month (November 2026) with the given completion entries and one price. */
function usageAnswer(entries: Array<{ value: unknown; value_paid: unknown }>, price: unknown) {
  return {
    completion: {
      models: {
        'mistral-small-latest::mistral-small-2506': {
          input: entries.map((e, i) => ({
            event_type: 'api_tokens',
            billing_metric: 'mistral-small-2506',
            billing_group: 'input',
            timestamp: `2026-11-0${i + 1}`,
            ...e,
          })),
        },
      },
    },
    start_date: '2026-11-01T00:00:00Z',
    end_date: '2026-11-30T23:59:59Z',
    currency: 'EUR',
    currency_symbol: '€',
    prices: [
      {
        event_type: 'api_tokens',
        billing_metric: 'mistral-small-2506',
        billing_group: 'input',
        api_zone: 'global',
        service_tier: 'standard',
        price,
      },
    ],
  };
}

const TOKENS = { category: 'completion', model: 'mistral-small-2506', token_type: 'input' };
const COST = { category: 'completion', model: 'mistral-small-2506', billing_group: 'input', currency: 'EUR' };

describe('numbers', () => {
  it('reads signed and scientific strings exactly, and integers beyond 2^53 to the last digit', async () => {
    const { sim, refresh, scrape } = await harness();
    // 2^53 + 1 and 1: read as doubles they would sum to 2^53 (9007199254740992); exactly, to 2^53 + 2.
    const body = usageAnswer(
      [
        { value: '9007199254740993', value_paid: '+2E+6' },
        { value: 1, value_paid: '5e5' },
      ],
      '+5E-7',
    );
    sim.setFault('usage', { kind: 'status', status: 200, body });
    await refresh('usage');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
    expect(text).toContain('mistral_usage_tokens{category="completion",model="mistral-small-2506",token_type="input"} 9007199254740994');
    expect(valueOf(text, 'mistral_usage_tokens', TOKENS)).toBe(9_007_199_254_740_994);
    // (2 000 000 + 500 000) × 0.0000005
    expect(valueOf(text, 'mistral_usage_cost', COST)).toBe(1.25);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'usage', reason: 'not_a_number' })).toBe(0);
  });

  it('refuses absurd magnitudes and endless digits as unreadable: never computed with, never +Inf', async () => {
    const { sim, refresh, scrape, logs } = await harness();
    const body = usageAnswer(
      [
        { value: 1000, value_paid: '1e400' },
        { value: '1e-300000000', value_paid: 10 },
        { value: '9'.repeat(150_000), value_paid: 10 },
        { value: 2000, value_paid: 2000 },
      ],
      0.5,
    );
    sim.setFault('usage', { kind: 'status', status: 200, body });
    sim.setFault('spend_limit', {
      kind: 'status',
      status: 200,
      body: {
        limits: {
          completion: { monthly_limit_reached: false, usage: 12, vibe_usage: 0, total_usage: '1e400', usage_limit: 100 },
          last_payment_failure: false,
          last_payment_failure_protection: null,
          currency: 'EUR',
        },
      },
    });
    await refresh('usage');
    await refresh('spend_limit');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'usage' })).toBe(1);
    // Only the one readable entry counts.
    expect(valueOf(text, 'mistral_usage_tokens', TOKENS)).toBe(2000);
    expect(valueOf(text, 'mistral_usage_cost', COST)).toBe(1000);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'usage', reason: 'not_a_number' })).toBe(3);
    // The total is out of range: it costs only itself, and the rest of the answer is served.
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'spend_limit', reason: 'not_a_number' })).toBe(1);
    expect(valueOf(text, 'mistral_spend_limit_reached')).toBe(0);
    expect(valueOf(text, 'mistral_spend_limit', { currency: 'EUR' })).toBe(100);
    expect(valueOf(text, 'mistral_spend_reported', { currency: 'EUR', field: 'total_usage' })).toBeUndefined();
    // As for an answer without total_usage: spend is the itemised parts (12), and the ratio theirs.
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(12);
    expect(valueOf(text, 'mistral_spend_limit_utilization_ratio')).toBe(0.12);
    expect(valueOf(text, 'mistral_spend_reported', { currency: 'EUR', field: 'usage' })).toBe(12);
    for (const [series, value] of samples(text)) expect(Number.isFinite(value), series).toBe(true);
    expect(logs.text()).not.toContain('9'.repeat(200));
  });
});
