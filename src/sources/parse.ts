import { Big } from 'big.js';
import { parseIsoTimestamp } from '../dates.js';
import { ParseError, type UnreadableReason } from './types.js';

/**
 * Tolerant readers for Admin API answers. The API is a preview: numbers may
 * arrive as strings (scientific notation included), fields may be null,
 * missing or new. What cannot be understood throws ParseError naming the
 * field, which costs that endpoint one refresh and nothing else.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, where: string): JsonObject {
  if (!isObject(v)) throw new ParseError(`${where}: expected an object, got ${describe(v)}`, absentOr(v, 'wrong_type'));
  return v;
}

export function expectArray(v: unknown, where: string): Json[] {
  if (!Array.isArray(v)) throw new ParseError(`${where}: expected an array, got ${describe(v)}`, absentOr(v, 'wrong_type'));
  return v as Json[];
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Longest numeric string read: far more digits than an amount has, few enough that exact arithmetic on it stays cheap. */
const MAX_DECIMAL_LENGTH = 100;

/**
 * Largest power of ten read, either way (1e100, 1e-100). Exact arithmetic
 * aligns the exponents of what it adds, so a 1e999999999 would cost a digit
 * per power of ten; and sums and products of numbers within it stay finite
 * doubles, where a 1e400 would be exported as +Inf.
 */
const MAX_EXPONENT = 100;

/**
 * An exact decimal from a JSON number or a numeric string. A JSON number is
 * taken as the shortest decimal that prints it (0.1 is 0.1, not the binary
 * double's expansion), so products and sums of prices come out as the
 * console shows them. A number out of range is `not_a_number`.
 */
export function toDecimal(v: unknown, where: string): Big {
  const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : undefined;
  if (text === undefined || text.length > MAX_DECIMAL_LENGTH || !DECIMAL.test(text)) {
    throw new ParseError(`${where}: expected a number, got ${describe(v)}`, absentOr(v, 'not_a_number'));
  }
  // big.js takes no leading '+'.
  const d = new Big(text.startsWith('+') ? text.slice(1) : text);
  if (!d.eq(0) && Math.abs(d.e) > MAX_EXPONENT) {
    throw new ParseError(`${where}: ${describe(v)} is out of range (beyond 1e±${MAX_EXPONENT})`, 'not_a_number');
  }
  return d;
}

export function optionalDecimal(v: unknown, where: string): Big | undefined {
  return v === null || v === undefined ? undefined : toDecimal(v, where);
}

/**
 * Beyond these, a JSON number takes the exact path (toDecimal's range check); within them, it is its own value:
 * what `Number(toDecimal(v).toString())` gives (the shortest decimal that prints a double reads back as that double).
 */
const FAST_MIN = 1e-90;
const FAST_MAX = 1e90;

export function toNumber(v: unknown, where: string): number {
  // Most answers hold plain JSON numbers: the same value without building an exact decimal (rows of 100 000 users).
  if (typeof v === 'number') {
    if (v === 0) return 0; // -0 too: the decimal path writes it "0"
    const abs = v < 0 ? -v : v;
    if (abs >= FAST_MIN && abs <= FAST_MAX) return v;
  }
  return Number(toDecimal(v, where).toString());
}

/**
 * A count the schema requires: a whole, non-negative number (or numeric
 * string). Absent or null is `missing`, never 0: a number the API did not
 * give is not exported.
 */
export function requiredCount(row: JsonObject, field: string, where: string): number {
  const v = row[field];
  if (v === undefined || v === null) throw new ParseError(`${where}.${field}: missing`, 'missing');
  const n = toNumber(v, `${where}.${field}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new ParseError(`${where}.${field}: expected a count, got ${n}`, 'not_a_number');
  return n;
}

export function optionalNumber(v: unknown, where: string): number | undefined {
  return v === null || v === undefined ? undefined : toNumber(v, where);
}

/** true/false, or the strings and 0/1 some APIs send instead. */
export function optionalBoolean(v: unknown, where: string): boolean | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new ParseError(`${where}: expected true or false, got ${describe(v)}`, 'wrong_type');
}

export function optionalString(v: unknown, where: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  throw new ParseError(`${where}: expected a string, got ${describe(v)}`, 'wrong_type');
}

/** An ISO 8601 date-time string as Unix seconds (UTC when it has no offset), or undefined when absent or unreadable. */
export function optionalTimestampSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = parseIsoTimestamp(v);
  return ms === undefined ? undefined : ms / 1000;
}

/** `missing` for an absent or null value, else `reason`. */
function absentOr(v: unknown, reason: UnreadableReason): UnreadableReason {
  return v === undefined || v === null ? 'missing' : reason;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** ISO 4217's code for "no currency", used when the answer names none. */
export const UNKNOWN_CURRENCY = 'XXX';
