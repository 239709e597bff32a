/**
 * Parsers for the value kinds settings take. Each returns the value or throws
 * a `ValueError` whose message completes "SETTING=value: ...".
 */
export class ValueError extends Error {}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A duration as Prometheus writes them: one or more `<number><unit>` with
 * units ms, s, m, h, d, w, largest first (`90s`, `1h30m`, `500ms`).
 * Returns milliseconds.
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  let lastUnit = Infinity;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const unit = DURATION_UNITS[m[2] as string] as number;
    if (unit >= lastUnit) throw new ValueError('units must go from largest to smallest, each once (e.g. 1h30m)');
    lastUnit = unit;
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) {
    throw new ValueError('not a duration (use e.g. 30s, 5m, 1h30m; units ms, s, m, h, d, w)');
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['w', DURATION_UNITS.w],
    ['d', DURATION_UNITS.d],
    ['h', DURATION_UNITS.h],
    ['m', DURATION_UNITS.m],
    ['s', DURATION_UNITS.s],
    ['ms', DURATION_UNITS.ms],
  ] as const) {
    const n = Math.floor(rest / (size as number));
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * (size as number);
    }
  }
  return out;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** A size: plain bytes, or with a unit (KiB, MiB, GiB, kB, MB, GB; case-insensitive). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? BYTE_UNITS[(m[2] as string).toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ValueError('not a size (use e.g. 32MiB, 500kB, 1048576)');
  return Math.round(Number(m[1]) * unit);
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

export function parseInteger(text: string, min: number, max: number): number {
  const s = text.trim();
  if (!/^\d+$/.test(s)) throw new ValueError('not a whole number');
  const n = Number(s);
  if (n < min || n > max) throw new ValueError(`must be between ${min} and ${max}`);
  return n;
}

export function parseBoolean(text: string): boolean {
  const s = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new ValueError('not a boolean (use true or false)');
}

export function parseChoice<T extends string>(text: string, choices: readonly T[]): T {
  const s = text.trim() as T;
  if (!choices.includes(s)) throw new ValueError(`must be one of ${choices.join(', ')}`);
  return s;
}

export function parseHttpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ValueError('not a URL (e.g. https://console.mistral.ai/api/admin)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValueError('must be an http:// or https:// URL');
  if (url.username || url.password) throw new ValueError('must not carry credentials; set the key with MISTRAL_ADMIN_API_KEY');
  if (url.search || url.hash) throw new ValueError('must not have a query or fragment');
  return url.toString().replace(/\/+$/, '');
}

/** A comma-separated list; blanks and duplicates dropped, order kept. */
export function parseList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
}
