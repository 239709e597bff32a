import { API_ENDPOINTS, PATH_LAYOUTS, type ApiEndpoint, type PathLayout } from '../endpoints.js';
import { SERVICE_TIERS, type ServiceTier } from '../sources/usage.js';
import { DEFAULT_AUDIT_EVENT_TYPES } from '../sources/audit-events.js';
import { parseSeatPrice, type SeatPrice } from '../sources/users.js';
import { CATALOG, endpointOf } from '../sources/catalog.js';
import type { IntervalGroup } from '../sources/types.js';
import { formatBytes, parseBoolean, parseBytes, parseChoice, parseDuration, parseHttpUrl, parseInteger, parseList } from './values.js';

/**
 * Every setting of the exporter, in one table: the environment variable, the
 * matching flag, the default, the help text and the parser. `--help`, the
 * README's settings table and the Helm chart's values and schema are made
 * from it (each endpoint's interval setting from the catalog), so they
 * cannot drift apart.
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
  /**
   * Set by the Helm chart itself from values of its own (it mounts the file
   * the setting names): not a `config.*` value. Says which values to use instead.
   */
  chartOwned?: string;
  parse(text: string): T;
}

export type Section = 'Mistral Admin API' | 'Refresh and freshness' | 'Analytics' | 'Limits' | 'HTTP server' | 'Logging';

export const SECTIONS: readonly Section[] = ['Mistral Admin API', 'Refresh and freshness', 'Analytics', 'Limits', 'HTTP server', 'Logging'];

export const DEFAULT_PORT = 10460;

/** Flags are the variable's name in kebab case without the MISTRAL_/MISTRAL_ADMIN_ prefix. */
function flagFor(env: string): string {
  return env
    .replace(/^MISTRAL_(ADMIN_)?/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

function def<T>(d: Omit<SettingDef<T>, 'flag'> & { noFlag?: boolean; flagName?: string }): SettingDef<T> {
  const { noFlag, flagName, ...rest } = d;
  return noFlag ? rest : { ...rest, flag: flagName ?? flagFor(d.env) };
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

/** The setting an interval group falls back to. */
const GROUP_SETTING = { billing: 'refreshInterval', analytics: 'analyticsRefreshInterval' } as const satisfies Record<
  IntervalGroup,
  string
>;

type PascalCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Capitalize<Head>}${PascalCase<Tail>}` : Capitalize<S>;
/** The key of an endpoint's own interval setting, e.g. `refreshIntervalSpendLimit`. */
type IntervalKey<Id extends string> = `refreshInterval${PascalCase<Id>}`;

function intervalKey<Id extends ApiEndpoint>(id: Id): IntervalKey<Id> {
  return `refreshInterval${id
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}` as IntervalKey<Id>;
}

/** Each endpoint's own interval setting, `REFRESH_INTERVAL_<ID>`, which wins over its group's. */
function intervalOverrides(): { [Id in ApiEndpoint as IntervalKey<Id>]: SettingDef<number> } {
  const entries = CATALOG.map((e) => {
    const fallback = e.intervalGroup === 'billing' ? 'REFRESH_INTERVAL' : 'ANALYTICS_REFRESH_INTERVAL';
    const setting = def({
      env: `REFRESH_INTERVAL_${e.id.toUpperCase()}`,
      metavar: 'DURATION',
      defaultNote: fallback,
      section: 'Refresh and freshness',
      help: `How often \`${e.title}\` is read; wins over ${fallback}.`,
      parse: interval,
    });
    return [intervalKey(e.id), setting] as const;
  });
  return Object.fromEntries(entries) as { [Id in ApiEndpoint as IntervalKey<Id>]: SettingDef<number> };
}

const DAY_MS = 86_400_000;

/** An analytics window: its token as written (the `window` label) and its length. */
export interface AnalyticsWindow {
  label: string;
  ms: number;
  /** Whole UTC days: every analytics window is the last `days` complete UTC days. */
  days: number;
}

function parseWindows(text: string): AnalyticsWindow[] {
  const tokens = parseList(text);
  if (tokens.length === 0) throw new Error('needs at least one window, e.g. 1d,7d,30d');
  const windows = tokens.map((label) => {
    const ms = parseDuration(label);
    if (ms < DAY_MS || ms % DAY_MS !== 0) {
      throw new Error(`${label} is not a whole number of days (analytics windows are complete UTC days): use e.g. 1d, 7d, 30d`);
    }
    if (!/^[a-z0-9]+$/.test(label)) throw new Error(`${label}: write each window as one number and unit, e.g. 7d or 2w`);
    return { label, ms, days: ms / DAY_MS };
  });
  if (new Set(windows.map((w) => w.ms)).size !== windows.length) throw new Error('two windows have the same length');
  return windows.sort((a, b) => a.ms - b.ms);
}

/** Most audit event types: each has two series and is named in every request. */
const MAX_AUDIT_EVENT_TYPES = 100;

function parseAuditEventTypes(text: string): string[] {
  const types = [...new Set(parseList(text))];
  if (types.length === 0) throw new Error('needs at least one event type, e.g. api_key.rotate');
  if (types.length > MAX_AUDIT_EVENT_TYPES) throw new Error(`at most ${MAX_AUDIT_EVENT_TYPES} event types`);
  for (const t of types)
    if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(t)) throw new Error(`${t} is not an event type name, e.g. billing.monthly_limit.updated`);
  return types;
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
    help: 'File holding the Admin API key (e.g. a mounted Kubernetes Secret); surrounding whitespace is ignored. Re-read when it changes: a rotated key is used from the next request on, without a restart.',
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
  workspaceIds: def<string[] | 'all'>({
    env: 'MISTRAL_WORKSPACE_IDS',
    metavar: 'ID,ID,...',
    section: 'Mistral Admin API',
    help: 'Workspaces to break `usage` and Vibe Code by_workspace down by (label workspace_id), each read once per refresh. all: every workspace GET workspaces lists (not archived), followed as they come and go (at most MAX_WORKSPACES; needs the workspaces endpoint). Unset: organization-wide figures with no workspace_id label.',
    parse: (s) => {
      const ids = parseList(s);
      if (!ids.some((id) => id.toLowerCase() === 'all')) return ids;
      if (ids.length > 1) throw new Error('all follows every workspace: list ids, or all alone');
      return 'all';
    },
  }),
  usageAssumedServiceTier: def<ServiceTier>({
    env: 'USAGE_ASSUMED_SERVICE_TIER',
    metavar: 'TIER',
    section: 'Mistral Admin API',
    help: 'The service tier (standard or priority) that `usage` entries naming none are billed at, to pick their unit price where the prices differ by tier. Unset: such entries are counted in mistral_usage_ambiguous_price_entries and their cost left out. An organization without a Priority Tier entitlement sets standard.',
    parse: (s) => parseChoice(s.trim().toLowerCase(), SERVICE_TIERS),
  }),
  endpoints: def<ApiEndpoint[]>({
    env: 'MISTRAL_ENDPOINTS',
    metavar: 'NAME,...',
    default: 'all',
    section: 'Mistral Admin API',
    help: `The Admin API endpoints to read: all, or some of ${API_ENDPOINTS.join(', ')}. One left out has no series and no mistral_up (e.g. the le Chat ones for an organization without le Chat).`,
    parse: (s) => {
      const names = parseList(s);
      if (names.length === 1 && names[0] === 'all') return [...API_ENDPOINTS];
      if (names.length === 0) throw new Error('needs at least one endpoint, or all');
      for (const n of names) parseChoice(n, API_ENDPOINTS);
      return API_ENDPOINTS.filter((e) => names.includes(e));
    },
  }),
  auditEventTypes: def<string[]>({
    env: 'AUDIT_EVENT_TYPES',
    metavar: 'TYPE,...',
    default: DEFAULT_AUDIT_EVENT_TYPES.join(','),
    section: 'Mistral Admin API',
    help: "The audit log event types (the API's AuditLogEventType names) with series of their own: the only ones asked for. The default covers limits, keys, members, roles and workspaces.",
    parse: parseAuditEventTypes,
  }),
  refreshInterval: def<number>({
    env: 'REFRESH_INTERVAL',
    metavar: 'DURATION',
    default: '1m',
    section: 'Refresh and freshness',
    help: 'How often each endpoint is read in the background (jittered by up to 10%). Scrapes never call the API. At least 1s.',
    parse: interval,
  }),
  analyticsRefreshInterval: def<number>({
    env: 'ANALYTICS_REFRESH_INTERVAL',
    metavar: 'DURATION',
    default: '10m',
    section: 'Refresh and freshness',
    help: 'How often the le Chat (Vibe Work) and Vibe Code analytics endpoints, the API keys, and the members and invitations are read (their figures move slowly). At least 1s.',
    parse: interval,
  }),
  ...intervalOverrides(),
  maxStaleness: def<number>({
    env: 'MAX_STALENESS',
    metavar: 'DURATION',
    default: '1h',
    section: 'Refresh and freshness',
    help: "How long an endpoint's last good data is served while refreshes fail. Older data is withdrawn so that no alert acts on it. Must be longer than every refresh interval.",
    parse: positiveDuration,
  }),
  analyticsWindows: def<AnalyticsWindow[]>({
    env: 'ANALYTICS_WINDOWS',
    metavar: 'WINDOW,...',
    default: '1d,7d,30d',
    section: 'Analytics',
    help: 'Windows of the le Chat and Vibe Code figures (the window label, as written here): the last N complete UTC days, 1d being yesterday. Whole days only.',
    parse: parseWindows,
  }),
  lechatAgentLimit: def<number>({
    env: 'LECHAT_AGENT_LIMIT',
    metavar: 'N',
    default: '100',
    section: 'Analytics',
    help: 'Most le Chat agents with series of their own: the busiest on the longest window, the same agents in every window. What is left out is counted in mistral_exporter_series_dropped.',
    parse: (s) => parseInteger(s, 0, 100_000),
  }),
  lechatUserMetrics: def<boolean>({
    env: 'LECHAT_USER_METRICS',
    metavar: 'BOOL',
    default: 'false',
    section: 'Analytics',
    help: 'Per-user le Chat series (user_id label): opt-in, as they can be many and name people.',
    parse: parseBoolean,
  }),
  lechatUserLimit: def<number>({
    env: 'LECHAT_USER_LIMIT',
    metavar: 'N',
    default: '10000',
    section: 'Analytics',
    help: 'Most users with per-user series, the most active on the longest window first.',
    parse: (s) => parseInteger(s, 0, 1_000_000),
  }),
  lechatUserIdHashKey: def<string>({
    env: 'LECHAT_USER_ID_HASH_KEY',
    noFlag: true,
    metavar: 'KEY',
    section: 'Analytics',
    secret: true,
    help: 'When set, each user_id is replaced by a keyed hash (HMAC-SHA256, 16 hex digits): stable for one key, unlinkable without it. Environment only.',
    parse: (s) => s,
  }),
  lechatUserIdHashKeyFile: def<string>({
    env: 'LECHAT_USER_ID_HASH_KEY_FILE',
    metavar: 'PATH',
    section: 'Analytics',
    help: 'File holding LECHAT_USER_ID_HASH_KEY.',
    parse: (s) => s.trim(),
  }),
  vibeToolLimit: def<number>({
    env: 'VIBE_TOOL_LIMIT',
    metavar: 'N',
    default: '50',
    section: 'Analytics',
    help: 'Most Vibe Code tools with series of their own in mistral_vibe_tool_calls_by_tool, the most called on the longest window first.',
    parse: (s) => parseInteger(s, 0, 100_000),
  }),
  seatIdleDays: def<number>({
    env: 'SEAT_IDLE_DAYS',
    metavar: 'N',
    default: '30',
    section: 'Analytics',
    help: 'A le Chat seat is idle (mistral_seats_idle) when its member sent no le Chat message in this many complete UTC days. Needs an ANALYTICS_WINDOWS window at least this long.',
    parse: (s) => parseInteger(s, 1, 3660),
  }),
  seatPriceChat: def<SeatPrice>({
    env: 'SEAT_PRICE_CHAT',
    metavar: 'PRICE',
    section: 'Analytics',
    help: 'Monthly price of one le Chat seat, an amount and an ISO 4217 currency code, e.g. "14.99 EUR": turns idle seats into mistral_seats_idle_cost. Unset: no cost series.',
    parse: parseSeatPrice,
  }),
  apiKeysLimit: def<number>({
    env: 'API_KEYS_LIMIT',
    metavar: 'N',
    default: '1000',
    section: 'Limits',
    help: 'Most API keys with series of their own (expiry, last use, creation): those expiring soonest first, then those that never expire, then the expired. What is left out is counted in mistral_exporter_series_dropped; mistral_api_keys counts every key.',
    parse: (s) => parseInteger(s, 0, 100_000),
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
  maxModels: def<number>({
    env: 'MAX_MODELS',
    metavar: 'N',
    default: '500',
    section: 'Limits',
    help: 'Most models with series of their own in the `usage` and `rate-limit` metrics, against an answer naming thousands. `usage` keeps those with the highest month-to-date cost and sums the cost and quantities of the rest into model="other" (fine-tuning storage likewise, by size), so totals stay whole; `rate-limit` keeps the first by name. What the cap folds or leaves out is counted in mistral_exporter_series_dropped and logged once.',
    parse: (s) => parseInteger(s, 1, 100_000),
  }),
  maxWorkspaces: def<number>({
    env: 'MAX_WORKSPACES',
    metavar: 'N',
    default: '100',
    section: 'Limits',
    help: 'With MISTRAL_WORKSPACE_IDS=all, most workspaces followed: those with a monthly spend limit first, then in the order GET workspaces lists them. Each costs a `usage` request per REFRESH_INTERVAL (one more per zone when the prices name several) and a Vibe Code by_workspace request per ANALYTICS_REFRESH_INTERVAL. Workspaces left out are logged once; those with a limit are counted in mistral_exporter_series_dropped.',
    parse: (s) => parseInteger(s, 1, 10_000),
  }),
  maxConcurrentRequests: def<number>({
    env: 'MAX_CONCURRENT_REQUESTS',
    metavar: 'N',
    default: '4',
    section: 'Limits',
    help: 'Most Admin API requests in flight at once, all endpoints and workspaces together.',
    parse: (s) => parseInteger(s, 1, 64),
  }),
  httpRequestTimeout: def<number>({
    env: 'HTTP_REQUEST_TIMEOUT',
    metavar: 'DURATION',
    default: '10s',
    section: 'HTTP server',
    help: 'Longest a client may take to send one request, headers included; a slower one gets 408 and its connection is closed.',
    parse: positiveDuration,
  }),
  httpKeepAliveTimeout: def<number>({
    env: 'HTTP_KEEP_ALIVE_TIMEOUT',
    metavar: 'DURATION',
    default: '75s',
    section: 'HTTP server',
    help: "How long an idle connection is kept open for the client's next request; longer than a 1m scrape interval, so that Prometheus reuses its connection.",
    parse: positiveDuration,
  }),
  httpIdleTimeout: def<number>({
    env: 'HTTP_IDLE_TIMEOUT',
    metavar: 'DURATION',
    default: '30s',
    section: 'HTTP server',
    help: 'A connection on which nothing moves for this long while a request of it is being answered (a client that does not read its answer) is closed.',
    parse: positiveDuration,
  }),
  httpMaxRequestsPerConnection: def<number>({
    env: 'HTTP_MAX_REQUESTS_PER_CONNECTION',
    metavar: 'N',
    default: '4',
    section: 'HTTP server',
    help: 'Most requests one connection may have waiting for their answers (HTTP/1.1 pipelining; Prometheus sends one at a time). The next one is answered 503 and the connection closed after it.',
    parse: (s) => parseInteger(s, 1, 1000),
  }),
  httpMaxMetricsInFlight: def<number>({
    env: 'HTTP_MAX_METRICS_IN_FLIGHT',
    metavar: 'N',
    default: '16',
    section: 'HTTP server',
    help: '/metrics answers being made or sent at once, all connections together; beyond it /metrics answers 503 at once (/-/healthy and /-/ready still answer).',
    parse: (s) => parseInteger(s, 1, 10_000),
  }),
  httpMaxConnections: def<number>({
    env: 'HTTP_MAX_CONNECTIONS',
    metavar: 'N',
    default: '256',
    section: 'HTTP server',
    help: 'Most client connections open at once; one more is closed as soon as it opens. Keeps file descriptors for the Admin API client whatever clients of the port do (each idle one is closed after HTTP_KEEP_ALIVE_TIMEOUT anyway).',
    parse: (s) => parseInteger(s, 1, 100_000),
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
  webConfigFile: def<string>({
    env: 'WEB_CONFIG_FILE',
    // The exporter-toolkit's flag, which Prometheus users know.
    flagName: 'web.config.file',
    metavar: 'PATH',
    section: 'HTTP server',
    help: "Web config file in the Prometheus exporter-toolkit's format: TLS (tls_server_config, client certificates included) and basic authentication (basic_auth_users, bcrypt hashes) on this listener. Re-read when it or the files it names change, without a restart. See the README's TLS and authentication.",
    chartOwned: 'the chart writes the web config and mounts it from the values under web (web.tls, web.basicAuth, web.existingSecret)',
    parse: (s) => {
      const t = s.trim();
      if (t === '') throw new Error('give a file');
      return t;
    },
  }),
  webBearerTokenFile: def<string>({
    env: 'WEB_BEARER_TOKEN_FILE',
    metavar: 'PATH',
    section: 'HTTP server',
    help: 'File holding a token that this listener also accepts as `Authorization: Bearer <token>` (Prometheus: authorization.credentials_file), beside or instead of basic_auth_users. Re-read when it changes, like the web config.',
    chartOwned: 'the chart mounts it from web.bearerToken.existingSecret',
    parse: (s) => {
      const t = s.trim();
      if (t === '') throw new Error('give a file');
      return t;
    },
  }),
  webOpenProbes: def<boolean>({
    env: 'WEB_OPEN_PROBES',
    metavar: 'BOOL',
    default: 'false',
    section: 'HTTP server',
    help: 'With a web config or bearer token: /-/healthy and /-/ready answer without a password, token or client certificate (for Kubernetes probes); everything else still needs them.',
    chartOwned: 'the chart sets it from web.openProbes',
    parse: parseBoolean,
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

/** The two settings an endpoint's interval comes from: its own, else its group's. */
export function intervalSettingKeys(id: ApiEndpoint): readonly [SettingKey, SettingKey] {
  return [intervalKey(id), GROUP_SETTING[endpointOf(id).intervalGroup]];
}
