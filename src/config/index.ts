import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  BACKFILL_FLAGS,
  BACKFILL_HELP,
  BACKFILL_HELP_DETAILS,
  backfillFlagsGiven,
  readBackfillOptions,
  type BackfillOptions,
} from '../backfill/options.js';
import { API_ENDPOINTS, type ApiEndpoint, type PathLayout } from '../endpoints.js';
import { FOCUS_HELP_TEXT, FOCUS_HELP_USAGE } from '../focus/help.js';
import { headerValueProblem, Secret } from '../secret.js';
import { CATALOG } from '../sources/catalog.js';
import { CHAT, type SeatOptions } from '../sources/users.js';
import {
  intervalSettingKeys,
  SECTIONS,
  SETTINGS,
  type AnalyticsWindow,
  type LogLevel,
  type SettingDef,
  type SettingKey,
  type SettingValues,
} from './settings.js';
import { type OrganizationEntry, parseOrganizations } from './organizations.js';
import { formatDuration } from './values.js';

export { DEFAULT_PORT, type AnalyticsWindow } from './settings.js';

export interface Config {
  /** Absent only in demo mode, where the simulator needs no key. */
  apiKey: Secret | undefined;
  /** The file the key was read from (re-read when it changes); undefined when it came from the environment. */
  apiKeyFile: string | undefined;
  apiUrl: string;
  pathLayout: PathLayout | 'auto';
  /** The endpoints read, in the catalog's order. */
  endpoints: ApiEndpoint[];
  /** MISTRAL_WORKSPACE_IDS: the workspaces listed, or all those GET workspaces lists (followed, at most maxWorkspaces). */
  workspaceIds: string[] | 'all';
  /** MAX_WORKSPACES: most workspaces followed with `all`. */
  maxWorkspaces: number;
  /** Each endpoint's refresh interval (every endpoint, read or not). */
  refreshIntervalsMs: Record<ApiEndpoint, number>;
  analytics: AnalyticsConfig;
  /** USAGE_ASSUMED_SERVICE_TIER; undefined: unknown. */
  usageAssumedServiceTier: 'standard' | 'priority' | undefined;
  /** The audit log event types with series (AUDIT_EVENT_TYPES). */
  auditEventTypes: string[];
  /** API_KEYS_LIMIT. */
  apiKeysLimit: number;
  /** Most models with series of their own in `usage` and `rate-limit` (MAX_MODELS). */
  maxModels: number;
  /** SEAT_IDLE_DAYS and SEAT_PRICE_<PRODUCT>. */
  seats: SeatOptions;
  maxStalenessMs: number;
  requestTimeoutMs: number;
  maxResponseBytes: number;
  maxConcurrentRequests: number;
  server: ServerLimits;
  host: string;
  port: number;
  /** TLS and authentication of the listener (web-config.ts); undefined: plain HTTP, open to all. */
  webConfigFile: string | undefined;
  /** A token the listener accepts as `Authorization: Bearer` (web-listener.ts). */
  webBearerTokenFile: string | undefined;
  webOpenProbes: boolean;
  logLevel: LogLevel;
  demo: boolean;
  /** With --demo: the simulated organization's answers, `typical` or every odd shape the spec allows (`odd-shapes`). */
  demoProfile: DemoProfile;
}

/** What one client can hold of the HTTP server (see the HTTP_* settings). */
export interface ServerLimits {
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  maxMetricsInFlight: number;
  maxConnections: number;
}

export interface AnalyticsConfig {
  /** Shortest first. */
  windows: AnalyticsWindow[];
  agentLimit: number;
  userMetrics: boolean;
  userLimit: number;
  /** When set, user ids are replaced by a keyed hash. */
  userIdHashKey: Secret | undefined;
  toolLimit: number;
}

/** One organization of `--config.file`: its name (the `org` label) and its whole configuration. */
export interface Organization {
  name: string;
  config: Config;
}

export type Command =
  | {
      kind: 'run';
      /** With `organizations`, the process's own (listener, logs), with no key. */
      config: Config;
      /** Those of `--config.file`, each with its own configuration. */
      organizations?: Organization[];
      /** The one organization `--org` picked from the file (focus): `config` is then its own. */
      org?: string;
    }
  /** Call each endpoint once, print what was read, exit; `saveAnswers`: the directory for the anonymized answers; `organizations` as for run. */
  | { kind: 'check'; config: Config; saveAnswers: string | undefined; organizations?: Organization[] }
  /** Write past months as OpenMetrics with timestamps (src/backfill/). */
  | { kind: 'backfill'; config: Config; backfill: BackfillOptions }
  | { kind: 'help' }
  | { kind: 'version' };

/** The commands given as the first argument; none is `run`. */
const COMMANDS = ['check', 'backfill'] as const;

/** A configuration mistake: the message is one line saying what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
  /** A command of one organization (focus): `--org` picks it from `--config.file`. */
  oneOrganization?: boolean;
}

const SETTING_ENTRIES = Object.entries(SETTINGS) as Array<[SettingKey, SettingDef<unknown>]>;

/**
 * Reads flags (which win), then the environment, then defaults, and checks
 * everything once. Throws ConfigError with one line naming the setting.
 */
export function loadConfig(sources: ConfigSources): Command {
  const { values: flags, positionals } = parseFlags(sources.argv);
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const [command, extra] = positionals;
  if (command !== undefined && !(COMMANDS as readonly string[]).includes(command)) {
    throw new ConfigError(`unknown command ${JSON.stringify(command)}: the commands are ${[...COMMANDS, 'focus'].join(', ')} (see --help)`);
  }
  const backfillFlags = backfillFlagsGiven(flags);
  if (command !== 'backfill' && backfillFlags.length > 0) throw new ConfigError(`--${backfillFlags[0]} is only for backfill (see --help)`);
  let backfill: BackfillOptions | undefined;
  try {
    backfill = command === 'backfill' ? readBackfillOptions(flags, sources.env) : undefined;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (extra !== undefined) throw new ConfigError(`unexpected argument ${JSON.stringify(extra)} after ${command} (see --help)`);
  const saveAnswers = flags['save-answers'];
  if (typeof saveAnswers === 'string' && command !== 'check') {
    throw new ConfigError('--save-answers is only for check: mistral-admin-exporter check --save-answers DIR');
  }
  if (saveAnswers === '') throw new ConfigError('--save-answers: give a directory');

  const raw: RawSetting = (key) => {
    const setting = SETTINGS[key] as SettingDef<unknown>;
    const fromFlag = setting.flag === undefined ? undefined : flags[setting.flag];
    if (typeof fromFlag === 'string') return { text: fromFlag, origin: `--${setting.flag}` };
    const fromEnv = sources.env[setting.env];
    if (fromEnv !== undefined && (fromEnv.trim() !== '' || setting.secret)) return { text: fromEnv, origin: setting.env };
    if (setting.default !== undefined) return { text: setting.default, origin: `${setting.env} (default)` };
    return undefined;
  };
  const demo = flags.demo === true;
  const build: BuildContext = {
    demo,
    demoProfile: readDemoProfile(flags['demo-profile'], demo),
    readFile: sources.readFile ?? ((p: string) => readFileSync(p, 'utf8')),
  };
  const configFile = readConfigFileSetting(flags, sources.env);
  let config: Config;
  let organizations: Organization[] | undefined;
  if (configFile === undefined) {
    if (flags.org !== undefined) throw new ConfigError('--org picks an organization of --config.file: give the file too (see --help)');
    config = buildConfig(raw, build, false);
  } else {
    if (command === 'backfill' && typeof flags.org !== 'string') {
      throw new ConfigError(`${configFile.origin}: backfill reads one organization: name it with --org`);
    }
    for (const key of ['apiKey', 'apiKeyFile'] as const) {
      const given = raw(key);
      if (given !== undefined) {
        throw new ConfigError(`${given.origin} is set with ${configFile.origin}: each organization names its key in the file; unset it`);
      }
    }
    config = buildConfig(raw, build, true);
    organizations = readOrganizations(configFile.path, raw, build);
    const name = flags.org;
    if (typeof name === 'string') {
      const chosen = organizations.find((o) => o.name === name);
      if (chosen === undefined) {
        throw new ConfigError(
          `--org=${JSON.stringify(name)}: no such organization in ${configFile.path} (${organizations.map((o) => o.name).join(', ')})`,
        );
      }
      if (command !== 'backfill' && !sources.oneOrganization) throw new ConfigError('--org is only for backfill and focus (see --help)');
      config = chosen.config;
      organizations = undefined;
      if (backfill !== undefined) backfill = { ...backfill, org: name };
    }
  }
  if (command === 'check') {
    return {
      kind: 'check',
      config,
      saveAnswers: typeof saveAnswers === 'string' ? saveAnswers : undefined,
      ...(organizations === undefined ? {} : { organizations }),
    };
  }
  if (backfill !== undefined) return { kind: 'backfill', config, backfill };
  if (organizations !== undefined) return { kind: 'run', config, organizations };
  return typeof flags.org === 'string' ? { kind: 'run', config, org: flags.org } : { kind: 'run', config };
}

/** A setting's text and where it came from (for messages), or undefined when it has none. */
type RawSetting = (key: SettingKey) => { text: string; origin: string } | undefined;

interface BuildContext {
  demo: boolean;
  demoProfile: DemoProfile;
  readFile: (path: string) => string;
}

/** `--config.file` (or CONFIG_FILE): the file listing several organizations. */
function readConfigFileSetting(flags: FlagValues, env: ConfigSources['env']): { path: string; origin: string } | undefined {
  const flag = flags['config.file'];
  if (typeof flag === 'string') {
    if (flag.trim() === '') throw new ConfigError('--config.file: give a file');
    return { path: flag, origin: '--config.file' };
  }
  const fromEnv = env.CONFIG_FILE;
  if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
  return { path: fromEnv, origin: 'CONFIG_FILE' };
}

/** Each organization of the file: its entry's settings over the flags, the environment and the defaults. */
function readOrganizations(path: string, raw: RawSetting, build: BuildContext): Organization[] {
  let text: string;
  try {
    text = build.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`--config.file=${JSON.stringify(path)}: cannot read the file (${code ?? (err as Error).message})`);
  }
  let entries: OrganizationEntry[];
  try {
    entries = parseOrganizations(text, path);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return entries.map((entry) => {
    const own: RawSetting = (key) => {
      const env = (SETTINGS[key] as SettingDef<unknown>).env;
      const given = entry.settings.get(env);
      return given === undefined ? raw(key) : { text: given.text, origin: `${given.at}: ${env}` };
    };
    try {
      return { name: entry.name, config: buildConfig(own, build, false) };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // A message about a line of the file says where it is; one about the environment or a default says which entry it concerns.
      const where = err.message.startsWith(`${path}:`) ? '' : ` (${entry.at})`;
      throw new ConfigError(`organization ${JSON.stringify(entry.name)}${where}: ${err.message}`);
    }
  });
}

/**
 * One organization's configuration from its settings' texts, checked.
 * `keyless`: the process's own configuration beside a config file, which
 * holds no key (each organization has its own).
 */
function buildConfig(raw: RawSetting, build: BuildContext, keyless: boolean): Config {
  const { demo, demoProfile, readFile } = build;
  const parsed: Partial<Record<SettingKey, unknown>> = {};
  for (const [key, setting] of SETTING_ENTRIES) {
    const value = raw(key);
    if (value === undefined) continue;
    try {
      parsed[key] = setting.parse(value.text);
    } catch (err) {
      const shown = setting.secret ? '' : `=${JSON.stringify(value.text)}`;
      throw new ConfigError(`${value.origin}${shown}: ${(err as Error).message}`);
    }
  }
  const v = parsed as Partial<SettingValues>;
  const refreshIntervalsMs = Object.fromEntries(
    API_ENDPOINTS.map((endpoint) => {
      const [own, group] = intervalSettingKeys(endpoint);
      return [endpoint, (v[own] as number | undefined) ?? (v[group] as number)];
    }),
  ) as Record<ApiEndpoint, number>;
  const endpoints = v.endpoints as ApiEndpoint[];

  const maxStalenessMs = v.maxStaleness as number;
  const [slowest, slowestMs] = endpoints.map((e) => [e, refreshIntervalsMs[e]] as const).sort((a, b) => b[1] - a[1])[0] as [string, number];
  if (maxStalenessMs <= slowestMs) {
    throw new ConfigError(
      `MAX_STALENESS=${formatDuration(maxStalenessMs)}: must be longer than the longest refresh interval ` +
        `(${formatDuration(slowestMs)}, for ${slowest}), or data would be withdrawn between two good refreshes`,
    );
  }

  if (v.workspaceIds === 'all' && !endpoints.includes('workspaces')) {
    throw new ConfigError(
      'MISTRAL_WORKSPACE_IDS=all follows the workspaces GET workspaces lists: add workspaces to MISTRAL_ENDPOINTS, or list the workspace ids',
    );
  }

  const config: Config = {
    apiKey: demo || keyless ? undefined : readSecret('MISTRAL_ADMIN_API_KEY', v.apiKey, v.apiKeyFile, readFile, true),
    apiKeyFile: demo || keyless ? undefined : v.apiKeyFile,
    apiUrl: v.apiUrl as string,
    pathLayout: v.pathLayout as PathLayout | 'auto',
    endpoints,
    workspaceIds: v.workspaceIds ?? [],
    maxWorkspaces: v.maxWorkspaces as number,
    refreshIntervalsMs,
    analytics: {
      windows: v.analyticsWindows as AnalyticsWindow[],
      agentLimit: v.lechatAgentLimit as number,
      userMetrics: v.lechatUserMetrics as boolean,
      userLimit: v.lechatUserLimit as number,
      userIdHashKey: readSecret('LECHAT_USER_ID_HASH_KEY', v.lechatUserIdHashKey, v.lechatUserIdHashKeyFile, readFile, false),
      toolLimit: v.vibeToolLimit as number,
    },
    usageAssumedServiceTier: v.usageAssumedServiceTier as 'standard' | 'priority' | undefined,
    auditEventTypes: v.auditEventTypes as string[],
    apiKeysLimit: v.apiKeysLimit as number,
    maxModels: v.maxModels as number,
    seats: { idleDays: v.seatIdleDays as number, prices: v.seatPriceChat === undefined ? {} : { [CHAT]: v.seatPriceChat } },
    maxStalenessMs,
    requestTimeoutMs: v.requestTimeout as number,
    maxResponseBytes: v.maxResponseSize as number,
    maxConcurrentRequests: v.maxConcurrentRequests as number,
    server: {
      requestTimeoutMs: v.httpRequestTimeout as number,
      keepAliveTimeoutMs: v.httpKeepAliveTimeout as number,
      idleTimeoutMs: v.httpIdleTimeout as number,
      maxRequestsPerConnection: v.httpMaxRequestsPerConnection as number,
      maxMetricsInFlight: v.httpMaxMetricsInFlight as number,
      maxConnections: v.httpMaxConnections as number,
    },
    host: v.host as string,
    port: v.port as number,
    webConfigFile: v.webConfigFile,
    webBearerTokenFile: v.webBearerTokenFile,
    webOpenProbes: v.webOpenProbes as boolean,
    logLevel: v.logLevel as LogLevel,
    demo,
    demoProfile,
  };
  const headerProblem = config.apiKey === undefined ? undefined : headerValueProblem(config.apiKey.reveal());
  if (headerProblem !== undefined) {
    const origin = v.apiKeyFile === undefined ? 'MISTRAL_ADMIN_API_KEY' : `MISTRAL_ADMIN_API_KEY_FILE=${JSON.stringify(v.apiKeyFile)}`;
    throw new ConfigError(`${origin}: the key cannot be sent in an HTTP header: ${headerProblem}; check how it was copied`);
  }
  return config;
}

/**
 * A secret from its variable or its `_FILE`. `required`: absent is an error
 * (the admin key); otherwise absent is undefined (the user-id hash key).
 * Set but empty is always an error: a mis-mounted Secret must not pass.
 */
function readSecret(
  name: string,
  fromEnv: string | undefined,
  file: string | undefined,
  readFile: (path: string) => string,
  required: true,
): Secret;
function readSecret(
  name: string,
  fromEnv: string | undefined,
  file: string | undefined,
  readFile: (path: string) => string,
  required: false,
): Secret | undefined;
function readSecret(
  name: string,
  fromEnv: string | undefined,
  file: string | undefined,
  readFile: (path: string) => string,
  required: boolean,
): Secret | undefined {
  if (fromEnv !== undefined && file !== undefined) {
    throw new ConfigError(`${name} and ${name}_FILE are both set: keep one`);
  }
  let value: string;
  let origin: string;
  if (file !== undefined) {
    origin = `${name}_FILE=${JSON.stringify(file)}`;
    try {
      value = readFile(file).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${origin}: cannot read the file (${code ?? (err as Error).message})`);
    }
    if (value === '') throw new ConfigError(`${origin}: the file is empty; is the Secret mounted?`);
  } else if (fromEnv !== undefined) {
    origin = name;
    value = fromEnv.trim();
    if (value === '') throw new ConfigError(`${name} is set but empty; is the Secret mounted?`);
  } else if (required) {
    throw new ConfigError(
      `${name} is not set: set it, or ${name}_FILE to a file holding it (to try the exporter without a key, run it with --demo)`,
    );
  } else {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new ConfigError(`${origin}: the value contains spaces or control characters; check how it was copied`);
  }
  return new Secret(value);
}

type FlagValues = Record<string, string | boolean | undefined>;

export const DEMO_PROFILES = ['typical', 'odd-shapes'] as const;
export type DemoProfile = (typeof DEMO_PROFILES)[number];

function readDemoProfile(flag: string | boolean | undefined, demo: boolean): DemoProfile {
  if (flag === undefined) return 'typical';
  if (!demo) throw new ConfigError('--demo-profile: only with --demo (it chooses what the simulated Admin API answers)');
  const found = DEMO_PROFILES.find((p) => p === flag);
  if (found === undefined) throw new ConfigError(`--demo-profile=${JSON.stringify(flag)}: use one of ${DEMO_PROFILES.join(', ')}`);
  return found;
}

function parseFlags(argv: readonly string[]): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' },
    demo: { type: 'boolean' },
    'demo-profile': { type: 'string' },
    'save-answers': { type: 'string' },
    'config.file': { type: 'string' },
    org: { type: 'string' },
    ...BACKFILL_FLAGS,
  };
  for (const [, setting] of SETTING_ENTRIES) {
    if (setting.flag !== undefined) options[setting.flag] = { type: 'string' };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: values as FlagValues, positionals };
  } catch (err) {
    // node's messages are one line and name the flag; keep them, drop its hint about "--".
    const message = (err as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '') ?? '';
    throw new ConfigError(`${message} (see --help)`);
  }
}

/** The text of --help. */
export function helpText(version: string): string {
  const lines = [
    `mistral-admin-exporter ${version}`,
    '',
    'Serves the Mistral Admin API (spend, spend limit, cost by model, rate limits) as',
    'Prometheus metrics on /metrics. The API is read in the background on an interval;',
    'scrapes are served from the last good answers and never wait for the API.',
    '',
    'Usage:',
    '  mistral-admin-exporter [flags]          with MISTRAL_ADMIN_API_KEY set',
    '  mistral-admin-exporter --demo           simulated Admin API, no key needed',
    '  mistral-admin-exporter --demo --demo-profile odd-shapes',
    '                                          the same, answering every odd shape the published',
    '                                          spec allows (numbers as signed and scientific strings,',
    '                                          EU/US and Priority Tier usage with no tier assumed,',
    '                                          legacy and undocumented fields, negative amounts,',
    '                                          yesterday not loaded yet): see what is read or refused',
    '  mistral-admin-exporter --config.file organizations.yaml',
    '                                          several organizations, each series labelled org',
    '  mistral-admin-exporter check [flags]    call each endpoint once, print a table, exit',
    ...FOCUS_HELP_USAGE,
    ...BACKFILL_HELP,
    '',
    'check reads every endpoint of MISTRAL_ENDPOINTS once, with the same settings,',
    'client and parsers as a start, without serving or refreshing. It prints, per',
    'endpoint, the path that answered, the HTTP status (or network error), the series',
    'read, the entries skipped or the answer refused, and what to do about each',
    'problem. Exit code 0 when every endpoint answered and was read whole, 1 if not,',
    '2 on a bad setting. With --demo it reads the built-in simulator.',
    '',
    ...FOCUS_HELP_TEXT,
    '',
    ...BACKFILL_HELP_DETAILS,
    '',
    'Flags win over environment variables, which win over defaults.',
    'Durations: 30s, 5m, 1h30m (ms, s, m, h, d, w). Sizes: 32MiB, 500kB, bytes.',
    '',
    '  --demo      serve simulated data from a built-in fake Admin API (never with a real key)',
    '  --help      show this help',
    '  --version   print the version',
    '  --save-answers DIR',
    '              (check) also write each raw answer to DIR, one JSON file per',
    '              request, with ids, names and emails replaced by placeholders and',
    '              the key removed: files to attach to a bug report',
    '  --config.file FILE',
    '              (env CONFIG_FILE) read several organizations, listed in a YAML file:',
    '                organizations:',
    '                  - name: acme-prod',
    '                    MISTRAL_ADMIN_API_KEY_FILE: /etc/mistral/acme-prod/api-key',
    '                    MISTRAL_WORKSPACE_IDS: all',
    '                  - name: acme-labs',
    '                    MISTRAL_ADMIN_API_KEY_FILE: /etc/mistral/acme-labs/api-key',
    '              Each name becomes the org label of every series of that organization.',
    '              An entry sets any setting below by its environment variable name,',
    '              for that organization only (HTTP server and logging settings excepted);',
    '              what it leaves out comes from the flags, the environment and the',
    '              defaults. The key settings then come from the file only. Each',
    '              organization has its own requests, refreshes and staleness: one',
    '              failing never touches the data of another. With --demo, each gets',
    '              a simulated organization of its own.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `${section}:`);
    for (const [, s] of SETTING_ENTRIES.filter(([, s]) => s.section === section)) {
      const flag = s.flag === undefined ? '(environment only)' : `--${s.flag} ${s.metavar}`;
      lines.push(`  ${flag}`);
      lines.push(`      env ${s.env}; ${defaultText(s)}`);
      for (const l of wrap(s.help, 72)) lines.push(`      ${l}`);
    }
  }
  lines.push('', 'Admin API endpoints read (MISTRAL_ENDPOINTS; all by default):');
  for (const e of CATALOG) lines.push(`  ${e.id.padEnd(22)}${e.describe}`);
  lines.push('', 'Endpoints served: /metrics, /-/healthy, /-/ready, / (a status page).', '');
  return lines.join('\n');
}

function defaultText(s: SettingDef<unknown>): string {
  if (s.default !== undefined) return `default ${s.default}`;
  if (s.defaultNote !== undefined) return `default: ${s.defaultNote}`;
  return 'no default';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) out.push(line);
  return out;
}

/** The README's settings table (between its `settings-table` markers). */
export function settingsMarkdownTable(): string {
  const rows = ['| Environment variable | Flag | Default | Meaning |', '| --- | --- | --- | --- |'];
  for (const section of SECTIONS) {
    for (const [, s] of SETTING_ENTRIES.filter(([, s]) => s.section === section)) {
      const flag = s.flag === undefined ? '(env only)' : `\`--${s.flag}\``;
      const dflt = s.default !== undefined ? `\`${s.default}\`` : (s.defaultNote ?? '');
      rows.push(`| \`${s.env}\` | ${flag} | ${dflt} | ${s.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return rows.join('\n');
}
