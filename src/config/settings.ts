import { PATH_LAYOUTS, type PathLayout } from '../endpoints.js';
import {
  formatBytes,
  parseBytes,
  parseChoice,
  parseDuration,
  parseHttpUrl,
  parseInteger,
  parseList,
} from './values.js';

/**
 * Every setting of the exporter, in one table: the environment variable, the
 * matching flag, the default, the help text and the parser. `--help`, the
 * README's settings table and (later) the Helm chart's values are made from
 * it, so they cannot drift apart.
 */
export interface SettingDef<T> {
  env: string;
  /** `--flag`; absent for secrets, which come from the environment or a file only. */
  flag?: string;
  /** What the value looks like, for --help: DURATION, URL, ... */
  metavar: string;
  /** The default as a user would write it; absent when there is none. */
  default?: string;
  /** Shown instead of a default when the fallback is another setting. */
  defaultNote?: string;
  section: Section;
  help: string;
  secret?: boolean;
  parse(text: string): T;
}

export type Section = 'Mistral Admin API' | 'Refresh and freshness' | 'Limits' | 'HTTP server' | 'Logging';

export const SECTIONS: readonly Section[] = [
  'Mistral Admin API',
  'Refresh and freshness',
  'Limits',
  'HTTP server',
  'Logging',
];

export const DEFAULT_PORT = 10460;

/** Flags are the variable's name in kebab case without the MISTRAL_/MISTRAL_ADMIN_ prefix. */
function flagFor(env: string): string {
  return env.replace(/^MISTRAL_(ADMIN_)?/, '').toLowerCase().replace(/_/g, '-');
}

function def<T>(d: Omit<SettingDef<T>, 'flag'> & { noFlag?: boolean }): SettingDef<T> {
  const { noFlag, ...rest } = d;
  return noFlag ? rest : { ...rest, flag: flagFor(d.env) };
}

const MIN_INTERVAL_MS = 1000;

function interval(text: string): number {
  const ms = parseDuration(text);
  if (ms < MIN_INTERVAL_MS) throw new Error('must be at least 1s');
  return ms;
}

function positiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new Error('must be longer than 0s');
  return ms;
}

function intervalOverride(suffix: string, endpointPath: string): SettingDef<number> {
  return def({
    env: `REFRESH_INTERVAL_${suffix}`,
    metavar: 'DURATION',
    defaultNote: 'REFRESH_INTERVAL',
    section: 'Refresh and freshness',
    help: `How often \`${endpointPath}\` is read; wins over REFRESH_INTERVAL.`,
    parse: interval,
  });
}

export const SETTINGS = {
  apiKey: def<string>({
    env: 'MISTRAL_ADMIN_API_KEY',
    noFlag: true,
    metavar: 'KEY',
    section: 'Mistral Admin API',
    secret: true,
    help: 'Admin API key (environment only, never a flag). Required unless MISTRAL_ADMIN_API_KEY_FILE is set or --demo is given.',
    parse: (s) => s,
  }),
  apiKeyFile: def<string>({
    env: 'MISTRAL_ADMIN_API_KEY_FILE',
    metavar: 'PATH',
    section: 'Mistral Admin API',
    help: 'File holding the Admin API key (e.g. a mounted Kubernetes Secret); surrounding whitespace is ignored.',
    parse: (s) => s.trim(),
  }),
  apiUrl: def<string>({
    env: 'MISTRAL_ADMIN_API_URL',
    metavar: 'URL',
    default: 'https://console.mistral.ai/api/admin',
    section: 'Mistral Admin API',
    help: 'Base URL of the Admin API. https://api.mistral.ai/v1/admin is the other documented one.',
    parse: parseHttpUrl,
  }),
  pathLayout: def<PathLayout | 'auto'>({
    env: 'MISTRAL_ADMIN_API_PATH_LAYOUT',
    metavar: 'LAYOUT',
    default: 'auto',
    section: 'Mistral Admin API',
    help: `Which analytics paths to use: ${PATH_LAYOUTS.join(', ')}, or auto (try them in that order on 404 and keep the one that answers).`,
    parse: (s) => parseChoice(s, ['auto', ...PATH_LAYOUTS] as const),
  }),
  workspaceIds: def<string[]>({
    env: 'MISTRAL_WORKSPACE_IDS',
    metavar: 'ID,ID,...',
    section: 'Mistral Admin API',
    help: 'Workspaces to break `usage` down by (label workspace_id). Unset: organization-wide figures with no workspace_id label.',
    parse: parseList,
  }),
  refreshInterval: def<number>({
    env: 'REFRESH_INTERVAL',
    metavar: 'DURATION',
    default: '1m',
    section: 'Refresh and freshness',
    help: 'How often each endpoint is read in the background (jittered by up to 10%). Scrapes never call the API. At least 1s.',
    parse: interval,
  }),
  refreshIntervalUsage: intervalOverride('USAGE', 'usage'),
  refreshIntervalSpendLimit: intervalOverride('SPEND_LIMIT', 'spend-limit'),
  refreshIntervalRateLimit: intervalOverride('RATE_LIMIT', 'rate-limit'),
  maxStaleness: def<number>({
    env: 'MAX_STALENESS',
    metavar: 'DURATION',
    default: '1h',
    section: 'Refresh and freshness',
    help: "How long an endpoint's last good data is served while refreshes fail. Older data is withdrawn so that no alert acts on it. Must be longer than every refresh interval.",
    parse: positiveDuration,
  }),
  requestTimeout: def<number>({
    env: 'REQUEST_TIMEOUT',
    metavar: 'DURATION',
    default: '30s',
    section: 'Limits',
    help: 'Connect, response-headers and body-idle timeout of one HTTP request. A refresh, retries included, gives up after its interval (never less than this).',
    parse: positiveDuration,
  }),
  maxResponseSize: def<number>({
    env: 'MAX_RESPONSE_SIZE',
    metavar: 'SIZE',
    default: formatBytes(32 * 1024 ** 2),
    section: 'Limits',
    help: 'Largest Admin API answer read; a larger one fails that refresh.',
    parse: (s) => {
      const n = parseBytes(s);
      if (n < 1024) throw new Error('must be at least 1KiB');
      return n;
    },
  }),
  maxConcurrentRequests: def<number>({
    env: 'MAX_CONCURRENT_REQUESTS',
    metavar: 'N',
    default: '4',
    section: 'Limits',
    help: 'Most Admin API requests in flight at once, all endpoints and workspaces together.',
    parse: (s) => parseInteger(s, 1, 64),
  }),
  host: def<string>({
    env: 'HOST',
    metavar: 'ADDRESS',
    default: '0.0.0.0',
    section: 'HTTP server',
    help: 'Address to listen on (:: for every IPv6 and IPv4 address).',
    parse: (s) => {
      const t = s.trim();
      if (t.length === 0 || /\s/.test(t)) throw new Error('not an address');
      return t;
    },
  }),
  port: def<number>({
    env: 'PORT',
    metavar: 'PORT',
    default: String(DEFAULT_PORT),
    section: 'HTTP server',
    help: 'Port to listen on. 0 picks a free one (printed in the log).',
    parse: (s) => parseInteger(s, 0, 65535),
  }),
  logLevel: def<LogLevel>({
    env: 'LOG_LEVEL',
    metavar: 'LEVEL',
    default: 'info',
    section: 'Logging',
    help: 'One of fatal, error, warn, info, debug, trace, silent. Logs are JSON lines on standard output.',
    parse: (s) => parseChoice(s.toLowerCase(), LOG_LEVELS),
  }),
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends SettingDef<infer T> ? T : never;
};

/** The endpoints this release refreshes, each with the setting that overrides its interval. */
export const INTERVAL_OVERRIDES = {
  usage: 'refreshIntervalUsage',
  spend_limit: 'refreshIntervalSpendLimit',
  rate_limit: 'refreshIntervalRateLimit',
} as const satisfies Record<string, SettingKey>;

export type RefreshedEndpoint = keyof typeof INTERVAL_OVERRIDES;
