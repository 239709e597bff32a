import { describe, expect, it } from 'vitest';
import {
  addDecimal,
  decimalToScientific,
  decimalToString,
  multiplyDecimal,
  parseDecimal,
  roundDecimal,
} from '../../src/simulator/decimal.js';

const text = (s: string) => decimalToString(parseDecimal(s));

describe('simulator exact decimals', () => {
  it('parses plain, signed and scientific forms to one canonical string', () => {
    expect(text('0.0000004')).toBe('0.0000004');
    expect(text('4e-7')).toBe('0.0000004');
    expect(text('1.5E-6')).toBe('0.0000015');
    expect(text('2.50')).toBe('2.5');
    expect(text('-12.000')).toBe('-12');
    expect(text('3e2')).toBe('300');
    expect(text('.5')).toBe('0.5');
    expect(text('0')).toBe('0');
    for (const bad of ['', 'abc', '1.2.3', 'e5', '1e']) expect(() => parseDecimal(bad)).toThrow();
  });

  it('adds and multiplies without binary rounding error', () => {
    expect(decimalToString(addDecimal(parseDecimal('0.1'), parseDecimal('0.2')))).toBe('0.3');
    expect(decimalToString(multiplyDecimal(parseDecimal('123456789'), parseDecimal('2e-7')))).toBe('24.6913578');
    expect(decimalToString(multiplyDecimal(parseDecimal('1234.5'), parseDecimal('0.00002')))).toBe('0.02469');
  });

  it('rounds half away from zero', () => {
    expect(decimalToString(roundDecimal(parseDecimal('1.005'), 2))).toBe('1.01');
    expect(decimalToString(roundDecimal(parseDecimal('1.0049'), 2))).toBe('1');
    expect(decimalToString(roundDecimal(parseDecimal('-2.345'), 2))).toBe('-2.35');
  });

  it('writes scientific notation that parses back', () => {
    expect(decimalToScientific(parseDecimal('0.0000015'), true)).toBe('1.5E-6');
    expect(decimalToScientific(parseDecimal('0.0000002'))).toBe('2e-7');
    expect(decimalToScientific(parseDecimal('0.01'))).toBe('1e-2');
    for (const s of ['0.0000015', '0.00000044', '6', '0.001']) expect(text(decimalToScientific(parseDecimal(s)))).toBe(s);
  });
});
