/**
 * Reading and linting the Grafana dashboards in grafana-dashboards/.
 *
 * The extraction helpers (dashboardQueries, dashboardVariables,
 * emptyPanelsAllowed) are what the end-to-end test runs against a real
 * Prometheus; the lint functions are our stand-in for grafana's
 * dashboard-linter (not available here), plus the project's own rules:
 * max across replicas, money in the currency of its label, documented
 * metrics only.
 */
import { readdirSync, readFileSync } from 'node:fs';

type Json = Record<string, unknown>;

export const DASHBOARD_DIR = new URL('../../grafana-dashboards/', import.meta.url);
const README = new URL('README.md', DASHBOARD_DIR);
const METRICS_DOC = new URL('../../docs/metrics.md', import.meta.url);

/** What every panel and target must point at. */
export const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' } as const;

/** Grafana's global variables a query may use. */
const GRAFANA_GLOBALS = new Set(['__rate_interval', '__range', '__range_s', '__range_ms', '__interval', '__interval_ms']);

/**
 * Series that have no `org` label even when the exporter reads several
 * organizations (`--config.file`): Prometheus's `up` and the exporter's
 * build info. Every other selector filters on `org=~"$org"`; these must not
 * (choosing an organization would empty them).
 */
const WITHOUT_ORG = new Set(['up', 'mistral_exporter_build_info']);

/** Metrics whose values are money (a `currency` label). */
const MONEY_METRICS = new Set(['mistral_spend', 'mistral_spend_limit', 'mistral_spend_projected', 'mistral_usage_cost']);

/**
 * Valid `fieldConfig.defaults.unit` values: the part of Grafana's unit list
 * (packages/grafana-data/src/valueFormats/categories.ts) a dashboard of this
 * exporter can need. Fixed currencies (`currencyEUR`, ...) are left out on
 * purpose: the currency comes from a label.
 */
export const GRAFANA_UNITS = new Set([
  'none',
  'string',
  'short',
  'percent',
  'percentunit',
  'sci',
  'locale',
  'bytes',
  'decbytes',
  'bits',
  'decbits',
  'kbytes',
  'mbytes',
  'gbytes',
  'Bps',
  'binBps',
  'bps',
  'dateTimeAsIso',
  'dateTimeAsIsoNoDateIfToday',
  'dateTimeAsUS',
  'dateTimeAsLocal',
  'dateTimeAsSystem',
  'dateTimeFromNow',
  'ns',
  'µs',
  'ms',
  's',
  'm',
  'h',
  'd',
  'dtdurationms',
  'dtdurations',
  'dthms',
  'dtdhms',
  'clockms',
  'clocks',
  'cps',
  'ops',
  'reqps',
  'rps',
  'wps',
  'iops',
  'cpm',
  'opm',
  'rpm',
  'wpm',
  'bool',
  'bool_yes_no',
  'bool_on_off',
]);

export interface DashboardFile {
  /** File name in grafana-dashboards/, e.g. `mistral-spend.json`. */
  file: string;
  dashboard: Json;
}

/** Every `grafana-dashboards/*.json`, parsed, in file-name order. */
export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(new URL(file, DASHBOARD_DIR), 'utf8')) as Json }));
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function objects(value: unknown): Json[] {
  return asArray(value)
    .map(asObject)
    .filter((o): o is Json => o !== undefined);
}

/** Every panel, rows included, and the panels nested in (collapsed) rows after their row. */
export function allPanels(dashboard: Json): Json[] {
  const out: Json[] = [];
  for (const panel of objects(dashboard.panels)) {
    out.push(panel);
    out.push(...objects(panel.panels));
  }
  return out;
}

/** The panels that show data (not rows). */
function dataPanels(dashboard: Json): Json[] {
  return allPanels(dashboard).filter((p) => p.type !== 'row');
}

function variables(dashboard: Json): Json[] {
  return objects(asObject(dashboard.templating)?.list);
}

/** A query variable's query text, whether stored as a string or as Grafana's query object. */
function variableQuery(variable: Json): string {
  if (typeof variable.query === 'string') return variable.query;
  const q = asObject(variable.query)?.query;
  return typeof q === 'string' ? q : '';
}

/** Every PromQL expression of every panel (nested ones included), with its dashboard file and panel title. */
export function dashboardQueries(): Array<{ file: string; panel: string; expr: string; refId: string }> {
  const out: Array<{ file: string; panel: string; expr: string; refId: string }> = [];
  for (const { file, dashboard } of loadDashboards()) {
    for (const panel of dataPanels(dashboard)) {
      for (const target of objects(panel.targets)) {
        if (typeof target.expr !== 'string') continue;
        out.push({ file, panel: String(panel.title ?? ''), expr: target.expr, refId: String(target.refId ?? '') });
      }
    }
  }
  return out;
}

/**
 * Every query variable (`label_values(...)`), with its dashboard file; the
 * `datasource` variable is not a PromQL query and is left out.
 */
export function dashboardVariables(): Array<{ file: string; name: string; query: string }> {
  const out: Array<{ file: string; name: string; query: string }> = [];
  for (const { file, dashboard } of loadDashboards()) {
    for (const v of variables(dashboard)) {
      if (v.type !== 'query') continue;
      out.push({ file, name: String(v.name ?? ''), query: variableQuery(v) });
    }
  }
  return out;
}

export interface EmptyPanel {
  file: string;
  panel: string;
  reason: string;
}

/** The README's headings over lists of panels the end-to-end test lets be empty. */
export const ALWAYS_MAY_BE_EMPTY = 'Panels that may be empty';
/** Panels that are empty during the first UTC day of a month, and only then. */
export const EMPTY_ON_FIRST_UTC_DAY = "Panels empty on a month's first UTC day";
type EmptyPanelList = typeof ALWAYS_MAY_BE_EMPTY | typeof EMPTY_ON_FIRST_UTC_DAY;

/**
 * The list under a README heading (by default "Panels that may be empty"):
 * one bullet a panel, `` - `file.json`: Panel title — reason `` (backticks
 * optional). A bullet in another shape throws, so that a typo cannot
 * silently allow nothing.
 */
export function parseEmptyPanels(markdown: string, heading: EmptyPanelList = ALWAYS_MAY_BE_EMPTY): EmptyPanel[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#{1,6}\s/.test(l) && l.replace(/^#{1,6}\s+/, '').trim() === heading);
  if (start < 0) return [];
  const out: EmptyPanel[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6}\s/.test(line)) break;
    if (!/^\s*[-*]\s/.test(line)) continue;
    const m = /^\s*[-*]\s+`?([\w.-]+\.json)`?:\s+(.+?)\s+—\s+(\S.*)$/.exec(line);
    if (!m) throw new Error(`README "${heading}": cannot read "${line}" (expected "- file.json: Panel title — reason")`);
    out.push({ file: m[1] as string, panel: (m[2] as string).trim(), reason: (m[3] as string).trim() });
  }
  return out;
}

/** `file: panel title` for each panel the README allows to return no data. */
export function emptyPanelsAllowed(heading: EmptyPanelList = ALWAYS_MAY_BE_EMPTY): Set<string> {
  return new Set(parseEmptyPanels(readFileSync(README, 'utf8'), heading).map((e) => `${e.file}: ${e.panel}`));
}

/** The metric names in docs/metrics.md's tables. */
export function documentedMetrics(markdown = readFileSync(METRICS_DOC, 'utf8')): Set<string> {
  const names = new Set<string>();
  for (const m of markdown.matchAll(/^\|\s*`(mistral_[a-z0-9_]+)`\s*\|/gm)) names.add(m[1] as string);
  return names;
}

// ---------------------------------------------------------------- PromQL, roughly

/** The expression with the insides of string literals blanked (same length): label values never read as names or brackets. */
export function maskStrings(expr: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (quote) {
      if (c === '\\' && i + 1 < expr.length) {
        out += '  ';
        i++;
      } else if (c === quote) {
        quote = undefined;
        out += c;
      } else out += ' ';
    } else {
      if (c === '"' || c === "'" || c === '`') quote = c;
      out += c;
    }
  }
  return out;
}

const CLOSER: Record<string, string> = { '(': ')', '{': '}', '[': ']' };

/** Index of the bracket closing the one at `open` in a masked expression, or -1. */
function closing(masked: string, open: number): number {
  const stack: string[] = [];
  for (let i = open; i < masked.length; i++) {
    const c = masked[i] as string;
    if (c in CLOSER) stack.push(CLOSER[c] as string);
    else if (c === ')' || c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** Index of the `(` of the innermost call or group enclosing `pos`, or -1. */
function enclosingParen(masked: string, pos: number): number {
  let depth = 0;
  for (let i = pos - 1; i >= 0; i--) {
    const c = masked[i];
    if (c === ')' || c === '}' || c === ']') depth++;
    else if (c === '(' || c === '{' || c === '[') {
      if (depth === 0) return c === '(' ? i : -1;
      depth--;
    }
  }
  return -1;
}

/** The identifier just before `pos` (skipping blanks), e.g. the function of a call's `(`. */
function identifierBefore(masked: string, pos: number): string {
  const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(masked.slice(0, pos));
  return m ? (m[1] as string) : '';
}

const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(/g;
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'Inf',
  'NaN',
  'atan2',
]);
const RANGE_VARIABLES = new Set(['$__rate_interval', '${__rate_interval}', '$__range', '${__range}', '$__interval', '${__interval}']);

interface MetricRef {
  name: string;
  start: number;
  /** Index of the selector's `{`, or -1 when the name has none. */
  open: number;
  /** Index of its `}`. */
  close: number;
}

/** The metric selectors of an expression: names outside strings, braces, ranges and label lists, that are not functions or keywords. */
export function metricSelectors(expr: string): MetricRef[] {
  const masked = maskStrings(expr);
  const skip = new Array<boolean>(masked.length).fill(false);
  const skipRange = (from: number, to: number) => {
    for (let i = from; i <= to && i < skip.length; i++) skip[i] = true;
  };
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] === '{' || masked[i] === '[') {
      const end = closing(masked, i);
      if (end > i) skipRange(i + 1, end - 1);
    }
  }
  for (const m of masked.matchAll(GROUPING)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const end = closing(masked, open);
    if (end > open) skipRange(open + 1, end - 1);
  }
  const refs: MetricRef[] = [];
  for (const m of masked.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const start = m.index ?? 0;
    const name = m[0];
    if (skip[start]) continue;
    if (start > 0 && /[$A-Za-z0-9_.]/.test(masked[start - 1] as string)) continue; // a variable, or part of a number like 1e3
    if (KEYWORDS.has(name)) continue;
    const rest = masked.slice(start + name.length);
    if (/^\s*\(/.test(rest)) continue; // a function or an aggregation
    if (/^\s*(by|without)\s*\(/.test(rest)) continue; // an aggregation: sum by (...) (...)
    const brace = /^\s*\{/.exec(rest);
    const open = brace ? start + name.length + brace[0].length - 1 : -1;
    refs.push({ name, start, open, close: open >= 0 ? closing(masked, open) : -1 });
  }
  return refs;
}

function hasMatcher(inner: string, label: string, variable: string): boolean {
  return new RegExp(`(^|[\\s,{])${label}\\s*=~\\s*"\\$(${variable}|\\{${variable}\\})"`).test(inner);
}

/**
 * Problems of one PromQL expression, as the dashboards' rules see them:
 * balanced brackets; every selector names a documented metric (or `up`) and
 * carries `job=~"$job"`, `instance=~"$instance"` and (but for WITHOUT_ORG)
 * `org=~"$org"`; organizations kept apart: every `by (...)` and `on (...)`
 * names `org`, and no aggregation is of everything; counters (`_total`)
 * only inside rate/irate/increase over `$__rate_interval` (rate) or
 * `$__range`; ranges only from Grafana's variables; no `sum`/`count` over
 * instances without deduplicating with `max` first.
 */
export function lintExpr(expr: string, known: Set<string> = documentedMetrics()): string[] {
  const problems: string[] = [];
  const masked = maskStrings(expr);

  // Brackets.
  const stack: string[] = [];
  for (const c of masked) {
    if (c in CLOSER) stack.push(CLOSER[c] as string);
    else if ((c === ')' || c === '}' || c === ']') && stack.pop() !== c) {
      problems.push(`unbalanced brackets in ${expr}`);
      return problems;
    }
  }
  if (stack.length > 0) {
    problems.push(`unbalanced brackets in ${expr}`);
    return problems;
  }

  // Selectors.
  const refs = metricSelectors(expr);
  const named = new Set(refs.map((r) => r.open));
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] === '{' && !named.has(i)) problems.push(`a selector without a metric name at "${expr.slice(i, closing(masked, i) + 1)}"`);
  }
  for (const ref of refs) {
    if (ref.name !== 'up' && !known.has(ref.name)) problems.push(`${ref.name} is not a metric of docs/metrics.md (nor up)`);
    if (ref.open < 0) {
      problems.push(`${ref.name} has no {job=~"$job", instance=~"$instance"} matchers`);
      continue;
    }
    const inner = expr.slice(ref.open + 1, ref.close);
    if (!hasMatcher(inner, 'job', 'job')) problems.push(`${ref.name}{${inner}} does not match job=~"$job"`);
    if (!hasMatcher(inner, 'instance', 'instance')) problems.push(`${ref.name}{${inner}} does not match instance=~"$instance"`);
    if (WITHOUT_ORG.has(ref.name)) {
      if (/(^|[\s,{])org\s*=/.test(inner)) problems.push(`${ref.name} has no org label: it must not be filtered on $org`);
    } else if (!hasMatcher(inner, 'org', 'org')) problems.push(`${ref.name}{${inner}} does not match org=~"$org"`);

    const after = masked.slice(ref.close + 1);
    const range = /^\s*\[([^\]]*)\]/.exec(after);
    const paren = enclosingParen(masked, ref.start);
    const fn = paren >= 0 ? identifierBefore(masked, paren) : '';
    if (ref.name.endsWith('_total')) {
      if (!range || !['rate', 'irate', 'increase'].includes(fn)) {
        problems.push(`counter ${ref.name} is not inside rate(...[$__rate_interval]) or increase(...[$__range])`);
      }
    }
    if (range) {
      const r = expr.slice(ref.close + 1 + range[0].indexOf('[') + 1, ref.close + 1 + range[0].length - 1).trim();
      if (!RANGE_VARIABLES.has(r)) problems.push(`${ref.name}[${r}]: ranges must be $__rate_interval or $__range`);
      else if ((fn === 'rate' || fn === 'irate') && !r.includes('__rate_interval'))
        problems.push(`${fn}(${ref.name}[${r}]) must use $__rate_interval`);
    }
  }
  if (/\[[^\]]*:[^\]]*\]/.test(masked)) problems.push(`subqueries are not allowed: ${expr}`);

  // Organizations kept apart, where the expression reads series that have them.
  if (refs.some((r) => !WITHOUT_ORG.has(r.name))) {
    for (const m of masked.matchAll(/\b(by|on)\s*\(([^)]*)\)/g)) {
      const labels = (m[2] as string).split(',').map((l) => l.trim());
      if (!labels.includes('org')) problems.push(`${m[1]} (${(m[2] as string).trim()}) mixes organizations: name org in it`);
    }
    for (const m of masked.matchAll(/\b(sum|count|min|max|avg|topk|bottomk|quantile|stddev|stdvar|group)\s*\(/g)) {
      const open = (m.index ?? 0) + m[0].length - 1;
      const end = closing(masked, open);
      if (!/^\s*(by|without)\s*\(/.test(masked.slice(end + 1)))
        problems.push(`${m[1]}(...) without by (org, ...) aggregates every organization together: ${expr}`);
    }
  }

  // Aggregations that would add replicas up.
  for (const m of masked.matchAll(/\b(sum|count)\b(?!_)/g)) {
    let pos = (m.index ?? 0) + m[0].length;
    let grouping: { kind: string; labels: string[] } | undefined;
    const readGrouping = (): boolean => {
      const g = /^\s*(by|without)\s*\(/.exec(masked.slice(pos));
      if (!g) return false;
      const open = pos + g[0].length - 1;
      const end = closing(masked, open);
      grouping = {
        kind: g[1] as string,
        labels: masked
          .slice(open + 1, end)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
      pos = end + 1;
      return true;
    };
    readGrouping();
    const o = /^\s*\(/.exec(masked.slice(pos));
    if (!o) continue;
    const open = pos + o[0].length - 1;
    const end = closing(masked, open);
    const body = masked.slice(open + 1, end);
    pos = end + 1;
    if (!grouping) readGrouping();
    const g = grouping as { kind: string; labels: string[] } | undefined;
    const keepsInstance = g !== undefined && (g.kind === 'by' ? g.labels.includes('instance') : !g.labels.includes('instance'));
    const deduplicated = /\bmax\b\s*(\(|by\b|without\b)/.test(body);
    if (!keepsInstance && !deduplicated) {
      problems.push(
        `${m[1]}${g ? ` ${g.kind} (${g.labels.join(', ')})` : ''} adds replicas up: take max without (instance, pod) first, or keep instance: ${expr}`,
      );
    }
  }
  return problems;
}

// ---------------------------------------------------------------- dashboards

function sameDatasource(value: unknown): boolean {
  const ds = asObject(value);
  return ds !== undefined && ds.type === DATASOURCE_REF.type && (ds.uid === '${datasource}' || ds.uid === '$datasource');
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
}

function checkLayout(siblings: Json[], where: string, problems: string[]): void {
  const boxes: Box[] = [];
  for (const p of siblings) {
    const g = asObject(p.gridPos);
    const title = String(p.title ?? p.id);
    if (!g || !isInt(g.x) || !isInt(g.y) || !isInt(g.w) || !isInt(g.h)) {
      problems.push(`${where}: panel "${title}" has no valid gridPos (integers x, y, w, h)`);
      continue;
    }
    if (g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24)
      problems.push(`${where}: panel "${title}" gridPos out of the 24-column grid: ${JSON.stringify(g)}`);
    boxes.push({ x: g.x, y: g.y, w: g.w, h: g.h, title });
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i] as Box;
      const b = boxes[j] as Box;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        problems.push(`${where}: panels "${a.title}" and "${b.title}" overlap`);
    }
  }
}

function checkJobInstanceVariable(
  v: Json | undefined,
  name: string,
  label: string,
  query: string,
  problems: string[],
  where: string,
): void {
  if (!v) {
    problems.push(`${where}: no "${name}" variable`);
    return;
  }
  const w = `${where}: variable ${name}`;
  if (v.type !== 'query') problems.push(`${w} must be a query variable, not ${String(v.type)}`);
  if (variableQuery(v) !== query) problems.push(`${w} query must be ${query}, is ${variableQuery(v)}`);
  if (v.label !== label) problems.push(`${w} must be labelled ${label}`);
  if (v.multi !== true || v.includeAll !== true) problems.push(`${w} must be multi-valued with an All option`);
  if (v.allValue !== '.+') problems.push(`${w} allValue must be .+`);
}

/**
 * The organizations of an exporter reading several (`--config.file`): All by
 * default, and All is `.*`, which also matches series without an `org` label
 * (a single-organization exporter's), where the variable has no other value.
 */
function checkOrgVariable(v: Json | undefined, problems: string[], where: string): void {
  if (!v) {
    problems.push(`${where}: no "org" variable`);
    return;
  }
  const w = `${where}: variable org`;
  const query = 'label_values(mistral_up{job=~"$job"}, org)';
  if (v.type !== 'query') problems.push(`${w} must be a query variable, not ${String(v.type)}`);
  if (variableQuery(v) !== query) problems.push(`${w} query must be ${query}, is ${variableQuery(v)}`);
  if (v.label !== 'Organization') problems.push(`${w} must be labelled Organization`);
  if (v.multi !== true || v.includeAll !== true) problems.push(`${w} must be multi-valued with an All option`);
  if (v.allValue !== '.*') problems.push(`${w} allValue must be .* (matching series without the label too)`);
  const current = asObject(v.current);
  if (JSON.stringify(current?.value) !== JSON.stringify(['$__all'])) problems.push(`${w} must be All by default`);
}

const REFERENCE = /\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z0-9_]+))/g;

/** Every problem of one dashboard; empty when it follows every rule. */
export function lintDashboard(file: string, dashboard: Json, known: Set<string> = documentedMetrics()): string[] {
  const problems: string[] = [];
  const where = file;

  if (typeof dashboard.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid))
    problems.push(`${where}: uid must be 1-40 characters of [A-Za-z0-9_-]`);
  if (typeof dashboard.title !== 'string' || !dashboard.title.startsWith('Mistral: '))
    problems.push(`${where}: title must start with "Mistral: "`);
  if (!asArray(dashboard.tags).includes('mistral')) problems.push(`${where}: tags must include mistral`);
  if (typeof dashboard.schemaVersion !== 'number' || dashboard.schemaVersion < 36)
    problems.push(`${where}: schemaVersion must be 36 or later`);
  if (dashboard.editable !== false) problems.push(`${where}: must not be editable in place (editable: false; dashboards are code)`);

  // Variables.
  const vars = variables(dashboard);
  const datasources = vars.filter((v) => v.type === 'datasource');
  if (datasources.length !== 1) problems.push(`${where}: needs exactly one datasource variable, has ${datasources.length}`);
  for (const ds of datasources) {
    if (ds.name !== 'datasource') problems.push(`${where}: the datasource variable must be named datasource, not ${String(ds.name)}`);
    if (ds.query !== 'prometheus') problems.push(`${where}: the datasource variable must query prometheus`);
    if (ds.label !== 'Data source') problems.push(`${where}: the datasource variable must be labelled "Data source"`);
  }
  const byName = new Map(vars.map((v) => [String(v.name), v]));
  if (byName.size !== vars.length) problems.push(`${where}: two variables have the same name`);
  checkJobInstanceVariable(byName.get('job'), 'job', 'Job', 'label_values(mistral_up, job)', problems, where);
  checkJobInstanceVariable(
    byName.get('instance'),
    'instance',
    'Instance',
    'label_values(mistral_up{job=~"$job"}, instance)',
    problems,
    where,
  );
  checkOrgVariable(byName.get('org'), problems, where);
  for (const v of vars) {
    if (v.type !== 'datasource' && v.type !== 'query')
      problems.push(
        `${where}: variable ${String(v.name)} is of type ${String(v.type)}: only datasource and query variables (not editable in place)`,
      );
    if (v.type !== 'query') continue;
    const w = `${where}: variable ${String(v.name)}`;
    if (!sameDatasource(v.datasource)) problems.push(`${w} must use datasource \${datasource}`);
    if (v.refresh !== 2) problems.push(`${w} must refresh on time range change (refresh: 2)`);
    if (v.name === 'job' || v.name === 'instance' || v.name === 'org') continue; // their exact queries are checked above
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(variableQuery(v));
    if (!m) problems.push(`${w} must be label_values(selector, label)`);
    else problems.push(...lintExpr(m[1] as string, known).map((p) => `${w}: ${p}`));
  }
  const defined = new Set([...byName.keys(), ...GRAFANA_GLOBALS]);

  // Panels.
  const panels = allPanels(dashboard);
  const ids = panels.map((p) => p.id);
  for (const id of ids) if (!isInt(id)) problems.push(`${where}: panel id ${String(id)} is not an integer`);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dup.length > 0) problems.push(`${where}: duplicate panel ids ${dup.join(', ')}`);
  const titles = dataPanels(dashboard).map((p) => p.title);
  const dupTitles = titles.filter((t, i) => titles.indexOf(t) !== i);
  if (dupTitles.length > 0) problems.push(`${where}: duplicate panel titles ${dupTitles.join(', ')}`);
  checkLayout(objects(dashboard.panels), where, problems);
  for (const row of objects(dashboard.panels).filter((p) => p.type === 'row')) {
    if (typeof row.title !== 'string' || row.title === '') problems.push(`${where}: a row has no title`);
    const nested = objects(row.panels);
    if (nested.length > 0 && row.collapsed !== true)
      problems.push(`${where}: row "${String(row.title)}" nests panels but is not collapsed`);
    checkLayout(nested, `${where} row "${String(row.title)}"`, problems);
  }

  for (const p of dataPanels(dashboard)) {
    const title = typeof p.title === 'string' ? p.title : '';
    const w = `${where}: panel "${title || String(p.id)}"`;
    if (title.trim() === '') problems.push(`${w} has no title`);
    const description = typeof p.description === 'string' ? p.description : '';
    if (description.trim() === '') problems.push(`${w} has no description`);
    if (!sameDatasource(p.datasource)) problems.push(`${w} must use datasource {"type": "prometheus", "uid": "\${datasource}"}`);
    const defaults = asObject(asObject(p.fieldConfig)?.defaults) ?? {};
    const unit = typeof defaults.unit === 'string' ? defaults.unit : '';
    if (!GRAFANA_UNITS.has(unit)) problems.push(`${w} has no valid unit (fieldConfig.defaults.unit: "${unit}")`);

    const targets = objects(p.targets);
    if (targets.length === 0) problems.push(`${w} has no query`);
    const exprs: string[] = [];
    for (const t of targets) {
      if (!sameDatasource(t.datasource)) problems.push(`${w} target ${String(t.refId)} must use datasource \${datasource}`);
      if (typeof t.expr !== 'string' || t.expr.trim() === '') {
        problems.push(`${w} target ${String(t.refId)} has no expr`);
        continue;
      }
      exprs.push(t.expr);
      problems.push(...lintExpr(t.expr, known).map((x) => `${w}: ${x}`));
      // Figures of several organizations told apart: the legend names the organization (empty without one).
      const legendFormat = typeof t.legendFormat === 'string' ? t.legendFormat : '';
      if (p.type !== 'table' && legendFormat !== '__auto' && /\borg=~"\$org"/.test(t.expr) && !legendFormat.includes('{{org}}'))
        problems.push(`${w} target ${String(t.refId)}: the legend must name the organization ({{org}})`);
      for (const m of t.expr.matchAll(REFERENCE)) {
        const name = (m[1] ?? m[2]) as string;
        if (!defined.has(name)) problems.push(`${w} uses $${name}, which is not a variable of the dashboard`);
      }

      // Money: the currency comes from the label.
      const metrics = metricSelectors(t.expr).map((r) => r.name);
      if (metrics.some((n) => MONEY_METRICS.has(n)) && unit !== 'percentunit' && unit !== 's') {
        if (p.type === 'table') {
          if (!/\bby\s*\([^)]*\bcurrency\b/.test(t.expr))
            problems.push(`${w}: a money table must keep the currency label (by (..., currency))`);
        } else {
          const legend = typeof t.legendFormat === 'string' ? t.legendFormat : '';
          const displayName = typeof defaults.displayName === 'string' ? defaults.displayName : '';
          if (!legend.includes('{{currency}}') && !displayName.includes('${__field.labels.currency}')) {
            problems.push(
              `${w} target ${String(t.refId)}: money must show its currency ({{currency}} in the legend or \${__field.labels.currency} in displayName)`,
            );
          }
        }
      }
    }

    const money = exprs.some((e) => metricSelectors(e).some((r) => MONEY_METRICS.has(r.name))) && unit !== 'percentunit' && unit !== 's';
    if (unit.startsWith('currency')) problems.push(`${w}: a fixed currency unit (${unit}); the currency is the currency label's`);
    if (money) {
      if (unit !== 'none') problems.push(`${w}: amounts of money use unit none (the currency is a label), not ${unit}`);
      if (defaults.decimals !== 2) problems.push(`${w}: amounts of money have 2 decimals`);
      if (!/currency/i.test(description)) problems.push(`${w}: the description must say amounts are in the currency shown`);
    }
    if (unit.startsWith('dateTime') && !exprs.every((e) => /\*\s*1000\b/.test(e)))
      problems.push(`${w}: ${unit} takes milliseconds: multiply the seconds by 1000`);
    if (exprs.some((e) => /_ratio\{/.test(e)) && unit !== 'percentunit') problems.push(`${w}: a _ratio metric is shown with percentunit`);
  }
  problems.push(...lintAnnotations(where, dashboard, known, defined));
  return problems;
}

/** Grafana's built-in annotation (alerts and dashboard notes) is not a query. */
function queryAnnotations(dashboard: Json): Json[] {
  return objects(asObject(dashboard.annotations)?.list).filter((a) => a.builtIn !== 1);
}

/** Annotation queries follow the rules of panel queries, and have a name, a title and the datasource variable. */
function lintAnnotations(where: string, dashboard: Json, known: Set<string>, defined: Set<string>): string[] {
  const problems: string[] = [];
  for (const a of queryAnnotations(dashboard)) {
    const w = `${where}: annotation "${String(a.name ?? '')}"`;
    if (typeof a.name !== 'string' || a.name.trim() === '') problems.push(`${w} has no name`);
    if (!sameDatasource(a.datasource)) problems.push(`${w} must use datasource \${datasource}`);
    if (typeof a.expr !== 'string' || a.expr.trim() === '') {
      problems.push(`${w} has no expr`);
      continue;
    }
    if (typeof a.titleFormat !== 'string' || a.titleFormat.trim() === '') problems.push(`${w} has no titleFormat`);
    problems.push(...lintExpr(a.expr, known).map((x) => `${w}: ${x}`));
    for (const m of a.expr.matchAll(REFERENCE)) {
      const name = (m[1] ?? m[2]) as string;
      if (!defined.has(name)) problems.push(`${w} uses $${name}, which is not a variable of the dashboard`);
    }
  }
  return problems;
}

/** Every annotation query, with its dashboard file: the end-to-end test runs them (they may find no event). */
export function dashboardAnnotations(): Array<{ file: string; name: string; expr: string }> {
  return loadDashboards().flatMap(({ file, dashboard }) =>
    queryAnnotations(dashboard).flatMap((a) => (typeof a.expr === 'string' ? [{ file, name: String(a.name ?? ''), expr: a.expr }] : [])),
  );
}

/**
 * A dashboard expression as Grafana sends it to a live Prometheus scraping
 * the exporter every second (the end-to-end tests): 10s rate windows, a 7d
 * analytics window, every workspace, and `instance` and `org` as chosen
 * (`.*` is All, which also matches series without the label).
 */
export function withLiveVariables(expr: string, values: { job: string; instance?: string; org?: string }): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '10s')
    .replace(/\$__interval|\$\{__interval\}/g, '5s')
    .replace(/\$__range_s|\$\{__range_s\}/g, '300')
    .replace(/\$__range|\$\{__range\}/g, '5m')
    .replace(/\$job|\$\{job(:regex)?\}/g, values.job)
    .replace(/\$instance|\$\{instance(:regex)?\}/g, values.instance ?? '.*')
    .replace(/\$org|\$\{org(:regex)?\}/g, values.org ?? '.*')
    .replace(/\$window|\$\{window(:regex)?\}/g, '7d')
    .replace(/\$workspace|\$\{workspace(:regex)?\}/g, '.+');
}
