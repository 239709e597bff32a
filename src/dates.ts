/**
 * Dates read from the wire, always as UTC. `Date.parse` and `new Date(string)`
 * read a date-time without an offset in the process's time zone, so an answer
 * would mean another instant on a machine set to another zone; these readers
 * never consult the time zone. `test/wall-clock.test.ts` keeps the rest of
 * `src/` off `Date.parse`, local-time getters and the wall clock.
 */

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:\s*([Zz]|[+-]\d{2}(?::?\d{2})?))?$/;

/**
 * An ISO 8601 / RFC 3339 date or date-time as milliseconds since the epoch.
 * A date-time without an offset, and a bare date, are UTC. Undefined when the
 * text is not such a date or names an impossible one (2026-02-30, 25:00).
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const common = commonForm(text);
  if (common !== null) return common;
  const m = ISO_8601.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((p) => Number(p ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const offset = parseOffsetMinutes(m[8]);
  if (offset === undefined || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = utcMs(year, month, day, hour, minute, second);
  return ms === undefined ? undefined : ms + fraction - offset * 60_000;
}

/**
 * The form answers use, `2026-11-15T09:30:00Z` (or with a fraction of a
 * second, `.123456Z`), read without a regular expression: the same instant
 * parseIsoTimestamp's general reading gives, for a fraction of its cost (it
 * reads a date per row of 100 000). Null for any other text.
 */
function commonForm(text: string): number | undefined | null {
  const n = text.length;
  if (n < 20 || text.charCodeAt(n - 1) !== 90 /* Z */) return null;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return null;
  let fraction = 0;
  if (n > 20) {
    // `.` and 1 to 9 digits before the Z.
    if (text[19] !== '.' || n > 30 || n < 22) return null;
    if (digits(text, 20, n - 21) < 0) return null;
    // As the general reading computes it, to the last bit.
    fraction = Number(`0.${text.slice(20, n - 1)}`) * 1000;
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = utcMs(year, month, day, hour, minute, second);
  return ms === undefined ? undefined : ms + fraction;
}

/** The decimal number of `count` digits at `from`; -1 if one is not a digit. */
function digits(text: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// RFC 9110 §5.6.7: IMF-fixdate, the obsolete RFC 850 form and asctime. All are GMT.
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const RFC_850 = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const ASCTIME = /^[a-z]{3} ([a-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

/** An HTTP date (e.g. a Retry-After value) as milliseconds since the epoch; undefined when it is not one. */
export function parseHttpDate(text: string): number | undefined {
  const v = text.trim();
  const parts = httpDateParts(v); // day, month name, year, h, m, s
  if (!parts) return undefined;
  const month = MONTHS.indexOf(parts[1].toLowerCase()) + 1;
  if (month === 0) return undefined;
  const [h, min, s] = [Number(parts[3]), Number(parts[4]), Number(parts[5])];
  if (h > 23 || min > 59 || s > 60) return undefined;
  return utcMs(Number(parts[2]), month, Number(parts[0]), h, min, Math.min(s, 59));
}

type DateParts = [day: string, monthName: string, year: string, hour: string, minute: string, second: string];

function httpDateParts(v: string): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(v);
  if (imf) return [imf[1], imf[2], imf[3], imf[4], imf[5], imf[6]] as DateParts;
  const rfc850 = RFC_850.exec(v);
  if (rfc850) {
    // Two-digit years: RFC 9110 reads one more than 50 years ahead as the past century; 19xx/20xx is enough here.
    const yy = Number(rfc850[3]);
    return [rfc850[1], rfc850[2], String(yy >= 70 ? 1900 + yy : 2000 + yy), rfc850[4], rfc850[5], rfc850[6]] as DateParts;
  }
  const asctime = ASCTIME.exec(v);
  if (asctime) return [asctime[2], asctime[1], asctime[6], asctime[3], asctime[4], asctime[5]] as DateParts;
  return undefined;
}

/** `Z`, `+01`, `+0130` or `-01:30` as minutes east of UTC; none is UTC. */
function parseOffsetMinutes(offset: string | undefined): number | undefined {
  if (offset === undefined || offset === 'Z' || offset === 'z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

/** The instant of a UTC calendar date and time, or undefined for a day the month does not have. */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over into March: refuse instead.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}
