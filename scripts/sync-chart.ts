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
 * Run with `npx tsx scripts/sync-chart.ts`; `--check` only reports what is out
 * of date and exits 1 if anything is. test/helm.test.ts fails while they differ.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { API_ENDPOINTS, PATH_LAYOUTS } from '../src/endpoints.js';
import { LOG_LEVELS, SETTINGS, type SettingDef, type SettingKey } from '../src/config/settings.js';

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

// ---------------------------------------------------------------------------
// Settings → config values

type Setting = SettingDef<unknown>;
const ENTRIES = Object.entries(SETTINGS) as Array<[SettingKey, Setting]>;

/**
 * The settings the chart manages itself rather than as `config.*` values: the
 * secrets (mounted from a Secret) and the `_FILE` paths pointing at them.
 */
export function isChartManaged(setting: Setting): boolean {
  if (setting.secret) return true;
  return ENTRIES.some(([, s]) => s.secret && setting.env === `${s.env}_FILE`);
}

/** The settings that are `config.<key>` values, in SETTINGS' order. */
export function configSettings(): Array<[SettingKey, Setting]> {
  return ENTRIES.filter(([, s]) => !isChartManaged(s));
}

/** `config.<key>` of the setting whose variable is `env` (for "defaults to X" notes). */
function configKeyOfEnv(env: string): string | undefined {
  return configSettings().find(([, s]) => s.env === env)?.[0];
}

const DURATION_RE = '([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+';

type JsonSchema = Record<string, unknown>;

/** The schema of a config value, by the setting's metavar. Null or "" means unset. */
function schemaByMetavar(key: string, setting: Setting): JsonSchema {
  const stringOrList = (items: JsonSchema): JsonSchema => ({ type: ['string', 'array', 'null'], items });
  switch (setting.metavar) {
    case 'DURATION':
      return { type: ['string', 'null'], pattern: `^(${DURATION_RE})?$` };
    case 'N':
      return { type: ['integer', 'null'], minimum: 0 };
    case 'PORT':
      // 0 ("any free port") makes no sense in a pod: probes and Service need a fixed one.
      return { type: ['integer', 'null'], minimum: 1, maximum: 65535 };
    case 'BOOL':
      return { type: ['boolean', 'null'] };
    case 'URL':
      return { type: ['string', 'null'], pattern: '^(|https?://.+)$' };
    case 'ADDRESS':
      return { type: ['string', 'null'], pattern: '^\\S*$' };
    case 'SIZE':
      return { type: ['string', 'integer', 'null'], pattern: '^(|[0-9]+(\\.[0-9]+)?\\s*([kKmMgG][iI]?[bB]|[bB])?)$', minimum: 1024 };
    case 'LAYOUT':
      return { type: ['string', 'null'], enum: ['', 'auto', ...PATH_LAYOUTS, null] };
    case 'LEVEL':
      return { type: ['string', 'null'], enum: ['', ...LOG_LEVELS, null] };
    case 'NAME,...':
      return stringOrList({ type: 'string', enum: ['all', ...API_ENDPOINTS] });
    case 'WINDOW,...':
      return stringOrList({ type: 'string', pattern: `^${DURATION_RE}$` });
    case 'ID,ID,...':
      return stringOrList({ type: 'string', minLength: 1 });
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
function configDescription(key: string, setting: Setting): string {
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
    lines.push(...commentLines('  # ', '-- ', configDescription(key, setting)));
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
    description: "Exporter settings (src/config/settings.ts); each set one becomes its environment variable, null keeps the exporter's default.",
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
    for (const name of readdirSync(DASHBOARDS_SOURCE).filter((n) => n.endsWith('.json')).sort()) {
      pairs.push([join(DASHBOARDS_SOURCE, name), join(DASHBOARDS_COPY, name)]);
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------

function main(check: boolean): number {
  const stale: string[] = [];
  const write = (path: string, content: string | Buffer): void => {
    const before = existsSync(path) ? readFileSync(path) : undefined;
    if (before !== undefined && before.equals(Buffer.from(content))) return;
    stale.push(path.slice(ROOT.length));
    if (!check) {
      mkdirSync(resolve(path, '..'), { recursive: true });
      writeFileSync(path, content);
    }
  };

  if (!existsSync(ALERTS_SOURCE)) console.warn(`sync-chart: ${ALERTS_SOURCE.slice(ROOT.length)} does not exist: files/alerts.yml left as it is`);
  if (!existsSync(DASHBOARDS_SOURCE)) console.warn(`sync-chart: ${DASHBOARDS_SOURCE.slice(ROOT.length)}/ does not exist: files/dashboards/ left as it is`);
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
  write(README, syncedReadme(readFileSync(README, 'utf8'), values, schema));

  if (stale.length === 0) {
    console.log('sync-chart: the chart is up to date');
    return 0;
  }
  console.log(`sync-chart: ${check ? 'out of date' : 'updated'}:\n  ${stale.join('\n  ')}`);
  return check ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.includes('--check'));
}
