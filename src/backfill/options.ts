/**
 * The flags of `mistral-admin-exporter backfill` (the Admin API settings are
 * the exporter's own): which months, where to write, how fast to ask.
 * Pure: text in, options out; a mistake is an Error whose message names the
 * flag (the CLI turns it into a ConfigError).
 */

/** A UTC calendar month. */
export interface YearMonth {
  year: number;
  /** 1-12. */
  month: number;
}

export interface BackfillOptions {
  from: YearMonth;
  to: YearMonth;
  /** The directory the OpenMetrics files are written to (created if missing). */
  output: string;
  /** Most requests started per second (BACKFILL_REQUESTS_PER_SECOND). */
  requestsPerSecond: number;
  /** With --config.file, the organization read (--org): every sample carries it as `org`, as its live series do. */
  org?: string;
}

export const DEFAULT_REQUESTS_PER_SECOND = 3;
export const REQUESTS_PER_SECOND_ENV = 'BACKFILL_REQUESTS_PER_SECOND';

/** The flags only backfill takes, as node's parseArgs declares them. */
export const BACKFILL_FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  output: { type: 'string' },
  'requests-per-second': { type: 'string' },
} as const;

/** --help's lines about backfill. */
export const BACKFILL_HELP = [
  '  mistral-admin-exporter backfill --from YYYY-MM --to YYYY-MM --output DIR [flags]',
  '                                          write past months as OpenMetrics with timestamps',
  '                                          for `promtool tsdb create-blocks-from openmetrics`',
];

export const BACKFILL_HELP_DETAILS = [
  'backfill reads the complete UTC months from --from to --to (both included; the',
  "current month is the live exporter's) from the Admin API, with the same settings",
  '(key, URL, MISTRAL_WORKSPACE_IDS, MISTRAL_ENDPOINTS, USAGE_ASSUMED_SERVICE_TIER,',
  'MAX_MODELS, VIBE_TOOL_LIMIT) and parsers as a start: usage (per workspace when',
  'configured) as month-to-date values at the end of each day, and le Chat by_time /',
  'Vibe Code daily figures as window="1d" values, one sample per day per series, under',
  'the live metrics\' names (docs/metrics.md, "Backfilled history"). It writes one file',
  "per month, DIR/YYYY-MM.om, whole or not at all (each endpoint's part waits in",
  'DIR/.parts/ until the month is complete): run it again after an interruption and',
  'it asks only for what is missing. Progress goes to stderr. Then, for each file:',
  '  promtool tsdb create-blocks-from openmetrics DIR/FILE.om BLOCKS_DIR',
  "and move BLOCKS_DIR's blocks into Prometheus's --storage.tsdb.path (see README).",
  '  --from YYYY-MM, --to YYYY-MM   the first and last month',
  '  --output DIR                   where the files go',
  `  --requests-per-second N        env ${REQUESTS_PER_SECOND_ENV}; default ${DEFAULT_REQUESTS_PER_SECOND}; most requests started per`,
  '                                 second (the Admin API does not publish its rate limit)',
  '  --org NAME                     with --config.file: the organization to read; its samples',
  '                                 carry org="NAME", as its live series do',
];

const MONTH = /^(\d{4})-(\d{2})$/;

export function parseYearMonth(text: string, flag: string): YearMonth {
  const m = MONTH.exec(text.trim());
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  if (!m || month < 1 || month > 12 || year < 2000)
    throw new Error(`--${flag}=${JSON.stringify(text)}: give a month as YYYY-MM, e.g. 2026-01`);
  return { year, month };
}

export function formatYearMonth(m: YearMonth): string {
  return `${m.year}-${String(m.month).padStart(2, '0')}`;
}

export function compareYearMonth(a: YearMonth, b: YearMonth): number {
  return a.year * 12 + a.month - (b.year * 12 + b.month);
}

/** The months from `from` to `to`, both included, oldest first. */
export function monthsBetween(from: YearMonth, to: YearMonth): YearMonth[] {
  const out: YearMonth[] = [];
  for (let i = from.year * 12 + from.month - 1; i <= to.year * 12 + to.month - 1; i++)
    out.push({ year: Math.floor(i / 12), month: (i % 12) + 1 });
  return out;
}

type Flags = Readonly<Record<string, string | boolean | undefined>>;

/** The names of backfill's own flags that were given (for refusing them on another command). */
export function backfillFlagsGiven(flags: Flags): string[] {
  return Object.keys(BACKFILL_FLAGS).filter((f) => flags[f] !== undefined);
}

/** Reads backfill's flags (and BACKFILL_REQUESTS_PER_SECOND). */
export function readBackfillOptions(flags: Flags, env: Readonly<Record<string, string | undefined>>): BackfillOptions {
  const text = (flag: keyof typeof BACKFILL_FLAGS): string | undefined => {
    const v = flags[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const fromText = text('from');
  const toText = text('to');
  const output = text('output');
  if (fromText === undefined || toText === undefined || output === undefined || output.trim() === '') {
    throw new Error('backfill needs --from YYYY-MM, --to YYYY-MM and --output DIR');
  }
  const from = parseYearMonth(fromText, 'from');
  const to = parseYearMonth(toText, 'to');
  if (compareYearMonth(from, to) > 0) throw new Error(`--from=${fromText} is after --to=${toText}`);

  const rateFlag = text('requests-per-second');
  const rateText = rateFlag ?? (env[REQUESTS_PER_SECOND_ENV]?.trim() || undefined);
  const origin = rateFlag !== undefined ? '--requests-per-second' : REQUESTS_PER_SECOND_ENV;
  let requestsPerSecond = DEFAULT_REQUESTS_PER_SECOND;
  if (rateText !== undefined) {
    requestsPerSecond = Number(rateText);
    if (!/^\d+(\.\d+)?$/.test(rateText.trim()) || !(requestsPerSecond > 0)) {
      throw new Error(`${origin}=${JSON.stringify(rateText)}: give a number of requests per second above 0, e.g. 3 or 0.5`);
    }
  }
  return { from, to, output, requestsPerSecond };
}
