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

/**
 * An exact decimal from a JSON number or a numeric string. A JSON number is
 * taken as the shortest decimal that prints it (0.1 is 0.1, not the binary
 * double's expansion), so products and sums of prices come out as the
 * console shows them.
 */
export function toDecimal(v: unknown, where: string): Big {
  if (typeof v === 'number' && Number.isFinite(v)) return new Big(String(v));
  if (typeof v === 'string' && DECIMAL.test(v.trim())) return new Big(v.trim());
  throw new ParseError(`${where}: expected a number, got ${describe(v)}`, absentOr(v, 'not_a_number'));
}

export function optionalDecimal(v: unknown, where: string): Big | undefined {
  return v === null || v === undefined ? undefined : toDecimal(v, where);
}

export function toNumber(v: unknown, where: string): number {
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
