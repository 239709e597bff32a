/**
 * Exact decimal arithmetic on BigInt scaled integers, for the ground truth:
 * costs must be Σ quantity × unit price with no binary floating-point error.
 * A value is `units / 10^scale`.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export const ZERO: Decimal = { units: 0n, scale: 0 };

/** Parses "12", "-0.5", "0.0000004", "2e-7", "1.5E-6". Throws on anything else. */
export function parseDecimal(text: string): Decimal {
  const match = DECIMAL_PATTERN.exec(text.trim());
  const [, sign = '', whole = '', fraction = '', exponentText] = match ?? [];
  if (!match || (whole === '' && fraction === '')) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  let units = BigInt(`${whole}${fraction}` || '0');
  if (sign === '-') units = -units;
  let scale = fraction.length - exponent;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return normalise({ units, scale });
}

export function decimalFromInteger(value: number | bigint): Decimal {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
  return { units: BigInt(value), scale: 0 };
}

/** `units` integer units of 10^-scale, e.g. (12345, 1) is 1234.5. */
export function decimalFromScaled(units: number | bigint, scale: number): Decimal {
  return normalise({ units: BigInt(units), scale });
}

function rescale(value: Decimal, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Drops trailing zero digits so equal values have one representation. */
function normalise(value: Decimal): Decimal {
  let { units, scale } = value;
  if (units === 0n) return ZERO;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { units, scale };
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return normalise({ units: rescale(a, scale) + rescale(b, scale), scale });
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return normalise({ units: a.units * b.units, scale: a.scale + b.scale });
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Rounds to `places` fractional digits, halves away from zero. */
export function roundDecimal(value: Decimal, places: number): Decimal {
  if (value.scale <= places) return value;
  const divisor = 10n ** BigInt(value.scale - places);
  const negative = value.units < 0n;
  const magnitude = negative ? -value.units : value.units;
  let quotient = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) quotient += 1n;
  return normalise({ units: negative ? -quotient : quotient, scale: places });
}

/** Plain positional notation, shortest form: "0.0000004", "1234.5", "0". */
export function decimalToString(value: Decimal): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString();
  if (value.scale === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(value.scale + 1, '0');
  const whole = padded.slice(0, padded.length - value.scale);
  const fraction = padded.slice(padded.length - value.scale);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Scientific notation: "2e-7", "1.5E-6" (with `upperCase`). */
export function decimalToScientific(value: Decimal, upperCase = false): string {
  const normal = normalise(value);
  if (normal.units === 0n) return upperCase ? '0E0' : '0e0';
  const negative = normal.units < 0n;
  const digits = (negative ? -normal.units : normal.units).toString();
  const exponent = digits.length - 1 - normal.scale;
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${negative ? '-' : ''}${mantissa}${upperCase ? 'E' : 'e'}${exponent}`;
}

export function decimalToNumber(value: Decimal): number {
  return Number(decimalToString(value));
}
