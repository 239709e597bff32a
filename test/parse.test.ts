import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { requiredCount, toDecimal, toNumber } from '../src/sources/parse.js';
import { ParseError } from '../src/sources/types.js';

/** What toDecimal refuses, it refuses as a ParseError `not_a_number`: the entry is skipped, never the process's problem. */
function refusal(v: unknown): string | undefined {
  try {
    toDecimal(v, 'x');
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return (err as ParseError).reason;
  }
}

describe('toDecimal', () => {
  it('reads numeric strings with a sign, an exponent, spaces around', () => {
    expect(toDecimal('+5E-7', 'x').toString()).toBe('5e-7');
    expect(toDecimal('+0', 'x').toString()).toBe('0');
    expect(toDecimal(' -1.5e+3 ', 'x').toString()).toBe('-1500');
    expect(toDecimal('.5', 'x').toString()).toBe('0.5');
    expect(toNumber('-0', 'x')).toBe(0);
  });

  it('refuses a magnitude beyond 1e±100 (1e400 would be exported as +Inf, 1e999999999 would take a digit per power of ten to add)', () => {
    expect(toDecimal('1e100', 'x').toString()).toBe('1e+100');
    expect(toDecimal('1e-100', 'x').toString()).toBe('1e-100');
    for (const v of [
      '1e400',
      '-1e400',
      '1e-400',
      '1e999999999',
      '+1e+999999999',
      '1e-999999999',
      1e308,
      -Number.MAX_VALUE,
      5e-324,
      '9'.repeat(101),
    ]) {
      expect(refusal(v), String(v)).toBe('not_a_number');
    }
  });

  it('refuses a numeric string longer than 100 characters, whatever its value', () => {
    expect(toDecimal(`1.${'0'.repeat(98)}`, 'x').toString()).toBe('1');
    expect(refusal(`1.${'0'.repeat(99)}`)).toBe('not_a_number');
    expect(refusal(`0.${'0'.repeat(400)}1`)).toBe('not_a_number');
  });

  it('a count out of range is not a number, never +Inf', () => {
    expect(() => requiredCount({ n: '1e400' }, 'n', 'x')).toThrow(ParseError);
  });
});

describe('toNumber', () => {
  it('gives a JSON number the value the exact decimal path gives it (its fast path changes no figure)', () => {
    const attempt = (read: () => number) => {
      try {
        return read();
      } catch (err) {
        return (err as ParseError).reason;
      }
    };
    const same = (v: number) =>
      Object.is(
        attempt(() => toNumber(v, 'x')),
        attempt(() => Number(toDecimal(v, 'x').toString())),
      );
    const edges = [0, -0, 1, -1, 0.1, 1e-90, -1e-90, 1e90, 1e-91, 1e91, 2 ** 53 + 2, 123456.789, 1.7976931348623157e100];
    for (const v of edges) expect(same(v), String(v)).toBe(true);
    fc.assert(fc.property(fc.double(), same), { numRuns: 2000 });
    fc.assert(fc.property(fc.double({ min: -1e95, max: 1e95 }), same), { numRuns: 2000 });
    fc.assert(fc.property(fc.integer(), same));
  });
});
