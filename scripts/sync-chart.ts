/**
 * Keeps the Helm chart (helm/mistral-admin-exporter/) in step with what it is
 * made from:
 *
 * - files/alerts.yml and files/dashboards/*.json: byte copies of
 *   prometheus/alerts.yml and grafana-dashboards/*.json;
 * - the `config:` block of values.yaml, the `config` properties of
 *   values.schema.json and the config → environment-variable map of
 *   templates/deployment.yaml: from src/config/settings.ts, one value per
 *   setting (except the secrets and their _FILE paths, which the chart mounts);
 * - the README's values table: from the `# --` comments of values.yaml.
 *
 * `npm run generate` runs it with everything else that is generated
 * (scripts/generate.ts); test/helm.test.ts and test/generate.test.ts fail
 * while they differ.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { API_ENDPOINTS, PATH_LAYOUTS } from '../src/endpoints.js';
import { intervalSettingKeys, LOG_LEVELS, SETTINGS, type SettingDef, type SettingKey } from '../src/config/settings.js';
import { SERVICE_TIERS } from '../src/sources/usage.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CHART_DIR = join(ROOT, 'helm', 'mistral-admin-exporter');

export const ALERTS_SOURCE = join(ROOT, 'prometheus', 'alerts.yml');
export const ALERTS_COPY = join(CHART_DIR, 'files', 'alerts.yml');
export const DASHBOARDS_SOURCE = join(ROOT, 'grafana-dashboards');
export const DASHBOARDS_COPY = join(CHART_DIR, 'files', 'dashboards');

const VALUES = join(CHART_DIR, 'values.yaml');
const SCHEMA = join(CHART_DIR, 'values.schema.json');
const DEPLOYMENT = join(CHART_DIR, 'templates', 'deployment.yaml');
const README = join(CHART_DIR, 'README.md');
export const SETTINGS_TEMPLATE = join(CHART_DIR, 'templates', '_settings.tpl');

// ---------------------------------------------------------------------------
// Settings → config values

type Setting = SettingDef<unknown>;
const ENTRIES = Object.entries(SETTINGS) as Array<[SettingKey, Setting]>;

/**
 * The settings the chart manages itself rather than as `config.*` values: the
 * secrets (mounted from a Secret), the `_FILE` paths pointing at them, and the
 * settings marked `chartOwned` (the web config, which the chart writes and mounts).
 */
export function isChartManaged(setting: Setting): boolean {
  if (setting.secret || setting.chartOwned !== undefined || setting.env === CONFIG_FILE_ENV) return true;
  return ENTRIES.some(([, s]) => s.secret && setting.env === `${s.env}_FILE`);
}

/**
 * The organizations file (`--config.file`, CONFIG_FILE): the chart writes it
 * from its `organizations` values and passes it itself, so it is neither a
 * `config.*` value nor allowed in extraArgs or extraEnv (whether or not the
 * exporter's settings table lists it).
 */
const CONFIG_FILE_ENV = 'CONFIG_FILE';
const CONFIG_FILE_FLAG = 'config.file';
const CONFIG_FILE_WHY = 'the chart writes the organizations file from `organizations` and passes it itself: list the organizations there';

/**
 * Settings of the whole process (its listener and its log), which an entry of
 * the organizations file may not set: the HTTP server's and the log's.
 */
export function isProcessWide(setting: Setting): boolean {
  return setting.section === 'HTTP server' || setting.section === 'Logging';
}

/** The settings that are `config.<key>` values, in SETTINGS' order. */
export function configSettings(): Array<[SettingKey, Setting]> {
  return ENTRIES.filter(([, s]) => !isChartManaged(s));
}

/** `config.<key>` of the setting whose variable is `env` (for "defaults to X" notes). */
function configKeyOfEnv(env: string): string | undefined {
  return configSettings().find(([, s]) => s.env === env)?.[0];
}

/** A number as the exporter's duration and size parsers read it. */
const NUMBER_RE = '[0-9]+(\\.[0-9]+)?';

/**
 * A duration the exporter reads (src/config/values.ts parseDuration): parts
 * `<number><unit>` from the largest unit to the smallest, each unit once.
 * Every part is optional, so "" (unset) matches too.
 */
const DURATION_RE = ['w', 'd', 'h', 'm', 's', 'ms'].map((unit) => `(${NUMBER_RE}${unit})?`).join('');

/** An analytics window: one whole number and one unit (the window label, `^[a-z0-9]+$`). */
const WINDOW_RE = '[0-9]+(ms|s|m|h|d|w)';

/** An audit log event type name, e.g. `billing.monthly_limit.updated` (AUDIT_EVENT_TYPES). */
const EVENT_TYPE_RE = '[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*';

/** A size (parseBytes): a number and an optional unit. */
const SIZE_RE = `${NUMBER_RE}\\s*([kKmMgG][iI]?[bB]|[bB])?`;

/**
 * An http(s) URL the exporter accepts (parseHttpUrl): a host name, an IPv4
 * address or a bracketed IPv6 one, an optional port, a path; no credentials,
 * query or fragment. Stricter than WHATWG URL parsing where that is lenient.
 */
const OCTET_RE = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const HOST_RE = `(\\[[0-9A-Fa-f:.]+\\]|([A-Za-z0-9-]+\\.)*[A-Za-z][A-Za-z0-9-]*\\.?|${OCTET_RE}(\\.${OCTET_RE}){3})`;
const URL_RE = `https?://${HOST_RE}(:[0-9]{1,5})?(/[^\\s?#]*)?`;

/**
 * A comma-separated list of `item` as parseList splits it: at least one item,
 * blanks and spaces around the commas allowed. Or "" (unset).
 */
function commaListRe(item: string): string {
  return `^(|[\\s,]*(${item})(\\s*,[\\s,]*(${item}))*[\\s,]*)$`;
}

/**
 * The bounds of what a setting's parser accepts, found by asking the parser
 * itself (src/config/settings.ts keeps them inside its closures): the
 * smallest and largest n for which `parse(format(n))` does not throw,
 * searched from the setting's default. Accepted values are taken to be one
 * interval, which holds for integers, durations and sizes.
 */
export function acceptedRange(
  setting: Setting,
  format: (n: number) => string,
  start: number,
  ceiling: number,
): { min: number; max: number | undefined } {
  const accepts = (n: number): boolean => {
    try {
      setting.parse(format(n));
      return true;
    } catch {
      return false;
    }
  };
  if (!accepts(start)) throw new Error(`sync-chart: ${setting.env} refuses its own default ${format(start)}`);
  let lo = 0;
  let hi = start;
  if (accepts(0)) hi = 0;
  // Smallest accepted in (lo, hi]: accepts(hi) holds, accepts(lo) does not (unless hi is 0).
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (accepts(mid)) hi = mid;
    else lo = mid;
  }
  const min = hi;
  if (accepts(ceiling)) return { min, max: undefined };
  lo = start;
  hi = ceiling;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (accepts(mid)) lo = mid;
    else hi = mid;
  }
  return { min, max: lo };
}

const CEILING = 2 ** 40;

function integerRange(setting: Setting): { min: number; max: number | undefined } {
  return acceptedRange(setting, String, Number(setting.default ?? 1), CEILING);
}

/** The shortest duration (ms) a duration setting accepts. */
function durationMinMs(setting: Setting): number {
  return acceptedRange(setting, (n) => `${n}ms`, 3_600_000, CEILING).min;
}

/** The smallest size (bytes) a size setting accepts. */
function sizeMinBytes(setting: Setting): number {
  return acceptedRange(setting, String, 1024 ** 2, CEILING).min;
}

type JsonSchema = Record<string, unknown>;

/** The schema of a config value, by the setting's metavar. Null or "" means unset. */
function schemaByMetavar(key: string, setting: Setting): JsonSchema {
  const stringOrList = (items: JsonSchema, stringPattern?: string): JsonSchema => ({
    type: ['string', 'array', 'null'],
    ...(stringPattern === undefined ? {} : { pattern: stringPattern }),
    items,
  });
  switch (setting.metavar) {
    case 'DURATION':
      return { type: ['string', 'null'], pattern: `^${DURATION_RE}$` };
    case 'N': {
      const { min, max } = integerRange(setting);
      return { type: ['integer', 'null'], minimum: min, ...(max === undefined ? {} : { maximum: max }) };
    }
    case 'PORT':
      // 0 ("any free port") makes no sense in a pod: probes and Service need a fixed one.
      return { type: ['integer', 'null'], minimum: 1, maximum: integerRange(setting).max };
    case 'BOOL':
      return { type: ['boolean', 'null'] };
    case 'URL':
      return { type: ['string', 'null'], pattern: `^(|${URL_RE})$` };
    case 'ADDRESS':
      return { type: ['string', 'null'], pattern: '^\\S*$' };
    case 'SIZE':
      return { type: ['string', 'integer', 'null'], pattern: `^(|${SIZE_RE})$`, minimum: sizeMinBytes(setting) };
    case 'LAYOUT':
      return { type: ['string', 'null'], enum: ['', 'auto', ...PATH_LAYOUTS, null] };
    case 'LEVEL':
      return { type: ['string', 'null'], enum: ['', ...LOG_LEVELS, null] };
    case 'TIER':
      return { type: ['string', 'null'], enum: ['', ...SERVICE_TIERS, null] };
    case 'NAME,...': {
      const names = ['all', ...API_ENDPOINTS];
      return stringOrList({ type: 'string', enum: names }, commaListRe(names.join('|')));
    }
    case 'WINDOW,...':
      return stringOrList({ type: 'string', pattern: `^${WINDOW_RE}$` }, commaListRe(WINDOW_RE));
    case 'ID,ID,...':
      return stringOrList({ type: 'string', minLength: 1 });
    case 'PRICE':
      return { type: ['string', 'null'], pattern: '^(|\\s*\\d+(\\.\\d+)?\\s+[A-Za-z]{3}\\s*)$' };
    case 'TYPE,...':
      return stringOrList({ type: 'string', pattern: `^${EVENT_TYPE_RE}$` }, commaListRe(EVENT_TYPE_RE));
    default:
      throw new Error(
        `sync-chart: setting ${key} has metavar ${setting.metavar}, which the chart does not know yet: ` +
          'add it to schemaByMetavar in scripts/sync-chart.ts',
      );
  }
}

/** What the exporter does when the value is unset, for `@default`. */
function exporterDefault(setting: Setting): string {
  if (setting.default !== undefined) return `\`${setting.default}\` (the exporter's default)`;
  if (setting.defaultNote !== undefined) {
    const key = configKeyOfEnv(setting.defaultNote);
    return key === undefined ? `${setting.defaultNote}` : `the value of \`config.${key}\``;
  }
  return 'unset';
}

/** The description of a config value: its variable and the setting's help. */
function configDescription(setting: Setting): string {
  let text = `\`${setting.env}\`: ${setting.help}`;
  if (setting.metavar === 'PORT') text += ' In the chart it is also the container port, which the probes use; 0 is not allowed.';
  if (setting.metavar.includes(',')) text += ' A comma-separated string or a list.';
  return text;
}

/** Words of `text` in comment lines of at most `width` characters. */
function commentLines(prefix: string, first: string, text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = `${prefix}${first}`;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${prefix}  ${word}`;
    } else {
      line = empty ? `${line}${word}` : `${line} ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The generated lines of values.yaml's `config:` block (between its markers). */
export function configValuesLines(): string[] {
  const lines: string[] = [];
  for (const [key, setting] of configSettings()) {
    lines.push(...commentLines('  # ', '-- ', configDescription(setting)));
    lines.push(`  # @default -- ${exporterDefault(setting)}`);
    lines.push(`  ${key}: null`);
  }
  return lines;
}

/** The `config` property of values.schema.json. */
export function configSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, setting] of configSettings()) {
    properties[key] = { description: `${setting.env}: ${setting.help}`, ...schemaByMetavar(key, setting) };
  }
  return {
    type: 'object',
    description:
      "Exporter settings (src/config/settings.ts); each set one becomes its environment variable, null keeps the exporter's default.",
    additionalProperties: false,
    properties,
  };
}

/** The generated lines of deployment.yaml's config → variable map (between its markers). */
export function envMappingLines(): string[] {
  return [
    '{{- $settingEnv := dict }}',
    ...configSettings().map(([key, s]) => `{{- $_ := set $settingEnv ${JSON.stringify(key)} ${JSON.stringify(s.env)} }}`),
  ];
}

/** How the chart's templates check a setting's value (templates/_helpers.tpl, checkConfig). */
type Check =
  | { kind: 'duration'; minMs: number }
  | { kind: 'integer'; min: number; max: number | undefined }
  | { kind: 'size'; minBytes: number }
  | { kind: 'url' | 'windows' | 'endpoints' | 'list' | 'bool' | 'address' }
  | { kind: 'choice'; choices: string[]; caseInsensitive: boolean };

function checkByMetavar(key: string, setting: Setting): Check {
  switch (setting.metavar) {
    case 'DURATION':
      return { kind: 'duration', minMs: durationMinMs(setting) };
    case 'N':
    case 'PORT': {
      const { min, max } = integerRange(setting);
      return { kind: 'integer', min: setting.metavar === 'PORT' ? Math.max(min, 1) : min, max };
    }
    case 'SIZE':
      return { kind: 'size', minBytes: sizeMinBytes(setting) };
    case 'URL':
      return { kind: 'url' };
    case 'WINDOW,...':
      return { kind: 'windows' };
    case 'NAME,...':
      return { kind: 'endpoints' };
    case 'ID,ID,...':
    // A seat price's form is checked by the values schema; the exporter says what is wrong with one.
    case 'PRICE':
    case 'TYPE,...':
      return { kind: 'list' };
    case 'BOOL':
      return { kind: 'bool' };
    case 'ADDRESS':
      return { kind: 'address' };
    case 'LAYOUT':
      return { kind: 'choice', choices: ['auto', ...PATH_LAYOUTS], caseInsensitive: false };
    case 'LEVEL':
      return { kind: 'choice', choices: [...LOG_LEVELS], caseInsensitive: true };
    case 'TIER':
      return { kind: 'choice', choices: [...SERVICE_TIERS], caseInsensitive: true };
    default:
      throw new Error(`sync-chart: setting ${key} has metavar ${setting.metavar}: add it to checkByMetavar in scripts/sync-chart.ts`);
  }
}

/**
 * What templates/_settings.tpl holds: the exporter's settings as the chart's
 * checks need them (variable, flag, default, what a value must be), which
 * endpoints read which interval, the flags and variables the chart sets
 * itself (so that extraArgs and extraEnv may not), and the settings an entry
 * of `organizations` may hold (orgSettings: variable → config key) or not
 * (orgRefused: variable → why).
 */
export function chartSettings(): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, s] of configSettings()) {
    settings[key] = { env: s.env, flag: s.flag, ...(s.default === undefined ? {} : { default: s.default }), ...checkByMetavar(key, s) };
  }
  const owned: Record<string, string> = {};
  const ownedEnv: Record<string, string> = {};
  for (const [key, s] of ENTRIES) {
    let why: string | undefined;
    if (s.metavar === 'PORT')
      why = `the chart sets the exporter's port from config.${key} (the container port, the probes and the Service follow it): set config.${key} instead`;
    else if (s.chartOwned !== undefined) why = s.chartOwned;
    else if (s.secret)
      why =
        "a key must not be in the pod's environment: give it as a Secret (existingSecret.name, or userIdHashKey.existingSecret.name), which the chart mounts as a file";
    else if (isChartManaged(s))
      why = 'the chart sets it to the file it mounts from the Secret (existingSecret, or userIdHashKey.existingSecret)';
    if (why === undefined) continue;
    ownedEnv[s.env] = why;
    if (s.flag !== undefined) owned[s.flag] = why;
  }
  ownedEnv[CONFIG_FILE_ENV] = CONFIG_FILE_WHY;
  owned[CONFIG_FILE_FLAG] = CONFIG_FILE_WHY;
  // What an organization's `settings` may hold: a setting's variable → its config key; and why not, for the others.
  const orgSettings: Record<string, string> = {};
  const orgRefused: Record<string, string> = {};
  for (const [key, s] of configSettings()) {
    if (isProcessWide(s)) orgRefused[s.env] = `a setting of the whole process, not of one organization: set config.${key} instead`;
    else orgSettings[s.env] = key;
  }
  for (const [, s] of ENTRIES) {
    if (orgSettings[s.env] !== undefined || orgRefused[s.env] !== undefined) continue;
    if (s.env === 'MISTRAL_ADMIN_API_KEY' || s.env === 'MISTRAL_ADMIN_API_KEY_FILE')
      orgRefused[s.env] = "the chart sets the organization's key file from its existingSecret (or apiKey.value)";
    else if (s.secret)
      orgRefused[s.env] =
        'a key must not be written in the file: give it as a Secret (userIdHashKey.existingSecret), which the chart mounts';
    else if (isProcessWide(s))
      orgRefused[s.env] = `a setting of the whole process, not of one organization${s.chartOwned ? `: ${s.chartOwned}` : ''}`;
    else orgRefused[s.env] = 'the chart sets it to the file it mounts from the Secret (userIdHashKey.existingSecret)';
  }
  orgRefused[CONFIG_FILE_ENV] = CONFIG_FILE_WHY;
  return {
    settings,
    urlPattern: `^${URL_RE}$`,
    endpoints: [...API_ENDPOINTS],
    endpointIntervals: Object.fromEntries(API_ENDPOINTS.map((e) => [e, intervalSettingKeys(e)])),
    chartFlags: owned,
    chartEnv: ownedEnv,
    orgSettings,
    orgRefused,
  };
}

/** templates/_settings.tpl: chartSettings() as JSON in a named template. */
export function settingsTemplate(): string {
  const json = JSON.stringify(chartSettings(), null, 2);
  if (json.includes('{{') || json.includes('}}')) throw new Error('sync-chart: the settings JSON would contain template delimiters');
  return [
    '{{- /*',
    'Generated by scripts/sync-chart.ts from src/config/settings.ts: do not edit, run',
    "`npm run generate`. The exporter's settings as the checks of",
    '_helpers.tpl (checkConfig) read them: include "mistral-admin-exporter.settings" . | fromJson',
    '*/}}',
    '{{- define "mistral-admin-exporter.settings" -}}',
    json,
    '{{- end }}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Values table

export interface DocumentedValue {
  /** Dotted path, e.g. `serviceMonitor.interval`. */
  key: string;
  description: string;
  /** From `# @default -- ...`, shown instead of the value. */
  defaultNote?: string;
}

/**
 * The values documented with a helm-docs `# -- ` comment (continued by the
 * `#` lines after it, up to the key; `# @default -- ` overrides the shown
 * default). Keys inside block sequences are items, not values: skipped.
 */
export function documentedValues(valuesYaml: string): DocumentedValue[] {
  const out: DocumentedValue[] = [];
  const stack: Array<{ indent: number; key: string }> = [];
  let pending: { description: string[]; defaultNote?: string } | undefined;
  let sequenceIndent: number | undefined;
  for (const raw of valuesYaml.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '') {
      pending = undefined;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trimStart();
    if (trimmed.startsWith('#')) {
      const text = trimmed.replace(/^#\s?/, '');
      if (text.startsWith('-- ')) pending = { description: [text.slice(3).trim()] };
      else if (pending && text.startsWith('@default -- ')) pending.defaultNote = text.slice('@default -- '.length).trim();
      else if (pending) pending.description.push(text.trim());
      continue;
    }
    if (sequenceIndent !== undefined) {
      if (indent > sequenceIndent || (indent === sequenceIndent && trimmed.startsWith('-'))) continue;
      sequenceIndent = undefined;
    }
    if (trimmed.startsWith('-')) {
      sequenceIndent = indent;
      pending = undefined;
      continue;
    }
    const match = /^([A-Za-z0-9_.-]+|"[^"]+"):/.exec(trimmed);
    if (!match) continue;
    const key = (match[1] as string).replace(/^"|"$/g, '');
    while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    stack.push({ indent, key });
    if (pending) {
      const documented: DocumentedValue = { key: stack.map((s) => s.key).join('.'), description: pending.description.join(' ') };
      if (pending.defaultNote !== undefined) documented.defaultNote = pending.defaultNote;
      out.push(documented);
      pending = undefined;
    }
  }
  return out;
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The schema of the value at `path`, or undefined. */
export function schemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of path.split('.')) {
    const props = node?.properties as Record<string, JsonSchema> | undefined;
    node = props?.[part];
    if (node === undefined) return undefined;
  }
  return node;
}

function typeText(schema: JsonSchema | undefined, key: string): string {
  if (schema === undefined) throw new Error(`sync-chart: values.yaml documents ${key}, which values.schema.json does not define`);
  const t = schema.type;
  const types = (Array.isArray(t) ? t : [t]).filter((x) => x !== 'null' && x !== undefined) as string[];
  return types.length > 0 ? types.join(' or ') : 'any';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The README's values table, from values.yaml's comments and the schema's types. */
export function valuesTable(valuesYaml: string, schema: JsonSchema): string {
  const values = parseYaml(valuesYaml) as unknown;
  const rows = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const v of documentedValues(valuesYaml)) {
    const shown = v.defaultNote ?? `\`${JSON.stringify(valueAt(values, v.key)) ?? 'null'}\``;
    rows.push(`| \`${v.key}\` | ${typeText(schemaAt(schema, v.key), v.key)} | ${cell(shown)} | ${cell(v.description)} |`);
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------------------
// Files: what each generated file should hold, given what it holds now

function replaceBetween(text: string, file: string, start: RegExp, end: RegExp, lines: string[]): string {
  const all = text.split('\n');
  const from = all.findIndex((l) => start.test(l));
  const to = all.findIndex((l, i) => i > from && end.test(l));
  if (from < 0 || to < 0) throw new Error(`sync-chart: ${file} has lost its generated-block markers (${start.source} … ${end.source})`);
  return [...all.slice(0, from + 1), ...lines, ...all.slice(to)].join('\n');
}

export function syncedValues(current: string): string {
  return replaceBetween(current, 'values.yaml', /^\s*# settings:start/, /^\s*# settings:end/, configValuesLines());
}

export function syncedSchema(current: string): string {
  const schema = JSON.parse(current) as JsonSchema & { properties: Record<string, JsonSchema> };
  schema.properties.config = configSchema();
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function syncedDeployment(current: string): string {
  return replaceBetween(current, 'templates/deployment.yaml', /settings-env:start/, /settings-env:end/, envMappingLines());
}

export function syncedReadme(current: string, valuesYaml: string, schemaJson: string): string {
  const table = valuesTable(valuesYaml, JSON.parse(schemaJson) as JsonSchema);
  return replaceBetween(current, 'README.md', /<!-- values-table:start -->/, /<!-- values-table:end -->/, [table]);
}

/** The copies the chart holds: [source, copy] pairs (only sources that exist). */
export function copiedFiles(): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (existsSync(ALERTS_SOURCE)) pairs.push([ALERTS_SOURCE, ALERTS_COPY]);
  if (existsSync(DASHBOARDS_SOURCE)) {
    for (const name of readdirSync(DASHBOARDS_SOURCE)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      pairs.push([join(DASHBOARDS_SOURCE, name), join(DASHBOARDS_COPY, name)]);
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------

/** Brings the chart in step (unless `check`); returns the files that were out of date, relative to the repo. */
export function syncChart(check: boolean): string[] {
  const stale: string[] = [];
  const write = (path: string, content: string | Buffer): void => {
    const before = existsSync(path) ? readFileSync(path) : undefined;
    if (before?.equals(Buffer.from(content))) return;
    stale.push(path.slice(ROOT.length));
    if (!check) {
      mkdirSync(resolve(path, '..'), { recursive: true });
      writeFileSync(path, content);
    }
  };

  if (!existsSync(ALERTS_SOURCE))
    console.warn(`sync-chart: ${ALERTS_SOURCE.slice(ROOT.length)} does not exist: files/alerts.yml left as it is`);
  if (!existsSync(DASHBOARDS_SOURCE))
    console.warn(`sync-chart: ${DASHBOARDS_SOURCE.slice(ROOT.length)}/ does not exist: files/dashboards/ left as it is`);
  const pairs = copiedFiles();
  for (const [source, copy] of pairs) write(copy, readFileSync(source));
  if (existsSync(DASHBOARDS_SOURCE) && existsSync(DASHBOARDS_COPY)) {
    const kept = new Set(pairs.map(([, copy]) => copy));
    for (const name of readdirSync(DASHBOARDS_COPY)) {
      const path = join(DASHBOARDS_COPY, name);
      if (kept.has(path)) continue;
      stale.push(`${path.slice(ROOT.length)} (no longer in grafana-dashboards/)`);
      if (!check) rmSync(path);
    }
  }

  const values = syncedValues(readFileSync(VALUES, 'utf8'));
  write(VALUES, values);
  const schema = syncedSchema(readFileSync(SCHEMA, 'utf8'));
  write(SCHEMA, schema);
  write(DEPLOYMENT, syncedDeployment(readFileSync(DEPLOYMENT, 'utf8')));
  write(SETTINGS_TEMPLATE, settingsTemplate());
  write(README, syncedReadme(readFileSync(README, 'utf8'), values, schema));

  return stale;
}
