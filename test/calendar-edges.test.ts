import { describe, expect, it } from 'vitest';
import { parseSpendLimit, spendLimitFamilies } from '../src/sources/spend-limit.js';
import { currentMonthQuery } from '../src/sources/usage.js';
import { completeDays, completeDaysRange, completeUntil, lastCompleteDay, utcMonthBounds } from '../src/sources/windows.js';
import { flat } from './support/families.js';
import { samples, useHarness, valueOf } from './support/harness.js';
import { inTimeZone, inTimeZoneAsync, TIME_ZONES } from './support/time-zone.js';

/**
 * The instants where a calendar bug shows: a month's and a year's first
 * minute, a month ending between two refreshes, leap day. Each runs on an
 * injected clock, and the pure ones under time zones far from UTC too.
 */
const YEAR_START = Date.UTC(2027, 0, 1, 0, 0, 30);
const LEAP_DAY = Date.UTC(2028, 1, 29, 12, 0, 0);
const DAY_MS = 86_400_000;

const spendAt = (now: number) =>
  flat(
    spendLimitFamilies(
      parseSpendLimit(
        {
          limits: {
            completion: { monthly_limit_reached: false, usage: 100, vibe_usage: 20, total_usage: 150, usage_limit: 5000 },
            currency: 'EUR',
          },
        },
        now,
      ),
    ),
  );

describe('month bounds and the usage query at the edges of the calendar', () => {
  it.each(TIME_ZONES)('in %s', (tz) => {
    inTimeZone(tz, () => {
      expect(utcMonthBounds(YEAR_START)).toEqual({ start: Date.UTC(2027, 0, 1), end: Date.UTC(2027, 1, 1) });
      expect(utcMonthBounds(Date.UTC(2027, 0, 1) - 1)).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
      expect(utcMonthBounds(LEAP_DAY)).toEqual({ start: Date.UTC(2028, 1, 1), end: Date.UTC(2028, 2, 1) });
      expect(currentMonthQuery(YEAR_START)).toEqual({ month: 1, year: 2027 });
      expect(currentMonthQuery(Date.UTC(2027, 0, 1) - 1)).toEqual({ month: 12, year: 2026 });
      expect(currentMonthQuery(LEAP_DAY)).toEqual({ month: 2, year: 2028 });
    });
  });
});

describe('spend projection at the edges of the calendar', () => {
  it.each(TIME_ZONES)(
    'in %s: none in the first day of a month or a year, the whole month at its last minute, 29 days in a leap February',
    (tz) => {
      inTimeZone(tz, () => {
        const projected = (now: number) => spendAt(now)['mistral_spend_projected{currency="EUR"}'];
        expect(projected(YEAR_START)).toBeUndefined();
        expect(projected(Date.UTC(2027, 2, 1, 23, 59, 59))).toBeUndefined();
        // The first instant a projection is published: exactly one day into the month.
        expect(projected(Date.UTC(2027, 2, 2))).toBe(150 * 31);
        // One minute before the year ends: 31 days / (31 days - 1 minute) of the spend so far.
        expect(projected(Date.UTC(2027, 0, 1) - 60_000)).toBeCloseTo((150 * 31 * DAY_MS) / (31 * DAY_MS - 60_000), 9);
        // Leap day noon: 28.5 of February 2028's 29 days have passed.
        expect(projected(LEAP_DAY)).toBeCloseTo((150 * 29) / 28.5, 9);
        // 28 days in February 2027: at noon of the 28th, 27.5 have passed.
        expect(projected(Date.UTC(2027, 1, 28, 12))).toBeCloseTo((150 * 28) / 27.5, 9);
        // Spend itself never depends on the date.
        expect(spendAt(YEAR_START)['mistral_spend{currency="EUR",product="api"}']).toBe(100);
      });
    },
  );
});

describe('analytics windows at the edges of the calendar', () => {
  it.each(TIME_ZONES)('in %s: complete UTC days cross month, year and leap-day boundaries', (tz) => {
    inTimeZone(tz, () => {
      expect(lastCompleteDay(YEAR_START)).toBe('2026-12-31');
      expect(completeDays(YEAR_START, 3)).toEqual(['2026-12-29', '2026-12-30', '2026-12-31']);
      expect(completeDaysRange(YEAR_START, 1)).toEqual({
        start_time: Date.UTC(2026, 11, 31) / 1000,
        end_time: Date.UTC(2027, 0, 1) / 1000,
      });
      expect(lastCompleteDay(Date.UTC(2028, 2, 1, 0, 0, 30))).toBe('2028-02-29');
      expect(completeDays(Date.UTC(2028, 2, 1), 2)).toEqual(['2028-02-28', '2028-02-29']);
      expect(completeDays(Date.UTC(2027, 2, 1), 2)).toEqual(['2027-02-27', '2027-02-28']);
      // le Chat's windows are complete UTC days too: 30d at New Year is the 30 days of December from the 2nd.
      expect(completeDaysRange(YEAR_START, 30)).toEqual({
        start_time: Date.UTC(2026, 11, 2) / 1000,
        end_time: Date.UTC(2027, 0, 1) / 1000,
      });
      // Complete until: the end of the last loaded day, across the year's end and a leap day.
      const days = completeDays(YEAR_START, 3);
      expect(completeUntil(days, new Set(days))).toBe(Date.UTC(2027, 0, 1) / 1000);
      expect(completeUntil(days, new Set(['2026-12-29', '2026-12-30']))).toBe(Date.UTC(2026, 11, 31) / 1000);
      const leap = completeDays(Date.UTC(2028, 2, 1), 2);
      expect(completeUntil(leap, new Set(['2028-02-28']))).toBe(Date.UTC(2028, 1, 29) / 1000);
    });
  });
});

describe('the whole exporter against the simulator, across a month end', () => {
  const harness = useHarness();

  it('a month ending between two refreshes: the second reads the new month, projects nothing, and exports no NaN', async () => {
    // 2027-02-28 23:58 UTC: February 2027 has 28 days.
    const h = await harness({ start: Date.UTC(2027, 1, 28, 23, 58, 0) });
    await h.refreshAll();
    let text = await h.scrape();
    expect(valueOf(text, 'mistral_billing_period_start_timestamp_seconds')).toBe(Date.UTC(2027, 1, 1) / 1000);
    expect(valueOf(text, 'mistral_spend_projected', { currency: 'EUR' })).toBeGreaterThan(0);
    const februaryRequests = h.sim.requests.length;

    await h.clock.set(Date.UTC(2027, 2, 1, 0, 0, 30));
    await h.refreshAll();
    text = await h.scrape();
    const usageQueries = h.sim.requests
      .slice(februaryRequests)
      .filter((r) => r.endpoint === 'usage')
      .map((r) => r.query);
    // Once unfiltered, then once per zone of the prices: every one for the new month.
    expect(usageQueries.map(({ api_zone: _zone, ...q }) => q)).toEqual(Array(usageQueries.length).fill({ month: '3', year: '2027' }));
    expect(usageQueries.map((q) => q.api_zone ?? '').sort()).toEqual(['', 'eu', 'global', 'us']);
    expect(valueOf(text, 'mistral_billing_period_start_timestamp_seconds')).toBe(Date.UTC(2027, 2, 1) / 1000);
    // The period ends with March, at its last second or at April's first, as the API writes it.
    expect(valueOf(text, 'mistral_billing_period_end_timestamp_seconds')).toBeGreaterThanOrEqual(Date.UTC(2027, 2, 31, 23, 59, 59) / 1000);
    expect(valueOf(text, 'mistral_billing_period_end_timestamp_seconds')).toBeLessThanOrEqual(Date.UTC(2027, 3, 1) / 1000);
    expect(valueOf(text, 'mistral_spend_projected', { currency: 'EUR' })).toBeUndefined();
    expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(h.sim.truth.spend().served.usage);
    for (const endpoint of [
      'usage',
      'spend_limit',
      'rate_limit',
      'lechat_by_user',
      'lechat_by_agent',
      'lechat_by_time',
      'vibe_by_workspace',
      'vibe_by_organization',
    ]) {
      expect(valueOf(text, 'mistral_up', { api_endpoint: endpoint }), endpoint).toBe(1);
    }
    expect([...samples(text).entries()].filter(([, v]) => !Number.isFinite(v))).toEqual([]);
  });

  it.each(TIME_ZONES)("a year's first minute in %s: every endpoint up, spend served, no projection, no NaN", async (tz) => {
    await inTimeZoneAsync(tz, async () => {
      const h = await harness({ start: YEAR_START });
      await h.refreshAll();
      const text = await h.scrape();
      expect(samples(text).get('mistral_up{api_endpoint="usage"}')).toBe(1);
      expect([...samples(text).entries()].filter(([k, v]) => k.startsWith('mistral_up{') && v !== 1)).toEqual([]);
      expect(valueOf(text, 'mistral_billing_period_start_timestamp_seconds')).toBe(Date.UTC(2027, 0, 1) / 1000);
      expect(valueOf(text, 'mistral_spend', { currency: 'EUR', product: 'api' })).toBe(h.sim.truth.spend().served.usage);
      expect(valueOf(text, 'mistral_spend_projected', { currency: 'EUR' })).toBeUndefined();
      expect([...samples(text).entries()].filter(([, v]) => !Number.isFinite(v))).toEqual([]);
    });
  });
});
