/**
 * The `oddShapes` option's encodings of analytics answers: every count is
 * the same number, written in one of the ways a JSON producer may write it
 * (a string, with a sign, with an exponent, with a decimal point). The
 * echoed `start_time`/`end_time` stay as they are. The truth is unchanged:
 * an exporter that reads these right serves exactly what it serves for the
 * plain answer.
 */
import type { JsonObject, JsonValue } from './usage.js';

const FORMS: ReadonlyArray<(n: number) => string> = [
  (n) => String(n),
  (n) => `+${n}`,
  (n) => `${n}e0`,
  (n) => `${n * 10}E-1`,
  (n) => `+${n}.0`,
];

export function oddlyEncoded(body: JsonObject): JsonObject {
  let next = 0;
  const encode = (value: JsonValue): JsonValue => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && Number.isSafeInteger(value * 10)) {
      const form = FORMS[next % FORMS.length] as (n: number) => string;
      next += 1;
      return form(value);
    }
    if (Array.isArray(value)) return value.map(encode);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
    return value;
  };
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(body)) out[key] = key === 'start_time' || key === 'end_time' ? value : encode(value);
  return out;
}
