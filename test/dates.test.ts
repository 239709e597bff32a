import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHttpDate, parseIsoTimestamp } from '../src/dates.js';
import { optionalTimestampSeconds } from '../src/sources/parse.js';
import { inTimeZone, TIME_ZONES } from './support/time-zone.js';

const T = Date.UTC(2026, 4, 14, 0, 0, 0);

describe('parseIsoTimestamp', () => {
  it('reads a date-time without an offset, and a bare date, as UTC whatever the time zone of the process', () => {
    for (const tz of TIME_ZONES) {
      inTimeZone(tz, () => {
        expect(parseIsoTimestamp('2026-05-14T00:00:00'), tz).toBe(T);
        expect(parseIsoTimestamp('2026-05-14 00:00'), tz).toBe(T);
        expect(parseIsoTimestamp('2026-05-14'), tz).toBe(T);
        expect(optionalTimestampSeconds('2026-05-14T00:00:00'), tz).toBe(T / 1000);
      });
    }
  });

  it('applies an offset in every form RFC 3339 and ISO 8601 write it', () => {
    expect(parseIsoTimestamp('2026-05-14T00:00:00Z')).toBe(T);
    expect(parseIsoTimestamp('2026-05-14t00:00:00z')).toBe(T);
    expect(parseIsoTimestamp('2026-05-14T02:00:00+02:00')).toBe(T);
    expect(parseIsoTimestamp('2026-05-14T02:00:00+0200')).toBe(T);
    expect(parseIsoTimestamp('2026-05-14T02:00:00+02')).toBe(T);
    expect(parseIsoTimestamp('2026-05-13T19:30:00-04:30')).toBe(T);
    expect(parseIsoTimestamp('2026-05-14T00:00:00.250Z')).toBe(T + 250);
    expect(parseIsoTimestamp('2026-05-14T00:00:00.123456789+00:00')).toBeCloseTo(T + 123.456789, 6);
  });

  it('reads the form answers use (read without a regular expression) exactly as the general reading does', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(2, '0'));
    const stamp = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((v) => String(v).padStart(4, '0')),
        two(13),
        two(32),
        two(25),
        two(61),
        two(61),
        fc.option(fc.stringMatching(/^[0-9]{1,10}$/), { nil: undefined }),
      )
      .map(([y, mo, d, h, mi, s, f]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f === undefined ? '' : `.${f}`}Z`);
    fc.assert(
      fc.property(stamp, (text) => {
        // A leading space is not the common form: the general reading (which trims it) reads it.
        expect(parseIsoTimestamp(text)).toBe(parseIsoTimestamp(` ${text}`));
      }),
      { numRuns: 2000 },
    );
    expect(parseIsoTimestamp('2026-11-15T09:30:00Z')).toBe(Date.UTC(2026, 10, 15, 9, 30));
    expect(parseIsoTimestamp('2026-11-15T09:30:00.5Z')).toBe(Date.UTC(2026, 10, 15, 9, 30) + 500);
  });

  it('reads the edges of the calendar: leap day, year end, the first second of a year', () => {
    expect(parseIsoTimestamp('2028-02-29T12:00:00Z')).toBe(Date.UTC(2028, 1, 29, 12));
    expect(parseIsoTimestamp('2026-12-31T23:59:59Z')).toBe(Date.UTC(2027, 0, 1) - 1000);
    expect(parseIsoTimestamp('2027-01-01T00:00:00+01:00')).toBe(Date.UTC(2026, 11, 31, 23));
  });

  it('refuses what is not a date, or a date the calendar does not have', () => {
    for (const bad of [
      '',
      'soon',
      '2026-5-14',
      '2026-02-29',
      '2027-02-29T00:00:00Z',
      '2026-04-31',
      '2026-13-01',
      '2026-05-14T24:00:00Z',
      '2026-05-14T12:60:00Z',
      '2026-05-14T00:00:00+25:00',
      'Thu, 14 May 2026 00:00:00 GMT',
      '1747180800',
    ]) {
      expect(parseIsoTimestamp(bad), bad).toBeUndefined();
    }
  });
});

describe('parseHttpDate', () => {
  it("reads RFC 9110's three forms, each as GMT whatever the process's time zone", () => {
    const want = Date.UTC(1994, 10, 6, 8, 49, 37);
    for (const tz of TIME_ZONES) {
      inTimeZone(tz, () => {
        expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), tz).toBe(want);
        expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), tz).toBe(want);
        expect(parseHttpDate('Sun Nov  6 08:49:37 1994'), tz).toBe(want);
      });
    }
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      '1.5',
      '30',
      'soon',
      'Sun, 06 Nov 1994 08:49:37 PST',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      '2026-05-14T00:00:00Z',
    ]) {
      expect(parseHttpDate(bad), bad).toBeUndefined();
    }
  });
});
