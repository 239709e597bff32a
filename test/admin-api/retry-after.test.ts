import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/admin-api/client.js';
import { inTimeZone, TIME_ZONES } from '../support/time-zone.js';

const now = Date.UTC(2026, 10, 15, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delta seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000);
  });

  it('reads an HTTP date relative to now; a past date is 0', () => {
    expect(parseRetryAfter('Sun, 15 Nov 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter(new Date(now - 5_000).toUTCString(), now)).toBe(0);
  });

  it('ignores what it cannot read (the caller backs off instead)', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('parseRetryAfter under any time zone', () => {
  it('reads an asctime date (no zone written) as GMT, not as local time', () => {
    for (const tz of TIME_ZONES) inTimeZone(tz, () => expect(parseRetryAfter('Sun Nov 15 12:01:30 2026', now), tz).toBe(90_000));
  });
});
